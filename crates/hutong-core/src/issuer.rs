//! Issuers: department authorities and registered evaluation institutions, with their rights
//! and standing as dated history.
//!
//! An issuer's rights are [`Grant`]s, each in force from `valid_from` to `valid_until`
//! (both inclusive); its suspensions are [`Suspension`] periods, and its removal from the
//! register is a date. Nothing is overwritten: a withdrawn right keeps its dates and a
//! suspension stays in the history after reinstatement, so that a certificate is always judged
//! by the rights in force on its own issue date ([`Issuer::issue_right`]). Every change is an
//! [`IssuerChange`], applied in one place ([`IssuerChange::apply`]).
//!
//! The older record form (`kinds`, `scope`, `status`, `status_since`) still reads, as the
//! grants and periods it meant: see [`Issuer`] and docs/issuers.md.

use serde::{Deserialize, Serialize};

use crate::date::{Day, day_serde};
use crate::elicence::UnifiedCreditCode;
use crate::ids::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerRole {
    /// A department's certifying authority (a provincial emergency management department, …).
    Authority,
    /// A skill level evaluation institution registered (备案) with MoHRSS or a province.
    Institution,
}

impl IssuerRole {
    pub fn id(self) -> &'static str {
        match self {
            IssuerRole::Authority => "authority",
            IssuerRole::Institution => "institution",
        }
    }
}

/// An issuer's standing on a day, derived from its suspensions and removal
/// ([`Issuer::status_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerStatus {
    #[default]
    Registered,
    Suspended,
    Removed,
}

impl IssuerStatus {
    pub fn id(self) -> &'static str {
        match self {
            IssuerStatus::Registered => "registered",
            IssuerStatus::Suspended => "suspended",
            IssuerStatus::Removed => "removed",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            IssuerStatus::Registered => "已登记",
            IssuerStatus::Suspended => "暂停",
            IssuerStatus::Removed => "已移除",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            IssuerStatus::Registered => "registered",
            IssuerStatus::Suspended => "suspended",
            IssuerStatus::Removed => "removed from the register",
        }
    }
}

/// One occupation an institution may evaluate, at the levels listed: the older record form's
/// `scope` entry, read into [`Grant`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeEntry {
    pub occupation: String,
    pub levels: Vec<Level>,
}

/// A right to issue one kind of certificate, in the issuer's region, for a period.
///
/// An authority's grant names the kind only. An institution's grant names the kind, one
/// occupation and the levels it may evaluate that occupation at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub kind: String,
    /// Institutions: the occupation (GB/T 6565 code) it may evaluate; none for an authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    /// Institutions: the levels of `occupation` it may evaluate; empty for an authority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
    /// The first day the right is in force.
    #[serde(deserialize_with = "day_serde::deserialize")]
    pub valid_from: Day,
    /// The last day the right is in force (inclusive); `None` while it lasts.
    #[serde(
        default,
        deserialize_with = "day_serde::option::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<Day>,
}

impl Grant {
    /// An authority's grant of `kind` from `valid_from`, open-ended.
    pub fn kind(kind: &str, valid_from: Day) -> Grant {
        Grant {
            kind: kind.to_string(),
            occupation: None,
            levels: Vec::new(),
            valid_from,
            valid_until: None,
        }
    }

    /// An institution's grant of `kind` for `occupation` at `levels` from `valid_from`,
    /// open-ended.
    pub fn scope(kind: &str, occupation: &str, levels: &[Level], valid_from: Day) -> Grant {
        Grant {
            occupation: Some(occupation.to_string()),
            levels: levels.to_vec(),
            ..Grant::kind(kind, valid_from)
        }
    }

    /// Whether the grant is in force on `day`.
    pub fn in_force_on(&self, day: Day) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|u| day <= u)
    }

    /// Whether the grant names what a role's grant must name: an institution one occupation
    /// and at least one level, an authority neither.
    pub fn fits(&self, role: IssuerRole) -> bool {
        match role {
            IssuerRole::Authority => self.occupation.is_none() && self.levels.is_empty(),
            IssuerRole::Institution => self.occupation.is_some() && !self.levels.is_empty(),
        }
    }

    fn last_day(&self) -> Day {
        self.valid_until.unwrap_or(Day::MAX)
    }

    /// The right both grants give (`Some(None)` for a kind alone, `Some(Some(level))` for a
    /// shared level of one occupation), if their periods overlap.
    fn overlap(&self, other: &Grant) -> Option<Option<Level>> {
        if self.kind != other.kind
            || self.occupation != other.occupation
            || self.valid_from > other.last_day()
            || other.valid_from > self.last_day()
        {
            return None;
        }
        if self.levels.is_empty() && other.levels.is_empty() {
            return Some(None);
        }
        self.levels
            .iter()
            .find(|l| other.levels.contains(l))
            .map(|l| Some(*l))
    }
}

