//! `DataIntegrityProof`s of cryptosuite `eddsa-jcs-2022` (W3C Data Integrity EdDSA
//! Cryptosuites v1.0, §3.3).
//!
//! Creating a proof:
//! 1. the proof configuration is the proof options (`type`, `cryptosuite`, `created`,
//!    `verificationMethod`, `proofPurpose`, …) with the document's `@context`;
//! 2. `proofHash = SHA-256(JCS(proof configuration))`, `docHash = SHA-256(JCS(document without
//!    proof))`;
//! 3. the signature is Ed25519 over `proofHash || docHash`, and `proofValue` its base58btc
//!    multibase.
//!
//! Verifying reverses this, after checking that the proof's `@context` is a prefix of the
//! document's and putting it on the unsecured document (§3.3.2).

use chrono::DateTime;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::CredentialError;
use crate::jcs::canonicalize;
use crate::multikey::{decode_base58btc, encode_base58btc, public_key_from_did_key};

/// The proof type.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// The options of a proof to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofOptions {
    /// The verification method, e.g. `did:key:z6Mk…#z6Mk…` (see
    /// [`crate::multikey::verification_method`]).
    pub verification_method: String,
    /// The proof purpose, usually `assertionMethod`.
    pub proof_purpose: String,
    /// The creation instant, an XML Schema dateTimeStamp such as `2023-02-24T23:36:38Z`.
    pub created: Option<String>,
    /// Further proof properties (`expires`, `domain`, `challenge`, `nonce`, `id`, …).
    pub extra: Map<String, Value>,
}

impl ProofOptions {
    /// Options for an `assertionMethod` proof by `verification_method`, created at `created`.
    pub fn assertion(verification_method: impl Into<String>, created: impl Into<String>) -> Self {
        Self {
            verification_method: verification_method.into(),
            proof_purpose: "assertionMethod".to_owned(),
            created: Some(created.into()),
            extra: Map::new(),
        }
    }

    /// The options as a proof object, without `@context` and `proofValue`.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = self.extra.clone();
        m.insert("type".into(), PROOF_TYPE.into());
        m.insert("cryptosuite".into(), CRYPTOSUITE.into());
        if let Some(c) = &self.created {
            m.insert("created".into(), c.clone().into());
        }
        m.insert(
            "verificationMethod".into(),
            self.verification_method.clone().into(),
        );
        m.insert("proofPurpose".into(), self.proof_purpose.clone().into());
        m
    }
}

/// The canonical forms and hashes a proof signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashData {
    /// JCS of the document without `proof`.
    pub canonical_document: Vec<u8>,
    /// SHA-256 of `canonical_document`.
    pub document_hash: [u8; 32],
    /// JCS of the proof configuration.
    pub canonical_proof_config: Vec<u8>,
    /// SHA-256 of `canonical_proof_config`.
    pub proof_config_hash: [u8; 32],
}

impl HashData {
    /// The 64 signed bytes: `proof_config_hash || document_hash`.
    pub fn combined(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.proof_config_hash);
        out[32..].copy_from_slice(&self.document_hash);
        out
    }
}

/// What a verified proof said.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    /// The verification method that signed.
    pub verification_method: String,
    /// The proof purpose.
    pub proof_purpose: String,
    /// The creation instant, if given.
    pub created: Option<String>,
    /// The whole proof object (with `proofValue`).
    pub proof: Map<String, Value>,
}

fn check_datetime(what: &'static str, v: &Value) -> Result<(), CredentialError> {
    let s = v
        .as_str()
        .ok_or_else(|| CredentialError::invalid(what, "not a string"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|_| ())
        .map_err(|_| CredentialError::invalid(what, "not a date-time with a time zone"))
}

/// Checks a proof configuration (§3.3.5): type, cryptosuite, dates, required strings.
fn check_proof_config(config: &Map<String, Value>) -> Result<(), CredentialError> {
    if config.get("type").and_then(Value::as_str) != Some(PROOF_TYPE) {
        return Err(CredentialError::invalid(
            "proof type",
            format!("expected {PROOF_TYPE}"),
        ));
    }
    if config.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE) {
        return Err(CredentialError::invalid(
            "proof cryptosuite",
            format!("expected {CRYPTOSUITE}"),
        ));
    }
    for what in ["verificationMethod", "proofPurpose"] {
        match config.get(what) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => {
                return Err(CredentialError::invalid(
                    "proof",
                    format!("{what} is not a non-empty string"),
                ));
            }
            None => {
                return Err(CredentialError::Missing {
                    what: "proof verificationMethod or proofPurpose",
                });
            }
        }
    }
    if let Some(c) = config.get("created") {
        check_datetime("proof created", c)?;
    }
    if let Some(e) = config.get("expires") {
        check_datetime("proof expires", e)?;
    }
    Ok(())
}

/// Computes the canonical forms and hashes of `document` (its `proof`, if any, left out) and
/// of `proof_config` (its `proofValue` left out, the document's `@context` put in).
pub fn hash_data(
    document: &Map<String, Value>,
    proof_config: &Map<String, Value>,
) -> Result<HashData, CredentialError> {
    let mut unsecured = document.clone();
    unsecured.remove("proof");
    let mut config = proof_config.clone();
    config.remove("proofValue");
    match unsecured.get("@context") {
        Some(ctx) => {
            config.insert("@context".into(), ctx.clone());
        }
        None => {
            config.remove("@context");
        }
    }
    let canonical_document = canonicalize(&Value::Object(unsecured))?;
    let canonical_proof_config = canonicalize(&Value::Object(config))?;
    Ok(HashData {
        document_hash: Sha256::digest(&canonical_document).into(),
        proof_config_hash: Sha256::digest(&canonical_proof_config).into(),
        canonical_document,
        canonical_proof_config,
    })
}

