//! Consented monitoring for employers: `POST /api/v1/watch/status` and
//! `POST /api/v1/watch/changes` (docs/watch.md).
//!
//! A holder consents by minting a share code (用证码, purpose and expiry of their choosing,
//! revocable at any time) and giving it to the employer: the code is the consent, and holding
//! it is the only right the employer needs. The employer keeps its list of codes and asks, in
//! one request for up to [`MAX_CODES`] codes, the status of every certificate they cover today,
//! with the review or renewal window from the kind's lifecycle rule; and, by a long poll, every
//! change to those certificates after a journal sequence number. A code that is revoked or has
//! expired covers nothing from that instant: its certificates' status and changes stop at once.
//! Codes travel in bodies, never in addresses.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use hutong_core::journal::{self, Subject, instant_rfc3339, now_micros};
use hutong_core::number::mask_id_numbers;
use hutong_core::share::{ShareCode, ShareUnusable};
use hutong_core::{Certificate, Policy, mask_name};

use crate::error::{ApiError, Problem};
use crate::handlers::api::private_json;
use crate::handlers::share::holder_certificates;
use crate::handlers::write::shown_number;
use crate::state::AppState;

/// The most codes one request may give.
pub const MAX_CODES: usize = 10_000;
/// The largest body: 10,000 codes as people write them, with room.
pub const MAX_WATCH_BYTES: usize = 1024 * 1024;
/// The longest a changes request waits, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;
const POLL: Duration = Duration::from_millis(200);
const SCAN: usize = 2_000;
/// The most changes one answer holds.
const MAX_CHANGES: usize = 1_000;

/// The body of `POST /api/v1/watch/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// The share codes the holders gave, as printed or scanned (1 to 10,000).
    #[schema(min_items = 1, max_items = 10000)]
    pub codes: Vec<String>,
}

/// The body of `POST /api/v1/watch/changes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesBody {
    #[schema(min_items = 1, max_items = 10000)]
    pub codes: Vec<String>,
    /// The last journal sequence number already seen: the `head` of a status answer, or the
    /// `next` of the previous changes answer.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub after: u64,
    /// How long to wait for a change when there is none, 0 to 30 seconds (default 0).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 30)]
    pub wait: u64,
}

/// The largest number a JSON number holds exactly (2^53 - 1), as JSON Schema and most clients
/// read numbers.
const MAX_EXACT: u64 = 9_007_199_254_740_991;

/// A whole number from 0 to 2^53 - 1, written as an integer or as a number with no fraction
/// (`26.0`, which JSON Schema counts as an integer too).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_u64(), n.as_f64()) {
        (Some(u), _) => Some(u),
        (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f <= MAX_EXACT as f64 => Some(f as u64),
        _ => None,
    };
    match whole {
        Some(u) if u <= MAX_EXACT => Ok(u),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number from 0 to {MAX_EXACT}"
        ))),
    }
}

/// What one code gives.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedCode {
    /// The code's place in the request, from 0.
    pub index: usize,
    /// `active`, `revoked`, `expired`, `unknown` (no such code) or `malformed`.
    pub consent: &'static str,
    /// For an active code: what the holder gave it for, and when it stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The certificates it covers today (none unless active).
    pub certificates: Vec<WatchedCertificate>,
}

/// A watched certificate's standing today.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedCertificate {
    pub kind: String,
    /// As public answers show it (masked where it embeds the ID number).
    pub number: String,
    /// Masked (`张*明`).
    pub holder_name: String,
    pub issuer: String,
    /// `valid`, `review-due`, `expired`, `suspended` or `revoked`; null for a kind the policy
    /// no longer knows.
    #[schema(value_type = Option<String>)]
    pub status: Option<&'static str>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<hutong_core::Day>,
    /// The next review or renewal the holder must apply for, and its window, from the kind's
    /// lifecycle rule (60 days for `mem` reviews, 3 months for `mohurd`, 1 month for `samr`
    /// renewals, …); absent when none is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder: Option<Reminder>,
    /// When the registry last received a change from the issuer (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<String>,
}

/// A review or renewal window.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reminder {
    /// `review` or `renewal`.
    pub what: &'static str,
    #[schema(value_type = String, format = Date)]
    pub opens_on: hutong_core::Day,
    #[schema(value_type = String, format = Date)]
    pub closes_on: hutong_core::Day,
    /// Whether the window is open today: the holder should apply now.
    pub open: bool,
}

