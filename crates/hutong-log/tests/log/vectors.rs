//! Every case of the transparency-dev/merkle test data (`testdata/inclusion/**` and
//! `testdata/consistency/**`), each file checked for exactly its `wantErr`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hutong_log::{verify_consistency, verify_inclusion};
use serde::Deserialize;

/// The repository's `vectors/` (official test vectors, copied unchanged; see
/// `vectors/PROVENANCE.md`), or `$HUTONG_VECTORS_DIR`. Missing vectors fail the test: they are
/// never skipped.
fn vectors_dir() -> PathBuf {
    let base = match std::env::var_os("HUTONG_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("vectors"))
            .find(|p| p.join("PROVENANCE.md").is_file())
            .expect("vectors/ not found above the crate; set HUTONG_VECTORS_DIR"),
    };
    base.join("transparency-dev-merkle/testdata")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn b64(s: &str) -> Vec<u8> {
    B64.decode(s).expect("vector holds valid base64")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn decode_proof(proof: &Option<Vec<String>>) -> Vec<Vec<u8>> {
    proof.iter().flatten().map(|p| b64(p)).collect()
}

#[test]
fn every_inclusion_case() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("inclusion"), &mut files);
    assert_eq!(files.len(), 98, "inclusion case count");
    let (mut accepted, mut rejected) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let c: InclusionCase = serde_json::from_str(&text).unwrap();
        let got = verify_inclusion(
            c.leaf_idx,
            c.tree_size,
            &b64(&c.leaf_hash),
            &decode_proof(&c.proof),
            &b64(&c.root),
        );
        assert_eq!(
            got.is_err(),
            c.want_err,
            "{} ({}): got {got:?}",
            f.display(),
            c.desc
        );
        if c.want_err {
            rejected += 1
        } else {
            accepted += 1
        }
    }
    assert!(accepted > 0 && rejected > 0);
}

#[test]
fn every_consistency_case() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("consistency"), &mut files);
    assert_eq!(files.len(), 98, "consistency case count");
    let (mut accepted, mut rejected) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let c: ConsistencyCase = serde_json::from_str(&text).unwrap();
        let got = verify_consistency(
            c.size1,
            c.size2,
            &decode_proof(&c.proof),
            &b64(&c.root1),
            &b64(&c.root2),
        );
        assert_eq!(
            got.is_err(),
            c.want_err,
            "{} ({}): got {got:?}",
            f.display(),
            c.desc
        );
        if c.want_err {
            rejected += 1
        } else {
            accepted += 1
        }
    }
    assert!(accepted > 0 && rejected > 0);
}
