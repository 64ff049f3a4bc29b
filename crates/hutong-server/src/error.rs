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

use hutong_core::ResidentId;
use hutong_core::number::{NumberScheme, display};
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

/// `text` with every substring that parses as a resident ID number (GB 11643: 17 digits and a
/// check character, a real birth date, the right checksum) masked as public answers show ID
/// numbers: the province digits and the last four characters (`11************002X`).
pub fn mask_id_numbers(text: &str) -> Cow<'_, str> {
    const LEN: usize = 18;
    let b = text.as_bytes();
    if b.len() < LEN {
        return Cow::Borrowed(text);
    }
    let candidate = |w: &[u8]| {
        w[..LEN - 1].iter().all(u8::is_ascii_digit)
            && (w[LEN - 1].is_ascii_digit() || w[LEN - 1] == b'X' || w[LEN - 1] == b'x')
    };
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i + LEN <= b.len() {
        let w = &b[i..i + LEN];
        // An ASCII window starts and ends on character boundaries.
        if candidate(w) {
            let s = &text[i..i + LEN];
            if ResidentId::parse(s).is_ok() {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..i]);
                o.push_str(&display(NumberScheme::ResidentId, s));
                i += LEN;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_wherever_they_are() {
        assert_eq!(
            mask_id_numbers("target: \"11010519491231002X\" is not a kind"),
            "target: \"11************002X\" is not a kind"
        );
        // Inside a longer run, after a letter, lower-case x, twice.
        assert_eq!(
            mask_id_numbers("T11010519491231002x and 911010519491231002X9"),
            "T11************002x and 911************002X9"
        );
        // Not an ID number: a wrong check character, too short, other text untouched.
        assert_eq!(
            mask_id_numbers("110105194912310021 1101051949123100 张三"),
            "110105194912310021 1101051949123100 张三"
        );
        assert!(matches!(mask_id_numbers("plain"), Cow::Borrowed(_)));
    }
}
