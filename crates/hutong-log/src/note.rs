//! C2SP `signed-note`: a text, a blank line, then signature lines
//! `— <key name> <base64(key ID || signature)>`.
//!
//! Ed25519 note signatures (signature type `0x01`) are made and checked here; the timestamped
//! witness cosignatures (type `0x04`) are in [`crate::cosignature`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of plain Ed25519 note signatures.
pub const ED25519_TYPE: u8 = 0x01;

/// The most signature lines a note may carry (the specification asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

const DASH_PREFIX: &str = "\u{2014} ";

/// Why a note could not be parsed, signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("note is {len} bytes long, more than the {MAX_NOTE_BYTES} accepted")]
    TooLarge { len: usize },
    #[error("note contains the control character U+{code:04X} at byte {at}")]
    ControlCharacter { code: u32, at: usize },
    #[error("note text must be non-empty and end with a newline")]
    TextNotTerminated,
    #[error("note has no blank line separating the text from the signatures")]
    NoSeparator,
    #[error("note has no signature lines")]
    NoSignatures,
    #[error("note has more than {MAX_SIGNATURES} signature lines")]
    TooManySignatures,
    #[error("signature line {line} is malformed: {reason}")]
    MalformedSignatureLine { line: usize, reason: String },
    #[error("key name {name:?} is invalid: it must be non-empty, without spaces or '+'")]
    InvalidKeyName { name: String },
    #[error("verifier key is malformed: {reason}")]
    MalformedVerifierKey { reason: String },
    #[error("signer key is malformed: {reason}")]
    MalformedSignerKey { reason: String },
    #[error("no signature by key {name} ({key_id:08x}) is on the note")]
    NotSignedByKey { name: String, key_id: u32 },
    #[error("the signature by key {name} ({key_id:08x}) does not verify")]
    BadSignature { name: String, key_id: u32 },
}

/// Checks a key name: non-empty, no Unicode white space, no `+`.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The key ID: the first four bytes, big-endian, of
/// `SHA-256(key name || 0x0A || signature type || public key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, signature_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A verifier key string `<name>+<hex key ID>+<base64(type || public key)>`.
pub(crate) fn format_vkey(name: &str, id: u32, signature_type: u8, key: &VerifyingKey) -> String {
    let mut material = vec![signature_type];
    material.extend_from_slice(key.as_bytes());
    format!("{name}+{id:08x}+{}", B64.encode(material))
}

/// Parses a verifier key string of the given signature type.
pub(crate) fn parse_vkey(
    vkey: &str,
    signature_type: u8,
) -> Result<(String, u32, VerifyingKey), NoteError> {
    let bad = |reason: &str| NoteError::MalformedVerifierKey {
        reason: reason.to_owned(),
    };
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(hash), Some(material)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected <name>+<key ID>+<key>"));
    };
    check_key_name(name)?;
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("the key ID is not 8 hexadecimal digits"));
    }
    let id = u32::from_str_radix(hash, 16).map_err(|_| bad("the key ID is not hexadecimal"))?;
    let material = B64
        .decode(material)
        .map_err(|_| bad("the key is not base64"))?;
    let Some((&ty, key)) = material.split_first() else {
        return Err(bad("the key is empty"));
    };
    if ty != signature_type {
        return Err(NoteError::MalformedVerifierKey {
            reason: format!("signature type {ty:#04x}, expected {signature_type:#04x}"),
        });
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| bad("an Ed25519 public key is 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not an Ed25519 public key"))?;
    if key_id(name, signature_type, key.as_bytes()) != id {
        return Err(bad("the key ID does not match the name and key"));
    }
    Ok((name.to_owned(), id, key))
}

/// A signer key string `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`, the format
/// of golang.org/x/mod/sumdb/note, for key files.
pub(crate) fn format_skey(name: &str, id: u32, signature_type: u8, key: &SigningKey) -> String {
    let mut material = vec![signature_type];
    material.extend_from_slice(&key.to_bytes());
    format!("PRIVATE+KEY+{name}+{id:08x}+{}", B64.encode(material))
}

