//! Issuers: department authorities and registered evaluation institutions.

use serde::{Deserialize, Serialize};

use crate::date::{Day, day_serde};
use crate::ids::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerRole {
    /// A department's certifying authority (a provincial emergency management department, …).
    Authority,
    /// A skill level evaluation institution registered (备案) with MoHRSS or a province.
    Institution,
}

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

/// One occupation an institution may evaluate, at the levels listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeEntry {
    pub occupation: String,
    pub levels: Vec<Level>,
}

/// A registered issuer. This is also the `[[issuer]]` entry of an issuers file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Stable id, lower-case ASCII with hyphens and dots: `mem.44`, `inst.s0000-44-000123`.
    pub id: String,
    pub name_zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    pub department: String,
    pub role: IssuerRole,
    /// Province code (GB/T 2260); none for a national body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The certificate kinds it may issue.
    pub kinds: Vec<String>,
    /// For institutions: the occupations and levels it is registered for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopeEntry>,
    /// For institutions: `Y` (employer) or `S` (social training-evaluation organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_type: Option<String>,
    /// For institutions: the 4-digit code in their certificate numbers (`0000` when provincial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_code: Option<String>,
    #[serde(deserialize_with = "day_serde::deserialize")]
    pub registered_on: Day,
    #[serde(default)]
    pub status: IssuerStatus,
    /// When the current status took effect (suspension or removal date).
    #[serde(
        default,
        deserialize_with = "day_serde::option::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_since: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

impl Issuer {
    /// Whether the issuer was registered and in good standing on `day`.
    pub fn was_active_on(&self, day: Day) -> bool {
        if day < self.registered_on {
            return false;
        }
        match (self.status, self.status_since) {
            (IssuerStatus::Registered, _) => true,
            (_, Some(since)) => day < since,
            (_, None) => false,
        }
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
    /// language.
    pub fn issue_right(
        &self,
        kind: &str,
        occupation: Option<&str>,
        level: Option<Level>,
        day: Day,
    ) -> Result<(), IssueRefusal> {
        if !self.kinds.iter().any(|k| k == kind) {
            return Err(IssueRefusal::KindNotRegistered {
                issuer: self.id.clone(),
                kind: kind.to_string(),
            });
        }
        if !self.was_active_on(day) {
            return Err(IssueRefusal::NotInGoodStanding {
                issuer: self.id.clone(),
                day,
                registered_on: self.registered_on,
                status: self.status,
            });
        }
        if self.role == IssuerRole::Institution {
            let (Some(occ), Some(level)) = (occupation, level) else {
                return Err(IssueRefusal::NoOccupationOrLevel);
            };
            let in_scope = self
                .scope
                .iter()
                .any(|s| s.occupation == occ && s.levels.contains(&level));
            if !in_scope {
                return Err(IssueRefusal::OutOfScope {
                    issuer: self.id.clone(),
                    occupation: occ.to_string(),
                    level,
                });
            }
        }
        Ok(())
    }
}

/// Why an issuer could not have issued a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueRefusal {
    KindNotRegistered {
        issuer: String,
        kind: String,
    },
    NotInGoodStanding {
        issuer: String,
        day: Day,
        registered_on: Day,
        status: IssuerStatus,
    },
    NoOccupationOrLevel,
    OutOfScope {
        issuer: String,
        occupation: String,
        level: Level,
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
            IssueRefusal::NoOccupationOrLevel => "职业技能等级证书须载明职业和等级".to_string(),
            IssueRefusal::OutOfScope {
                issuer,
                occupation,
                level,
            } => format!(
                "评价机构“{issuer}”未备案评价职业 {occupation} 的{}",
                level.name_zh()
            ),
        }
    }
}

