//! Who may write what: the actors a token is bound to, the actions of the write side, and
//! [`authorize`], the one function that decides.
//!
//! The matrix (region `None` is national, which covers every region):
//!
//! | right | regulator (`mohrss`) | authority (`mem`, `mohurd`, `samr`) | institution |
//! |---|---|---|---|
//! | `issue` | no | its department's kinds, through an issuer record of its department in its region, within the record's grants on the day | as itself, within its grants on the day |
//! | `manage-certificate` | no | its department's kinds, issued by a record of its department in its region | the certificates it issued |
//! | `read-history` | certificates whose issuer is in its region | its department's kinds, any region | the certificates it issued |
//! | `manage-issuer` | institutions of its department in its region | no | no |
//! | `create-token` | for actors in its region | no | no |
//! | `revoke-token` | tokens of actors in its region | only tokens bound to itself | only tokens bound to itself |
//! | `publish-policy` | national regulator only | no | no |
//! | `read-feed` | within its region | its department | its own certificates |
//!
//! Every actor may revoke the tokens bound to itself (a leaked token is killed by its holder
//! without waiting for a regulator): revoking never widens what anyone can do.
//!
//! **The public writes nothing.** A request without a token, or with an unknown, expired or
//! revoked one, is answered 401 by the caller before [`authorize`] is called (see
//! [`crate::token`]); [`authorize`] only ever sees an actor, and its refusal is a 403.
//!
//! Local commands (`hutong import`, `hutong tokens create` run on the server) act as the
//! operator and do not pass through here: that is how the first national regulator's token is
//! made.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::certificate::Certificate;
use crate::date::Day;
use crate::ids::Level;
use crate::issuer::{Issuer, IssuerRole};
use crate::policy::Policy;

/// The one party a token acts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Actor {
    /// The department that registers evaluation institutions (`mohrss`), nationally or for one
    /// province.
    Regulator {
        department: String,
        /// A GB/T 2260 province code of the policy; none for the national regulator.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    },
    /// A department that issues its own certificate kinds (`mem`, `mohurd`, `samr`), nationally
    /// or for one province.
    Authority {
        department: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    },
    /// One registered evaluation institution, by its issuer id.
    Institution { issuer: String },
}

impl Actor {
    /// The issuer id of an institution, which [`Actor::check`] wants the record of.
    pub fn issuer_id(&self) -> Option<&str> {
        match self {
            Actor::Institution { issuer } => Some(issuer),
            _ => None,
        }
    }

    /// Every reason the actor cannot be given a token under `policy`, each naming its field;
    /// empty when it can. `issuer` is the registered record of [`Actor::issuer_id`] as the
    /// caller looked it up (`None` when there is none); it is not read for other actors.
    ///
    /// A regulator's department must register institutions (own a skill level kind), an
    /// authority's must issue kinds of its own (own a kind that is not a skill level kind), a
    /// region must be a province code of the policy, and an institution must be a registered
    /// institution that is not removed.
    pub fn check(&self, policy: &Policy, issuer: Option<&Issuer>) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Actor::Regulator { department, region } | Actor::Authority { department, region } => {
                let regulator = matches!(self, Actor::Regulator { .. });
                if policy.department(department).is_none() {
                    out.push(format!(
                        "department \"{department}\" is not defined in the policy"
                    ));
                } else if regulator && !registers_institutions(policy, department) {
                    out.push(format!(
                        "department: {department} registers no evaluation institutions \
                         (it has no skill level kind), so it is not a regulator"
                    ));
                } else if !regulator && !issues_own_kinds(policy, department) {
                    out.push(format!(
                        "department: {department} has no certificate kind issued by \
                         authorities, so it is not an authority"
                    ));
                }
                if let Some(r) = region
                    && policy.region(r).is_none()
                {
                    out.push(format!(
                        "region \"{r}\" is not a province code of the policy"
                    ));
                }
            }
            Actor::Institution { issuer: id } => {
                if !crate::ids::is_dotted_id(id) {
                    out.push(format!(
                        "issuer \"{id}\" must be lower-case ASCII letters, digits, hyphens and dots"
                    ));
                }
                match issuer.filter(|i| i.id == *id) {
                    None => out.push(format!("issuer: \"{id}\" is not a registered issuer")),
                    Some(i) if i.role != IssuerRole::Institution => out.push(format!(
                        "issuer: {id} is a department authority, not an institution \
                         (its token is an authority's)"
                    )),
                    Some(i) if i.removed_on.is_some() => {
                        out.push(format!("issuer: {id} is removed from the register"))
                    }
                    Some(_) => {}
                }
            }
        }
        out
    }

    /// One line for `hutong tokens list`: `regulator mohrss, national`,
    /// `authority mem, region 44`, `institution inst.s0000-44-000123`.
    pub fn describe(&self) -> String {
        match self {
            Actor::Regulator { department, region } | Actor::Authority { department, region } => {
                let role = if matches!(self, Actor::Regulator { .. }) {
                    "regulator"
                } else {
                    "authority"
                };
                match region {
                    None => format!("{role} {department}, national"),
                    Some(r) => format!("{role} {department}, region {r}"),
                }
            }
            Actor::Institution { issuer } => format!("institution {issuer}"),
        }
    }

    /// The widest [`FeedScope`] the actor may read: what the feed shows it when it asks for no
    /// narrower one.
    pub fn feed_scope(&self) -> FeedScope<'_> {
        match self {
            Actor::Regulator { region, .. } => FeedScope {
                region: region.as_deref(),
                ..FeedScope::default()
            },
            Actor::Authority { department, .. } => FeedScope {
                department: Some(department),
                ..FeedScope::default()
            },
            Actor::Institution { issuer } => FeedScope {
                issuer: Some(issuer),
                ..FeedScope::default()
            },
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A change to one certificate, after it is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateChange {
    Review,
    Renew,
    Suspend,
    Reinstate,
    /// Revocation with a status reason (`withdrawn`, `annulled`, `issued-in-error`).
    Revoke,
    /// 注销: death, the holder's request, or after 撤销.
    Cancel,
    CorrectName,
}

impl CertificateChange {
    pub const ALL: [CertificateChange; 7] = [
        CertificateChange::Review,
        CertificateChange::Renew,
        CertificateChange::Suspend,
        CertificateChange::Reinstate,
        CertificateChange::Revoke,
        CertificateChange::Cancel,
        CertificateChange::CorrectName,
    ];

    pub fn id(self) -> &'static str {
        match self {
            CertificateChange::Review => "review",
            CertificateChange::Renew => "renew",
            CertificateChange::Suspend => "suspend",
            CertificateChange::Reinstate => "reinstate",
            CertificateChange::Revoke => "revoke",
            CertificateChange::Cancel => "cancel",
            CertificateChange::CorrectName => "correct-name",
        }
    }
}

/// A change to the register of issuers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssuerChange {
    Register,
    Grant,
    Withdraw,
    Suspend,
    Reinstate,
    Remove,
}

