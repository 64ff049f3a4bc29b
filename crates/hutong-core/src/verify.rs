//! Verifying a registered certificate: which certificates a query's second factor opens, and
//! the checks a verifier sees, each passed, failed or not applicable, with its reason in Chinese
//! and English.
//!
//! The checks, in order:
//!
//! 1. `registered`: the certificate is in the registry (always passed by a certificate found).
//! 2. `issuer`: its issuer is registered, and was allowed to issue this kind (and, for skill level
//!    certificates, this occupation and level) on the issue date ([`Issuer::issue_right`]). An
//!    issuer removed or suspended since does not fail the check: certificates issued before stay
//!    valid unless revoked one by one (POLICY.md §6, unconfirmed, so marked provisional).
//! 3. `state-recognised`: the kind's qualification is in the National Occupational Qualification
//!    Directory, or it is a skill level certificate issued by a registered evaluation institution.
//! 4. `status`: the certificate's lifecycle status on the day asked: passed when `valid` or
//!    `review-due`.
//!
//! A check is `not-applicable` when the policy in force no longer knows the certificate's kind.

use serde::Serialize;

use crate::certificate::Certificate;
use crate::date::Day;
use crate::holder::{HolderKey, names_match};
use crate::ids::Status;
use crate::issuer::{Issuer, IssuerRole, IssuerStatus};
use crate::lifecycle::StatusReport;
use crate::policy::Policy;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
    NotApplicable,
}

impl Outcome {
    pub fn id(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not-applicable",
        }
    }
}

/// The checks, by their stable ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    Registered,
    Issuer,
    StateRecognised,
    Status,
}

impl CheckId {
    pub fn id(self) -> &'static str {
        match self {
            CheckId::Registered => "registered",
            CheckId::Issuer => "issuer",
            CheckId::StateRecognised => "state-recognised",
            CheckId::Status => "status",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CheckId::Registered => "证书登记",
            CheckId::Issuer => "发证机构及其权限",
            CheckId::StateRecognised => "国家认可",
            CheckId::Status => "今日状态",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            CheckId::Registered => "Registered",
            CheckId::Issuer => "Issuer and its rights",
            CheckId::StateRecognised => "State-recognised",
            CheckId::Status => "Status today",
        }
    }
}

/// One check with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub outcome: Outcome,
    pub reason_zh: String,
    pub reason_en: String,
    /// Whether the check rests on a policy fact that is not confirmed by an official text.
    pub provisional: bool,
}

/// Which part of the policy a provisional fact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FactKind {
    Department,
    Kind,
    Lifecycle,
    Qualification,
    Issuer,
}

/// A policy fact an answer rests on that is marked provisional: "confirm with the issuing
/// department".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionalFact {
    pub fact: FactKind,
    pub id: String,
    pub source: String,
}

pub const PROVISIONAL_NOTE_ZH: &str = "标注“待确认”的政策事实尚未见于官方文本，请向发证部门核实。";
pub const PROVISIONAL_NOTE_EN: &str = "Facts marked provisional are not yet confirmed by an official text: confirm with the issuing department.";

/// The verification of one certificate on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The status with its dates; `None` when the policy no longer knows the kind.
    pub status: Option<StatusReport>,
    pub checks: Vec<Check>,
    pub provisional: Vec<ProvisionalFact>,
}

impl Verification {
    /// Whether every applicable check passed.
    pub fn all_passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }
}

/// Whether a query's second factor opens this certificate: the name, when given, matches the
/// registered one ([`names_match`]), and the holder key made from the ID number, when given, is
/// the certificate's. At least one factor must be given.
pub fn second_factor_matches(
    cert: &Certificate,
    name: Option<&str>,
    holder: Option<&HolderKey>,
) -> bool {
    if name.is_none() && holder.is_none() {
        return false;
    }
    name.is_none_or(|n| names_match(&cert.holder_name, n))
        && holder.is_none_or(|k| *k == cert.holder_key)
}

