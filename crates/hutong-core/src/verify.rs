//! Verifying a registered certificate: which certificates a query's second factor opens, and
//! the checks a verifier sees, each passed, failed or not applicable, with its reason in Chinese
//! and English.
//!
//! The checks, in order:
//!
//! 1. `registered`: the certificate is in the registry (always passed by a certificate found).
//! 2. `issuer`: its issuer is registered, and was allowed to issue this kind (and, for skill level
//!    certificates, this occupation and level) on the issue date, by the grants and suspension
//!    periods in force that day ([`Issuer::issue_right`]). An issuer removed or suspended since,
//!    or whose grant ended since, does not fail the check: certificates issued before stay
//!    valid unless revoked one by one (POLICY.md §6, unconfirmed, so marked provisional when the
//!    issuer is suspended or removed on the day asked).
//! 3. `state-recognised`: the kind's qualification is in the National Occupational Qualification
//!    Directory, or it is a skill level certificate issued by a registered evaluation institution.
//! 4. `status`: the certificate's lifecycle status on the day asked: passed when `valid` or
//!    `review-due`.
//!
//! A check is `not-applicable` when the policy in force no longer knows the certificate's kind.
//!
//! The [`verdict`] sums the checks and the status up in one word, shown before anything else:
//! `verified`, `attention` (a check passed only provisionally, or the status is `review-due`)
//! or `not-verified` (a check failed or could not be made).

use std::borrow::Cow;

use serde::Serialize;

use crate::certificate::Certificate;
use crate::date::Day;
use crate::holder::{HolderKey, names_match};
use crate::idcard::ResidentId;
use crate::ids::Level;
use crate::ids::Status;
use crate::issuer::{IssueRefusal, Issuer, IssuerRole, IssuerStatus};
use crate::lifecycle::StatusReport;
use crate::number::NumberScheme;
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

/// What an issuer was granted that entitled it to issue a certificate: the kind, and for an
/// evaluation institution the occupation and level of its registered scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

/// Why a check came out as it did, with a stable `code` and what decided it: the issuer's
/// grant, the directory entry, the lifecycle rule, or the policy (by digest) that lacks the
/// kind. Codes are stable identifiers (documented in docs/verification.md); the sentences of a
/// [`Check`] say the same for people and may change wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Why {
    // `registered`
    /// The certificate is in the registry.
    InRegistry,

    // `issuer`
    /// The issuer the certificate names is not in the issuer register.
    IssuerNotRegistered,
    /// The issuer is registered, but not for this kind.
    KindNotGranted {
        kind: String,
    },
    /// The issuer was not registered, or not in good standing, on the issue date.
    IssuerNotInGoodStanding {
        on: Day,
        registered_on: Day,
        registration: IssuerStatus,
    },
    /// The issuer was suspended on the issue date, by the period from `from` (to its
    /// reinstatement on `until`, when it has been reinstated).
    IssuerSuspended {
        on: Day,
        from: Day,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<Day>,
    },
    /// The issuer held `grant`, but it ended on `ended` (its last day in force), before the
    /// issue date.
    GrantEnded {
        grant: Grant,
        ended: Day,
    },
    /// The issuer holds `grant` only from `from`, after the issue date.
    GrantNotYetInForce {
        grant: Grant,
        from: Day,
    },
    /// A skill level certificate without an occupation or a level.
    NoOccupationOrLevel,
    /// The institution's registered scope lacks this occupation at this level.
    OutOfScope {
        occupation: String,
        level: Level,
    },
    /// The issuer is registered, and `grant` entitled it on the issue date.
    Granted {
        grant: Grant,
    },
    /// `grant` entitled the issuer on the issue date; it has since been suspended or removed,
    /// and certificates issued before stay valid unless revoked one by one (provisional).
    GrantedBeforeDeregistration {
        grant: Grant,
        registration: IssuerStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<Day>,
    },

    // `state-recognised`
    /// The kind's qualification is this entry of the National Occupational Qualification
    /// Directory.
    InDirectory {
        entry: String,
    },
    /// The kind names no entry of the directory.
    NotInDirectory,
    /// A skill level certificate issued by this registered evaluation institution.
    RegisteredInstitution {
        institution: String,
    },
    /// A skill level certificate whose issuer was not a registered evaluation institution when
    /// it issued it.
    NotRegisteredInstitution,

    // `status`: the status on the day asked, under the kind's lifecycle rule.
    Valid {
        lifecycle: String,
    },
    ReviewDue {
        lifecycle: String,
    },
    Expired {
        lifecycle: String,
    },
    /// Suspended by the issuer: its decision, not the lifecycle's.
    Suspended,
    /// Revoked by the issuer: its decision, not the lifecycle's.
    Revoked,

    // `state-recognised` and `status` when the policy in force does not know the kind
    /// The policy in force, by its digest, has no such kind.
    KindNotInPolicy {
        kind: String,
        policy: String,
    },
}

impl Why {
    /// The stable code, as serialised in `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Why::InRegistry => "in-registry",
            Why::IssuerNotRegistered => "issuer-not-registered",
            Why::KindNotGranted { .. } => "kind-not-granted",
            Why::IssuerNotInGoodStanding { .. } => "issuer-not-in-good-standing",
            Why::IssuerSuspended { .. } => "issuer-suspended",
            Why::GrantEnded { .. } => "grant-ended",
            Why::GrantNotYetInForce { .. } => "grant-not-yet-in-force",
            Why::NoOccupationOrLevel => "no-occupation-or-level",
            Why::OutOfScope { .. } => "out-of-scope",
            Why::Granted { .. } => "granted",
            Why::GrantedBeforeDeregistration { .. } => "granted-before-deregistration",
            Why::InDirectory { .. } => "in-directory",
            Why::NotInDirectory => "not-in-directory",
            Why::RegisteredInstitution { .. } => "registered-institution",
            Why::NotRegisteredInstitution => "not-registered-institution",
            Why::Valid { .. } => "valid",
            Why::ReviewDue { .. } => "review-due",
            Why::Expired { .. } => "expired",
            Why::Suspended => "suspended",
            Why::Revoked => "revoked",
            Why::KindNotInPolicy { .. } => "kind-not-in-policy",
        }
    }

    fn status(status: Status, lifecycle: &str) -> Why {
        let lifecycle = lifecycle.to_string();
        match status {
            Status::Valid => Why::Valid { lifecycle },
            Status::ReviewDue => Why::ReviewDue { lifecycle },
            Status::Expired => Why::Expired { lifecycle },
            Status::Suspended => Why::Suspended,
            Status::Revoked => Why::Revoked,
        }
    }

    fn refusal(r: &IssueRefusal) -> Why {
        match r {
            IssueRefusal::KindNotRegistered { kind, .. } => {
                Why::KindNotGranted { kind: kind.clone() }
            }
            IssueRefusal::NotInGoodStanding {
                day,
                registered_on,
                status,
                ..
            } => Why::IssuerNotInGoodStanding {
                on: *day,
                registered_on: *registered_on,
                registration: *status,
            },
            IssueRefusal::Suspended {
                day, from, until, ..
            } => Why::IssuerSuspended {
                on: *day,
                from: *from,
                until: *until,
            },
            IssueRefusal::GrantEnded {
                kind,
                occupation,
                level,
                ended,
                ..
            } => Why::GrantEnded {
                grant: Grant {
                    kind: kind.clone(),
                    occupation: occupation.clone(),
                    level: *level,
                },
                ended: *ended,
            },
            IssueRefusal::GrantNotYetInForce {
                kind,
                occupation,
                level,
                from,
                ..
            } => Why::GrantNotYetInForce {
                grant: Grant {
                    kind: kind.clone(),
                    occupation: occupation.clone(),
                    level: *level,
                },
                from: *from,
            },
            IssueRefusal::NoOccupationOrLevel => Why::NoOccupationOrLevel,
            IssueRefusal::OutOfScope {
                occupation, level, ..
            } => Why::OutOfScope {
                occupation: occupation.clone(),
                level: *level,
            },
        }
    }
}