impl IssuerChange {
    pub const ALL: [IssuerChange; 6] = [
        IssuerChange::Register,
        IssuerChange::Grant,
        IssuerChange::Withdraw,
        IssuerChange::Suspend,
        IssuerChange::Reinstate,
        IssuerChange::Remove,
    ];

    pub fn id(self) -> &'static str {
        match self {
            IssuerChange::Register => "register",
            IssuerChange::Grant => "grant",
            IssuerChange::Withdraw => "withdraw",
            IssuerChange::Suspend => "suspend",
            IssuerChange::Reinstate => "reinstate",
            IssuerChange::Remove => "remove",
        }
    }
}

/// Which entries of the change feed a request asks for; each `None` leaves that side open.
/// Entries about certificates match by their kind's department, their issuer's region and
/// their issuer; entries about issuers by the issuer's department, region and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedScope<'a> {
    pub department: Option<&'a str>,
    pub region: Option<&'a str>,
    pub issuer: Option<&'a str>,
}

/// What a token asks to do, with the records the decision needs (the caller looks them up).
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Issue a certificate of `kind` through `issuer`'s record, dated `day` (its issue date:
    /// the grants in force on that day decide).
    Issue {
        kind: &'a str,
        issuer: &'a Issuer,
        occupation: Option<&'a str>,
        level: Option<Level>,
        day: Day,
    },
    /// Change a certificate; `issuer` is the record of `certificate.issuer`.
    ManageCertificate {
        change: CertificateChange,
        certificate: &'a Certificate,
        issuer: &'a Issuer,
    },
    /// Read a certificate's full history (the journal of its subject); `issuer` is the record
    /// of `certificate.issuer`.
    ReadHistory {
        certificate: &'a Certificate,
        issuer: &'a Issuer,
    },
    /// Change the register: `issuer` is the proposed record for [`IssuerChange::Register`],
    /// the record as it stands for the others.
    ManageIssuer {
        change: IssuerChange,
        issuer: &'a Issuer,
    },
    /// Create a token for `target`; `institution` is the record of an institution target.
    CreateToken {
        target: &'a Actor,
        institution: Option<&'a Issuer>,
    },
    /// Revoke a token bound to `target`; `institution` is the record of an institution target.
    RevokeToken {
        target: &'a Actor,
        institution: Option<&'a Issuer>,
    },
    PublishPolicy,
    /// Read the regulators' figures (`hutong_core::oversight`) of `region` (the country when
    /// none).
    ReadOversight {
        region: Option<&'a str>,
    },
    ReadFeed {
        scope: FeedScope<'a>,
    },
}

impl Action<'_> {
    /// The stable id of the right the action needs, as [`Forbidden::right`] gives it.
    pub fn right(&self) -> &'static str {
        match self {
            Action::Issue { .. } => "issue",
            Action::ManageCertificate { .. } => "manage-certificate",
            Action::ReadHistory { .. } => "read-history",
            Action::ManageIssuer { .. } => "manage-issuer",
            Action::CreateToken { .. } => "create-token",
            Action::RevokeToken { .. } => "revoke-token",
            Action::PublishPolicy => "publish-policy",
            Action::ReadFeed { .. } => "read-feed",
            Action::ReadOversight { .. } => "read-oversight",
        }
    }
}

/// The stable reason codes of [`Forbidden::code`].
pub mod codes {
    /// The actor's role never has this right.
    pub const ROLE_CANNOT: &str = "role-cannot";
    /// The kind, the issuer record or the feed asked for belongs to another department.
    pub const OTHER_DEPARTMENT: &str = "other-department";
    /// The issuer record, the token's actor or the feed asked for is outside the actor's region.
    pub const OUTSIDE_REGION: &str = "outside-region";
    /// Only the national regulator has this right.
    pub const NATIONAL_ONLY: &str = "national-only";
    /// An institution acting on a certificate (or feed) that is not its own.
    pub const NOT_OWN_CERTIFICATE: &str = "not-own-certificate";
    /// An institution issuing through another issuer's record.
    pub const OTHER_ISSUER: &str = "other-issuer";
    /// Outside the issuer record's grants in force on the day.
    pub const OUTSIDE_GRANT: &str = "outside-grant";
    /// A regulator changing the record of a department authority: it manages institutions.
    pub const NOT_AN_INSTITUTION: &str = "not-an-institution";
    /// The kind is not in the policy.
    pub const UNKNOWN_KIND: &str = "unknown-kind";
    /// The record handed in is not the one the action is about (a caller's mistake, refused so
    /// that a wrong lookup never grants a right).
    pub const ISSUER_MISMATCH: &str = "issuer-mismatch";
    /// The actor's department or region is not in the policy, or does not fit its role.
    pub const ACTOR_NOT_IN_POLICY: &str = "actor-not-in-policy";
}

/// Why [`authorize`] refused: a 403 with a problem-details reason. The reasons name the right,
/// the grant or the region, and never a certificate number or an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{reason_en}")]
pub struct Forbidden {
    /// The right refused: `issue`, `manage-certificate`, `read-history`, `manage-issuer`,
    /// `create-token`, `revoke-token`, `publish-policy`, `read-feed`, `read-oversight`.
    pub right: &'static str,
    /// Why, as one of [`codes`].
    pub code: &'static str,
    pub reason_en: String,
    pub reason_zh: String,
}

/// Whether `actor` may do `action` under `policy`: the one function that decides.
///
/// It trusts the records in `action` to be the ones the request is about, and checks what it
/// can of that ([`codes::ISSUER_MISMATCH`]). It does not validate the records themselves
/// (`Issuer::check` does, a 422).
pub fn authorize(actor: &Actor, action: &Action<'_>, policy: &Policy) -> Result<(), Forbidden> {
    let cx = Cx {
        actor,
        policy,
        right: action.right(),
    };
    if let Action::RevokeToken { target, .. } = action
        && *target == actor
    {
        return Ok(());
    }
    cx.fits_policy()?;
    cx.consistent(action)?;
    match actor {
        Actor::Regulator { department, region } => {
            cx.regulator(department, region.as_deref(), action)
        }
        Actor::Authority { department, region } => {
            cx.authority(department, region.as_deref(), action)
        }
        Actor::Institution { issuer } => cx.institution(issuer, action),
    }
}

fn registers_institutions(policy: &Policy, department: &str) -> bool {
    policy
        .kinds
        .values()
        .any(|k| k.department == department && k.skill_level)
}

fn issues_own_kinds(policy: &Policy, department: &str) -> bool {
    policy
        .kinds
        .values()
        .any(|k| k.department == department && !k.skill_level)
}

/// Whether `target` lies in `actor`'s region: a national actor covers every region.
fn within(actor: Option<&str>, target: Option<&str>) -> bool {
    actor.is_none() || actor == target
}

/// The context of one decision, to word refusals.
struct Cx<'p> {
    actor: &'p Actor,
    policy: &'p Policy,
    right: &'static str,
}

