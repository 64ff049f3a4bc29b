//! Regression tests of issue 8's verification items, named after the defect (`r8_<item>_…`).

use hutong_core::certificate::AdminState;
use hutong_core::date::Day;
use hutong_core::holder::HolderSecret;
use hutong_core::ids::Level;
use hutong_core::issuer::{Issuer, IssuerRole, IssuerStatus, ScopeEntry};
use hutong_core::verify::{Grant, Outcome, Verification, Why, verify};
use hutong_core::{Certificate, Policy, ResidentId};

fn policy() -> Policy {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    Policy::load_dir(&dir).unwrap()
}

fn d(s: &str) -> Day {
    s.parse().unwrap()
}

fn authority() -> Issuer {
    Issuer {
        id: "mem.44".into(),
        name_zh: "广东省应急管理厅".into(),
        name_en: Some("Guangdong Department of Emergency Management".into()),
        department: "mem".into(),
        role: IssuerRole::Authority,
        region: Some("44".into()),
        kinds: vec!["mem.electrical.low-voltage".into()],
        scope: vec![],
        institution_type: None,
        institution_code: None,
        registered_on: d("2010-01-01"),
        status: IssuerStatus::Registered,
        status_since: None,
        contact: None,
    }
}

fn institution() -> Issuer {
    Issuer {
        id: "inst.s0000-44-000123".into(),
        name_zh: "广东某职业技能等级认定中心".into(),
        name_en: None,
        department: "mohrss".into(),
        role: IssuerRole::Institution,
        kinds: vec!["mohrss.skill-level".into()],
        scope: vec![ScopeEntry {
            occupation: "6-18-02-04".into(),
            levels: vec![Level::L5, Level::L4],
        }],
        institution_type: Some("S".into()),
        institution_code: Some("0000".into()),
        ..authority()
    }
}

fn mem_cert() -> Certificate {
    let id = ResidentId::parse("11010519491231002X").unwrap();
    Certificate {
        number: "T11010519491231002X".into(),
        kind: "mem.electrical.low-voltage".into(),
        holder_key: HolderSecret::from_bytes([3; 32]).key_for(&id),
        holder_name: "张小明".into(),
        occupation: None,
        level: None,
        issuer: "mem.44".into(),
        issued_on: d("2024-03-01"),
        first_issued_on: d("2024-03-01"),
        valid_until: Some(d("2030-03-01")),
        last_review_on: None,
        state: AdminState::Active,
    }
}

fn skill_cert() -> Certificate {
    Certificate {
        number: "S000044000123244000042".into(),
        kind: "mohrss.skill-level".into(),
        occupation: Some("6-18-02-04".into()),
        level: Some(Level::L4),
        issuer: "inst.s0000-44-000123".into(),
        issued_on: d("2024-05-01"),
        first_issued_on: d("2024-05-01"),
        valid_until: None,
        ..mem_cert()
    }
}

fn codes(v: &Verification) -> Vec<(&'static str, &'static str, &'static str)> {
    v.checks
        .iter()
        .map(|c| (c.id.id(), c.outcome.id(), c.why.code()))
        .collect()
}

