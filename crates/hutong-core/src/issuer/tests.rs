use super::*;
use crate::certificate::{AdminState, Certificate};
use crate::holder::HolderSecret;
use crate::idcard::ResidentId;
use crate::policy::Policy;
use crate::verify::{self, Outcome, Why};

fn d(s: &str) -> Day {
    s.parse().unwrap()
}

fn policy() -> &'static Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        Policy::load_dir(&dir).unwrap()
    })
}

const SKILL: &str = "mohrss.skill-level";
const WELDER: &str = "6-18-02-04";
const ELECTRICIAN: &str = "6-31-01-03";

fn inst() -> Issuer {
    Issuer {
        id: "inst.s0000-44-000001".into(),
        name_zh: "广东某职业技能等级认定中心".into(),
        name_en: None,
        department: "mohrss".into(),
        role: IssuerRole::Institution,
        region: Some("44".into()),
        grants: vec![Grant::scope(
            SKILL,
            WELDER,
            &[Level::L5, Level::L4],
            d("2021-01-01"),
        )],
        institution_type: Some("S".into()),
        institution_code: Some("0000".into()),
        registered_on: d("2021-01-01"),
        suspensions: vec![],
        removed_on: None,
        contact: None,
        credit_code: None,
    }
}

fn authority() -> Issuer {
    Issuer {
        id: "mem.44".into(),
        name_zh: "广东省应急管理厅".into(),
        name_en: None,
        department: "mem".into(),
        role: IssuerRole::Authority,
        region: Some("44".into()),
        grants: vec![Grant::kind("mem.electrical.low-voltage", d("2019-01-01"))],
        institution_type: None,
        institution_code: None,
        registered_on: d("2019-01-01"),
        suspensions: vec![],
        removed_on: None,
        contact: None,
        credit_code: None,
    }
}

fn skill_cert(issuer: &Issuer, occupation: &str, level: Level, issued: &str) -> Certificate {
    let secret = HolderSecret::from_bytes([3; 32]);
    Certificate {
        number: "S000044000001244000042".into(),
        kind: SKILL.into(),
        holder_key: secret.key_for(&ResidentId::parse("11010519491231002X").unwrap()),
        holder_name: "张小明".into(),
        occupation: Some(occupation.into()),
        level: Some(level),
        issuer: issuer.id.clone(),
        issued_on: d(issued),
        first_issued_on: d(issued),
        valid_until: None,
        last_review_on: None,
        state: AdminState::Active,
    }
}

/// The `issuer` check of a skill level certificate of `issuer`, verified on 2026-11-01.
fn issuer_check(issuer: &Issuer, occupation: &str, level: Level, issued: &str) -> verify::Check {
    let c = skill_cert(issuer, occupation, level, issued);
    let v = verify::verify(policy(), &c, Some(issuer), d("2026-11-01"));
    v.checks
        .into_iter()
        .find(|c| c.id == verify::CheckId::Issuer)
        .unwrap()
}

fn apply(i: &Issuer, change: IssuerChange) -> Issuer {
    change
        .apply(Some(i))
        .unwrap_or_else(|e| panic!("{change:?}: {e}"))
}

fn refused(i: Option<&Issuer>, change: IssuerChange) -> IssuerRefusal {
    let r = change.apply(i).unwrap_err();
    assert!(!r.to_string().is_empty() && !r.describe_zh().is_empty());
    r
}

#[test]
fn scope_and_registration_dates_limit_issuing() {
    let mut i = inst();
    i.removed_on = Some(d("2025-01-01"));
    let day = d("2024-06-01");
    assert!(
        i.may_issue(SKILL, Some(WELDER), Some(Level::L4), day)
            .is_ok()
    );
    let err = i
        .may_issue(SKILL, Some(WELDER), Some(Level::L3), day)
        .unwrap_err();
    assert!(err.contains("at level 3"), "{err}");
    assert!(
        i.may_issue("mem.electrical.low-voltage", None, None, day)
            .is_err()
    );
    assert!(matches!(
        i.issue_right(SKILL, Some(WELDER), Some(Level::L4), d("2020-12-31")),
        Err(IssueRefusal::NotInGoodStanding {
            status: IssuerStatus::Registered,
            ..
        })
    ));
    assert!(matches!(
        i.issue_right(SKILL, Some(WELDER), Some(Level::L4), d("2025-01-01")),
        Err(IssueRefusal::NotInGoodStanding {
            status: IssuerStatus::Removed,
            ..
        })
    ));
    assert_eq!(
        i.issue_right(SKILL, None, Some(Level::L4), day),
        Err(IssueRefusal::NoOccupationOrLevel)
    );
    assert_eq!(
        i.status_on(d("2025-01-01")),
        (IssuerStatus::Removed, Some(d("2025-01-01")))
    );
    assert_eq!(
        i.status_on(d("2024-12-31")),
        (IssuerStatus::Registered, None)
    );
}

/// The issue's case (a) and (b): a grant for an occupation ends on a date; the institution can
/// no longer issue it after that date, and what it issued before still passes `issuer`.
#[test]
fn a_grant_that_ended_refuses_later_certificates_and_keeps_earlier_ones() {
    let mut i = inst();
    i.grants.push(Grant::scope(
        SKILL,
        ELECTRICIAN,
        &[Level::L5, Level::L4, Level::L3],
        d("2021-01-01"),
    ));
    let i = apply(
        &i,
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(ELECTRICIAN.into()),
            levels: vec![],
            last_day: d("2024-06-30"),
        },
    );
    // The last day is still in force; the day after is not.
    assert!(
        i.issue_right(SKILL, Some(ELECTRICIAN), Some(Level::L4), d("2024-06-30"))
            .is_ok()
    );
    let refusal = i
        .issue_right(SKILL, Some(ELECTRICIAN), Some(Level::L4), d("2024-07-01"))
        .unwrap_err();
    assert_eq!(
        refusal,
        IssueRefusal::GrantEnded {
            issuer: i.id.clone(),
            kind: SKILL.into(),
            occupation: Some(ELECTRICIAN.into()),
            level: Some(Level::L4),
            ended: d("2024-06-30"),
            day: d("2024-07-01"),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "issuer \"inst.s0000-44-000001\"'s right to issue mohrss.skill-level for occupation 6-31-01-03 at level 4 ended on 2024-06-30, before 2024-07-01"
    );
    assert!(refusal.describe_zh().contains("已于 2024-06-30 终止"));
    // The other occupation is untouched.
    assert!(
        i.issue_right(SKILL, Some(WELDER), Some(Level::L4), d("2026-01-01"))
            .is_ok()
    );
    assert_eq!(i.kinds_on(d("2026-01-01")), [SKILL]);
    assert_eq!(i.grants_on(d("2026-01-01")).len(), 1);
    assert_eq!(i.grants_on(d("2024-06-30")).len(), 2);

    // Through verification: before the end passes, after it fails, naming the grant.
    let before = issuer_check(&i, ELECTRICIAN, Level::L4, "2023-05-10");
    assert_eq!(before.outcome, Outcome::Pass, "{before:?}");
    assert_eq!(before.why.code(), "granted");
    let after = issuer_check(&i, ELECTRICIAN, Level::L4, "2024-07-01");
    assert_eq!(after.outcome, Outcome::Fail);
    assert_eq!(
        after.why,
        Why::GrantEnded {
            grant: verify::Grant {
                kind: SKILL.into(),
                occupation: Some(ELECTRICIAN.into()),
                level: Some(Level::L4),
            },
            ended: d("2024-06-30"),
        }
    );
    assert_eq!(
        serde_json::to_value(&after.why).unwrap(),
        serde_json::json!({"code": "grant-ended", "ended": "2024-06-30", "grant": {
            "kind": SKILL, "occupation": ELECTRICIAN, "level": "4"}})
    );
    assert!(after.reason_en.contains("ended on 2024-06-30"), "{after:?}");
}

