//! Credentials made by hutong-credential, checked by an independent implementation of
//! eddsa-jcs-2022 and Bitstring Status List: Digital Bazaar's JavaScript libraries, pinned in
//! `tests/js/package-lock.json` and driven by `tests/js/verify.mjs`, offline.
//!
//! These tests run only with `HUTONG_TEST_JS=1` (CI sets it); without it each says it was
//! skipped and passes. With it, Node.js and npm must be there: `npm ci` runs in `tests/js` once
//! (unless `node_modules` already holds exactly what the lockfile pins), and a verifier that
//! cannot be run, or that answers anything but its JSON verdict, fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use hutong_core::keys::KeyChange;
use hutong_core::{AdminState, Certificate, HolderKey, Issuer, IssuerRole, Level, Policy};
use hutong_credential::certificate::{CertificateCredential, key_method};
use hutong_credential::keyring::did_document;
use hutong_credential::logproof::JournalRef;
use hutong_credential::{
    BitstringStatusList, IndexAllocator, MIN_STATUS_LIST_ENTRIES, ProofOptions,
    StatusListCredential, StatusListEntry, StatusPurpose, create_proof, did_key,
    public_key_multibase, verification_method, verify_proof,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The W3C context that maps every term it does not know to an IRI (`@vocab`), which makes
/// hutong's own terms defined in JSON-LD; bundled with the verifier.
const UNDEFINED_TERMS: &str = "https://www.w3.org/ns/credentials/undefined-terms/v2";
const REVOCATION_LIST: &str = "https://hutong.example/api/v1/status-lists/mohurd.44/revocation/0";
const SUSPENSION_LIST: &str = "https://hutong.example/api/v1/status-lists/mohurd.44/suspension/0";

/// Whether the independent verifier is to run; says so when it is not.
fn enabled(test: &str) -> bool {
    match std::env::var("HUTONG_TEST_JS").as_deref() {
        Ok("1") => true,
        Ok("") | Ok("0") | Err(_) => {
            eprintln!(
                "{test}: skipped: set HUTONG_TEST_JS=1 to check credentials with the \
                 independent verifier in tests/js (CI does)"
            );
            false
        }
        Ok(other) => panic!("HUTONG_TEST_JS={other:?}: expected 1 (run) or 0 (skip)"),
    }
}

/// The repository's `tests/js`.
fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("tests/js"))
        .find(|p| p.join("verify.mjs").is_file())
        .expect("tests/js/verify.mjs not found above the crate")
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Whether `node_modules` holds exactly the packages the lockfile pins: npm's own record of
/// what it installed (`node_modules/.package-lock.json`) lists the same packages, versions and
/// integrity hashes.
fn installed_matches_lockfile(dir: &Path) -> bool {
    let (Some(lock), Some(installed)) = (
        read_json(&dir.join("package-lock.json")),
        read_json(&dir.join("node_modules/.package-lock.json")),
    ) else {
        return false;
    };
    let mut pinned = lock["packages"].clone();
    if let Some(p) = pinned.as_object_mut() {
        p.remove("");
    }
    pinned.is_object() && pinned == installed["packages"]
}