/// A period in which an issuer was suspended: nothing it issued from `from` until its
/// reinstatement is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    /// The first day of the suspension.
    #[serde(deserialize_with = "day_serde::deserialize")]
    pub from: Day,
    /// The day of reinstatement: the first day the issuer may issue again, so the end of the
    /// period, exclusive. `None` while the suspension lasts.
    #[serde(
        default,
        deserialize_with = "day_serde::option::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Suspension {
    /// Whether the issuer was suspended on `day` by this period.
    pub fn covers(&self, day: Day) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }

    fn overlaps(&self, other: &Suspension) -> bool {
        self.from < other.until.unwrap_or(Day::MAX) && other.from < self.until.unwrap_or(Day::MAX)
    }
}

/// A registered issuer. This is also the `[[issuer]]` entry of an issuers file and the JSON
/// record the stores keep.
///
/// It reads the older form too: `kinds` (with `scope` for institutions) become grants from
/// `registered_on`, one per kind and scope entry; `status = "suspended"` with `status_since`
/// becomes a suspension from that day, not yet ended; `status = "removed"` with `status_since`
/// becomes `removed_on`. A record gives one form or the other, not both. It is written in the
/// new form only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawIssuer")]
pub struct Issuer {
    /// Stable id, lower-case ASCII with hyphens and dots: `mem.44`, `inst.s0000-44-000123`.
    pub id: String,
    pub name_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub department: String,
    pub role: IssuerRole,
    /// Province code (GB/T 2260); none for a national body. Every grant is for this region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its rights, past, present and future: never deleted, closed by `valid_until`.
    pub grants: Vec<Grant>,
    /// For institutions: `Y` (employer) or `S` (social training-evaluation organisation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution_type: Option<String>,
    /// For institutions: the 4-digit code in their certificate numbers (`0000` when provincial).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution_code: Option<String>,
    /// Nothing issued before this day is accepted.
    pub registered_on: Day,
    /// Its suspensions, by start date, kept after reinstatement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<Suspension>,
    /// The day it was removed from the register: nothing issued from this day is accepted.
    /// Certificates issued before stay valid unless revoked one by one (POLICY.md §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_on: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Its unified social credit code (统一社会信用代码, GB 32100), checked when read: the
    /// issuing authority code of the national e-licence identifiers of its certificates
    /// ([`crate::elicence`]). Records and files without it still read; an issuer without one
    /// gives its certificates no such identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<UnifiedCreditCode>,
}

/// An issuer as read, in either form; converted by `TryFrom` so that unknown keys are still
/// named by serde.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    id: String,
    name_zh: String,
    #[serde(default)]
    name_en: Option<String>,
    department: String,
    role: IssuerRole,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    grants: Option<Vec<Grant>>,
    #[serde(default)]
    kinds: Option<Vec<String>>,
    #[serde(default)]
    scope: Option<Vec<ScopeEntry>>,
    #[serde(default)]
    institution_type: Option<String>,
    #[serde(default)]
    institution_code: Option<String>,
    #[serde(deserialize_with = "day_serde::deserialize")]
    registered_on: Day,
    #[serde(default)]
    suspensions: Option<Vec<Suspension>>,
    #[serde(default, deserialize_with = "day_serde::option::deserialize")]
    removed_on: Option<Day>,
    #[serde(default)]
    status: Option<IssuerStatus>,
    #[serde(default, deserialize_with = "day_serde::option::deserialize")]
    status_since: Option<Day>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default, deserialize_with = "credit_code_field")]
    credit_code: Option<UnifiedCreditCode>,
}

/// Reads `credit_code`, naming the field in the error: a file's reader shows the line.
fn credit_code_field<'de, D>(d: D) -> Result<Option<UnifiedCreditCode>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    UnifiedCreditCode::try_from(s)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("credit_code {e}")))
}

impl TryFrom<RawIssuer> for Issuer {
    type Error = String;

    fn try_from(r: RawIssuer) -> Result<Issuer, String> {
        let grants = match (r.grants, r.kinds, r.scope) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(
                    "`grants` replaces the older `kinds` and `scope`: give one form, not both"
                        .into(),
                );
            }
            (Some(g), None, None) => g,
            (None, None, _) => return Err("missing field `grants`".into()),
            (None, Some(kinds), scope) => {
                let scope = scope.unwrap_or_default();
                let mut out = Vec::new();
                for k in &kinds {
                    if scope.is_empty() {
                        out.push(Grant::kind(k, r.registered_on));
                    }
                    for s in &scope {
                        out.push(Grant::scope(k, &s.occupation, &s.levels, r.registered_on));
                    }
                }
                out
            }
        };
        let new_form = r.suspensions.is_some() || r.removed_on.is_some();
        let old_form = r.status.is_some() || r.status_since.is_some();
        if new_form && old_form {
            return Err("`suspensions` and `removed_on` replace the older `status` and `status_since`: give one form, not both".into());
        }
        let mut suspensions = r.suspensions.unwrap_or_default();
        let mut removed_on = r.removed_on;
        match (r.status.unwrap_or_default(), r.status_since) {
            (IssuerStatus::Registered, _) => {}
            (status, None) => {
                return Err(format!(
                    "status_since: a {} issuer needs the date it took effect",
                    status.id()
                ));
            }
            (IssuerStatus::Suspended, Some(from)) => suspensions.push(Suspension {
                from,
                until: None,
                reason: None,
            }),
            (IssuerStatus::Removed, Some(on)) => removed_on = Some(on),
        }
        Ok(Issuer {
            id: r.id,
            name_zh: r.name_zh,
            name_en: r.name_en,
            department: r.department,
            role: r.role,
            region: r.region,
            grants,
            institution_type: r.institution_type,
            institution_code: r.institution_code,
            registered_on: r.registered_on,
            suspensions,
            removed_on,
            contact: r.contact,
            credit_code: r.credit_code,
        })
    }
}