/// One check with its reason: `why` for programs, the sentences for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub outcome: Outcome,
    pub why: Why,
    /// The sentences; those that need no detail beyond what the answer already carries are
    /// static strings, allocated by no one.
    pub reason_zh: Cow<'static, str>,
    pub reason_en: Cow<'static, str>,
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

impl FactKind {
    /// The stable id, as serialized (`department`, `kind`, …).
    pub fn id(self) -> &'static str {
        match self {
            FactKind::Department => "department",
            FactKind::Kind => "kind",
            FactKind::Lifecycle => "lifecycle",
            FactKind::Qualification => "qualification",
            FactKind::Issuer => "issuer",
        }
    }
}

/// A policy fact an answer rests on that is marked provisional: "confirm with the issuing
/// department". The entry (`fact` and `id`) names its source in the policy; for an issuer, the
/// fact is POLICY.md §6: certificates of a removed or suspended issuer stay valid unless revoked
/// one by one, which no official text states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionalFact {
    pub fact: FactKind,
    pub id: String,
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

    /// The overall verdict on the certificate ([`verdict`]).
    pub fn verdict(&self) -> Verdict {
        verdict(&self.checks, self.status.map(|r| r.status))
    }
}

/// The one overall answer about a certificate, shown before anything else: it can be relied
/// on, it can be relied on but something needs attention, or it cannot. Made only by
/// [`verdict`], from all the checks and the status, so that it never contradicts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check passed on confirmed facts, and the status is `valid`.
    Verified,
    /// Every check passed, but one only provisionally (it rests on a policy fact that no
    /// official text confirms yet: confirm with the issuing department), or the status is
    /// `review-due` (the holder must apply for review or renewal).
    Attention,
    /// A check failed or could not be made: the certificate cannot be relied on.
    NotVerified,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Verified, Verdict::Attention, Verdict::NotVerified];

    /// The stable id, as serialised: `verified`, `attention`, `not-verified`.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Attention => "attention",
            Verdict::NotVerified => "not-verified",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Verdict::Verified => "核验通过",
            Verdict::Attention => "需要留意",
            Verdict::NotVerified => "核验未通过",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Verdict::Verified => "Verified",
            Verdict::Attention => "Needs attention",
            Verdict::NotVerified => "Not verified",
        }
    }
}

/// The verdict on a certificate from all its checks and its status today (`None` when the
/// policy in force does not know its kind), by this rule (docs/verification.md, "The
/// verdict"):
///
/// 1. `not-verified` when any check failed or was not applicable, when there are no checks,
///    and when there is no status or one not in force (`expired`, `suspended`, `revoked`),
///    whatever the other checks say;
/// 2. otherwise `attention` when any check passed only provisionally, or the status is
///    `review-due`;
/// 3. otherwise `verified`: every check passed on confirmed facts and the status is `valid`.
pub fn verdict(checks: &[Check], status: Option<Status>) -> Verdict {
    let mut provisional = false;
    for c in checks {
        match c.outcome {
            Outcome::Pass => provisional |= c.provisional,
            Outcome::Fail | Outcome::NotApplicable => return Verdict::NotVerified,
        }
    }
    match status {
        _ if checks.is_empty() => Verdict::NotVerified,
        None | Some(Status::Expired | Status::Suspended | Status::Revoked) => Verdict::NotVerified,
        Some(Status::ReviewDue) => Verdict::Attention,
        Some(Status::Valid) if provisional => Verdict::Attention,
        Some(Status::Valid) => Verdict::Verified,
    }
}

/// One problem with one parameter of a query. Messages never repeat an ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub field: &'static str,
    /// For the API (and English pages).
    pub message: String,
    /// For Chinese pages: what is wrong and what a valid input looks like.
    pub message_zh: String,
}

/// What a valid certificate number looks like, for people who typed an invalid one.
pub const VALID_NUMBER_ZH: &str = "证书编号应为 22 位职业技能等级证书编号（如 S000044000123254000001），或特种作业操作证编号（T 加持证人公民身份号码），或 14 位建筑施工特种作业操作资格证书编号（如 晋A012008000001），或特种设备作业人员证编号（持证人公民身份号码），也可以填写以 1.2.156.3005.2. 开头的电子证照标识";
pub const VALID_NUMBER_EN: &str = "a certificate number is a 22-character skill level certificate number (e.g. S000044000123254000001), a special operation certificate number (T and the holder's resident ID number), a 14-character construction certificate number (e.g. 晋A012008000001), a special equipment certificate number (the holder's resident ID number), or a national e-licence identifier beginning 1.2.156.3005.2.";