/// Runs `npm ci` in `tests/js` once for the whole test binary, unless it is up to date.
fn verifier_dir() -> &'static Path {
    static SETUP: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let setup = SETUP.get_or_init(|| {
        let dir = js_dir();
        if installed_matches_lockfile(&dir) {
            return Ok(dir);
        }
        let started = std::time::Instant::now();
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("npm ci in {}: cannot run npm: {e}", dir.display()))?;
        if !out.status.success() {
            return Err(format!(
                "npm ci in {} failed ({}):\n{}{}",
                dir.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if !installed_matches_lockfile(&dir) {
            return Err("npm ci finished but node_modules does not match the lockfile".into());
        }
        eprintln!("npm ci in {}: {:.1?}", dir.display(), started.elapsed());
        Ok(dir)
    });
    match setup {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// What the independent verifier said.
#[derive(Debug)]
struct Verdict {
    verified: bool,
    /// The `check` of each error, in order.
    failed: Vec<String>,
    output: Value,
}

impl Verdict {
    fn assert_verified(&self) {
        assert!(
            self.verified && self.failed.is_empty(),
            "the independent verifier refused: {:#}",
            self.output
        );
    }

    /// Not verified, and every error is of check `check`.
    fn assert_failed_only(&self, check: &str) {
        assert!(
            !self.verified && !self.failed.is_empty() && self.failed.iter().all(|c| c == check),
            "expected only the {check:?} check to fail: {:#}",
            self.output
        );
    }

    fn messages(&self) -> String {
        self.output["errors"].to_string()
    }
}

/// Verifies `credential`, with the status list credentials `lists`, in the independent
/// verifier.
fn independent_verify(dir: &Path, credential: &Value, lists: &[&Value]) -> Verdict {
    independent_verify_with(dir, credential, lists, &[], &[])
}

/// [`independent_verify`], with JSON-LD contexts (URL and document) and DID documents given to
/// the verifier.
fn independent_verify_with(
    dir: &Path,
    credential: &Value,
    lists: &[&Value],
    contexts: &[(&str, &Value)],
    did_documents: &[&Value],
) -> Verdict {
    let files = tempfile::tempdir().expect("a temporary folder");
    let write = |name: &str, v: &Value| {
        let p = files.path().join(name);
        std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        p
    };
    let mut cmd = Command::new("node");
    cmd.current_dir(dir)
        .arg("verify.mjs")
        .arg(write("credential.json", credential));
    for (i, list) in lists.iter().enumerate() {
        cmd.arg("--status-list")
            .arg(write(&format!("list-{i}.json"), list));
    }
    for (i, (url, context)) in contexts.iter().enumerate() {
        let file = write(&format!("context-{i}.json"), context);
        cmd.arg("--context")
            .arg(format!("{url}={}", file.display()));
    }
    for (i, doc) in did_documents.iter().enumerate() {
        cmd.arg("--did-document")
            .arg(write(&format!("did-{i}.json"), doc));
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (HUTONG_TEST_JS=1 needs Node.js): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let output: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "verify.mjs did not print its JSON verdict ({e}; {}):\n{stdout}\n{stderr}",
            out.status
        )
    });
    let verified = output["verified"]
        .as_bool()
        .unwrap_or_else(|| panic!("no \"verified\" in {output:#}"));
    let failed: Vec<String> = output["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no \"errors\" in {output:#}"))
        .iter()
        .map(|e| e["check"].as_str().unwrap_or("?").to_owned())
        .collect();
    let code = out.status.code();
    assert_eq!(
        code,
        Some(if verified { 0 } else { 1 }),
        "verify.mjs exit status does not match its verdict {output:#}\n{stderr}"
    );
    Verdict {
        verified,
        failed,
        output,
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An issuer's key and a credential it signed, with a revocation and a suspension entry at
/// random indexes; the status lists are made by the methods.
struct Fixture {
    key: SigningKey,
    now: DateTime<Utc>,
    revocation_index: u64,
    suspension_index: u64,
    credential: Value,
}

impl Fixture {
    fn new() -> Self {
        let key = SigningKey::from_bytes(&[0x5a; 32]);
        let now = Utc::now();
        let mut rng = StdRng::seed_from_u64(10);
        let revocation_index = IndexAllocator::new(MIN_STATUS_LIST_ENTRIES, &mut rng)
            .unwrap()
            .allocate()
            .unwrap();
        let suspension_index = IndexAllocator::new(MIN_STATUS_LIST_ENTRIES, &mut rng)
            .unwrap()
            .allocate()
            .unwrap();
        let issuer = did_key(&key.verifying_key());
        let unsigned = json!({
            "@context": [VC_V2, UNDEFINED_TERMS],
            "id": "urn:uuid:3f0c6a52-2c1e-4d8e-9b7a-5e1d2f4a6b8c",
            "type": ["VerifiableCredential", "VocationalCertificateCredential"],
            "issuer": { "id": issuer, "name": "广东省住房和城乡建设厅" },
            "validFrom": stamp(now - Duration::days(30)),
            "validUntil": stamp(now + Duration::days(365 * 3)),
            "credentialSubject": {
                "type": "CertificateHolder",
                "holderName": { "zh": "李四", "en": "Li Si" },
                "holderIdentifierHash": "sha256:9b2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d",
                "certificate": {
                    "number": "粤A012024000001",
                    "kind": "mohurd.construction.electrician",
                    "issuedOn": "2024-12-27",
                    "levelCode": null,
                    "names": [{ "zh": "建筑电工", "en": "Construction electrician" }],
                },
            },
            "credentialStatus": [
                StatusListEntry::new(REVOCATION_LIST, StatusPurpose::Revocation, revocation_index)
                    .to_value(),
                StatusListEntry::new(SUSPENSION_LIST, StatusPurpose::Suspension, suspension_index)
                    .to_value(),
            ],
        });
        let credential = sign(&unsigned, &key, now - Duration::days(30));
        Self {
            key,
            now,
            revocation_index,
            suspension_index,
            credential,
        }
    }

    /// A signed status list of `purpose` with the given bits set, valid from `from` to `until`
    /// (relative to now).
    fn list(
        &self,
        purpose: StatusPurpose,
        set: &[u64],
        from: Duration,
        until: Duration,
        key: &SigningKey,
    ) -> Value {
        let id = match purpose {
            StatusPurpose::Revocation => REVOCATION_LIST,
            StatusPurpose::Suspension => SUSPENSION_LIST,
        };
        let mut bits = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        for &i in set {
            bits.set(i, true).unwrap();
        }
        let list = StatusListCredential::new(id, did_key(&key.verifying_key()), purpose, bits)
            .valid(stamp(self.now + from), stamp(self.now + until));
        sign(&list.to_value(), key, self.now + from)
    }

    /// A list valid from an hour ago for a day.
    fn current_list(&self, purpose: StatusPurpose, set: &[u64]) -> Value {
        self.list(
            purpose,
            set,
            -Duration::hours(1),
            Duration::days(1),
            &self.key,
        )
    }

    /// Both lists, current, with no bit of this credential set: their neighbours are set, so
    /// that a wrong bit order or an off-by-one would show.
    fn clear_lists(&self) -> (Value, Value) {
        let neighbours = |i: u64| -> Vec<u64> {
            [i.wrapping_sub(1), i + 1]
                .into_iter()
                .filter(|&n| n < MIN_STATUS_LIST_ENTRIES)
                .collect()
        };
        (
            self.current_list(
                StatusPurpose::Revocation,
                &neighbours(self.revocation_index),
            ),
            self.current_list(
                StatusPurpose::Suspension,
                &neighbours(self.suspension_index),
            ),
        )
    }
}

fn sign(document: &Value, key: &SigningKey, created: DateTime<Utc>) -> Value {
    let options =
        ProofOptions::assertion(verification_method(&key.verifying_key()), stamp(created));
    create_proof(document, &options, key).unwrap()
}

#[test]
fn a_credential_signed_by_hutong_verifies_in_the_independent_verifier() {
    if !enabled("a_credential_signed_by_hutong_verifies_in_the_independent_verifier") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    verify_proof(&f.credential, &f.key.verifying_key()).unwrap();
    let v = independent_verify(dir, &f.credential, &[&revocation, &suspension]);
    v.assert_verified();
    // The lists were given in either order: they are found by their id.
    independent_verify(dir, &f.credential, &[&suspension, &revocation]).assert_verified();
    // The status lists alone verify too, as credentials without status.
    independent_verify(dir, &revocation, &[]).assert_verified();
}

/// Changes the string at `path` (object keys and array indexes) by one character.
fn change_one_character(doc: &mut Value, path: &[&str]) {
    let mut v = doc;
    for p in path {
        v = match p.parse::<usize>() {
            Ok(i) if v.is_array() => &mut v[i],
            _ => &mut v[*p],
        };
    }
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
        .to_owned();
    let mut chars: Vec<char> = s.chars().collect();
    if DateTime::parse_from_rfc3339(&s).is_ok() {
        // A date-time: one year later (validUntil) or earlier, so that it stays a date-time
        // and the credential stays within its window.
        let y: i32 = s[..4].parse().unwrap();
        let y = if path.last() == Some(&"validUntil") {
            y + 1
        } else {
            y - 1
        };
        chars.splice(..4, y.to_string().chars());
    } else {
        // The last character, replaced by another that keeps a number a number and base58
        // base58.
        let last = chars.last_mut().unwrap();
        *last = match *last {
            '1' => '2',
            '0'..='9' => '1',
            'a' => 'b',
            _ => 'a',
        };
    }
    let changed: String = chars.into_iter().collect();
    assert_ne!(changed, s, "{path:?} unchanged");
    *v = Value::String(changed);
}

#[test]
fn a_changed_credential_fails_the_proof_check_in_both_verifiers() {
    if !enabled("a_changed_credential_fails_the_proof_check_in_both_verifiers") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    let key = f.key.verifying_key();
    let mut cases: Vec<(String, Value)> = Vec::new();
    for path in [
        &["credentialSubject", "holderName", "zh"][..],
        &["credentialSubject", "holderIdentifierHash"],
        &["credentialSubject", "certificate", "number"],
        &["credentialSubject", "certificate", "issuedOn"],
        &["credentialSubject", "certificate", "names", "0", "en"],
        &["issuer", "name"],
        &["id"],
        &["validFrom"],
        &["validUntil"],
        &["credentialStatus", "0", "statusListIndex"],
        &["credentialStatus", "1", "statusListIndex"],
        &["proof", "proofValue"],
        &["proof", "created"],
    ] {
        let mut c = f.credential.clone();
        change_one_character(&mut c, path);
        cases.push((path.join("."), c));
    }
    let mut added = f.credential.clone();
    added["credentialSubject"]["certificate"]["levelCode"] = json!("3");
    cases.push(("a value put in for null".into(), added));
    let mut removed = f.credential.clone();
    removed["credentialSubject"]["certificate"]
        .as_object_mut()
        .unwrap()
        .remove("issuedOn");
    cases.push(("a property removed".into(), removed));
    let mut extra = f.credential.clone();
    extra["credentialSubject"]["note"] = json!("added");
    cases.push(("a property added".into(), extra));
    let mut reordered = f.credential.clone();
    reordered["credentialStatus"]
        .as_array_mut()
        .unwrap()
        .reverse();
    cases.push(("the status entries swapped".into(), reordered));

    // Two at a time: the machine has two cores.
    let lists = [&revocation, &suspension];
    for pair in cases.chunks(2) {
        let verdicts: Vec<Verdict> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|(_, c)| s.spawn(|| independent_verify(dir, c, &lists)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ((what, changed), v) in pair.iter().zip(verdicts) {
            assert!(
                verify_proof(changed, &key).is_err(),
                "{what}: hutong-credential accepted the changed credential"
            );
            assert!(!v.verified, "{what}: the independent verifier accepted it");
            v.assert_failed_only("proof");
        }
    }
}

#[test]
fn a_revoked_credential_fails_the_revocation_check() {
    if !enabled("a_revoked_credential_fails_the_revocation_check") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (_, suspension) = f.clear_lists();
    let revoked = f.current_list(StatusPurpose::Revocation, &[f.revocation_index]);
    let v = independent_verify(dir, &f.credential, &[&revoked, &suspension]);
    v.assert_failed_only("revocation");
    assert!(
        v.messages().contains(&f.revocation_index.to_string()),
        "{}",
        v.messages()
    );
}

#[test]
fn a_suspended_credential_fails_the_suspension_check() {
    if !enabled("a_suspended_credential_fails_the_suspension_check") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, _) = f.clear_lists();
    let suspended = f.current_list(StatusPurpose::Suspension, &[f.suspension_index]);
    independent_verify(dir, &f.credential, &[&revocation, &suspended])
        .assert_failed_only("suspension");
    // Revoked and suspended: both fail.
    let revoked = f.current_list(StatusPurpose::Revocation, &[f.revocation_index]);
    let v = independent_verify(dir, &f.credential, &[&revoked, &suspended]);
    assert!(!v.verified);
    assert_eq!(v.failed, ["revocation", "suspension"], "{:#}", v.output);
}

#[test]
fn a_status_list_past_its_validity_fails_the_status_list_check() {
    if !enabled("a_status_list_past_its_validity_fails_the_status_list_check") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    // Expired an hour ago: an old list, replayed, that would hide a revocation made since.
    let expired = f.list(
        StatusPurpose::Revocation,
        &[],
        -Duration::days(2),
        -Duration::hours(1),
        &f.key,
    );
    let v = independent_verify(dir, &f.credential, &[&expired, &suspension]);
    v.assert_failed_only("status-list");
    assert!(v.messages().contains("validUntil"), "{}", v.messages());
    let expired = f.list(
        StatusPurpose::Suspension,
        &[],
        -Duration::days(2),
        -Duration::hours(1),
        &f.key,
    );
    independent_verify(dir, &f.credential, &[&revocation, &expired])
        .assert_failed_only("status-list");
    // Not valid yet.
    let future = f.list(
        StatusPurpose::Revocation,
        &[],
        Duration::hours(1),
        Duration::days(1),
        &f.key,
    );
    independent_verify(dir, &f.credential, &[&future, &suspension])
        .assert_failed_only("status-list");
    // Without a window at all: refused, as it could be replayed for ever.
    let mut bits = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    bits.set(0, false).unwrap();
    let unbounded = StatusListCredential::new(
        REVOCATION_LIST,
        did_key(&f.key.verifying_key()),
        StatusPurpose::Revocation,
        bits,
    );
    let unbounded = sign(&unbounded.to_value(), &f.key, f.now);
    let v = independent_verify(dir, &f.credential, &[&unbounded, &suspension]);
    v.assert_failed_only("status-list");
    assert!(v.messages().contains("validUntil"), "{}", v.messages());
}

#[test]
fn a_status_list_that_is_not_the_issuers_own_fails_the_status_list_check() {
    if !enabled("a_status_list_that_is_not_the_issuers_own_fails_the_status_list_check") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    // Its bits changed after signing (the credential's bit cleared by a forger).
    let revoked = f.current_list(StatusPurpose::Revocation, &[f.revocation_index]);
    let mut forged = revoked.clone();
    forged["credentialSubject"]["encodedList"] =
        revocation["credentialSubject"]["encodedList"].clone();
    independent_verify(dir, &f.credential, &[&forged, &suspension])
        .assert_failed_only("status-list");
    // Signed properly, but by another key.
    let other = SigningKey::from_bytes(&[0x33; 32]);
    let foreign = f.list(
        StatusPurpose::Revocation,
        &[],
        -Duration::hours(1),
        Duration::days(1),
        &other,
    );
    independent_verify(dir, &f.credential, &[&foreign, &suspension])
        .assert_failed_only("status-list");
    // A suspension list given where the revocation list should be.
    let mut wrong_purpose = suspension.clone();
    wrong_purpose["id"] = json!(REVOCATION_LIST);
    let wrong_purpose = {
        let mut unsigned = wrong_purpose;
        unsigned.as_object_mut().unwrap().remove("proof");
        sign(&unsigned, &f.key, f.now)
    };
    independent_verify(dir, &f.credential, &[&wrong_purpose, &suspension])
        .assert_failed_only("status-list");
}

#[test]
fn the_independent_verifier_stays_offline() {
    if !enabled("the_independent_verifier_stays_offline") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, _) = f.clear_lists();
    // The suspension list is not given: it is not fetched, and the status check fails.
    let v = independent_verify(dir, &f.credential, &[&revocation]);
    v.assert_failed_only("status-list");
    assert!(
        v.messages().contains("refusing to load") && v.messages().contains(SUSPENSION_LIST),
        "{}",
        v.messages()
    );
}

#[test]
fn every_term_of_the_credential_must_be_defined_in_a_context() {
    if !enabled("every_term_of_the_credential_must_be_defined_in_a_context") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    let lists = [&revocation, &suspension];
    let resign = |mut c: Value| {
        c.as_object_mut().unwrap().remove("proof");
        sign(&c, &f.key, f.now)
    };
    // Without a context that defines hutong's terms: the signature verifies (eddsa-jcs-2022
    // does no JSON-LD processing), but the document is not JSON-LD that keeps its claims.
    let mut bare = f.credential.clone();
    bare["@context"] = json!([VC_V2]);
    let bare = resign(bare);
    let v = independent_verify(dir, &bare, &lists);
    v.assert_failed_only("jsonld");
    assert!(v.messages().contains("certificate"), "{}", v.messages());
    // With a context of hutong's own, given to the verifier as a local file: it verifies. Not
    // given, it is not fetched, and the JSON-LD check fails.
    let own = "https://hutong.example/ns/credentials/v1";
    let context = json!({ "@context": { "@vocab": "https://hutong.example/ns/credentials#" } });
    let mut c = f.credential.clone();
    c["@context"] = json!([VC_V2, own]);
    let c = resign(c);
    independent_verify_with(dir, &c, &lists, &[(own, &context)], &[]).assert_verified();
    let v = independent_verify(dir, &c, &lists);
    v.assert_failed_only("jsonld");
    assert!(
        v.messages().contains("refusing to load"),
        "{}",
        v.messages()
    );
}

#[test]
fn canonicalization_agrees_on_awkward_json() {
    if !enabled("canonicalization_agrees_on_awkward_json") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    // Numbers as doubles in their ECMAScript form, strings with escapes and characters beyond
    // the BMP, and members sorted by UTF-16 code units (U+1F602 before U+FB33), parsed from
    // text so that the numbers are as a file would carry them.
    let awkward: Value = serde_json::from_str(
        r#"{
            "numbers": [9007199254740993, 0.1, 1e21, 1e-7, -0.0, 123.456e-10, 5e-324, 1.5e300],
            "text": "\"quoted\" \\ \u0000\u001f\u007f\u2028\u2029 \ud83d\ude02 é 中文 \t\n",
            "\ufb33": 1,
            "\ud83d\ude02": 2,
            "B": true,
            "a": null,
            "é": [],
            "nested": { "z": {}, "A": [[], {}] }
        }"#,
    )
    .unwrap();
    let mut c = f.credential.clone();
    c.as_object_mut().unwrap().remove("proof");
    c["credentialSubject"]["extra"] = awkward;
    let c = sign(&c, &f.key, f.now);
    verify_proof(&c, &f.key.verifying_key()).unwrap();
    independent_verify(dir, &c, &[&revocation, &suspension]).assert_verified();
}

