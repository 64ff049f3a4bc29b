//! Share codes (用证码) over the API and the pages: a holder mints, lists and revokes them;
//! whoever has one sees the verification result of what it covers (docs/verification.md,
//! "Share codes").
//!
//! The holder proves who they are with their ID number and name, in a JSON body (the API) or
//! a POST form (the pages); a page then carries a [`HolderTicket`] instead of the ID number.
//! A code's address is `/s/{code}`: it is the only thing a QR code or a link carries.

use axum::Form;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::json;

use hutong_core::date::Day;
use hutong_core::holder::names_match;
use hutong_core::journal::{instant_rfc3339, now_micros};
use hutong_core::share::{
    DEFAULT_DAYS, HolderTicket, MAX_DAYS, ShareCode, SharePurpose, ShareRecord, ShareUnusable,
    Vouched,
};
use hutong_core::verify::{HolderQuery, describe_errors};
use hutong_core::{Certificate, HolderKey, ResidentId, number};
use hutong_credential::certificate::holder_commitment;
use std::collections::BTreeMap;

use crate::error::{ApiError, Problem};
use crate::handlers::api::private_json;
use crate::handlers::lookup::verified;
use crate::handlers::pages::{histories, private_html, public_base};
use crate::handlers::write::parse_body;
use crate::pages::{self, Lang};
use crate::state::AppState;
use crate::views::{LookupAnswer, Verified};

/// The journal's actor for what a holder does over the public service.
pub const HOLDER_ACTOR: &str = "holder";

/// The body of `POST /api/v1/shares`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// The holder's resident ID number.
    pub id_number: String,
    /// The holder's name.
    pub name: String,
    /// One certificate to share, by number and kind; all of the holder's when both are absent.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// `employment`, `application`, `tender` or `other` (the default).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub purpose: Option<String>,
    /// How many days the code works: 1 to 366, 30 by default. A whole number, which JSON may
    /// write as `7.0`.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub days: Option<serde_json::Number>,
}

/// The body of `POST /api/v1/shares/list`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareListBody {
    pub id_number: String,
    pub name: String,
}

/// The body of `POST /api/v1/shares/revoke`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRevokeBody {
    pub id_number: String,
    pub name: String,
    /// The share code's id (`shr_` and 16 hex digits), as the holder's list gives it.
    pub id: String,
}

/// A share code as its holder sees it in their list: never the code itself, which is shown
/// once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShareView {
    pub id: String,
    #[schema(value_type = String)]
    pub purpose: SharePurpose,
    /// The certificate it covers, its number masked where it embeds the ID number; absent for
    /// all of the holder's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<SharedCertificate>,
    pub created_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SharedCertificate {
    pub number: String,
    pub kind: String,
}

fn view(r: &ShareRecord, certs: &[(i64, Certificate)], now: i64) -> ShareView {
    ShareView {
        id: r.id.to_string(),
        purpose: r.purpose,
        certificate: r.certificate.map(|id| {
            certs
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, c)| SharedCertificate {
                    number: number::mask_id_numbers(&c.number).into_owned(),
                    kind: c.kind.clone(),
                })
                .unwrap_or(SharedCertificate {
                    number: String::new(),
                    kind: String::new(),
                })
        }),
        created_at: instant_rfc3339(r.created_at_micros),
        expires_at: instant_rfc3339(r.expires_at_micros),
        revoked_at: r.revoked_at_micros.map(instant_rfc3339),
        state: match r.usable_at(now) {
            Ok(()) => "active",
            Err(ShareUnusable::Expired { .. }) => "expired",
            Err(ShareUnusable::Revoked { .. }) => "revoked",
        },
    }
}

fn no_such_holder() -> ApiError {
    ApiError::not_found("no certificate matches this ID number and name")
}

