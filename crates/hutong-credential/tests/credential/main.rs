//! Integration tests of hutong-credential: the W3C eddsa-jcs-2022 vectors, the RFC 8785 cases,
//! Bitstring Status Lists, credentials checked by an independent verifier, and log inclusion.

mod certificates;
mod independent;
mod jcs;
mod log_inclusion;
mod proofs;
mod status;

use std::path::{Path, PathBuf};

/// The repository's `vectors/` (official test vectors, copied unchanged; see
/// `vectors/PROVENANCE.md`), or `$HUTONG_VECTORS_DIR`. Missing vectors fail the test: they are
/// never skipped.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("HUTONG_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("vectors"))
            .find(|p| p.join("PROVENANCE.md").is_file())
            .expect("vectors/ not found above the crate; set HUTONG_VECTORS_DIR"),
    }
}

pub fn read(rel: &str) -> String {
    let p = vectors_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
