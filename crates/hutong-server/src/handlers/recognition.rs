//! Mutual recognition over HTTP: advice for holdings a worker states, advice for a registered
//! holder, and the check a department makes when it processes an application. The rules and
//! their combination are the core's (`hutong_core::recognition`); these handlers only read the
//! request, fetch registered certificates and shape the answer.

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde_json::{Map, Value, json};

use hutong_core::Policy;
use hutong_core::date::{Day, parse_day, today_in_china};
use hutong_core::holder::mask_name;
use hutong_core::recognition::Lang as CoreLang;
use hutong_core::recognition::explain::explain;
use hutong_core::recognition::registry::holding_from_certificate;
use hutong_core::recognition::{Advice, AdviceInput, InputErrors, advise_at};
use hutong_core::verify::{HolderQuery, describe_errors};

use crate::error::{ApiError, Problem};
use crate::handlers::api::private_json;
use crate::handlers::lookup;
use crate::handlers::pages::private_html;
use crate::pages::{self, Lang};
use crate::state::AppState;

fn input_error(errs: &InputErrors) -> ApiError {
    let parts: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
    ApiError::bad_request(parts.join("; "))
}

/// The request body as a JSON object.
fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

fn take_str(m: &mut Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!("{key}: must be a string"))),
    }
}

/// Advice for the holdings in the body.
///
/// The body is `{"holdings": [{"kind", "status", "issued_on", "valid_until", "occupation",
/// "level", …}], "experience_years": {"6-18-02-04": 3}, "as_of": "YYYY-MM-DD", "region": "44"}`.
/// The answer is the advice: `deemed_levels`, `applications` (with exemptions), `next_levels`
/// and `not_applied`, each with the rules behind it and `provisional` where a rule is not yet
/// confirmed by an official text. Exemptions are entitlements a department *may* grant.
#[utoipa::path(
    post,
    path = "/api/v1/recognition/advice",
    tag = "recognition",
    request_body(content = crate::openapi::AdviceRequest, description = "The holdings, as for `hutong advise --holdings`", content_type = "application/json"),
    responses(
        (status = 200, description = "The advice, with the rules that fired and those that did not, and why", body = crate::openapi::AdviceAnswer),
        (status = 400, description = "The body is malformed; the detail names each bad field (`holdings[1].issued_on: …`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn advice(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    let mut input = AdviceInput::from_json(text).map_err(|e| input_error(&e))?;
    // Masking: the answer echoes each holding's number, and a number may be (or embed) an ID
    // number.
    for h in &mut input.holdings {
        if let Some(n) = &mut h.number
            && let std::borrow::Cow::Owned(masked) = crate::error::mask_id_numbers(n)
        {
            *n = masked;
        }
    }
    let policy = state.policy();
    let advice = advise_at(&policy, &input, today_in_china()).map_err(|e| input_error(&e))?;
    Ok(private_json(&advice))
}

/// A registered holder's certificates as advice input, and the advice.
pub struct RegisteredAdvice {
    pub found: bool,
    pub name_masked: String,
    pub certificates: usize,
    pub input: AdviceInput,
}

/// Reads the holder (`id`, `name`) and the advice options from `m`, and fetches the holder's
/// registered certificates as holdings. A holder with no certificate and a wrong name are the
/// same: `found` is false.
pub async fn registered_input(
    state: &AppState,
    policy: &Policy,
    mut m: Map<String, Value>,
) -> Result<RegisteredAdvice, ApiError> {
    let id = take_str(&mut m, "id")?;
    let name = take_str(&mut m, "name")?;
    let q = HolderQuery::parse(id.as_deref(), name.as_deref())
        .map_err(|e| ApiError::bad_request(describe_errors(&e)))?;
    if m.contains_key("holdings") {
        return Err(ApiError::bad_request(
            "holdings: the registered certificates are used; do not send holdings",
        ));
    }
    // The options are checked before the lookup, so that a bad option is refused whether or
    // not the ID number and name open any certificate (the document promises as much).
    let mut options = m.clone();
    options.insert("holdings".into(), Value::Array(Vec::new()));
    AdviceInput::from_value(&Value::Object(options))
        .and_then(|i| i.check(policy))
        .map_err(|e| input_error(&e))?;
    let as_of: Day = match m.get("as_of") {
        Some(Value::String(s)) => {
            parse_day(s).map_err(|e| ApiError::bad_request(format!("as_of: {e}")))?
        }
        _ => today_in_china(),
    };
    let found = lookup::find_by_holder(state, policy, &q, as_of).await?;
    let holdings: Vec<_> = found
        .iter()
        .filter_map(|v| holding_from_certificate(policy, &v.cert, as_of))
        .collect();
    m.insert(
        "holdings".into(),
        serde_json::to_value(&holdings).map_err(|_| ApiError::internal())?,
    );
    let input = AdviceInput::from_value(&Value::Object(m)).map_err(|e| input_error(&e))?;
    Ok(RegisteredAdvice {
        found: !found.is_empty(),
        name_masked: mask_name(&q.name),
        certificates: found.len(),
        input,
    })
}

fn not_found() -> Value {
    json!({"found": false})
}

/// Advice from a holder's registered certificates.
///
/// The body is `{"id": "<resident ID number>", "name": "<name>"}` plus, optionally, the advice
/// options of `/api/v1/recognition/advice` (`as_of`, `region`, `experience_years`, `diplomas`).
/// The holder's certificates come from the registry with their status on the day. A holder
/// with no certificate and a wrong name get the same answer, `{"found": false}`. The answer
/// never contains an ID number: numbers that embed one are masked.
#[utoipa::path(
    post,
    path = "/api/v1/holders/advice",
    tag = "recognition",
    request_body(content = crate::openapi::HolderAdviceRequest, description = "`id` and `name` of the holder, and the advice options", content_type = "application/json"),
    responses(
        (status = 200, description = "`found`, the masked name, and the advice", body = crate::openapi::HolderAdviceAnswer),
        (status = 400, description = "A field is missing or malformed (the ID number is never repeated)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn holder_advice(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let policy = state.policy();
    let r = registered_input(&state, &policy, object(&body)?).await?;
    if !r.found {
        return Ok(private_json(&not_found()));
    }
    let advice = advise_at(&policy, &r.input, today_in_china()).map_err(|e| input_error(&e))?;
    Ok(private_json(&json!({
        "found": true,
        "holder": {"name": r.name_masked},
        "certificates": r.certificates,
        "advice": advice,
    })))
}

/// What a department may grant an applicant for `target`, and why.
pub fn check_answer(policy: &Policy, advice: &Advice<'_>, target: &str) -> Value {
    let application = advice.applications.iter().find(|a| a.target == target);
    let rule_targets_this = |rule: &str| {
        policy
            .exemption_rules
            .iter()
            .any(|r| r.id == rule && r.target == target)
    };
    let not_applied: Vec<&hutong_core::recognition::NotApplied<'_>> = advice
        .not_applied
        .iter()
        .filter(|n| rule_targets_this(&n.rule))
        .collect();
    let kind = policy.kind(target);
    json!({
        "found": true,
        "as_of": advice.as_of,
        "target": target,
        "target_zh": kind.map(|k| k.full_name_zh()),
        "target_en": kind.map(|k| k.full_name_en()),
        "department": kind.map(|k| k.department.as_str()),
        "exemptions": application.map(|a| serde_json::to_value(a.exemptions).unwrap_or(Value::Null)).unwrap_or_else(|| json!([])),
        "already_held": application.is_some_and(|a| a.already_held),
        "rules": application.map(|a| a.rules.to_vec()).unwrap_or_default(),
        "grounds": application.map(|a| serde_json::to_value(&a.grounds).unwrap_or(Value::Null)).unwrap_or_else(|| json!([])),
        "provisional": application.is_some_and(|a| a.provisional),
        "not_applied": not_applied,
        "note": "Exemptions are entitlements the department may grant (可以), unless special rules say otherwise (如无特别规定).",
    })
}

/// The check a department makes when processing an application: which exemptions the applicant
/// may be granted for the target certificate, from which registered certificates, and why.
///
/// The body is `{"id": "…", "name": "…", "target": "<kind id>"}`, optionally with `as_of` and
/// `region` (the province where the application is made, for regional exceptions). The answer
/// lists the exemptions (empty when none), the rules and certificates behind them, and the
/// rules for this target that did not apply with the reason.
#[utoipa::path(
    post,
    path = "/api/v1/recognition/check",
    tag = "recognition",
    request_body(content = crate::openapi::CheckRequest, description = "`id`, `name`, `target`, and optionally `as_of` and `region`", content_type = "application/json"),
    responses(
        (status = 200, description = "`found`, the exemptions the department may grant, their grounds, and the rules that did not apply", body = crate::openapi::CheckAnswer),
        (status = 400, description = "A field is missing or malformed, or the target is not a kind of the policy", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn check(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let policy = state.policy();
    let mut m = object(&body)?;
    let target = take_str(&mut m, "target")?
        .ok_or_else(|| ApiError::bad_request("target: required (a certificate kind id)"))?;
    if policy.kind(&target).is_none() {
        return Err(ApiError::bad_request(format!(
            "target: \"{target}\" is not a certificate kind of the policy"
        )));
    }
    let r = registered_input(&state, &policy, m).await?;
    if !r.found {
        return Ok(private_json(&not_found()));
    }
    let advice = advise_at(&policy, &r.input, today_in_china()).map_err(|e| input_error(&e))?;
    let mut answer = check_answer(&policy, &advice, &target);
    answer["holder"] = json!({"name": r.name_masked});
    Ok(private_json(&answer))
}

/// `GET /advice`: the form.
pub async fn advice_page(State(state): State<AppState>, lang: Lang) -> Markup {
    pages::advice::form_page(lang, state.settings.demo, &state.policy(), None)
}

/// Turns the "tick what I hold" form into advice input: `hold` (repeated kind ids),
/// `status:<kind>`, `issued:<kind>`, `skill_occupation`, `skill_level`, `exp:<occupation>`,
/// `region`.
fn ticked_input(fields: &[(String, String)]) -> Value {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut holdings = Vec::new();
    for (_, kind) in fields.iter().filter(|(n, _)| n == "hold") {
        let mut h = Map::new();
        h.insert("kind".into(), json!(kind));
        h.insert(
            "status".into(),
            json!(get(&format!("status:{kind}")).unwrap_or("valid")),
        );
        if let Some(d) = get(&format!("issued:{kind}")) {
            h.insert("issued_on".into(), json!(d));
        }
        if kind == "mohrss.skill-level" {
            h.insert("occupation".into(), json!(get("skill_occupation")));
            h.insert("level".into(), json!(get("skill_level")));
        }
        holdings.push(Value::Object(h));
    }
    let mut experience = Map::new();
    for (n, v) in fields {
        if let (Some(occ), Ok(years)) = (n.strip_prefix("exp:"), v.trim().parse::<u32>()) {
            experience.insert(occ.to_string(), json!(years));
        }
    }
    let mut m = Map::new();
    m.insert("holdings".into(), Value::Array(holdings));
    m.insert("experience_years".into(), Value::Object(experience));
    if let Some(r) = get("region") {
        m.insert("region".into(), json!(r));
    }
    Value::Object(m)
}

/// `POST /advice/result`: the advice for the registered certificates or the ticked ones.
pub async fn advice_result(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let policy = state.policy();
    let demo = state.settings.demo;
    let fields = match form {
        Ok(Form(f)) => f,
        Err(e) => return ApiError::rejected(e.status(), e.body_text()).into_response(),
    };
    let mode = fields
        .iter()
        .find(|(n, _)| n == "mode")
        .map(|(_, v)| v.as_str());
    let today = today_in_china();
    let (input, holder) = if mode == Some("registered") {
        let mut m = Map::new();
        for key in ["id", "name", "region"] {
            if let Some((_, v)) = fields.iter().find(|(n, _)| n == key)
                && !v.trim().is_empty()
            {
                m.insert(key.into(), json!(v));
            }
        }
        match registered_input(&state, &policy, m).await {
            Ok(r) if !r.found => {
                return private_html(
                    StatusCode::OK,
                    pages::advice::not_found_page(lang, demo, &policy),
                );
            }
            Ok(r) => (r.input, Some((r.name_masked, r.certificates))),
            Err(e) if e.status == StatusCode::BAD_REQUEST => {
                return private_html(
                    StatusCode::OK,
                    pages::advice::form_page(lang, demo, &policy, Some(&e.detail)),
                );
            }
            Err(e) => return e.into_response(),
        }
    } else {
        match AdviceInput::from_value(&ticked_input(&fields)) {
            Ok(i) if i.holdings.is_empty() => {
                let msg = lang.t("请至少勾选一本证书。", "Tick at least one certificate.");
                return private_html(
                    StatusCode::OK,
                    pages::advice::form_page(lang, demo, &policy, Some(msg)),
                );
            }
            Ok(i) => (i, None),
            Err(e) => {
                return private_html(
                    StatusCode::OK,
                    pages::advice::form_page(lang, demo, &policy, Some(&input_error(&e).detail)),
                );
            }
        }
    };
    let advice = match advise_at(&policy, &input, today) {
        Ok(a) => a,
        Err(e) => {
            return private_html(
                StatusCode::OK,
                pages::advice::form_page(lang, demo, &policy, Some(&input_error(&e).detail)),
            );
        }
    };
    let core_lang = if lang == Lang::Zh {
        CoreLang::Zh
    } else {
        CoreLang::En
    };
    let sections = explain(&policy, &advice, core_lang);
    let holder = holder.as_ref().map(|(n, c)| (n.as_str(), *c));
    private_html(
        StatusCode::OK,
        pages::advice::result_page(lang, demo, &advice.as_of.to_string(), holder, &sections),
    )
}
