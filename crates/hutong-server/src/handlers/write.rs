//! The write side of the API: issuing, the lifecycle, histories and tokens, each by a bearer
//! token's actor within its rights (`hutong_core::rights::authorize`), each write one journal
//! entry. See `docs/write-side.md` for the endpoints.
//!
//! Certificate numbers never appear in an address here: a `mem` or `samr` number is the holder's
//! ID number (or embeds it), so every request names its certificate in the JSON body.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use hutong_core::certificate::{AdminState, Certificate, RevocationReason};
use hutong_core::date::{Day, parse_day, today_in_china};
use hutong_core::holder::names_match;
use hutong_core::journal::{self, CertChange, Entry, Subject, instant_rfc3339, now_micros};
use hutong_core::number::{self, NumberScheme, mask_id_numbers};
use hutong_core::record::{self, RecordInput, check_record};
use hutong_core::rights::{self, Action, Actor, CertificateChange, Forbidden};
use hutong_core::token::{Token, TokenId, TokenRecord};
use hutong_core::{Issuer, Policy};
use hutong_store::{CertificateWrite, IdempotencyClaim, InsertMode, Issue, StoreError};

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::PublicEntry;

/// Who is asking: a token's id and the actor it is bound to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub actor: Actor,
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "A valid bearer token is needed",
        detail,
    )
}

/// The caller of a request, from `Authorization: Bearer ht_…`. A missing, malformed, unknown,
/// expired or revoked token is a 401; which one is said, the token never repeated.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Err(unauthorized(
            "this endpoint needs an Authorization: Bearer token",
        ));
    }
    let Some(secret) = crate::ratelimit::bearer(headers) else {
        return Err(unauthorized(
            "the Authorization header is not a Bearer token in ASCII",
        ));
    };
    authenticate_secret(state, secret).await
}

/// The caller holding the token `secret` (as typed into a page's form, or from the header).
pub async fn authenticate_secret(state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let token = Token::parse(secret.trim())
        .map_err(|e| unauthorized(&format!("the bearer token is malformed: {e}")))?;
    let Some(record) = state.store.token_by_hash(&token.hash()).await? else {
        return Err(unauthorized("the bearer token is not known"));
    };
    record.usable_at(now_micros()).map_err(|u| {
        unauthorized(&format!(
            "the bearer token is {}",
            u.code().trim_start_matches("token-")
        ))
    })?;
    Ok(Caller {
        token: record.id.as_str().to_string(),
        actor: record.actor,
    })
}

/// A refusal of rights: journaled with the actor (it changes nothing else), answered 403.
pub(crate) async fn refuse(
    state: &AppState,
    caller: &Caller,
    subject: Subject,
    f: Forbidden,
) -> ApiError {
    let change = journal::canonical(&json!({
        "change": "refused",
        "right": f.right,
        "code": f.code,
    }));
    if let Err(e) = state
        .store
        .journal_only(&[(subject, change)], &caller.token, now_micros())
        .await
    {
        tracing::error!(error = %e, "could not journal a refusal");
    }
    forbidden(&f)
}

fn forbidden(f: &Forbidden) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        f.code,
        "Outside the token's rights",
        format!("{} (right: {})", f.reason_en, f.right),
    )
}

pub(crate) fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        "The request cannot be carried out",
        detail,
    )
}

pub(crate) fn parse_body<'a, T: Deserialize<'a>>(body: &'a Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body: {e}")))
}

/// An `Idempotency-Key` and the hash of the request it came with.
struct Idempotency {
    claim: IdempotencyClaim,
}

/// Reads the `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency(
    caller: &Caller,
    headers: &HeaderMap,
    route: &str,
    body: &Bytes,
) -> Result<Option<Idempotency>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key: must be 1 to 255 visible ASCII characters")
        })?;
    let mut request = Vec::with_capacity(route.len() + body.len() + 1);
    request.extend_from_slice(route.as_bytes());
    request.push(0);
    request.extend_from_slice(body);
    Ok(Some(Idempotency {
        claim: IdempotencyClaim {
            owner: caller.token.clone(),
            key: key.to_string(),
            request_sha256: journal::sha256_hex(&request),
        },
    }))
}

/// The first answer to a key already used: the same request gets it again; another request
/// with the same key is refused.
async fn replay(state: &AppState, idem: &Idempotency) -> Result<Option<Response>, ApiError> {
    let Some(rec) = state
        .store
        .idempotency(&idem.claim.owner, &idem.claim.key)
        .await?
    else {
        return Ok(None);
    };
    if rec.request_sha256 != idem.claim.request_sha256 {
        return Err(unprocessable(
            "idempotency-key-reused",
            "Idempotency-Key: this key was used with another request",
        ));
    }
    match rec.answer {
        Some((status, body)) => {
            let mut r = json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(Some(r))
        }
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency-pending",
            "The first request with this key is still being answered",
            "Idempotency-Key: the first request with this key was carried out; its answer is not recorded yet, retry shortly",
        )),
    }
}

/// The answer to a request whose key another request with it claimed first, in a race: that
/// request's answer. (Only a write with a claim can lose it.)
async fn replay_raced(state: &AppState, idem: Option<&Idempotency>) -> Result<Response, ApiError> {
    match idem {
        Some(i) => replay(state, i).await?.ok_or_else(ApiError::internal),
        None => Err(ApiError::internal()),
    }
}

pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if status.is_client_error() || status.is_server_error() {
            "application/problem+json"
        } else {
            "application/json"
        }),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Answers, and records the answer for the key if there is one.
async fn answer(
    state: &AppState,
    idem: Option<&Idempotency>,
    status: StatusCode,
    body: serde_json::Value,
) -> Response {
    let text = body.to_string();
    if let Some(i) = idem
        && let Err(e) = state
            .store
            .record_answer(&i.claim.owner, &i.claim.key, status.as_u16(), &text)
            .await
    {
        tracing::error!(error = %e, "could not record an idempotent answer");
    }
    json_response(status, text)
}

