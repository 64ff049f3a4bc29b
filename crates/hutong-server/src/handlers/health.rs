use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;

/// Liveness and readiness: the database answers and a policy is loaded. `certificates` is the
/// registry count the home page shows, `null` until the first count (taken at start) is done.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let policy = state.policy();
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "backend": state.store.backend(),
                "policy": policy.digest,
                "uptime_seconds": state.started.elapsed().as_secs(),
                "certificates": state.stats().map(|s| s.certificates),
            })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "backend": state.store.backend()})),
            )
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let certs = state.stats().map(|s| s.certificates);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.started.elapsed(), certs),
    )
}