/// The answer of `POST /api/v1/watch/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusAnswer {
    #[schema(value_type = String, format = Date)]
    pub as_of: hutong_core::Day,
    /// The journal's last sequence number: the `after` of the first changes request.
    pub head: u64,
    pub codes: Vec<WatchedCode>,
}

/// One change to a watched certificate.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedChange {
    pub seq: u64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The codes (their places in the request) that cover the certificate.
    pub codes: Vec<usize>,
    pub kind: String,
    pub number: String,
    /// `reviewed`, `renewed`, `suspended`, `reinstated`, `revoked`, `cancelled`,
    /// `holder-name-corrected`, `renewed-as`.
    pub change: String,
    /// The certificate's status after it, today.
    #[schema(value_type = Option<String>)]
    pub status: Option<&'static str>,
}

/// The answer of `POST /api/v1/watch/changes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesAnswer {
    pub changes: Vec<WatchedChange>,
    /// The `after` of the next request.
    pub next: u64,
    pub head: u64,
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let t: T = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("the body: {}", mask_id_numbers(&e.to_string())))
    })?;
    Ok(t)
}

fn check_codes(codes: &[String]) -> Result<(), ApiError> {
    if codes.is_empty() || codes.len() > MAX_CODES {
        return Err(ApiError::bad_request(format!(
            "codes: give 1 to {MAX_CODES} share codes, not {}",
            codes.len()
        )));
    }
    Ok(())
}

/// What the codes cover now: for each code, its consent and its certificates (registry id and
/// record).
struct Covered {
    codes: Vec<(&'static str, Option<hutong_core::share::ShareRecord>)>,
    certificates: Vec<Vec<(i64, Certificate)>>,
}

async fn covered(state: &AppState, codes: &[String]) -> Result<Covered, ApiError> {
    let hashes: Vec<Option<[u8; 32]>> = codes
        .iter()
        .map(|t| ShareCode::parse(t).ok().map(|c| c.hash()))
        .collect();
    covered_by_hash(state, &hashes).await
}

/// What the codes of these hashes cover now (`None`: a malformed code).
async fn covered_by_hash(
    state: &AppState,
    hashes: &[Option<[u8; 32]>],
) -> Result<Covered, ApiError> {
    let now = now_micros();
    let mut out = Covered {
        codes: Vec::with_capacity(hashes.len()),
        certificates: Vec::with_capacity(hashes.len()),
    };
    // The same holder's certificates are read once however many codes they gave.
    let mut by_holder: HashMap<hutong_core::HolderKey, Vec<(i64, Certificate)>> = HashMap::new();
    for hash in hashes {
        let Some(hash) = hash else {
            out.codes.push(("malformed", None));
            out.certificates.push(Vec::new());
            continue;
        };
        let Some(record) = state.store.share_by_hash(hash).await? else {
            out.codes.push(("unknown", None));
            out.certificates.push(Vec::new());
            continue;
        };
        match record.usable_at(now) {
            Err(ShareUnusable::Revoked { .. }) => {
                out.codes.push(("revoked", None));
                out.certificates.push(Vec::new());
            }
            Err(ShareUnusable::Expired { .. }) => {
                out.codes.push(("expired", None));
                out.certificates.push(Vec::new());
            }
            Ok(()) => {
                let held = match by_holder.entry(record.holder) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(holder_certificates(state, &record.holder, None).await?)
                    }
                };
                let certs = held
                    .iter()
                    .filter(|(id, _)| record.covers(*id))
                    .cloned()
                    .collect();
                out.certificates.push(certs);
                out.codes.push(("active", Some(record)));
            }
        }
    }
    Ok(out)
}

fn reminder(policy: &Policy, c: &Certificate, today: hutong_core::Day) -> Option<Reminder> {
    let kind = policy.kind(&c.kind)?;
    let rule = policy.lifecycle_of(kind);
    if c.state != hutong_core::AdminState::Active {
        return None;
    }
    // The earlier of the next review and the renewal, whichever the rule has.
    let windows = [
        journal::review_window(c, rule).ok(),
        journal::renewal_window(c, rule).ok(),
    ];
    let w = windows
        .into_iter()
        .flatten()
        .filter(|w| w.until >= today)
        .min_by_key(|w| w.until)?;
    Some(Reminder {
        what: w.what,
        opens_on: w.from,
        closes_on: w.until,
        open: w.from <= today,
    })
}

