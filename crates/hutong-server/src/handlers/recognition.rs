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

use hutong_core::date::{Day, today_in_china};
use hutong_core::journal::now_micros;
use hutong_core::recognition::registry::holding_from_certificate;
use hutong_core::recognition::{
    self, AdviceInput, InputErrors, Registered, RegisteredRequest, advise_at,
};
use hutong_core::share::HolderTicket;
use hutong_core::verify::{HolderQuery, second_factor_matches};
use hutong_core::{Certificate, Policy, mask_name};

use crate::error::{ApiError, Problem};
use crate::handlers::api::private_json;
use crate::handlers::lookup;
use crate::handlers::pages::private_html;
use crate::handlers::share;
use crate::pages::advice::{Entered, Who};
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
        (status = 401, description = "A bearer token was given and is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // A department's token, when given, makes the check one of the department's: journaled, and
    // counted in the regulators' figures. Without one the check is anyone's, and leaves no trace.
    let caller = if headers.contains_key(header::AUTHORIZATION) {
        Some(crate::handlers::write::authenticate(&state, &headers).await?)
    } else {
        None
    };
    let policy = state.policy();
    let today = today_in_china();
    let req = RegisteredRequest::from_json(&policy, &body, true).map_err(|e| input_error(&e))?;
    let r = registered(&state, &policy, &req, today).await?;
    let answer = recognition::department_check(&policy, &r, today).map_err(|e| input_error(&e))?;
    if let Some(caller) = caller {
        journal_check(
            &state,
            &policy,
            &caller,
            &answer,
            req.target.as_deref().unwrap_or(""),
        )
        .await;
    }
    Ok(private_json(&answer))
}

/// Journals a department's recognition check: who checked (the department and province of the
/// token), for which kind, whether the holder was found and what may be exempted; never who the
/// holder is.
async fn journal_check(
    state: &AppState,
    policy: &Policy,
    caller: &crate::handlers::write::Caller,
    answer: &recognition::CheckAnswer<'_>,
    target: &str,
) {
    use hutong_core::rights::Actor;
    let (department, region) = match &caller.actor {
        Actor::Regulator { department, region } | Actor::Authority { department, region } => {
            (Some(department.clone()), region.clone())
        }
        Actor::Institution { issuer } => match state.issuer(issuer).await {
            Ok(Some(i)) => (Some(i.department.clone()), i.region.clone()),
            _ => (None, None),
        },
    };
    let (found, exemptions) = match answer {
        recognition::CheckAnswer::NotFound { .. } => (false, Vec::new()),
        recognition::CheckAnswer::Found(c) => (true, c.exemptions.iter().map(|e| e.id()).collect()),
    };
    let target_department = policy.kind(target).map(|k| k.department.clone());
    let change = hutong_core::journal::canonical(&serde_json::json!({
        "change": "recognition-checked",
        "department": department,
        "region": region,
        "target": target,
        "target_department": target_department,
        "found": found,
        "exemptions": exemptions,
    }));
    if let Err(e) = state
        .store
        .journal_only(
            &[(hutong_core::journal::Subject::Nothing, change)],
            &caller.token,
            now_micros(),
        )
        .await
    {
        tracing::error!(error = %e, "could not journal a recognition check");
    }
}

/// `GET /advice`: the form.
pub async fn advice_page(State(state): State<AppState>, lang: Lang) -> Markup {
    pages::advice::form_page(
        lang,
        state.settings.demo,
        &state.policy(),
        &[],
        &Entered::default(),
        today_in_china(),
    )
}

/// The registered certificates a holder ticket vouches for (those the page that carried it
/// showed), with their registry ids; `None` when the ticket is not genuine or has expired.
async fn vouched_certificates(
    state: &AppState,
    ticket: &str,
) -> Result<Option<Vec<(i64, Certificate)>>, ApiError> {
    let Ok(v) = HolderTicket::check(&state.secret, ticket, now_micros()) else {
        return Ok(None);
    };
    let certs = share::holder_certificates(state, &v.holder, None).await?;
    Ok(Some(
        certs
            .into_iter()
            .filter(|(id, _)| v.commitments.contains_key(id))
            .collect(),
    ))
}

