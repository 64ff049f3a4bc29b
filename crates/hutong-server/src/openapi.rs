//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' own descriptions.
//! The API's routes are registered through the same descriptions ([`api_router`]), so a route
//! cannot exist without being documented.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::handlers::{api, recognition};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hutong",
        description = "Public verification of China's vocational skill certificates and the one-stop query of a holder's certificates (一网通查). Answers never contain a resident ID number; holders' names are masked. Lookups are rate-limited per client (429 with Retry-After).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "verification", description = "Verify a certificate; list a holder's certificates"),
        (name = "recognition", description = "Mutual recognition: what certificates entitle their holder to at other departments (exemptions, deemed skill levels, the next level), with the rules and reasons")
    )
)]
struct ApiDoc;

/// The `/api/v1` routes and their document.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::verify))
        .routes(routes!(api::holder_certificates))
        .routes(routes!(recognition::advice))
        .routes(routes!(recognition::holder_advice))
        .routes(routes!(recognition::check))
        .split_for_parts()
}

/// The document as JSON, made once.
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        api_router()
            .1
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

/// `GET /api/openapi.json`
pub async fn serve() -> Response {
    let mut resp = document_json().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
