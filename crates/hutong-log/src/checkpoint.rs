//! C2SP `tlog-checkpoint`: the note text `<origin>\n<tree size>\n<base64 root hash>\n` and
//! optional extension lines, signed as a [`SignedNote`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::hash::Hash;
use crate::note::{Ed25519NoteVerifier, NoteError, NoteSigner, SignedNote};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint line {line} is malformed: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("checkpoint is of log {found:?}, expected {expected:?}")]
    WrongOrigin { expected: String, found: String },
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// A tree head of a log, as a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `hutong.example/log`.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The RFC 9162 tree head of those leaves.
    pub root: Hash,
    /// Extension lines (opaque, non-empty), usually none.
    pub extensions: Vec<String>,
}

fn malformed(line: usize, reason: &str) -> CheckpointError {
    CheckpointError::Malformed {
        line,
        reason: reason.to_owned(),
    }
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        let c = Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        };
        // Round-trip through the parser so that every rule is checked in one place.
        Self::parse_body(&c.to_body())
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in a newline.
    pub fn to_body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a checkpoint note text (the part before the blank line).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(malformed(1, "the text does not end with a newline"));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(malformed(
                lines.len() + 1,
                "a checkpoint has an origin, a size and a root hash line",
            ));
        }
        if let Some(i) = lines.iter().position(|l| l.is_empty()) {
            return Err(malformed(i + 1, "the line is empty"));
        }
        if let Some((i, _)) = lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.chars().any(|c| c.is_control()))
        {
            return Err(malformed(i + 1, "the line holds a control character"));
        }
        let origin = lines[0];
        let size_line = lines[1];
        if !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(malformed(
                2,
                "the tree size is not a decimal number without leading zeros",
            ));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| malformed(2, "the tree size does not fit in 64 bits"))?;
        let root = B64
            .decode(lines[2])
            .map_err(|_| malformed(3, "the root hash is not standard base64"))?;
        let root: Hash = root
            .as_slice()
            .try_into()
            .map_err(|_| malformed(3, "the root hash is not 32 bytes"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: lines[3..].iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// Signs the checkpoint with the log's key. The key name should be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<SignedNote, CheckpointError> {
        let mut note = SignedNote::new(self.to_body())?;
        signer.sign(&mut note)?;
        Ok(note)
    }

    /// Parses a signed checkpoint, checks the log's signature and that the origin is
    /// `expected_origin`. Other signatures (witnesses' cosignatures) are ignored here.
    pub fn open(
        note: &str,
        expected_origin: &str,
        log_key: &Ed25519NoteVerifier,
    ) -> Result<(Self, SignedNote), CheckpointError> {
        let note = SignedNote::parse(note)?;
        log_key.verify(&note)?;
        let checkpoint = Self::parse_body(note.text())?;
        if checkpoint.origin != expected_origin {
            return Err(CheckpointError::WrongOrigin {
                expected: expected_origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok((checkpoint, note))
    }
}