/// The holder's certificates with their registry ids, if the name is the registered one of at
/// least one: what both the API and the pages check a holder by. A wrong name and an ID number
/// with no certificate answer alike.
pub(crate) async fn holder_certificates(
    state: &AppState,
    key: &HolderKey,
    name: Option<&str>,
) -> Result<Vec<(i64, Certificate)>, ApiError> {
    let certs = state.store.certificates_by_holder(key).await?;
    if let Some(name) = name
        && !certs.iter().any(|c| names_match(&c.holder_name, name))
    {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(certs.len());
    for c in certs {
        if let Some((id, c)) = state.store.certificate_with_id(&c.number, &c.kind).await? {
            out.push((id, c));
        }
    }
    Ok(out)
}

/// The holder commitment (as the certificate's credentials carry it) of each certificate, made
/// while the holder's ID number is at hand.
pub fn commitments_of(
    state: &AppState,
    id: &ResidentId,
    certs: &[(i64, Certificate)],
) -> BTreeMap<i64, [u8; 32]> {
    certs
        .iter()
        .filter_map(|(rid, c)| {
            let salt = state.secret.credential_salt(&c.kind, &c.number);
            let hex = holder_commitment(&salt, id);
            let mut out = [0u8; 32];
            hex::decode_to_slice(hex, &mut out).ok()?;
            Some((*rid, out))
        })
        .collect()
}

/// A holder proved by ID number and name: their key, certificates and commitments.
struct Proved {
    key: HolderKey,
    certs: Vec<(i64, Certificate)>,
    commitments: BTreeMap<i64, [u8; 32]>,
}

async fn prove(state: &AppState, id_number: &str, name: &str) -> Result<Proved, ApiError> {
    // The body names the ID number `id_number`, as the credential endpoint's does.
    let q = HolderQuery::parse(Some(id_number), Some(name)).map_err(|mut errs| {
        for e in &mut errs {
            if e.field == "id" {
                e.field = "id_number";
            }
        }
        ApiError::bad_request(describe_errors(&errs))
    })?;
    let key = state.secret.key_for(&q.holder);
    let certs = holder_certificates(state, &key, Some(&q.name)).await?;
    if certs.is_empty() {
        return Err(no_such_holder());
    }
    let commitments = commitments_of(state, &q.holder, &certs);
    Ok(Proved {
        key,
        certs,
        commitments,
    })
}

/// What a new code is for: one of the holder's certificates, or all.
struct Request {
    certificate: Option<i64>,
    purpose: SharePurpose,
    days: i64,
    commitments: BTreeMap<i64, [u8; 32]>,
}

fn purpose_of(s: Option<&str>) -> Result<SharePurpose, ApiError> {
    match s {
        None => Ok(SharePurpose::Other),
        Some(p) => {
            SharePurpose::parse(p).map_err(|e| ApiError::bad_request(format!("purpose: {e}")))
        }
    }
}

fn days_of(d: Option<i64>) -> Result<i64, ApiError> {
    let d = d.unwrap_or(i64::from(DEFAULT_DAYS));
    if !(1..=i64::from(MAX_DAYS)).contains(&d) {
        return Err(ApiError::bad_request(format!(
            "days: from 1 to {MAX_DAYS}, not {d}"
        )));
    }
    Ok(d)
}

/// Mints the code: its record is stored with its journal entry before the code is shown.
async fn mint(
    state: &AppState,
    holder: HolderKey,
    r: &Request,
) -> Result<(ShareCode, ShareRecord), ApiError> {
    let now = now_micros();
    let (code, record) = ShareRecord::create(
        holder,
        r.certificate,
        r.purpose,
        now,
        r.days,
        r.commitments.clone(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.store.create_share(&record, HOLDER_ACTOR, now).await?;
    Ok((code, record))
}

/// The address of a code.
fn share_url(base: &str, code: &ShareCode) -> String {
    format!("{base}/s/{}", code.expose())
}

/// Mint a share code (用证码) for one certificate or all of the holder's.
///
/// The holder proves who they are with ID number and name; a wrong one answers as 404, like an
/// ID number with no certificate. The code is shown once, in this answer: the registry keeps
/// only its hash. Its address, `/s/{code}`, is what a link or QR code should carry, never the
/// number or the name.
#[utoipa::path(
    post,
    path = "/api/v1/shares",
    tag = "shares",
    request_body(content = ShareBody, content_type = "application/json"),
    responses(
        (status = 201, description = "`code` (shown once), `code_grouped`, `url`, and the code's `share` record", body = Object),
        (status = 400, description = "A field is malformed; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No certificate matches this ID number and name, or the certificate named is not the holder's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ShareBody = parse_body(&body)?;
    let purpose = purpose_of(b.purpose.as_deref())?;
    let days = match &b.days {
        None => days_of(None)?,
        Some(n) => days_of(Some(
            n.as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e6)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| {
                    ApiError::bad_request(format!("days: a whole number from 1 to {MAX_DAYS}"))
                })?,
        ))?,
    };
    let Proved {
        key,
        certs,
        commitments,
    } = prove(&state, &b.id_number, &b.name).await?;
    let certificate = match (b.number.as_deref(), b.kind.as_deref()) {
        (None, None) => None,
        (Some(n), Some(k)) => {
            let n = number::normalize(n);
            let k = k.trim();
            Some(
                certs
                    .iter()
                    .find(|(_, c)| c.number == n && c.kind == k)
                    .map(|(id, _)| *id)
                    .ok_or_else(no_such_holder)?,
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                "number and kind: give both to share one certificate, or neither to share all",
            ));
        }
    };
    let req = Request {
        certificate,
        purpose,
        days,
        commitments,
    };
    let (code, record) = mint(&state, key, &req).await?;
    let base = public_base(&state, &headers);
    let mut resp = private_json(&json!({
        "code": code.expose(),
        "code_grouped": code.grouped(),
        "url": share_url(&base, &code),
        "share": view(&record, &certs, now_micros()),
    }));
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// A holder's share codes, newest first, whatever their state (never the codes themselves).
#[utoipa::path(
    post,
    path = "/api/v1/shares/list",
    tag = "shares",
    request_body(content = ShareListBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`shares`: the holder's codes", body = Object),
        (status = 400, description = "A field is malformed; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No certificate matches this ID number and name", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: ShareListBody = parse_body(&body)?;
    let Proved { key, certs, .. } = prove(&state, &b.id_number, &b.name).await?;
    let now = now_micros();
    let shares: Vec<ShareView> = state
        .store
        .shares_of(&key)
        .await?
        .iter()
        .map(|r| view(r, &certs, now))
        .collect();
    Ok(private_json(&json!({ "shares": shares })))
}

/// Revoke one of the holder's share codes, by its id. It stops working at once, for good.
#[utoipa::path(
    post,
    path = "/api/v1/shares/revoke",
    tag = "shares",
    request_body(content = ShareRevokeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`share`: the revoked code's record", body = Object),
        (status = 400, description = "A field is malformed; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No certificate matches this ID number and name, or the holder has no active code of this id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b: ShareRevokeBody = parse_body(&body)?;
    let id = hutong_core::share::ShareId::parse(&b.id)
        .map_err(|e| ApiError::bad_request(format!("id: {e}")))?;
    let Proved { key, certs, .. } = prove(&state, &b.id_number, &b.name).await?;
    revoke_for(&state, &key, id.as_str()).await?;
    let record = state
        .store
        .shares_of(&key)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::internal)?;
    Ok(private_json(
        &json!({ "share": view(&record, &certs, now_micros()) }),
    ))
}

async fn revoke_for(state: &AppState, key: &HolderKey, id: &str) -> Result<(), ApiError> {
    match state
        .store
        .revoke_share(id, key, HOLDER_ACTOR, now_micros())
        .await
    {
        Ok(_) => Ok(()),
        Err(hutong_store::StoreError::NotFound(_)) => Err(ApiError::not_found(
            "the holder has no active share code with this id",
        )),
        Err(e) => Err(e.into()),
    }
}

/// What a code opens: its record and the certificates it covers, verified today.
struct Opened {
    record: ShareRecord,
    found: Vec<Verified>,
}

fn unusable(e: ShareUnusable) -> ApiError {
    let when = instant_rfc3339(e.at_micros());
    ApiError::new(
        StatusCode::GONE,
        e.code(),
        match e {
            ShareUnusable::Revoked { .. } => "The share code was revoked",
            ShareUnusable::Expired { .. } => "The share code has expired",
        },
        format!("{e} ({when}); ask the holder for a new one"),
    )
}

/// The record of a code that works now, or why not.
async fn working(state: &AppState, text: &str) -> Result<ShareRecord, ApiError> {
    let code = ShareCode::parse(text).map_err(|e| ApiError::bad_request(format!("code: {e}")))?;
    let record = state
        .store
        .share_by_hash(&code.hash())
        .await?
        .ok_or_else(|| ApiError::not_found("no share code like this one; check what you typed"))?;
    record.usable_at(now_micros()).map_err(unusable)?;
    Ok(record)
}

async fn open(state: &AppState, text: &str, today: Day) -> Result<Opened, ApiError> {
    let record = working(state, text).await?;
    let policy = state.policy();
    let mut found = Vec::new();
    for (id, c) in holder_certificates(state, &record.holder, None).await? {
        if record.covers(id) {
            found.push(verified(state, &policy, c, today).await?);
        }
    }
    Ok(Opened { record, found })
}

/// What a share code opens: the verification answer of the certificates it covers, as
/// `GET /api/v1/verify` gives it, with the code's purpose and expiry in `share`.
#[utoipa::path(
    get,
    path = "/api/v1/shares/{code}",
    tag = "shares",
    params(("code" = String, Path, description = "The share code, as printed or scanned (case, hyphens and spaces do not matter)")),
    responses(
        (status = 200, description = "The verification answer, with `share`: `purpose`, `expires_at`", body = Object),
        (status = 400, description = "The text is not a share code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such share code", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The code was revoked (`share-revoked`) or has expired (`share-expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let today = hutong_core::date::today_in_china();
    let o = open(&state, &code, today).await?;
    let policy = state.policy();
    let answer = LookupAnswer::new(&policy, today, &o.found);
    let mut v = serde_json::to_value(&answer).map_err(|_| ApiError::internal())?;
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "share".into(),
            json!({
                "purpose": o.record.purpose,
                "expires_at": instant_rfc3339(o.record.expires_at_micros),
                "all_certificates": o.record.certificate.is_none(),
            }),
        );
    }
    Ok(private_json(&v))
}

/// The signed credentials of what a share code opens: the W3C Verifiable Credentials of the
/// certificates it covered when the holder minted it (the holder proved the ID number then, and
/// the code keeps each certificate's holder commitment, never the ID number). Certificates
/// registered later are listed in `without`, as are those whose issuer has no signing key.
/// The holder's salts are not given: the bearer can verify the credentials, not prove to be
/// their holder.
#[utoipa::path(
    get,
    path = "/api/v1/shares/{code}/credentials",
    tag = "shares",
    params(("code" = String, Path, description = "The share code")),
    responses(
        (status = 200, description = "`credentials`: signed credentials (VC 2.0, eddsa-jcs-2022); `without`: the certificates it covers that have none by this code, with `reason` (`not-covered-when-minted`, `no-signing-key`)", body = Object),
        (status = 400, description = "The text is not a share code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such share code", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The code was revoked (`share-revoked`) or has expired (`share-expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "An issuer's key file cannot be used now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn credentials(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let record = working(&state, &code).await?;
    let policy = state.policy();
    let mut credentials = Vec::new();
    let mut without = Vec::new();
    for (id, c) in holder_certificates(&state, &record.holder, None).await? {
        if !record.covers(id) {
            continue;
        }
        let missing = |reason: &str| {
            json!({
                "number": number::mask_id_numbers(&c.number),
                "kind": c.kind,
                "reason": reason,
            })
        };
        let Some(commitment) = record.commitment_of(id) else {
            without.push(missing("not-covered-when-minted"));
            continue;
        };
        match sign_with(&state, &policy, &c, id, commitment).await {
            Ok(e) => credentials.push(e.credential),
            Err(crate::credentials::SigningError::NoKey(_)) => {
                without.push(missing("no-signing-key"));
            }
            Err(e) => return Err(crate::handlers::credential::signing_error(e)),
        }
    }
    Ok(private_json(&json!({
        "credentials": credentials,
        "without": without,
    })))
}

/// A covered certificate's credential, signed now with the commitment the code kept.
async fn sign_with(
    state: &AppState,
    policy: &hutong_core::Policy,
    cert: &Certificate,
    id: i64,
    commitment: &[u8; 32],
) -> Result<crate::credentials::Exported, crate::credentials::SigningError> {
    state
        .signer
        .credential_with_commitment(
            state.store.as_ref(),
            policy,
            &state.secret,
            cert,
            id,
            &hex::encode(commitment),
        )
        .await
}

// ---- pages ----

/// `GET /s/{code}/print/{id}`: the printable certificate of one certificate a code covered when
/// minted, its QR code the credential signed now (see [`credentials`]).
pub async fn print_page(
    State(state): State<AppState>,
    lang: Lang,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let made = async {
        let record = working(&state, &code).await?;
        let not_covered =
            || ApiError::not_found("this share code has no printable certificate of this id");
        let commitment = record.commitment_of(id).ok_or_else(not_covered)?;
        let cert = state
            .store
            .certificate_by_id(id)
            .await?
            .filter(|c| c.holder_key == record.holder)
            .ok_or_else(not_covered)?;
        let policy = state.policy();
        let exported = sign_with(&state, &policy, &cert, id, commitment)
            .await
            .map_err(crate::handlers::credential::signing_error)?;
        let today = hutong_core::date::today_in_china();
        let found = [verified(&state, &policy, cert, today).await?];
        let answer = LookupAnswer::new(&policy, today, &found);
        let result = answer.certificates.first().ok_or_else(ApiError::internal)?;
        pages::print::certificate_page(state.settings.demo, today, result, &exported.credential)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot make a printable certificate");
                ApiError::internal()
            })
    }
    .await;
    match made {
        Ok(page) => private_html(StatusCode::OK, page),
        Err(e) => problem_page(&state, lang, e),
    }
}

/// `GET /s/{code}`: the result page of what a code opens, annotated with its purpose and
/// expiry, with the code's own address as its QR code.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let today = hutong_core::date::today_in_china();
    let o = match open(&state, &code, today).await {
        Ok(o) => o,
        Err(e) => return problem_page(&state, lang, e),
    };
    let policy = state.policy();
    let answer = LookupAnswer::new(&policy, today, &o.found);
    let histories = match histories(&state, &o.found).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    // The code was just parsed: its canonical text is what the address and QR code carry.
    let Ok(code) = ShareCode::parse(&code) else {
        return ApiError::internal().into_response();
    };
    let url = share_url(&public_base(&state, &headers), &code);
    let (zh, en) = o.record.purpose.names();
    // The certificates this code can print: those it covered when minted.
    let prints: Vec<(i64, String)> = match holder_certificates(&state, &o.record.holder, None).await
    {
        Ok(certs) => certs
            .iter()
            .filter(|(id, _)| o.record.commitment_of(*id).is_some())
            .map(|(id, c)| (*id, label(lang, &state, c)))
            .collect(),
        Err(e) => return e.into_response(),
    };
    let top = html! {
        div.card.share #share data-purpose=(o.record.purpose.as_str()) {
            p { strong { (lang.t("持证人分享的核验结果", "Shared by the holder")) } " · "
                (lang.t("仅供", "For ")) (lang.t(zh, en)) (lang.t("使用", " only")) }
            p.muted { (lang.t("用证码有效期至 ", "This share code works until "))
                (china_time(o.record.expires_at_micros)) (lang.t("（北京时间；持证人可随时撤销）。", " China time (its holder may revoke it at any time).")) }
            (share_qr(lang, &url))
            @if !prints.is_empty() {
                p { (lang.t("打印证书：", "Print: "))
                    @for (id, label) in &prints {
                        a.print href=(format!("/s/{}/print/{id}", code.expose())) { (label) } " "
                    }
                }
            }
        }
    };
    let path = format!("/s/{}", code.expose());
    private_html(
        StatusCode::OK,
        pages::lookup::result_page(
            lang,
            state.settings.demo,
            &path,
            &answer,
            &pages::lookup::Extras {
                top: Some(top),
                bottom: None,
                searched: None,
            },
            &histories,
        ),
    )
}

/// An instant as people read it on a page: China time to the minute (`2027-01-01 22:46`).
fn china_time(micros: i64) -> String {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.with_timezone(&china).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The text alternative of a share code's QR code, in Chinese and English.
pub const SHARE_QR_LABEL: (&str, &str) = (
    "用证码二维码：扫描查看本证书的最新状态",
    "QR code of the share code: scan it to see the certificate's current status",
);

fn share_qr(lang: Lang, url: &str) -> Markup {
    html! {
        @if let Some(svg) = pages::lookup::qr_svg(url, lang.t(SHARE_QR_LABEL.0, SHARE_QR_LABEL.1)) {
            div.qr {
                (maud::PreEscaped(svg))
                p.muted { (lang.t(
                    "扫描二维码查看本证书的最新状态。二维码只含用证码，不含证书编号、姓名或身份证号。",
                    "Scan the code to see the certificate's current status. It carries the share code only: no number, name or ID number."
                )) }
            }
        }
    }
}

fn problem_page(state: &AppState, lang: Lang, e: ApiError) -> Response {
    let status = e.status;
    if status.is_server_error() {
        return e.into_response();
    }
    let (title_zh, title_en) = match status {
        StatusCode::GONE => ("用证码已失效", "The share code no longer works"),
        StatusCode::NOT_FOUND => ("未找到用证码", "No such share code"),
        _ => ("用证码有误", "This is not a share code"),
    };
    let body = html! {
        h1 { (lang.t(title_zh, title_en)) }
        p.banner role="alert" #share-problem data-problem=(e.kind) { (lang.t(
            match status {
                StatusCode::GONE => "持证人已撤销此用证码，或其已过期。请向持证人索取新的用证码。",
                StatusCode::NOT_FOUND => "没有这个用证码。请核对输入。",
                _ => "用证码为 24 位数字和字母（可含连字符）。请核对输入。",
            },
            &e.detail,
        )) }
        p { a href=(lang.link("/verify")) { (lang.t("按证书编号查询", "Verify by certificate number")) } }
    };
    private_html(
        status,
        pages::layout(
            lang,
            "/verify",
            lang.t(title_zh, title_en),
            state.settings.demo,
            body,
        ),
    )
}