/// Every problem of a query in Chinese, joined for a page.
pub fn describe_errors_zh(errors: &[QueryError]) -> String {
    errors
        .iter()
        .map(|e| e.message_zh.as_str())
        .collect::<Vec<_>>()
        .join("；")
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem of a query, joined for one answer.
pub fn describe_errors(errors: &[QueryError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The longest name a query may give (as imports accept).
pub const MAX_NAME_CHARS: usize = 60;
/// The longest certificate number of any scheme.
pub const MAX_NUMBER_CHARS: usize = 40;

/// A checked query for one certificate: `number` plus a second factor (`name`, the holder's ID
/// number, or both), optionally narrowed to one `kind`.
#[derive(Debug, Clone)]
pub struct VerifyQuery {
    /// Normalised ([`crate::number::normalize`]).
    pub number: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub holder: Option<ResidentId>,
}

/// A checked one-stop query of a holder: ID number and name, both required.
#[derive(Debug, Clone)]
pub struct HolderQuery {
    pub holder: ResidentId,
    pub name: String,
}

fn opt(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn check_name(name: Option<&str>, errs: &mut Vec<QueryError>) -> Option<String> {
    let n = opt(name)?;
    if n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control) {
        errs.push(QueryError {
            field: "name",
            message: format!(
                "a name has at most {MAX_NAME_CHARS} characters and no control characters"
            ),
            message_zh: format!("姓名最多 {MAX_NAME_CHARS} 个字，且不含控制字符"),
        });
        return None;
    }
    Some(n.to_string())
}

fn check_id(id: Option<&str>, errs: &mut Vec<QueryError>) -> Option<ResidentId> {
    match ResidentId::parse(opt(id)?) {
        Ok(id) => Some(id),
        Err(e) => {
            errs.push(QueryError {
                field: "id",
                message: e.to_string(),
                message_zh: e.describe_zh(),
            });
            None
        }
    }
}

impl VerifyQuery {
    /// Checks the parameters of a verification query against the policy: the number must have
    /// the form of the kind given, or of some kind when none is; a second factor is required.
    pub fn parse(
        policy: &Policy,
        number: Option<&str>,
        name: Option<&str>,
        id: Option<&str>,
        kind: Option<&str>,
    ) -> Result<VerifyQuery, Vec<QueryError>> {
        let mut errs = Vec::new();
        let kind = match opt(kind) {
            None => None,
            Some(k) => match policy.kind(k) {
                Some(k) => Some(k),
                None => {
                    errs.push(QueryError {
                        field: "kind",
                        message: if k.len() <= 64 && crate::ids::is_dotted_id(k) {
                            format!("\"{k}\" is not a certificate kind")
                        } else {
                            "is not a certificate kind id (such as mem.electrical.low-voltage)"
                                .to_string()
                        },
                        message_zh: "所选的证书种类不在现行政策中，请重新选择或不选".to_string(),
                    });
                    None
                }
            },
        };
        let number = crate::number::normalize(number.unwrap_or(""));
        if number.is_empty() {
            errs.push(QueryError {
                field: "number",
                message: "the certificate number is required".into(),
                message_zh: format!("请填写证书编号：{VALID_NUMBER_ZH}"),
            });
        } else if number.chars().count() > MAX_NUMBER_CHARS {
            errs.push(QueryError {
                field: "number",
                message: format!("a certificate number has at most {MAX_NUMBER_CHARS} characters"),
                message_zh: format!("证书编号最多 {MAX_NUMBER_CHARS} 个字符。{VALID_NUMBER_ZH}"),
            });
        } else if let Some(k) = kind {
            if let Err(e) = crate::number::decode(k.number_scheme, &number) {
                errs.push(QueryError {
                    field: "number",
                    message: format!("not a number of kind {}: {e}", k.id),
                    message_zh: format!("所填编号不是{}的编号格式。{VALID_NUMBER_ZH}", k.title_zh),
                });
            }
        } else {
            // The schemes the policy's kinds use, found in one pass over the kinds; a number
            // is decoded only by those, and reasons are spelled out only when none fits.
            let mut used = [false; NumberScheme::ALL.len()];
            for k in policy.kinds.values() {
                if let Some(i) = NumberScheme::ALL.iter().position(|s| *s == k.number_scheme) {
                    used[i] = true;
                }
            }
            let used_schemes = || {
                NumberScheme::ALL
                    .iter()
                    .zip(used)
                    .filter_map(|(s, u)| u.then_some(s))
            };
            let fits = used_schemes().any(|s| crate::number::decode(*s, &number).is_ok());
            if !fits {
                let why: Vec<String> = used_schemes()
                    .filter_map(|s| crate::number::decode(*s, &number).err())
                    .map(|e| e.to_string())
                    .collect();
                errs.push(QueryError {
                    field: "number",
                    message: format!("has the form of no certificate number: {}", why.join(" / ")),
                    message_zh: format!("所填证书编号的格式不符合任何一类证书。{VALID_NUMBER_ZH}"),
                });
            }
        }
        let name = check_name(name, &mut errs);
        let holder = check_id(id, &mut errs);
        if opt(name.as_deref()).is_none() && opt(id).is_none() {
            errs.push(QueryError {
                field: "name",
                message: "a second factor is required: the holder's name, or id (the holder's resident ID number)".into(),
                message_zh: "请填写持证人姓名（与证书上的姓名一致）".into(),
            });
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(VerifyQuery {
            number,
            kind: kind.map(|k| k.id.clone()),
            name,
            holder,
        })
    }
}

impl HolderQuery {
    /// Checks the parameters of a one-stop query: both the ID number and the name are required.
    pub fn parse(id: Option<&str>, name: Option<&str>) -> Result<HolderQuery, Vec<QueryError>> {
        let mut errs = Vec::new();
        if opt(id).is_none() {
            errs.push(QueryError {
                field: "id",
                message: "the holder's resident ID number is required".into(),
                message_zh: "请填写持证人的公民身份号码（18 位：17 位数字加 1 位校验码，数字或 X）"
                    .into(),
            });
        }
        let holder = check_id(id, &mut errs);
        if opt(name).is_none() {
            errs.push(QueryError {
                field: "name",
                message: "the holder's name is required".into(),
                message_zh: "请填写持证人姓名（与证书上的姓名一致）".into(),
            });
        }
        let name = check_name(name, &mut errs);
        match (holder, name) {
            (Some(holder), Some(name)) if errs.is_empty() => Ok(HolderQuery { holder, name }),
            _ => Err(errs),
        }
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
        why: Why::InRegistry,
        // The issue date is beside the checks, in the certificate.
        reason_zh: Cow::Borrowed("证书已登记"),
        reason_en: Cow::Borrowed("the certificate is in the registry"),
        provisional: false,
    });

    // The issuer and its rights on the issue date.
    checks.push(match issuer {
        None => Check {
            id: CheckId::Issuer,
            outcome: Outcome::Fail,
            why: Why::IssuerNotRegistered,
            reason_zh: unregistered_issuer_zh(policy, &cert.issuer).into(),
            reason_en: unregistered_issuer_en(policy, &cert.issuer).into(),
            provisional: false,
        },
        Some(iss) => match iss.issue_right(
            &cert.kind,
            cert.occupation.as_deref(),
            cert.level,
            cert.issued_on,
        ) {
            Err(refusal) => {
                let (reason_zh, reason_en) = describe_refusal(policy, iss, &refusal);
                Check {
                    id: CheckId::Issuer,
                    outcome: Outcome::Fail,
                    why: Why::refusal(&refusal),
                    reason_zh: reason_zh.into(),
                    reason_en: reason_en.into(),
                    provisional: false,
                }
            }
            Ok(()) if iss.status_on(day).0 == IssuerStatus::Registered => Check {
                id: CheckId::Issuer,
                outcome: Outcome::Pass,
                why: Why::Granted {
                    grant: grant(cert),
                },
                // The issuer's names are beside the checks, in the certificate's issuer.
                reason_zh: match scope_zh(policy, cert) {
                    None => Cow::Borrowed("发证机构已登记，颁发日有权颁发此类证书"),
                    Some(scope) => format!("发证机构已登记，颁发日有权颁发此类证书{scope}").into(),
                },
                reason_en: match scope_en(policy, cert) {
                    None => Cow::Borrowed(
                        "the issuer is registered and was entitled to issue this kind on the issue date",
                    ),
                    Some(scope) => format!(
                        "the issuer is registered and was entitled to issue this kind{scope} on the issue date"
                    )
                    .into(),
                },
                provisional: false,
            },
            Ok(()) => {
                provisional.push(ProvisionalFact {
                    fact: FactKind::Issuer,
                    id: iss.id.clone(),
                });
                let (registration, since_day) = iss.status_on(day);
                let since = since_day.map(|d| d.to_string()).unwrap_or_default();
                Check {
                    id: CheckId::Issuer,
                    outcome: Outcome::Pass,
                    why: Why::GrantedBeforeDeregistration {
                        grant: grant(cert),
                        registration,
                        since: since_day,
                    },
                    reason_zh: format!(
                        "{}在颁发日有权颁发此类证书{}；该机构自 {since} 起{}，此前颁发的证书除被单独撤销外仍然有效",
                        iss.name_zh,
                        scope_zh(policy, cert).unwrap_or_default(),
                        registration.name_zh()
                    )
                    .into(),
                    reason_en: format!(
                        "{} was entitled to issue this kind{} on the issue date; it is {} since {since}, and certificates issued before stay valid unless revoked one by one",
                        iss.name_en.as_deref().unwrap_or(&iss.name_zh),
                        scope_en(policy, cert).unwrap_or_default(),
                        registration.name_en()
                    )
                    .into(),
                    provisional: true,
                }
            }
        },
    });

    let Some(kind) = kind else {
        let na = |id| Check {
            id,
            outcome: Outcome::NotApplicable,
            why: Why::KindNotInPolicy {
                kind: cert.kind.clone(),
                policy: policy.digest.clone(),
            },
            // The kind's id stays in `why`; the policy in force has no name for it.
            reason_zh: Cow::Borrowed("现行政策中已没有这一类证书，无法判断"),
            reason_en: Cow::Borrowed(
                "the policy in force no longer has this kind of certificate, so this cannot be judged",
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
        });
    }
    if kind.provisional {
        provisional.push(ProvisionalFact {
            fact: FactKind::Kind,
            id: kind.id.clone(),
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
                    why: Why::RegisteredInstitution {
                        institution: iss.id.clone(),
                    },
                    reason_zh: format!("职业技能等级证书，由备案的评价机构{}颁发", iss.name_zh)
                        .into(),
                    reason_en: format!(
                        "a skill level certificate issued by the registered evaluation institution {}",
                        iss.name_en.as_deref().unwrap_or(&iss.name_zh)
                    )
                    .into(),
                    provisional: false,
                }
            }
            _ => Check {
                id: CheckId::StateRecognised,
                outcome: Outcome::Fail,
                why: Why::NotRegisteredInstitution,
                reason_zh: Cow::Borrowed("职业技能等级证书，但颁发时发证者不是备案的评价机构"),
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
                    });
                }
                Check {
                    id: CheckId::StateRecognised,
                    outcome: Outcome::Pass,
                    why: Why::InDirectory {
                        entry: q.id.clone(),
                    },
                    reason_zh: format!("列入《国家职业资格目录》：{}", q.name_zh).into(),
                    reason_en: format!(
                        "listed in the National Occupational Qualification Directory: {}",
                        q.name_en.as_deref().unwrap_or(&q.name_zh)
                    )
                    .into(),
                    provisional: q.provisional,
                }
            }
            None => Check {
                id: CheckId::StateRecognised,
                outcome: Outcome::Fail,
                why: Why::NotInDirectory,
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
        });
    }
    let report = lifecycle.status_on(&cert.dates(), day);
    let (reason_zh, reason_en) = describe_status(&report, day);
    let (reason_zh, reason_en) = (reason_zh.into(), reason_en.into());
    checks.push(Check {
        id: CheckId::Status,
        outcome: if report.status.is_in_force() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        why: Why::status(report.status, &lifecycle.id),
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

/// The grant a certificate's issuer used: the kind, and the occupation and level when the
/// certificate has them (an institution's scope entry).
fn grant(cert: &Certificate) -> Grant {
    Grant {
        kind: cert.kind.clone(),
        occupation: cert.occupation.clone(),
        level: cert.level,
    }
}

fn scope_zh(policy: &Policy, cert: &Certificate) -> Option<String> {
    match (&cert.occupation, cert.level) {
        (Some(o), Some(l)) => Some(format!("（{}，{}）", occupation_zh(policy, o), l.name_zh())),
        _ => None,
    }
}

fn scope_en(policy: &Policy, cert: &Certificate) -> Option<String> {
    match (&cert.occupation, cert.level) {
        (Some(o), Some(l)) => Some(format!(
            " ({}, {})",
            occupation_en(policy, o),
            l.name_en().to_lowercase()
        )),
        _ => None,
    }
}

/// An occupation by its name (电工), or, when the policy does not know the code, as "an
/// occupation the policy does not name": codes are for programs.
fn occupation_zh<'a>(policy: &'a Policy, code: &str) -> &'a str {
    policy
        .occupation(code)
        .map_or("现行政策未收录的职业", |o| o.name_zh.as_str())
}