impl Issuer {
    /// Checks the issuer against the policy: its department, region, kinds and scope must exist
    /// and fit together. Returns every problem, each naming its field.
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
        if self.kinds.is_empty() {
            out.push("kinds is empty: an issuer issues at least one kind".into());
        }
        for k in &self.kinds {
            match policy.kind(k) {
                None => out.push(format!("kinds: \"{k}\" is not a certificate kind of the policy")),
                Some(kind) if kind.department != self.department => {
                    out.push(format!("kinds: {k} belongs to {}, not to {}", kind.department, self.department))
                }
                Some(kind) if kind.skill_level != (self.role == IssuerRole::Institution) => out.push(format!(
                    "kinds: {k}: skill level certificates are issued by institutions, other kinds by authorities"
                )),
                _ => {}
            }
        }
        if self.role == IssuerRole::Institution {
            if self.scope.is_empty() {
                out.push(
                    "scope is empty: an institution is registered for occupations and levels"
                        .into(),
                );
            }
            for s in &self.scope {
                match policy.occupation(&s.occupation) {
                    None => out.push(format!(
                        "scope: occupation \"{}\" is not defined in the policy",
                        s.occupation
                    )),
                    Some(o) => {
                        for l in &s.levels {
                            if !o.levels.contains(l) {
                                out.push(format!(
                                    "scope: occupation {} has no level {l}",
                                    s.occupation
                                ));
                            }
                        }
                    }
                }
            }
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
        } else if !self.scope.is_empty() {
            out.push("scope is for institutions; an authority lists the kinds it issues".into());
        }
        if self.status != IssuerStatus::Registered && self.status_since.is_none() {
            out.push(format!(
                "status_since: a {} issuer needs the date it took effect",
                self.status.id()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst() -> Issuer {
        Issuer {
            id: "inst.s0000-44-000001".into(),
            name_zh: "广东某职业技能等级认定中心".into(),
            name_en: None,
            department: "mohrss".into(),
            role: IssuerRole::Institution,
            region: Some("44".into()),
            kinds: vec!["mohrss.skill-level".into()],
            scope: vec![ScopeEntry {
                occupation: "6-18-02-04".into(),
                levels: vec![Level::L5, Level::L4],
            }],
            institution_type: Some("S".into()),
            institution_code: Some("0000".into()),
            registered_on: "2021-01-01".parse().unwrap(),
            status: IssuerStatus::Removed,
            status_since: Some("2025-01-01".parse().unwrap()),
            contact: None,
        }
    }

    #[test]
    fn scope_and_registration_dates_limit_issuing() {
        let i = inst();
        let day = "2024-06-01".parse().unwrap();
        assert!(
            i.may_issue(
                "mohrss.skill-level",
                Some("6-18-02-04"),
                Some(Level::L4),
                day
            )
            .is_ok()
        );
        let err = i
            .may_issue(
                "mohrss.skill-level",
                Some("6-18-02-04"),
                Some(Level::L3),
                day,
            )
            .unwrap_err();
        assert!(err.contains("at level 3"), "{err}");
        assert!(
            i.may_issue("mem.electrical.low-voltage", None, None, day)
                .is_err()
        );
        let before = "2020-12-31".parse().unwrap();
        assert!(
            i.may_issue(
                "mohrss.skill-level",
                Some("6-18-02-04"),
                Some(Level::L4),
                before
            )
            .is_err()
        );
        let after_removal = "2025-01-01".parse().unwrap();
        assert!(
            i.may_issue(
                "mohrss.skill-level",
                Some("6-18-02-04"),
                Some(Level::L4),
                after_removal
            )
            .is_err()
        );
    }

    #[test]
    fn issuers_read_from_toml() {
        let text = r#"
            id = "mem.44"
            name_zh = "广东省应急管理厅"
            department = "mem"
            role = "authority"
            region = "44"
            kinds = ["mem.electrical.low-voltage"]
            registered_on = 2019-01-01
        "#;
        let i: Issuer = toml::from_str(text).unwrap();
        assert_eq!(i.registered_on.to_string(), "2019-01-01");
        assert_eq!(i.status, IssuerStatus::Registered);
        let bad = text.replace("region", "regoin");
        assert!(
            toml::from_str::<Issuer>(&bad)
                .unwrap_err()
                .to_string()
                .contains("regoin")
        );
    }
}
