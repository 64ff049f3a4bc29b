//! One error type for every handler, answered as RFC 9457 problem details. Internal errors are
//! logged with their cause and answered with a generic message: nothing internal leaks.
//!
//! This is also the one place where an error's text is made safe to send: every substring that
//! parses as a resident ID number is masked ([`mask_id_numbers`]), whichever field, key or
//! extractor the text came from. Handlers do not have to remember it field by field.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use hutong_core::number::mask_id_numbers;
use hutong_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A short, stable identifier of the problem type, e.g. `invalid-request`: the problem's
    /// `code` member.
    pub kind: &'static str,
    pub title: &'static str,
    /// What is wrong. Built through the constructors, it is already masked; the answer masks
    /// it again in case it was set directly.
    pub detail: String,
}

/// An RFC 9457 problem document. `type` is `about:blank`: the problem is the HTTP status, and
/// `code` names it precisely and stably (`invalid-request`, `too-large`, `rate-limited`, …).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// Always `about:blank`; `code` says which problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub type_: &'a str,
    pub title: &'a str,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What is wrong, for a person to read. Never carries a resident ID number unmasked.
    pub detail: &'a str,
    /// A stable identifier of the problem, for programs.
    #[schema(example = "invalid-request")]
    pub code: &'a str,
}

impl ApiError {
    /// An error with `detail` masked.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> ApiError {
        let detail = detail.into();
        let detail = match mask_id_numbers(&detail) {
            Cow::Borrowed(_) => detail,
            Cow::Owned(masked) => masked,
        };
        ApiError {
            status,
            kind,
            title,
            detail,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "The request is not valid",
            detail,
        )
    }

    /// A request the extractors refused (a malformed query, form or body, a body over the
    /// limit, a wrong content type), with the status they chose. Their text can quote the
    /// input (an unknown field's name, a value): it is masked like every other detail.
    pub fn rejected(status: StatusCode, detail: impl Into<String>) -> ApiError {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(status, "too-large", "The request is too large", detail)
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                status,
                "unsupported-media-type",
                "The body's content type is not accepted",
                detail,
            ),
            _ => ApiError::bad_request(detail),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            detail,
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the service could not answer; the error has been logged",
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", what)
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            type_: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &mask_id_numbers(&self.detail),
            code: self.kind,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}