impl Issuer {
    /// The grants in force on `day` (whatever the issuer's standing that day).
    pub fn grants_on(&self, day: Day) -> Vec<&Grant> {
        self.grants.iter().filter(|g| g.in_force_on(day)).collect()
    }

    /// The kinds it held a grant for on `day`, each once, in the order of the grants.
    pub fn kinds_on(&self, day: Day) -> Vec<&str> {
        dedup(self.grants.iter().filter(|g| g.in_force_on(day)))
    }

    /// Every kind it was ever granted, each once, in the order of the grants.
    pub fn kinds_ever(&self) -> Vec<&str> {
        dedup(self.grants.iter())
    }

    /// The suspension in force on `day`, if any.
    pub fn suspension_on(&self, day: Day) -> Option<&Suspension> {
        self.suspensions.iter().find(|s| s.covers(day))
    }

    /// Its standing on `day`, with the day that standing took effect: `Removed` from
    /// `removed_on`, `Suspended` from the start of the suspension in force, else `Registered`
    /// (with no date; a day before `registered_on` also reads as `Registered`: ask
    /// [`Issuer::was_active_on`] whether it could act).
    pub fn status_on(&self, day: Day) -> (IssuerStatus, Option<Day>) {
        if let Some(on) = self.removed_on.filter(|on| *on <= day) {
            return (IssuerStatus::Removed, Some(on));
        }
        match self.suspension_on(day) {
            Some(s) => (IssuerStatus::Suspended, Some(s.from)),
            None => (IssuerStatus::Registered, None),
        }
    }

    /// Whether the issuer was registered and in good standing on `day`: registered by then,
    /// not yet removed, and not suspended.
    pub fn was_active_on(&self, day: Day) -> bool {
        day >= self.registered_on && self.status_on(day).0 == IssuerStatus::Registered
    }

    /// Why this issuer could not have issued a certificate of `kind` (with `occupation` and
    /// `level` for skill level certificates) on `day`, or `Ok` if it could.
    pub fn may_issue(
        &self,
        kind: &str,
        occupation: Option<&str>,
        level: Option<Level>,
        day: Day,
    ) -> Result<(), String> {
        self.issue_right(kind, occupation, level, day)
            .map_err(|r| r.to_string())
    }

    /// [`Issuer::may_issue`] with the refusal as a value, so that it can be told in either
    /// language. Judged by the grants and suspensions in force on `day`, not by today's.
    pub fn issue_right(
        &self,
        kind: &str,
        occupation: Option<&str>,
        level: Option<Level>,
        day: Day,
    ) -> Result<(), IssueRefusal> {
        if !self.grants.iter().any(|g| g.kind == kind) {
            return Err(IssueRefusal::KindNotRegistered {
                issuer: self.id.clone(),
                kind: kind.to_string(),
            });
        }
        if day < self.registered_on || self.removed_on.is_some_and(|on| on <= day) {
            return Err(IssueRefusal::NotInGoodStanding {
                issuer: self.id.clone(),
                day,
                registered_on: self.registered_on,
                status: self.status_on(day).0,
            });
        }
        if let Some(s) = self.suspension_on(day) {
            return Err(IssueRefusal::Suspended {
                issuer: self.id.clone(),
                day,
                from: s.from,
                until: s.until,
            });
        }
        let scope = match self.role {
            IssuerRole::Authority => None,
            IssuerRole::Institution => match (occupation, level) {
                (Some(o), Some(l)) => Some((o, l)),
                _ => return Err(IssueRefusal::NoOccupationOrLevel),
            },
        };
        let covering = || {
            self.grants.iter().filter(move |g| {
                g.kind == kind
                    && scope.is_none_or(|(o, l)| {
                        g.occupation.as_deref() == Some(o) && g.levels.contains(&l)
                    })
            })
        };
        if covering().any(|g| g.in_force_on(day)) {
            return Ok(());
        }
        let (occupation, level) = match scope {
            Some((o, l)) => (Some(o.to_string()), Some(l)),
            None => (None, None),
        };
        if let Some(ended) = covering()
            .filter_map(|g| g.valid_until)
            .filter(|u| *u < day)
            .max()
        {
            return Err(IssueRefusal::GrantEnded {
                issuer: self.id.clone(),
                kind: kind.to_string(),
                occupation,
                level,
                ended,
                day,
            });
        }
        if let Some(from) = covering().map(|g| g.valid_from).filter(|f| *f > day).min() {
            return Err(IssueRefusal::GrantNotYetInForce {
                issuer: self.id.clone(),
                kind: kind.to_string(),
                occupation,
                level,
                from,
                day,
            });
        }
        match (occupation, level) {
            (Some(occupation), Some(level)) => Err(IssueRefusal::OutOfScope {
                issuer: self.id.clone(),
                occupation,
                level,
            }),
            // Not reached: every grant of the kind is in force, ended or to come.
            _ => Err(IssueRefusal::KindNotRegistered {
                issuer: self.id.clone(),
                kind: kind.to_string(),
            }),
        }
    }
}