fn occupation_en<'a>(policy: &'a Policy, code: &str) -> &'a str {
    policy
        .occupation(code)
        .map_or("an occupation the policy in force does not list", |o| {
            o.name_en.as_str()
        })
}

/// A kind by its name (建筑焊工, with its certificate: 建筑施工特种作业操作资格证书 · 建筑焊工).
fn kind_zh<'a>(policy: &'a Policy, id: &str) -> &'a str {
    policy.kind(id).map_or("现行政策未收录的一类证书", |k| {
        k.title_zh.as_str()
    })
}

fn kind_en<'a>(policy: &'a Policy, id: &str) -> &'a str {
    policy
        .kind(id)
        .map_or("a kind the policy in force does not list", |k| {
            k.title_en.as_str()
        })
}

/// An issuer the register does not have, described from what its id says (its department and
/// region: `mohurd.14` is Shanxi's housing and construction authority), never by the id.
fn unregistered_issuer_zh(policy: &Policy, id: &str) -> String {
    let (dept, region) = issuer_parts(policy, id);
    match (dept, region) {
        (Some(d), Some(r)) => format!(
            "证书所载的发证机构（{}{}系统的发证机关）不在登记名录中",
            r.name_zh, d.short_zh
        ),
        (Some(d), None) => format!("证书所载的发证机构（{}系统）不在登记名录中", d.short_zh),
        _ if id.starts_with("inst.") => "证书所载的评价机构不在登记名录中".to_string(),
        _ => "证书所载的发证机构不在登记名录中".to_string(),
    }
}

fn unregistered_issuer_en(policy: &Policy, id: &str) -> String {
    let (dept, region) = issuer_parts(policy, id);
    match (dept, region) {
        (Some(d), Some(r)) => format!(
            "the issuer the certificate names (the {} authority of {}) is not in the register",
            d.name_en, r.name_en
        ),
        (Some(d), None) => format!(
            "the issuer the certificate names (under the {}) is not in the register",
            d.name_en
        ),
        _ if id.starts_with("inst.") => {
            "the evaluation institution the certificate names is not in the register".to_string()
        }
        _ => "the issuer the certificate names is not in the register".to_string(),
    }
}

fn issuer_parts<'a>(
    policy: &'a Policy,
    id: &str,
) -> (
    Option<&'a crate::policy::Department>,
    Option<&'a crate::policy::Region>,
) {
    let mut parts = id.split('.');
    let dept = parts.next().and_then(|d| policy.department(d));
    let region = parts.next().and_then(|r| policy.region(r));
    (dept, region.filter(|_| dept.is_some()))
}

/// Why an issuer could not have issued the certificate, naming the issuer, the kind and the
/// occupation by their names (the ids are in `why`).
fn describe_refusal(policy: &Policy, iss: &Issuer, r: &IssueRefusal) -> (String, String) {
    let name_zh = iss.name_zh.as_str();
    let name_en = iss.name_en.as_deref().unwrap_or(&iss.name_zh);
    let scope_zh = |o: &Option<String>, l: &Option<Level>| match (o, l) {
        (Some(o), Some(l)) => format!("（{}，{}）", occupation_zh(policy, o), l.name_zh()),
        (Some(o), None) => format!("（{}）", occupation_zh(policy, o)),
        (None, Some(l)) => format!("（{}）", l.name_zh()),
        (None, None) => String::new(),
    };
    let scope_en = |o: &Option<String>, l: &Option<Level>| match (o, l) {
        (Some(o), Some(l)) => format!(
            " ({}, {})",
            occupation_en(policy, o),
            l.name_en().to_lowercase()
        ),
        (Some(o), None) => format!(" ({})", occupation_en(policy, o)),
        (None, Some(l)) => format!(" ({})", l.name_en().to_lowercase()),
        (None, None) => String::new(),
    };
    match r {
        IssueRefusal::KindNotRegistered { kind, .. } => (
            format!("{name_zh}未登记颁发{}", kind_zh(policy, kind)),
            format!(
                "{name_en} is not registered to issue the {}",
                kind_en(policy, kind)
            ),
        ),
        IssueRefusal::NotInGoodStanding {
            day,
            registered_on,
            status,
            ..
        } => (
            format!(
                "{name_zh}在颁发日 {day} 未处于登记有效状态（登记日期 {registered_on}，状态：{}）",
                status.name_zh()
            ),
            format!(
                "{name_en} was not registered and in good standing on the issue date, {day} (registered {registered_on}, {})",
                status.name_en()
            ),
        ),
        IssueRefusal::Suspended {
            day, from, until, ..
        } => match until {
            Some(u) => (
                format!("{name_zh}在颁发日 {day} 处于暂停期（自 {from} 起暂停，{u} 恢复）"),
                format!(
                    "{name_en} was suspended on the issue date, {day} (suspended from {from}, reinstated on {u})"
                ),
            ),
            None => (
                format!("{name_zh}在颁发日 {day} 处于暂停期（自 {from} 起暂停，尚未恢复）"),
                format!(
                    "{name_en} was suspended on the issue date, {day} (suspended from {from}, not reinstated)"
                ),
            ),
        },
        IssueRefusal::NoOccupationOrLevel => (
            "职业技能等级证书须载明职业和等级".to_string(),
            "a skill level certificate needs an occupation and a level".to_string(),
        ),
        IssueRefusal::OutOfScope {
            occupation, level, ..
        } => (
            format!(
                "{name_zh}未备案评价{}的{}",
                occupation_zh(policy, occupation),
                level.name_zh()
            ),
            format!(
                "{name_en} is not registered to evaluate {} at the {}",
                occupation_en(policy, occupation),
                level.name_en().to_lowercase()
            ),
        ),
        IssueRefusal::GrantEnded {
            kind,
            occupation,
            level,
            ended,
            day,
            ..
        } => (
            format!(
                "{name_zh}颁发{}{}的权限已于 {ended} 终止，颁发日 {day} 已无此权限",
                kind_zh(policy, kind),
                scope_zh(occupation, level)
            ),
            format!(
                "{name_en}'s right to issue the {}{} ended on {ended}, before the issue date, {day}",
                kind_en(policy, kind),
                scope_en(occupation, level)
            ),
        ),
        IssueRefusal::GrantNotYetInForce {
            kind,
            occupation,
            level,
            from,
            day,
            ..
        } => (
            format!(
                "{name_zh}颁发{}{}的权限自 {from} 起生效，颁发日 {day} 尚无此权限",
                kind_zh(policy, kind),
                scope_zh(occupation, level)
            ),
            format!(
                "{name_en}'s right to issue the {}{} is in force only from {from}, after the issue date, {day}",
                kind_en(policy, kind),
                scope_en(occupation, level)
            ),
        ),
    }
}

