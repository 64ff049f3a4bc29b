//! The registered-holder advice (`POST /api/v1/holders/advice`) and the department check
//! (`POST /api/v1/recognition/check`): their requests and answers, typed.
//!
//! The server only reads the body, fetches the holder's registered certificates and renders
//! what these functions return; the JSON shapes are contracts (fields may be added, never
//! renamed).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::advice::{Advice, ExemptionGround, NotApplied, ShortList};
use super::input::{AdviceInput, InputError, InputErrors};
use super::registry::holding_from_certificate;
use super::{Day, advise_at};
use crate::certificate::Certificate;
use crate::holder::mask_name;
use crate::ids::ExemptionSet;
use crate::policy::Policy;
use crate::verify::HolderQuery;

/// What the department check says about its exemptions.
pub const CHECK_NOTE: &str = "Exemptions are entitlements the department may grant (可以), unless special rules say otherwise (如无特别规定).";

/// A request about a registered holder: who (`id`, `name`), for the department check the
/// `target` kind, and the advice options (`as_of`, `region`, `experience_years`, `diplomas`,
/// `apprenticeship`). The holdings are the holder's registered certificates, never the
/// request's.
#[derive(Debug, Clone)]
pub struct RegisteredRequest {
    pub holder: HolderQuery,
    /// The target kind (department check only), a kind of the policy.
    pub target: Option<String>,
    /// The advice options, with no holdings.
    pub options: AdviceInput,
}

fn one(field: &str, message: impl Into<String>) -> InputErrors {
    InputErrors(vec![InputError {
        field: field.to_string(),
        message: message.into(),
    }])
}

fn take_str(m: &mut Map<String, Value>, key: &str) -> Result<Option<String>, InputErrors> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(one(key, "must be a string")),
    }
}

impl RegisteredRequest {
    /// Reads the body of the registered-holder advice (`with_target` false) or of the department
    /// check (`with_target` true). Errors name the field and never repeat the ID number.
    pub fn from_json(
        policy: &Policy,
        body: &[u8],
        with_target: bool,
    ) -> Result<RegisteredRequest, InputErrors> {
        let m = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(one("", "the body must be a JSON object")),
            Err(e) => return Err(one("", format!("the body is not valid JSON: {e}"))),
        };
        RegisteredRequest::from_map(policy, m, with_target)
    }

    /// As [`RegisteredRequest::from_json`], from the fields of a form or a parsed object.
    pub fn from_map(
        policy: &Policy,
        mut m: Map<String, Value>,
        with_target: bool,
    ) -> Result<RegisteredRequest, InputErrors> {
        let target = if with_target {
            let t = take_str(&mut m, "target")?
                .ok_or_else(|| one("target", "required (a certificate kind id)"))?;
            if policy.kind(&t).is_none() {
                return Err(one(
                    "target",
                    format!("\"{t}\" is not a certificate kind of the policy"),
                ));
            }
            Some(t)
        } else {
            None
        };
        let id = take_str(&mut m, "id")?;
        let name = take_str(&mut m, "name")?;
        let holder = HolderQuery::parse(id.as_deref(), name.as_deref()).map_err(|errs| {
            InputErrors(
                errs.into_iter()
                    .map(|e| InputError {
                        field: e.field.to_string(),
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        if m.contains_key("holdings") {
            return Err(one(
                "holdings",
                "the registered certificates are used; do not send holdings",
            ));
        }
        m.insert("holdings".into(), Value::Array(Vec::new()));
        let options = AdviceInput::from_value(&Value::Object(m))?;
        // The options are checked against the policy before any lookup, so that a bad option
        // (an unknown region, say) is refused whether or not the holder is found.
        options.check(policy)?;
        Ok(RegisteredRequest {
            holder,
            target,
            options,
        })
    }

    /// The day the advice is for.
    pub fn as_of(&self, today: Day) -> Day {
        self.options.as_of.unwrap_or(today)
    }

    /// The request with the holder's registered certificates (those whose name matched) as its
    /// holdings, each with its status on the advice's day and its number masked where it embeds
    /// the ID number.
    pub fn with_certificates<'c>(
        &self,
        policy: &Policy,
        certificates: impl IntoIterator<Item = &'c Certificate>,
        today: Day,
    ) -> Registered {
        let as_of = self.as_of(today);
        let mut input = self.options.clone();
        let mut count = 0;
        input.holdings = certificates
            .into_iter()
            .inspect(|_| count += 1)
            .filter_map(|c| holding_from_certificate(policy, c, as_of))
            .collect();
        Registered {
            found: count > 0,
            holder_name: mask_name(&self.holder.name),
            certificates: count,
            target: self.target.clone(),
            input,
        }
    }
}

/// A registered holder's certificates as advice input.
#[derive(Debug, Clone)]
pub struct Registered {
    /// Whether the holder has a certificate registered under the name given (a holder with no
    /// certificate and a wrong name are the same).
    pub found: bool,
    /// The name as answers show it, masked.
    pub holder_name: String,
    /// The certificates found.
    pub certificates: usize,
    pub target: Option<String>,
    pub input: AdviceInput,
}

/// The holder as answers show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderShown<'a> {
    /// Masked (`张*明`).
    pub name: &'a str,
}

/// The answer of `POST /api/v1/holders/advice`: `{"found": false}`, or the masked name, the
/// number of certificates and the advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderAdvice<'a> {
    pub found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderShown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice<'a>>,
}

/// The advice for a registered holder, on the request's day or else `today`.
pub fn holder_advice<'a>(
    policy: &'a Policy,
    registered: &'a Registered,
    today: Day,
) -> Result<HolderAdvice<'a>, InputErrors> {
    if !registered.found {
        return Ok(HolderAdvice {
            advice: None,
            certificates: None,
            found: false,
            holder: None,
        });
    }
    Ok(HolderAdvice {
        advice: Some(advise_at(policy, &registered.input, today)?),
        certificates: Some(registered.certificates),
        found: true,
        holder: Some(HolderShown {
            name: &registered.holder_name,
        }),
    })
}

