//! The HTTP face of hutong: the JSON API under `/api/v1`, server-rendered pages, health and
//! metrics. [`app`] builds the whole service from an [`AppState`]; tests call it without a socket.

pub mod error;
pub mod handlers;
pub mod metrics;
pub mod pages;
mod router;
pub mod state;

pub use error::ApiError;
pub use router::app;
pub use state::{AppState, Settings};

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.spawn_background_tasks();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