/// Narrowing a scope today does not turn earlier lawful certificates into failures.
#[test]
fn withdrawing_some_levels_splits_the_grant_and_keeps_the_rest() {
    let i = inst();
    let after = apply(
        &i,
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(WELDER.into()),
            levels: vec![Level::L4],
            last_day: d("2025-03-31"),
        },
    );
    assert_eq!(
        after.grants,
        [
            Grant {
                valid_until: Some(d("2025-03-31")),
                ..Grant::scope(SKILL, WELDER, &[Level::L4], d("2021-01-01"))
            },
            Grant::scope(SKILL, WELDER, &[Level::L5], d("2021-01-01")),
        ]
    );
    let ok = |lv, day: &str| {
        after
            .issue_right(SKILL, Some(WELDER), Some(lv), d(day))
            .is_ok()
    };
    assert!(ok(Level::L4, "2025-03-31") && !ok(Level::L4, "2025-04-01"));
    assert!(ok(Level::L5, "2021-01-01") && ok(Level::L5, "2030-01-01"));
    assert_eq!(
        issuer_check(&after, WELDER, Level::L4, "2024-01-01").outcome,
        Outcome::Pass
    );
    // Withdrawing the rest closes the other part too; nothing is deleted.
    let none = apply(
        &after,
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(WELDER.into()),
            levels: vec![],
            last_day: d("2026-01-31"),
        },
    );
    assert_eq!(none.grants.len(), 2);
    assert_eq!(
        none.grants[0], after.grants[0],
        "a closed grant stays as it was"
    );
    assert_eq!(none.grants[1].valid_until, Some(d("2026-01-31")));
    assert!(none.kinds_on(d("2026-02-01")).is_empty());
    assert_eq!(none.kinds_ever(), [SKILL]);
    assert!(matches!(
        none.issue_right(SKILL, Some(WELDER), Some(Level::L5), d("2026-02-01")),
        Err(IssueRefusal::GrantEnded { ended, .. }) if ended == d("2026-01-31")
    ));
    // A level never granted is out of scope, not "ended".
    assert!(matches!(
        none.issue_right(SKILL, Some(WELDER), Some(Level::L3), d("2022-02-01")),
        Err(IssueRefusal::OutOfScope { .. })
    ));
}