/// Parses a signer key string of the given signature type. The error never quotes the key.
pub(crate) fn parse_skey(
    skey: &str,
    signature_type: u8,
) -> Result<(String, SigningKey), NoteError> {
    let bad = |reason: &str| NoteError::MalformedSignerKey {
        reason: reason.to_owned(),
    };
    let mut parts = skey.trim_end_matches(['\n', '\r']).splitn(5, '+');
    let (Some("PRIVATE"), Some("KEY"), Some(name), Some(hash), Some(material)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad("expected PRIVATE+KEY+<name>+<key ID>+<key>"));
    };
    check_key_name(name)?;
    let id = u32::from_str_radix(hash, 16)
        .ok()
        .filter(|_| hash.len() == 8)
        .ok_or_else(|| bad("the key ID is not 8 hexadecimal digits"))?;
    let material = B64
        .decode(material)
        .map_err(|_| bad("the key is not base64"))?;
    let Some((&ty, seed)) = material.split_first() else {
        return Err(bad("the key is empty"));
    };
    if ty != signature_type {
        return Err(NoteError::MalformedSignerKey {
            reason: format!("signature type {ty:#04x}, expected {signature_type:#04x}"),
        });
    }
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| bad("an Ed25519 private key is 32 bytes"))?;
    let key = SigningKey::from_bytes(&seed);
    if key_id(name, signature_type, key.verifying_key().as_bytes()) != id {
        return Err(bad("the key ID does not match the name and key"));
    }
    Ok((name.to_owned(), key))
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 32-bit key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, without its final newline.
    pub fn to_line(&self) -> String {
        let mut blob = self.key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&self.signature);
        format!("{DASH_PREFIX}{} {}", self.name, B64.encode(blob))
    }

    /// Parses one line (without its final newline); `line` numbers it in errors.
    pub fn parse_line(text: &str, line: usize) -> Result<Self, NoteError> {
        let bad = |reason: &str| NoteError::MalformedSignatureLine {
            line,
            reason: reason.to_owned(),
        };
        let rest = text
            .strip_prefix(DASH_PREFIX)
            .ok_or_else(|| bad("it does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space between key name and signature"))?;
        check_key_name(name)?;
        let blob = B64
            .decode(b64)
            .map_err(|_| bad("the signature is not standard base64"))?;
        if blob.len() < 5 {
            return Err(bad("the signature is shorter than a key ID and one byte"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
            signature: blob[4..].to_vec(),
        })
    }
}

/// A note text with its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_text_chars(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge { len: text.len() });
    }
    if let Some((at, c)) = text
        .char_indices()
        .find(|&(_, c)| (c as u32) < 0x20 && c != '\n')
    {
        return Err(NoteError::ControlCharacter { code: c as u32, at });
    }
    Ok(())
}

impl SignedNote {
    /// A note with the given text (which must end with a newline) and no signature yet.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text_chars(&text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::TextNotTerminated);
        }
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. Signatures are not checked here: see the verifiers.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        check_text_chars(note)?;
        let sep = note.rfind("\n\n").ok_or(NoteError::NoSeparator)?;
        let text = &note[..=sep];
        let sigs = &note[sep + 2..];
        if sigs.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(NoteError::MalformedSignatureLine {
                line: 1,
                reason: "the last signature line does not end with a newline".to_owned(),
            });
        };
        let mut signatures = Vec::new();
        for (i, line) in sigs.split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(NoteSignature::parse_line(line, i + 1)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (a later one with the same name and key ID replaces it).
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        check_key_name(&signature.name)?;
        self.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The signatures by the key of this name and ID.
    pub fn signatures_by(&self, name: &str, key_id: u32) -> impl Iterator<Item = &NoteSignature> {
        self.signatures
            .iter()
            .filter(move |s| s.name == name && s.key_id == key_id)
    }
}

impl std::fmt::Display for SignedNote {
    /// The note as text: the text, a blank line, one line per signature.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            writeln!(f, "{}", s.to_line())?;
        }
        Ok(())
    }
}

/// Signs notes with an Ed25519 key under a key name (signature type `0x01`).
#[derive(Debug, Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    id: u32,
}

impl NoteSigner {
    /// A signer for `name`, which must be a valid key name.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let id = key_id(name, ED25519_TYPE, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// The signer key string `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>`, as
    /// golang.org/x/mod/sumdb/note writes it: what a key file holds. Secret: never log it.
    pub fn to_skey(&self) -> String {
        format_skey(&self.name, self.id, ED25519_TYPE, &self.key)
    }

    /// Parses a signer key string made by [`NoteSigner::to_skey`] (or by Go's `note`).
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let (name, key) = parse_skey(skey, ED25519_TYPE)?;
        Self::new(&name, key)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519NoteVerifier {
        Ed25519NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// The signature line over `text`.
    pub fn sign_text(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }

    /// Adds this key's signature to `note`.
    pub fn sign(&self, note: &mut SignedNote) -> Result<(), NoteError> {
        let sig = self.sign_text(note.text());
        note.add_signature(sig)
    }
}

/// Checks Ed25519 note signatures (type `0x01`) of one known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519NoteVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

impl Ed25519NoteVerifier {
    /// A verifier for the key `key` under `name`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let id = key_id(name, ED25519_TYPE, key.as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, id, key) = parse_vkey(vkey, ED25519_TYPE)?;
        Ok(Self { name, key, id })
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.id, ED25519_TYPE, &self.key)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Verifies the note: every signature line of this key (same name and key ID) must verify,
    /// and there must be at least one. Lines of other keys are ignored, as the specification
    /// asks.
    pub fn verify(&self, note: &SignedNote) -> Result<(), NoteError> {
        let mut seen = false;
        for s in note.signatures_by(&self.name, self.id) {
            seen = true;
            let ok = Signature::from_slice(&s.signature)
                .map(|sig| self.key.verify_strict(note.text().as_bytes(), &sig).is_ok())
                .unwrap_or(false);
            if !ok {
                return Err(NoteError::BadSignature {
                    name: self.name.clone(),
                    key_id: self.id,
                });
            }
        }
        if !seen {
            return Err(NoteError::NotSignedByKey {
                name: self.name.clone(),
                key_id: self.id,
            });
        }
        Ok(())
    }
}
