//! The whole route table.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::handlers::{credential, health, home, log, pages, print, recognition, share};
use crate::openapi;
use crate::ratelimit::{self, Tier};
use crate::state::AppState;

/// The largest request body accepted (the one-stop query form is the only body).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The largest policy accepted by `POST /api/v1/policy`.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;
/// The largest batch accepted by `POST /api/v1/certificates/batch`.
pub const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;
/// The longest path and query accepted.
pub const MAX_URI_BYTES: usize = 2048;

pub fn app(state: AppState) -> Router {
    // Lookups: verification and the one-stop query, API and pages, under the stricter limit.
    let (api, _) = openapi::api_router();
    let lookups = api
        .route(
            "/verify/result",
            get(pages::verify_result).post(pages::verify_result_post),
        )
        .route("/s/{code}", get(share::page))
        .route("/s/{code}/print/{id}", get(share::print_page))
        .route("/share/new", post(share::new_page))
        .route("/share/revoke", post(share::revoke_page))
        // Posted only; a GET (a reload, a bookmark) goes back to the form.
        .route(
            "/holder/result",
            get(pages::holder_result_get).post(pages::holder_result),
        )
        .route(
            "/advice/result",
            get(pages::advice_result_get).post(recognition::advice_result),
        )
        .route("/certificates/print", get(print::form).post(print::print))
        .layer(middleware::from_fn_with_state(
            (state.clone(), Tier::Lookups),
            ratelimit::limit,
        ));
    // Writes, each by a bearer token within its rights (see `handlers::write`).
    let (writes, _) = openapi::write_router();
    let writes = writes.layer(middleware::from_fn_with_state(
        (state.clone(), Tier::Writes),
        ratelimit::limit,
    ));
    let public = Router::new()
        .route("/", get(home::page))
        .route("/verify", get(pages::query))
        .route("/directory", get(pages::directory))
        .route("/issuers", get(pages::issuers))
        .route("/issuers/{id}/did.json", get(credential::did_json))
        .route(
            "/status/{issuer}/{purpose}/{list}",
            get(credential::status_list),
        )
        .route("/advice", get(recognition::advice_page))
        .route(
            "/exam-sessions",
            get(crate::handlers::exam::outcome_form).post(crate::handlers::exam::outcome_page),
        )
        .route(
            "/oversight",
            get(crate::handlers::oversight::page).post(crate::handlers::oversight::page_post),
        )
        .route("/api/openapi.json", get(openapi::serve))
        // The transparency log (docs/transparency-log.md): C2SP tlog-tiles, cosignatures, and
        // the JSON proofs for clients that do not read tiles.
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/tile/{*path}", get(log::tile))
        .route(
            "/log/cosignature",
            post(log::cosignature).layer(DefaultBodyLimit::max(log::MAX_COSIGNATURE_BYTES)),
        )
        .merge(openapi::log_router().0)
        .fallback(home::not_found)
        .layer(middleware::from_fn_with_state(
            (state.clone(), Tier::Pages),
            ratelimit::limit,
        ));
    let operations = Router::new().route("/healthz", get(health::healthz));
    Router::new()
        .merge(lookups)
        .merge(writes)
        .merge(public)
        .merge(operations)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// The Prometheus metrics, served on their own listener (`metrics_listen`), not beside the public
/// pages: they tell how the service is used, which is the operator's business.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// What every request goes through, in one layer (each layer costs a boxed future and a clone
/// of the service behind it): metrics and the log line ([`observe`]), the refusal of an address
/// longer than [`MAX_URI_BYTES`] with `414`, and problem details for every error under `/api/`
/// ([`api_problems`]).
async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    observe(&state, req, |req| async move {
        let len = req.uri().path().len() + req.uri().query().map_or(0, |q| q.len() + 1);
        if len > MAX_URI_BYTES {
            return ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri-too-long",
                "The address is too long",
                format!("addresses are limited to {MAX_URI_BYTES} bytes"),
            )
            .into_response();
        }
        if !req.uri().path().starts_with("/api/") {
            return next.run(req).await;
        }
        let method = req.method().clone();
        api_problems(method, next.run(req).await).await
    })
    .await
}

/// The longest error text of a framework rejection that is kept as a problem's detail.
const MAX_REJECTION_TEXT: usize = 1024;

/// Every error under `/api/` is problem details: the answers axum makes by itself (a `405`
/// with an empty body, a `413` or `415` in plain text, the HTML `404` page of an unknown path)
/// become `application/problem+json`, their text (which may quote the input) masked by
/// [`ApiError`] like every other detail.
async fn api_problems(method: axum::http::Method, resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let plain = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    let text = if plain {
        match axum::body::to_bytes(body, MAX_REJECTION_TEXT).await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => String::new(),
        }
    } else {
        String::new()
    };
    let mut err = match status {
        StatusCode::NOT_FOUND => ApiError::not_found("no such API path; see /api/openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(format!(
            "this path does not answer {method}; the Allow header lists the methods it answers"
        )),
        s if text.is_empty() => {
            let reason = s.canonical_reason().unwrap_or("Error");
            ApiError::new(s, "http-error", reason, reason)
        }
        s => ApiError::rejected(s, text),
    };
    err.status = status;
    let mut out = err.into_response();
    // Keep what the original answer said besides its body (Allow, Retry-After, …).
    let h = out.headers_mut();
    for name in parts.headers.keys() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            h.remove(name);
            for value in parts.headers.get_all(name) {
                h.append(name.clone(), value.clone());
            }
        }
    }
    out
}

/// Records metrics and a log line per request, by route template: the raw URI may carry a
/// name or an ID number in its query string, so it is never logged.
async fn observe<F, Fut>(state: &AppState, req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let start = Instant::now();
    // A matched path is a shared string: cloning it does not copy the text.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    let method = req.method().clone();
    let resp = inner(req).await;
    let elapsed = start.elapsed();
    state.metrics.record(route, resp.status().as_u16(), elapsed);
    tracing::debug!(%method, route, status = resp.status().as_u16(), micros = elapsed.as_micros() as u64, "request");
    resp
}