/// Verifies `cert` on `day`. `issuer` is the registered issuer the certificate names, `None`
/// when it is not (or no longer) registered.
pub fn verify(
    policy: &Policy,
    cert: &Certificate,
    issuer: Option<&Issuer>,
    day: Day,
) -> Verification {
    let kind = policy.kind(&cert.kind);
    let mut provisional = Vec::new();
    let mut checks = Vec::with_capacity(4);

    checks.push(Check {
        id: CheckId::Registered,
        outcome: Outcome::Pass,
        reason_zh: format!("证书已登记，颁发日期 {}", cert.issued_on),
        reason_en: format!(
            "the certificate is registered, issued on {}",
            cert.issued_on
        ),
        provisional: false,
    });

    // The issuer and its rights on the issue date.
    checks.push(match issuer {
        None => Check {
            id: CheckId::Issuer,
            outcome: Outcome::Fail,
            reason_zh: format!("发证机构“{}”不在登记名录中", cert.issuer),
            reason_en: format!("the issuer \"{}\" is not in the register", cert.issuer),
            provisional: false,
        },
        Some(iss) => match iss.issue_right(
            &cert.kind,
            cert.occupation.as_deref(),
            cert.level,
            cert.issued_on,
        ) {
            Err(refusal) => Check {
                id: CheckId::Issuer,
                outcome: Outcome::Fail,
                reason_zh: refusal.describe_zh(),
                reason_en: refusal.to_string(),
                provisional: false,
            },
            Ok(()) if iss.status == IssuerStatus::Registered => Check {
                id: CheckId::Issuer,
                outcome: Outcome::Pass,
                reason_zh: format!(
                    "{}已登记，颁发日有权颁发此类证书{}",
                    iss.name_zh,
                    scope_zh(cert)
                ),
                reason_en: format!(
                    "{} is registered and was entitled to issue this kind{} on the issue date",
                    iss.name_en.as_deref().unwrap_or(&iss.name_zh),
                    scope_en(cert)
                ),
                provisional: false,
            },
            Ok(()) => {
                provisional.push(ProvisionalFact {
                    fact: FactKind::Issuer,
                    id: iss.id.clone(),
                    source: "POLICY.md §6: what happens to certificates when an institution is removed is not stated; they stay valid unless revoked one by one".into(),
                });
                let since = iss.status_since.map(|d| d.to_string()).unwrap_or_default();
                Check {
                    id: CheckId::Issuer,
                    outcome: Outcome::Pass,
                    reason_zh: format!(
                        "{}在颁发日有权颁发此类证书{}；该机构自 {since} 起{}，此前颁发的证书除被单独撤销外仍然有效",
                        iss.name_zh,
                        scope_zh(cert),
                        iss.status.name_zh()
                    ),
                    reason_en: format!(
                        "{} was entitled to issue this kind{} on the issue date; it is {} since {since}, and certificates issued before stay valid unless revoked one by one",
                        iss.name_en.as_deref().unwrap_or(&iss.name_zh),
                        scope_en(cert),
                        iss.status.name_en()
                    ),
                    provisional: true,
                }
            }
        },
    });

    let Some(kind) = kind else {
        let na = |id| Check {
            id,
            outcome: Outcome::NotApplicable,
            reason_zh: format!("现行政策中没有 {} 类证书，无法判断", cert.kind),
            reason_en: format!(
                "the policy in force has no kind {}, so this cannot be judged",
                cert.kind
            ),
            provisional: false,
        };
        checks.push(na(CheckId::StateRecognised));
        checks.push(na(CheckId::Status));
        return Verification {
            status: None,
            checks,
            provisional,
        };
    };

    if let Some(d) = policy.department(&kind.department)
        && d.provisional
    {
        provisional.push(ProvisionalFact {
            fact: FactKind::Department,
            id: d.id.clone(),
            source: d.source.clone(),
        });
    }
    if kind.provisional {
        provisional.push(ProvisionalFact {
            fact: FactKind::Kind,
            id: kind.id.clone(),
            source: kind.source.clone(),
        });
    }

    // State recognition.
    checks.push(if kind.skill_level {
        match issuer {
            Some(iss)
                if iss.role == IssuerRole::Institution && iss.was_active_on(cert.issued_on) =>
            {
                Check {
                    id: CheckId::StateRecognised,
                    outcome: Outcome::Pass,
                    reason_zh: format!("职业技能等级证书，由备案的评价机构{}颁发", iss.name_zh),
                    reason_en: format!(
                        "a skill level certificate issued by the registered evaluation institution {}",
                        iss.name_en.as_deref().unwrap_or(&iss.name_zh)
                    ),
                    provisional: false,
                }
            }
            _ => Check {
                id: CheckId::StateRecognised,
                outcome: Outcome::Fail,
                reason_zh: "职业技能等级证书，但颁发时发证者不是备案的评价机构".into(),
                reason_en: "a skill level certificate not issued by a registered evaluation institution".into(),
                provisional: false,
            },
        }
    } else {
        match policy.directory_entry(kind) {
            Some(q) => {
                if q.provisional {
                    provisional.push(ProvisionalFact {
                        fact: FactKind::Qualification,
                        id: q.id.clone(),
                        source: q.source.clone(),
                    });
                }
                Check {
                    id: CheckId::StateRecognised,
                    outcome: Outcome::Pass,
                    reason_zh: format!("列入《国家职业资格目录》：{}", q.name_zh),
                    reason_en: format!(
                        "listed in the National Occupational Qualification Directory: {}",
                        q.name_en.as_deref().unwrap_or(&q.name_zh)
                    ),
                    provisional: q.provisional,
                }
            }
            None => Check {
                id: CheckId::StateRecognised,
                outcome: Outcome::Fail,
                reason_zh: "未列入《国家职业资格目录》".into(),
                reason_en: "not listed in the National Occupational Qualification Directory"
                    .into(),
                provisional: false,
            },
        }
    });

    // Status on the day.
    let lifecycle = policy.lifecycle_of(kind);
    if lifecycle.provisional {
        provisional.push(ProvisionalFact {
            fact: FactKind::Lifecycle,
            id: lifecycle.id.clone(),
            source: lifecycle.source.clone(),
        });
    }
    let report = lifecycle.status_on(&cert.dates(), day);
    let (reason_zh, reason_en) = describe_status(&report, day);
    checks.push(Check {
        id: CheckId::Status,
        outcome: if report.status.is_in_force() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        reason_zh,
        reason_en,
        // Suspension and revocation are the issuer's decisions; only the calendar's verdicts
        // rest on the lifecycle's periods.
        provisional: lifecycle.provisional
            && !matches!(report.status, Status::Suspended | Status::Revoked),
    });

    Verification {
        status: Some(report),
        checks,
        provisional,
    }
}

