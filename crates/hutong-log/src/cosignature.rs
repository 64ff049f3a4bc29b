//! C2SP `tlog-cosignature` v1 with Ed25519: a witness's timestamped signature over
//!
//! ```text
//! cosignature/v1
//! time <POSIX seconds>
//! <the whole checkpoint note text>
//! ```
//!
//! carried as a note signature line whose bytes are `key ID || u64 timestamp (big-endian) ||
//! Ed25519 signature`, with key ID `SHA-256(name || 0x0A || 0x04 || public key)[:4]`.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{
    Ed25519NoteVerifier, NoteError, NoteSignature, SignedNote, check_key_name, format_skey,
    format_vkey, key_id, parse_skey, parse_vkey,
};

/// The signature type byte of timestamped Ed25519 cosignatures.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

/// Why a cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("no cosignature by witness {name} ({key_id:08x}) is on the checkpoint")]
    Missing { name: String, key_id: u32 },
    #[error(
        "the cosignature by witness {name} is {len} bytes, expected 72 (timestamp and signature)"
    )]
    BadLength { name: String, len: usize },
    #[error("the cosignature by witness {name} has a timestamp beyond 2^63-1")]
    TimestampTooLarge { name: String },
    #[error("the cosignature by witness {name} does not verify")]
    BadSignature { name: String },
    #[error("{got} witnesses cosigned, {needed} are needed")]
    QuorumNotMet { got: usize, needed: usize },
    #[error("{needed} witness cosignatures are needed, but only {known} witnesses are known")]
    QuorumTooLarge { needed: usize, known: usize },
    #[error("cosigned by {got} of the witnesses, {needed} needed: {missing}")]
    NotWitnessed {
        got: usize,
        needed: usize,
        /// Why each witness that did not count did not: missing, or not verifying.
        missing: String,
    },
    #[error("timestamp {0} is beyond 2^63-1")]
    InvalidTimestamp(u64),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// The message a v1 cosignature signs.
pub fn cosigned_message(note_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{note_text}").into_bytes()
}

/// A witness's signing key.
#[derive(Debug, Clone)]
pub struct Cosigner {
    name: String,
    key: SigningKey,
    id: u32,
}

impl Cosigner {
    /// A cosigner named `name` (a schema-less URL is recommended).
    pub fn new(name: &str, key: SigningKey) -> Result<Self, CosignatureError> {
        check_key_name(name)?;
        let id = key_id(name, COSIGNATURE_V1_TYPE, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// The signer key string `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`: what a
    /// witness's key file holds. Secret: never log it.
    pub fn to_skey(&self) -> String {
        format_skey(&self.name, self.id, COSIGNATURE_V1_TYPE, &self.key)
    }

    /// Parses a signer key string made by [`Cosigner::to_skey`].
    pub fn from_skey(skey: &str) -> Result<Self, CosignatureError> {
        let (name, key) = parse_skey(skey, COSIGNATURE_V1_TYPE)?;
        Self::new(&name, key)
    }

    /// The witness name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// The cosignature line over the checkpoint in `note` at `timestamp` (POSIX seconds).
    /// The note text must be a well-formed checkpoint. Checking consistency with what the
    /// witness saw before is the caller's duty: this only signs.
    pub fn cosign(
        &self,
        note: &SignedNote,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::InvalidTimestamp(timestamp));
        }
        Checkpoint::parse_body(note.text())?;
        let sig = self.key.sign(&cosigned_message(note.text(), timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.id,
            signature: bytes,
        })
    }
}

/// Checks the cosignatures of one known witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

impl CosignatureVerifier {
    /// A verifier for the witness `name` with public key `key`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, CosignatureError> {
        check_key_name(name)?;
        let id = key_id(name, COSIGNATURE_V1_TYPE, key.as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x04 || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, CosignatureError> {
        let (name, id, key) = parse_vkey(vkey, COSIGNATURE_V1_TYPE)?;
        Ok(Self { name, key, id })
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.id, COSIGNATURE_V1_TYPE, &self.key)
    }

