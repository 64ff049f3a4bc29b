//! Multibase base58btc (`z…`), Ed25519 Multikeys and `did:key` verification methods.
//!
//! An Ed25519 public key as a Multikey is `z` + base58btc(0xed 0x01 || 32-byte key), so it
//! starts with `z6Mk`; a secret key is `z` + base58btc(0x80 0x26 || 32-byte seed). The `did:key`
//! of a public key is `did:key:<multikey>`, and its verification method
//! `did:key:<multikey>#<multikey>`.

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::Value;

use crate::error::CredentialError;

/// Multicodec prefix of an Ed25519 public key (varint of 0xed).
pub const ED25519_PUB_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an Ed25519 secret key (varint of 0x1300).
pub const ED25519_PRIV_PREFIX: [u8; 2] = [0x80, 0x26];

/// The most characters of a multibase value decoded (base58 decoding is quadratic).
const MAX_MULTIBASE_CHARS: usize = 512;

/// `z` + base58btc of `bytes`.
pub fn encode_base58btc(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decodes a `z`-prefixed base58btc multibase value; `what` names it in errors.
pub fn decode_base58btc(value: &str, what: &'static str) -> Result<Vec<u8>, CredentialError> {
    if value.len() > MAX_MULTIBASE_CHARS {
        return Err(CredentialError::multibase(what, "too long"));
    }
    let Some(rest) = value.strip_prefix('z') else {
        return Err(CredentialError::multibase(
            what,
            "it does not start with 'z' (base58btc)",
        ));
    };
    bs58::decode(rest)
        .into_vec()
        .map_err(|e| CredentialError::multibase(what, e.to_string()))
}

fn decode_prefixed(
    value: &str,
    prefix: [u8; 2],
    what: &'static str,
) -> Result<[u8; 32], CredentialError> {
    let bytes = decode_base58btc(value, what)?;
    let Some(key) = bytes.strip_prefix(&prefix[..]) else {
        return Err(CredentialError::multibase(
            what,
            format!(
                "multicodec prefix is not {:02x}{:02x}",
                prefix[0], prefix[1]
            ),
        ));
    };
    key.try_into()
        .map_err(|_| CredentialError::multibase(what, "an Ed25519 key is 32 bytes"))
}

/// The Multikey (`z6Mk…`) of an Ed25519 public key.
pub fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB_PREFIX.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    encode_base58btc(&bytes)
}

/// Parses an Ed25519 public key Multikey.
pub fn public_key_from_multibase(value: &str) -> Result<VerifyingKey, CredentialError> {
    let key = decode_prefixed(value, ED25519_PUB_PREFIX, "publicKeyMultibase")?;
    VerifyingKey::from_bytes(&key)
        .map_err(|_| CredentialError::multibase("publicKeyMultibase", "not an Ed25519 point"))
}

/// The multibase (`z3u2…`) of an Ed25519 secret key.
pub fn secret_key_multibase(key: &SigningKey) -> String {
    let mut bytes = ED25519_PRIV_PREFIX.to_vec();
    bytes.extend_from_slice(&key.to_bytes());
    encode_base58btc(&bytes)
}

/// Parses an Ed25519 secret key multibase.
pub fn secret_key_from_multibase(value: &str) -> Result<SigningKey, CredentialError> {
    let seed = decode_prefixed(value, ED25519_PRIV_PREFIX, "secretKeyMultibase")?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Loads a key pair object `{"publicKeyMultibase", "secretKeyMultibase"}`; the name
/// `privateKeyMultibase` (used by the W3C test vectors) is accepted too. If the public key is
/// given, it must be the secret key's.
pub fn signing_key_from_key_pair(key_pair: &Value) -> Result<SigningKey, CredentialError> {
    let obj = key_pair
        .as_object()
        .ok_or(CredentialError::NotAnObject { what: "key pair" })?;
    let secret = obj
        .get("secretKeyMultibase")
        .or_else(|| obj.get("privateKeyMultibase"))
        .ok_or(CredentialError::Missing {
            what: "secretKeyMultibase (or privateKeyMultibase)",
        })?
        .as_str()
        .ok_or_else(|| CredentialError::invalid("secretKeyMultibase", "not a string"))?;
    let key = secret_key_from_multibase(secret)?;
    if let Some(public) = obj.get("publicKeyMultibase") {
        let public = public
            .as_str()
            .ok_or_else(|| CredentialError::invalid("publicKeyMultibase", "not a string"))?;
        if public_key_from_multibase(public)? != key.verifying_key() {
            return Err(CredentialError::invalid(
                "key pair",
                "the public key is not the secret key's",
            ));
        }
    }
    Ok(key)
}

/// `did:key:<multikey>` of a public key.
pub fn did_key(key: &VerifyingKey) -> String {
    format!("did:key:{}", public_key_multibase(key))
}

/// The verification method `did:key:<multikey>#<multikey>` of a public key.
pub fn verification_method(key: &VerifyingKey) -> String {
    let mk = public_key_multibase(key);
    format!("did:key:{mk}#{mk}")
}

/// The Ed25519 public key of a `did:key` DID or verification method. A fragment, if present,
/// must be the same Multikey.
pub fn public_key_from_did_key(did: &str) -> Result<VerifyingKey, CredentialError> {
    let rest = did
        .strip_prefix("did:key:")
        .ok_or_else(|| CredentialError::invalid("verificationMethod", "it is not a did:key"))?;
    let (mk, fragment) = match rest.split_once('#') {
        Some((mk, f)) => (mk, Some(f)),
        None => (rest, None),
    };
    if fragment.is_some_and(|f| f != mk) {
        return Err(CredentialError::invalid(
            "verificationMethod",
            "the fragment is not the key's Multikey",
        ));
    }
    public_key_from_multibase(mk)
}