/// The body of `POST /api/v1/certificates`: a record in the import format (every field a
/// string; `number` may be left out where hutong numbers the kind), and for a skill level
/// certificate numbered by hutong, the 6-digit evaluation `site`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub holder_name: String,
    #[serde(default)]
    pub holder_id: String,
    #[serde(default)]
    pub occupation: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub issued_on: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub first_issued_on: String,
    #[serde(default)]
    pub site: String,
}

fn field(name: &str, message: impl std::fmt::Display) -> ApiError {
    unprocessable("invalid-field", format!("{name}: {message}"))
}

fn day_field(name: &str, v: &str) -> Result<Option<Day>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    parse_day(v)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("{name}: {e}")))
}

/// How a certificate given without a number is numbered.
enum Numbering {
    /// A number known from the record itself.
    Fixed(String),
    /// The prefix, to be followed by a 6-digit serial.
    Serial(String),
}

/// How to number a record given without a number, by the kind's scheme: the holder's ID number
/// for the kinds numbered by it, and for skill level certificates the institution's type and
/// code, the province, the site, the year and the level, then a serial that is never handed out
/// twice. Other schemes are numbered by their departments.
fn numbering(
    policy: &Policy,
    body: &IssueBody,
    issuer: &Issuer,
    issued_on: Day,
) -> Result<Numbering, ApiError> {
    let kind = policy.kind(body.kind.trim()).ok_or_else(|| {
        field(
            "kind",
            format!(
                "\"{}\" is not a certificate kind of the policy",
                body.kind.trim()
            ),
        )
    })?;
    // As typed: the number is the ID number in its normal form (full-width digits, spaces).
    let id = number::normalize(&body.holder_id);
    if let Some(n) = kind.number_scheme.holder_number(&id) {
        return Ok(Numbering::Fixed(n));
    }
    match kind.number_scheme {
        NumberScheme::SkillLevel22 => {
            let site = body.site.trim();
            if site.len() != 6 || !site.bytes().all(|b| b.is_ascii_digit()) {
                return Err(field(
                    "site",
                    "a skill level certificate numbered by hutong needs the 6-digit evaluation site",
                ));
            }
            let level: hutong_core::Level =
                body.level.trim().parse().map_err(|e| field("level", e))?;
            let Some(prefix) = number::skill_level_prefix(issuer, site, issued_on, level) else {
                return Err(field(
                    "issuer",
                    "only a registered institution with a type, code and region numbers skill level certificates",
                ));
            };
            Ok(Numbering::Serial(prefix))
        }
        other => Err(field(
            "number",
            format!(
                "is needed: numbers of the {} scheme are assigned by the department",
                other.id()
            ),
        )),
    }
}

/// Whether `caller` may read the full history of `cert` (and so export its credential): its
/// issuer, its department, a regulator. A refusal is journaled; an issuer no longer in the
/// register reads as `not_found`.
pub(crate) async fn may_read_history(
    state: &AppState,
    caller: &Caller,
    id: i64,
    cert: &Certificate,
    not_found: impl Fn() -> ApiError,
) -> Result<(), ApiError> {
    let Some(issuer) = issuer_record(state, &cert.issuer).await? else {
        return Err(not_found());
    };
    match rights::authorize(
        &caller.actor,
        &Action::ReadHistory {
            certificate: cert,
            issuer: &issuer,
        },
        &state.policy(),
    ) {
        Ok(()) => Ok(()),
        Err(f) => Err(refuse(state, caller, Subject::Certificate(id), f).await),
    }
}

pub(crate) async fn issuer_record(state: &AppState, id: &str) -> Result<Option<Issuer>, ApiError> {
    Ok(state.store.issuer(id.trim()).await?)
}

/// Issue one certificate.
#[utoipa::path(
    post,
    path = "/api/v1/certificates",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = IssueBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Issued: the number as public answers show it, the status and the journal entry", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already issued, or changed meanwhile, or the first request with this Idempotency-Key is still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the rules: the record does not validate (field named), a lifecycle window or state, or an Idempotency-Key used with another request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let idem = idempotency(&caller, &headers, "POST /api/v1/certificates", &body)?;
    if let Some(i) = &idem
        && let Some(r) = replay(&state, i).await?
    {
        return Ok(r);
    }
    let b: IssueBody = parse_body(&body)?;
    let policy = state.policy();
    let today = today_in_china();
    let issued_on = day_field("issued_on", &b.issued_on)?.unwrap_or(today);
    let Some(issuer) = issuer_record(&state, &b.issuer).await? else {
        return Err(field(
            "issuer",
            format!("\"{}\" is not a registered issuer", b.issuer.trim()),
        ));
    };
    let kind_id = b.kind.trim();
    let level = match b.level.trim() {
        "" => None,
        l => Some(l.parse().map_err(|e| field("level", e))?),
    };
    let occupation = Some(b.occupation.trim()).filter(|o| !o.is_empty());
    // Issuing happens today: the rights must be in force today, and on the issue date given
    // (a certificate recorded a few days late), so that a backdated date opens nothing.
    for day in [today, issued_on] {
        if let Err(f) = rights::authorize(
            &caller.actor,
            &Action::Issue {
                kind: kind_id,
                issuer: &issuer,
                occupation,
                level,
                day,
            },
            &policy,
        ) {
            return Err(refuse(&state, &caller, Subject::Issuer(issuer.id.clone()), f).await);
        }
    }
    let numbering = if b.number.trim().is_empty() {
        numbering(&policy, &b, &issuer, issued_on)?
    } else {
        Numbering::Fixed(b.number.clone())
    };
    // The record is checked with the first serial in place before one is reserved, so that bad
    // input does not use serials up.
    let input = RecordInput {
        number: match &numbering {
            Numbering::Fixed(n) => n.clone(),
            Numbering::Serial(prefix) => format!("{prefix}000001"),
        },
        kind: b.kind.clone(),
        holder_name: b.holder_name.clone(),
        holder_id: b.holder_id.clone(),
        occupation: b.occupation.clone(),
        level: b.level.clone(),
        issuer: b.issuer.clone(),
        issued_on: issued_on.to_string(),
        valid_until: b.valid_until.clone(),
        status: String::new(),
        status_on: String::new(),
        first_issued_on: b.first_issued_on.clone(),
        ..RecordInput::default()
    };
    let checked =
        check_record(&policy, Some(&issuer), &state.secret, &input, today).map_err(|errs| {
            let detail: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            unprocessable("invalid-record", detail.join("; "))
        })?;
    let mut cert = checked.certificate;
    // A serial whose number someone registered by hand meanwhile is passed over: the next one is
    // taken, a few times at most.
    let mut attempts = 0;
    let outcome = loop {
        if let Numbering::Serial(prefix) = &numbering {
            let serial = state.store.reserve_serials(prefix, 1).await?;
            if serial > 999_999 {
                return Err(unprocessable(
                    "serials-exhausted",
                    format!("the serials of {prefix} are used up (999999)"),
                ));
            }
            cert.number = format!("{prefix}{serial:06}");
        }
        let issue = Issue::new(cert.clone());
        let outcome = state
            .store
            .insert_certificates(
                std::slice::from_ref(&issue),
                &caller.token,
                now_micros(),
                InsertMode::AllOrNothing,
                idem.as_ref().map(|i| &i.claim),
            )
            .await;
        attempts += 1;
        match outcome {
            Err(StoreError::Conflict(_))
                if matches!(numbering, Numbering::Serial(_)) && attempts < 20 =>
            {
                continue;
            }
            other => break other,
        }
    };
    match outcome {
        Ok(o) if o.first() == Some(&hutong_store::RowOutcome::Unchanged) => {
            // Recorded as the key's answer too: a retry gets it again, not "pending".
            let body = json!({
                "type": "about:blank",
                "title": "Already issued",
                "status": 409,
                "detail": format!(
                    "{} of kind {} is already registered with exactly this data",
                    mask_id_numbers(&cert.number),
                    cert.kind
                ),
                "code": "already-issued",
            });
            Ok(answer(&state, idem.as_ref(), StatusCode::CONFLICT, body).await)
        }
        Ok(_) => {
            let (id, _) = state
                .store
                .certificate_with_id(&cert.number, &cert.kind)
                .await?
                .ok_or_else(ApiError::internal)?;
            let entry = state
                .store
                .history(&Subject::Certificate(id))
                .await?
                .into_iter()
                .last();
            let body = certificate_answer(&policy, &cert, entry.as_ref(), today);
            Ok(answer(&state, idem.as_ref(), StatusCode::CREATED, body).await)
        }
        Err(StoreError::KeyUsed) => replay_raced(&state, idem.as_ref()).await,
        Err(e) => Err(e.into()),
    }
}