fn watched(
    state: &AppState,
    policy: &Policy,
    c: &Certificate,
    today: hutong_core::Day,
) -> WatchedCertificate {
    let report = policy.status_of(c, today);
    WatchedCertificate {
        kind: c.kind.clone(),
        number: shown_number(policy, c),
        holder_name: mask_name(&c.holder_name),
        issuer: c.issuer.clone(),
        status: report.map(|r| r.status.id()),
        valid_until: report.and_then(|r| r.valid_until),
        reminder: reminder(policy, c, today),
        data_as_of: state.data_as_of(&c.issuer).map(|s| s.to_string()),
    }
}

/// The status today of every certificate the codes cover, in one request: for each code its
/// consent (`active`, `revoked`, `expired`, `unknown`, `malformed`) and, while active, each
/// certificate's status, validity and review or renewal window.
#[utoipa::path(
    post,
    path = "/api/v1/watch/status",
    tag = "watch",
    request_body(content = StatusBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Each code's consent and certificates, and the journal's head", body = StatusAnswer),
        (status = 400, description = "The body is malformed, or holds no code or more than 10,000; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let b: StatusBody = body(&bytes)?;
    check_codes(&b.codes)?;
    let head = state.store.journal_head().await?;
    let today = hutong_core::date::today_in_china();
    let policy = state.policy();
    let cov = covered(&state, &b.codes).await?;
    let codes = cov
        .codes
        .iter()
        .zip(&cov.certificates)
        .enumerate()
        .map(|(index, ((consent, record), certs))| WatchedCode {
            index,
            consent,
            purpose: record.as_ref().map(|r| r.purpose.as_str()),
            expires_at: record
                .as_ref()
                .map(|r| instant_rfc3339(r.expires_at_micros)),
            certificates: certs
                .iter()
                .map(|(_, c)| watched(&state, &policy, c, today))
                .collect(),
        })
        .collect();
    Ok(private_json(&StatusAnswer {
        as_of: today,
        head,
        codes,
    }))
}

/// The changes to the certificates `cov` covers after `after`, up to `head` and at most
/// [`MAX_CHANGES`], with the sequence number the next look starts after.
async fn changes_after(
    state: &AppState,
    policy: &Policy,
    cov: &Covered,
    after: u64,
    head: u64,
    today: hutong_core::Day,
) -> Result<(Vec<WatchedChange>, u64), ApiError> {
    let mut watched: HashMap<i64, (Vec<usize>, &Certificate)> = HashMap::new();
    for (i, certs) in cov.certificates.iter().enumerate() {
        for (id, c) in certs {
            watched
                .entry(*id)
                .or_insert_with(|| (Vec::new(), c))
                .0
                .push(i);
        }
    }
    let mut next = after;
    let mut out = Vec::new();
    while next < head && out.len() < MAX_CHANGES {
        let page = state.store.journal(next, SCAN).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        for e in page {
            if let Subject::Certificate(id) = e.subject
                && let Some((codes, c)) = watched.get(&id)
                && e.record_sha256.is_some()
            {
                let now = state.store.certificate_by_id(id).await?;
                out.push(WatchedChange {
                    seq: e.seq,
                    at: instant_rfc3339(e.at_micros),
                    codes: codes.clone(),
                    kind: c.kind.clone(),
                    number: shown_number(policy, c),
                    change: e.kind().to_string(),
                    status: now
                        .as_ref()
                        .and_then(|n| policy.status_of(n, today))
                        .map(|r| r.status.id()),
                });
            }
            next = e.seq;
            if out.len() == MAX_CHANGES {
                break;
            }
        }
        if next < last && out.len() < MAX_CHANGES {
            next = last;
        }
    }
    Ok((out, next))
}

/// Every change to the certificates the codes cover, after `after`, in journal order: a long
/// poll that answers as soon as there is one (the journal is looked at every 200 ms), or after
/// `wait` seconds with none. A code revoked or expired covers nothing from then on.
#[utoipa::path(
    post,
    path = "/api/v1/watch/changes",
    tag = "watch",
    request_body(content = ChangesBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The changes, and the `after` of the next request", body = ChangesAnswer),
        (status = 400, description = "The body is malformed, or a field is out of range; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn changes(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let b: ChangesBody = body(&bytes)?;
    check_codes(&b.codes)?;
    if b.wait > MAX_WAIT_SECS {
        return Err(ApiError::bad_request(format!(
            "wait: {} is out of range; give 0 to {MAX_WAIT_SECS} seconds",
            b.wait
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(b.wait);
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let mut next = b.after;
    loop {
        let head = state.store.journal_head().await?;
        let mut out = Vec::new();
        if head > next {
            // What the codes cover is read again whenever there is something new: a code
            // revoked meanwhile stops.
            let cov = covered(&state, &b.codes).await?;
            (out, next) = changes_after(&state, &policy, &cov, next, head, today).await?;
        }
        if !out.is_empty() || Instant::now() >= deadline {
            return Ok(private_json(&ChangesAnswer {
                changes: out,
                next,
                head,
            }));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

/// The body of `POST /api/v1/watch/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where deliveries are posted: `http://host[:port]/path` (behind a TLS proxy across
    /// networks), at most 2,048 bytes.
    #[schema(max_length = 2048)]
    pub url: String,
    /// The share codes whose certificates' changes are delivered (1 to 10,000), each working
    /// when the webhook is made.
    #[schema(min_items = 1, max_items = 10000)]
    pub codes: Vec<String>,
}

/// The answer of `POST /api/v1/watch/webhooks`: the secret is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookMade {
    pub id: String,
    /// The key deliveries are signed with (32 bytes, base64url): `X-Hutong-Signature` is
    /// `sha256=` and the hex HMAC-SHA-256 of the body under it. Shown once.
    pub secret: String,
    /// Changes after this journal sequence number are delivered.
    pub after: u64,
}

/// The answer of `POST /api/v1/watch/webhooks/revoke`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookRevoked {
    pub id: String,
    pub revoked: bool,
}

/// The body of `POST /api/v1/watch/webhooks/revoke`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRevoke {
    pub id: String,
    /// The secret given when it was made.
    pub secret: String,
}

/// Whether a webhook may post to `url`: plain HTTP, a host that resolves, and (unless the
/// service allows private targets) to no loopback, private or link-local address, so that the
/// service cannot be made to post into its own network.
async fn check_target(state: &AppState, url: &str) -> Result<(), ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("url: {why}"));
    if url.len() > 2048 {
        return Err(bad("longer than 2,048 bytes".into()));
    }
    let uri: hyper::Uri = url.parse().map_err(|_| bad("not an address".into()))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad(
            "give an http:// address (https through a TLS proxy)".into()
        ));
    }
    let host = uri.host().ok_or_else(|| bad("no host".into()))?;
    let port = uri.port_u16().unwrap_or(80);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "webhook-unreachable",
                "The webhook's host does not resolve",
                format!("url: the host {host} does not resolve"),
            )
        })?
        .collect();
    let private = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v) => {
            v.is_loopback() || v.is_private() || v.is_link_local() || v.is_unspecified()
        }
        std::net::IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    };
    if !state.settings.webhook_private_targets && addrs.iter().any(|a| private(a.ip())) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook-private",
            "The webhook points into a private network",
            format!("url: {host} resolves to a loopback, private or link-local address"),
        ));
    }
    Ok(())
}