impl Cx<'_> {
    fn refuse(&self, code: &'static str, why_en: String, why_zh: String) -> Forbidden {
        let (right_en, right_zh) = right_names(self.right);
        Forbidden {
            right: self.right,
            code,
            reason_en: format!(
                "{} may not {right_en} (right \"{}\"): {why_en}",
                self.actor_en(),
                self.right
            ),
            reason_zh: format!(
                "{}无权{right_zh}（权限 {}）：{why_zh}",
                self.actor_zh(),
                self.right
            ),
        }
    }

    fn region_en(&self, region: Option<&str>) -> String {
        match region {
            None => "national".into(),
            Some(c) => match self.policy.region(c) {
                Some(r) => format!("region {c} ({})", r.name_en),
                None => format!("region {c}"),
            },
        }
    }

    fn region_zh(&self, region: Option<&str>) -> String {
        match region {
            None => "全国".into(),
            Some(c) => match self.policy.region(c) {
                Some(r) => format!("{}（{c}）", r.name_zh),
                None => format!("地区 {c}"),
            },
        }
    }

    fn actor_en(&self) -> String {
        let (role, department, region) = match self.actor {
            Actor::Regulator { department, region } => ("regulator", department, region),
            Actor::Authority { department, region } => ("authority", department, region),
            Actor::Institution { issuer } => return format!("the institution {issuer}"),
        };
        match region {
            None => format!("the national {role} {department}"),
            Some(r) => format!("the {role} {department} of {}", self.region_en(Some(r))),
        }
    }

    fn actor_zh(&self) -> String {
        let (role, department, region) = match self.actor {
            Actor::Regulator { department, region } => ("监管部门", department, region),
            Actor::Authority { department, region } => ("发证部门", department, region),
            Actor::Institution { issuer } => return format!("评价机构 {issuer} "),
        };
        format!("{}{role} {department} ", self.region_zh(region.as_deref()))
    }

    fn role_cannot(&self, why_en: &str, why_zh: &str) -> Forbidden {
        self.refuse(codes::ROLE_CANNOT, why_en.into(), why_zh.into())
    }

    fn outside_region(
        &self,
        own: Option<&str>,
        what_en: &str,
        what_zh: &str,
        target: Option<&str>,
    ) -> Forbidden {
        let theirs_en = match target {
            None => "national".to_string(),
            Some(_) => format!("in {}", self.region_en(target)),
        };
        self.refuse(
            codes::OUTSIDE_REGION,
            format!(
                "{what_en} is {theirs_en}, outside its {}",
                self.region_en(own)
            ),
            format!(
                "{what_zh} 属于{}，不在其辖区{}内",
                self.region_zh(target),
                self.region_zh(own)
            ),
        )
    }

    fn other_department(&self, own: &str, what_en: &str, what_zh: &str, theirs: &str) -> Forbidden {
        self.refuse(
            codes::OTHER_DEPARTMENT,
            format!("{what_en} belongs to {theirs}, not to {own}"),
            format!("{what_zh} 属于 {theirs}，不属于 {own}"),
        )
    }

    /// The actor still fits the policy: a token made under an older policy fails closed.
    fn fits_policy(&self) -> Result<(), Forbidden> {
        let (department, region, regulator) = match self.actor {
            Actor::Regulator { department, region } => (department, region, true),
            Actor::Authority { department, region } => (department, region, false),
            Actor::Institution { .. } => return Ok(()),
        };
        let fits = self.policy.department(department).is_some()
            && if regulator {
                registers_institutions(self.policy, department)
            } else {
                issues_own_kinds(self.policy, department)
            };
        if !fits {
            let role = if regulator { "regulator" } else { "authority" };
            return Err(self.refuse(
                codes::ACTOR_NOT_IN_POLICY,
                format!("the policy has no {role} department {department}"),
                format!("政策中没有部门 {department} 的此类角色"),
            ));
        }
        if let Some(r) = region
            && self.policy.region(r).is_none()
        {
            return Err(self.refuse(
                codes::ACTOR_NOT_IN_POLICY,
                format!("region {r} is not a province code of the policy"),
                format!("地区 {r} 不是政策中的省级行政区划代码"),
            ));
        }
        Ok(())
    }

    /// The records handed in are the ones the action is about.
    fn consistent(&self, action: &Action<'_>) -> Result<(), Forbidden> {
        let mismatch =
            |en: &str, zh: &str| self.refuse(codes::ISSUER_MISMATCH, en.into(), zh.into());
        match action {
            Action::ManageCertificate {
                certificate,
                issuer,
                ..
            }
            | Action::ReadHistory {
                certificate,
                issuer,
            } if certificate.issuer != issuer.id => Err(mismatch(
                "the issuer record given is not the certificate's issuer",
                "所给发证机构记录不是该证书的发证机构",
            )),
            Action::CreateToken {
                target: Actor::Institution { issuer: id },
                institution,
            }
            | Action::RevokeToken {
                target: Actor::Institution { issuer: id },
                institution,
            } if institution.is_none_or(|i| i.id != *id) => Err(mismatch(
                "no registered record of the token's institution was given",
                "未给出令牌所属评价机构的登记记录",
            )),
            _ => Ok(()),
        }
    }

    /// The region of a token's actor; `consistent` has made sure an institution's record is
    /// there.
    fn target_region<'a>(target: &'a Actor, institution: Option<&'a Issuer>) -> Option<&'a str> {
        match target {
            Actor::Regulator { region, .. } | Actor::Authority { region, .. } => region.as_deref(),
            Actor::Institution { .. } => institution.and_then(|i| i.region.as_deref()),
        }
    }

    fn kind_department(&self, kind: &str) -> Result<&str, Forbidden> {
        match self.policy.kind(kind) {
            Some(k) => Ok(&k.department),
            None => Err(self.refuse(
                codes::UNKNOWN_KIND,
                format!("{kind} is not a certificate kind of the policy"),
                format!("{kind} 不是政策中的证书类别"),
            )),
        }
    }

    fn regulator(
        &self,
        department: &str,
        region: Option<&str>,
        action: &Action<'_>,
    ) -> Result<(), Forbidden> {
        match action {
            Action::Issue { .. } | Action::ManageCertificate { .. } => Err(self.role_cannot(
                "a regulator registers institutions and does not issue or change certificates",
                "监管部门负责评价机构备案，不颁发或变更证书",
            )),
            Action::ReadHistory { issuer, .. } => {
                if within(region, issuer.region.as_deref()) {
                    Ok(())
                } else {
                    Err(self.outside_region(
                        region,
                        &format!("the certificate's issuer {}", issuer.id),
                        &format!("该证书的发证机构 {}", issuer.id),
                        issuer.region.as_deref(),
                    ))
                }
            }
            Action::ManageIssuer { issuer, .. } => {
                if issuer.role != IssuerRole::Institution {
                    return Err(self.refuse(
                        codes::NOT_AN_INSTITUTION,
                        format!(
                            "{} is a department authority; a regulator manages institutions",
                            issuer.id
                        ),
                        format!("{} 是发证部门，监管部门管理的是评价机构", issuer.id),
                    ));
                }
                if issuer.department != department {
                    return Err(self.other_department(
                        department,
                        &format!("the institution {}", issuer.id),
                        &format!("评价机构 {}", issuer.id),
                        &issuer.department,
                    ));
                }
                if !within(region, issuer.region.as_deref()) {
                    return Err(self.outside_region(
                        region,
                        &format!("the institution {}", issuer.id),
                        &format!("评价机构 {}", issuer.id),
                        issuer.region.as_deref(),
                    ));
                }
                Ok(())
            }
            Action::CreateToken {
                target,
                institution,
            }
            | Action::RevokeToken {
                target,
                institution,
            } => {
                let theirs = Self::target_region(target, *institution);
                if within(region, theirs) {
                    Ok(())
                } else {
                    Err(self.outside_region(
                        region,
                        &format!("the token's actor ({})", target.describe()),
                        &format!("令牌所属主体（{}）", target.describe()),
                        theirs,
                    ))
                }
            }
            Action::PublishPolicy => {
                if region.is_none() {
                    Ok(())
                } else {
                    Err(self.refuse(
                        codes::NATIONAL_ONLY,
                        "only the national regulator publishes the policy".into(),
                        "只有全国监管部门可以发布政策".into(),
                    ))
                }
            }
            Action::ReadFeed { scope } => {
                if within(region, scope.region) {
                    Ok(())
                } else {
                    Err(self.outside_region(
                        region,
                        "the feed asked for",
                        "所请求的变更流",
                        scope.region,
                    ))
                }
            }
            Action::ReadOversight { region: asked } => {
                if within(region, *asked) {
                    Ok(())
                } else {
                    Err(self.outside_region(
                        region,
                        "the figures asked for",
                        "所请求的监管统计",
                        *asked,
                    ))
                }
            }
        }
    }

    fn authority(
        &self,
        department: &str,
        region: Option<&str>,
        action: &Action<'_>,
    ) -> Result<(), Forbidden> {
        match action {
            Action::Issue {
                kind,
                issuer,
                occupation,
                level,
                day,
            } => {
                let theirs = self.kind_department(kind)?;
                if theirs != department {
                    return Err(self.other_department(
                        department,
                        &format!("the kind {kind}"),
                        &format!("证书类别 {kind}"),
                        theirs,
                    ));
                }
                if self.policy.kind(kind).is_some_and(|k| k.skill_level) {
                    return Err(self.role_cannot(
                        "skill level certificates are issued by evaluation institutions",
                        "职业技能等级证书由评价机构颁发",
                    ));
                }
                self.authority_record(department, region, issuer)?;
                issuer
                    .issue_right(kind, *occupation, *level, *day)
                    .map_err(|r| self.refuse(codes::OUTSIDE_GRANT, r.to_string(), r.describe_zh()))
            }
            Action::ManageCertificate {
                certificate,
                issuer,
                ..
            } => {
                self.own_kind(department, certificate)?;
                self.authority_record(department, region, issuer)
            }
            Action::ReadHistory { certificate, .. } => self.own_kind(department, certificate),
            Action::ManageIssuer { .. } => Err(self.role_cannot(
                "the register of institutions is kept by the regulator",
                "评价机构的备案由监管部门管理",
            )),
            Action::CreateToken { .. } | Action::RevokeToken { .. } => Err(self.role_cannot(
                "tokens are created and revoked by a regulator (an actor may revoke only its own)",
                "令牌由监管部门创建和撤销（主体只能撤销自己的令牌）",
            )),
            Action::PublishPolicy => Err(self.role_cannot(
                "only the national regulator publishes the policy",
                "只有全国监管部门可以发布政策",
            )),
            Action::ReadOversight { .. } => Err(self.role_cannot(
                "the regulators' figures are for regulators",
                "监管统计仅供监管部门查看",
            )),
            Action::ReadFeed { scope } => match scope.department {
                Some(d) if d == department => Ok(()),
                Some(d) => Err(self.other_department(
                    department,
                    "the feed asked for",
                    "所请求的变更流",
                    d,
                )),
                None => Err(self.refuse(
                    codes::OTHER_DEPARTMENT,
                    format!(
                        "an authority reads the feed of its own department only: \
                         ask for department {department}"
                    ),
                    format!("发证部门只能读取本部门的变更流：请指定部门 {department}"),
                )),
            },
        }
    }

    /// An authority acts on certificates of its own department's kinds.
    fn own_kind(&self, department: &str, certificate: &Certificate) -> Result<(), Forbidden> {
        let kind = &certificate.kind;
        let theirs = self.kind_department(kind)?;
        if theirs == department {
            return Ok(());
        }
        Err(self.other_department(
            department,
            &format!("the certificate's kind {kind}"),
            &format!("该证书的类别 {kind}"),
            theirs,
        ))
    }

    /// An authority acts through an issuer record of its department in its region.
    fn authority_record(
        &self,
        department: &str,
        region: Option<&str>,
        issuer: &Issuer,
    ) -> Result<(), Forbidden> {
        if issuer.department != department {
            return Err(self.other_department(
                department,
                &format!("the issuer record {}", issuer.id),
                &format!("发证机构记录 {}", issuer.id),
                &issuer.department,
            ));
        }
        if !within(region, issuer.region.as_deref()) {
            return Err(self.outside_region(
                region,
                &format!("the issuer record {}", issuer.id),
                &format!("发证机构记录 {}", issuer.id),
                issuer.region.as_deref(),
            ));
        }
        Ok(())
    }

    fn institution(&self, own: &str, action: &Action<'_>) -> Result<(), Forbidden> {
        let not_own = || {
            self.refuse(
                codes::NOT_OWN_CERTIFICATE,
                "an institution acts only on the certificates it issued".into(),
                "评价机构只能处理本机构颁发的证书".into(),
            )
        };
        match action {
            Action::Issue {
                kind,
                issuer,
                occupation,
                level,
                day,
            } => {
                if issuer.id != own || issuer.role != IssuerRole::Institution {
                    return Err(self.refuse(
                        codes::OTHER_ISSUER,
                        format!(
                            "an institution issues only as itself, not through the record of {}",
                            issuer.id
                        ),
                        format!(
                            "评价机构只能以本机构名义颁证，不能使用 {} 的记录",
                            issuer.id
                        ),
                    ));
                }
                issuer
                    .issue_right(kind, *occupation, *level, *day)
                    .map_err(|r| self.refuse(codes::OUTSIDE_GRANT, r.to_string(), r.describe_zh()))
            }
            Action::ManageCertificate { certificate, .. }
            | Action::ReadHistory { certificate, .. } => {
                if certificate.issuer == own {
                    Ok(())
                } else {
                    Err(not_own())
                }
            }
            Action::ReadFeed { scope } => {
                if scope.issuer == Some(own) {
                    Ok(())
                } else {
                    Err(not_own())
                }
            }
            Action::ManageIssuer { .. } => Err(self.role_cannot(
                "the register of institutions is kept by the regulator",
                "评价机构的备案由监管部门管理",
            )),
            Action::CreateToken { .. } | Action::RevokeToken { .. } => Err(self.role_cannot(
                "tokens are created and revoked by a regulator (an actor may revoke only its own)",
                "令牌由监管部门创建和撤销（主体只能撤销自己的令牌）",
            )),
            Action::PublishPolicy => Err(self.role_cannot(
                "only the national regulator publishes the policy",
                "只有全国监管部门可以发布政策",
            )),
            Action::ReadOversight { .. } => Err(self.role_cannot(
                "the regulators' figures are for regulators",
                "监管统计仅供监管部门查看",
            )),
        }
    }
}

