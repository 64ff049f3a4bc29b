//! The JSON API under `/api/v1`. Each handler is described for the OpenAPI document by its
//! `#[utoipa::path]`, and routed through that description (see `router.rs`), so the document
//! cannot drift from the routes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hutong_core::verify::HolderQuery;

use crate::error::{ApiError, Problem};
use crate::handlers::lookup::{self, HolderBody, HolderParams, VerifyBody, VerifyParams};
use crate::state::AppState;
use crate::views::LookupAnswer;

/// Verify one certificate by its number and a second factor.
///
/// A wrong name (or ID number) and a number that does not exist get the same answer,
/// `{"found": false, …}`, byte for byte. When several certificates share the number (the
/// numbers of special-equipment items, and of special-operation items, are the holder's ID
/// number), all that the second factor opens are listed; `kind` narrows the answer to one.
#[utoipa::path(
    get,
    path = "/api/v1/verify",
    tag = "verification",
    params(VerifyParams),
    responses(
        (status = 200, description = "The answer; `found` says whether a certificate matched", body = LookupAnswer),
        (status = 400, description = "A parameter is missing or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    verify_answer(&state, VerifyParams::from_query(query.as_deref())?).await
}

/// Verify one certificate, the query in the body: the same as `GET /api/v1/verify`, for a
/// query that should not be part of an address (an ID number as the second factor, or a
/// number that is or embeds one).
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verification",
    request_body(content = VerifyBody, description = "`number` and a second factor: `name`, or `id`, or both; `kind` to pick one kind", content_type = "application/json"),
    responses(
        (status = 200, description = "The answer; `found` says whether a certificate matched", body = LookupAnswer),
        (status = 400, description = "A field is missing or malformed, or the body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_post(
    State(state): State<AppState>,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    verify_answer(&state, body.into()).await
}

async fn verify_answer(state: &AppState, mut params: VerifyParams) -> Result<Response, ApiError> {
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    if !lookup::resolve_e_licence(state, &policy, &mut params).await? {
        return Ok(private_answer(&LookupAnswer::not_found(&policy, today)));
    }
    let q = params.check(&policy)?;
    let found = lookup::find_by_number(state, &policy, &q, today).await?;
    Ok(private_answer(&LookupAnswer::new(&policy, today, &found)))
}

/// Every certificate of one holder, across all departments (一网通查). Deprecated: this form
/// puts the ID number in the address, where proxies, access logs and browser histories keep
/// it; `POST` the same query as a JSON body instead.
///
/// Both the resident ID number and the name are required. A holder with no certificate and a
/// name that does not match get the same answer, `{"found": false, …}`.
#[utoipa::path(
    get,
    path = "/api/v1/holders/certificates",
    tag = "verification",
    params(HolderParams),
    responses(
        (status = 200, description = "The holder's certificates, each with its status and checks", body = LookupAnswer),
        (status = 400, description = "A parameter is missing or malformed (the ID number is never repeated)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn holder_certificates(
    State(state): State<AppState>,
    params: Result<Query<HolderParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    holder_answer(&state, params.check()?).await
}

/// Every certificate of one holder, across all departments (一网通查), asked in the body so
/// that the ID number is never part of an address.
///
/// Both the resident ID number and the name are required. A holder with no certificate and a
/// name that does not match get the same answer, `{"found": false, …}`.
#[utoipa::path(
    post,
    path = "/api/v1/holders/certificates",
    tag = "verification",
    request_body(content = HolderBody, description = "The holder's resident ID number and name", content_type = "application/json"),
    responses(
        (status = 200, description = "The holder's certificates, each with its status and checks", body = LookupAnswer),
        (status = 400, description = "A field is missing or malformed, or the body is not JSON (the ID number is never repeated)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn holder_certificates_post(
    State(state): State<AppState>,
    body: Result<Json<HolderBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    holder_answer(&state, body.check()?).await
}

async fn holder_answer(state: &AppState, q: HolderQuery) -> Result<Response, ApiError> {
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let found = lookup::find_by_holder(state, &policy, &q, today).await?;
    Ok(private_answer(&LookupAnswer::new(&policy, today, &found)))
}

/// A JSON answer about a person: not to be cached, and the URL it was asked at (which carries
/// the query) not to be passed on as a referrer.
pub fn private_json<T: serde::Serialize>(body: &T) -> Response {
    let mut bytes = Vec::with_capacity(4096);
    private_bytes(serde_json::to_writer(&mut bytes, body).map(|()| bytes))
}

/// A lookup answer, written by its own JSON writer ([`LookupAnswer::to_json`]), as
/// [`private_json`].
fn private_answer(answer: &LookupAnswer<'_>) -> Response {
    private_bytes(Ok(answer.to_json()))
}

/// JSON already written, as [`private_json`].
pub fn private_bytes_json(json: String) -> Response {
    private_bytes(Ok(json.into_bytes()))
}

fn private_bytes(encoded: Result<Vec<u8>, serde_json::Error>) -> Response {
    match encoded {
        Ok(bytes) => {
            let mut resp = bytes.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            crate::handlers::mark_private(&mut resp);
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "could not encode an answer");
            ApiError::internal().into_response()
        }
    }
}