/// What a department may grant an applicant for the target kind, and why: the answer of
/// `POST /api/v1/recognition/check` when the holder is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentCheck<'a> {
    pub found: bool,
    pub as_of: Day,
    pub target: Cow<'a, str>,
    pub target_zh: String,
    pub target_en: String,
    /// The department that issues the target.
    pub department: Cow<'a, str>,
    /// What the department may exempt the applicant from (empty when nothing).
    pub exemptions: ExemptionSet,
    /// The applicant already holds the target in force.
    pub already_held: bool,
    pub rules: ShortList<Cow<'a, str>>,
    /// The registered certificates behind the exemptions, with the rules.
    pub grounds: ShortList<ExemptionGround<'a>>,
    pub provisional: bool,
    /// The rules for this target that named a held kind and did not apply, with the reasons.
    pub not_applied: Vec<NotApplied<'a>>,
    pub note: &'static str,
    pub holder: HolderShown<'a>,
}

/// The answer of `POST /api/v1/recognition/check`: `{"found": false}` or the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CheckAnswer<'a> {
    NotFound { found: bool },
    Found(Box<DepartmentCheck<'a>>),
}

/// The department check for a registered holder and the request's target, on the request's
/// day or else `today`.
pub fn department_check<'a>(
    policy: &'a Policy,
    registered: &'a Registered,
    today: Day,
) -> Result<CheckAnswer<'a>, InputErrors> {
    if !registered.found {
        return Ok(CheckAnswer::NotFound { found: false });
    }
    let target = registered
        .target
        .as_deref()
        .ok_or_else(|| one("target", "required (a certificate kind id)"))?;
    let kind = policy.kind(target).ok_or_else(|| {
        one(
            "target",
            format!("\"{target}\" is not a certificate kind of the policy"),
        )
    })?;
    let advice = advise_at(policy, &registered.input, today)?;
    Ok(CheckAnswer::Found(Box::new(check_of(
        policy,
        advice,
        kind,
        &registered.holder_name,
    ))))
}

/// The part of `advice` that concerns the target `kind`.
fn check_of<'a>(
    policy: &'a Policy,
    advice: Advice<'a>,
    kind: &'a crate::policy::Kind,
    holder_name: &'a str,
) -> DepartmentCheck<'a> {
    let target = kind.id.as_str();
    let rule_targets_this = |rule: &str| {
        policy
            .exemption_rules
            .iter()
            .any(|r| r.id == rule && r.target == target)
    };
    let not_applied: Vec<NotApplied<'a>> = advice
        .not_applied
        .into_iter()
        .filter(|n| rule_targets_this(&n.rule))
        .collect();
    let application = advice.applications.into_iter().find(|a| a.target == target);
    let mut check = DepartmentCheck {
        already_held: false,
        as_of: advice.as_of,
        department: Cow::Borrowed(&kind.department),
        exemptions: ExemptionSet::EMPTY,
        found: true,
        grounds: ShortList::new(),
        holder: HolderShown { name: holder_name },
        not_applied,
        note: CHECK_NOTE,
        provisional: false,
        rules: ShortList::new(),
        target: Cow::Borrowed(target),
        target_en: kind.full_name_en(),
        target_zh: kind.full_name_zh(),
    };
    if let Some(a) = application {
        check.already_held = a.already_held;
        check.exemptions = a.exemptions;
        check.grounds = a.grounds;
        check.provisional = a.provisional;
        check.rules = a.rules;
    }
    check
}
