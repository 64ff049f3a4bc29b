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
use axum::response::Response;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use hutong_core::journal::{self, Subject, instant_rfc3339, now_micros};
use hutong_core::number::{display, mask_id_numbers};
use hutong_core::share::{ShareCode, ShareUnusable};
use hutong_core::{Certificate, Policy, mask_name};

use crate::error::{ApiError, Problem};
use crate::handlers::api::private_json;
use crate::handlers::share::holder_certificates;
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
    let now = now_micros();
    let mut out = Covered {
        codes: Vec::with_capacity(codes.len()),
        certificates: Vec::with_capacity(codes.len()),
    };
    // The same holder's certificates are read once however many codes they gave.
    let mut by_holder: HashMap<hutong_core::HolderKey, Vec<(i64, Certificate)>> = HashMap::new();
    for text in codes {
        let Ok(code) = ShareCode::parse(text) else {
            out.codes.push(("malformed", None));
            out.certificates.push(Vec::new());
            continue;
        };
        let Some(record) = state.store.share_by_hash(&code.hash()).await? else {
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

fn shown_number(policy: &Policy, c: &Certificate) -> String {
    match policy.kind(&c.kind) {
        Some(k) => display(k.number_scheme, &c.number).into_owned(),
        None => mask_id_numbers(&c.number).into_owned(),
    }
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
        // What the codes cover is read again on every look: a code revoked meanwhile stops.
        let cov = covered(&state, &b.codes).await?;
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
        let head = state.store.journal_head().await?;
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
                        number: shown_number(&policy, c),
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
