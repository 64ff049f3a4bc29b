//! The answers of the public lookups, as the JSON API returns them and the pages show them.
//! They are built from a certificate, its [`Verification`] by the core and the policy's names:
//! this module only presents; every rule is in `hutong_core::verify`.
//!
//! Personal data: the holder's name is masked ([`mask_name`]), a number that embeds a resident
//! ID number is masked ([`hutong_core::number::display`]), and the ID number itself never
//! appears.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::ToSchema;

use hutong_core::date::Day;
use hutong_core::number::display as display_number;
use hutong_core::policy::Policy;
use hutong_core::verify::{Check, ProvisionalFact, Verdict, Verification};
use hutong_core::{Certificate, Issuer, Status, mask_name};

/// The answer of a lookup: `found` is false, with no other content, both when nothing has the
/// number and when the second factor does not match, so that the two cannot be told apart.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupAnswer<'a> {
    /// Whether a certificate matched the number (or holder) and the second factor.
    pub found: bool,
    /// The day statuses are computed for: today in China (UTC+8).
    #[schema(value_type = String, format = Date, example = "2026-11-01")]
    pub as_of: Day,
    /// The digest of the policy the answer was made under.
    pub policy: &'a str,
    /// The certificates found, ordered by kind: one, unless several kinds share the number (the
    /// numbers of `samr` items and `mem` items are the holder's ID number) and no `kind` was
    /// given, or, for the one-stop query, every certificate of the holder.
    pub certificates: Vec<CertificateResult<'a>>,
    /// Shown when any fact in the answer is provisional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_note: Option<ProvisionalNote>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionalNote {
    pub zh: &'static str,
    pub en: &'static str,
}

/// One certificate with its verdict, its status, the dates that explain it, and the checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateResult<'a> {
    /// The overall verdict, from all the checks and the status (docs/verification.md, "The
    /// verdict"): `verified` (every check passed on confirmed facts, status `valid`),
    /// `attention` (every check passed, but one only provisionally, or the status is
    /// `review-due`), or `not-verified` (a check failed or could not be made).
    #[schema(value_type = VerdictId)]
    pub verdict: Verdict,
    /// `valid`, `review-due`, `expired`, `suspended` or `revoked`; null only when the policy in
    /// force no longer knows the certificate's kind.
    #[schema(value_type = Option<String>, example = "valid")]
    pub status: Option<Status>,
    pub status_zh: Option<&'static str>,
    pub status_en: Option<&'static str>,
    /// The last day of validity; null for kinds that do not expire.
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Day>,
    /// The next periodic review's due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_due_on: Option<Day>,
    /// The first day of the window to apply for review or renewal (when `review-due`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_due_from: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expired_on: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub suspended_on: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub revoked_on: Option<Day>,
    pub certificate: CertificateView<'a>,
    /// `registered`, `issuer`, `state-recognised`, `status`, in that order.
    pub checks: Vec<CheckView<'a>>,
    /// Policy facts this answer rests on that no official text confirms yet.
    pub provisional: Vec<ProvisionalView<'a>>,
    /// What anyone relying on a certificate of this kind must know, from the policy (a `mem`
    /// holder away from the work for six months or more must retake the practical exam).
    /// Absent when the kind has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<NoteView<'a>>,
    /// Why it is suspended, revoked or expired (IDENTIFIERS.md "Status reasons"), with the
    /// national status code and the legal basis, from the policy; absent when the status needs
    /// no reason or the record gives none (a revocation imported without its reason).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "status_reason_json"
    )]
    #[schema(value_type = Option<StatusReasonView>)]
    pub status_reason: Option<&'a hutong_core::policy::StatusReason>,
    /// How fresh the data behind this answer is: when the registry last received a change to
    /// one of this certificate's issuer's certificates (an issue, a review, a suspension, …),
    /// RFC 3339 in UTC. A registry that mirrors another gives the source's instant. Absent
    /// when the registry has none (a record stored behind the journal's back).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-04T02:30:47Z")]
    pub data_as_of: Option<&'a str>,
    /// Why an expired certificate lapsed: a missed review or the end of its validity.
    #[serde(skip)]
    #[schema(ignore)]
    pub lapse: Option<hutong_core::lifecycle::Lapse>,
}

