//! Mutual recognition over HTTP: advice for holdings a worker states, advice for a registered
//! holder, and the check a department makes when it processes an application. The rules and
//! their combination, and the answers, are the core's (`hutong_core::recognition`); these
//! handlers only parse the request, fetch the registered certificates and render the answer.

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde_json::{Map, Value, json};

use hutong_core::Policy;
use hutong_core::date::{Day, today_in_china};
use hutong_core::recognition::explain::explain;
use hutong_core::recognition::{self, Lang as CoreLang};
use hutong_core::recognition::{
    AdviceInput, InputErrors, Registered, RegisteredRequest, advise_at,
};

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
    let input = AdviceInput::from_json(text).map_err(|e| input_error(&e))?;
    let policy = state.policy();
    let advice = advise_at(&policy, &input, today_in_china()).map_err(|e| input_error(&e))?;
    // The bytes serde_json would write, without its per-byte escaping of every key and text.
    let mut resp = advice.to_json().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    crate::handlers::mark_private(&mut resp);
    Ok(resp)
}

/// The holder's registered certificates (those whose name matches) as advice input.
async fn registered(
    state: &AppState,
    policy: &Policy,
    req: &RegisteredRequest,
    today: Day,
) -> Result<Registered, ApiError> {
    let found = lookup::find_by_holder(state, policy, &req.holder, req.as_of(today)).await?;
    Ok(req.with_certificates(policy, found.iter().map(|v| &v.cert), today))
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
    let today = today_in_china();
    let req = RegisteredRequest::from_json(&policy, &body, false).map_err(|e| input_error(&e))?;
    let r = registered(&state, &policy, &req, today).await?;
    let answer = recognition::holder_advice(&policy, &r, today).map_err(|e| input_error(&e))?;
    Ok(private_json(&answer))
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
    let today = today_in_china();
    let req = RegisteredRequest::from_json(&policy, &body, true).map_err(|e| input_error(&e))?;
    let r = registered(&state, &policy, &req, today).await?;
    let answer = recognition::department_check(&policy, &r, today).map_err(|e| input_error(&e))?;
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
        let r = match RegisteredRequest::from_map(&policy, m, false) {
            Ok(req) => registered(&state, &policy, &req, today).await,
            Err(e) => Err(input_error(&e)),
        };
        match r {
            Ok(r) if !r.found => {
                return private_html(
                    StatusCode::OK,
                    pages::advice::not_found_page(lang, demo, &policy),
                );
            }
            Ok(r) => (r.input, Some((r.holder_name, r.certificates))),
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
