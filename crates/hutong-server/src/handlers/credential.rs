//! Credentials over the API: a certificate's signed credential, the public keys file, issuers'
//! DID documents, and verification in the W3C VC API's shape (docs/credentials.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use hutong_core::holder::names_match;
use hutong_core::idcard::ResidentId;
use hutong_core::number;
use hutong_credential::keyring::{Keyring, did_document, verify_many_with};
use hutong_credential::logproof::{LogProof, LogProofs, LogTrust};
use hutong_credential::status::StatusPurpose;

use hutong_core::Certificate;

use crate::credentials::{Exported, SigningError};
use crate::error::{ApiError, Problem};
use crate::handlers::write::{
    Caller, authenticate, issuer_record, may_read_history, parse_body, unprocessable,
};
use crate::state::AppState;

/// The body of `POST /api/v1/certificates/credential`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    pub number: String,
    pub kind: String,
    /// The holder's ID number. Without a token it is required, with the name: the holder
    /// proves who they are. With a token it is needed when the certificate's number does not
    /// contain it (skill level certificates, `mohurd`).
    #[serde(default)]
    pub id_number: Option<String>,
    /// Without a token, the holder's name.
    #[serde(default)]
    pub name: Option<String>,
}

pub(crate) fn signing_error(e: SigningError) -> ApiError {
    match e {
        SigningError::NoKey(_) => unprocessable("no-signing-key", e.to_string()),
        SigningError::NeedsIdNumber => unprocessable("id-number-needed", e.to_string()),
        SigningError::NotTheHolder => unprocessable("not-the-holder", e.to_string()),
        SigningError::UnknownIssuer(_) => unprocessable("unknown-issuer", e.to_string()),
        SigningError::Store(s) => s.into(),
        SigningError::KeyFile { .. } | SigningError::Credential(_) => {
            tracing::error!(error = %e, "cannot sign a credential");
            ApiError::unavailable(
                "the issuer's signing key cannot be used now; the error has been logged",
            )
        }
    }
}

/// A certificate's W3C Verifiable Credential, signed `eddsa-jcs-2022` now by its issuer's key
/// in force, with the salt of its holder commitment (for the holder to disclose; it is never in
/// the credential). For the holder, who gives the ID number and name, or for a token that may
/// read the certificate's full history (its issuer, its department, regulators).
#[utoipa::path(
    post,
    path = "/api/v1/certificates/credential",
    tag = "credentials",
    security((), ("bearer" = [])),
    request_body(content = CredentialBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`credential` (VC 2.0 with an eddsa-jcs-2022 proof) and `holder_salt` (base64url)", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate, or (without a token) the ID number or name is not its holder's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The issuer has no signing key in force (`no-signing-key`), or the ID number is needed (`id-number-needed`) or is not the holder's (`not-the-holder`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The issuer's key file cannot be used now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = match headers.get(header::AUTHORIZATION) {
        Some(_) => Some(authenticate(&state, &headers).await?),
        None => None,
    };
    let b: CredentialBody = parse_body(&body)?;
    let id = match b.id_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            ResidentId::parse(&number::normalize(s))
                .map_err(|e| ApiError::bad_request(format!("id_number: {e}")))?,
        ),
    };
    let name = b.name.as_deref().unwrap_or_default();
    let who = match (&caller, &id) {
        (Some(caller), id) => Requester::Token {
            caller,
            id: id.as_ref(),
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "id_number: without a token, the holder's ID number and name are needed",
            ));
        }
        (None, Some(_)) if name.trim().is_empty() => {
            return Err(ApiError::bad_request(
                "name: without a token, the holder's ID number and name are needed",
            ));
        }
        (None, Some(id)) => Requester::Holder { id, name },
    };
    let signed = sign_for(&state, &b.number, &b.kind, who).await?;
    let mut r = Json(json!({
        "credential": signed.exported.credential,
        "holder_salt": signed.exported.holder_salt,
    }))
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Who asks for a certificate's credential, with what proves their right to it.
pub(crate) enum Requester<'a> {
    /// The holder, who proves who they are with the ID number and the name.
    Holder { id: &'a ResidentId, name: &'a str },
    /// A token that may read the certificate's full history, with the holder's ID number when
    /// the certificate's number does not contain it.
    Token {
        caller: &'a Caller,
        id: Option<&'a ResidentId>,
    },
}

