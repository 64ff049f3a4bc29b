//! Request handlers, one module per resource. Handlers translate between HTTP and the core and
//! store; they hold no business rules.

pub mod api;
pub mod credential;
pub mod exam;
pub mod feed;
pub mod health;
pub mod home;
pub mod log;
pub mod lookup;
pub mod oversight;
pub mod pages;
pub mod print;
pub mod recognition;
pub mod share;
pub mod watch;
pub mod write;

/// Marks an answer about a person: not to be cached, and the address it was asked at (which may
/// carry the query) not to be passed on as a referrer.
pub(crate) fn mark_private(resp: &mut axum::response::Response) {
    use axum::http::{HeaderValue, header};
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