/// The issue's case (c): a suspension stays in the history after reinstatement; certificates
/// issued during it fail, those before and after pass.
#[test]
fn a_suspension_is_kept_after_reinstatement_and_judges_by_the_issue_date() {
    let i = apply(
        &inst(),
        IssuerChange::Suspended {
            from: d("2023-03-01"),
            reason: Some("质量督导发现问题".into()),
        },
    );
    assert_eq!(
        i.status_on(d("2023-04-01")),
        (IssuerStatus::Suspended, Some(d("2023-03-01")))
    );
    let i = apply(
        &i,
        IssuerChange::Reinstated {
            on: d("2023-09-01"),
        },
    );
    assert_eq!(
        i.suspensions,
        [Suspension {
            from: d("2023-03-01"),
            until: Some(d("2023-09-01")),
            reason: Some("质量督导发现问题".into()),
        }]
    );
    assert_eq!(
        i.status_on(d("2026-01-01")),
        (IssuerStatus::Registered, None)
    );
    assert!(i.was_active_on(d("2023-02-28")));
    assert!(!i.was_active_on(d("2023-03-01")));
    assert!(!i.was_active_on(d("2023-08-31")));
    assert!(i.was_active_on(d("2023-09-01")));

    // The stored record keeps the period.
    let json = serde_json::to_string(&i).unwrap();
    assert!(
        json.contains(r#""suspensions":[{"from":"2023-03-01","until":"2023-09-01","reason":"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Issuer>(&json).unwrap(), i);

    let during = issuer_check(&i, WELDER, Level::L4, "2023-05-10");
    assert_eq!(during.outcome, Outcome::Fail);
    assert_eq!(
        during.why,
        Why::IssuerSuspended {
            on: d("2023-05-10"),
            from: d("2023-03-01"),
            until: Some(d("2023-09-01")),
        }
    );
    assert_eq!(
        serde_json::to_value(&during.why).unwrap(),
        serde_json::json!({"code": "issuer-suspended", "on": "2023-05-10",
            "from": "2023-03-01", "until": "2023-09-01"})
    );
    assert!(
        during
            .reason_en
            .contains("suspended from 2023-03-01, reinstated on 2023-09-01"),
        "{during:?}"
    );
    assert!(during.reason_zh.contains("暂停期"), "{during:?}");
    for issued in ["2023-02-28", "2023-09-01", "2025-01-01"] {
        let c = issuer_check(&i, WELDER, Level::L4, issued);
        assert_eq!(
            (c.outcome, c.why.code()),
            (Outcome::Pass, "granted"),
            "{issued}"
        );
    }
    // The state-recognised check agrees: the institution was not in good standing then.
    let v = verify::verify(
        policy(),
        &skill_cert(&i, WELDER, Level::L4, "2023-05-10"),
        Some(&i),
        d("2026-11-01"),
    );
    assert_eq!(v.checks[2].why, Why::NotRegisteredInstitution);
}

/// Suspended today, the issuer's earlier certificates pass with the provisional mark, naming
/// the suspension's start.
#[test]
fn a_suspension_in_force_today_marks_earlier_certificates_provisional() {
    let i = apply(
        &inst(),
        IssuerChange::Suspended {
            from: d("2026-03-01"),
            reason: None,
        },
    );
    let c = issuer_check(&i, WELDER, Level::L4, "2025-05-10");
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(c.provisional);
    assert_eq!(
        c.why,
        Why::GrantedBeforeDeregistration {
            grant: verify::Grant {
                kind: SKILL.into(),
                occupation: Some(WELDER.into()),
                level: Some(Level::L4),
            },
            registration: IssuerStatus::Suspended,
            since: Some(d("2026-03-01")),
        }
    );
}

#[test]
fn a_grant_not_yet_in_force_says_when_it_starts() {
    let mut a = authority();
    a.grants
        .push(Grant::kind("mem.welding.fusion-cutting", d("2024-01-01")));
    let r = a
        .issue_right("mem.welding.fusion-cutting", None, None, d("2023-12-31"))
        .unwrap_err();
    assert_eq!(
        r,
        IssueRefusal::GrantNotYetInForce {
            issuer: "mem.44".into(),
            kind: "mem.welding.fusion-cutting".into(),
            occupation: None,
            level: None,
            from: d("2024-01-01"),
            day: d("2023-12-31"),
        }
    );
    assert_eq!(
        r.to_string(),
        "issuer \"mem.44\"'s right to issue mem.welding.fusion-cutting starts on 2024-01-01, after 2023-12-31"
    );
    assert!(r.describe_zh().contains("自 2024-01-01 起生效"));
    assert!(
        a.issue_right("mem.welding.fusion-cutting", None, None, d("2024-01-01"))
            .is_ok()
    );
    assert_eq!(a.kinds_on(d("2023-12-31")), ["mem.electrical.low-voltage"]);
    assert_eq!(
        a.kinds_ever(),
        ["mem.electrical.low-voltage", "mem.welding.fusion-cutting"]
    );
    let mut c = skill_cert(&a, "", Level::L4, "2023-12-31");
    c.kind = "mem.welding.fusion-cutting".into();
    (c.occupation, c.level) = (None, None);
    let v = verify::verify(policy(), &c, Some(&a), d("2025-01-01"));
    assert_eq!(v.checks[1].why.code(), "grant-not-yet-in-force");
    assert_eq!(
        serde_json::to_value(&v.checks[1].why).unwrap(),
        serde_json::json!({"code": "grant-not-yet-in-force", "from": "2024-01-01",
            "grant": {"kind": "mem.welding.fusion-cutting"}})
    );
}

#[test]
fn issue_refusals_are_told_in_both_languages() {
    let suspended = IssueRefusal::Suspended {
        issuer: "mem.44".into(),
        day: d("2024-02-01"),
        from: d("2024-01-01"),
        until: None,
    };
    assert_eq!(
        suspended.to_string(),
        "issuer \"mem.44\" was suspended on 2024-02-01 (suspended from 2024-01-01, not reinstated)"
    );
    assert_eq!(
        suspended.describe_zh(),
        "发证机构“mem.44”在 2024-02-01 处于暂停期（自 2024-01-01 起暂停，尚未恢复）"
    );
}

// Reading the old and the new form.

const OLD_INSTITUTION: &str = r#"
    id = "inst.s0000-44-000123"
    name_zh = "广东省职业技能服务指导中心"
    department = "mohrss"
    role = "institution"
    region = "44"
    kinds = ["mohrss.skill-level"]
    institution_type = "S"
    institution_code = "0000"
    registered_on = 2020-03-01
    scope = [
      { occupation = "6-31-01-03", levels = ["5", "4", "3"] },
      { occupation = "6-18-02-04", levels = ["5", "4"] },
    ]
"#;

const NEW_INSTITUTION: &str = r#"
    id = "inst.s0000-44-000123"
    name_zh = "广东省职业技能服务指导中心"
    department = "mohrss"
    role = "institution"
    region = "44"
    institution_type = "S"
    institution_code = "0000"
    registered_on = 2020-03-01
    grants = [
      { kind = "mohrss.skill-level", occupation = "6-31-01-03", levels = ["5", "4", "3"], valid_from = 2020-03-01 },
      { kind = "mohrss.skill-level", occupation = "6-18-02-04", levels = ["5", "4"], valid_from = 2020-03-01 },
    ]
"#;

#[test]
fn issuers_read_from_toml() {
    let text = r#"
        id = "mem.44"
        name_zh = "广东省应急管理厅"
        department = "mem"
        role = "authority"
        region = "44"
        kinds = ["mem.electrical.low-voltage", "mem.welding.fusion-cutting"]
        registered_on = 2019-01-01
    "#;
    let i: Issuer = toml::from_str(text).unwrap();
    assert_eq!(i.registered_on.to_string(), "2019-01-01");
    assert_eq!(
        i.status_on(d("2026-01-01")),
        (IssuerStatus::Registered, None)
    );
    assert_eq!(
        i.grants,
        [
            Grant::kind("mem.electrical.low-voltage", d("2019-01-01")),
            Grant::kind("mem.welding.fusion-cutting", d("2019-01-01")),
        ]
    );
    assert!(i.check(policy()).is_empty(), "{:?}", i.check(policy()));
    let bad = text.replace("region", "regoin");
    let e = toml::from_str::<Issuer>(&bad).unwrap_err().to_string();
    assert!(e.contains("regoin"), "{e}");
}

#[test]
fn the_old_toml_form_reads_as_the_same_rights() {
    let old: Issuer = toml::from_str(OLD_INSTITUTION).unwrap();
    let new: Issuer = toml::from_str(NEW_INSTITUTION).unwrap();
    assert_eq!(old, new);
    assert!(old.check(policy()).is_empty(), "{:?}", old.check(policy()));
    let day = d("2022-01-01");
    for (occ, lv, ok) in [
        (ELECTRICIAN, Level::L3, true),
        (ELECTRICIAN, Level::L2, false),
        (WELDER, Level::L4, true),
        (WELDER, Level::L3, false),
    ] {
        assert_eq!(old.issue_right(SKILL, Some(occ), Some(lv), day).is_ok(), ok);
    }

    // Suspended and removed, the old way.
    let suspended: Issuer = toml::from_str(&format!(
        "{OLD_INSTITUTION}\nstatus = \"suspended\"\nstatus_since = 2025-06-01"
    ))
    .unwrap();
    assert_eq!(
        suspended.suspensions,
        [Suspension {
            from: d("2025-06-01"),
            until: None,
            reason: None
        }]
    );
    assert!(suspended.was_active_on(d("2025-05-31")) && !suspended.was_active_on(d("2025-06-01")));
    let removed: Issuer = toml::from_str(&format!(
        "{OLD_INSTITUTION}\nstatus = \"removed\"\nstatus_since = 2025-06-01"
    ))
    .unwrap();
    assert_eq!(removed.removed_on, Some(d("2025-06-01")));
    assert!(removed.suspensions.is_empty());
    // A registered status with a stray date is as it always was: registered.
    let registered: Issuer = toml::from_str(&format!(
        "{OLD_INSTITUTION}\nstatus = \"registered\"\nstatus_since = 2025-06-01"
    ))
    .unwrap();
    assert_eq!(registered, new);
}

#[test]
fn the_old_json_record_reads_as_the_same_rights() {
    // A record as the stores kept it before grants.
    let old = r#"{"id":"inst.s0000-44-000123","name_zh":"广东省职业技能服务指导中心","department":"mohrss","role":"institution","region":"44","kinds":["mohrss.skill-level"],"scope":[{"occupation":"6-31-01-03","levels":["5","4","3"]},{"occupation":"6-18-02-04","levels":["5","4"]}],"institution_type":"S","institution_code":"0000","registered_on":"2020-03-01","status":"suspended","status_since":"2025-06-01"}"#;
    let i: Issuer = serde_json::from_str(old).unwrap();
    let mut expected: Issuer = toml::from_str(NEW_INSTITUTION).unwrap();
    expected.suspensions = vec![Suspension {
        from: d("2025-06-01"),
        until: None,
        reason: None,
    }];
    assert_eq!(i, expected);
    // Written back in the new form only.
    let json = serde_json::to_value(&i).unwrap();
    for old_key in ["kinds", "scope", "status", "status_since"] {
        assert!(json.get(old_key).is_none(), "{old_key} in {json}");
    }
    assert_eq!(json["grants"][1]["occupation"], "6-18-02-04");
    assert_eq!(json["suspensions"][0]["from"], "2025-06-01");
    // A minimal old authority record, with nulls where the old writer left them.
    let old = r#"{"id":"mem.44","name_zh":"广东省应急管理厅","name_en":null,"department":"mem","role":"authority","kinds":["mem.electrical.low-voltage"],"registered_on":"2019-01-01","status":"registered","status_since":null}"#;
    let a: Issuer = serde_json::from_str(old).unwrap();
    assert_eq!(
        a.grants,
        [Grant::kind("mem.electrical.low-voltage", d("2019-01-01"))]
    );
    assert!(a.suspensions.is_empty() && a.removed_on.is_none());
}

/// The example file is valid under the shipped policy.
#[test]
fn the_example_issuers_file_is_valid() {
    #[derive(Deserialize)]
    struct File {
        issuer: Vec<Issuer>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/issuers.toml");
    let file: File = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(file.issuer.len(), 4);
    for i in &file.issuer {
        assert!(
            i.check(policy()).is_empty(),
            "{}: {:?}",
            i.id,
            i.check(policy())
        );
    }
    let inst = &file.issuer[3];
    assert!(
        inst.issue_right(SKILL, Some(WELDER), Some(Level::L3), d("2023-12-31"))
            .is_ok()
    );
    assert!(
        inst.issue_right(SKILL, Some(WELDER), Some(Level::L3), d("2024-01-01"))
            .is_err()
    );
    assert!(!inst.was_active_on(d("2022-05-01")));
}

#[test]
fn a_record_gives_one_form_not_both_and_unknown_keys_are_named() {
    let mixed = format!("{NEW_INSTITUTION}\nkinds = [\"mohrss.skill-level\"]");
    let e = toml::from_str::<Issuer>(&mixed).unwrap_err().to_string();
    assert!(e.contains("give one form, not both"), "{e}");
    let mixed = format!("{NEW_INSTITUTION}\nremoved_on = 2025-01-01\nstatus = \"removed\"");
    let e = toml::from_str::<Issuer>(&mixed).unwrap_err().to_string();
    assert!(e.contains("`suspensions` and `removed_on` replace"), "{e}");
    let undated = format!("{OLD_INSTITUTION}\nstatus = \"suspended\"");
    let e = toml::from_str::<Issuer>(&undated).unwrap_err().to_string();
    assert!(
        e.contains("status_since: a suspended issuer needs the date it took effect"),
        "{e}"
    );
    let none = OLD_INSTITUTION.replace("kinds = [\"mohrss.skill-level\"]", "");
    let e = toml::from_str::<Issuer>(&none).unwrap_err().to_string();
    assert!(e.contains("missing field `grants`"), "{e}");
    let typo = NEW_INSTITUTION.replacen("valid_from", "valid_form", 1);
    let e = toml::from_str::<Issuer>(&typo).unwrap_err().to_string();
    assert!(e.contains("valid_form"), "{e}");
    let typo =
        format!("{NEW_INSTITUTION}\nsuspensions = [{{ from = 2024-01-01, untill = 2024-02-01 }}]");
    let e = toml::from_str::<Issuer>(&typo).unwrap_err().to_string();
    assert!(e.contains("untill"), "{e}");
    let e = serde_json::from_str::<Issuer>(r#"{"id":"x","colour":"red"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn the_new_form_reads_with_history() {
    let text = format!(
        "{NEW_INSTITUTION}
        suspensions = [{{ from = 2023-03-01, until = 2023-09-01, reason = \"督导\" }}]
        removed_on = 2026-01-01"
    );
    let i: Issuer = toml::from_str(&text).unwrap();
    assert_eq!(i.suspensions[0].until, Some(d("2023-09-01")));
    assert_eq!(i.removed_on, Some(d("2026-01-01")));
    assert!(i.check(policy()).is_empty(), "{:?}", i.check(policy()));
    let toml_text = toml::to_string(&i).unwrap();
    assert_eq!(
        toml::from_str::<Issuer>(&toml_text).unwrap(),
        i,
        "{toml_text}"
    );
}

// Checking grants against the policy.

#[test]
fn check_names_each_bad_grant_and_period() {
    let mut i = inst();
    i.grants = vec![
        Grant::scope("mohrss.skill-levels", WELDER, &[Level::L4], d("2021-01-01")),
        Grant::scope(
            "mem.electrical.low-voltage",
            WELDER,
            &[Level::L4],
            d("2021-01-01"),
        ),
        Grant::scope(SKILL, "9-99-99-99", &[Level::L4], d("2021-01-01")),
        Grant::scope(SKILL, WELDER, &[Level::L4, Level::Chief], d("2021-01-01")),
        Grant {
            valid_until: Some(d("2021-12-31")),
            ..Grant::scope(SKILL, ELECTRICIAN, &[Level::L5], d("2022-01-01"))
        },
        Grant::kind(SKILL, d("2021-01-01")),
        Grant::scope(SKILL, WELDER, &[Level::L5, Level::L4], d("2020-01-01")),
    ];
    i.suspensions = vec![
        Suspension {
            from: d("2022-01-01"),
            until: None,
            reason: None,
        },
        Suspension {
            from: d("2023-01-01"),
            until: Some(d("2023-01-01")),
            reason: None,
        },
    ];
    i.removed_on = Some(d("2020-06-01"));
    let problems = i.check(policy());
    let expect = [
        "grants[0]: \"mohrss.skill-levels\" is not a certificate kind of the policy",
        "grants[1]: mem.electrical.low-voltage belongs to mem, not to mohrss",
        "grants[2]: occupation \"9-99-99-99\" is not defined in the policy",
        "grants[3]: occupation 6-18-02-04 has no level chief",
        "grants[4]: issuer \"inst.s0000-44-000001\": the grant of mohrss.skill-level ends on 2021-12-31, before it starts on 2022-01-01",
        "grants[5]: issuer \"inst.s0000-44-000001\": the grant of mohrss.skill-level does not fit an institution",
        "grants[6]: issuer \"inst.s0000-44-000001\" was registered on 2021-01-01: nothing about it can take effect on 2020-01-01",
        "grants[6]: issuer \"inst.s0000-44-000001\" already holds the right to issue mohrss.skill-level for occupation 6-18-02-04 at level 4",
        "suspensions[1]: issuer \"inst.s0000-44-000001\" was suspended from 2023-01-01: a reinstatement must come after that, not on 2023-01-01",
        "suspensions[1]: issuer \"inst.s0000-44-000001\" is already suspended from 2022-01-01",
        "removed_on: issuer \"inst.s0000-44-000001\" was registered on 2021-01-01",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "missing {e:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");

    let mut a = authority();
    a.grants.push(Grant::scope(
        "mem.welding.brazing",
        WELDER,
        &[Level::L4],
        d("2019-01-01"),
    ));
    a.grants.push(Grant::kind(SKILL, d("2019-01-01")));
    let problems = a.check(policy());
    assert!(
        problems.iter().any(|p| p.starts_with("grants[1]: issuer \"mem.44\": the grant of mem.welding.brazing does not fit an authority")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("grants[2]: mohrss.skill-level belongs to mohrss")),
        "{problems:#?}"
    );
    a.grants.clear();
    assert_eq!(
        a.check(policy()),
        ["grants is empty: an issuer is granted at least one kind"]
    );
}

// Every change, and every refusal.

#[test]
fn every_change_applies() {
    // Registered.
    let i = IssuerChange::Registered(inst()).apply(None).unwrap();
    assert_eq!(i, inst());
    // ScopeGranted.
    let g = Grant::scope(SKILL, ELECTRICIAN, &[Level::L3], d("2024-01-01"));
    let i = apply(&i, IssuerChange::ScopeGranted(g.clone()));
    assert_eq!(i.grants.last(), Some(&g));
    // A right withdrawn may be granted again later.
    let i = apply(
        &i,
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(ELECTRICIAN.into()),
            levels: vec![Level::L3],
            last_day: d("2024-12-31"),
        },
    );
    let again = Grant::scope(SKILL, ELECTRICIAN, &[Level::L3], d("2025-06-01"));
    let i = apply(&i, IssuerChange::ScopeGranted(again));
    assert!(
        i.issue_right(SKILL, Some(ELECTRICIAN), Some(Level::L3), d("2025-03-01"))
            .is_err()
    );
    assert!(
        i.issue_right(SKILL, Some(ELECTRICIAN), Some(Level::L3), d("2025-06-01"))
            .is_ok()
    );
    // Suspended and Reinstated, twice: both periods stay, in order.
    let mut i = i;
    for (from, on) in [("2022-01-10", "2022-02-10"), ("2025-01-10", "2025-02-10")] {
        i = apply(
            &i,
            IssuerChange::Suspended {
                from: d(from),
                reason: None,
            },
        );
        i = apply(&i, IssuerChange::Reinstated { on: d(on) });
    }
    assert_eq!(
        i.suspensions.iter().map(|s| s.from).collect::<Vec<_>>(),
        [d("2022-01-10"), d("2025-01-10")]
    );
    // Removed.
    let i = apply(
        &i,
        IssuerChange::Removed {
            on: d("2026-01-01"),
        },
    );
    assert_eq!(i.removed_on, Some(d("2026-01-01")));
    assert_eq!(
        i.status_on(d("2026-01-01")),
        (IssuerStatus::Removed, Some(d("2026-01-01")))
    );
    assert!(i.check(policy()).is_empty(), "{:?}", i.check(policy()));

    // An authority's kind is withdrawn by kind alone.
    let a = apply(
        &authority(),
        IssuerChange::ScopeWithdrawn {
            kind: "mem.electrical.low-voltage".into(),
            occupation: None,
            levels: vec![],
            last_day: d("2024-12-31"),
        },
    );
    assert_eq!(a.grants[0].valid_until, Some(d("2024-12-31")));
    assert!(matches!(
        a.issue_right("mem.electrical.low-voltage", None, None, d("2025-01-01")),
        Err(IssueRefusal::GrantEnded {
            occupation: None,
            level: None,
            ..
        })
    ));
}

#[test]
fn every_refusal_is_given() {
    let i = inst();
    let id = i.id.clone();

    assert_eq!(
        refused(Some(&i), IssuerChange::Registered(inst())),
        IssuerRefusal::AlreadyRegistered { id: id.clone() }
    );
    let r = refused(
        None,
        IssuerChange::Reinstated {
            on: d("2024-01-01"),
        },
    );
    assert_eq!(r, IssuerRefusal::NotRegistered);
    assert_eq!(
        r.to_string(),
        "the issuer is not registered: register it before changing it"
    );

    let removed = apply(
        &i,
        IssuerChange::Removed {
            on: d("2025-01-01"),
        },
    );
    let removed_refusal = IssuerRefusal::Removed {
        issuer: id.clone(),
        on: d("2025-01-01"),
    };
    for change in [
        IssuerChange::ScopeGranted(Grant::scope(
            SKILL,
            ELECTRICIAN,
            &[Level::L5],
            d("2025-02-01"),
        )),
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(WELDER.into()),
            levels: vec![],
            last_day: d("2025-02-01"),
        },
        IssuerChange::Suspended {
            from: d("2025-02-01"),
            reason: None,
        },
        IssuerChange::Reinstated {
            on: d("2025-02-01"),
        },
        IssuerChange::Removed {
            on: d("2025-02-01"),
        },
    ] {
        assert_eq!(refused(Some(&removed), change), removed_refusal);
    }
    assert_eq!(
        removed_refusal.to_string(),
        "issuer \"inst.s0000-44-000001\" was removed from the register on 2025-01-01: its record is closed"
    );

    // Grants that do not fit, for both roles, also when registering.
    let r = refused(
        Some(&i),
        IssuerChange::ScopeGranted(Grant::kind(SKILL, d("2024-01-01"))),
    );
    assert_eq!(
        r,
        IssuerRefusal::GrantDoesNotFit {
            issuer: id.clone(),
            kind: SKILL.into(),
            role: IssuerRole::Institution
        }
    );
    let r = refused(
        Some(&i),
        IssuerChange::ScopeGranted(Grant::scope(SKILL, WELDER, &[], d("2024-01-01"))),
    );
    assert!(matches!(r, IssuerRefusal::GrantDoesNotFit { .. }));
    let r = refused(
        Some(&authority()),
        IssuerChange::ScopeGranted(Grant::scope(
            "mem.welding.brazing",
            WELDER,
            &[Level::L4],
            d("2024-01-01"),
        )),
    );
    assert_eq!(
        r.to_string(),
        "issuer \"mem.44\": the grant of mem.welding.brazing does not fit an authority: its grants name a kind only, no occupation or levels"
    );
    assert!(r.describe_zh().contains("发证机关"));
    let mut bad = inst();
    bad.grants.push(Grant::kind(SKILL, d("2021-01-01")));
    assert!(matches!(
        refused(None, IssuerChange::Registered(bad)),
        IssuerRefusal::GrantDoesNotFit { .. }
    ));

    // Dates.
    let r = refused(
        Some(&i),
        IssuerChange::ScopeGranted(Grant {
            valid_until: Some(d("2023-12-31")),
            ..Grant::scope(SKILL, ELECTRICIAN, &[Level::L5], d("2024-01-01"))
        }),
    );
    assert_eq!(
        r,
        IssuerRefusal::GrantEndsBeforeItStarts {
            issuer: id.clone(),
            kind: SKILL.into(),
            valid_from: d("2024-01-01"),
            valid_until: d("2023-12-31"),
        }
    );
    let before = IssuerRefusal::BeforeRegistration {
        issuer: id.clone(),
        day: d("2020-06-01"),
        registered_on: d("2021-01-01"),
    };
    for change in [
        IssuerChange::ScopeGranted(Grant::scope(
            SKILL,
            ELECTRICIAN,
            &[Level::L5],
            d("2020-06-01"),
        )),
        IssuerChange::Suspended {
            from: d("2020-06-01"),
            reason: None,
        },
        IssuerChange::Removed {
            on: d("2020-06-01"),
        },
    ] {
        assert_eq!(refused(Some(&i), change), before);
    }

    // Overlapping grants.
    let r = refused(
        Some(&i),
        IssuerChange::ScopeGranted(Grant::scope(
            SKILL,
            WELDER,
            &[Level::L3, Level::L4],
            d("2024-01-01"),
        )),
    );
    assert_eq!(
        r,
        IssuerRefusal::GrantOverlaps {
            issuer: id.clone(),
            kind: SKILL.into(),
            occupation: Some(WELDER.into()),
            level: Some(Level::L4),
            existing_from: d("2021-01-01"),
        }
    );
    assert!(r.describe_zh().contains("重叠"));
    let r = refused(
        Some(&authority()),
        IssuerChange::ScopeGranted(Grant::kind("mem.electrical.low-voltage", d("2024-01-01"))),
    );
    assert!(
        matches!(r, IssuerRefusal::GrantOverlaps { level: None, .. }),
        "{r:?}"
    );

    // Nothing to withdraw: no such grant, a level not granted, a grant already ended.
    let withdraw =
        |occupation: &str, levels: Vec<Level>, last_day: &str| IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(occupation.into()),
            levels,
            last_day: d(last_day),
        };
    let r = refused(Some(&i), withdraw(ELECTRICIAN, vec![], "2024-01-01"));
    assert_eq!(
        r,
        IssuerRefusal::NotGranted {
            issuer: id.clone(),
            kind: SKILL.into(),
            occupation: Some(ELECTRICIAN.into()),
            levels: vec![],
            on: d("2024-01-01"),
        }
    );
    let r = refused(
        Some(&i),
        withdraw(WELDER, vec![Level::L4, Level::L3], "2024-01-01"),
    );
    assert_eq!(
        r.to_string(),
        "issuer \"inst.s0000-44-000001\" holds no grant of mohrss.skill-level for occupation 6-18-02-04 at level(s) 3 in force on 2024-01-01 and after: nothing to withdraw"
    );
    assert!(r.describe_zh().contains("高级工"), "{}", r.describe_zh());
    let ended = apply(&i, withdraw(WELDER, vec![], "2024-01-01"));
    assert!(matches!(
        refused(Some(&ended), withdraw(WELDER, vec![], "2024-01-01")),
        IssuerRefusal::NotGranted { .. }
    ));
    assert!(matches!(
        refused(Some(&i), withdraw(WELDER, vec![], "2020-12-31")),
        IssuerRefusal::NotGranted { .. }
    ));

    // Suspending a suspended issuer, or into an earlier period.
    let suspended = apply(
        &i,
        IssuerChange::Suspended {
            from: d("2024-01-01"),
            reason: None,
        },
    );
    let r = refused(
        Some(&suspended),
        IssuerChange::Suspended {
            from: d("2024-03-01"),
            reason: None,
        },
    );
    assert_eq!(
        r,
        IssuerRefusal::AlreadySuspended {
            issuer: id.clone(),
            from: d("2024-01-01"),
            until: None
        }
    );
    assert_eq!(
        r.to_string(),
        "issuer \"inst.s0000-44-000001\" is already suspended from 2024-01-01"
    );
    let reinstated = apply(
        &suspended,
        IssuerChange::Reinstated {
            on: d("2024-06-01"),
        },
    );
    let r = refused(
        Some(&reinstated),
        IssuerChange::Suspended {
            from: d("2024-05-01"),
            reason: None,
        },
    );
    assert_eq!(
        r.to_string(),
        "issuer \"inst.s0000-44-000001\" is already suspended from 2024-01-01 until 2024-06-01"
    );
    // An open suspension from before a closed one would overlap it.
    assert!(matches!(
        refused(
            Some(&reinstated),
            IssuerChange::Suspended {
                from: d("2023-01-01"),
                reason: None
            }
        ),
        IssuerRefusal::AlreadySuspended { .. }
    ));
    // From the day of reinstatement on, a new suspension is fine.
    apply(
        &reinstated,
        IssuerChange::Suspended {
            from: d("2024-06-01"),
            reason: None,
        },
    );

    // Reinstating one not suspended, or before its suspension.
    let r = refused(
        Some(&reinstated),
        IssuerChange::Reinstated {
            on: d("2024-07-01"),
        },
    );
    assert_eq!(
        r,
        IssuerRefusal::NotSuspended {
            issuer: id.clone(),
            on: d("2024-07-01")
        }
    );
    assert!(r.describe_zh().contains("未被暂停"));
    let r = refused(
        Some(&suspended),
        IssuerChange::Reinstated {
            on: d("2024-01-01"),
        },
    );
    assert_eq!(
        r,
        IssuerRefusal::ReinstatedBeforeSuspension {
            issuer: id.clone(),
            from: d("2024-01-01"),
            on: d("2024-01-01"),
        }
    );

    // A registration whose history is inconsistent.
    let mut overlapping = inst();
    overlapping.suspensions = vec![
        Suspension {
            from: d("2022-01-01"),
            until: Some(d("2022-06-01")),
            reason: None,
        },
        Suspension {
            from: d("2022-05-01"),
            until: None,
            reason: None,
        },
    ];
    assert!(matches!(
        refused(None, IssuerChange::Registered(overlapping)),
        IssuerRefusal::AlreadySuspended { .. }
    ));
}

#[test]
fn every_refusal_has_its_own_chinese() {
    let day = d("2024-01-01");
    let all = [
        IssuerRefusal::AlreadyRegistered { id: "x".into() },
        IssuerRefusal::NotRegistered,
        IssuerRefusal::Removed {
            issuer: "x".into(),
            on: day,
        },
        IssuerRefusal::GrantDoesNotFit {
            issuer: "x".into(),
            kind: "k".into(),
            role: IssuerRole::Institution,
        },
        IssuerRefusal::GrantDoesNotFit {
            issuer: "x".into(),
            kind: "k".into(),
            role: IssuerRole::Authority,
        },
        IssuerRefusal::GrantEndsBeforeItStarts {
            issuer: "x".into(),
            kind: "k".into(),
            valid_from: day,
            valid_until: day,
        },
        IssuerRefusal::BeforeRegistration {
            issuer: "x".into(),
            day,
            registered_on: day,
        },
        IssuerRefusal::GrantOverlaps {
            issuer: "x".into(),
            kind: "k".into(),
            occupation: Some("o".into()),
            level: Some(Level::L4),
            existing_from: day,
        },
        IssuerRefusal::NotGranted {
            issuer: "x".into(),
            kind: "k".into(),
            occupation: Some("o".into()),
            levels: vec![Level::L4, Level::L3],
            on: day,
        },
        IssuerRefusal::AlreadySuspended {
            issuer: "x".into(),
            from: day,
            until: Some(day),
        },
        IssuerRefusal::NotSuspended {
            issuer: "x".into(),
            on: day,
        },
        IssuerRefusal::ReinstatedBeforeSuspension {
            issuer: "x".into(),
            from: day,
            on: day,
        },
    ];
    let zh: std::collections::HashSet<String> = all.iter().map(|r| r.describe_zh()).collect();
    let en: std::collections::HashSet<String> = all.iter().map(|r| r.to_string()).collect();
    assert_eq!((zh.len(), en.len()), (all.len(), all.len()));
    assert_eq!(
        all[8].describe_zh(),
        "发证机构“x”在 2024-01-01 及其后没有颁发 k 类证书（职业 o，中级工、高级工）的有效授权，无可撤回"
    );
}

#[test]
fn changes_are_stored_as_tagged_json() {
    let changes = [
        IssuerChange::Registered(inst()),
        IssuerChange::ScopeGranted(Grant::scope(
            SKILL,
            ELECTRICIAN,
            &[Level::L3],
            d("2024-01-01"),
        )),
        IssuerChange::ScopeWithdrawn {
            kind: SKILL.into(),
            occupation: Some(WELDER.into()),
            levels: vec![Level::L4],
            last_day: d("2024-06-30"),
        },
        IssuerChange::ScopeWithdrawn {
            kind: "mem.electrical.low-voltage".into(),
            occupation: None,
            levels: vec![],
            last_day: d("2024-06-30"),
        },
        IssuerChange::Suspended {
            from: d("2024-07-01"),
            reason: Some("督导".into()),
        },
        IssuerChange::Suspended {
            from: d("2024-07-01"),
            reason: None,
        },
        IssuerChange::Reinstated {
            on: d("2024-09-01"),
        },
        IssuerChange::Removed {
            on: d("2025-01-01"),
        },
    ];
    for c in &changes {
        let json = serde_json::to_string(c).unwrap();
        assert_eq!(
            &serde_json::from_str::<IssuerChange>(&json).unwrap(),
            c,
            "{json}"
        );
    }
    assert_eq!(
        serde_json::to_value(&changes[2]).unwrap(),
        serde_json::json!({"change": "scope-withdrawn", "kind": SKILL, "occupation": WELDER,
            "levels": ["4"], "last_day": "2024-06-30"})
    );
    let registered = serde_json::to_value(&changes[0]).unwrap();
    assert_eq!(registered["change"], "registered");
    assert_eq!(registered["id"], "inst.s0000-44-000001");
    assert_eq!(
        serde_json::to_value(&changes[7]).unwrap(),
        serde_json::json!({"change": "removed", "on": "2025-01-01"})
    );
    let e = serde_json::from_str::<IssuerChange>(r#"{"change": "renamed", "on": "2025-01-01"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("renamed"), "{e}");
    let e = serde_json::from_str::<IssuerChange>(r#"{"change": "removed", "on": "2025-02-30"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a real calendar date"), "{e}");
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn day() -> impl Strategy<Value = Day> {
        (0i64..20_000).prop_map(|n| d("1990-01-01") + chrono::Days::new(n as u64))
    }

    fn text() -> impl Strategy<Value = String> {
        "\\PC{0,12}"
    }

    fn level() -> impl Strategy<Value = Level> {
        proptest::sample::select(Level::ALL.to_vec())
    }

    fn grant() -> impl Strategy<Value = Grant> {
        (
            text(),
            proptest::option::of(text()),
            proptest::collection::vec(level(), 0..4),
            day(),
            proptest::option::of(day()),
        )
            .prop_map(
                |(kind, occupation, levels, valid_from, valid_until)| Grant {
                    kind,
                    occupation,
                    levels,
                    valid_from,
                    valid_until,
                },
            )
    }

    fn suspension() -> impl Strategy<Value = Suspension> {
        (
            day(),
            proptest::option::of(day()),
            proptest::option::of(text()),
        )
            .prop_map(|(from, until, reason)| Suspension {
                from,
                until,
                reason,
            })
    }

    fn issuer() -> impl Strategy<Value = Issuer> {
        (
            (text(), text(), proptest::option::of(text()), text()),
            any::<bool>(),
            proptest::option::of(text()),
            proptest::collection::vec(grant(), 0..4),
            (proptest::option::of(text()), proptest::option::of(text())),
            day(),
            proptest::collection::vec(suspension(), 0..3),
            proptest::option::of(day()),
            (
                proptest::option::of(text()),
                proptest::option::of(credit_code()),
            ),
        )
            .prop_map(
                |(
                    (id, name_zh, name_en, department),
                    institution,
                    region,
                    grants,
                    (institution_type, institution_code),
                    registered_on,
                    suspensions,
                    removed_on,
                    (contact, credit_code),
                )| Issuer {
                    id,
                    name_zh,
                    name_en,
                    department,
                    role: if institution {
                        IssuerRole::Institution
                    } else {
                        IssuerRole::Authority
                    },
                    region,
                    grants,
                    institution_type,
                    institution_code,
                    registered_on,
                    suspensions,
                    removed_on,
                    contact,
                    credit_code,
                },
            )
    }

    fn credit_code() -> impl Strategy<Value = UnifiedCreditCode> {
        "[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}"
            .prop_map(|body| UnifiedCreditCode::with_check_char(&body).unwrap())
    }

    proptest! {
        /// Serialising and reading back gives the same issuer, in JSON (the stored record)
        /// and in TOML (the issuers file).
        #[test]
        fn issuers_round_trip(i in issuer()) {
            let json = serde_json::to_string(&i).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Issuer>(&json).unwrap(), &i);
            let toml_text = toml::to_string(&i).unwrap();
            prop_assert_eq!(&toml::from_str::<Issuer>(&toml_text).unwrap(), &i);
            let change = IssuerChange::Registered(i);
            let json = serde_json::to_string(&change).unwrap();
            prop_assert_eq!(serde_json::from_str::<IssuerChange>(&json).unwrap(), change);
        }

        /// Whatever the history, judging a day answers, and the standing agrees with it.
        #[test]
        fn any_history_is_judged_without_panicking(i in issuer(), on in day(), lv in level()) {
            let kind = i.grants.first().map(|g| g.kind.clone()).unwrap_or_default();
            let occ = i.grants.first().and_then(|g| g.occupation.clone());
            let r = i.issue_right(&kind, occ.as_deref(), Some(lv), on);
            if r.is_ok() {
                prop_assert!(i.was_active_on(on));
            }
            if let Err(refusal) = r {
                prop_assert!(!refusal.to_string().is_empty() && !refusal.describe_zh().is_empty());
            }
        }
    }
}

#[test]
fn an_issuer_carries_its_unified_social_credit_code_checked() {
    // The issuing authority of the Jilin certificate whose e-licence identifier is known.
    let text = format!("{NEW_INSTITUTION}credit_code = \"11220000013544541J\"\n");
    let i: Issuer = toml::from_str(&text).unwrap();
    assert_eq!(
        i.credit_code.as_ref().map(|c| c.as_str()),
        Some("11220000013544541J")
    );
    let json = serde_json::to_value(&i).unwrap();
    assert_eq!(json["credit_code"], "11220000013544541J");
    assert_eq!(serde_json::from_value::<Issuer>(json).unwrap(), i);

    // Without one, a file and a stored record still read, and nothing is written for it.
    let old: Issuer = toml::from_str(NEW_INSTITUTION).unwrap();
    assert_eq!(old.credit_code, None);
    let json = serde_json::to_value(&old).unwrap();
    assert!(json.get("credit_code").is_none(), "{json}");
    let stored = r#"{"id":"mem.44","name_zh":"广东省应急管理厅","department":"mem","role":"authority","grants":[{"kind":"mem.electrical.low-voltage","valid_from":"2019-01-01"}],"registered_on":"2019-01-01"}"#;
    assert_eq!(
        serde_json::from_str::<Issuer>(stored).unwrap().credit_code,
        None
    );

    // A wrong code is refused, naming the field, the code and what is wrong, at its line.
    for (bad, why) in [
        (
            "11220000013544541K",
            "check character (GB 32100) is K, but its first 17 characters give J",
        ),
        ("1122000001354454", "has 18 characters, this one has 16"),
        ("11220000013544541j", "character 18"),
    ] {
        let text = format!("{NEW_INSTITUTION}credit_code = \"{bad}\"\n");
        let e = toml::from_str::<Issuer>(&text).unwrap_err();
        let msg = e.message();
        assert!(
            msg.contains(&format!("credit_code \"{bad}\": ")) && msg.contains(why),
            "{msg}"
        );
        let line = text[..e.span().unwrap().start].matches('\n').count() + 1;
        assert_eq!(
            text.lines().nth(line - 1).unwrap(),
            format!("credit_code = \"{bad}\"")
        );
        let json = format!(
            "{},\"credit_code\":\"{bad}\"}}",
            &stored[..stored.len() - 1]
        );
        let e = serde_json::from_str::<Issuer>(&json)
            .unwrap_err()
            .to_string();
        assert!(e.contains("credit_code") && e.contains(why), "{e}");
    }
    let e = toml::from_str::<Issuer>(&format!("{NEW_INSTITUTION}credit_code = 12\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("string"), "{e}");
}
