//! W3C Verifiable Credentials 2.0 building blocks for hutong, on `serde_json::Value` documents:
//!
//! - [`jcs`]: RFC 8785 JSON canonicalization.
//! - [`multikey`]: multibase base58btc, Ed25519 Multikeys and `did:key` verification methods.
//! - [`proof`]: `DataIntegrityProof`s of cryptosuite `eddsa-jcs-2022` (W3C Data Integrity
//!   EdDSA Cryptosuites v1.0): create and verify.
//! - [`status`]: W3C Bitstring Status List v1.0: lists, entries, list credentials, and random
//!   index assignment.
//!
//! - [`certificate`]: a registry certificate as a credential.
//! - [`barcode`]: a signed credential as QR code text (`HTVC1:`, base45 of zlib of its JCS),
//!   for printed certificates that verify offline.
//! - [`keyring`]: the registry's signed public keys file, issuers' DID documents, and offline
//!   verification of certificate credentials.
//! - [`logproof`]: the journal entry a credential names, log proofs, and the check that the
//!   entry is in the registry's transparency log.
//!
//! The crate is pure: no I/O, no clock (dates are passed in).

pub mod barcode;
pub mod certificate;
pub mod error;
pub mod jcs;
pub mod keyring;
pub mod logproof;
pub mod multikey;
pub mod proof;
pub mod status;

pub use error::CredentialError;
pub use multikey::{
    did_key, public_key_from_did_key, public_key_from_multibase, public_key_multibase,
    secret_key_from_multibase, secret_key_multibase, signing_key_from_key_pair,
    verification_method,
};
pub use proof::{
    CRYPTOSUITE, HashData, PROOF_TYPE, ProofOptions, VerifiedProof, create_proof, hash_data,
    verify_proof, verify_proof_with_did_key,
};
pub use status::{
    BitstringStatusList, IndexAllocator, MIN_STATUS_LIST_ENTRIES, StatusListCredential,
    StatusListEntry, StatusPurpose,
};
