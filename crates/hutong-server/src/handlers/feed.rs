//! `GET /api/v1/feed`: the change journal in order, for department and regulator tokens, each
//! seeing what its rights allow (docs/feed.md).
//!
//! The feed is a long poll: an answer comes as soon as there is at least one entry after
//! `after` that the caller may see, or when `wait` seconds have passed with none (an empty
//! answer). Its `next` is the sequence number to ask after next time: the last entry the
//! server looked at, which may be past the last one returned (entries outside the caller's
//! scope are skipped, never hidden in a gap). The journal's sequence is gapless and committed
//! in order, so a consumer that stores `next` and resumes from it sees every entry of its scope
//! exactly once, across restarts of either side.

use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use hutong_core::export::number_field;
use hutong_core::journal::{Entry, Subject};
use hutong_core::rights::{self, Action, FeedScope};
use hutong_core::{Certificate, Policy};

use crate::error::{ApiError, Problem};
use crate::handlers::write::{authenticate, json_response, refuse};
use crate::state::AppState;

/// The most entries one answer holds, and the default.
pub const MAX_LIMIT: usize = 1_000;
/// The longest a request may wait for new entries, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;
/// How often a waiting request looks at the journal again.
const POLL: Duration = Duration::from_millis(200);
/// How many entries one look reads, at most, before it filters them.
const SCAN: usize = 2_000;

/// The query of `GET /api/v1/feed`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// The last sequence number already received (the `next` of the previous answer); 0 or
    /// absent for the beginning of the journal.
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// The most entries to return (1 to 1,000; default 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// How long to wait for a new entry when there is none, in seconds (0 to 30; default 0).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
    /// Only entries of this department's certificates and issuers (an authority must give its
    /// own).
    pub department: Option<String>,
    /// Only entries of certificates and issuers of this province (GB/T 2260 code).
    pub region: Option<String>,
    /// Only entries of this issuer's certificates and of its record (an institution must give
    /// itself).
    pub issuer: Option<String>,
}

/// One journal entry of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEntry {
    pub seq: u64,
    /// The UTC instant, RFC 3339 with microseconds.
    pub at: String,
    pub actor: String,
    /// `cert:<registry id>` or `issuer:<id>`.
    pub subject: String,
    /// The change as the journal holds it (canonical JSON, RFC 8785); its `change` member
    /// names its kind. The journal never holds an ID number: numbers that are or embed one are
    /// masked in it, as in public answers.
    #[schema(value_type = Object)]
    pub change: Box<serde_json::value::RawValue>,
    /// SHA-256 of the record after the change, where the change has a record.
    pub record_sha256: Option<String>,
    /// For an entry about a certificate: its identity, which is the same in every registry
    /// (the registry id of `subject` is this registry's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<FeedCertificate>,
}

/// A certificate's identity in a feed entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedCertificate {
    /// The number, sealed (`sealed:` and base64url, as in exports) where it is or embeds an ID
    /// number: a registry with the same holder key file opens it (`hutong mirror`), nobody
    /// else can.
    pub number: String,
    pub kind: String,
}

/// An answer of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAnswer {
    /// The entries after `after` in the caller's scope, in order.
    pub entries: Vec<FeedEntry>,
    /// The `after` of the next request.
    pub next: u64,
    /// The journal's last sequence number when the answer was made.
    pub head: u64,
}

