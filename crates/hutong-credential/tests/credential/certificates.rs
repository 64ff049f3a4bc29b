//! A registry certificate as a credential, verified offline against the public keys file:
//! each way of breaking it fails the check it should, and no more.

use std::path::Path;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::Value;

use hutong_core::keys::{KeyChange, KeyRecord};
use hutong_core::{AdminState, Certificate, Grant, HolderKey, Issuer, IssuerRole, Policy};
use hutong_credential::certificate::{CertificateCredential, did_host, holder_commitment};
use hutong_credential::keyring::{Keyring, Report, verify_certificate_credential};
use hutong_credential::logproof::JournalRef;
use hutong_credential::status::{
    BitstringStatusList, StatusListCredential, StatusListEntry, StatusPurpose,
};
use hutong_credential::{ProofOptions, create_proof, did_key, public_key_multibase};

const HOST: &str = "hutong.example";

fn policy() -> Policy {
    Policy::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
        .expect("the repository's policy loads")
}

fn day(s: &str) -> hutong_core::Day {
    s.parse().unwrap()
}

fn micros(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

fn issuer() -> Issuer {
    Issuer {
        id: "mem.44".into(),
        name_zh: "广东省应急管理厅".into(),
        name_en: Some("Guangdong Emergency Management Department".into()),
        department: "mem".into(),
        role: IssuerRole::Authority,
        region: Some("44".into()),
        grants: vec![Grant::kind("mem.electrical.low-voltage", day("2015-01-01"))],
        institution_type: None,
        institution_code: None,
        credit_code: None,
        registered_on: day("2015-01-01"),
        suspensions: vec![],
        removed_on: None,
        contact: None,
    }
}

pub fn certificate() -> Certificate {
    Certificate {
        number: "T440101198001010017".into(),
        kind: "mem.electrical.low-voltage".into(),
        holder_key: HolderKey([7; 32]),
        holder_name: "张小明".into(),
        occupation: None,
        level: None,
        issuer: "mem.44".into(),
        issued_on: day("2024-03-01"),
        first_issued_on: day("2018-03-01"),
        valid_until: Some(day("2030-03-01")),
        last_review_on: None,
        state: AdminState::Active,
    }
}

pub struct Setup {
    pub key: SigningKey,
    pub record: KeyRecord,
    registry: SigningKey,
    policy: Policy,
    issuer: Issuer,
}

pub fn setup() -> Setup {
    let key = SigningKey::from_bytes(&[3; 32]);
    let (_, record) = KeyChange::create(
        "mem.44",
        &public_key_multibase(&key.verifying_key()),
        micros("2024-01-01T00:00:00Z"),
    );
    Setup {
        key,
        record,
        registry: SigningKey::from_bytes(&[9; 32]),
        policy: policy(),
        issuer: issuer(),
    }
}

fn status_entries() -> Vec<StatusListEntry> {
    vec![
        StatusListEntry::new(
            format!("https://{HOST}/status/mem.44/revocation/1"),
            StatusPurpose::Revocation,
            4242,
        ),
        StatusListEntry::new(
            format!("https://{HOST}/status/mem.44/suspension/1"),
            StatusPurpose::Suspension,
            4242,
        ),
    ]
}

pub fn credential(s: &Setup, created: &str) -> Value {
    let c = certificate();
    let id = hutong_core::ResidentId::parse("440101198001010017").unwrap();
    CertificateCredential {
        certificate: &c,
        registry_id: 17,
        policy: &s.policy,
        issuer: &s.issuer,
        host: HOST,
        holder_commitment: holder_commitment(&[5; 16], &id),
        e_licence_id: None,
        status: status_entries(),
        journal: Some(journal_ref(&c)),
    }
    .sign(&s.record, &s.key, created)
    .unwrap()
}

/// The journal entry the test credential names: entry 42 of certificate 17.
pub fn journal_ref(c: &Certificate) -> JournalRef {
    JournalRef {
        seq: 42,
        subject: "cert:17".into(),
        record_sha256: hutong_core::journal::certificate_digest(c).1,
    }
}

pub fn keyring(s: &Setup, keys: Vec<KeyRecord>) -> Keyring {
    let signed = Keyring {
        host: HOST.into(),
        issued: "2026-12-01T00:00:00Z".into(),
        issuers: vec![s.issuer.clone()],
        keys,
    }
    .sign(&s.registry, "2026-12-01T00:00:00Z")
    .unwrap();
    Keyring::open(&signed, Some(&did_key(&s.registry.verifying_key()))).unwrap()
}

fn list(s: &Setup, purpose: StatusPurpose, set: bool, until: &str) -> Value {
    let mut bits = BitstringStatusList::new(131_072).unwrap();
    bits.set(4242, set).unwrap();
    let path = match purpose {
        StatusPurpose::Revocation => "revocation",
        StatusPurpose::Suspension => "suspension",
    };
    let doc = StatusListCredential::new(
        format!("https://{HOST}/status/mem.44/{path}/1"),
        format!("did:web:{HOST}:issuers:mem.44"),
        purpose,
        bits,
    )
    .valid("2026-11-30T00:00:00Z", until)
    .to_value();
    create_proof(
        &doc,
        &ProofOptions::assertion(
            hutong_credential::certificate::key_method(HOST, &s.record),
            "2026-11-30T00:00:00Z",
        ),
        &s.key,
    )
    .unwrap()
}

pub fn now() -> DateTime<Utc> {
    "2026-12-01T08:00:00Z".parse().unwrap()
}

pub fn outcome(r: &Report, check: &str) -> String {
    r.checks
        .iter()
        .filter(|c| c.check == check)
        .map(|c| format!("{}: {}", c.outcome, c.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn failing(r: &Report) -> Vec<&str> {
    r.checks
        .iter()
        .filter(|c| c.outcome == "fail")
        .map(|c| c.check)
        .collect()
}

#[test]
fn a_good_credential_passes_every_check_and_holds_no_id_number() {
    let s = setup();
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let text = c.to_string();
    assert!(!text.contains("440101198001010017"), "{text}");
    assert!(
        text.contains("T44****"),
        "the number appears masked: {text}"
    );
    assert_eq!(c["issuer"]["id"], "did:web:hutong.example:issuers:mem.44");
    assert_eq!(c["validFrom"], "2024-03-01T00:00:00+08:00");
    assert_eq!(
        c["credentialSubject"]["certificate"]["issueDate"],
        "2024-03-01"
    );
    let lists = [
        list(&s, StatusPurpose::Revocation, false, "2026-12-02T00:00:00Z"),
        list(&s, StatusPurpose::Suspension, false, "2026-12-02T00:00:00Z"),
    ];
    let r = verify_certificate_credential(&c, &keyring(&s, vec![s.record.clone()]), &lists, now());
    assert!(r.verified(), "{r:#?}");
    assert_eq!(
        r.checks.iter().map(|c| c.check).collect::<Vec<_>>(),
        [
            "signature",
            "key",
            "status",
            "status",
            "validity",
            "issuer",
            "log"
        ]
    );
}

#[test]
fn any_changed_value_breaks_the_signature_only() {
    let s = setup();
    let ring = keyring(&s, vec![s.record.clone()]);
    let good = credential(&s, "2026-12-01T00:00:00Z");
    for (pointer, value) in [
        ("/credentialSubject/name", Value::from("李小明")),
        ("/validUntil", Value::from("2040-03-01T23:59:59+08:00")),
        (
            "/credentialSubject/certificate/firstIssueDate",
            "2010-01-01".into(),
        ),
        ("/proof/created", "2026-12-01T00:00:01Z".into()),
    ] {
        let mut c = good.clone();
        *c.pointer_mut(pointer).unwrap() = value;
        let r = verify_certificate_credential(&c, &ring, &[], now());
        assert!(failing(&r).contains(&"signature"), "{pointer}: {r:#?}");
    }
    // A changed signature byte.
    let mut c = good.clone();
    let pv = c["proof"]["proofValue"].as_str().unwrap().to_string();
    let mut chars: Vec<char> = pv.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    c["proof"]["proofValue"] = chars.into_iter().collect::<String>().into();
    let r = verify_certificate_credential(&c, &ring, &[], now());
    assert_eq!(failing(&r), ["signature"], "{r:#?}");
}

#[test]
fn revoked_or_suspended_fails_status_and_an_expired_list_is_refused() {
    let s = setup();
    let ring = keyring(&s, vec![s.record.clone()]);
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let ok = "2026-12-02T00:00:00Z";
    for (rev, sus, want) in [(true, false, "revoked"), (false, true, "suspended")] {
        let lists = [
            list(&s, StatusPurpose::Revocation, rev, ok),
            list(&s, StatusPurpose::Suspension, sus, ok),
        ];
        let r = verify_certificate_credential(&c, &ring, &lists, now());
        assert_eq!(failing(&r), ["status"], "{r:#?}");
        assert!(outcome(&r, "status").contains(want), "{r:#?}");
    }
    // An old list, replayed after its validUntil, does not count, even though it says "not
    // revoked".
    let stale = [
        list(&s, StatusPurpose::Revocation, false, "2026-11-30T12:00:00Z"),
        list(&s, StatusPurpose::Suspension, false, ok),
    ];
    let r = verify_certificate_credential(&c, &ring, &stale, now());
    assert_eq!(failing(&r), ["status"], "{r:#?}");
    assert!(outcome(&r, "status").contains("expired"), "{r:#?}");
    // Without lists, status is reported as not checked, not as passed.
    let r = verify_certificate_credential(&c, &ring, &[], now());
    assert!(outcome(&r, "status").starts_with("skipped"), "{r:#?}");
}

#[test]
fn a_key_retired_or_revoked_before_signing_fails_the_key_check() {
    let s = setup();
    let c = credential(&s, "2026-12-01T00:00:00Z");
    // Retired before the signature: the signature is fine, the key did not count then.
    let (_, retired) = KeyChange::retire(&s.record, micros("2025-01-01T00:00:00Z")).unwrap();
    let r = verify_certificate_credential(&c, &keyring(&s, vec![retired.clone()]), &[], now());
    assert_eq!(failing(&r), ["key"], "{r:#?}");
    assert!(outcome(&r, "key").contains("retired"), "{r:#?}");
    // Retired before the certificate's issue date: a signature dated before retirement would
    // predate the certificate, which no genuine signature can.
    let backdated = credential(&s, "2024-12-31T00:00:00Z");
    let r = verify_certificate_credential(&backdated, &keyring(&s, vec![retired]), &[], now());
    assert!(
        r.verified(),
        "signed before retirement, after issue: {r:#?}"
    );
    let (_, early) = KeyChange::retire(&s.record, micros("2024-02-01T00:00:00Z")).unwrap();
    let forged = credential(&s, "2024-01-15T00:00:00Z");
    let r = verify_certificate_credential(&forged, &keyring(&s, vec![early]), &[], now());
    assert_eq!(failing(&r), ["key"], "{r:#?}");
    assert!(
        outcome(&r, "key").contains("before the certificate's issue date"),
        "{r:#?}"
    );
    // Rotation keeps earlier credentials valid.
    let (_, rotated_out) = KeyChange::retire(&s.record, micros("2026-12-01T06:00:00Z")).unwrap();
    let r = verify_certificate_credential(&c, &keyring(&s, vec![rotated_out]), &[], now());
    assert!(r.verified(), "{r:#?}");
    // Revoked from a day before the signature.
    let (_, revoked) =
        KeyChange::revoke(&s.record, micros("2026-11-01T00:00:00Z"), "key file leaked").unwrap();
    let r = verify_certificate_credential(&c, &keyring(&s, vec![revoked]), &[], now());
    assert_eq!(failing(&r), ["key"], "{r:#?}");
    assert!(outcome(&r, "key").contains("leaked"), "{r:#?}");
}

#[test]
fn the_keys_file_must_be_the_registrys_and_unchanged() {
    let s = setup();
    let signed = Keyring {
        host: HOST.into(),
        issued: "2026-12-01T00:00:00Z".into(),
        issuers: vec![s.issuer.clone()],
        keys: vec![s.record.clone()],
    }
    .sign(&s.registry, "2026-12-01T00:00:00Z")
    .unwrap();
    let other = did_key(&SigningKey::from_bytes(&[1; 32]).verifying_key());
    let e = Keyring::open(&signed, Some(&other)).unwrap_err();
    assert!(
        e.to_string().contains("not by the trusted registry key"),
        "{e}"
    );
    let mut changed = signed.clone();
    changed["keys"][0]["retired_micros"] = 1.into();
    assert!(Keyring::open(&changed, None).is_err());
}

#[test]
fn an_issuer_without_the_right_on_the_issue_date_fails_the_issuer_check() {
    let mut s = setup();
    s.issuer.grants = vec![Grant::kind("mem.electrical.low-voltage", day("2025-01-01"))];
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let r = verify_certificate_credential(&c, &keyring(&s, vec![s.record.clone()]), &[], now());
    assert_eq!(failing(&r), ["issuer"], "{r:#?}");
    let _ = did_host;
}