fn dedup<'a>(grants: impl Iterator<Item = &'a Grant>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for g in grants {
        if !out.contains(&g.kind.as_str()) {
            out.push(&g.kind);
        }
    }
    out
}

/// ` for occupation O at level L`, or nothing.
fn scope_en(occupation: &Option<String>, level: &Option<Level>) -> String {
    match (occupation, level) {
        (Some(o), Some(l)) => format!(" for occupation {o} at level {l}"),
        (Some(o), None) => format!(" for occupation {o}"),
        (None, Some(l)) => format!(" at level {l}"),
        (None, None) => String::new(),
    }
}

/// `（职业 O，初级工）`, or nothing.
fn scope_zh(occupation: &Option<String>, level: &Option<Level>) -> String {
    match (occupation, level) {
        (Some(o), Some(l)) => format!("（职业 {o}，{}）", l.name_zh()),
        (Some(o), None) => format!("（职业 {o}）"),
        (None, Some(l)) => format!("（{}）", l.name_zh()),
        (None, None) => String::new(),
    }
}

/// Why an issuer could not have issued a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueRefusal {
    /// It was never granted the kind.
    KindNotRegistered {
        issuer: String,
        kind: String,
    },
    /// Not yet registered on `day`, or removed by then (`status` is its standing on `day`).
    NotInGoodStanding {
        issuer: String,
        day: Day,
        registered_on: Day,
        status: IssuerStatus,
    },
    /// Suspended on `day`: by the period from `from` to its reinstatement on `until`.
    Suspended {
        issuer: String,
        day: Day,
        from: Day,
        until: Option<Day>,
    },
    NoOccupationOrLevel,
    /// An institution never granted this occupation at this level.
    OutOfScope {
        issuer: String,
        occupation: String,
        level: Level,
    },
    /// It held the right (for an institution: this occupation at this level), but the grant
    /// ended on `ended`, before `day`.
    GrantEnded {
        issuer: String,
        kind: String,
        occupation: Option<String>,
        level: Option<Level>,
        ended: Day,
        day: Day,
    },
    /// It holds the right only from `from`, after `day`.
    GrantNotYetInForce {
        issuer: String,
        kind: String,
        occupation: Option<String>,
        level: Option<Level>,
        from: Day,
        day: Day,
    },
}

impl std::fmt::Display for IssueRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssueRefusal::KindNotRegistered { issuer, kind } => {
                write!(f, "issuer \"{issuer}\" is not registered to issue {kind}")
            }
            IssueRefusal::NotInGoodStanding {
                issuer,
                day,
                registered_on,
                status,
            } => write!(
                f,
                "issuer \"{issuer}\" was not registered and in good standing on {day} (registered {registered_on}, status {})",
                status.id()
            ),
            IssueRefusal::Suspended {
                issuer,
                day,
                from,
                until,
            } => {
                write!(
                    f,
                    "issuer \"{issuer}\" was suspended on {day} (suspended from {from}"
                )?;
                match until {
                    Some(u) => write!(f, ", reinstated on {u})"),
                    None => f.write_str(", not reinstated)"),
                }
            }
            IssueRefusal::NoOccupationOrLevel => {
                f.write_str("a skill level certificate needs an occupation and a level")
            }
            IssueRefusal::OutOfScope {
                issuer,
                occupation,
                level,
            } => write!(
                f,
                "institution \"{issuer}\" is not registered to evaluate occupation {occupation} at level {level}"
            ),
            IssueRefusal::GrantEnded {
                issuer,
                kind,
                occupation,
                level,
                ended,
                day,
            } => write!(
                f,
                "issuer \"{issuer}\"'s right to issue {kind}{} ended on {ended}, before {day}",
                scope_en(occupation, level)
            ),
            IssueRefusal::GrantNotYetInForce {
                issuer,
                kind,
                occupation,
                level,
                from,
                day,
            } => write!(
                f,
                "issuer \"{issuer}\"'s right to issue {kind}{} starts on {from}, after {day}",
                scope_en(occupation, level)
            ),
        }
    }
}