/// Each check names what decided it with a stable code: the issuer's grant, the directory
/// entry, the lifecycle rule; a check the policy cannot judge names the policy's digest.
#[test]
fn r8_17_verification_checks_name_what_decided_them() {
    let p = policy();
    let v = verify(&p, &mem_cert(), Some(&authority()), d("2025-01-10"));
    assert_eq!(
        codes(&v),
        [
            ("registered", "pass", "in-registry"),
            ("issuer", "pass", "granted"),
            ("state-recognised", "pass", "in-directory"),
            ("status", "pass", "valid"),
        ]
    );
    assert_eq!(
        v.checks[1].why,
        Why::Granted {
            grant: Grant {
                kind: "mem.electrical.low-voltage".into(),
                occupation: None,
                level: None
            }
        }
    );
    assert_eq!(
        v.checks[2].why,
        Why::InDirectory {
            entry: "special-operations".into()
        }
    );
    assert_eq!(
        v.checks[3].why,
        Why::Valid {
            lifecycle: "mem-special-operation".into()
        }
    );

    // The codes are what the API serialises, beside the sentences.
    let json = serde_json::to_value(&v.checks[3]).unwrap();
    assert_eq!(
        json["why"],
        serde_json::json!({"code": "valid", "lifecycle": "mem-special-operation"})
    );

    // Statuses on other days, and the issuer's decisions.
    let v = verify(&p, &mem_cert(), Some(&authority()), d("2027-02-01"));
    assert_eq!(v.checks[3].why.code(), "review-due");
    let v = verify(&p, &mem_cert(), Some(&authority()), d("2031-01-01"));
    assert_eq!(
        (v.checks[3].outcome, &v.checks[3].why),
        (
            Outcome::Fail,
            &Why::Expired {
                lifecycle: "mem-special-operation".into()
            }
        )
    );
    let mut c = mem_cert();
    c.state = AdminState::Revoked {
        on: d("2025-02-01"),
    };
    let v = verify(&p, &c, Some(&authority()), d("2025-03-01"));
    assert_eq!(v.checks[3].why, Why::Revoked);
    c.state = AdminState::Suspended {
        since: d("2025-02-01"),
    };
    let v = verify(&p, &c, Some(&authority()), d("2025-03-01"));
    assert_eq!(v.checks[3].why, Why::Suspended);

    // The issuer check's failures.
    let v = verify(&p, &mem_cert(), None, d("2025-01-10"));
    assert_eq!(v.checks[1].why, Why::IssuerNotRegistered);
    let mut late = authority();
    late.registered_on = d("2024-06-01");
    let v = verify(&p, &mem_cert(), Some(&late), d("2025-01-10"));
    assert_eq!(
        v.checks[1].why,
        Why::IssuerNotInGoodStanding {
            on: d("2024-03-01"),
            registered_on: d("2024-06-01"),
            registration: IssuerStatus::Registered
        }
    );
    let mut other = authority();
    other.kinds = vec!["mem.welding.brazing".into()];
    let v = verify(&p, &mem_cert(), Some(&other), d("2025-01-10"));
    assert_eq!(
        v.checks[1].why,
        Why::KindNotGranted {
            kind: "mem.electrical.low-voltage".into()
        }
    );

    // Skill level certificates: the institution's scope entry, and its registration.
    let v = verify(&p, &skill_cert(), Some(&institution()), d("2026-11-01"));
    assert_eq!(
        codes(&v),
        [
            ("registered", "pass", "in-registry"),
            ("issuer", "pass", "granted"),
            ("state-recognised", "pass", "registered-institution"),
            ("status", "pass", "valid"),
        ]
    );
    assert_eq!(
        serde_json::to_value(&v.checks[1].why).unwrap(),
        serde_json::json!({"code": "granted", "grant": {
            "kind": "mohrss.skill-level", "occupation": "6-18-02-04", "level": "4"}})
    );
    assert_eq!(
        v.checks[2].why,
        Why::RegisteredInstitution {
            institution: "inst.s0000-44-000123".into()
        }
    );
    let mut c = skill_cert();
    c.level = Some(Level::L3);
    let v = verify(&p, &c, Some(&institution()), d("2026-11-01"));
    assert_eq!(
        v.checks[1].why,
        Why::OutOfScope {
            occupation: "6-18-02-04".into(),
            level: Level::L3
        }
    );
    let mut removed = institution();
    removed.status = IssuerStatus::Removed;
    removed.status_since = Some(d("2025-06-30"));
    let v = verify(&p, &skill_cert(), Some(&removed), d("2026-11-01"));
    assert_eq!(v.checks[1].why.code(), "granted-before-deregistration");
    assert!(v.checks[1].provisional);
    let v = verify(&p, &skill_cert(), None, d("2026-11-01"));
    assert_eq!(v.checks[2].why, Why::NotRegisteredInstitution);

    // A kind the policy in force does not know: the policy is named by its digest.
    let mut c = mem_cert();
    c.kind = "mem.electrical.ultra-voltage".into();
    let v = verify(&p, &c, Some(&authority()), d("2025-01-10"));
    let na = Why::KindNotInPolicy {
        kind: "mem.electrical.ultra-voltage".into(),
        policy: p.digest.clone(),
    };
    assert_eq!((&v.checks[2].why, &v.checks[3].why), (&na, &na));
}