/// The change journal in order, within the token's rights: a regulator sees its region, an
/// authority its department, an institution its own certificates. Long-polls up to `wait`
/// seconds for a new entry.
#[utoipa::path(
    get,
    path = "/api/v1/feed",
    tag = "writes",
    security(("bearer" = [])),
    params(FeedParams),
    responses(
        (status = 200, description = "The entries, and the `after` of the next request", body = FeedAnswer),
        (status = 400, description = "A parameter is malformed or out of range; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's rights (another department, region or issuer); the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let Query(p) = params.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    let limit = p.limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: {limit} is out of range; give 1 to {MAX_LIMIT}"
        )));
    }
    let wait = p.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECS {
        return Err(ApiError::bad_request(format!(
            "wait: {wait} is out of range; give 0 to {MAX_WAIT_SECS} seconds"
        )));
    }
    let policy = state.policy();
    // A blank parameter is an absent one.
    let (department, region, issuer) = (given(&p.department), given(&p.region), given(&p.issuer));
    if let Some(d) = department
        && policy.department(d).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "department: \"{d}\" is not a department of the policy"
        )));
    }
    if let Some(r) = region
        && policy.region(r).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "region: \"{r}\" is not a province code of the policy"
        )));
    }
    // What was not asked for narrows to the token's own scope: a regulator of one province
    // asking for a department sees that department's entries of its province, and an
    // authority asking for a region sees its own department's there.
    let bound = caller.actor.feed_scope();
    let scope = FeedScope {
        department: department.or(bound.department),
        region: region.or(bound.region),
        issuer: issuer.or(bound.issuer),
    };
    if let Err(f) = rights::authorize(&caller.actor, &Action::ReadFeed { scope }, &policy) {
        return Err(refuse(&state, &caller, Subject::Nothing, f).await);
    }
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut next = p.after.unwrap_or(0);
    let mut out = Vec::new();
    loop {
        let head = state.store.journal_head().await?;
        while next < head && out.len() < limit {
            let page = state.store.journal(next, SCAN).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            for e in page {
                let seq = e.seq;
                if let Some(about) = about(&state, &policy, &e).await?
                    && about.within(&scope)
                {
                    let certificate = about.certificate.map(|c| FeedCertificate {
                        number: number_field(&policy, &state.secret, &c),
                        kind: c.kind,
                    });
                    out.push(entry(e, certificate)?);
                }
                next = seq;
                if out.len() == limit {
                    break;
                }
            }
            if next < last && out.len() < limit {
                next = last;
            }
        }
        if !out.is_empty() || Instant::now() >= deadline {
            let answer = FeedAnswer {
                entries: out,
                next,
                head,
            };
            return Ok(json_response(
                StatusCode::OK,
                serde_json::to_string(&answer).map_err(|_| ApiError::internal())?,
            ));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn entry(e: Entry, certificate: Option<FeedCertificate>) -> Result<FeedEntry, ApiError> {
    Ok(FeedEntry {
        seq: e.seq,
        at: hutong_core::journal::instant_rfc3339(e.at_micros),
        subject: e.subject.to_string(),
        change: serde_json::value::RawValue::from_string(e.change).map_err(|err| {
            tracing::error!("journal entry {} is not JSON: {err}", e.seq);
            ApiError::internal()
        })?,
        record_sha256: e.record_sha256,
        actor: e.actor,
        certificate,
    })
}

/// What an entry is about, for the scope: the department, region and issuer of its certificate
/// or issuer record.
struct About {
    department: Option<String>,
    region: Option<String>,
    issuer: String,
    /// The certificate, for an entry about one.
    certificate: Option<Certificate>,
}

impl About {
    fn within(&self, scope: &FeedScope<'_>) -> bool {
        scope
            .department
            .is_none_or(|d| self.department.as_deref() == Some(d))
            && scope
                .region
                .is_none_or(|r| self.region.as_deref() == Some(r))
            && scope.issuer.is_none_or(|i| self.issuer == i)
    }
}

/// What an entry is about; `None` for entries that are not in the feed: about tokens, share
/// codes, keys and policies, and refusals that name nothing.
async fn about(state: &AppState, policy: &Policy, e: &Entry) -> Result<Option<About>, ApiError> {
    Ok(match &e.subject {
        Subject::Certificate(id) => {
            let Some(cert) = state.store.certificate_by_id(*id).await? else {
                return Ok(None);
            };
            let region = state
                .issuer(&cert.issuer)
                .await?
                .and_then(|i| i.region.clone());
            Some(About {
                department: policy.kind(&cert.kind).map(|k| k.department.clone()),
                region,
                issuer: cert.issuer.clone(),
                certificate: Some(cert),
            })
        }
        Subject::Issuer(id) => state.issuer(id).await?.map(|i| About {
            department: Some(i.department.clone()),
            region: i.region.clone(),
            issuer: i.id.clone(),
            certificate: None,
        }),
        _ => None,
    })
}
