//! Log inclusion: a credential names the journal entry its content reflects, and a log proof
//! shows that this entry is a leaf of the registry's transparency log under a checkpoint the
//! verifier trusts (docs/credentials.md, "Log inclusion").
//!
//! - **In the credential**, an `evidence` object of type [`EVIDENCE_TYPE`]: the entry's journal
//!   sequence number, its subject (`cert:<registry id>`) and the record hash it recorded (the
//!   SHA-256 of the certificate's canonical form after the change), signed with the rest.
//! - **A log proof** is what `GET /api/v1/log/inclusion?seq=N` answers and `hutong credential
//!   --log-proof` writes: the entry's `seq`, its `leaf_index`, its `leaf` bytes (base64), the
//!   RFC 9162 inclusion `proof` to `tree_size`, and the signed `checkpoint` of that size with
//!   the witnesses' cosignatures.
//! - **The check** passes when the checkpoint is signed by the log's key and cosigned by as
//!   many of the given witnesses as are needed, the leaf with the proof recomputes the
//!   checkpoint's root, and the leaf's seq, subject and record hash are the credential's.
//!   [`LogProofs::check`] does the checkpoint and proof work once per call (each distinct
//!   checkpoint's signatures once, each proof once), whatever the number of credentials.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use hutong_log::{
    CosignatureVerifier, Ed25519NoteVerifier, Witnessed, leaf_hash, open_witnessed,
    verify_inclusion,
};

use crate::error::CredentialError;
use crate::keyring::Check;

/// The `type` of the evidence object that names a credential's journal entry.
pub const EVIDENCE_TYPE: &str = "JournalEntry";

/// The journal entry whose record a credential reflects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRef {
    /// The entry's journal sequence number.
    pub seq: u64,
    /// The entry's subject: `cert:<registry id>`.
    pub subject: String,
    /// The record hash the entry recorded: lower-case hex SHA-256 of the record's canonical
    /// form after the change.
    pub record_sha256: String,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn has_type(v: &Value, ty: &str) -> bool {
    match v.get("type") {
        Some(Value::String(s)) => s == ty,
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some(ty)),
        _ => false,
    }
}

impl JournalRef {
    /// The evidence object, as the credential carries it.
    pub fn to_value(&self) -> Value {
        json!({
            "type": [EVIDENCE_TYPE],
            "journalSeq": self.seq,
            "journalSubject": self.subject,
            "recordSha256": self.record_sha256,
        })
    }

    /// The journal entry a credential names in its `evidence`: `None` when it names none (a
    /// credential signed before credentials carried one); an error when the evidence is
    /// malformed or names two.
    pub fn of_credential(credential: &Value) -> Result<Option<JournalRef>, String> {
        let items: Vec<&Value> = match credential.get("evidence") {
            None => vec![],
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => return Err("evidence is neither an object nor a list of objects".into()),
        };
        let mut found = items.into_iter().filter(|v| has_type(v, EVIDENCE_TYPE));
        let Some(e) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(format!(
                "the credential names two journal entries (evidence of type {EVIDENCE_TYPE})"
            ));
        }
        let seq = e
            .get("journalSeq")
            .and_then(Value::as_u64)
            .filter(|&s| s >= 1)
            .ok_or("evidence.journalSeq is not a journal sequence number")?;
        let subject = e
            .get("journalSubject")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or("evidence.journalSubject is missing")?;
        let record = e
            .get("recordSha256")
            .and_then(Value::as_str)
            .filter(|s| is_sha256_hex(s))
            .ok_or("evidence.recordSha256 is not 64 lower-case hexadecimal digits")?;
        Ok(Some(JournalRef {
            seq,
            subject: subject.to_owned(),
            record_sha256: record.to_owned(),
        }))
    }
}

/// A log proof of one journal entry, as `GET /api/v1/log/inclusion` answers it. Only its shape
/// is checked here; whether it proves anything is [`LogProofs::check`]'s to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProof {
    /// The entry the proof says it is for (the leaf's own seq is what counts).
    pub seq: u64,
    pub leaf_index: u64,
    /// The tree size the proof is for; the checkpoint's size must be it.
    pub tree_size: Option<u64>,
    /// The leaf's bytes (`Entry::leaf_bytes`).
    pub leaf: Vec<u8>,
    /// The RFC 9162 audit path, leaf level first.
    pub proof: Vec<Vec<u8>>,
    /// The signed checkpoint of `tree_size` leaves, with cosignatures; `None` when the log
    /// signed none of that size.
    pub checkpoint: Option<String>,
}

#[derive(Deserialize)]
struct RawProof {
    seq: u64,
    leaf_index: u64,
    #[serde(default)]
    tree_size: Option<u64>,
    leaf: String,
    proof: Vec<String>,
    #[serde(default)]
    checkpoint: Option<String>,
}