/// The overall verdict on a certificate: `verified`, `attention` or `not-verified`
/// (docs/verification.md, "The verdict").
// Only describes the ids, for the document: the core's `Verdict` serialises to them.
#[derive(ToSchema)]
#[schema(as = Verdict, rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum VerdictId {
    Verified,
    Attention,
    NotVerified,
}

/// A note of the policy on a kind, with its source.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView<'a> {
    /// The note's id in the policy (`mem.away-six-months`).
    pub id: &'a str,
    pub text_zh: &'a str,
    pub text_en: &'a str,
    pub source: &'a str,
    /// Not yet confirmed by an official text.
    pub provisional: bool,
}

/// A named thing of the policy: department, occupation, level, region.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named<'a> {
    pub id: &'a str,
    pub name_zh: &'a str,
    pub name_en: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView<'a> {
    /// The number; one that embeds the holder's resident ID number is masked
    /// (`T11************002X`).
    pub number: Cow<'a, str>,
    /// The kind id (`mem.electrical.low-voltage`).
    pub kind: &'a str,
    /// `特种作业操作证 · 电工作业 · 低压电工作业`
    #[schema(value_type = String)]
    pub kind_name_zh: Cow<'a, str>,
    #[schema(value_type = String)]
    pub kind_name_en: Cow<'a, str>,
    pub department: Named<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupation: Option<Named<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Named<'a>>,
    pub issuer: IssuerView<'a>,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Day,
    /// The holder's name, masked (`张*明`).
    pub holder_name: String,
    /// The national e-licence identifier (电子证照标识, GB/T 36904), where the policy has the
    /// kind's licence type code and the issuer record its unified social credit code:
    /// `1.2.156.3005.2.<type>.<authority>.<serial>.<version>.<check>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_licence_id: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView<'a> {
    pub id: &'a str,
    /// Null when the issuer is not in the register.
    pub name_zh: Option<&'a str>,
    pub name_en: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Named<'a>>,
    /// `registered`, `suspended`, `removed`, or `unregistered`.
    pub registration: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub registration_since: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView<'a> {
    /// `registered`, `issuer`, `state-recognised` or `status`.
    pub id: &'static str,
    /// `pass`, `fail` or `not-applicable`.
    pub outcome: &'static str,
    /// The check's name, for pages; not repeated in answers, since it is fixed by `id`
    /// (docs/verification.md lists the names).
    #[serde(skip)]
    pub name_zh: &'static str,
    #[serde(skip)]
    pub name_en: &'static str,
    /// Why, for programs: a stable `code` and what decided it (`grant`, `entry`, `lifecycle`,
    /// `policy`); see docs/verification.md.
    #[schema(value_type = Object)]
    pub why: &'a hutong_core::verify::Why,
    pub reason_zh: &'a str,
    pub reason_en: &'a str,
    /// The check rests on a policy fact not yet confirmed by an official text.
    pub provisional: bool,
}

/// A provisional fact, by the policy entry that states it (its source is in the policy files
/// and on the directory page; answers stay short).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionalView<'a> {
    /// `department`, `kind`, `lifecycle`, `qualification` or `issuer`.
    #[schema(value_type = String)]
    pub fact: hutong_core::verify::FactKind,
    /// The entry's id (`mem-special-operation`, …).
    pub id: &'a str,
}

/// A certificate with everything needed to present it.
pub struct Verified {
    pub cert: Certificate,
    pub issuer: Option<std::sync::Arc<Issuer>>,
    pub verification: Verification,
    /// The national e-licence identifier (GB/T 36904), where the kind has a licence type code
    /// and the issuer a unified social credit code.
    pub e_licence_id: Option<String>,
    /// When the registry last received a change from the certificate's issuer
    /// ([`crate::AppState::data_as_of`]).
    pub data_as_of: Option<std::sync::Arc<str>>,
}