    /// The witness name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Verifies this witness's cosignature on `note` and returns its timestamp. Every line of
    /// this witness must verify; at least one must be there. If several verify, the latest
    /// timestamp is returned.
    pub fn verify(&self, note: &SignedNote) -> Result<u64, CosignatureError> {
        let mut latest = None;
        for s in note.signatures_by(&self.name, self.id) {
            let bytes = &s.signature;
            if bytes.len() != 72 {
                return Err(CosignatureError::BadLength {
                    name: self.name.clone(),
                    len: bytes.len(),
                });
            }
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&bytes[..8]);
            let timestamp = u64::from_be_bytes(ts);
            if timestamp > i64::MAX as u64 {
                return Err(CosignatureError::TimestampTooLarge {
                    name: self.name.clone(),
                });
            }
            let ok = Signature::from_slice(&bytes[8..])
                .map(|sig| {
                    self.key
                        .verify_strict(&cosigned_message(note.text(), timestamp), &sig)
                        .is_ok()
                })
                .unwrap_or(false);
            if !ok {
                return Err(CosignatureError::BadSignature {
                    name: self.name.clone(),
                });
            }
            latest = latest.max(Some(timestamp));
        }
        latest.ok_or_else(|| CosignatureError::Missing {
            name: self.name.clone(),
            key_id: self.id,
        })
    }
}

/// Counts the witnesses of `witnesses` whose cosignature on `note` verifies and requires at
/// least `quorum` of them. Returns `(witness name, timestamp)` for each that verified. A line
/// that claims to be a known witness's but fails to verify does not count.
pub fn verify_quorum(
    note: &SignedNote,
    witnesses: &[CosignatureVerifier],
    quorum: usize,
) -> Result<Vec<(String, u64)>, CosignatureError> {
    let ok: Vec<(String, u64)> = witnesses
        .iter()
        .filter_map(|w| w.verify(note).ok().map(|t| (w.name.clone(), t)))
        .collect();
    if ok.len() < quorum {
        return Err(CosignatureError::QuorumNotMet {
            got: ok.len(),
            needed: quorum,
        });
    }
    Ok(ok)
}

/// A checkpoint as a verifier trusts it: signed by the log, and cosigned by enough witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    pub checkpoint: Checkpoint,
    pub note: SignedNote,
    /// The witnesses whose cosignatures verified, with their timestamps, in the order given.
    pub cosigned_by: Vec<(String, u64)>,
}

/// Opens a checkpoint for a verifier: the log's signature (the log key's name is the origin),
/// then the cosignatures of `witnesses`, of which at least `quorum` must verify. A witness line
/// that is missing or does not verify does not count, and the error says which and why.
pub fn open_witnessed(
    note: &str,
    log_key: &Ed25519NoteVerifier,
    witnesses: &[CosignatureVerifier],
    quorum: usize,
) -> Result<Witnessed, CosignatureError> {
    if quorum > witnesses.len() {
        return Err(CosignatureError::QuorumTooLarge {
            needed: quorum,
            known: witnesses.len(),
        });
    }
    let (checkpoint, note) = Checkpoint::open(note, log_key.name(), log_key)?;
    let mut cosigned_by = Vec::new();
    let mut missing = Vec::new();
    for w in witnesses {
        match w.verify(&note) {
            Ok(t) => cosigned_by.push((w.name.clone(), t)),
            Err(e) => missing.push(e.to_string()),
        }
    }
    if cosigned_by.len() < quorum {
        return Err(CosignatureError::NotWitnessed {
            got: cosigned_by.len(),
            needed: quorum,
            missing: missing.join("; "),
        });
    }
    Ok(Witnessed {
        checkpoint,
        note,
        cosigned_by,
    })
}