/// A certificate's number as public answers show it: masked where it embeds the holder's ID
/// number (and wherever one shows, for a kind the policy no longer knows).
pub(crate) fn shown_number(policy: &Policy, c: &Certificate) -> String {
    match policy.kind(&c.kind) {
        Some(k) => number::display(k.number_scheme, &c.number).into_owned(),
        None => mask_id_numbers(&c.number).into_owned(),
    }
}

/// A certificate as a write answers it: the number shown as public answers show it, the status
/// today, and the journal entry that made it so.
fn certificate_answer(
    policy: &Policy,
    c: &Certificate,
    entry: Option<&Entry>,
    today: Day,
) -> serde_json::Value {
    let kind = policy.kind(&c.kind);
    let shown = shown_number(policy, c);
    let status = kind.map(|k| policy.lifecycle_of(k).status_on(&c.dates(), today));
    let reason = match c.state {
        AdminState::Revoked {
            reason: Some(r), ..
        } => Some(r),
        _ => None,
    };
    json!({
        "number": shown,
        "kind": c.kind,
        "issuer": c.issuer,
        "issued_on": c.issued_on,
        "valid_until": status.and_then(|s| s.valid_until),
        "status": status.map(|s| s.status.id()),
        "status_reason": status_reason(policy, c, reason),
        "journal": entry.map(|e| json!({
            "seq": e.seq,
            "at": e.at_rfc3339(),
            "change": e.kind(),
            "record_sha256": e.record_sha256,
        })),
    })
}

/// The status reason of a suspended or revoked certificate, with its national code and legal
/// basis from the policy (`[[status_reason]]`).
fn status_reason(
    policy: &Policy,
    c: &Certificate,
    revoked: Option<RevocationReason>,
) -> serde_json::Value {
    let id = match (c.state, revoked) {
        (_, Some(r)) => r.id(),
        (AdminState::Suspended { .. }, None) => "held",
        _ => return serde_json::Value::Null,
    };
    match policy.status_reason(id) {
        Some(r) => json!({
            "code": r.id,
            "national_code": r.national_code,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "basis_zh": r.basis_zh,
            "basis_en": r.basis_en,
            "source": r.source,
            "provisional": r.provisional,
        }),
        None => json!({ "code": id }),
    }
}

/// The body of `POST /api/v1/certificates/changes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    pub number: String,
    pub kind: String,
    /// `review`, `renew`, `suspend`, `reinstate`, `revoke`, `cancel` or `correct-name`.
    pub change: String,
    /// The day it takes effect; today when absent.
    #[serde(default)]
    pub on: Option<String>,
    /// For `renew`: the new last day of validity, which must be the one the kind's rule gives;
    /// the rule's when absent.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// For `revoke`: `withdrawn`, `annulled`, `cancelled` or `issued-in-error`.
    #[serde(default)]
    pub reason: Option<String>,
    /// For `correct-name`: the corrected name.
    #[serde(default)]
    pub name: Option<String>,
    /// For `renew`: re-issue the card under this number (of the same kind, numbered by its
    /// department). The old card is cancelled (注销) that day; the new one is issued that day,
    /// valid to the day the rule gives, and each card's history names the other. Kinds numbered
    /// by the holder's ID number are renewed in place.
    #[serde(default)]
    pub new_number: Option<String>,
}

fn certificate_change(id: &str) -> Option<CertificateChange> {
    CertificateChange::ALL.into_iter().find(|c| c.id() == id)
}