/// A certificate and its credential, signed now.
pub(crate) struct Signed {
    pub certificate: Certificate,
    pub exported: Exported,
}

/// The answer to a holder whose number, kind, ID number or name does not match: the same for
/// each, so that a route cannot be used to test numbers or names.
pub(crate) fn no_such_certificate() -> ApiError {
    ApiError::not_found("no certificate with this number and kind for this holder")
}

/// The step every route that hands out a credential shares (the credential endpoint, the
/// printable certificate): find the certificate, check that the requester may have its
/// credential, and sign it. For the holder, an unknown number, a wrong name and a wrong ID
/// number all answer [`no_such_certificate`].
pub(crate) async fn sign_for(
    state: &AppState,
    number: &str,
    kind: &str,
    who: Requester<'_>,
) -> Result<Signed, ApiError> {
    let number = number::normalize(number);
    let Some((registry_id, certificate)) = state
        .store
        .certificate_with_id(&number, kind.trim())
        .await?
    else {
        return Err(no_such_certificate());
    };
    let (id, holder) = match who {
        Requester::Token { caller, id } => {
            may_read_history(
                state,
                caller,
                registry_id,
                &certificate,
                no_such_certificate,
            )
            .await?;
            (id, false)
        }
        Requester::Holder { id, name } => {
            // The ID number is checked against the holder's keyed hash by the signer, before
            // anything else, and a mismatch answers as not found too (below).
            if !names_match(&certificate.holder_name, name) {
                return Err(no_such_certificate());
            }
            (Some(id), true)
        }
    };
    let policy = state.policy();
    let exported = state
        .signer
        .credential(
            state.store.as_ref(),
            &policy,
            &state.secret,
            &certificate,
            registry_id,
            id,
        )
        .await
        .map_err(|e| match (e, holder) {
            (SigningError::NotTheHolder, true) => no_such_certificate(),
            (e, _) => signing_error(e),
        })?;
    Ok(Signed {
        certificate,
        exported,
    })
}

