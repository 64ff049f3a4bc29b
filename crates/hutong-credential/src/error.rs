//! The error type of hutong-credential.

/// Why a document, key, proof or status list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("JSON is malformed: {0}")]
    Json(String),
    #[error("JSON cannot be canonicalized (RFC 8785): {0}")]
    Canonicalization(String),
    #[error("{what} must be a JSON object")]
    NotAnObject { what: &'static str },
    #[error("{what} is missing")]
    Missing { what: &'static str },
    #[error("{what} is invalid: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("multibase value {what} is invalid: {reason}")]
    Multibase { what: &'static str, reason: String },
    #[error("the document already has a proof")]
    AlreadySigned,
    #[error("proof sets (several proofs) are not supported; the document has {0}")]
    ProofSet(usize),
    #[error("the proof's @context is not a prefix of the document's @context")]
    ContextMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("status list index {index} is outside the list of {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("status list has {got} entries, at least {min} are required")]
    ListTooShort { got: u64, min: u64 },
    #[error("status list is larger than the {max} bytes accepted")]
    ListTooLarge { max: usize },
    #[error("every index of the status list is used")]
    ListFull,
}

impl CredentialError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
    pub(crate) fn multibase(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Multibase {
            what,
            reason: reason.into(),
        }
    }
}