/// Change a certificate: review, renewal, suspension, reinstatement, revocation, cancellation,
/// correction of the holder's name.
#[utoipa::path(
    post,
    path = "/api/v1/certificates/changes",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = ChangeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed: the status, the status reason and the journal entry", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate (or token)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already issued, or changed meanwhile, or the first request with this Idempotency-Key is still being answered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the rules: the record does not validate (field named), a lifecycle window or state, or an Idempotency-Key used with another request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let idem = idempotency(
        &caller,
        &headers,
        "POST /api/v1/certificates/changes",
        &body,
    )?;
    if let Some(i) = &idem
        && let Some(r) = replay(&state, i).await?
    {
        return Ok(r);
    }
    let b: ChangeBody = parse_body(&body)?;
    let Some(which) = certificate_change(b.change.trim()) else {
        return Err(ApiError::bad_request(format!(
            "change: \"{}\" is not one of review, renew, suspend, reinstate, revoke, cancel, correct-name",
            b.change.trim()
        )));
    };
    let policy = state.policy();
    let today = today_in_china();
    let on = match &b.on {
        Some(s) => day_field("on", s)?.unwrap_or(today),
        None => today,
    };
    let number = number::normalize(&b.number);
    let new_number = b
        .new_number
        .as_deref()
        .map(number::normalize)
        .filter(|n| !n.is_empty());
    if new_number.is_some() && which != CertificateChange::Renew {
        return Err(ApiError::bad_request(
            "new_number: only a renewal re-issues a card under a new number",
        ));
    }
    for attempt in 0..3 {
        let Some((id, before)) = state
            .store
            .certificate_with_id(&number, b.kind.trim())
            .await?
        else {
            return Err(ApiError::not_found(format!(
                "no certificate {} of kind {}",
                mask_id_numbers(&number),
                b.kind.trim()
            )));
        };
        let Some(issuer) = issuer_record(&state, &before.issuer).await? else {
            return Err(unprocessable(
                "issuer-unknown",
                format!(
                    "the certificate's issuer {} is not registered",
                    before.issuer
                ),
            ));
        };
        if let Err(f) = rights::authorize(
            &caller.actor,
            &Action::ManageCertificate {
                change: which,
                certificate: &before,
                issuer: &issuer,
            },
            &policy,
        ) {
            return Err(refuse(&state, &caller, Subject::Certificate(id), f).await);
        }
        let Some(kind) = policy.kind(&before.kind) else {
            return Err(unprocessable(
                "kind-not-in-policy",
                format!("the policy in force has no kind {}", before.kind),
            ));
        };
        let rule = policy.lifecycle_of(kind);
        let ch = match which {
            CertificateChange::Review => CertChange::Reviewed { on },
            CertificateChange::Renew => {
                let valid_until = match b
                    .valid_until
                    .as_deref()
                    .map(|v| day_field("valid_until", v))
                {
                    Some(v) => match v? {
                        Some(d) => d,
                        None => {
                            journal::renewal_window(&before, rule)
                                .map_err(|r| unprocessable(r.code(), r.to_string()))?
                                .extended_to
                        }
                    },
                    None => {
                        journal::renewal_window(&before, rule)
                            .map_err(|r| unprocessable(r.code(), r.to_string()))?
                            .extended_to
                    }
                };
                match &new_number {
                    Some(n) => CertChange::RenewedAs {
                        on,
                        valid_until,
                        number: n.clone(),
                    },
                    None => CertChange::Renewed { on, valid_until },
                }
            }
            CertificateChange::Suspend => CertChange::Suspended { on },
            CertificateChange::Reinstate => CertChange::Reinstated { on },
            CertificateChange::Revoke => {
                let r = b.reason.as_deref().map(str::trim).unwrap_or_default();
                let Some(reason) = RevocationReason::parse(r) else {
                    return Err(ApiError::bad_request(
                        "reason: a revocation needs one of withdrawn, annulled, cancelled, issued-in-error",
                    ));
                };
                CertChange::Revoked { on, reason }
            }
            CertificateChange::Cancel => CertChange::Cancelled { on },
            CertificateChange::CorrectName => CertChange::NameCorrected {
                from: before.holder_name.clone(),
                to: b
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| ApiError::bad_request("name: the corrected name is needed"))?
                    .to_string(),
            },
        };
        if new_number.is_some() && kind.number_scheme.embeds_resident_id() {
            return Err(unprocessable(
                "renewed-in-place",
                format!(
                    "a {} is numbered by its holder's ID number, so a renewal keeps its number: leave new_number out",
                    kind.id
                ),
            ));
        }
        let after = ch
            .apply(&before, rule, today)
            .map_err(|r| unprocessable(r.code(), r.to_string()))?;
        if let CertChange::RenewedAs {
            on,
            valid_until,
            number: n,
        } = &ch
        {
            let new = journal::successor(&before, *on, *valid_until, n);
            record::check_number(
                &policy,
                kind,
                Some(&issuer),
                &new.number,
                None,
                new.level,
                Some(new.issued_on),
            )
            .map_err(|e| field("new_number", e))?;
            // The new card is issued today, by the old card's issuer, within its rights today.
            if let Err(f) = rights::authorize(
                &caller.actor,
                &Action::Issue {
                    kind: &new.kind,
                    issuer: &issuer,
                    occupation: new.occupation.as_deref(),
                    level: new.level,
                    day: today,
                },
                &policy,
            ) {
                return Err(refuse(&state, &caller, Subject::Certificate(id), f).await);
            }
            let write = CertificateWrite {
                id,
                after_sha256: journal::certificate_digest(&after).1,
                after: after.clone(),
                change: ch.to_json(None),
                before,
            };
            let issue = Issue::renewing(new, &write.before.number);
            match state
                .store
                .renew_as(
                    &write,
                    &issue,
                    &caller.token,
                    now_micros(),
                    idem.as_ref().map(|i| &i.claim),
                )
                .await
            {
                Ok((old_entry, new_entry)) => {
                    let mut body =
                        certificate_answer(&policy, &issue.certificate, Some(&new_entry), today);
                    body["renews"] = certificate_answer(&policy, &after, Some(&old_entry), today);
                    return Ok(answer(&state, idem.as_ref(), StatusCode::OK, body).await);
                }
                Err(StoreError::Stale(_)) if attempt < 2 => continue,
                Err(StoreError::KeyUsed) => return replay_raced(&state, idem.as_ref()).await,
                Err(StoreError::Conflict(m)) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "number-taken",
                        "The new number is taken",
                        format!("new_number: {m}"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let write = CertificateWrite {
            id,
            before,
            after_sha256: journal::certificate_digest(&after).1,
            after: after.clone(),
            change: ch.to_json(None),
        };
        match state
            .store
            .update_certificate(
                &write,
                &caller.token,
                now_micros(),
                idem.as_ref().map(|i| &i.claim),
            )
            .await
        {
            Ok(entry) => {
                let body = certificate_answer(&policy, &after, Some(&entry), today);
                return Ok(answer(&state, idem.as_ref(), StatusCode::OK, body).await);
            }
            // Someone changed it meanwhile: read it again and judge the change anew.
            Err(StoreError::Stale(_)) if attempt < 2 => continue,
            Err(StoreError::KeyUsed) => return replay_raced(&state, idem.as_ref()).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "busy",
        "The certificate kept changing",
        "the certificate changed three times while this change was judged; try again",
    ))
}

/// The body of `POST /api/v1/certificates/history`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryBody {
    pub number: String,
    pub kind: String,
    /// Without a token, the holder's name, as for verification.
    #[serde(default)]
    pub name: Option<String>,
}