impl IssueRefusal {
    /// The refusal in Chinese.
    pub fn describe_zh(&self) -> String {
        match self {
            IssueRefusal::KindNotRegistered { issuer, kind } => {
                format!("发证机构“{issuer}”未登记颁发 {kind} 类证书")
            }
            IssueRefusal::NotInGoodStanding {
                issuer,
                day,
                registered_on,
                status,
            } => format!(
                "发证机构“{issuer}”在 {day} 未处于登记有效状态（登记日期 {registered_on}，状态：{}）",
                status.name_zh()
            ),
            IssueRefusal::Suspended {
                issuer,
                day,
                from,
                until,
            } => match until {
                Some(u) => {
                    format!("发证机构“{issuer}”在 {day} 处于暂停期（自 {from} 起暂停，{u} 恢复）")
                }
                None => {
                    format!("发证机构“{issuer}”在 {day} 处于暂停期（自 {from} 起暂停，尚未恢复）")
                }
            },
            IssueRefusal::NoOccupationOrLevel => "职业技能等级证书须载明职业和等级".to_string(),
            IssueRefusal::OutOfScope {
                issuer,
                occupation,
                level,
            } => format!(
                "评价机构“{issuer}”未备案评价职业 {occupation} 的{}",
                level.name_zh()
            ),
            IssueRefusal::GrantEnded {
                issuer,
                kind,
                occupation,
                level,
                ended,
                day,
            } => format!(
                "发证机构“{issuer}”颁发 {kind} 类证书{}的权限已于 {ended} 终止，{day} 已无此权限",
                scope_zh(occupation, level)
            ),
            IssueRefusal::GrantNotYetInForce {
                issuer,
                kind,
                occupation,
                level,
                from,
                day,
            } => format!(
                "发证机构“{issuer}”颁发 {kind} 类证书{}的权限自 {from} 起生效，{day} 尚无此权限",
                scope_zh(occupation, level)
            ),
        }
    }
}

/// A change to the issuer register. Changes are applied one by one with
/// [`IssuerChange::apply`]; none overwrites history. Stored as JSON with a `"change"` tag:
/// `{"change": "suspended", "from": "2026-03-01", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum IssuerChange {
    /// A new issuer, with the grants (and any history) it is registered with.
    Registered(Issuer),
    /// A new right. It must fit the issuer and not overlap a right it holds.
    ScopeGranted(Grant),
    /// Closes the grants of `kind` (for an institution, of `occupation`, at `levels`, or all
    /// its levels when `levels` is empty) in force on `last_day` and after, so that `last_day`
    /// is their last day in force. A grant only some of whose levels are withdrawn is split in
    /// two: the withdrawn levels, closed, and the others, kept as they were. Grants that start
    /// after `last_day` are left alone.
    ScopeWithdrawn {
        kind: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        occupation: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        levels: Vec<Level>,
        #[serde(deserialize_with = "day_serde::deserialize")]
        last_day: Day,
    },
    /// A suspension from `from`, until a reinstatement. It may not overlap an earlier
    /// period, so it starts on or after the last reinstatement.
    Suspended {
        #[serde(deserialize_with = "day_serde::deserialize")]
        from: Day,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Ends the suspension in force: the issuer may issue again from `on`.
    Reinstated {
        #[serde(deserialize_with = "day_serde::deserialize")]
        on: Day,
    },
    /// Removal from the register: nothing issued from `on` is accepted. Final.
    Removed {
        #[serde(deserialize_with = "day_serde::deserialize")]
        on: Day,
    },
}

/// Why an [`IssuerChange`] cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerRefusal {
    #[error(
        "issuer \"{id}\" is already registered: a registration is never replaced, only changed"
    )]
    AlreadyRegistered { id: String },
    #[error("the issuer is not registered: register it before changing it")]
    NotRegistered,
    #[error("issuer \"{issuer}\" was removed from the register on {on}: its record is closed")]
    Removed { issuer: String, on: Day },
    #[error("issuer \"{issuer}\": the grant of {kind} does not fit {}", fit_en(*.role))]
    GrantDoesNotFit {
        issuer: String,
        kind: String,
        role: IssuerRole,
    },
    #[error(
        "issuer \"{issuer}\": the grant of {kind} ends on {valid_until}, before it starts on {valid_from}"
    )]
    GrantEndsBeforeItStarts {
        issuer: String,
        kind: String,
        valid_from: Day,
        valid_until: Day,
    },
    #[error(
        "issuer \"{issuer}\" was registered on {registered_on}: nothing about it can take effect on {day}, before that"
    )]
    BeforeRegistration {
        issuer: String,
        day: Day,
        registered_on: Day,
    },
    #[error(
        "issuer \"{issuer}\" already holds the right to issue {kind}{} in a period overlapping this one (the grant from {existing_from})",
        scope_en(.occupation, .level)
    )]
    GrantOverlaps {
        issuer: String,
        kind: String,
        occupation: Option<String>,
        level: Option<Level>,
        existing_from: Day,
    },
    #[error(
        "issuer \"{issuer}\" holds no grant of {kind}{}{} in force on {on} and after: nothing to withdraw",
        .occupation.as_deref().map(|o| format!(" for occupation {o}")).unwrap_or_default(),
        levels_en(.levels)
    )]
    NotGranted {
        issuer: String,
        kind: String,
        occupation: Option<String>,
        levels: Vec<Level>,
        on: Day,
    },
    #[error("issuer \"{issuer}\" is already suspended from {from}{}", .until.map(|u| format!(" until {u}")).unwrap_or_default())]
    AlreadySuspended {
        issuer: String,
        from: Day,
        until: Option<Day>,
    },
    #[error("issuer \"{issuer}\" is not suspended on {on}: there is nothing to reinstate")]
    NotSuspended { issuer: String, on: Day },
    #[error(
        "issuer \"{issuer}\" was suspended from {from}: a reinstatement must come after that, not on {on}"
    )]
    ReinstatedBeforeSuspension { issuer: String, from: Day, on: Day },
}

