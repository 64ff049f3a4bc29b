//! The transparency log over HTTP: the checkpoint, C2SP `tlog-tiles` (tiles and entry
//! bundles), cosignatures from witnesses, and JSON proofs for clients that do not read tiles.
//! See docs/transparency-log.md.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use hutong_log::tile::{TilePath, entry_bundle, tile_width};
use hutong_store::StoredCheckpoint;

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::tlog::{self, CosignatureRefusal, LogSettings, served_note};

/// The largest cosignature body accepted: a checkpoint with a hundred signature lines.
pub const MAX_COSIGNATURE_BYTES: usize = 64 * 1024;

/// Full tiles and bundles never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A partial tile never changes either, but may be removed once its full tile exists.
const PARTIAL: &str = "public, max-age=60";
/// The checkpoint moves with every write: clients must not keep it beyond a few seconds.
const SHORT: &str = "public, max-age=5";

fn settings(state: &AppState) -> Result<&LogSettings, ApiError> {
    state
        .log
        .settings()
        .ok_or_else(|| ApiError::not_found("this registry publishes no transparency log"))
}

fn answer(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// The latest checkpoint, after sequencing what the journal holds.
async fn latest(state: &AppState) -> Result<StoredCheckpoint, ApiError> {
    settings(state)?;
    state
        .log
        .sync(&*state.store)
        .await?
        .ok_or_else(|| ApiError::not_found("this registry publishes no transparency log"))
}

/// `GET /log/checkpoint`: the signed tree head with the cosignatures received for it.
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let c = latest(&state).await?;
    Ok(answer(served_note(&c), "text/plain; charset=utf-8", SHORT))
}

/// `GET /log/tile/<L>/<N>[.p/<W>]` and `GET /log/tile/entries/<N>[.p/<W>]`.
pub async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    settings(&state)?;
    let tile =
        TilePath::parse(&format!("tile/{path}")).map_err(|e| ApiError::not_found(e.to_string()))?;
    let (level, index, width) = match tile {
        TilePath::Hashes {
            level,
            index,
            width,
        } => (level, index, width),
        TilePath::Entries { index, width } => (0, index, width),
    };
    // Tiles are served up to the latest checkpoint's size: the trees the log signed.
    let mut size = match state.store.checkpoint(None).await? {
        Some(c) => c.size,
        None => 0,
    };
    if tile_width(level, index, size).is_none_or(|w| w < width) {
        size = latest(&state).await?.size;
    }
    if tile_width(level, index, size).is_none_or(|w| w < width) {
        return Err(ApiError::not_found(format!(
            "the log's tree of {size} leaves has no {}",
            tile.to_path()
        )));
    }
    let first = index * 256;
    let end = first + u64::from(width);
    let cache = if tile.is_partial() {
        PARTIAL
    } else {
        IMMUTABLE
    };
    let body: Vec<u8> = match tile {
        TilePath::Hashes { level: 0, .. } => {
            let leaves = state.store.log_leaves(first, end).await?;
            if leaves.len() as u64 != end - first {
                return Err(tlog::LogError::Inconsistent(format!(
                    "leaves {first}..{end} are not all stored"
                ))
                .into());
            }
            leaves.iter().flat_map(|l| l.hash).collect()
        }
        TilePath::Hashes { level, .. } => {
            let nodes = state.store.log_nodes(level, first, end).await?;
            if nodes.len() as u64 != end - first {
                return Err(tlog::LogError::Inconsistent(format!(
                    "tile hashes {first}..{end} of level {level} are not all stored"
                ))
                .into());
            }
            nodes.concat()
        }
        TilePath::Entries { .. } => {
            let entries = state.store.log_entries(first, end).await?;
            let leaves: Vec<Vec<u8>> = entries.iter().map(|e| e.leaf_bytes()).collect();
            entry_bundle(leaves.iter().map(Vec::as_slice))
                .map_err(|e| tlog::LogError::Inconsistent(format!("entries {first}..{end}: {e}")))?
        }
    };
    Ok(answer(body, "application/octet-stream", cache))
}