/// Makes a webhook: every change to the certificates the codes cover is posted to `url`, signed
/// with the secret this answer gives once, retried with backoff until the receiver takes it.
#[utoipa::path(
    post,
    path = "/api/v1/watch/webhooks",
    tag = "watch",
    request_body(content = WebhookBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Made: its id, its secret (shown once) and the journal sequence number deliveries start after", body = WebhookMade),
        (status = 400, description = "The body is malformed, the address is not a plain http:// one, or a code is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A code does not work (unknown, revoked, expired), or the address does not resolve or is private", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: WebhookBody = body(&bytes)?;
    check_codes(&b.codes)?;
    let mut hashes = Vec::with_capacity(b.codes.len());
    for (i, text) in b.codes.iter().enumerate() {
        let code = ShareCode::parse(text)
            .map_err(|e| ApiError::bad_request(format!("codes[{i}]: {e}")))?;
        hashes.push(code.hash());
    }
    let cov = covered_by_hash(
        &state,
        &hashes.iter().copied().map(Some).collect::<Vec<_>>(),
    )
    .await?;
    if let Some((i, (consent, _))) = cov.codes.iter().enumerate().find(|(_, c)| c.0 != "active") {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "share-not-working",
            "A share code does not work",
            format!("codes[{i}]: the code is {consent}; ask the holder for a new one"),
        ));
    }
    check_target(&state, b.url.trim()).await?;
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let mut id = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let record = hutong_store::WebhookRecord {
        id: format!("wh_{}", hex::encode(id)),
        url: b.url.trim().to_string(),
        code_hashes: hashes,
        secret,
        after: state.store.journal_head().await?,
        created_at_micros: now_micros(),
        revoked_at_micros: None,
    };
    state.store.put_webhook(&record).await?;
    use base64::Engine as _;
    let made = WebhookMade {
        id: record.id,
        secret: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        after: record.after,
    };
    let mut resp = private_json(&made);
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Revokes a webhook, given its id and secret: nothing more is delivered.
#[utoipa::path(
    post,
    path = "/api/v1/watch/webhooks/revoke",
    tag = "watch",
    request_body(content = WebhookRevoke, content_type = "application/json"),
    responses(
        (status = 200, description = "Revoked", body = WebhookRevoked),
        (status = 400, description = "The body is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No webhook with this id and secret (or revoked already)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_webhook(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let b: WebhookRevoke = body(&bytes)?;
    let not_found = || ApiError::not_found("no webhook with this id and secret");
    let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b.secret.trim())
        .map_err(|_| not_found())?;
    let Some(w) = state
        .store
        .webhooks()
        .await?
        .into_iter()
        .find(|w| w.id == b.id.trim())
    else {
        return Err(not_found());
    };
    // Compared by their hashes, so that the comparison's time tells nothing of the secret.
    use sha2::Digest as _;
    if sha2::Sha256::digest(&given) != sha2::Sha256::digest(w.secret) {
        return Err(not_found());
    }
    state.store.revoke_webhook(&w.id, now_micros()).await?;
    Ok(private_json(
        &serde_json::json!({"id": w.id, "revoked": true}),
    ))
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<Bytes>,
>;

/// How long a receiver may take to answer a delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Posts every webhook's undelivered changes, one batch per webhook at a time, for as long as
/// the service runs. A batch is delivered again, the same, until the receiver answers 2xx,
/// after twice the wait of the last failure (from `webhook_interval` up to a minute); only then
/// does its cursor move on. A receiver therefore gets every change, at least once and in
/// order; `X-Hutong-Delivery` (the webhook's id and the batch's first and last sequence
/// numbers) tells a repeat.
pub async fn deliver_forever(state: AppState) {
    let client: HttpClient =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let mut backoff: HashMap<String, (u32, Instant)> = HashMap::new();
    loop {
        tokio::time::sleep(state.settings.webhook_interval).await;
        let hooks = match state.store.webhooks().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the webhooks");
                continue;
            }
        };
        for w in hooks {
            if backoff
                .get(&w.id)
                .is_some_and(|(_, until)| Instant::now() < *until)
            {
                continue;
            }
            match deliver(&state, &client, &w).await {
                Ok(()) => {
                    backoff.remove(&w.id);
                }
                Err(why) => {
                    let failures = backoff.get(&w.id).map_or(0, |b| b.0) + 1;
                    let wait = (state.settings.webhook_interval * 2u32.saturating_pow(failures))
                        .min(Duration::from_secs(60));
                    tracing::warn!(webhook = %w.id, failures, retry_in_ms = wait.as_millis() as u64, "webhook delivery failed: {why}");
                    backoff.insert(w.id.clone(), (failures, Instant::now() + wait));
                }
            }
        }
    }
}