fn fit_en(role: IssuerRole) -> &'static str {
    match role {
        IssuerRole::Authority => {
            "an authority: its grants name a kind only, no occupation or levels"
        }
        IssuerRole::Institution => {
            "an institution: its grants name one occupation and at least one level"
        }
    }
}

fn levels_en(levels: &[Level]) -> String {
    if levels.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = levels.iter().map(|l| l.id()).collect();
    format!(" at level(s) {}", ids.join(", "))
}

impl IssuerRefusal {
    /// The refusal in Chinese.
    pub fn describe_zh(&self) -> String {
        match self {
            IssuerRefusal::AlreadyRegistered { id } => {
                format!("发证机构“{id}”已登记：登记不可覆盖，只能变更")
            }
            IssuerRefusal::NotRegistered => "该机构尚未登记：须先登记，才能变更".into(),
            IssuerRefusal::Removed { issuer, on } => {
                format!("发证机构“{issuer}”已于 {on} 被移出名录，其记录已关闭")
            }
            IssuerRefusal::GrantDoesNotFit { issuer, kind, role } => format!(
                "发证机构“{issuer}”：{kind} 的授权不符合{}",
                match role {
                    IssuerRole::Authority => "发证机关的要求（只载明证书种类，不载明职业和等级）",
                    IssuerRole::Institution => "评价机构的要求（须载明一个职业和至少一个等级）",
                }
            ),
            IssuerRefusal::GrantEndsBeforeItStarts {
                issuer,
                kind,
                valid_from,
                valid_until,
            } => format!(
                "发证机构“{issuer}”：{kind} 的授权截止于 {valid_until}，早于其生效日 {valid_from}"
            ),
            IssuerRefusal::BeforeRegistration {
                issuer,
                day,
                registered_on,
            } => format!("发证机构“{issuer}”于 {registered_on} 登记，{day} 在登记之前，不能生效"),
            IssuerRefusal::GrantOverlaps {
                issuer,
                kind,
                occupation,
                level,
                existing_from,
            } => format!(
                "发证机构“{issuer}”在重叠的期间内已有颁发 {kind} 类证书{}的权限（自 {existing_from} 起的授权）",
                scope_zh(occupation, level)
            ),
            IssuerRefusal::NotGranted {
                issuer,
                kind,
                occupation,
                levels,
                on,
            } => {
                let mut what = String::new();
                if let Some(o) = occupation {
                    what.push_str(&format!("职业 {o}"));
                }
                if !levels.is_empty() {
                    let names: Vec<&str> = levels.iter().map(|l| l.name_zh()).collect();
                    if !what.is_empty() {
                        what.push('，');
                    }
                    what.push_str(&names.join("、"));
                }
                if !what.is_empty() {
                    what = format!("（{what}）");
                }
                format!(
                    "发证机构“{issuer}”在 {on} 及其后没有颁发 {kind} 类证书{what}的有效授权，无可撤回"
                )
            }
            IssuerRefusal::AlreadySuspended {
                issuer,
                from,
                until,
            } => match until {
                Some(u) => format!("发证机构“{issuer}”已于 {from} 至 {u} 期间被暂停"),
                None => format!("发证机构“{issuer}”自 {from} 起已被暂停"),
            },
            IssuerRefusal::NotSuspended { issuer, on } => {
                format!("发证机构“{issuer}”在 {on} 未被暂停，无需恢复")
            }
            IssuerRefusal::ReinstatedBeforeSuspension { issuer, from, on } => {
                format!("发证机构“{issuer}”自 {from} 起暂停，恢复日期须在此之后，不能是 {on}")
            }
        }
    }
}