/// `POST /log/cosignature`: a witness's cosigned checkpoint (the checkpoint as served, with the
/// witness's `tlog-cosignature` line). The cosignatures of configured witnesses that verify are
/// kept and served with the checkpoint; the answer is the checkpoint as now served.
pub async fn cosignature(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let settings = settings(&state)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    match tlog::accept_cosignatures(&*state.store, settings, text).await {
        Ok(names) => {
            tracing::info!(witnesses = %names.join(","), "stored cosignatures");
            let size = hutong_log::SignedNote::parse(text)
                .ok()
                .and_then(|n| hutong_log::Checkpoint::parse_body(n.text()).ok())
                .map(|c| c.size);
            let c = state
                .store
                .checkpoint(size)
                .await?
                .ok_or_else(ApiError::internal)?;
            Ok(answer(
                served_note(&c),
                "text/plain; charset=utf-8",
                "no-store",
            ))
        }
        Err(CosignatureRefusal::Malformed(m)) => Err(ApiError::bad_request(format!(
            "not a cosigned checkpoint of this log: {m}"
        ))),
        Err(CosignatureRefusal::Unknown(size)) => Err(ApiError::not_found(format!(
            "the log signed no checkpoint of size {size}"
        ))),
        Err(CosignatureRefusal::NotOurs(size)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not-this-checkpoint",
            "Not the log's checkpoint",
            format!("the log signed another tree head for size {size}"),
        )),
        Err(CosignatureRefusal::Bad(m)) | Err(CosignatureRefusal::NoWitness(m)) => {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not-a-witness",
                "Cosignature refused",
                m,
            ))
        }
        Err(CosignatureRefusal::Store(e)) => Err(e.into()),
    }
}

/// Parameters of `GET /api/v1/log/inclusion`: `seq` or `index`, not both.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InclusionParams {
    /// The journal sequence number of the entry (a leaf: a change to a certificate, an issuer's
    /// rights or a key).
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    seq: Option<String>,
    /// The leaf index, from 0, instead of `seq`.
    #[param(pattern = "^(0|[1-9][0-9]{0,17})$")]
    index: Option<String>,
    /// The tree size to prove inclusion in; the latest checkpoint's when absent.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    tree_size: Option<String>,
}

/// Parameters of `GET /api/v1/log/consistency`.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ConsistencyParams {
    /// The smaller tree size, from 1.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    from: String,
    /// The larger tree size, at most the latest checkpoint's.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    to: String,
}

/// The inclusion proof of one entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionAnswer {
    /// The entry's journal sequence number.
    pub seq: u64,
    /// Its leaf index in the log.
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// `SHA-256(0x00 || leaf)`, base64: the leaf is the entry's canonical bytes (RFC 8785).
    pub leaf_hash: String,
    /// The leaf's bytes, base64: the RFC 8785 JSON of the entry's `seq`, `at`, `actor`,
    /// `subject`, `change` (its kind), `change_sha256` and `record_sha256`. No name or ID
    /// number: the change is committed to by its hash.
    pub leaf: String,
    /// The tree head of `tree_size` leaves, base64.
    pub root: String,
    /// The audit path (RFC 9162 §2.1.3), leaf level first, base64.
    pub proof: Vec<String>,
    /// The signed checkpoint of `tree_size` leaves with its cosignatures; null if the log
    /// signed none of that size.
    pub checkpoint: Option<String>,
}

impl From<tlog::Inclusion> for InclusionAnswer {
    fn from(i: tlog::Inclusion) -> InclusionAnswer {
        InclusionAnswer {
            seq: i.seq,
            leaf_index: i.leaf_index,
            tree_size: i.tree_size,
            leaf_hash: b64(&i.leaf_hash),
            leaf: b64(&i.leaf),
            root: b64(&i.root),
            proof: i.proof.iter().map(|h| b64(h)).collect(),
            checkpoint: i.checkpoint,
        }
    }
}

/// The consistency proof between two tree sizes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyAnswer {
    pub from: u64,
    pub to: u64,
    /// The tree heads of `from` and `to` leaves, base64 (a client checks them against the
    /// checkpoints it holds).
    pub from_root: String,
    pub to_root: String,
    /// The proof (RFC 9162 §2.1.4), base64.
    pub proof: Vec<String>,
    /// The signed checkpoint of `to` leaves with its cosignatures; null if none.
    pub checkpoint: Option<String>,
}

/// A number of the query: digits only, as its pattern says.
fn number(name: &str, v: &str, min: u64) -> Result<u64, ApiError> {
    let ok = !v.is_empty()
        && v.len() <= 18
        && v.bytes().all(|b| b.is_ascii_digit())
        && (v == "0" || !v.starts_with('0'));
    match v.parse::<u64>() {
        Ok(n) if ok && n >= min => Ok(n),
        _ => Err(ApiError::bad_request(format!(
            "{name} must be a whole number from {min}, of at most 18 digits"
        ))),
    }
}

/// The named parameters of a query, each at most once; others are ignored.
fn params<const N: usize>(
    query: Option<&str>,
    names: [&str; N],
) -> Result<[Option<String>; N], ApiError> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if let Some(i) = names.iter().position(|n| *n == k) {
            if out[i].is_some() {
                return Err(ApiError::bad_request(format!(
                    "the parameter {k} is given twice"
                )));
            }
            out[i] = Some(v.into_owned());
        }
    }
    Ok(out)
}

