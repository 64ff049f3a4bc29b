//! The whole route table.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;

use crate::handlers::{health, home};
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::page))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(home::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Records metrics and a log line per request, by route template: the raw URI may carry a
/// name or an ID number in its query string, so it is never logged.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    state
        .metrics
        .record(&route, resp.status().as_u16(), elapsed);
    tracing::debug!(%method, route, status = resp.status().as_u16(), micros = elapsed.as_micros() as u64, "request");
    resp
}