/// The status with the dates that explain it, in Chinese and English.
pub fn describe_status(r: &StatusReport, day: Day) -> (String, String) {
    use crate::date::Piece::{Day as D, MaybeDay as M, Text as T};
    use crate::date::sentence as s;
    match r.status {
        Status::Valid => match r.valid_until {
            None => (
                s(&[D(day), T(" 有效；此类证书长期有效")]),
                s(&[
                    T("valid on "),
                    D(day),
                    T("; certificates of this kind do not expire"),
                ]),
            ),
            Some(until) => match r.review_due_on {
                Some(due) => (
                    s(&[
                        D(day),
                        T(" 有效，有效期至 "),
                        D(until),
                        T("；下次复审 "),
                        D(due),
                    ]),
                    s(&[
                        T("valid on "),
                        D(day),
                        T(", until "),
                        D(until),
                        T("; next review due "),
                        D(due),
                    ]),
                ),
                None => (
                    s(&[D(day), T(" 有效，有效期至 "), D(until)]),
                    s(&[T("valid on "), D(day), T(", until "), D(until)]),
                ),
            },
        },
        Status::ReviewDue => {
            let due = r.review_due_on.or(r.valid_until);
            (
                s(&[
                    D(day),
                    T(" 有效；持证人应自 "),
                    M(r.review_due_from),
                    T(" 起、于 "),
                    M(due),
                    T(" 前申请复审或延期"),
                ]),
                s(&[
                    T("valid on "),
                    D(day),
                    T("; the holder should apply for review or renewal from "),
                    M(r.review_due_from),
                    T(", by "),
                    M(due),
                ]),
            )
        }
        Status::Expired => match r.lapse() {
            // Lapsed for a missed review: the end of validity it would have had is said too,
            // so that a later date beside "expired" is never left unexplained.
            Some(crate::lifecycle::Lapse::ReviewMissed) => (
                s(&[
                    T("未按期复审：复审应于 "),
                    M(r.review_due_on),
                    T(" 前完成，证书自 "),
                    M(r.expired_on),
                    T(" 起失效（原有效期至 "),
                    M(r.valid_until),
                    T("，因未复审已不再有效）"),
                ]),
                s(&[
                    T("a review was missed: it was due by "),
                    M(r.review_due_on),
                    T(", so the certificate lapsed on "),
                    M(r.expired_on),
                    T(" (its validity would have run until "),
                    M(r.valid_until),
                    T(")"),
                ]),
            ),
            _ => (
                s(&[
                    T("有效期至 "),
                    M(r.valid_until),
                    T(" 届满，证书自 "),
                    M(r.expired_on),
                    T(" 起失效"),
                ]),
                s(&[
                    T("its validity ended on "),
                    M(r.valid_until),
                    T("; expired since "),
                    M(r.expired_on),
                ]),
            ),
        },
        Status::Suspended => (
            s(&[T("自 "), M(r.suspended_on), T(" 起被发证机构暂扣")]),
            s(&[
                T("suspended (held) by the issuer since "),
                M(r.suspended_on),
            ]),
        ),
        Status::Revoked => (
            s(&[T("已于 "), M(r.revoked_on), T(" 被撤销，不再有效")]),
            s(&[T("revoked on "), M(r.revoked_on), T("; no longer valid")]),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::AdminState;
    use crate::holder::HolderSecret;
    use crate::ids::Level;
    use crate::issuer::Grant as Right;

    fn policy() -> Policy {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        Policy::load_dir(&dir).unwrap()
    }

    /// The status sentences, word for word: they are built piece by piece for speed, and must
    /// say what they always said.
    #[test]
    fn status_sentences_are_exact() {
        let r = |status, valid_until, review_due_on, from, exp, sus, rev| StatusReport {
            status,
            valid_until,
            review_due_on,
            review_due_from: from,
            expired_on: exp,
            suspended_on: sus,
            revoked_on: rev,
        };
        let day = d("2026-12-02");
        let (a, b, c) = (
            Some(d("2027-09-08")),
            Some(d("2027-03-01")),
            Some(d("2026-10-01")),
        );
        let cases = [
            (
                r(Status::Valid, None, None, None, None, None, None),
                "2026-12-02 有效；此类证书长期有效",
                "valid on 2026-12-02; certificates of this kind do not expire",
            ),
            (
                r(Status::Valid, a, b, None, None, None, None),
                "2026-12-02 有效，有效期至 2027-09-08；下次复审 2027-03-01",
                "valid on 2026-12-02, until 2027-09-08; next review due 2027-03-01",
            ),
            (
                r(Status::Valid, a, None, None, None, None, None),
                "2026-12-02 有效，有效期至 2027-09-08",
                "valid on 2026-12-02, until 2027-09-08",
            ),
            (
                r(Status::ReviewDue, a, None, c, None, None, None),
                "2026-12-02 有效；持证人应自 2026-10-01 起、于 2027-09-08 前申请复审或延期",
                "valid on 2026-12-02; the holder should apply for review or renewal from 2026-10-01, by 2027-09-08",
            ),
            (
                r(Status::ReviewDue, None, None, None, None, None, None),
                "2026-12-02 有效；持证人应自  起、于  前申请复审或延期",
                "valid on 2026-12-02; the holder should apply for review or renewal from , by ",
            ),
            (
                r(
                    Status::Expired,
                    Some(d("2026-09-30")),
                    None,
                    None,
                    c,
                    None,
                    None,
                ),
                "有效期至 2026-09-30 届满，证书自 2026-10-01 起失效",
                "its validity ended on 2026-09-30; expired since 2026-10-01",
            ),
            (
                r(
                    Status::Expired,
                    a,
                    Some(d("2026-09-30")),
                    None,
                    c,
                    None,
                    None,
                ),
                "未按期复审：复审应于 2026-09-30 前完成，证书自 2026-10-01 起失效（原有效期至 2027-09-08，因未复审已不再有效）",
                "a review was missed: it was due by 2026-09-30, so the certificate lapsed on 2026-10-01 (its validity would have run until 2027-09-08)",
            ),
            (
                r(Status::Suspended, a, None, None, None, c, None),
                "自 2026-10-01 起被发证机构暂扣",
                "suspended (held) by the issuer since 2026-10-01",
            ),
            (
                r(Status::Revoked, a, None, None, None, None, c),
                "已于 2026-10-01 被撤销，不再有效",
                "revoked on 2026-10-01; no longer valid",
            ),
        ];
        for (report, zh, en) in cases {
            assert_eq!(
                describe_status(&report, day),
                (zh.to_string(), en.to_string())
            );
        }
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
            grants: vec![Right::kind("mem.electrical.low-voltage", d("2010-01-01"))],
            institution_type: None,
            institution_code: None,
            registered_on: d("2010-01-01"),
            suspensions: vec![],
            removed_on: None,
            contact: None,
            credit_code: None,
        }
    }

    fn institution() -> Issuer {
        Issuer {
            id: "inst.s0000-44-000123".into(),
            name_zh: "广东某职业技能等级认定中心".into(),
            name_en: None,
            department: "mohrss".into(),
            role: IssuerRole::Institution,
            grants: vec![Right::scope(
                "mohrss.skill-level",
                "6-18-02-04",
                &[Level::L5, Level::L4],
                d("2010-01-01"),
            )],
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
        assert_eq!(status.why.code(), "valid", "{status:?}");
        // The sentences carry the date; codes are what programs compare.
        assert!(status.reason_en.contains("2025-01-10"), "{status:?}");
        assert!(status.reason_zh.contains("2025-01-10"));
    }

    #[test]
    fn statuses_fail_the_status_check_with_their_dates() {
        let p = policy();
        let mut c = mem_cert();
        let v = verify(&p, &c, Some(&authority()), d("2027-02-01"));
        assert_eq!(v.status.unwrap().status, Status::ReviewDue);
        assert_eq!(v.checks[3].outcome, Outcome::Pass);
        assert_eq!(v.checks[3].why.code(), "review-due");
        assert_eq!(v.status.unwrap().review_due_from, Some(d("2026-12-31")));
        assert!(v.checks[3].reason_en.contains("2026-12-31"));
        let v = verify(&p, &c, Some(&authority()), d("2027-03-02"));
        assert_eq!(v.status.unwrap().status, Status::Expired);
        assert_eq!(v.checks[3].outcome, Outcome::Fail);
        assert_eq!(v.checks[3].why.code(), "expired");
        assert_eq!(v.status.unwrap().expired_on, Some(d("2027-03-02")));
        c.state = AdminState::Revoked {
            on: d("2025-02-01"),
            reason: None,
        };
        let v = verify(&p, &c, Some(&authority()), d("2025-03-01"));
        assert_eq!(v.checks[3].outcome, Outcome::Fail);
        assert!(
            !v.checks[3].provisional,
            "a revocation is no lifecycle guess"
        );
        assert_eq!(v.checks[3].why, Why::Revoked);
        assert!(v.checks[3].reason_en.contains("2025-02-01"));
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
        assert_eq!(v.checks[1].why, Why::IssuerNotRegistered);

        let mut late = authority();
        late.registered_on = d("2024-06-01");
        let v = verify(&p, &mem_cert(), Some(&late), d("2025-01-10"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert_eq!(
            v.checks[1].why.code(),
            "issuer-not-in-good-standing",
            "{:?}",
            v.checks[1]
        );

        let mut wrong_kind = authority();
        wrong_kind.grants = vec![Right::kind("mem.welding.brazing", d("2010-01-01"))];
        let v = verify(&p, &mem_cert(), Some(&wrong_kind), d("2025-01-10"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert_eq!(v.checks[1].why.code(), "kind-not-granted");
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
        assert_eq!(v.status.unwrap().valid_until, None);

        // Out of scope: level 3 is not in the institution's registration.
        let mut c = skill_cert();
        c.level = Some(Level::L3);
        let v = verify(&p, &c, Some(&institution()), d("2026-11-01"));
        assert_eq!(v.checks[1].outcome, Outcome::Fail);
        assert_eq!(v.checks[1].why.code(), "out-of-scope");

        // Removed later: still recognised, with the provisional mark of POLICY.md §6.
        let mut removed = institution();
        removed.removed_on = Some(d("2025-06-30"));
        let v = verify(&p, &skill_cert(), Some(&removed), d("2026-11-01"));
        assert_eq!(v.checks[1].outcome, Outcome::Pass);
        assert!(v.checks[1].provisional);
        assert!(matches!(
            v.checks[1].why,
            Why::GrantedBeforeDeregistration {
                registration: IssuerStatus::Removed,
                since: Some(s),
                ..
            } if s == d("2025-06-30")
        ));
        assert_eq!(v.checks[2].outcome, Outcome::Pass);
        assert!(v.provisional.iter().any(|f| f.fact == FactKind::Issuer));

        // No registered institution: not state-recognised.
        let v = verify(&p, &skill_cert(), None, d("2026-11-01"));
        assert_eq!(v.checks[2].outcome, Outcome::Fail);
        assert_eq!(v.checks[2].why, Why::NotRegisteredInstitution);
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

    fn q(
        number: Option<&str>,
        name: Option<&str>,
        id: Option<&str>,
        kind: Option<&str>,
    ) -> Result<VerifyQuery, String> {
        VerifyQuery::parse(&policy(), number, name, id, kind).map_err(|e| describe_errors(&e))
    }

    #[test]
    fn verify_queries_are_checked_and_never_echo_an_id_number() {
        let ok = q(Some(" t11010519491231002x "), Some("张小明"), None, None).unwrap();
        assert_eq!(ok.number, "T11010519491231002X");
        assert_eq!(ok.name.as_deref(), Some("张小明"));
        let e = q(Some("T11010519491231002X"), None, None, None).unwrap_err();
        assert!(e.contains("a second factor is required"), "{e}");
        let e = q(None, Some("张三"), None, None).unwrap_err();
        assert!(
            e.starts_with("number: the certificate number is required"),
            "{e}"
        );
        let e = q(Some("T110105194912310021"), Some("张三"), None, None).unwrap_err();
        assert!(e.contains("has the form of no certificate number"), "{e}");
        assert!(!e.contains("110105194912310021"), "{e}");
        let e = q(
            Some("晋A012008000001"),
            None,
            Some("110105194912310021"),
            None,
        )
        .unwrap_err();
        assert!(
            e.starts_with("id: the resident ID number's check character is wrong"),
            "{e}"
        );
        assert!(!e.contains("110105194912310021"), "{e}");
        let e = q(
            Some("晋A012008000001"),
            Some("张三"),
            None,
            Some("mem.electrical.low-voltage"),
        )
        .unwrap_err();
        assert!(
            e.starts_with("number: not a number of kind mem.electrical.low-voltage"),
            "{e}"
        );
        let e = q(Some("晋A012008000001"), Some("张三"), None, Some("mem.x")).unwrap_err();
        assert_eq!(e, "kind: \"mem.x\" is not a certificate kind");
        let long = "张".repeat(61);
        let e = q(Some("晋A012008000001"), Some(&long), None, None).unwrap_err();
        assert!(
            e.starts_with("name: a name has at most 60 characters"),
            "{e}"
        );
        assert!(q(Some(&"1".repeat(41)), Some("张三"), None, None).is_err());
    }

    proptest::proptest! {
        /// Whatever is typed, checking a query answers (never panics), and no message repeats
        /// an ID number given as `id`, valid or not.
        #[test]
        fn any_input_is_answered_without_echoing_an_id(
            number in "\\PC{0,45}",
            name in "\\PC{0,70}",
            digits in "[1-8][0-9]{16}[0-9X]",
            kind in proptest::option::of("[a-z.\\-]{0,30}"),
        ) {
            static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
            let p = POLICY.get_or_init(policy);
            for id in [Some(digits.as_str()), None] {
                if let Err(errs) = VerifyQuery::parse(p, Some(&number), Some(&name), id, kind.as_deref()) {
                    let text = describe_errors(&errs);
                    proptest::prop_assert!(!text.contains(digits.as_str()), "{}", text);
                }
            }
            if let Err(errs) = HolderQuery::parse(Some(&digits), Some(&name)) {
                proptest::prop_assert!(!describe_errors(&errs).contains(digits.as_str()));
            }
        }
    }

    proptest::proptest! {
        /// Numbers and ID numbers typed in full-width forms, in lower case or with spaces
        /// around and inside make the same queries as their normal forms; names keep what they
        /// are, trimmed of spaces (the ideographic one too).
        #[test]
        fn typed_queries_are_the_queries_of_their_normal_forms(
            picks in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..24),
            id_picks in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..24),
        ) {
            use crate::number::as_typed;
            static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
            let p = POLICY.get_or_init(policy);
            let id = id();
            for number in ["T11010519491231002X", "粤A012024000001", "S000044000123244000042"] {
                let plain = VerifyQuery::parse(p, Some(number), Some("张小明"), Some(id.as_str()), None)
                    .map_err(|e| describe_errors(&e));
                proptest::prop_assert!(plain.is_ok(), "{}: {:?}", number, plain);
                let typed_number = as_typed(number, &picks);
                let typed = VerifyQuery::parse(
                    p,
                    Some(&typed_number),
                    Some("\u{3000}张小明 "),
                    Some(&as_typed(id.as_str(), &id_picks)),
                    None,
                )
                .map_err(|e| describe_errors(&e));
                let (plain, typed) = (plain.unwrap(), typed);
                proptest::prop_assert!(typed.is_ok(), "{:?}: {:?}", typed_number, typed);
                let typed = typed.unwrap();
                proptest::prop_assert_eq!(&typed.number, &plain.number);
                proptest::prop_assert_eq!(&typed.holder, &plain.holder);
                proptest::prop_assert_eq!(&typed.name, &plain.name);
            }
            let h = HolderQuery::parse(Some(&as_typed(id.as_str(), &id_picks)), Some("张小明\u{3000}"))
                .map_err(|e| describe_errors(&e));
            proptest::prop_assert!(h.is_ok(), "{:?}", h);
            let h = h.unwrap();
            proptest::prop_assert_eq!((h.holder, h.name.as_str()), (id, "张小明"));
        }
    }

    #[test]
    fn holder_queries_need_both_factors() {
        let ok = HolderQuery::parse(Some("11010519491231002x"), Some(" 张小明")).unwrap();
        assert_eq!((ok.holder, ok.name.as_str()), (id(), "张小明"));
        let e = describe_errors(&HolderQuery::parse(None, None).unwrap_err());
        assert_eq!(
            e,
            "id: the holder's resident ID number is required; name: the holder's name is required"
        );
        let e = describe_errors(
            &HolderQuery::parse(Some("110105194912310021"), Some("张小明")).unwrap_err(),
        );
        assert!(!e.contains("110105194912310021"), "{e}");
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

    /// Every state one check can be in: each outcome, marked provisional or not.
    const CHECK_STATES: [(Outcome, bool); 6] = [
        (Outcome::Pass, false),
        (Outcome::Pass, true),
        (Outcome::Fail, false),
        (Outcome::Fail, true),
        (Outcome::NotApplicable, false),
        (Outcome::NotApplicable, true),
    ];

    const STATUSES: [Option<Status>; 6] = [
        None,
        Some(Status::Valid),
        Some(Status::ReviewDue),
        Some(Status::Expired),
        Some(Status::Suspended),
        Some(Status::Revoked),
    ];

    const CHECK_IDS: [CheckId; 4] = [
        CheckId::Registered,
        CheckId::Issuer,
        CheckId::StateRecognised,
        CheckId::Status,
    ];

    fn check_of(id: CheckId, (outcome, provisional): (Outcome, bool)) -> Check {
        Check {
            id,
            outcome,
            why: Why::InRegistry,
            reason_zh: Cow::Borrowed(""),
            reason_en: Cow::Borrowed(""),
            provisional,
        }
    }

    /// The states of the four checks, and the status.
    type Combination = ([(Outcome, bool); 4], Option<Status>);

    /// Every combination of the four checks' states and the status: 6⁴ × 6.
    fn every_combination() -> Vec<Combination> {
        let mut out = Vec::new();
        for n in 0..CHECK_STATES.len().pow(4) {
            let mut states = [CHECK_STATES[0]; 4];
            let mut rest = n;
            for s in &mut states {
                *s = CHECK_STATES[rest % CHECK_STATES.len()];
                rest /= CHECK_STATES.len();
            }
            for status in STATUSES {
                out.push((states, status));
            }
        }
        out
    }

    fn verdict_of(states: &[(Outcome, bool)], status: Option<Status>) -> Verdict {
        let checks: Vec<Check> = CHECK_IDS
            .iter()
            .zip(states)
            .map(|(id, s)| check_of(*id, *s))
            .collect();
        verdict(&checks, status)
    }

    #[test]
    fn the_verdict_of_every_combination_follows_the_rule() {
        let all = every_combination();
        assert_eq!(all.len(), 7776);
        let mut seen = std::collections::BTreeSet::new();
        for (states, status) in all {
            let v = verdict_of(&states, status);
            seen.insert(v);
            let case = format!("{states:?} {status:?}: {v:?}");
            let not_passed = states.iter().any(|(o, _)| *o != Outcome::Pass);
            let provisional_pass = states.iter().any(|(o, p)| *o == Outcome::Pass && *p);
            // A check that did not pass, or a status not in force, is never under a passing
            // verdict.
            assert_eq!(
                v == Verdict::NotVerified,
                not_passed || !status.is_some_and(Status::is_in_force),
                "{case}"
            );
            // Verified needs every check passed on confirmed facts, and `valid`.
            assert_eq!(
                v == Verdict::Verified,
                !not_passed && !provisional_pass && status == Some(Status::Valid),
                "{case}"
            );
            if v == Verdict::Attention {
                assert!(
                    provisional_pass || status == Some(Status::ReviewDue),
                    "{case}"
                );
            }
        }
        assert_eq!(seen.len(), 3, "every verdict is reachable");
    }

    /// How bad a check's state is, and a status: worse is larger.
    fn badness((outcome, provisional): (Outcome, bool)) -> u8 {
        match outcome {
            Outcome::Pass => u8::from(provisional),
            Outcome::Fail | Outcome::NotApplicable => 2,
        }
    }

    fn status_badness(s: Option<Status>) -> u8 {
        match s {
            Some(Status::Valid) => 0,
            Some(Status::ReviewDue) => 1,
            _ => 2,
        }
    }

    /// Making one check or the status worse never makes the verdict better.
    #[test]
    fn a_worse_check_or_status_never_gives_a_better_verdict() {
        for (states, status) in every_combination() {
            let v = verdict_of(&states, status);
            for i in 0..states.len() {
                for worse in CHECK_STATES {
                    if badness(worse) < badness(states[i]) {
                        continue;
                    }
                    let mut w = states;
                    w[i] = worse;
                    let vw = verdict_of(&w, status);
                    assert!(vw >= v, "{states:?} {status:?}: {v:?}; {w:?}: {vw:?}");
                }
            }
            for worse in STATUSES {
                if status_badness(worse) >= status_badness(status) {
                    let vw = verdict_of(&states, worse);
                    assert!(vw >= v, "{states:?} {status:?}: {v:?}; {worse:?}: {vw:?}");
                }
            }
        }
    }

    #[test]
    fn the_verdict_in_the_cases_people_meet() {
        let pass = (Outcome::Pass, false);
        let provisional = (Outcome::Pass, true);
        let fail = (Outcome::Fail, false);
        let na = (Outcome::NotApplicable, false);
        let valid = Some(Status::Valid);
        // Issue 12: a failed issuer check under a valid status is not a verified certificate.
        assert_eq!(
            verdict_of(&[pass, fail, pass, pass], valid),
            Verdict::NotVerified
        );
        assert_eq!(verdict_of(&[pass; 4], valid), Verdict::Verified);
        assert_eq!(
            verdict_of(&[pass; 4], Some(Status::ReviewDue)),
            Verdict::Attention
        );
        assert_eq!(
            verdict_of(&[pass, provisional, pass, pass], valid),
            Verdict::Attention
        );
        // A provisional mark on a failed check does not soften it.
        assert_eq!(
            verdict_of(
                &[pass, pass, pass, (Outcome::Fail, true)],
                Some(Status::Expired)
            ),
            Verdict::NotVerified
        );
        assert_eq!(
            verdict_of(&[pass, pass, na, na], None),
            Verdict::NotVerified
        );
        assert_eq!(verdict(&[], valid), Verdict::NotVerified);
        for s in [Status::Expired, Status::Suspended, Status::Revoked] {
            assert_eq!(verdict_of(&[pass; 4], Some(s)), Verdict::NotVerified);
        }
        let ids: Vec<&str> = Verdict::ALL.iter().map(|v| v.id()).collect();
        assert_eq!(ids, ["verified", "attention", "not-verified"]);
        for v in Verdict::ALL {
            assert_eq!(serde_json::to_value(v).unwrap(), v.id());
        }
    }

    /// The verdicts of real verifications.
    #[test]
    fn verifications_carry_the_verdict_of_their_checks() {
        let p = policy();
        // A skill level certificate of a registered institution rests on confirmed facts.
        let v = verify(&p, &skill_cert(), Some(&institution()), d("2026-11-01"));
        assert_eq!(v.verdict(), Verdict::Verified, "{:?}", v.checks);
        // A mem certificate's validity is provisional in the policy: confirm it.
        let v = verify(&p, &mem_cert(), Some(&authority()), d("2025-01-10"));
        assert!(v.checks[3].provisional);
        assert_eq!(v.verdict(), Verdict::Attention);
        // An institution removed since: provisional by POLICY.md §6.
        let mut removed = institution();
        removed.removed_on = Some(d("2025-06-30"));
        let v = verify(&p, &skill_cert(), Some(&removed), d("2026-11-01"));
        assert_eq!(v.verdict(), Verdict::Attention);
        // An issuer that is not registered: the status is valid, the certificate is not.
        let v = verify(&p, &mem_cert(), None, d("2025-01-10"));
        assert_eq!(v.status.unwrap().status, Status::Valid);
        assert_eq!(v.verdict(), Verdict::NotVerified);
        let v = verify(&p, &mem_cert(), Some(&authority()), d("2031-01-01"));
        assert_eq!(v.verdict(), Verdict::NotVerified);
        let mut c = mem_cert();
        c.kind = "mem.electrical.ultra-voltage".into();
        let v = verify(&p, &c, Some(&authority()), d("2025-01-10"));
        assert_eq!(v.verdict(), Verdict::NotVerified);
    }

    // Regression tests of issue 8, named after the defect (`r8_<item>_…`).

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
            reason: None,
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
        other.grants = vec![Right::kind("mem.welding.brazing", d("2010-01-01"))];
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
        removed.removed_on = Some(d("2025-06-30"));
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

    /// No reason says an id: every sentence of every check.
    fn assert_no_ids(v: &Verification, ids: &[&str]) {
        for c in &v.checks {
            for text in [&c.reason_zh, &c.reason_en] {
                for id in ids {
                    assert!(!text.contains(id), "{id} in {text:?}");
                }
            }
        }
    }

    /// Issue 12, item 2: check reasons name the issuer, the kind and the occupation by their
    /// names (山西省住房和城乡建设厅, 建筑焊工, 焊工), never by their ids, which stay in `why`.
    #[test]
    fn r12_02_check_reasons_name_things_by_their_names_never_by_ids() {
        let p = policy();
        let day = d("2025-01-10");
        let welder = Certificate {
            number: "晋A992024000001".into(),
            kind: "mohurd.construction.welder".into(),
            issuer: "mohurd.14".into(),
            valid_until: Some(d("2026-03-01")),
            ..mem_cert()
        };
        let ids = [
            "mohurd.14",
            "mohurd.construction",
            "mohurd.",
            "inst.",
            "6-18-02-04",
        ];
        // Not in the register: described by its department and region.
        let v = verify(&p, &welder, None, day);
        assert_eq!(v.checks[1].why, Why::IssuerNotRegistered);
        assert!(
            v.checks[1].reason_zh.contains("山西省"),
            "{:?}",
            v.checks[1]
        );
        assert!(
            v.checks[1].reason_en.contains("Shanxi"),
            "{:?}",
            v.checks[1]
        );
        assert_no_ids(&v, &ids);
        // Registered, but not for this kind.
        let shanxi = Issuer {
            id: "mohurd.14".into(),
            name_zh: "山西省住房和城乡建设厅".into(),
            name_en: Some("Shanxi Department of Housing and Urban-Rural Development".into()),
            department: "mohurd".into(),
            region: Some("14".into()),
            grants: vec![Right::kind(
                "mohurd.construction.electrician",
                d("2010-01-01"),
            )],
            ..authority()
        };
        let v = verify(&p, &welder, Some(&shanxi), day);
        assert_eq!(
            v.checks[1].why,
            Why::KindNotGranted {
                kind: "mohurd.construction.welder".into()
            },
            "the id stays in why"
        );
        let zh = &v.checks[1].reason_zh;
        assert!(
            zh.contains("山西省住房和城乡建设厅") && zh.contains("建筑焊工"),
            "{zh}"
        );
        let en = &v.checks[1].reason_en;
        assert!(
            en.contains("Shanxi Department") && en.contains("welder"),
            "{en}"
        );
        assert_no_ids(&v, &ids);
        // An institution outside its scope: the occupation by its name, the level by its name.
        let mut c = skill_cert();
        c.level = Some(Level::L3);
        let v = verify(&p, &c, Some(&institution()), day);
        assert_eq!(v.checks[1].why.code(), "out-of-scope");
        let zh = &v.checks[1].reason_zh;
        assert!(
            zh.contains("广东某职业技能等级认定中心")
                && zh.contains("焊工")
                && zh.contains("高级工"),
            "{zh}"
        );
        assert_no_ids(&v, &ids);
        // Within its scope: the pass names the occupation too.
        let v = verify(&p, &skill_cert(), Some(&institution()), day);
        assert_eq!(v.checks[1].outcome, Outcome::Pass);
        assert!(v.checks[1].reason_zh.contains("焊工"), "{:?}", v.checks[1]);
        assert_no_ids(&v, &ids);
        // A kind the policy no longer has.
        let gone = Certificate {
            kind: "mem.electrical.gone".into(),
            ..mem_cert()
        };
        let v = verify(&p, &gone, Some(&authority()), day);
        assert_no_ids(&v, &["mem.electrical.gone", "mem.44"]);
    }

    /// Issue 12, item 2: an expired `mem` certificate says whether it lapsed for a missed
    /// review or at the end of its validity, with the date of each.
    #[test]
    fn r12_02_an_expired_mem_certificate_says_why_it_lapsed_with_the_dates() {
        let p = policy();
        // Issued 2024-03-01, valid to 2030-03-01, review due 2027-03-01 and missed.
        let v = verify(&p, &mem_cert(), Some(&authority()), d("2027-06-01"));
        let r = v.status.unwrap();
        assert_eq!(r.lapse(), Some(crate::lifecycle::Lapse::ReviewMissed));
        let zh = &v.checks[3].reason_zh;
        assert!(
            zh.contains("未按期复审") && zh.contains("2027-03-01") && zh.contains("2030-03-01"),
            "{zh}"
        );
        let en = &v.checks[3].reason_en;
        assert!(
            en.contains("review was missed")
                && en.contains("2027-03-02")
                && en.contains("2030-03-01"),
            "{en}"
        );
        // Reviewed in time, then past its validity.
        let mut c = mem_cert();
        c.last_review_on = Some(d("2027-03-01"));
        let v = verify(&p, &c, Some(&authority()), d("2030-06-01"));
        let r = v.status.unwrap();
        assert_eq!(
            r.lapse(),
            Some(crate::lifecycle::Lapse::PastValidity),
            "{r:?}"
        );
        let zh = &v.checks[3].reason_zh;
        assert!(zh.contains("届满") && zh.contains("2030-03-01"), "{zh}");
        assert!(!zh.contains("复审"), "{zh}");
    }
}