impl<'a> LookupAnswer<'a> {
    pub fn not_found(policy: &'a Policy, as_of: Day) -> LookupAnswer<'a> {
        LookupAnswer {
            found: false,
            as_of,
            policy: &policy.digest,
            certificates: Vec::new(),
            provisional_note: None,
        }
    }

    pub fn new(policy: &'a Policy, as_of: Day, found: &'a [Verified]) -> LookupAnswer<'a> {
        if found.is_empty() {
            return LookupAnswer::not_found(policy, as_of);
        }
        let certificates: Vec<CertificateResult<'a>> =
            found.iter().map(|v| result(policy, v, as_of)).collect();
        let any_provisional = found.iter().any(|v| !v.verification.provisional.is_empty());
        LookupAnswer {
            found: true,
            as_of,
            policy: &policy.digest,
            certificates,
            provisional_note: any_provisional.then_some(ProvisionalNote {
                zh: hutong_core::verify::PROVISIONAL_NOTE_ZH,
                en: hutong_core::verify::PROVISIONAL_NOTE_EN,
            }),
        }
    }
}

fn check_view(c: &Check) -> CheckView<'_> {
    CheckView {
        id: c.id.id(),
        outcome: c.outcome.id(),
        name_zh: c.id.name_zh(),
        name_en: c.id.name_en(),
        why: &c.why,
        reason_zh: &c.reason_zh,
        reason_en: &c.reason_en,
        provisional: c.provisional,
    }
}

fn provisional_view(f: &ProvisionalFact) -> ProvisionalView<'_> {
    ProvisionalView {
        fact: f.fact,
        id: &f.id,
    }
}

fn result<'a>(policy: &'a Policy, v: &'a Verified, as_of: Day) -> CertificateResult<'a> {
    let c = &v.cert;
    let kind = policy.kind(&c.kind);
    let report = v.verification.status;
    let dept_id = kind
        .map(|k| k.department.as_str())
        .unwrap_or_else(|| c.kind.split('.').next().unwrap_or(""));
    let department = match policy.department(dept_id) {
        Some(d) => Named {
            id: &d.id,
            name_zh: &d.name_zh,
            name_en: &d.name_en,
        },
        None => Named {
            id: dept_id,
            name_zh: dept_id,
            name_en: dept_id,
        },
    };
    let occupation = c.occupation.as_deref().map(|o| match policy.occupation(o) {
        Some(occ) => Named {
            id: &occ.code,
            name_zh: &occ.name_zh,
            name_en: &occ.name_en,
        },
        None => Named {
            id: o,
            name_zh: o,
            name_en: o,
        },
    });
    let level = c.level.map(|l| Named {
        id: l.id(),
        name_zh: l.name_zh(),
        name_en: l.name_en(),
    });
    let issuer = match &v.issuer {
        Some(i) => IssuerView {
            id: &i.id,
            name_zh: Some(&i.name_zh),
            name_en: Some(i.name_en.as_deref().unwrap_or(&i.name_zh)),
            region: i
                .region
                .as_deref()
                .and_then(|r| policy.region(r))
                .map(|r| Named {
                    id: &r.code,
                    name_zh: &r.name_zh,
                    name_en: &r.name_en,
                }),
            registration: i.status_on(as_of).0.id(),
            registration_since: i.status_on(as_of).1,
            contact: i.contact.as_deref(),
        },
        None => IssuerView {
            id: &c.issuer,
            name_zh: None,
            name_en: None,
            region: None,
            registration: "unregistered",
            registration_since: None,
            contact: None,
        },
    };
    let number = match kind {
        Some(k) => display_number(k.number_scheme, &c.number),
        // A kind the policy no longer knows: show no number rather than risk an ID number.
        None => Cow::Borrowed("—"),
    };
    let reason_id = report.and_then(|r| match (r.status, c.state) {
        (Status::Suspended, _) => Some("held"),
        (
            Status::Revoked,
            hutong_core::AdminState::Revoked {
                reason: Some(reason),
                ..
            },
        ) => Some(reason.id()),
        (Status::Expired, _) => r.lapse().map(|l| l.id()),
        _ => None,
    });
    CertificateResult {
        lapse: report.and_then(|r| r.lapse()),
        verdict: v.verification.verdict(),
        status_reason: reason_id.and_then(|id| policy.status_reason(id)),
        data_as_of: v.data_as_of.as_deref(),
        status: report.map(|r| r.status),
        status_zh: report.map(|r| r.status.name_zh()),
        status_en: report.map(|r| r.status.name_en()),
        valid_until: report.and_then(|r| r.valid_until),
        review_due_on: report.and_then(|r| r.review_due_on),
        review_due_from: report.and_then(|r| r.review_due_from),
        expired_on: report.and_then(|r| r.expired_on),
        suspended_on: report.and_then(|r| r.suspended_on),
        revoked_on: report.and_then(|r| r.revoked_on),
        certificate: CertificateView {
            number,
            kind: &c.kind,
            kind_name_zh: Cow::Borrowed(kind.map_or(c.kind.as_str(), |k| k.title_zh.as_str())),
            kind_name_en: Cow::Borrowed(kind.map_or(c.kind.as_str(), |k| k.title_en.as_str())),
            department,
            occupation,
            level,
            issuer,
            issued_on: c.issued_on,
            holder_name: mask_name(&c.holder_name),
            e_licence_id: v.e_licence_id.as_deref(),
        },
        checks: v.verification.checks.iter().map(check_view).collect(),
        provisional: v
            .verification
            .provisional
            .iter()
            .map(provisional_view)
            .collect(),
        notes: policy
            .notes_of(&c.kind)
            .iter()
            .map(|n| NoteView {
                id: &n.id,
                text_zh: &n.text_zh,
                text_en: &n.text_en,
                source: &n.source,
                provisional: n.provisional,
            })
            .collect(),
    }
}