impl IssuerChange {
    /// The issuer after this change, from the issuer `before` it (`None` when the id is not
    /// registered). History is never overwritten: grants are closed, not deleted, and
    /// suspensions stay after reinstatement. A removed issuer's record is closed.
    pub fn apply(&self, before: Option<&Issuer>) -> Result<Issuer, IssuerRefusal> {
        let before = match (self, before) {
            (IssuerChange::Registered(new), None) => {
                if let Some((_, refusal)) = new.history_problems().into_iter().next() {
                    return Err(refusal);
                }
                return Ok(new.clone());
            }
            (IssuerChange::Registered(new), Some(_)) => {
                return Err(IssuerRefusal::AlreadyRegistered { id: new.id.clone() });
            }
            (_, None) => return Err(IssuerRefusal::NotRegistered),
            (_, Some(b)) => b,
        };
        if let Some(on) = before.removed_on {
            return Err(IssuerRefusal::Removed {
                issuer: before.id.clone(),
                on,
            });
        }
        let mut after = before.clone();
        match self {
            IssuerChange::Registered(_) => {}
            IssuerChange::ScopeGranted(g) => {
                if let Some(r) = after.grant_problem(g) {
                    return Err(r);
                }
                if let Some(existing) = after
                    .grants
                    .iter()
                    .find_map(|e| e.overlap(g).map(|level| (e, level)))
                {
                    return Err(IssuerRefusal::GrantOverlaps {
                        issuer: after.id.clone(),
                        kind: g.kind.clone(),
                        occupation: g.occupation.clone(),
                        level: existing.1,
                        existing_from: existing.0.valid_from,
                    });
                }
                after.grants.push(g.clone());
            }
            IssuerChange::ScopeWithdrawn {
                kind,
                occupation,
                levels,
                last_day,
            } => after.withdraw(kind, occupation.as_deref(), levels, *last_day)?,
            IssuerChange::Suspended { from, reason } => {
                after.not_before_registration(*from)?;
                let new = Suspension {
                    from: *from,
                    until: None,
                    reason: reason.clone(),
                };
                if let Some(s) = after
                    .suspensions
                    .iter()
                    .find(|s| s.until.is_none() || s.overlaps(&new))
                {
                    return Err(IssuerRefusal::AlreadySuspended {
                        issuer: after.id.clone(),
                        from: s.from,
                        until: s.until,
                    });
                }
                // Not overlapping any period, it starts after all of them.
                after.suspensions.push(new);
            }
            IssuerChange::Reinstated { on } => {
                let id = after.id.clone();
                let Some(open) = after.suspensions.iter_mut().find(|s| s.until.is_none()) else {
                    return Err(IssuerRefusal::NotSuspended {
                        issuer: id,
                        on: *on,
                    });
                };
                if *on <= open.from {
                    return Err(IssuerRefusal::ReinstatedBeforeSuspension {
                        issuer: id,
                        from: open.from,
                        on: *on,
                    });
                }
                open.until = Some(*on);
            }
            IssuerChange::Removed { on } => {
                after.not_before_registration(*on)?;
                after.removed_on = Some(*on);
            }
        }
        Ok(after)
    }
}

impl Issuer {
    fn not_before_registration(&self, day: Day) -> Result<(), IssuerRefusal> {
        if day < self.registered_on {
            return Err(IssuerRefusal::BeforeRegistration {
                issuer: self.id.clone(),
                day,
                registered_on: self.registered_on,
            });
        }
        Ok(())
    }

    /// What is wrong with `g` as one of this issuer's grants, on its own.
    fn grant_problem(&self, g: &Grant) -> Option<IssuerRefusal> {
        if !g.fits(self.role) {
            return Some(IssuerRefusal::GrantDoesNotFit {
                issuer: self.id.clone(),
                kind: g.kind.clone(),
                role: self.role,
            });
        }
        if let Some(until) = g.valid_until.filter(|u| *u < g.valid_from) {
            return Some(IssuerRefusal::GrantEndsBeforeItStarts {
                issuer: self.id.clone(),
                kind: g.kind.clone(),
                valid_from: g.valid_from,
                valid_until: until,
            });
        }
        self.not_before_registration(g.valid_from).err()
    }

    /// Every inconsistency of the issuer's history, policy aside, each with the field it is
    /// in: grants that do not fit its role, end before they start, start before registration
    /// or overlap another; suspensions before registration, reinstated before they start or
    /// overlapping; a removal before registration.
    fn history_problems(&self) -> Vec<(String, IssuerRefusal)> {
        let mut out = Vec::new();
        for (i, g) in self.grants.iter().enumerate() {
            if let Some(r) = self.grant_problem(g) {
                out.push((format!("grants[{i}]"), r));
            }
            if let Some((e, level)) = self.grants[..i]
                .iter()
                .find_map(|e| e.overlap(g).map(|level| (e, level)))
            {
                out.push((
                    format!("grants[{i}]"),
                    IssuerRefusal::GrantOverlaps {
                        issuer: self.id.clone(),
                        kind: g.kind.clone(),
                        occupation: g.occupation.clone(),
                        level,
                        existing_from: e.valid_from,
                    },
                ));
            }
        }
        for (i, s) in self.suspensions.iter().enumerate() {
            let field = format!("suspensions[{i}]");
            if let Err(r) = self.not_before_registration(s.from) {
                out.push((field.clone(), r));
            }
            if let Some(until) = s.until.filter(|u| *u <= s.from) {
                out.push((
                    field.clone(),
                    IssuerRefusal::ReinstatedBeforeSuspension {
                        issuer: self.id.clone(),
                        from: s.from,
                        on: until,
                    },
                ));
            }
            if let Some(e) = self.suspensions[..i].iter().find(|e| e.overlaps(s)) {
                out.push((
                    field,
                    IssuerRefusal::AlreadySuspended {
                        issuer: self.id.clone(),
                        from: e.from,
                        until: e.until,
                    },
                ));
            }
        }
        if let Some(on) = self.removed_on
            && let Err(r) = self.not_before_registration(on)
        {
            out.push(("removed_on".into(), r));
        }
        out
    }