#[test]
fn the_validity_window_the_issuer_and_a_missing_proof_fail_their_own_checks() {
    if !enabled("the_validity_window_the_issuer_and_a_missing_proof_fail_their_own_checks") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let (revocation, suspension) = f.clear_lists();
    let lists = [&revocation, &suspension];
    let mut unsigned = f.credential.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    // Past its validUntil: the credential's own window.
    let mut expired = unsigned.clone();
    expired["validUntil"] = json!(stamp(f.now - Duration::days(1)));
    let v = independent_verify(dir, &sign(&expired, &f.key, f.now), &lists);
    v.assert_failed_only("credential");
    assert!(v.messages().contains("validUntil"), "{}", v.messages());
    // Signed by a key that is not the issuer's: the signature is good, the purpose is not.
    let other = SigningKey::from_bytes(&[0x33; 32]);
    let v = independent_verify(dir, &sign(&unsigned, &other, f.now), &lists);
    v.assert_failed_only("purpose");
    assert!(v.messages().contains("controller"), "{}", v.messages());
    // No proof at all.
    independent_verify(dir, &unsigned, &lists).assert_failed_only("proof");
}

#[test]
fn under_did_web_a_rotated_key_keeps_its_credentials_and_a_new_key_signs_the_lists() {
    if !enabled("under_did_web_a_rotated_key_keeps_its_credentials_and_a_new_key_signs_the_lists") {
        return;
    }
    let dir = verifier_dir();
    let f = Fixture::new();
    let old = &f.key;
    let new = SigningKey::from_bytes(&[0x77; 32]);
    let did = "did:web:hutong.example:issuers:mohurd.44";
    let method = |n: u32| format!("{did}#key-{n}");
    let did_document = |assertion: &[u32]| {
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "verificationMethod": [
                { "id": method(1), "type": "Multikey", "controller": did,
                  "publicKeyMultibase": public_key_multibase(&old.verifying_key()) },
                { "id": method(2), "type": "Multikey", "controller": did,
                  "publicKeyMultibase": public_key_multibase(&new.verifying_key()) },
            ],
            "assertionMethod": assertion.iter().map(|&n| method(n)).collect::<Vec<_>>(),
        })
    };
    let sign_as = |doc: &Value, key: &SigningKey, n: u32| {
        create_proof(
            doc,
            &ProofOptions::assertion(method(n), stamp(f.now - Duration::hours(1))),
            key,
        )
        .unwrap()
    };
    // The credential signed with key 1 before the rotation, the lists now with key 2: one
    // issuer, the DID.
    let mut credential = f.credential.clone();
    credential.as_object_mut().unwrap().remove("proof");
    credential["issuer"]["id"] = json!(did);
    let credential = sign_as(&credential, old, 1);
    let list = |purpose| {
        let bits = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        let id = match purpose {
            StatusPurpose::Revocation => REVOCATION_LIST,
            StatusPurpose::Suspension => SUSPENSION_LIST,
        };
        let list = StatusListCredential::new(id, did, purpose, bits).valid(
            stamp(f.now - Duration::hours(1)),
            stamp(f.now + Duration::days(1)),
        );
        sign_as(&list.to_value(), &new, 2)
    };
    let (revocation, suspension) = (
        list(StatusPurpose::Revocation),
        list(StatusPurpose::Suspension),
    );
    let lists = [&revocation, &suspension];
    verify_proof(&credential, &old.verifying_key()).unwrap();
    independent_verify_with(dir, &credential, &lists, &[], &[&did_document(&[1, 2])])
        .assert_verified();
    // A key taken out of assertionMethod no longer vouches for what it signed.
    independent_verify_with(dir, &credential, &lists, &[], &[&did_document(&[2])])
        .assert_failed_only("purpose");
    // Without the DID document the verifier has nothing to go on, and fetches nothing.
    let v = independent_verify(dir, &credential, &lists);
    v.assert_failed_only("proof");
    assert!(
        v.messages().contains("refusing to load"),
        "{}",
        v.messages()
    );
}