/// The registry's public keys file: every issuer's public record and every signing key with
/// its lifecycle, signed by the registry's key. Offline verifiers keep it.
#[utoipa::path(
    get,
    path = "/api/v1/keys",
    tag = "credentials",
    responses(
        (status = 200, description = "The signed public keys file (`HutongPublicKeys`)", body = Object),
        (status = 400, description = "The address carries a query: this endpoint takes none", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The registry key cannot be used now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn keys(
    State(state): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    if uri.query().is_some() {
        return Err(ApiError::bad_request(
            "this endpoint takes no query parameters",
        ));
    }
    let file = state
        .signer
        .keyring(state.store.as_ref())
        .await
        .map_err(signing_error)?;
    let mut r = Json(file).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

/// An issuer's DID document, where did:web resolves `did:web:HOST:issuers:ID`.
pub async fn did_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if issuer_record(&state, &id).await?.is_none() {
        return Err(ApiError::not_found("no issuer with this id"));
    }
    let keys = state.store.keys().await?;
    let doc = did_document(state.signer.host(), &id, &keys);
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/did+json"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

/// An issuer's status list (W3C Bitstring Status List v1.0), as a credential signed by the
/// issuer's key in force, built from the registry now and valid for six hours.
pub async fn status_list(
    State(state): State<AppState>,
    Path((issuer, purpose, list)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let purpose = StatusPurpose::parse(&purpose)
        .map_err(|_| ApiError::not_found("a status list's purpose is revocation or suspension"))?;
    let list: i64 = list
        .parse()
        .ok()
        .filter(|n| (0..=70_000_000_000_000).contains(n))
        .ok_or_else(|| ApiError::not_found("a status list's number is a whole number"))?;
    let Some(record) = issuer_record(&state, &issuer).await? else {
        return Err(ApiError::not_found("no issuer with this id"));
    };
    let doc = state
        .signer
        .status_list(state.store.as_ref(), &state.secret, &record, purpose, list)
        .await
        .map_err(signing_error)?;
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

/// The body of `POST /api/v1/credentials/verify`, as the W3C VC API has it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyCredentialBody {
    #[schema(value_type = Object)]
    pub verifiable_credential: Value,
    /// Status list credentials to check the status entries against (optional).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub status_lists: Vec<Value>,
    /// A log proof of the credential's journal entry (what `GET /api/v1/log/inclusion?seq=…`
    /// answers), checked against this registry's log key (optional; without it the `log`
    /// check is not made).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub log_proof: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: Option<Value>,
}

/// Verifies a certificate credential against this registry's keys and issuer register, as an
/// offline verifier would with the public keys file. 200 only when every check passes; a
/// credential that fails a check is a 422 problem with the checks, never a 200 that says "not
/// verified".
#[utoipa::path(
    post,
    path = "/api/v1/credentials/verify",
    tag = "credentials",
    request_body(content = VerifyCredentialBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Verified: `verified`, `checks`, and `not_checked` (checks skipped for want of data, such as a status list)", body = Object),
        (status = 400, description = "The body is not JSON or not a credential", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A check failed: the problem's `checks` say which and why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_credential(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: VerifyCredentialBody = parse_body(&body)?;
    if !b.verifiable_credential.is_object() {
        return Err(ApiError::bad_request(
            "verifiableCredential: must be a JSON object",
        ));
    }
    let keyring = Keyring {
        host: state.signer.host().to_string(),
        issued: String::new(),
        // Only the issuer the credential names, from the register the service keeps in memory
        // (refreshed every few seconds): not a read of every issuer per request.
        issuers: b
            .verifiable_credential
            .pointer("/issuer/registryId")
            .and_then(Value::as_str)
            .and_then(|id| state.issuers().get(id).map(|i| (**i).clone()))
            .into_iter()
            .collect(),
        keys: state.store.keys().await?,
    };
    // The log proof, against this registry's own log key; no witness is required here (the
    // registry vouches for its own log), and those of its witnesses that cosigned are named.
    // A `logProof` that is not one fails the log check (the answer is then a 422 with the
    // checks, like any credential that fails one), rather than refusing the request.
    let mut log_refusal = None;
    let log = match &b.log_proof {
        None => None,
        Some(p) => {
            let checked = (|| {
                let settings = state
                    .log
                    .settings()
                    .ok_or_else(|| "this registry publishes no transparency log".to_string())?;
                let proof = LogProof::from_value(p).map_err(|e| e.to_string())?;
                let trust =
                    LogTrust::new(settings.signer.verifier(), settings.witnesses.clone(), 0)
                        .map_err(|e| e.to_string())?;
                Ok::<_, String>(LogProofs::check(&trust, std::slice::from_ref(&proof)))
            })();
            match checked {
                Ok(l) => Some(l),
                Err(e) => {
                    log_refusal = Some(format!("logProof: {e}"));
                    None
                }
            }
        }
    };
    let report = verify_many_with(
        std::slice::from_ref(&b.verifiable_credential),
        &keyring,
        &b.status_lists,
        log.as_ref(),
        chrono::Utc::now(),
    )
    .pop()
    .ok_or_else(ApiError::internal)?;
    let mut report = report;
    if let Some(why) = log_refusal {
        for c in report.checks.iter_mut().filter(|c| c.check == "log") {
            c.outcome = "fail";
            c.detail = why.clone();
        }
    }
    // A check's detail can quote the credential: masked like every answer.
    let checks: Vec<Value> = report
        .checks
        .iter()
        .map(|c| {
            json!({
                "check": c.check,
                "outcome": c.outcome,
                "detail": hutong_core::number::mask_id_numbers(&c.detail),
            })
        })
        .collect();
    let warnings: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome == "skipped")
        .map(|c| c.check)
        .collect();
    if report.verified() {
        return Ok(Json(json!({
            "verified": true,
            "checks": checks,
            "not_checked": warnings,
        }))
        .into_response());
    }
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.outcome == "fail")
        .map(|c| format!("{}: {}", c.check, c.detail))
        .collect();
    let detail = hutong_core::number::mask_id_numbers(&failed.join("; ")).into_owned();
    let body = json!({
        "type": "about:blank",
        "title": "The credential did not verify",
        "status": 422,
        "detail": detail,
        "code": "credential-not-verified",
        "verified": false,
        "checks": checks,
    });
    let mut r = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Ok(r)
}