/// One entry of a certificate's public history: the day in China and the kind of change,
/// nothing about who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicEntry {
    pub date: String,
    pub change: String,
    /// For a renewal that re-issued the card, the other card's number (as the journal keeps
    /// it, masked where it embeds an ID number): the new card on the old card's `renewed-as`,
    /// the old card on the new card's `issued`.
    pub linked: Option<String>,
}

impl PublicEntry {
    pub fn of(e: &hutong_core::journal::Entry) -> PublicEntry {
        let change = e.kind();
        let member = match change {
            "renewed-as" => Some("number"),
            "issued" if e.change.contains("\"renews\"") => Some("renews"),
            _ => None,
        };
        let linked = member.and_then(|m| {
            serde_json::from_str::<serde_json::Value>(&e.change)
                .ok()
                .and_then(|v| v[m].as_str().map(str::to_string))
        });
        PublicEntry {
            date: hutong_core::journal::day_in_china(e.at_micros)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            change: change.to_string(),
            linked,
        }
    }

    /// The kind of change as the public history names it.
    pub fn name(&self) -> (&'static str, &'static str) {
        match self.change.as_str() {
            // The day it was recorded in the registry, which for an imported certificate is
            // not its issue date (shown beside it).
            "issued" => ("登记入库", "recorded in the registry"),
            "reviewed" => ("复审", "reviewed"),
            "renewed" => ("延续", "renewed"),
            "renewed-as" => ("延续并换发新证", "renewed as a new card"),
            "suspended" => ("暂扣", "suspended"),
            "reinstated" => ("暂扣发还", "reinstated"),
            "revoked" => ("撤销或吊销", "revoked"),
            "cancelled" => ("注销", "cancelled"),
            "holder-name-corrected" => ("更正持证人姓名", "holder's name corrected"),
            _ => ("其他变更", "other change"),
        }
    }
}

/// A status reason as an answer gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusReasonView<'a> {
    /// `held`, `withdrawn`, `annulled`, `cancelled`, `issued-in-error`, `past-validity`,
    /// `review-missed` (IDENTIFIERS.md "Status reasons").
    pub id: &'a str,
    pub name_zh: &'a str,
    pub name_en: &'a str,
    /// The national status code (02 暂扣, 03 吊销, 04 撤销, 05 注销, 06 失效, 99 其他).
    pub national_code: &'a str,
    /// The legal basis.
    pub basis_zh: &'a str,
    pub basis_en: &'a str,
    /// The document the basis is taken from.
    pub source: &'a str,
    /// The reason's mapping is not confirmed by an official text: confirm with the department.
    pub provisional: bool,
}

fn status_reason_json<S: serde::Serializer>(
    r: &Option<&hutong_core::policy::StatusReason>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => StatusReasonView {
            id: &r.id,
            name_zh: &r.name_zh,
            name_en: &r.name_en,
            national_code: &r.national_code,
            basis_zh: &r.basis_zh,
            basis_en: &r.basis_en,
            source: &r.source,
            provisional: r.provisional,
        }
        .serialize(s),
        None => s.serialize_none(),
    }
}