/// The share forms under a holder's own result: mint a code for one certificate or all, and
/// the holder's codes with a revoke button each. The forms carry a ticket, never the ID number.
pub async fn holder_section(
    state: &AppState,
    lang: Lang,
    id: &ResidentId,
    found: &[Verified],
) -> Result<Markup, ApiError> {
    let key = state.secret.key_for(id);
    let holder = &key;
    let certs = holder_certificates(state, holder, None).await?;
    let ticket = HolderTicket::issue(
        &state.secret,
        holder,
        &commitments_of(state, id, &certs),
        now_micros(),
    );
    let now = now_micros();
    let shares = state.store.shares_of(holder).await?;
    let active: Vec<(&ShareRecord, ShareView)> = shares
        .iter()
        .filter(|r| r.usable_at(now).is_ok())
        .map(|r| (r, view(r, &certs, now)))
        .collect();
    let choices: Vec<(i64, String)> = found
        .iter()
        .filter_map(|v| {
            let (id, _) = certs
                .iter()
                .find(|(_, c)| c.number == v.cert.number && c.kind == v.cert.kind)?;
            Some((*id, label(lang, state, &v.cert)))
        })
        .collect();
    // The advice page's registered mode, for the certificates shown here, by a ticket that
    // vouches for those alone.
    let shown: Vec<(i64, Certificate)> = certs
        .iter()
        .filter(|(rid, _)| choices.iter().any(|(c, _)| c == rid))
        .cloned()
        .collect();
    let advice_ticket = HolderTicket::issue(
        &state.secret,
        holder,
        &commitments_of(state, id, &shown),
        now,
    );
    Ok(html! {
        (pages::advice::from_holder_result(lang, &advice_ticket))
        section.card #share-form {
            h2 { (lang.t("分享证书（用证码）", "Share your certificates (share code)")) }
            p.muted { (lang.t(
                "生成用证码交给需要核验的单位：对方凭用证码或其二维码查看证书状态，看不到您的身份证号。用证码到期自动失效，您也可随时撤销。",
                "Make a share code for whoever needs to verify: with the code or its QR code they see the certificate's status, never your ID number. It stops working when it expires, and you may revoke it at any time."
            )) }
            form method="post" action=(lang.link("/share/new")) {
                input type="hidden" name="ticket" value=(ticket);
                label for="share-cert" { (lang.t("分享哪张证书", "Which certificate")) }
                select #share-cert name="certificate" {
                    option value="all" { (lang.t("全部证书", "All my certificates")) }
                    @for (id, l) in &choices { option value=(id) { (l) } }
                }
                label for="share-purpose" { (lang.t("用途", "Purpose")) }
                select #share-purpose name="purpose" {
                    @for p in SharePurpose::ALL {
                        @let (zh, en) = p.names();
                        option value=(p.as_str()) selected[p == SharePurpose::Employment] { (lang.t(zh, en)) }
                    }
                }
                label for="share-days" { (lang.t("有效天数", "Days it works")) }
                input #share-days name="days" type="number" min="1" max=(MAX_DAYS) value=(DEFAULT_DAYS) required;
                button #share-new type="submit" { (lang.t("生成用证码", "Make a share code")) }
            }
            p { a #print-link href=(lang.link("/certificates/print")) { (lang.t(
                "打印证书（含可离线核验的二维码）",
                "Print a certificate (with a QR code that verifies offline)"
            )) } }
            @if !active.is_empty() {
                h3 { (lang.t("有效的用证码", "Share codes in force")) }
                ul.shares {
                    @for (r, s) in &active {
                        @let (zh, en) = s.purpose.names();
                        li data-share=(s.id) {
                            (lang.t(zh, en)) " · "
                            @match &s.certificate {
                                Some(c) => { (c.number) }
                                None => { (lang.t("全部证书", "all certificates")) }
                            }
                            " · " (lang.t("至 ", "until ")) (china_time(r.expires_at_micros))
                            form.inline method="post" action=(lang.link("/share/revoke")) {
                                input type="hidden" name="ticket" value=(ticket);
                                input type="hidden" name="id" value=(s.id);
                                button type="submit" { (lang.t("撤销", "Revoke")) }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn label(lang: Lang, state: &AppState, c: &Certificate) -> String {
    let policy = state.policy();
    let kind = policy
        .kind(&c.kind)
        .map(|k| lang.t(&k.name_zh, &k.name_en).to_string())
        .unwrap_or_else(|| c.kind.clone());
    format!("{kind} · {}", number::mask_id_numbers(&c.number))
}

/// The form of `POST /share/new`.
#[derive(Debug, Deserialize)]
pub struct NewForm {
    pub ticket: String,
    pub certificate: String,
    pub purpose: String,
    pub days: String,
}

/// The form of `POST /share/revoke`.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    pub ticket: String,
    pub id: String,
}

fn ticket_holder(state: &AppState, ticket: &str) -> Result<Vouched, ApiError> {
    HolderTicket::check(&state.secret, ticket, now_micros()).map_err(|e| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "holder-ticket",
            "Query again",
            e.to_string(),
        )
    })
}

/// A page of the share forms' answers.
fn share_page(state: &AppState, lang: Lang, status: StatusCode, body: Markup) -> Response {
    private_html(
        status,
        pages::layout(
            lang,
            "/verify",
            lang.t("用证码", "Share code"),
            state.settings.demo,
            body,
        ),
    )
}

fn form_error(state: &AppState, lang: Lang, e: ApiError) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    let body = html! {
        h1 { (lang.t("无法生成用证码", "The share code could not be made")) }
        p.banner role="alert" #share-problem data-problem=(e.kind) { (e.detail) }
        p { a href=(lang.link("/verify")) { (lang.t("重新查询本人证书", "Look up your certificates again")) } }
    };
    share_page(state, lang, e.status, body)
}

/// `POST /share/new`: mints a code from a holder's result page and shows it once, with its QR
/// code and address.
pub async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    form: Result<Form<NewForm>, FormRejection>,
) -> Response {
    let made = async {
        let Form(f) = form.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
        let Vouched {
            holder,
            commitments,
        } = ticket_holder(&state, &f.ticket)?;
        let purpose = purpose_of(Some(&f.purpose))?;
        let days = days_of(Some(f.days.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("days: a whole number from 1 to {MAX_DAYS}"))
        })?))?;
        let certs = holder_certificates(&state, &holder, None).await?;
        let certificate = match f.certificate.trim() {
            "all" => None,
            id => Some(
                id.parse::<i64>()
                    .ok()
                    .filter(|id| certs.iter().any(|(i, _)| i == id))
                    .ok_or_else(|| ApiError::bad_request("certificate: not one of yours"))?,
            ),
        };
        let req = Request {
            certificate,
            purpose,
            days,
            commitments,
        };
        let (code, record) = mint(&state, holder, &req).await?;
        Ok::<_, ApiError>((code, record, certs))
    }
    .await;
    let (code, record, certs) = match made {
        Ok(m) => m,
        Err(e) => return form_error(&state, lang, e),
    };
    let url = share_url(&public_base(&state, &headers), &code);
    let v = view(&record, &certs, now_micros());
    let (zh, en) = record.purpose.names();
    let body = html! {
        h1 { (lang.t("用证码已生成", "Your share code")) }
        div.card #share-made data-share=(v.id) {
            p.code #share-code { (code.grouped()) }
            p { (lang.t("仅供", "For ")) (lang.t(zh, en)) (lang.t("使用", " only")) " · "
                @match &v.certificate {
                    Some(c) => { (c.number) }
                    None => { (lang.t("全部证书", "all certificates")) }
                }
            }
            p.muted { (lang.t("有效期至 ", "Works until ")) (china_time(record.expires_at_micros)) (lang.t("（北京时间）", " China time")) }
            p { a #share-link href=(url) { (url) } }
            (share_qr(lang, &url))
            p.muted { (lang.t(
                "用证码只显示这一次，请现在保存或截图。不再需要时，可在本人证书查询结果页撤销。",
                "The code is shown this once: save it or take a screenshot now. When it is no longer needed, revoke it from your own results."
            )) }
        }
    };
    share_page(&state, lang, StatusCode::CREATED, body)
}

/// `POST /share/revoke`: revokes one of the holder's codes from their result page.
pub async fn revoke_page(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let done = async {
        let Form(f) = form.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
        let holder = ticket_holder(&state, &f.ticket)?.holder;
        let id = hutong_core::share::ShareId::parse(f.id.trim())
            .map_err(|e| ApiError::bad_request(format!("id: {e}")))?;
        revoke_for(&state, &holder, id.as_str()).await
    }
    .await;
    if let Err(e) = done {
        return form_error(&state, lang, e);
    }
    let body = html! {
        h1 { (lang.t("用证码已撤销", "The share code is revoked")) }
        p #share-revoked { (lang.t(
            "此用证码及其二维码已立即失效。",
            "The code and its QR code stopped working at once."
        )) }
        p { a href=(lang.link("/verify")) { (lang.t("返回查询", "Back to the queries")) } }
    };
    share_page(&state, lang, StatusCode::OK, body)
}