/// The registered certificates of the holder an ID number and a name name (those whose name
/// matches, as the one-stop query finds them), with their registry ids, and a ticket that
/// stands for them on the answer page.
async fn named_certificates(
    state: &AppState,
    q: &HolderQuery,
) -> Result<(Vec<(i64, Certificate)>, String), ApiError> {
    let key = state.secret.key_for(&q.holder);
    let certs: Vec<(i64, Certificate)> = share::holder_certificates(state, &key, None)
        .await?
        .into_iter()
        .filter(|(_, c)| second_factor_matches(c, Some(q.name.as_str()), Some(&key)))
        .collect();
    let ticket = HolderTicket::issue(
        &state.secret,
        &key,
        &share::commitments_of(state, &q.holder, &certs),
        now_micros(),
    );
    Ok((certs, ticket))
}

/// `POST /advice/result`: the advice for the registered certificates (by ID number and name, or
/// by the holder ticket of the one-stop result or of an earlier answer) or for the ticked ones.
/// Bad input gives the form again, filled in, with every problem named in the page's language.
pub async fn advice_result(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let policy = state.policy();
    let demo = state.settings.demo;
    let today = today_in_china();
    let fields = match form {
        Ok(Form(f)) => f,
        Err(e) => return ApiError::rejected(e.status(), e.body_text()).into_response(),
    };
    let entered = Entered::from_fields(&fields);
    // The form again, filled in, with what is wrong (a page, as before: 200).
    let again = |problems: Vec<String>| {
        private_html(
            StatusCode::OK,
            pages::advice::form_page(lang, demo, &policy, &problems, &entered, today),
        )
    };
    let mut input = match entered.input(lang, &policy, today) {
        Ok(i) => i,
        Err(problems) => return again(problems),
    };
    let holder = if entered.registered {
        let (certs, ticket, name) = match &entered.ticket {
            Some(t) => match vouched_certificates(&state, t).await {
                Ok(Some(certs)) => {
                    let name = certs
                        .first()
                        .map(|(_, c)| mask_name(&c.holder_name))
                        .unwrap_or_default();
                    (certs, t.clone(), name)
                }
                Ok(None) => {
                    return again(vec![
                        lang.t(
                            "页面已过期：请重新输入身份证号和姓名查询。",
                            "This page has expired: enter your ID number and name again.",
                        )
                        .to_string(),
                    ]);
                }
                Err(e) => return e.into_response(),
            },
            None => {
                let q = match entered.holder(lang) {
                    Ok(q) => q,
                    Err(problems) => return again(problems),
                };
                match named_certificates(&state, &q).await {
                    Ok((certs, ticket)) => (certs, ticket, mask_name(&q.name)),
                    Err(e) => return e.into_response(),
                }
            }
        };
        if certs.is_empty() {
            return private_html(
                StatusCode::OK,
                pages::advice::not_found_page(lang, demo, &policy, &entered, today),
            );
        }
        let as_of = input.as_of.unwrap_or(today);
        input.holdings = certs
            .iter()
            .filter_map(|(_, c)| holding_from_certificate(&policy, c, as_of))
            .collect();
        Some((name, certs.len(), ticket))
    } else {
        None
    };
    let advice = match advise_at(&policy, &input, today) {
        Ok(a) => a,
        Err(e) => {
            let problems =
                e.0.iter()
                    .map(|p| {
                        format!(
                            "{}{}",
                            lang.t("输入有误：", "Please check: "),
                            if p.field.is_empty() {
                                "—"
                            } else {
                                p.field.as_str()
                            }
                        )
                    })
                    .collect();
            return again(problems);
        }
    };
    let who = match &holder {
        Some((name, certificates, ticket)) => Who::Registered {
            name,
            certificates: *certificates,
            ticket,
        },
        None => Who::Ticked,
    };
    private_html(
        StatusCode::OK,
        pages::advice::result_page(lang, demo, &policy, &advice, &input, &who, &entered),
    )
}