fn no_proof(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no-such-proof",
        "No such proof",
        detail,
    )
}

fn b64(h: &[u8]) -> String {
    B64.encode(h)
}

async fn note_of(state: &AppState, size: u64) -> Result<Option<String>, ApiError> {
    Ok(state
        .store
        .checkpoint(Some(size))
        .await?
        .map(|c| served_note(&c)))
}

/// The inclusion proof of a log entry, by journal sequence number or leaf index.
///
/// The proof is for the latest signed checkpoint, or for `tree_size` when given (a checkpoint a
/// client already trusts, such as one its witnesses cosigned). Verify it with RFC 9162
/// §2.1.3.2: the leaf hash, the index, the size and the proof give the root, which must be the
/// checkpoint's.
///
/// The answer, with the leaf's bytes, is also a credential's **log proof**: a credential names
/// its journal entry (`evidence` of type `JournalEntry`), and `hutong verify --log-proof`
/// checks offline that this leaf is that entry and is in the checkpoint's tree. Ask with
/// `tree_size` for a checkpoint that your witnesses have cosigned. No answer holds a name or
/// an ID number: the leaf commits to the change by its hash.
#[utoipa::path(
    get,
    path = "/api/v1/log/inclusion",
    tag = "log",
    params(InclusionParams),
    responses(
        (status = 200, description = "The proof, with the checkpoint it verifies against", body = InclusionAnswer),
        (status = 400, description = "A parameter is missing or malformed, or both `seq` and `index` are given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such leaf in that tree: the entry is not a leaf, or not yet in a signed checkpoint, or the size is beyond the log's; or this registry publishes no log", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn inclusion(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let [seq, index, tree_size] = params(query.as_deref(), ["seq", "index", "tree_size"])?;
    let seq = seq.map(|v| number("seq", &v, 1)).transpose()?;
    let index = index.map(|v| number("index", &v, 0)).transpose()?;
    let tree_size = tree_size.map(|v| number("tree_size", &v, 1)).transpose()?;
    match (seq, index) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("give seq or index, not both")),
        (None, None) => return Err(ApiError::bad_request("seq or index is required")),
        _ => {}
    }
    let latest = latest(&state).await?;
    let leaf = match (seq, index) {
        (Some(seq), _) => tlog::LeafRef::Seq(seq),
        (None, index) => tlog::LeafRef::Index(index.unwrap_or_default()),
    };
    let body = match tlog::inclusion(&*state.store, &latest, leaf, tree_size).await {
        Ok(i) => InclusionAnswer::from(i),
        Err(tlog::InclusionError::NoProof(m)) => return Err(no_proof(m)),
        Err(tlog::InclusionError::Log(e)) => return Err(e.into()),
    };
    Ok(json(&body))
}

/// The consistency proof between two tree sizes of the log.
///
/// Verify it with RFC 9162 §2.1.4.2 against the roots of checkpoints you hold: a log whose tree
/// of `to` leaves does not extend its tree of `from` leaves cannot produce one.
#[utoipa::path(
    get,
    path = "/api/v1/log/consistency",
    tag = "log",
    params(ConsistencyParams),
    responses(
        (status = 200, description = "The proof", body = ConsistencyAnswer),
        (status = 400, description = "A parameter is missing or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proof: `to` is beyond the latest checkpoint, or smaller than `from`; or this registry publishes no log", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn consistency(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let [from, to] = params(query.as_deref(), ["from", "to"])?;
    let from = number("from", from.as_deref().unwrap_or(""), 1)?;
    let to = number("to", to.as_deref().unwrap_or(""), 1)?;
    let latest = latest(&state).await?;
    if to > latest.size {
        return Err(no_proof(format!(
            "the log's latest checkpoint is of {} leaves, not {to}",
            latest.size
        )));
    }
    if from > to {
        return Err(no_proof(format!(
            "there is no consistency proof from {from} leaves to the smaller tree of {to}"
        )));
    }
    let proof = tlog::consistency_proof(&*state.store, from, to).await?;
    let body = ConsistencyAnswer {
        from,
        to,
        from_root: b64(&tlog::root(&*state.store, from).await?),
        to_root: b64(&tlog::root(&*state.store, to).await?),
        proof: proof.iter().map(|h| b64(h)).collect(),
        checkpoint: note_of(&state, to).await?,
    };
    Ok(json(&body))
}

fn json<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => answer(bytes, "application/json", SHORT),
        Err(e) => {
            tracing::error!(error = %e, "could not encode an answer");
            ApiError::internal().into_response()
        }
    }
}