    fn withdraw(
        &mut self,
        kind: &str,
        occupation: Option<&str>,
        levels: &[Level],
        last_day: Day,
    ) -> Result<(), IssuerRefusal> {
        // In force on `last_day` and after it.
        let open = |g: &Grant| {
            g.kind == kind
                && g.occupation.as_deref() == occupation
                && g.valid_from <= last_day
                && g.valid_until.is_none_or(|u| u > last_day)
        };
        let not_granted = |levels: Vec<Level>| IssuerRefusal::NotGranted {
            issuer: self.id.clone(),
            kind: kind.to_string(),
            occupation: occupation.map(str::to_string),
            levels,
            on: last_day,
        };
        if !self.grants.iter().any(open) {
            return Err(not_granted(levels.to_vec()));
        }
        let missing: Vec<Level> = levels
            .iter()
            .filter(|l| !self.grants.iter().any(|g| open(g) && g.levels.contains(l)))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(not_granted(missing));
        }
        let mut i = 0;
        while i < self.grants.len() {
            if !open(&self.grants[i]) {
                i += 1;
                continue;
            }
            let g = &mut self.grants[i];
            let (withdrawn, kept): (Vec<Level>, Vec<Level>) = g
                .levels
                .iter()
                .partition(|l| levels.is_empty() || levels.contains(l));
            if !levels.is_empty() && withdrawn.is_empty() {
                i += 1;
                continue;
            }
            let rest = (!kept.is_empty()).then(|| Grant {
                levels: kept,
                ..g.clone()
            });
            g.levels = withdrawn;
            g.valid_until = Some(last_day);
            i += 1;
            if let Some(rest) = rest {
                self.grants.insert(i, rest);
                i += 1;
            }
        }
        Ok(())
    }
}

impl Issuer {
    /// Checks the issuer against the policy: its department, region and grants must exist and
    /// fit together, and its history must be consistent. Returns every problem, each naming
    /// its field.
    pub fn check(&self, policy: &crate::policy::Policy) -> Vec<String> {
        let mut out = Vec::new();
        if !crate::ids::is_dotted_id(&self.id) {
            out.push(format!(
                "id \"{}\" must be lower-case ASCII letters, digits, hyphens and dots",
                self.id
            ));
        }
        if self.name_zh.trim().is_empty() {
            out.push("name_zh is empty".into());
        }
        if policy.department(&self.department).is_none() {
            out.push(format!(
                "department \"{}\" is not defined in the policy",
                self.department
            ));
        }
        if let Some(r) = &self.region
            && policy.region(r).is_none()
        {
            out.push(format!(
                "region \"{r}\" is not a province code of the policy"
            ));
        }
        if self.grants.is_empty() {
            out.push(match self.role {
                IssuerRole::Authority => {
                    "grants is empty: an issuer is granted at least one kind".into()
                }
                IssuerRole::Institution => {
                    "grants is empty: an institution is registered for occupations and levels"
                        .into()
                }
            });
        }
        for (i, g) in self.grants.iter().enumerate() {
            let k = &g.kind;
            match policy.kind(k) {
                None => out.push(format!(
                    "grants[{i}]: \"{k}\" is not a certificate kind of the policy"
                )),
                Some(kind) if kind.department != self.department => out.push(format!(
                    "grants[{i}]: {k} belongs to {}, not to {}",
                    kind.department, self.department
                )),
                Some(kind) if kind.skill_level != (self.role == IssuerRole::Institution) => out.push(format!(
                    "grants[{i}]: {k}: skill level certificates are issued by institutions, other kinds by authorities"
                )),
                _ => {}
            }
            if let Some(occ) = &g.occupation {
                match policy.occupation(occ) {
                    None => out.push(format!(
                        "grants[{i}]: occupation \"{occ}\" is not defined in the policy"
                    )),
                    Some(o) => {
                        for l in &g.levels {
                            if !o.levels.contains(l) {
                                out.push(format!("grants[{i}]: occupation {occ} has no level {l}"));
                            }
                        }
                    }
                }
            }
        }
        for (field, problem) in self.history_problems() {
            out.push(format!("{field}: {problem}"));
        }
        if self.role == IssuerRole::Institution {
            match self.institution_type.as_deref() {
                Some("Y") | Some("S") => {}
                _ => out.push(
                    "institution_type must be \"Y\" (employer) or \"S\" (social organisation)"
                        .into(),
                ),
            }
            let code_ok = self
                .institution_code
                .as_deref()
                .is_some_and(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()));
            if !code_ok {
                out.push("institution_code must be the 4-digit code of the institution's certificate numbers".into());
            }
            if self.region.is_none() {
                out.push(
                    "region is required for an institution (its numbers carry the province)".into(),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