/// Delivers one webhook's next batch, if it has one.
async fn deliver(
    state: &AppState,
    client: &HttpClient,
    w: &hutong_store::WebhookRecord,
) -> Result<(), String> {
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    // Nothing new in the journal, nothing to read: the usual case, every interval.
    let head = state
        .store
        .journal_head()
        .await
        .map_err(|e| e.to_string())?;
    if head <= w.after {
        return Ok(());
    }
    let hashes: Vec<Option<[u8; 32]>> = w.code_hashes.iter().copied().map(Some).collect();
    let cov = covered_by_hash(state, &hashes)
        .await
        .map_err(|e| e.detail)?;
    let (changes, next) = changes_after(state, &policy, &cov, w.after, head, today)
        .await
        .map_err(|e| e.detail)?;
    if let (Some(first), Some(last)) = (changes.first(), changes.last()) {
        let delivery = format!("{}:{}-{}", w.id, first.seq, last.seq);
        let body = serde_json::to_vec(&serde_json::json!({
            "webhook": w.id,
            "delivery": delivery,
            "changes": changes,
            "next": next,
        }))
        .map_err(|e| e.to_string())?;
        let signature = hutong_core::share::webhook_signature(&w.secret, &body);
        let req = hyper::Request::post(w.url.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header("x-hutong-signature", format!("sha256={signature}"))
            .header("x-hutong-delivery", delivery)
            .body(http_body_util::Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(DELIVERY_TIMEOUT, client.request(req))
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| format!("cannot reach the receiver: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("the receiver answered {}", resp.status()));
        }
    }
    match state.store.advance_webhook(&w.id, w.after, next).await {
        // Another server of this registry delivered it meanwhile.
        Ok(()) | Err(hutong_store::StoreError::Stale(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