/// One certificate's journal: in full for its owner and the regulators, dates and kinds of
/// change only for the public (who must give the holder's name, as for verification).
#[utoipa::path(
    post,
    path = "/api/v1/certificates/history",
    tag = "writes",
    security((), ("bearer" = [])),
    request_body(content = HistoryBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The entries, oldest first", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate (or token)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = match headers.get(header::AUTHORIZATION) {
        Some(_) => Some(authenticate(&state, &headers).await?),
        None => None,
    };
    let b: HistoryBody = parse_body(&body)?;
    let number = number::normalize(&b.number);
    let not_found =
        || ApiError::not_found("no certificate with this number, kind and name".to_string());
    let Some((id, cert)) = state
        .store
        .certificate_with_id(&number, b.kind.trim())
        .await?
    else {
        return Err(not_found());
    };
    let full = match &caller {
        Some(c) => {
            may_read_history(&state, c, id, &cert, not_found).await?;
            true
        }
        None => {
            let name = b.name.as_deref().unwrap_or_default();
            if name.trim().is_empty() {
                return Err(ApiError::bad_request(
                    "name: without a token, the holder's name is needed",
                ));
            }
            if !names_match(&cert.holder_name, name) {
                return Err(not_found());
            }
            false
        }
    };
    let entries = state.store.history(&Subject::Certificate(id)).await?;
    let items: Vec<serde_json::Value> = if full {
        entries
            .iter()
            .map(|e| {
                let change: serde_json::Value =
                    serde_json::from_str(&e.change).unwrap_or(serde_json::Value::Null);
                json!({
                    "seq": e.seq,
                    "at": e.at_rfc3339(),
                    "actor": e.actor,
                    "change": change,
                    "record_sha256": e.record_sha256,
                })
            })
            .collect()
    } else {
        public_entries(&entries)
            .into_iter()
            .map(|p| match p.linked {
                Some(n) => json!({ "date": p.date, "change": p.change, "linked_number": n }),
                None => json!({ "date": p.date, "change": p.change }),
            })
            .collect()
    };
    Ok(json_response(
        StatusCode::OK,
        json!({ "view": if full { "full" } else { "public" }, "entries": items }).to_string(),
    ))
}

/// The longest a token may be made to last, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3_650;

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Whom the token is for: `{"kind": "regulator", "department": "mohrss", "region": "44"}`,
    /// `{"kind": "authority", "department": "mem", "region": "44"}` (no region: national) or
    /// `{"kind": "institution", "issuer": "inst.…"}`.
    #[schema(value_type = Object)]
    pub actor: Actor,
    #[serde(default)]
    pub label: Option<String>,
    /// Days until it expires; none for a token that does not expire.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// Create a token for another actor (regulators, within their region). The secret is in this
/// answer and nowhere else.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = TokenBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The token, shown once", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The actor does not fit the policy or the register (a department, region or institution that does not exist), or the label is too long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let b: TokenBody = parse_body(&body)?;
    let policy = state.policy();
    let institution = match b.actor.issuer_id() {
        Some(id) => issuer_record(&state, id).await?,
        None => None,
    };
    let problems = b.actor.check(&policy, institution.as_ref());
    if !problems.is_empty() {
        return Err(field("actor", problems.join("; ")));
    }
    if let Err(f) = rights::authorize(
        &caller.actor,
        &Action::CreateToken {
            target: &b.actor,
            institution: institution.as_ref(),
        },
        &policy,
    ) {
        return Err(refuse(&state, &caller, Subject::Nothing, f).await);
    }
    if let Some(l) = &b.label
        && (l.chars().count() > 80 || l.chars().any(char::is_control))
    {
        return Err(field(
            "label",
            "at most 80 characters, no control characters",
        ));
    }
    if let Some(d) = b.expires_in_days
        && !(1..=MAX_TOKEN_DAYS).contains(&d)
    {
        return Err(ApiError::bad_request(format!(
            "expires_in_days: from 1 to {MAX_TOKEN_DAYS} days, or absent for a token that does not expire"
        )));
    }
    let now = now_micros();
    let expires = b
        .expires_in_days
        .map(|d| now + i64::from(d) * 86_400_000_000);
    let (secret, record) = TokenRecord::create(b.actor, b.label, now, expires);
    let entry = state
        .store
        .create_token(&record, &record.created_change(), &caller.token, now)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "id": record.id.as_str(),
            "token": secret.expose(),
            "actor": record.actor,
            "label": record.label,
            "expires_at": record.expires_at_micros.map(instant_rfc3339),
            "journal": { "seq": entry.seq },
        })
        .to_string(),
    ))
}

/// The body of `POST /api/v1/tokens/revoke`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub id: String,
}