impl LogProof {
    /// Reads a log proof document. Members other than these (`leaf_hash`, `root`) are ignored:
    /// a verifier recomputes them.
    pub fn from_value(v: &Value) -> Result<LogProof, CredentialError> {
        let what = "log proof";
        if !v.is_object() {
            return Err(CredentialError::NotAnObject { what });
        }
        let raw =
            RawProof::deserialize(v).map_err(|e| CredentialError::invalid(what, e.to_string()))?;
        let leaf = B64
            .decode(&raw.leaf)
            .map_err(|_| CredentialError::invalid(what, "leaf is not standard base64"))?;
        let proof = raw
            .proof
            .iter()
            .enumerate()
            .map(|(i, p)| {
                B64.decode(p).map_err(|_| {
                    CredentialError::invalid(what, format!("proof node {i} is not standard base64"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LogProof {
            seq: raw.seq,
            leaf_index: raw.leaf_index,
            tree_size: raw.tree_size,
            leaf,
            proof,
            checkpoint: raw.checkpoint,
        })
    }
}

/// What a verifier trusts of a log: its key (whose name is the checkpoints' origin), the
/// witnesses it knows and how many of them must have cosigned a checkpoint.
#[derive(Debug, Clone)]
pub struct LogTrust {
    log_key: Ed25519NoteVerifier,
    witnesses: Vec<CosignatureVerifier>,
    needed: usize,
}

impl LogTrust {
    /// Trust in `log_key`'s checkpoints cosigned by at least `needed` of `witnesses`.
    pub fn new(
        log_key: Ed25519NoteVerifier,
        witnesses: Vec<CosignatureVerifier>,
        needed: usize,
    ) -> Result<LogTrust, CredentialError> {
        if needed > witnesses.len() {
            return Err(CredentialError::invalid(
                "witnesses needed",
                format!(
                    "{needed} cosignatures are needed but {} witness keys are given",
                    witnesses.len()
                ),
            ));
        }
        Ok(LogTrust {
            log_key,
            witnesses,
            needed,
        })
    }

    /// From verifier key strings: the log's (`<origin>+<key id>+<key>`, as the server logs
    /// it) and the witnesses'. `needed` defaults to every witness given.
    pub fn from_vkeys(
        log_vkey: &str,
        witness_vkeys: &[String],
        needed: Option<usize>,
    ) -> Result<LogTrust, CredentialError> {
        let log_key = Ed25519NoteVerifier::from_vkey(log_vkey.trim())
            .map_err(|e| CredentialError::invalid("log key", e.to_string()))?;
        let witnesses = witness_vkeys
            .iter()
            .map(|w| {
                CosignatureVerifier::from_vkey(w.trim()).map_err(|e| {
                    CredentialError::invalid(
                        "witness key",
                        format!("{}: {e}", w.chars().take(80).collect::<String>()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let needed = needed.unwrap_or(witnesses.len());
        LogTrust::new(log_key, witnesses, needed)
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.log_key.name()
    }
}

/// What a proof proved: that these leaf fields are leaf `index` of a trusted tree.
#[derive(Debug, Clone)]
struct Proven {
    seq: Option<u64>,
    subject: Option<String>,
    record_sha256: Option<String>,
    index: u64,
    size: u64,
    cosigned_by: Vec<String>,
}

/// Log proofs, each checked against a [`LogTrust`] once, ready to be matched to credentials by
/// the journal entry they name.
#[derive(Debug, Clone)]
pub struct LogProofs {
    origin: String,
    witnesses_needed: usize,
    /// By the seq each proof says it is for.
    by_seq: HashMap<u64, Vec<Result<Proven, String>>>,
    given: usize,
}

impl LogProofs {
    /// Checks every proof: its checkpoint (each distinct one once: the log's signature and the
    /// witnesses' cosignatures), its tree size, and its inclusion proof from the leaf's bytes to
    /// the checkpoint's root.
    pub fn check(trust: &LogTrust, proofs: &[LogProof]) -> LogProofs {
        let mut checkpoints: HashMap<&str, Result<Witnessed, String>> = HashMap::new();
        let mut by_seq: HashMap<u64, Vec<Result<Proven, String>>> = HashMap::new();
        for p in proofs {
            let outcome = (|| -> Result<Proven, String> {
                let note = p.checkpoint.as_deref().ok_or_else(|| {
                    "the proof carries no checkpoint (the log signed none of its tree size)"
                        .to_string()
                })?;
                let w = checkpoints
                    .entry(note)
                    .or_insert_with(|| {
                        open_witnessed(note, &trust.log_key, &trust.witnesses, trust.needed)
                            .map_err(|e| format!("the checkpoint: {e}"))
                    })
                    .as_ref()
                    .map_err(Clone::clone)?;
                let size = w.checkpoint.size;
                if let Some(t) = p.tree_size
                    && t != size
                {
                    return Err(format!(
                        "the proof is for a tree of {t} leaves, its checkpoint is of {size}"
                    ));
                }
                if p.leaf_index >= size {
                    return Err(format!(
                        "the checkpoint's tree of {size} leaves does not hold leaf {}: the \
                         checkpoint is older than the entry",
                        p.leaf_index
                    ));
                }
                verify_inclusion(
                    p.leaf_index,
                    size,
                    &leaf_hash(&p.leaf),
                    &p.proof,
                    &w.checkpoint.root,
                )
                .map_err(|e| {
                    format!(
                        "the leaf is not leaf {} of the checkpoint's tree of {size} leaves: {e}",
                        p.leaf_index
                    )
                })?;
                let leaf: Value = serde_json::from_slice(&p.leaf)
                    .map_err(|_| "the leaf is not a journal entry's leaf (not JSON)".to_string())?;
                Ok(Proven {
                    seq: leaf.get("seq").and_then(Value::as_u64),
                    subject: leaf
                        .get("subject")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    record_sha256: leaf
                        .get("record_sha256")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    index: p.leaf_index,
                    size,
                    cosigned_by: w.cosigned_by.iter().map(|(n, _)| n.clone()).collect(),
                })
            })();
            by_seq.entry(p.seq).or_default().push(outcome);
        }
        LogProofs {
            origin: trust.origin().to_owned(),
            witnesses_needed: trust.needed,
            by_seq,
            given: proofs.len(),
        }
    }

    /// The `log` check of one credential: a proof among those given for the entry it names,
    /// whose leaf is that entry with the credential's subject and record hash.
    pub fn check_credential(&self, credential: &Value) -> Check {
        let r = match JournalRef::of_credential(credential) {
            Err(e) => return Check::fail("log", e),
            Ok(None) => {
                return Check::fail(
                    "log",
                    format!(
                        "the credential names no journal entry (no evidence of type \
                         {EVIDENCE_TYPE}): it cannot be matched to the log"
                    ),
                );
            }
            Ok(Some(r)) => r,
        };
        let Some(candidates) = self.by_seq.get(&r.seq) else {
            let mut seqs: Vec<u64> = self.by_seq.keys().copied().collect();
            seqs.sort_unstable();
            let shown: Vec<String> = seqs.iter().take(5).map(u64::to_string).collect();
            return Check::fail(
                "log",
                format!(
                    "no log proof for journal entry {} among the {} given (they are for entr{} {}{})",
                    r.seq,
                    self.given,
                    if seqs.len() == 1 { "y" } else { "ies" },
                    shown.join(", "),
                    if seqs.len() > 5 { ", …" } else { "" }
                ),
            );
        };
        let mut reasons = Vec::new();
        for c in candidates {
            let p = match c {
                Err(e) => {
                    reasons.push(e.clone());
                    continue;
                }
                Ok(p) => p,
            };
            let problem = if p.seq != Some(r.seq) {
                Some(format!(
                    "the proof's leaf is of entry {}, the credential names entry {}",
                    p.seq
                        .map_or_else(|| "(none)".to_string(), |s| s.to_string()),
                    r.seq
                ))
            } else if p.subject.as_deref() != Some(r.subject.as_str()) {
                Some(format!(
                    "the proof's leaf is about {}, the credential about {}",
                    p.subject.as_deref().unwrap_or("(nothing)"),
                    r.subject
                ))
            } else if p.record_sha256.as_deref() != Some(r.record_sha256.as_str()) {
                Some(format!(
                    "the log's entry {} recorded another record hash than the credential's: \
                     the credential does not reflect the journaled record",
                    r.seq
                ))
            } else {
                None
            };
            match problem {
                Some(e) => reasons.push(e),
                None => {
                    let witnesses = if p.cosigned_by.is_empty() {
                        if self.witnesses_needed == 0 {
                            ", no witness cosignature required".to_string()
                        } else {
                            String::new()
                        }
                    } else {
                        format!(", cosigned by {}", p.cosigned_by.join(", "))
                    };
                    return Check::pass(
                        "log",
                        format!(
                            "entry {} ({}) is leaf {} of {}'s tree of {} leaves{witnesses}",
                            r.seq, r.subject, p.index, self.origin, p.size
                        ),
                    );
                }
            }
        }
        Check::fail("log", reasons.join("; "))
    }
}

/// The `log` check when no proof is given: not checked, which is not a failure.
pub(crate) fn not_checked() -> Check {
    Check::skipped(
        "log",
        "no log proof given: inclusion in the transparency log not checked",
    )
}
