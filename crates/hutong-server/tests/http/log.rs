//! The transparency log over HTTP: checkpoints, proofs that verify with hutong-log's verifiers,
//! C2SP tiles and entry bundles that reproduce the root, cosignatures, and the sequencer's
//! resumption, on every backend under test.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use tower::ServiceExt;

use hutong_log::tile::{TilePath, TileSource, parse_entry_bundle, tile_hashes, tile_width};
use hutong_log::{
    Checkpoint, Cosigner, Frontier, Hash, NoteSigner, SignedNote, leaf_hash, tree_head,
    verify_consistency, verify_inclusion,
};
use hutong_server::tlog::{self, Log, served_note};
use hutong_server::{AppState, LogSettings, Settings, app};
use hutong_store::conformance::sample_certificate;
use hutong_store::{InsertMode, Store};

use crate::fixture;
use crate::{Keep, states_with};

const ORIGIN: &str = "hutong.example/log";

fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[11; 32])).unwrap()
}

fn witness(n: u8) -> Cosigner {
    Cosigner::new(
        &format!("witness{n}.example"),
        SigningKey::from_bytes(&[n; 32]),
    )
    .unwrap()
}

fn log_settings() -> Settings {
    Settings {
        log: Some(LogSettings::new(log_signer(), vec![witness(1).verifier()])),
        ..Settings::default()
    }
}

async fn log_states(test: &str) -> Vec<(AppState, Keep)> {
    states_with(log_settings(), test).await
}

struct Raw {
    status: StatusCode,
    ctype: String,
    cache: String,
    body: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
}

/// Sends a request; no answer (text or bytes) may carry an ID number of the fixture.
async fn call(s: &AppState, req: Request<Body>) -> Raw {
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let h = resp.headers().clone();
    let header = |n: &str| {
        h.get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let body = to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&body);
    for id in fixture::IDS.iter() {
        assert!(
            !text.contains(id.as_str()),
            "an answer carries an ID number"
        );
    }
    Raw {
        status,
        ctype: header("content-type"),
        cache: header("cache-control"),
        body,
    }
}