/// Revoke a token (regulators, within their region; any actor its own).
#[utoipa::path(
    post,
    path = "/api/v1/tokens/revoke",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = RevokeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Revoked", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such certificate (or token)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let b: RevokeBody = parse_body(&body)?;
    let id = TokenId::parse(b.id.trim())
        .map_err(|_| ApiError::bad_request("id: is not a token id (tok_ and 16 hex digits)"))?;
    let Some(target) = state.store.tokens().await?.into_iter().find(|t| t.id == id) else {
        return Err(ApiError::not_found(format!("token {}", id.as_str())));
    };
    let policy = state.policy();
    let institution = match target.actor.issuer_id() {
        Some(i) => issuer_record(&state, i).await?,
        None => None,
    };
    if caller.token != target.id.as_str()
        && let Err(f) = rights::authorize(
            &caller.actor,
            &Action::RevokeToken {
                target: &target.actor,
                institution: institution.as_ref(),
            },
            &policy,
        )
    {
        return Err(refuse(&state, &caller, Subject::Token(id.as_str().into()), f).await);
    }
    let entry = state
        .store
        .revoke_token(
            id.as_str(),
            "{\"change\":\"token-revoked\"}",
            &caller.token,
            now_micros(),
        )
        .await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "id": id.as_str(), "revoked": true, "journal": { "seq": entry.seq } }).to_string(),
    ))
}

/// The body of `POST /api/v1/policy`: the policy folder's files, by name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub files: std::collections::BTreeMap<String, String>,
}

/// Publish a new policy (a national regulator): validated exactly as `hutong policy check`
/// validates a folder; journaled with its digest; in force at once, here and, within the
/// refresh interval, on every server of the registry.
#[utoipa::path(
    post,
    path = "/api/v1/policy",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = PolicyBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Published: its digest and journal entry", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right, the grant or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the rules: the record does not validate (field named), a lifecycle window or state, or an Idempotency-Key used with another request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    if let Err(f) = rights::authorize(&caller.actor, &Action::PublishPolicy, &state.policy()) {
        return Err(refuse(&state, &caller, Subject::Nothing, f).await);
    }
    let b: PolicyBody = parse_body(&body)?;
    let (policy, files) = checked_policy(b.files)
        .map_err(|problems| unprocessable("invalid-policy", problems.join("; ")))?;
    let change = policy_change(&policy.digest);
    let entry = state
        .store
        .publish_policy(&policy.digest, &files, &change, &caller.token, now_micros())
        .await?;
    let digest = policy.digest.clone();
    state.replace_policy(std::sync::Arc::new(policy));
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "digest": digest, "journal": { "seq": entry.seq } }).to_string(),
    ))
}

/// The change of a `policy-published` entry.
pub fn policy_change(digest: &str) -> String {
    journal::canonical(&json!({ "change": "policy-published", "digest": digest }))
}

/// A policy's files, (name, text) in name order, as the registry stores them.
pub type PolicyFiles = Vec<(String, String)>;

