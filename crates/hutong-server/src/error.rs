//! One error type for every handler, answered as RFC 9457 problem details. Internal errors are
//! logged with their cause and answered with a generic message: nothing internal leaks.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use hutong_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A short, stable identifier of the problem type, e.g. `invalid-parameter`.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
}

/// An RFC 9457 problem document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'a str,
    pub status: u16,
    /// What is wrong, for a person to read.
    pub detail: &'a str,
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid-request",
            title: "The request is not valid",
            detail: detail.into(),
        }
    }

    /// A request the extractors refused (a malformed query or form, a body over the limit),
    /// with the status they chose.
    pub fn rejected(status: StatusCode, detail: impl Into<String>) -> ApiError {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError {
                status,
                kind: "too-large",
                title: "The request is too large",
                detail: detail.into(),
            };
        }
        ApiError::bad_request(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            title: "Not found",
            detail: detail.into(),
        }
    }

    pub fn internal() -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            title: "Internal error",
            detail: "the service could not answer; the error has been logged".into(),
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "unavailable",
            title: "Service unavailable",
            detail: detail.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(what) => ApiError {
                status: StatusCode::CONFLICT,
                kind: "conflict",
                title: "Conflict",
                detail: what,
            },
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
            type_: format!("https://hutong.example/problems/{}", self.kind),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}
