//! The whole route table.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::handlers::{health, home, pages, recognition};
use crate::openapi;
use crate::ratelimit::{self, Tier};
use crate::state::AppState;

/// The largest request body accepted (the one-stop query form is the only body).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest path and query accepted.
pub const MAX_URI_BYTES: usize = 2048;

pub fn app(state: AppState) -> Router {
    // Lookups: verification and the one-stop query, API and pages, under the stricter limit.
    let (api, _) = openapi::api_router();
    let lookups = api
        .route("/verify/result", get(pages::verify_result))
        .route("/holder/result", post(pages::holder_result))
        .route("/advice/result", post(recognition::advice_result))
        .layer(middleware::from_fn_with_state(
            (state.clone(), Tier::Lookups),
            ratelimit::limit,
        ));
    let public = Router::new()
        .route("/", get(home::page))
        .route("/verify", get(pages::query))
        .route("/directory", get(pages::directory))
        .route("/issuers", get(pages::issuers))
        .route("/advice", get(recognition::advice_page))
        .route("/api/openapi.json", get(openapi::serve))
        .fallback(home::not_found)
        .layer(middleware::from_fn_with_state(
            (state.clone(), Tier::Pages),
            ratelimit::limit,
        ));
    let operations = Router::new().route("/healthz", get(health::healthz));
    Router::new()
        .merge(lookups)
        .merge(public)
        .merge(operations)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_uri))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The Prometheus metrics, served on their own listener (`metrics_listen`), not beside the public
/// pages: they tell how the service is used, which is the operator's business.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Refuses an address longer than [`MAX_URI_BYTES`] with `414`.
async fn limit_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path().len() + req.uri().query().map_or(0, |q| q.len() + 1);
    if len > MAX_URI_BYTES {
        return ApiError {
            status: StatusCode::URI_TOO_LONG,
            kind: "uri-too-long",
            title: "The address is too long",
            detail: format!("addresses are limited to {MAX_URI_BYTES} bytes"),
        }
        .into_response();
    }
    next.run(req).await
}

/// Records metrics and a log line per request, by route template: the raw URI may carry a
/// name or an ID number in its query string, so it is never logged.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // A matched path is a shared string: cloning it does not copy the text.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    let method = req.method().clone();
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    state.metrics.record(route, resp.status().as_u16(), elapsed);
    tracing::debug!(%method, route, status = resp.status().as_u16(), micros = elapsed.as_micros() as u64, "request");
    resp
}