async fn get(s: &AppState, uri: &str) -> Raw {
    call(s, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// The served checkpoint, opened with the log's key.
async fn checkpoint(s: &AppState) -> (Checkpoint, SignedNote) {
    let r = get(s, "/log/checkpoint").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    Checkpoint::open(&r.text(), ORIGIN, &log_signer().verifier()).unwrap()
}

fn hash(b64: &Value) -> Vec<u8> {
    B64.decode(b64.as_str().unwrap_or_else(|| panic!("not base64: {b64}")))
        .unwrap()
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap_or_else(|| panic!("no proof: {v}"))
        .iter()
        .map(hash)
        .collect()
}

/// The leaves as the journal says they are.
async fn journal_leaves(s: &dyn Store) -> Vec<(u64, Hash)> {
    s.journal(0, 1_000_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.is_log_leaf())
        .map(|e| (e.seq, leaf_hash(&e.leaf_bytes())))
        .collect()
}

#[tokio::test]
async fn every_leaf_has_an_inclusion_proof_that_verifies_against_the_served_checkpoint() {
    for (s, _keep) in log_states("log_inclusion").await {
        fixture::fill(&s).await;
        // A token entry: in the journal, not in the log.
        let token = hutong_core::token::TokenRecord::create(
            hutong_core::rights::Actor::Regulator {
                department: "mohrss".into(),
                region: None,
            },
            None,
            hutong_core::journal::now_micros(),
            None,
        )
        .1;
        let t = s
            .store
            .create_token(&token, &token.created_change(), "test", 1)
            .await
            .unwrap();
        let (cp, _) = checkpoint(&s).await;
        let leaves = journal_leaves(&*s.store).await;
        assert_eq!(cp.size, leaves.len() as u64, "4 issuers and 6 certificates");
        assert_eq!(cp.size, 10);
        for (i, (seq, h)) in leaves.iter().enumerate() {
            for uri in [
                format!("/api/v1/log/inclusion?seq={seq}"),
                format!("/api/v1/log/inclusion?index={i}&tree_size={}", cp.size),
            ] {
                let r = get(&s, &uri).await;
                assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
                assert_eq!(r.ctype, "application/json");
                let v = r.json();
                assert_eq!(v["leaf_index"], i as u64);
                assert_eq!(v["seq"], *seq);
                assert_eq!(hash(&v["leaf_hash"]), h.to_vec());
                verify_inclusion(i as u64, cp.size, h, &proof(&v["proof"]), &cp.root)
                    .unwrap_or_else(|e| panic!("{uri}: {e}"));
                // The answer's checkpoint is the served one.
                let (c, _) = Checkpoint::open(
                    v["checkpoint"].as_str().unwrap(),
                    ORIGIN,
                    &log_signer().verifier(),
                )
                .unwrap();
                assert_eq!(c, cp);
            }
        }
        // In a smaller tree too.
        let (seq, h) = leaves[2];
        let v = get(&s, &format!("/api/v1/log/inclusion?seq={seq}&tree_size=3"))
            .await
            .json();
        let root3 = tree_head(&leaves.iter().map(|l| l.1).collect::<Vec<_>>(), 3).unwrap();
        verify_inclusion(2, 3, &h, &proof(&v["proof"]), &root3).unwrap();
        assert_eq!(hash(&v["root"]), root3.to_vec());
        // Not a leaf, not in that tree, not in the log, malformed.
        for (uri, status) in [
            (
                format!("/api/v1/log/inclusion?seq={}", t.seq),
                StatusCode::NOT_FOUND,
            ),
            (
                format!("/api/v1/log/inclusion?seq={seq}&tree_size=2"),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/log/inclusion?index=10".into(),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/log/inclusion?index=0&tree_size=11".into(),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/log/inclusion?seq=1&index=0".into(),
                StatusCode::BAD_REQUEST,
            ),
            ("/api/v1/log/inclusion".into(), StatusCode::BAD_REQUEST),
            (
                "/api/v1/log/inclusion?seq=0".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/inclusion?seq=01".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/inclusion?seq=1&seq=2".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/inclusion?index=x".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/inclusion?index=1234567890123456789".into(),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let r = get(&s, &uri).await;
            assert_eq!(r.status, status, "{uri}: {}", r.text());
            assert_eq!(r.ctype, "application/problem+json", "{uri}");
        }
    }
}

#[tokio::test]
async fn consistency_proofs_between_two_checkpoints_verify() {
    for (s, _keep) in log_states("log_consistency").await {
        fixture::fill(&s).await;
        let (old, _) = checkpoint(&s).await;
        let more: Vec<_> = (0..5)
            .map(|i| sample_certificate(&format!("LOG-{i}"), i as u8 + 20))
            .collect();
        hutong_store::write::issue(&*s.store, &more, "test", InsertMode::Each)
            .await
            .unwrap();
        let (new, _) = checkpoint(&s).await;
        assert_eq!(new.size, old.size + 5);
        let uri = format!("/api/v1/log/consistency?from={}&to={}", old.size, new.size);
        let v = get(&s, &uri).await.json();
        assert!(v["proof"].is_array(), "{v}");
        verify_consistency(
            old.size,
            new.size,
            &proof(&v["proof"]),
            &old.root,
            &new.root,
        )
        .unwrap();
        assert_eq!(hash(&v["from_root"]), old.root.to_vec());
        assert_eq!(hash(&v["to_root"]), new.root.to_vec());
        // Pairs of sizes on either side of powers of two (all pairs would pass the page rate
        // limit), against the roots the journal gives.
        let hashes: Vec<Hash> = journal_leaves(&*s.store)
            .await
            .iter()
            .map(|l| l.1)
            .collect();
        assert_eq!(new.size, 15);
        for to in [1, 2, 3, 4, 7, 8, 9, 15] {
            let root2 = tree_head(&hashes, to).unwrap();
            for from in [1, 2, 3, 4, 5, 7, 8, 9, 15]
                .into_iter()
                .filter(|f| *f <= to)
            {
                let v = get(&s, &format!("/api/v1/log/consistency?from={from}&to={to}"))
                    .await
                    .json();
                let root1 = tree_head(&hashes, from).unwrap();
                verify_consistency(from, to, &proof(&v["proof"]), &root1, &root2)
                    .unwrap_or_else(|e| panic!("{from}..{to}: {e}"));
            }
        }
        // A proof from the newer tree's root to another tree does not verify.
        let v = get(
            &s,
            &format!("/api/v1/log/consistency?from=3&to={}", new.size),
        )
        .await
        .json();
        assert!(
            verify_consistency(3, new.size, &proof(&v["proof"]), &old.root, &new.root).is_err()
        );
        for (uri, status) in [
            (
                format!("/api/v1/log/consistency?from=1&to={}", new.size + 1),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/log/consistency?from=5&to=3".into(),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/v1/log/consistency?from=0&to=3".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/consistency?to=3".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/log/consistency?from=1&to=+3".into(),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let r = get(&s, &uri).await;
            assert_eq!(r.status, status, "{uri}: {}", r.text());
        }
    }
}

/// Every tile a tree of `size` leaves has, fetched over HTTP.
async fn all_tiles(s: &AppState, size: u64) -> HashMap<(u8, u64), Vec<Hash>> {
    let mut out = HashMap::new();
    for level in 0..4u8 {
        let mut n = 0;
        while let Some(w) = tile_width(level, n, size) {
            let path = TilePath::Hashes {
                level,
                index: n,
                width: w,
            }
            .to_path();
            let r = get(s, &format!("/log/{path}")).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert_eq!(r.ctype, "application/octet-stream");
            let want = if w == 256 {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=60"
            };
            assert_eq!(r.cache, want, "{path}");
            out.insert((level, n), tile_hashes(&r.body).unwrap());
            n += 1;
        }
    }
    out
}

#[tokio::test]
async fn tiles_and_entry_bundles_reproduce_the_checkpoint() {
    for (s, _keep) in log_states("log_tiles").await {
        fixture::fill(&s).await;
        // Over 256 leaves: a full tile and a partial one at level 0, a partial one at level 1.
        let certs: Vec<_> = (0..300)
            .map(|i| sample_certificate(&format!("TILE-{i:03}"), (i % 200) as u8))
            .collect();
        hutong_store::write::issue(&*s.store, &certs, "test", InsertMode::Each)
            .await
            .unwrap();
        let r = get(&s, "/log/checkpoint").await;
        assert_eq!(r.ctype, "text/plain; charset=utf-8");
        assert_eq!(r.cache, "public, max-age=5");
        let (cp, _) = checkpoint(&s).await;
        assert_eq!(cp.size, 310);
        let tiles = all_tiles(&s, cp.size).await;
        assert_eq!(
            tiles.len(),
            3,
            "tile/0/000, tile/0/001.p/54, tile/1/000.p/1"
        );
        let src = TileSource::new(cp.size, |l, n, w| {
            let t = &tiles[&(l, n)];
            assert_eq!(t.len(), usize::from(w));
            Ok(t.clone())
        });
        assert_eq!(tree_head(&src, cp.size).unwrap(), cp.root);
        // The entries hash to the level-0 tiles, and are the journal's leaves.
        let journal = journal_leaves(&*s.store).await;
        let mut from_bundles = Vec::new();
        for (n, w) in [(0u64, 256u16), (1, 54)] {
            let path = TilePath::Entries { index: n, width: w }.to_path();
            let r = get(&s, &format!("/log/{path}")).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            for e in parse_entry_bundle(&r.body).unwrap() {
                let text = std::str::from_utf8(e).unwrap();
                assert!(text.starts_with("{\"actor\":"), "{text}");
                // The log is public: a leaf commits to its change by hash, and never carries
                // the holder's name that an `issued` change holds.
                assert!(
                    !text.contains("张小明") && !text.contains("holder_name"),
                    "a public leaf carries personal data: {text}"
                );
                assert!(text.contains("\"change_sha256\":"), "{text}");
                from_bundles.push(leaf_hash(e));
            }
        }
        let level0: Vec<Hash> = [&tiles[&(0, 0)], &tiles[&(0, 1)]]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        assert_eq!(from_bundles, level0);
        assert_eq!(level0, journal.iter().map(|l| l.1).collect::<Vec<_>>());
        // A prefix of a partial tile is served; what the tree does not have is not.
        assert_eq!(get(&s, "/log/tile/0/001.p/10").await.body.len(), 320);
        for path in [
            "/log/tile/0/001",
            "/log/tile/0/002.p/1",
            "/log/tile/0/001.p/55",
            "/log/tile/1/000",
            "/log/tile/2/000.p/1",
            "/log/tile/entries/001",
            "/log/tile/0/01",
            "/log/tile/00/000",
            "/log/tile/x/000",
            "/log/tile/0/x000/000",
        ] {
            assert_eq!(get(&s, path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
    }
}

#[tokio::test]
async fn witnesses_cosign_and_the_checkpoint_is_served_with_their_cosignatures() {
    for (s, _keep) in log_states("log_cosign").await {
        fixture::fill(&s).await;
        let r = get(&s, "/log/checkpoint").await;
        let note = SignedNote::parse(&r.text()).unwrap();
        let post = |body: String| {
            let s = s.clone();
            async move {
                call(
                    &s,
                    Request::post("/log/cosignature")
                        .header("content-type", "text/plain")
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
            }
        };
        let mut cosigned = note.clone();
        cosigned
            .add_signature(witness(1).cosign(&note, 1_800_000_000).unwrap())
            .unwrap();
        let r = post(cosigned.to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let served = SignedNote::parse(&get(&s, "/log/checkpoint").await.text()).unwrap();
        assert_eq!(served, cosigned);
        assert_eq!(
            witness(1).verifier().verify(&served).unwrap(),
            1_800_000_000
        );
        log_signer().verifier().verify(&served).unwrap();
        // Cosigning again replaces the witness's line.
        let mut again = note.clone();
        again
            .add_signature(witness(1).cosign(&note, 1_800_000_100).unwrap())
            .unwrap();
        assert_eq!(post(again.to_string()).await.status, StatusCode::OK);
        let served = SignedNote::parse(&get(&s, "/log/checkpoint").await.text()).unwrap();
        assert_eq!(served.signatures().len(), 2);
        assert_eq!(
            witness(1).verifier().verify(&served).unwrap(),
            1_800_000_100
        );

        // A witness the log does not know, a forged cosignature, another tree head, garbage.
        let mut stranger = note.clone();
        stranger
            .add_signature(witness(2).cosign(&note, 1_800_000_000).unwrap())
            .unwrap();
        assert_eq!(
            post(stranger.to_string()).await.status,
            StatusCode::FORBIDDEN
        );
        let mut forged = note.clone();
        let mut line = witness(1).cosign(&note, 1_800_000_000).unwrap();
        line.signature[20] ^= 1;
        forged.add_signature(line).unwrap();
        assert_eq!(post(forged.to_string()).await.status, StatusCode::FORBIDDEN);
        let other = Checkpoint::new(ORIGIN, 10, [1; 32])
            .unwrap()
            .sign(&log_signer())
            .unwrap();
        let mut other_cosigned = other.clone();
        other_cosigned
            .add_signature(witness(1).cosign(&other, 1).unwrap())
            .unwrap();
        assert_eq!(
            post(other_cosigned.to_string()).await.status,
            StatusCode::CONFLICT
        );
        let unknown = Checkpoint::new(ORIGIN, 99, [1; 32])
            .unwrap()
            .sign(&log_signer())
            .unwrap();
        assert_eq!(
            post(unknown.to_string()).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            post("not a note".into()).await.status,
            StatusCode::BAD_REQUEST
        );
        let served = SignedNote::parse(&get(&s, "/log/checkpoint").await.text()).unwrap();
        assert_eq!(served.signatures().len(), 2, "nothing refused was kept");
    }
}

#[tokio::test]
async fn a_registry_without_a_log_key_serves_no_log() {
    let (s, _keep) = crate::state_with(Settings::default()).await;
    for uri in [
        "/log/checkpoint",
        "/log/tile/0/000",
        "/api/v1/log/inclusion?seq=1",
        "/api/v1/log/consistency?from=1&to=1",
    ] {
        assert_eq!(get(&s, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

/// The sequencer resumes from what is stored: steps cut short anywhere, and two sequencers on
/// one database, leave exactly the journal's leaves, each once, in order.
#[tokio::test]
async fn sequencing_resumes_and_never_misses_or_repeats_an_entry() {
    for (s, _keep) in log_states("log_sequencer").await {
        let store: Arc<dyn Store> = s.store.clone();
        fixture::fill(&s).await;
        // Small batches, a fresh frontier every time (a restarted process).
        let mut fresh = None;
        let head = tlog::sequence(&*store, &mut fresh, 3).await.unwrap();
        assert_eq!(head.size, 10);
        // More entries, then two sequencers at once, as two servers would.
        let more: Vec<_> = (0..40)
            .map(|i| sample_certificate(&format!("SEQ-{i}"), i as u8 + 50))
            .collect();
        hutong_store::write::issue(&*store, &more[..20], "test", InsertMode::Each)
            .await
            .unwrap();
        let (a, b) = (Log::new(log_settings().log), Log::new(log_settings().log));
        let (ra, rb) = tokio::join!(a.sync(&*store), b.sync(&*store));
        let (ca, cb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
        assert_eq!(ca.note, cb.note, "the same key signs the same tree head");
        hutong_store::write::issue(&*store, &more[20..], "test", InsertMode::Each)
            .await
            .unwrap();
        let mut kept = None;
        tlog::sequence(&*store, &mut kept, 7).await.unwrap();
        let stored: Vec<(u64, Hash)> = store
            .log_leaves(0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|l| (l.seq, l.hash))
            .collect();
        assert_eq!(stored, journal_leaves(&*store).await);
        // The stored tile hashes and frontier agree with the leaves.
        let hashes: Vec<Hash> = stored.iter().map(|l| l.1).collect();
        let f = tlog::load_frontier(&*store, hashes.len() as u64)
            .await
            .unwrap();
        assert_eq!(f.root(), tree_head(&hashes, hashes.len() as u64).unwrap());
        let mut again = Frontier::new();
        for h in &hashes {
            again.push(*h);
        }
        assert_eq!(f, again);
        // A checkpoint missed by a crash after the append is signed by the next sync.
        let c = s.log.sync(&*store).await.unwrap().unwrap();
        assert_eq!(c.size, hashes.len() as u64);
        assert_eq!(tlog::root(&*store, c.size).await.unwrap(), again.root());
    }
}

/// Sequencing and proofs at a million leaves, on SQLite (slow; run with `--ignored`): the
/// figures of docs/transparency-log.md. Prints the rates; asserts only that the proofs verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: a million journal entries; run with --ignored"]
async fn a_million_leaves_are_sequenced_and_proven() {
    use std::time::Instant;
    let n: u64 = std::env::var("HUTONG_LOG_LEAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (s, _keep) = crate::state_with(log_settings()).await;
    // Issued entries as an import makes them: the certificate's canonical record in the change.
    let c = sample_certificate("T11010519491231002X", 1);
    let change = hutong_core::journal::CertChange::Issued
        .to_json(Some(&hutong_core::journal::certificate_canonical(&c)));
    let t = Instant::now();
    for start in (0..n).step_by(10_000) {
        let batch: Vec<_> = (start..(start + 10_000).min(n))
            .map(|i| {
                (
                    hutong_core::journal::Subject::Certificate(i as i64 + 1),
                    change.clone(),
                )
            })
            .collect();
        s.store
            .journal_only(&batch, "import", 1_780_000_000_000_000)
            .await
            .unwrap();
    }
    eprintln!(
        "journal of {n} entries written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let c = s.log.sync(&*s.store).await.unwrap().unwrap();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "sequenced {} leaves in {secs:.1} s: {:.0} leaves/s (leaf bytes {} each)",
        c.size,
        c.size as f64 / secs,
        s.store.log_entries(0, 1).await.unwrap()[0]
            .leaf_bytes()
            .len()
    );
    assert_eq!(c.size, n);
    let (cp, _) = Checkpoint::open(&served_note(&c), ORIGIN, &log_signer().verifier()).unwrap();
    // Inclusion proofs from the stored tile hashes.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut times = Vec::new();
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = x % n;
        let t = Instant::now();
        let p = tlog::inclusion_proof(&*s.store, i, n).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        let leaf = s.store.log_leaves(i, i + 1).await.unwrap()[0].hash;
        verify_inclusion(i, n, &leaf, &p, &cp.root).unwrap();
    }
    times.sort_by(f64::total_cmp);
    eprintln!(
        "inclusion proof at {n} leaves from tile hashes: median {:.2} ms, p99 {:.2} ms",
        times[100], times[197]
    );
    let t = Instant::now();
    for m in [1, 1000, n / 3, n - 1] {
        let p = tlog::consistency_proof(&*s.store, m, n).await.unwrap();
        let r = tlog::root(&*s.store, m).await.unwrap();
        verify_consistency(m, n, &p, &r, &cp.root).unwrap();
    }
    eprintln!(
        "consistency proof and old root at {n} leaves: {:.2} ms each",
        t.elapsed().as_secs_f64() * 1e3 / 4.0
    );
    let middle = TilePath::Hashes {
        level: 0,
        index: n / 512,
        width: 256,
    }
    .to_path();
    let t = Instant::now();
    let r = get(&s, &format!("/log/{middle}")).await;
    assert_eq!(r.body.len(), 8192);
    eprintln!(
        "a full level-0 tile over HTTP: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    // The alternative: the proof from the leaf hashes alone, as hutong-log computes it.
    let t = Instant::now();
    let all: Vec<Hash> = s
        .store
        .log_leaves(0, n)
        .await
        .unwrap()
        .iter()
        .map(|l| l.hash)
        .collect();
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let p = hutong_log::inclusion_proof(&all, n / 2, n).unwrap();
    let computed = t.elapsed().as_secs_f64();
    verify_inclusion(n / 2, n, &all[(n / 2) as usize], &p, &cp.root).unwrap();
    eprintln!(
        "without tile hashes: reading {n} leaf hashes {:.0} ms, then one proof {:.0} ms",
        read * 1e3,
        computed * 1e3
    );
}