/// Adds an `eddsa-jcs-2022` proof, signed by `key`, to `document` and returns the secured
/// document. The document must be an object without a `proof`.
pub fn create_proof(
    document: &Value,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Value, CredentialError> {
    let doc = document
        .as_object()
        .ok_or(CredentialError::NotAnObject { what: "document" })?;
    if doc.contains_key("proof") {
        return Err(CredentialError::AlreadySigned);
    }
    let mut config = options.to_map();
    check_proof_config(&config)?;
    if let Some(ctx) = doc.get("@context") {
        config.insert("@context".into(), ctx.clone());
    }
    let hd = hash_data(doc, &config)?;
    let signature = key.sign(&hd.combined());
    config.insert(
        "proofValue".into(),
        encode_base58btc(&signature.to_bytes()).into(),
    );
    let mut secured = doc.clone();
    secured.insert("proof".into(), Value::Object(config));
    Ok(Value::Object(secured))
}

fn context_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

/// Verifies the `eddsa-jcs-2022` proof of `secured` with the public key `key`. Which key is
/// trusted for the proof's verification method is the caller's decision.
pub fn verify_proof(secured: &Value, key: &VerifyingKey) -> Result<VerifiedProof, CredentialError> {
    let p = prepare_proof(secured)?;
    key.verify_strict(&p.signed, &p.signature)
        .map_err(|_| CredentialError::BadSignature)?;
    Ok(p.proof)
}

/// Verifies the proof of `secured` with the key named by its `did:key` verification method.
/// This proves only that the holder of that key signed: whether the key is a registered
/// issuer's is for the caller to check.
pub fn verify_proof_with_did_key(
    secured: &Value,
) -> Result<(VerifyingKey, VerifiedProof), CredentialError> {
    let vm = secured
        .get("proof")
        .and_then(|p| p.get("verificationMethod"))
        .and_then(Value::as_str)
        .ok_or(CredentialError::Missing {
            what: "proof.verificationMethod",
        })?;
    let key = public_key_from_did_key(vm)?;
    let verified = verify_proof(secured, &key)?;
    Ok((key, verified))
}

/// What verifying a proof needs, computed without verifying: the 64 signed bytes, the
/// signature and the proof. [`verify_proof`] is this plus one signature check; verifiers of many
/// credentials prepare them all and check the signatures in one batch
/// (`ed25519_dalek::verify_batch`).
pub struct PreparedProof {
    pub signed: [u8; 64],
    pub signature: Signature,
    pub proof: VerifiedProof,
}

/// Prepares the `eddsa-jcs-2022` proof of `secured` for verification (see [`verify_proof`]).
pub fn prepare_proof(secured: &Value) -> Result<PreparedProof, CredentialError> {
    let doc = secured
        .as_object()
        .ok_or(CredentialError::NotAnObject { what: "document" })?;
    let proof = match doc.get("proof") {
        None => return Err(CredentialError::Missing { what: "proof" }),
        Some(Value::Object(p)) => p,
        Some(Value::Array(a)) => return Err(CredentialError::ProofSet(a.len())),
        Some(_) => return Err(CredentialError::NotAnObject { what: "proof" }),
    };
    check_proof_config(proof)?;
    let proof_value = match proof.get("proofValue") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(CredentialError::invalid("proofValue", "not a string")),
        None => return Err(CredentialError::Missing { what: "proofValue" }),
    };
    let sig_bytes = decode_base58btc(proof_value, "proofValue")?;
    let signature = Signature::from_slice(&sig_bytes)
        .map_err(|_| CredentialError::invalid("proofValue", "an Ed25519 signature is 64 bytes"))?;
    // The document without its proof, under the proof's @context when it has one; hashed
    // without copying the document.
    let canonical_document = match proof.get("@context") {
        None => crate::jcs::canonicalize_without(doc, "proof")?,
        Some(proof_ctx) => {
            let doc_ctx = doc.get("@context").map(context_list).unwrap_or_default();
            let proof_ctx_list = context_list(proof_ctx);
            if proof_ctx_list.len() > doc_ctx.len()
                || proof_ctx_list.iter().zip(&doc_ctx).any(|(a, b)| a != b)
            {
                return Err(CredentialError::ContextMismatch);
            }
            let mut unsecured = doc.clone();
            unsecured.remove("proof");
            unsecured.insert("@context".into(), proof_ctx.clone());
            canonicalize(&Value::Object(unsecured))?
        }
    };
    // The proof configuration carries the @context the document was hashed under, as in
    // [`hash_data`].
    let mut config = proof.clone();
    config.remove("proofValue");
    match proof.get("@context").or_else(|| doc.get("@context")) {
        Some(ctx) => {
            config.insert("@context".into(), ctx.clone());
        }
        None => {
            config.remove("@context");
        }
    }
    let canonical_proof = canonicalize(&Value::Object(config))?;
    let mut signed = [0u8; 64];
    signed[..32].copy_from_slice(&Sha256::digest(&canonical_proof));
    signed[32..].copy_from_slice(&Sha256::digest(&canonical_document));
    let s = |k: &str| proof.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(PreparedProof {
        signed,
        signature,
        proof: VerifiedProof {
            verification_method: s("verificationMethod").unwrap_or_default(),
            proof_purpose: s("proofPurpose").unwrap_or_default(),
            created: s("created"),
            proof: proof.clone(),
        },
    })
}