/// A certificate's credential as hutong exports it ([`CertificateCredential`]), with the
/// issuer's did:web document from the public keys file ([`did_document`]) and status lists
/// signed by the same key: for an authority's certificate and for an evaluation institution's
/// skill level certificate (occupation, level, review date, e-licence identifier).
#[test]
fn a_certificate_credential_as_hutong_exports_it_verifies_in_the_independent_verifier() {
    if !enabled(
        "a_certificate_credential_as_hutong_exports_it_verifies_in_the_independent_verifier",
    ) {
        return;
    }
    let dir = verifier_dir();
    let policy = Policy::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
        .expect("the repository's policy loads");
    let day = |s: &str| -> hutong_core::Day { s.parse().unwrap() };
    let issuer = |id: &str, role, department: &str, name_zh: &str| Issuer {
        id: id.into(),
        name_zh: name_zh.into(),
        name_en: Some(format!("{id} (English name)")),
        department: department.into(),
        role,
        region: Some("44".into()),
        grants: vec![],
        institution_type: None,
        institution_code: None,
        credit_code: None,
        registered_on: day("2015-01-01"),
        suspensions: vec![],
        removed_on: None,
        contact: None,
    };
    let certificate = |kind: &str, number: &str, issuer: &str| Certificate {
        number: number.into(),
        kind: kind.into(),
        holder_key: HolderKey([7; 32]),
        holder_name: "李四".into(),
        occupation: None,
        level: None,
        issuer: issuer.into(),
        issued_on: day("2024-12-27"),
        first_issued_on: day("2024-12-27"),
        valid_until: Some(day("2030-12-26")),
        last_review_on: None,
        state: AdminState::Active,
    };
    let authority = issuer(
        "mohurd.44",
        IssuerRole::Authority,
        "mohurd",
        "广东省住房和城乡建设厅",
    );
    let institution = issuer(
        "mohrss.44.0001",
        IssuerRole::Institution,
        "mohrss",
        "广东省某职业技能等级评价机构",
    );
    let construction = certificate(
        "mohurd.construction.electrician",
        "粤A012024000001",
        "mohurd.44",
    );
    let skill_level = Certificate {
        occupation: Some("6-31-01-03".into()),
        level: Some(Level::L3),
        valid_until: None,
        last_review_on: Some(day("2025-12-27")),
        ..certificate(
            "mohrss.skill-level",
            "S000044000001234300001",
            "mohrss.44.0001",
        )
    };
    let e_licence = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
    let f = Fixture::new();
    let host = "hutong.example";
    for (issuer, certificate, e_licence_id) in [
        (&authority, &construction, None),
        (&institution, &skill_level, Some(e_licence.to_owned())),
    ] {
        let what = &certificate.kind;
        let (_, record) = KeyChange::create(
            &issuer.id,
            &public_key_multibase(&f.key.verifying_key()),
            f.now.timestamp_micros() - 86_400_000_000,
        );
        let exported = CertificateCredential {
            certificate,
            registry_id: 17,
            policy: &policy,
            issuer,
            host,
            // A commitment as the registry makes it; its inputs are not the point here.
            holder_commitment: "5f".repeat(32),
            e_licence_id,
            status: vec![
                StatusListEntry::new(
                    REVOCATION_LIST,
                    StatusPurpose::Revocation,
                    f.revocation_index,
                ),
                StatusListEntry::new(
                    SUSPENSION_LIST,
                    StatusPurpose::Suspension,
                    f.suspension_index,
                ),
            ],
            // The journal entry it reflects, as `evidence`: the independent verifier must
            // accept the credential with it.
            journal: Some(JournalRef {
                seq: 42,
                subject: "cert:17".into(),
                record_sha256: hutong_core::journal::certificate_digest(certificate).1,
            }),
        }
        .sign(&record, &f.key, &stamp(f.now))
        .unwrap();
        let did = exported["issuer"]["id"].as_str().unwrap().to_owned();
        let list = |purpose, set: &[u64]| {
            let mut bits = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
            for &i in set {
                bits.set(i, true).unwrap();
            }
            let id = match purpose {
                StatusPurpose::Revocation => REVOCATION_LIST,
                StatusPurpose::Suspension => SUSPENSION_LIST,
            };
            let doc = StatusListCredential::new(id, did.clone(), purpose, bits)
                .valid(
                    stamp(f.now - Duration::hours(1)),
                    stamp(f.now + Duration::days(1)),
                )
                .to_value();
            create_proof(
                &doc,
                &ProofOptions::assertion(key_method(host, &record), stamp(f.now)),
                &f.key,
            )
            .unwrap()
        };
        let document = did_document(host, &issuer.id, std::slice::from_ref(&record));
        let documents = [&document];
        let (revocation, suspension) = (
            list(StatusPurpose::Revocation, &[]),
            list(StatusPurpose::Suspension, &[]),
        );
        let v =
            independent_verify_with(dir, &exported, &[&revocation, &suspension], &[], &documents);
        assert!(v.verified, "{what}: {:#}", v.output);
        let revoked = list(StatusPurpose::Revocation, &[f.revocation_index]);
        independent_verify_with(dir, &exported, &[&revoked, &suspension], &[], &documents)
            .assert_failed_only("revocation");
        let suspended = list(StatusPurpose::Suspension, &[f.suspension_index]);
        independent_verify_with(dir, &exported, &[&revocation, &suspended], &[], &documents)
            .assert_failed_only("suspension");
        let mut changed = exported.clone();
        changed["credentialSubject"]["name"] = json!("李五");
        independent_verify_with(dir, &changed, &[&revocation, &suspension], &[], &documents)
            .assert_failed_only("proof");
    }
}