/// What each right is called in a reason.
fn right_names(right: &str) -> (&'static str, &'static str) {
    match right {
        "issue" => ("issue certificates", "颁发证书"),
        "manage-certificate" => ("change certificates", "变更证书"),
        "read-history" => ("read a certificate's full history", "查阅证书的完整记录"),
        "manage-issuer" => ("manage issuers and their grants", "管理发证机构及其授权"),
        "create-token" => ("create tokens", "创建令牌"),
        "revoke-token" => ("revoke tokens", "撤销令牌"),
        "publish-policy" => ("publish the policy", "发布政策"),
        "read-feed" => ("read the change feed", "读取变更流"),
        _ => ("do this", "执行此操作"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::codes::*;
    use super::*;
    use crate::certificate::AdminState;
    use crate::holder::HolderSecret;
    use crate::idcard::ResidentId;
    use crate::number::mask_id_numbers;

    fn policy() -> Policy {
        Policy::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy")).unwrap()
    }

    fn d(s: &str) -> Day {
        s.parse().unwrap()
    }

    /// Issuers are read from issuers-file TOML, so that fields added to `Issuer` later (dated
    /// grants) do not break the test.
    fn authority(id: &str, department: &str, region: &str, kind: &str) -> Issuer {
        toml::from_str(&format!(
            r#"
            id = "{id}"
            name_zh = "某省发证部门"
            department = "{department}"
            role = "authority"
            region = "{region}"
            kinds = ["{kind}"]
            registered_on = 2019-01-01
            "#
        ))
        .unwrap()
    }

    fn institution(id: &str, region: &str, occupation: &str, levels: &str) -> Issuer {
        toml::from_str(&format!(
            r#"
            id = "{id}"
            name_zh = "某职业技能等级认定中心"
            department = "mohrss"
            role = "institution"
            region = "{region}"
            kinds = ["mohrss.skill-level"]
            institution_type = "S"
            institution_code = "0000"
            registered_on = 2021-01-01
            [[scope]]
            occupation = "{occupation}"
            levels = [{levels}]
            "#
        ))
        .unwrap()
    }

    /// Numbers that embed ID numbers, as special-operation certificates' do: none may show in
    /// a reason.
    const ID_A: &str = "11010519491231002X";
    const ID_B: &str = "440301199001011236";

    fn certificate(number: &str, kind: &str, issuer: &Issuer) -> Certificate {
        let id = ResidentId::parse(ID_A).unwrap();
        Certificate {
            number: number.into(),
            kind: kind.into(),
            holder_key: HolderSecret::from_bytes([3; 32]).key_for(&id),
            holder_name: "张小明".into(),
            occupation: None,
            level: None,
            issuer: issuer.id.clone(),
            issued_on: d("2024-03-01"),
            first_issued_on: d("2024-03-01"),
            valid_until: None,
            last_review_on: None,
            state: AdminState::Active,
        }
    }

    /// The columns of the table, in order.
    fn actors() -> [(&'static str, Actor); 7] {
        [
            (
                "national regulator",
                Actor::Regulator {
                    department: "mohrss".into(),
                    region: None,
                },
            ),
            (
                "provincial regulator 44",
                Actor::Regulator {
                    department: "mohrss".into(),
                    region: Some("44".into()),
                },
            ),
            (
                "national authority mem",
                Actor::Authority {
                    department: "mem".into(),
                    region: None,
                },
            ),
            (
                "provincial authority mem 44",
                Actor::Authority {
                    department: "mem".into(),
                    region: Some("44".into()),
                },
            ),
            (
                "provincial authority mohurd 44",
                Actor::Authority {
                    department: "mohurd".into(),
                    region: Some("44".into()),
                },
            ),
            (
                "institution A (granted 6-31-01-03 at 5 and 4)",
                Actor::Institution {
                    issuer: "inst.s0000-44-000001".into(),
                },
            ),
            (
                "institution B (granted only 6-18-02-04 at 5)",
                Actor::Institution {
                    issuer: "inst.s0000-44-000002".into(),
                },
            ),
        ]
    }

    const OK: Option<&str> = None;
    const ROLE: Option<&str> = Some(ROLE_CANNOT);
    const DEPT: Option<&str> = Some(OTHER_DEPARTMENT);
    const REGION: Option<&str> = Some(OUTSIDE_REGION);
    const NOT_OWN: Option<&str> = Some(NOT_OWN_CERTIFICATE);
    const OTHER: Option<&str> = Some(OTHER_ISSUER);
    const GRANT: Option<&str> = Some(OUTSIDE_GRANT);
    const NOT_INST: Option<&str> = Some(NOT_AN_INSTITUTION);
    const MISMATCH: Option<&str> = Some(ISSUER_MISMATCH);
    const NATIONAL: Option<&str> = Some(NATIONAL_ONLY);

    /// The whole matrix: every action against every actor of [`actors`], with the expected
    /// refusal code (`OK` for allowed).
    #[test]
    fn the_rights_matrix() {
        let p = policy();
        let [_, _, nat_auth, prov_auth, _, (_, inst_a_actor), _] = actors();
        let prov_auth = prov_auth.1;
        let nat_auth = nat_auth.1;
        let regulator_44 = actors()[1].1.clone();
        let regulator_nat = actors()[0].1.clone();

        let mem_44 = authority("mem.44", "mem", "44", "mem.electrical.low-voltage");
        let mem_32 = authority("mem.32", "mem", "32", "mem.electrical.low-voltage");
        let mohurd_44 = authority(
            "mohurd.44",
            "mohurd",
            "44",
            "mohurd.construction.electrician",
        );
        let inst_a = institution("inst.s0000-44-000001", "44", "6-31-01-03", r#""5", "4""#);
        let inst_b = institution("inst.s0000-44-000002", "44", "6-18-02-04", r#""5""#);
        let inst_c = institution("inst.s0000-32-000003", "32", "6-31-01-03", r#""4""#);

        let cert_mem_44 = certificate(&format!("T{ID_A}"), "mem.electrical.low-voltage", &mem_44);
        let cert_mem_32 = certificate(&format!("T{ID_B}"), "mem.electrical.low-voltage", &mem_32);
        let cert_mohurd = certificate(
            "粤A042024000123",
            "mohurd.construction.electrician",
            &mohurd_44,
        );
        let mut cert_a = certificate("S000044000001244000042", "mohrss.skill-level", &inst_a);
        cert_a.occupation = Some("6-31-01-03".into());
        cert_a.level = Some(Level::L4);
        let cert_c = Certificate {
            number: "S000032000003244000007".into(),
            issuer: inst_c.id.clone(),
            ..cert_a.clone()
        };
        let numbers: Vec<&str> = [&cert_mem_44, &cert_mem_32, &cert_mohurd, &cert_a, &cert_c]
            .iter()
            .map(|c| c.number.as_str())
            .collect();

        let day = d("2024-06-01");
        let issue = |kind, issuer, occupation, level, day| Action::Issue {
            kind,
            issuer,
            occupation,
            level,
            day,
        };
        let skill = Some("6-31-01-03");
        let inst_a_target = inst_a_actor.clone();
        let mem_32_actor = Actor::Authority {
            department: "mem".into(),
            region: Some("32".into()),
        };
        let inst_c_target = Actor::Institution {
            issuer: inst_c.id.clone(),
        };

        let mut rows: Vec<(String, Action, [Option<&str>; 7])> = vec![
            // Issuing. Columns: national regulator, regulator 44, national mem, mem 44,
            // mohurd 44, institution A, institution B.
            (
                "issue mem kind through mem.44".into(),
                issue("mem.electrical.low-voltage", &mem_44, None, None, day),
                [ROLE, ROLE, OK, OK, DEPT, OTHER, OTHER],
            ),
            (
                "issue mem kind through mem.32".into(),
                issue("mem.electrical.low-voltage", &mem_32, None, None, day),
                [ROLE, ROLE, OK, REGION, DEPT, OTHER, OTHER],
            ),
            (
                "issue mem kind through mem.44 before its registration".into(),
                issue(
                    "mem.electrical.low-voltage",
                    &mem_44,
                    None,
                    None,
                    d("2018-12-31"),
                ),
                [ROLE, ROLE, GRANT, GRANT, DEPT, OTHER, OTHER],
            ),
            (
                "issue a mem kind mem.44 is not registered for".into(),
                issue("mem.welding.brazing", &mem_44, None, None, day),
                [ROLE, ROLE, GRANT, GRANT, DEPT, OTHER, OTHER],
            ),
            (
                "issue mem kind through mohurd.44's record".into(),
                issue("mem.electrical.low-voltage", &mohurd_44, None, None, day),
                [ROLE, ROLE, DEPT, DEPT, DEPT, OTHER, OTHER],
            ),
            (
                "issue mohurd kind through mohurd.44".into(),
                issue(
                    "mohurd.construction.electrician",
                    &mohurd_44,
                    None,
                    None,
                    day,
                ),
                [ROLE, ROLE, DEPT, DEPT, OK, OTHER, OTHER],
            ),
            (
                "issue a kind not in the policy".into(),
                issue("mem.no-such-kind", &mem_44, None, None, day),
                [
                    ROLE,
                    ROLE,
                    Some(UNKNOWN_KIND),
                    Some(UNKNOWN_KIND),
                    Some(UNKNOWN_KIND),
                    OTHER,
                    OTHER,
                ],
            ),
            (
                "issue skill level 6-31-01-03 at 4 through institution A".into(),
                issue("mohrss.skill-level", &inst_a, skill, Some(Level::L4), day),
                [ROLE, ROLE, DEPT, DEPT, DEPT, OK, OTHER],
            ),
            (
                "issue skill level 6-31-01-03 at 3 through institution A".into(),
                issue("mohrss.skill-level", &inst_a, skill, Some(Level::L3), day),
                [ROLE, ROLE, DEPT, DEPT, DEPT, GRANT, OTHER],
            ),
            (
                "issue skill level through institution A before its registration".into(),
                issue(
                    "mohrss.skill-level",
                    &inst_a,
                    skill,
                    Some(Level::L4),
                    d("2020-12-31"),
                ),
                [ROLE, ROLE, DEPT, DEPT, DEPT, GRANT, OTHER],
            ),
            (
                "issue skill level 6-31-01-03 at 4 through institution B".into(),
                issue("mohrss.skill-level", &inst_b, skill, Some(Level::L4), day),
                [ROLE, ROLE, DEPT, DEPT, DEPT, OTHER, GRANT],
            ),
            // Reading histories.
            (
                "read history of a mem certificate of mem.44".into(),
                Action::ReadHistory {
                    certificate: &cert_mem_44,
                    issuer: &mem_44,
                },
                [OK, OK, OK, OK, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read history of a mem certificate of mem.32".into(),
                Action::ReadHistory {
                    certificate: &cert_mem_32,
                    issuer: &mem_32,
                },
                [OK, REGION, OK, OK, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read history of a mohurd certificate".into(),
                Action::ReadHistory {
                    certificate: &cert_mohurd,
                    issuer: &mohurd_44,
                },
                [OK, OK, DEPT, DEPT, OK, NOT_OWN, NOT_OWN],
            ),
            (
                "read history of institution A's certificate".into(),
                Action::ReadHistory {
                    certificate: &cert_a,
                    issuer: &inst_a,
                },
                [OK, OK, DEPT, DEPT, DEPT, OK, NOT_OWN],
            ),
            (
                "read history of institution C's (region 32) certificate".into(),
                Action::ReadHistory {
                    certificate: &cert_c,
                    issuer: &inst_c,
                },
                [OK, REGION, DEPT, DEPT, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read history with another issuer's record".into(),
                Action::ReadHistory {
                    certificate: &cert_mem_44,
                    issuer: &mem_32,
                },
                [MISMATCH; 7],
            ),
            // Tokens: creating.
            (
                "create token for institution A".into(),
                Action::CreateToken {
                    target: &inst_a_target,
                    institution: Some(&inst_a),
                },
                [OK, OK, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for institution C (region 32)".into(),
                Action::CreateToken {
                    target: &inst_c_target,
                    institution: Some(&inst_c),
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for institution A without its record".into(),
                Action::CreateToken {
                    target: &inst_a_target,
                    institution: None,
                },
                [MISMATCH; 7],
            ),
            (
                "create token for institution A with C's record".into(),
                Action::CreateToken {
                    target: &inst_a_target,
                    institution: Some(&inst_c),
                },
                [MISMATCH; 7],
            ),
            (
                "create token for authority mem 32".into(),
                Action::CreateToken {
                    target: &mem_32_actor,
                    institution: None,
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for authority mem 44".into(),
                Action::CreateToken {
                    target: &prov_auth,
                    institution: None,
                },
                [OK, OK, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for the national authority mem".into(),
                Action::CreateToken {
                    target: &nat_auth,
                    institution: None,
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for regulator 44".into(),
                Action::CreateToken {
                    target: &regulator_44,
                    institution: None,
                },
                [OK, OK, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "create token for the national regulator".into(),
                Action::CreateToken {
                    target: &regulator_nat,
                    institution: None,
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            // Tokens: revoking. Every actor revokes its own.
            (
                "revoke a token of institution A".into(),
                Action::RevokeToken {
                    target: &inst_a_target,
                    institution: Some(&inst_a),
                },
                [OK, OK, ROLE, ROLE, ROLE, OK, ROLE],
            ),
            (
                "revoke a token of institution A, its record missing".into(),
                Action::RevokeToken {
                    target: &inst_a_target,
                    institution: None,
                },
                [
                    MISMATCH, MISMATCH, MISMATCH, MISMATCH, MISMATCH, OK, MISMATCH,
                ],
            ),
            (
                "revoke a token of institution C (region 32)".into(),
                Action::RevokeToken {
                    target: &inst_c_target,
                    institution: Some(&inst_c),
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "revoke a token of authority mem 44".into(),
                Action::RevokeToken {
                    target: &prov_auth,
                    institution: None,
                },
                [OK, OK, ROLE, OK, ROLE, ROLE, ROLE],
            ),
            (
                "revoke a token of the national authority mem".into(),
                Action::RevokeToken {
                    target: &nat_auth,
                    institution: None,
                },
                [OK, REGION, OK, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "revoke a token of regulator 44".into(),
                Action::RevokeToken {
                    target: &regulator_44,
                    institution: None,
                },
                [OK, OK, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            (
                "revoke a token of the national regulator".into(),
                Action::RevokeToken {
                    target: &regulator_nat,
                    institution: None,
                },
                [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            // The policy.
            (
                "publish the policy".into(),
                Action::PublishPolicy,
                [OK, NATIONAL, ROLE, ROLE, ROLE, ROLE, ROLE],
            ),
            // The feed.
            (
                "read the whole feed".into(),
                Action::ReadFeed {
                    scope: FeedScope::default(),
                },
                [OK, REGION, DEPT, DEPT, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read the feed of region 44".into(),
                Action::ReadFeed {
                    scope: FeedScope {
                        region: Some("44"),
                        ..FeedScope::default()
                    },
                },
                [OK, OK, DEPT, DEPT, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read the feed of region 32".into(),
                Action::ReadFeed {
                    scope: FeedScope {
                        region: Some("32"),
                        ..FeedScope::default()
                    },
                },
                [OK, REGION, DEPT, DEPT, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read the feed of department mem".into(),
                Action::ReadFeed {
                    scope: FeedScope {
                        department: Some("mem"),
                        ..FeedScope::default()
                    },
                },
                [OK, REGION, OK, OK, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read the feed of department mem in region 44".into(),
                Action::ReadFeed {
                    scope: FeedScope {
                        department: Some("mem"),
                        region: Some("44"),
                        issuer: None,
                    },
                },
                [OK, OK, OK, OK, DEPT, NOT_OWN, NOT_OWN],
            ),
            (
                "read the feed of institution A".into(),
                Action::ReadFeed {
                    scope: FeedScope {
                        issuer: Some("inst.s0000-44-000001"),
                        ..FeedScope::default()
                    },
                },
                [OK, REGION, DEPT, DEPT, DEPT, OK, NOT_OWN],
            ),
        ];
        // Every change to a certificate is decided alike.
        for change in CertificateChange::ALL {
            let c = change.id();
            rows.extend([
                (
                    format!("{c} a mem certificate of mem.44"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_mem_44,
                        issuer: &mem_44,
                    },
                    [ROLE, ROLE, OK, OK, DEPT, NOT_OWN, NOT_OWN],
                ),
                (
                    format!("{c} a mem certificate of mem.32"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_mem_32,
                        issuer: &mem_32,
                    },
                    [ROLE, ROLE, OK, REGION, DEPT, NOT_OWN, NOT_OWN],
                ),
                (
                    format!("{c} a mohurd certificate"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_mohurd,
                        issuer: &mohurd_44,
                    },
                    [ROLE, ROLE, DEPT, DEPT, OK, NOT_OWN, NOT_OWN],
                ),
                (
                    format!("{c} institution A's certificate"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_a,
                        issuer: &inst_a,
                    },
                    [ROLE, ROLE, DEPT, DEPT, DEPT, OK, NOT_OWN],
                ),
                (
                    format!("{c} institution C's (region 32) certificate"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_c,
                        issuer: &inst_c,
                    },
                    [ROLE, ROLE, DEPT, DEPT, DEPT, NOT_OWN, NOT_OWN],
                ),
                (
                    format!("{c} institution A's certificate with C's record"),
                    Action::ManageCertificate {
                        change,
                        certificate: &cert_a,
                        issuer: &inst_c,
                    },
                    [MISMATCH; 7],
                ),
            ]);
        }
        // And every change to the register.
        for change in IssuerChange::ALL {
            let c = change.id();
            rows.extend([
                (
                    format!("{c} institution A"),
                    Action::ManageIssuer {
                        change,
                        issuer: &inst_a,
                    },
                    [OK, OK, ROLE, ROLE, ROLE, ROLE, ROLE],
                ),
                (
                    format!("{c} institution C (region 32)"),
                    Action::ManageIssuer {
                        change,
                        issuer: &inst_c,
                    },
                    [OK, REGION, ROLE, ROLE, ROLE, ROLE, ROLE],
                ),
                (
                    format!("{c} the authority mem.44"),
                    Action::ManageIssuer {
                        change,
                        issuer: &mem_44,
                    },
                    [NOT_INST, NOT_INST, ROLE, ROLE, ROLE, ROLE, ROLE],
                ),
            ]);
        }

        // Every action is in the table.
        let rights: BTreeSet<&str> = rows.iter().map(|(_, a, _)| a.right()).collect();
        assert_eq!(
            rights.into_iter().collect::<Vec<_>>(),
            [
                "create-token",
                "issue",
                "manage-certificate",
                "manage-issuer",
                "publish-policy",
                "read-feed",
                "read-history",
                "revoke-token",
            ]
        );

        let actors = actors();
        let mut wrong = Vec::new();
        for (what, action, expected) in &rows {
            for ((who, actor), want) in actors.iter().zip(expected) {
                let got = authorize(actor, action, &p);
                if got.as_ref().err().map(|f| f.code) != *want {
                    wrong.push(format!(
                        "{who} / {what}: expected {}, got {}",
                        want.unwrap_or("allowed"),
                        match &got {
                            Ok(()) => "allowed".to_string(),
                            Err(f) => format!("{} ({})", f.code, f.reason_en),
                        }
                    ));
                }
                if let Err(f) = got {
                    assert_eq!(f.right, action.right(), "{who} / {what}");
                    for reason in [&f.reason_en, &f.reason_zh] {
                        assert!(reason.contains(f.right), "{who} / {what}: {reason}");
                        assert_eq!(mask_id_numbers(reason), reason.as_str(), "{reason}");
                        for n in &numbers {
                            assert!(!reason.contains(n), "{who} / {what}: {reason}");
                        }
                        for id in [ID_A, ID_B] {
                            assert!(!reason.contains(id), "{who} / {what}: {reason}");
                        }
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} cells wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn reasons_name_the_region_and_the_grant() {
        let p = policy();
        let regulator_44 = actors()[1].1.clone();
        let inst_c = institution("inst.s0000-32-000003", "32", "6-31-01-03", r#""4""#);
        let f = authorize(
            &regulator_44,
            &Action::ManageIssuer {
                change: IssuerChange::Grant,
                issuer: &inst_c,
            },
            &p,
        )
        .unwrap_err();
        assert!(
            f.reason_en.contains("region 32 (Jiangsu)"),
            "{}",
            f.reason_en
        );
        assert!(
            f.reason_en.contains("region 44 (Guangdong)"),
            "{}",
            f.reason_en
        );
        assert!(f.reason_zh.contains("江苏省"), "{}", f.reason_zh);
        assert!(f.reason_zh.contains("广东省"), "{}", f.reason_zh);
        assert_eq!(f.to_string(), f.reason_en);

        let inst_a = institution("inst.s0000-44-000001", "44", "6-31-01-03", r#""5", "4""#);
        let f = authorize(
            &actors()[5].1,
            &Action::Issue {
                kind: "mohrss.skill-level",
                issuer: &inst_a,
                occupation: Some("6-31-01-03"),
                level: Some(Level::L3),
                day: d("2024-06-01"),
            },
            &p,
        )
        .unwrap_err();
        assert!(
            f.reason_en.contains("6-31-01-03 at level 3"),
            "{}",
            f.reason_en
        );
        assert!(f.reason_zh.contains("6-31-01-03"), "{}", f.reason_zh);
    }

    #[test]
    fn every_actor_may_read_its_own_feed_scope() {
        let p = policy();
        for (who, actor) in actors() {
            let scope = actor.feed_scope();
            assert_eq!(
                authorize(&actor, &Action::ReadFeed { scope }, &p),
                Ok(()),
                "{who}"
            );
        }
    }

    #[test]
    fn actors_that_no_longer_fit_the_policy_are_refused() {
        let p = policy();
        let cases = [
            Actor::Authority {
                department: "mohrss".into(),
                region: None,
            },
            Actor::Regulator {
                department: "mem".into(),
                region: None,
            },
            Actor::Regulator {
                department: "nope".into(),
                region: None,
            },
            Actor::Regulator {
                department: "mohrss".into(),
                region: Some("99".into()),
            },
        ];
        for actor in cases {
            let f = authorize(&actor, &Action::PublishPolicy, &p).unwrap_err();
            assert_eq!(f.code, ACTOR_NOT_IN_POLICY, "{actor}");
            assert!(!actor.check(&p, None).is_empty(), "{actor}");
        }
    }

    #[test]
    fn check_names_what_is_wrong() {
        let p = policy();
        let inst_a = institution("inst.s0000-44-000001", "44", "6-31-01-03", r#""5""#);
        let mem_44 = authority("mem.44", "mem", "44", "mem.electrical.low-voltage");
        let good = [
            Actor::Regulator {
                department: "mohrss".into(),
                region: None,
            },
            Actor::Regulator {
                department: "mohrss".into(),
                region: Some("44".into()),
            },
            Actor::Authority {
                department: "samr".into(),
                region: Some("32".into()),
            },
            Actor::Authority {
                department: "mohurd".into(),
                region: None,
            },
        ];
        for a in good {
            assert_eq!(a.check(&p, None), Vec::<String>::new(), "{a}");
        }
        let a = Actor::Institution {
            issuer: inst_a.id.clone(),
        };
        assert_eq!(a.issuer_id(), Some("inst.s0000-44-000001"));
        assert!(a.check(&p, Some(&inst_a)).is_empty());

        let one = |a: &Actor, i: Option<&Issuer>| {
            let v = a.check(&p, i);
            assert_eq!(v.len(), 1, "{a}: {v:?}");
            v.into_iter().next().unwrap()
        };
        let m = one(
            &Actor::Regulator {
                department: "mem".into(),
                region: None,
            },
            None,
        );
        assert!(m.contains("not a regulator"), "{m}");
        let m = one(
            &Actor::Authority {
                department: "mohrss".into(),
                region: None,
            },
            None,
        );
        assert!(m.contains("not an authority"), "{m}");
        let m = one(
            &Actor::Authority {
                department: "xyz".into(),
                region: None,
            },
            None,
        );
        assert!(m.contains("not defined in the policy"), "{m}");
        let m = one(
            &Actor::Authority {
                department: "mem".into(),
                region: Some("4401".into()),
            },
            None,
        );
        assert!(m.contains("province code"), "{m}");
        let m = one(&a, None);
        assert!(m.contains("not a registered issuer"), "{m}");
        let m = one(&a, Some(&mem_44));
        assert!(m.contains("not a registered issuer"), "{m}");
        let m = one(
            &Actor::Institution {
                issuer: mem_44.id.clone(),
            },
            Some(&mem_44),
        );
        assert!(m.contains("not an institution"), "{m}");
        let mut removed = inst_a.clone();
        removed.removed_on = Some(d("2025-01-01"));
        let m = one(&a, Some(&removed));
        assert!(m.contains("removed"), "{m}");
        let bad = Actor::Institution {
            issuer: "Inst 1".into(),
        };
        assert_eq!(bad.check(&p, None).len(), 2);
    }

    #[test]
    fn actors_in_json_and_in_words() {
        let cases = [
            (
                Actor::Regulator {
                    department: "mohrss".into(),
                    region: None,
                },
                r#"{"kind":"regulator","department":"mohrss"}"#,
                "regulator mohrss, national",
            ),
            (
                Actor::Authority {
                    department: "mem".into(),
                    region: Some("44".into()),
                },
                r#"{"kind":"authority","department":"mem","region":"44"}"#,
                "authority mem, region 44",
            ),
            (
                Actor::Institution {
                    issuer: "inst.s0000-44-000001".into(),
                },
                r#"{"kind":"institution","issuer":"inst.s0000-44-000001"}"#,
                "institution inst.s0000-44-000001",
            ),
        ];
        for (actor, json, words) in cases {
            assert_eq!(serde_json::to_string(&actor).unwrap(), json);
            assert_eq!(serde_json::from_str::<Actor>(json).unwrap(), actor);
            assert_eq!(actor.describe(), words);
        }
        for bad in [
            r#"{"kind":"public"}"#,
            r#"{"kind":"institution"}"#,
            r#"{"kind":"institution","issuer":"x","region":"44"}"#,
            r#"{"department":"mohrss"}"#,
        ] {
            assert!(serde_json::from_str::<Actor>(bad).is_err(), "{bad}");
        }
    }
}