fn scope_zh(cert: &Certificate) -> String {
    match (&cert.occupation, cert.level) {
        (Some(o), Some(l)) => format!("（职业 {o}，{}）", l.name_zh()),
        _ => String::new(),
    }
}

fn scope_en(cert: &Certificate) -> String {
    match (&cert.occupation, cert.level) {
        (Some(o), Some(l)) => format!(" (occupation {o}, level {})", l.id()),
        _ => String::new(),
    }
}

/// The status with the dates that explain it, in Chinese and English.
pub fn describe_status(r: &StatusReport, day: Day) -> (String, String) {
    let opt = |d: Option<Day>| d.map(|d| d.to_string()).unwrap_or_default();
    match r.status {
        Status::Valid => match r.valid_until {
            None => (
                format!("{day} 有效；此类证书长期有效"),
                format!("valid on {day}; certificates of this kind do not expire"),
            ),
            Some(until) => match r.review_due_on {
                Some(due) => (
                    format!("{day} 有效，有效期至 {until}；下次复审 {due}"),
                    format!("valid on {day}, until {until}; next review due {due}"),
                ),
                None => (
                    format!("{day} 有效，有效期至 {until}"),
                    format!("valid on {day}, until {until}"),
                ),
            },
        },
        Status::ReviewDue => {
            let due = r.review_due_on.or(r.valid_until);
            (
                format!(
                    "{day} 有效；持证人应自 {} 起、于 {} 前申请复审或延期",
                    opt(r.review_due_from),
                    opt(due)
                ),
                format!(
                    "valid on {day}; the holder should apply for review or renewal from {}, by {}",
                    opt(r.review_due_from),
                    opt(due)
                ),
            )
        }
        Status::Expired => (
            format!("自 {} 起失效（未按期复审或已过有效期）", opt(r.expired_on)),
            format!(
                "expired on {} (a review was missed or the validity ended)",
                opt(r.expired_on)
            ),
        ),
        Status::Suspended => (
            format!("自 {} 起被发证机构暂停", opt(r.suspended_on)),
            format!("suspended by the issuer since {}", opt(r.suspended_on)),
        ),
        Status::Revoked => (
            format!("已于 {} 被撤销", opt(r.revoked_on)),
            format!("revoked on {}", opt(r.revoked_on)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::AdminState;
    use crate::holder::HolderSecret;
    use crate::idcard::ResidentId;
    use crate::ids::Level;
    use crate::issuer::ScopeEntry;

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

    fn id() -> ResidentId {
        ResidentId::parse("11010519491231002X").unwrap()
    }

    fn mem_cert() -> Certificate {
        let secret = HolderSecret::from_bytes([3; 32]);
        Certificate {
            number: "T11010519491231002X".into(),
            kind: "mem.electrical.low-voltage".into(),
            holder_key: secret.key_for(&id()),
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

    fn outcomes(v: &Verification) -> Vec<(&'static str, &'static str)> {
        v.checks
            .iter()
            .map(|c| (c.id.id(), c.outcome.id()))
            .collect()
    }

    #[test]
    fn a_good_certificate_passes_every_check_and_marks_provisional_facts() {
        let v = verify(&policy(), &mem_cert(), Some(&authority()), d("2025-01-10"));
        assert_eq!(
            outcomes(&v),
            [
                ("registered", "pass"),
                ("issuer", "pass"),
                ("state-recognised", "pass"),
                ("status", "pass")
            ]
        );
        assert_eq!(v.status.unwrap().status, Status::Valid);
        assert!(v.all_passed());
        // The mem lifecycle's six-year validity is a secondary fact.
        assert!(
            v.provisional
                .iter()
                .any(|f| f.fact == FactKind::Lifecycle && f.id == "mem-special-operation"),
            "{:?}",
            v.provisional
        );
        let status = &v.checks[3];
        assert!(status.provisional);
        assert!(
            status.reason_en.contains("valid on 2025-01-10"),
            "{status:?}"
        );
        assert!(status.reason_zh.contains("有效"));
    }

    #[test]
    fn statuses_fail_the_status_check_with_their_dates() {
        let p = policy();
        let mut c = mem_cert();
        let v = verify(&p, &c, Some(&authority()), d("2027-02-01"));
        assert_eq!(v.status.unwrap().status, Status::ReviewDue);
        assert_eq!(v.checks[3].outcome, Outcome::Pass);
        assert!(
            v.checks[3].reason_en.contains("from 2026-12-31"),
            "{:?}",
            v.checks[3]
        );
        let v = verify(&p, &c, Some(&authority()), d("2027-03-02"));
        assert_eq!(v.status.unwrap().status, Status::Expired);
        assert_eq!(v.checks[3].outcome, Outcome::Fail);
        assert!(v.checks[3].reason_en.contains("expired on 2027-03-02"));
        c.state = AdminState::Revoked {
            on: d("2025-02-01"),
        };
        let v = verify(&p, &c, Some(&authority()), d("2025-03-01"));
        assert_eq!(v.checks[3].outcome, Outcome::Fail);
        assert!(
            !v.checks[3].provisional,
            "a revocation is no lifecycle guess"
        );
        assert_eq!(v.checks[3].reason_en, "revoked on 2025-02-01");
        c.state = AdminState::Suspended {
            since: d("2025-02-01"),
        };
        let v = verify(&p, &c, Some(&authority()), d("2025-03-01"));
        assert_eq!(v.status.unwrap().status, Status::Suspended);
        assert!(!v.all_passed());
    }

    #[test]
    fn issuer_rights_on_the_issue_date() {
        let p = policy();
        let v = verify(&p, &mem_cert(), None, d("2025-01-10"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert!(v.checks[1].reason_en.contains("not in the register"));

        let mut late = authority();
        late.registered_on = d("2024-06-01");
        let v = verify(&p, &mem_cert(), Some(&late), d("2025-01-10"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert!(
            v.checks[1].reason_zh.contains("未处于登记有效状态"),
            "{:?}",
            v.checks[1]
        );

        let mut wrong_kind = authority();
        wrong_kind.kinds = vec!["mem.welding.brazing".into()];
        let v = verify(&p, &mem_cert(), Some(&wrong_kind), d("2025-01-10"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
    }

    #[test]
    fn skill_level_certificates_are_recognised_through_their_institution() {
        let p = policy();
        let v = verify(&p, &skill_cert(), Some(&institution()), d("2026-11-01"));
        assert_eq!(
            outcomes(&v),
            [
                ("registered", "pass"),
                ("issuer", "pass"),
                ("state-recognised", "pass"),
                ("status", "pass")
            ]
        );
        assert!(v.checks[3].reason_en.contains("do not expire"));

        // Out of scope: level 3 is not in the institution's registration.
        let mut c = skill_cert();
        c.level = Some(Level::L3);
        let v = verify(&p, &c, Some(&institution()), d("2026-11-01"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert!(v.checks[1].reason_en.contains("at level 3"));

        // Removed later: still recognised, with the provisional mark of POLICY.md §6.
        let mut removed = institution();
        removed.status = IssuerStatus::Removed;
        removed.status_since = Some(d("2025-06-30"));
        let v = verify(&p, &skill_cert(), Some(&removed), d("2026-11-01"));
        assert_eq!(v.checks[1].outcome, Outcome::Pass);
        assert!(v.checks[1].provisional);
        assert!(
            v.checks[1]
                .reason_en
                .contains("removed from the register since 2025-06-30")
        );
        assert_eq!(v.checks[2].outcome, Outcome::Pass);
        assert!(v.provisional.iter().any(|f| f.fact == FactKind::Issuer));

        // No registered institution: not state-recognised.
        let v = verify(&p, &skill_cert(), None, d("2026-11-01"));
        assert_eq!(v.checks[2].outcome, Outcome::Fail);
    }

    #[test]
    fn a_kind_the_policy_no_longer_knows_is_not_applicable() {
        let mut c = mem_cert();
        c.kind = "mem.electrical.ultra-voltage".into();
        let v = verify(&policy(), &c, Some(&authority()), d("2025-01-10"));
        assert_eq!(v.status, None);
        assert_eq!(v.checks[2].outcome, Outcome::NotApplicable);
        assert_eq!(v.checks[3].outcome, Outcome::NotApplicable);
    }

    #[test]
    fn the_second_factor() {
        let c = mem_cert();
        let secret = HolderSecret::from_bytes([3; 32]);
        let key = secret.key_for(&id());
        let other = secret.key_for(&ResidentId::synthesize(440305, d("1980-01-01"), 5));
        assert!(second_factor_matches(&c, Some(" 张小明 "), None));
        assert!(second_factor_matches(&c, None, Some(&key)));
        assert!(second_factor_matches(&c, Some("张小明"), Some(&key)));
        assert!(!second_factor_matches(&c, Some("张小"), Some(&key)));
        assert!(!second_factor_matches(&c, Some("张小明"), Some(&other)));
        assert!(!second_factor_matches(&c, None, None));
    }
}
