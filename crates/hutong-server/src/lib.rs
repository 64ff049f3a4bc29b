//! The HTTP face of hutong: the JSON API under `/api/v1`, server-rendered pages, health and
//! metrics. [`app`] builds the whole service from an [`AppState`]; tests call it without a socket.

pub mod error;
pub mod handlers;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
mod router;
pub mod state;
pub mod views;

pub use error::ApiError;
pub use router::app;
pub use state::{AppState, DemoSample, Settings};

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Err(e) = state.refresh_issuers().await {
        tracing::warn!(error = %e, "could not read the issuer register; verification will query it");
    }
    state.spawn_background_tasks();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