/// A policy from its files (name → text), validated as a folder is; every problem with its file
/// and line. The files come back sorted by name, as they are stored.
pub fn checked_policy(
    files: std::collections::BTreeMap<String, String>,
) -> Result<(Policy, PolicyFiles), Vec<String>> {
    let bad: Vec<String> = files
        .keys()
        .filter(|n| {
            !n.ends_with(".toml")
                || n.len() <= ".toml".len()
                || n.starts_with('.')
                || n.len() > 64
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
        .map(|n| {
            format!(
                "{}: a policy file is named NAME.toml (ASCII letters, digits, _ - .), without a folder",
                mask_id_numbers(n)
            )
        })
        .collect();
    if !bad.is_empty() {
        return Err(bad);
    }
    if files.is_empty() {
        return Err(vec!["files: a policy has at least one .toml file".into()]);
    }
    let sources: Vec<hutong_core::policy::Source> = files
        .iter()
        .map(|(name, text)| hutong_core::policy::Source {
            name: name.clone(),
            text: text.clone(),
        })
        .collect();
    let policy = Policy::from_sources(&sources)
        .map_err(|e| e.0.iter().map(|p| p.to_string()).collect::<Vec<_>>())?;
    Ok((policy, files.into_iter().collect()))
}

/// The body of `POST /api/v1/issuers/changes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerChangeBody {
    /// The issuer's id.
    pub issuer: String,
    /// The change, tagged by `change`: `{"change": "registered", …the issuer record…}`,
    /// `{"change": "scope-granted", "kind": …, "occupation": …, "levels": […], "valid_from": …}`,
    /// `{"change": "scope-withdrawn", "kind": …, "occupation": …, "levels": […], "last_day": …}`,
    /// `{"change": "suspended", "from": …, "reason": …}`, `{"change": "reinstated", "on": …}`,
    /// `{"change": "removed", "on": …}`.
    #[schema(value_type = Object)]
    pub change: hutong_core::IssuerChange,
}

/// Change the register of institutions (regulators, within their region): register, grant or
/// withdraw a scope, suspend, reinstate, remove. A change appends to the institution's history
/// and never overwrites it.
#[utoipa::path(
    post,
    path = "/api/v1/issuers/changes",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = IssuerChangeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed: the issuer's status today and the journal entry", body = Object),
        (status = 400, description = "The body is not JSON, or a field is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights; `code` and the detail name the right or the region. The refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such issuer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The register changed meanwhile, or the id is registered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the register's rules (a grant that overlaps or does not fit, a suspension of a suspended issuer, …), or the record does not fit the policy", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_issuer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    use hutong_core::IssuerChange as Change;
    use hutong_core::rights::IssuerChange as Right;
    let caller = authenticate(&state, &headers).await?;
    let b: IssuerChangeBody = parse_body(&body)?;
    let id = b.issuer.trim();
    if !hutong_core::ids::is_dotted_id(id) || mask_id_numbers(id) != id {
        return Err(ApiError::bad_request(
            "issuer: an issuer id is lower-case ASCII letters, digits, hyphens and dots, and never an ID number",
        ));
    }
    let policy = state.policy();
    let right = match &b.change {
        Change::Registered(_) => Right::Register,
        Change::ScopeGranted(_) => Right::Grant,
        Change::ScopeWithdrawn { .. } => Right::Withdraw,
        Change::Suspended { .. } => Right::Suspend,
        Change::Reinstated { .. } => Right::Reinstate,
        Change::Removed { .. } => Right::Remove,
    };
    let before = state.store.issuer(id).await?;
    let target = match (&b.change, &before) {
        (Change::Registered(proposed), _) => {
            if proposed.id != id {
                return Err(field(
                    "change.id",
                    format!("the record's id \"{}\" is not \"{id}\"", proposed.id),
                ));
            }
            proposed.clone()
        }
        (_, Some(stored)) => stored.clone(),
        (_, None) => return Err(ApiError::not_found(format!("no issuer \"{id}\""))),
    };
    if let Err(f) = rights::authorize(
        &caller.actor,
        &Action::ManageIssuer {
            change: right,
            issuer: &target,
        },
        &policy,
    ) {
        // The subject names a registered issuer only: a proposed id is whatever the request
        // said, and may be anything (an ID number typed by mistake).
        let subject = match &before {
            Some(b) => Subject::Issuer(b.id.clone()),
            None => Subject::Nothing,
        };
        return Err(refuse(&state, &caller, subject, f).await);
    }
    if matches!(b.change, Change::Registered(_)) && before.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already-registered",
            "Already registered",
            format!("issuer \"{id}\" is already registered"),
        ));
    }
    let after = b
        .change
        .apply(before.as_ref())
        .map_err(|r| unprocessable("issuer-change-refused", r.to_string()))?;
    let problems = after.check(&policy);
    if !problems.is_empty() {
        return Err(unprocessable("invalid-issuer", problems.join("; ")));
    }
    let (_, sha) = hutong_store::write::issuer_digest(&after);
    let write = hutong_store::IssuerWrite {
        before,
        after: after.clone(),
        after_sha256: sha,
        change: journal::canonical(&b.change),
    };
    let entry = match state
        .store
        .put_issuers(std::slice::from_ref(&write), &caller.token, now_micros())
        .await
    {
        Ok(mut e) => e.pop().ok_or_else(ApiError::internal)?,
        Err(StoreError::Stale(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "busy",
                "The register changed meanwhile",
                format!("issuer \"{id}\" changed while this change was judged; try again"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = state.refresh_issuers().await {
        tracing::warn!(error = %e, "could not reread the issuer register");
    }
    let (status, since) = after.status_on(today_in_china());
    Ok(json_response(
        StatusCode::OK,
        json!({
            "issuer": after.id,
            "status": status.id(),
            "status_since": since,
            "kinds_today": after.kinds_on(today_in_china()),
            "journal": { "seq": entry.seq, "at": entry.at_rfc3339(), "change": entry.kind() },
        })
        .to_string(),
    ))
}

/// A certificate's public history, oldest first: the day of each change and its kind, nothing
/// about who made it, and no refused request.
pub async fn public_history(
    state: &AppState,
    number: &str,
    kind: &str,
) -> Result<Vec<PublicEntry>, ApiError> {
    let Some((id, _)) = state.store.certificate_with_id(number, kind).await? else {
        return Ok(Vec::new());
    };
    Ok(public_entries(
        &state.store.history(&Subject::Certificate(id)).await?,
    ))
}

fn public_entries(entries: &[Entry]) -> Vec<PublicEntry> {
    entries
        .iter()
        .filter(|e| e.kind() != "refused")
        .map(PublicEntry::of)
        .collect()
}

/// The most rows one batch may hold.
pub const MAX_BATCH_ROWS: usize = 100_000;

/// One row of a batch's report.
#[derive(Debug, Clone, serde::Serialize)]
struct RowReport {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
}

impl RowReport {
    fn refused(line: u64, field: Option<&'static str>, code: &'static str, reason: String) -> Self {
        RowReport {
            line,
            field,
            code: Some(code),
            reason: Some(mask_id_numbers(&reason).into_owned()),
            outcome: None,
            number: None,
        }
    }
}

/// A problem document with the report of every refused row: nothing of the batch was stored.
fn batch_refused(status: StatusCode, code: &'static str, rows: Vec<RowReport>) -> Response {
    let detail = format!(
        "{} row(s) refused, the first on line {}; nothing of the batch was stored",
        rows.len(),
        rows.first().map(|r| r.line).unwrap_or(0)
    );
    let body = json!({
        "type": "about:blank",
        "title": "The batch was refused",
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
        "rows": rows,
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// Issue a batch of certificates, all or nothing: a body in the import format, CSV
/// (`text/csv`) or NDJSON (`application/x-ndjson`), read and checked exactly as `hutong import
/// --strict` reads a file. Any refused row refuses the whole batch, and the answer reports every
/// refused row with its line, field and reason.
#[utoipa::path(
    post,
    path = "/api/v1/certificates/batch",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = String, description = "Rows in the import format (docs/issuers.md): CSV with its header, or one JSON object per line", content_type = "text/csv"),
    responses(
        (status = 201, description = "Every row stored or already stored: the report per row and the journal entries", body = Object),
        (status = 400, description = "The body cannot be read as the import format (the CSV header, a row too long)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A row is outside the token's rights; `rows` says which and why. Nothing was stored; the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A row's number is registered with other data; `rows` says which. Nothing was stored", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A row does not validate; `rows` gives every refused row's line, field and reason. Nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match ctype.as_str() {
        "text/csv" => hutong_core::rows::Format::Csv,
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            hutong_core::rows::Format::Ndjson
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body's content type is not accepted",
                "a batch is text/csv or application/x-ndjson",
            ));
        }
    };
    let idem = idempotency(&caller, &headers, "POST /api/v1/certificates/batch", &body)?;
    if let Some(i) = &idem
        && let Some(r) = replay(&state, i).await?
    {
        return Ok(r);
    }
    let policy = state.policy();
    let today = today_in_china();
    let reader: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(body.clone()));
    let mut rows =
        hutong_core::rows::Rows::open("body", format, reader).map_err(ApiError::bad_request)?;
    let mut issuers: std::collections::HashMap<String, Option<Issuer>> = Default::default();
    let mut refused: Vec<RowReport> = Vec::new();
    let mut forbidden: Vec<RowReport> = Vec::new();
    let mut first_refusal: Option<Forbidden> = None;
    let mut good: Vec<(u64, Certificate)> = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), usize> = Default::default();
    loop {
        let row = match rows.next_row() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "the body cannot be read: {e}"
                )));
            }
        };
        if good.len() + refused.len() + forbidden.len() >= MAX_BATCH_ROWS {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The request is too large",
                format!("a batch holds at most {MAX_BATCH_ROWS} rows; split it"),
            ));
        }
        let row = match row {
            Ok(r) => r,
            Err((line, msg)) => {
                refused.push(RowReport::refused(
                    line,
                    None,
                    "unreadable-row",
                    format!("the row {msg}"),
                ));
                continue;
            }
        };
        let id = row.input.issuer.trim().to_string();
        if !issuers.contains_key(&id) {
            let i = state.store.issuer(&id).await?;
            issuers.insert(id.clone(), i);
        }
        let issuer = issuers.get(&id).and_then(Option::as_ref);
        if let Some(iss) = issuer {
            let level = row.input.level.trim().parse().ok();
            let occupation = Some(row.input.occupation.trim()).filter(|o| !o.is_empty());
            let issued = parse_day(row.input.issued_on.trim()).unwrap_or(today);
            // As for one certificate: the rights in force today and on the issue date.
            let refusal = [today, issued].into_iter().find_map(|day| {
                rights::authorize(
                    &caller.actor,
                    &Action::Issue {
                        kind: row.input.kind.trim(),
                        issuer: iss,
                        occupation,
                        level,
                        day,
                    },
                    &policy,
                )
                .err()
            });
            if let Some(f) = refusal {
                forbidden.push(RowReport::refused(
                    row.line,
                    Some("issuer"),
                    f.code,
                    f.reason_en.clone(),
                ));
                first_refusal.get_or_insert(f);
                continue;
            }
        }
        match check_record(&policy, issuer, &state.secret, &row.input, today) {
            Err(errs) => {
                for e in errs {
                    refused.push(RowReport::refused(
                        row.line,
                        Some(e.field),
                        "invalid-field",
                        e.message,
                    ));
                }
            }
            Ok(checked) => {
                let c = checked.certificate;
                let key = (c.number.clone(), c.kind.clone());
                match seen.get(&key) {
                    Some(&i) if good[i].1 != c => refused.push(RowReport::refused(
                        row.line,
                        Some("number"),
                        "twice-in-batch",
                        format!(
                            "{} of kind {} is also on line {} of this batch, with other data",
                            c.number, c.kind, good[i].0
                        ),
                    )),
                    Some(_) => {}
                    None => {
                        seen.insert(key, good.len());
                        good.push((row.line, c));
                    }
                }
            }
        }
    }
    if let Some(f) = first_refusal {
        let _ = refuse(&state, &caller, Subject::Nothing, f).await;
        forbidden.extend(refused);
        forbidden.sort_by_key(|r| r.line);
        return Ok(batch_refused(
            StatusCode::FORBIDDEN,
            "outside-rights",
            forbidden,
        ));
    }
    if !refused.is_empty() {
        return Ok(batch_refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-rows",
            refused,
        ));
    }
    if good.is_empty() {
        return Err(ApiError::bad_request("the batch holds no row"));
    }
    let issues: Vec<Issue> = good.iter().map(|(_, c)| Issue::new(c.clone())).collect();
    match state
        .store
        .insert_certificates(
            &issues,
            &caller.token,
            now_micros(),
            InsertMode::AllOrNothing,
            idem.as_ref().map(|i| &i.claim),
        )
        .await
    {
        Ok(outcomes) => {
            let mut stored = 0;
            let report: Vec<RowReport> = good
                .iter()
                .zip(&outcomes)
                .map(|((line, c), o)| {
                    let outcome = match o {
                        hutong_store::RowOutcome::Stored => {
                            stored += 1;
                            "stored"
                        }
                        _ => "unchanged",
                    };
                    let shown = shown_number(&policy, c);
                    RowReport {
                        line: *line,
                        field: None,
                        code: None,
                        reason: None,
                        outcome: Some(outcome),
                        number: Some(shown),
                    }
                })
                .collect();
            let body = json!({
                "stored": stored,
                "unchanged": good.len() - stored,
                "rows": report,
                "journal": { "entries": stored },
            });
            Ok(answer(&state, idem.as_ref(), StatusCode::CREATED, body).await)
        }
        Err(StoreError::Conflict(msg)) => {
            let rows: Vec<RowReport> = msg
                .split("; ")
                .map(|part| {
                    let line = good
                        .iter()
                        .find(|(_, c)| {
                            part.starts_with(&format!(
                                "{} of kind {} ",
                                mask_id_numbers(&c.number),
                                c.kind
                            ))
                        })
                        .map(|(l, _)| *l)
                        .unwrap_or(0);
                    RowReport::refused(line, Some("number"), "conflict", part.to_string())
                })
                .collect();
            Ok(batch_refused(StatusCode::CONFLICT, "conflict", rows))
        }
        Err(StoreError::KeyUsed) => replay_raced(&state, idem.as_ref()).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change made at 01:00 in China (17:00 UTC the day before) is dated by China's day, as
    /// every other date of the registry is.
    #[test]
    fn public_history_dates_are_days_in_china() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T17:00:00Z")
            .unwrap()
            .timestamp_micros();
        let e = |change: &str| Entry {
            seq: 1,
            at_micros: at,
            actor: "tok_0123456789abcdef".into(),
            subject: Subject::Certificate(1),
            change: change.into(),
            record_sha256: None,
        };
        let p = public_entries(&[
            e("{\"change\":\"issued\"}"),
            e("{\"change\":\"refused\",\"right\":\"issue\"}"),
        ]);
        assert_eq!(
            p,
            [PublicEntry {
                date: "2026-12-02".into(),
                change: "issued".into(),
                linked: None,
            }]
        );
    }
}
