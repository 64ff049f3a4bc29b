//! The service through its router, without a socket. Topic modules are in `tests/http/`.
//!
//! Behaviour tests run once per storage backend ([`states`]): SQLite always, PostgreSQL when
//! `HUTONG_TEST_POSTGRES_URL` is set (each test on a fresh database, dropped afterwards).
//!
//! Every response a test receives through [`send`] is scanned for the resident ID numbers of the
//! fixture (`fixture::IDS`): no answer may ever contain one.

mod browser;
mod browser_advice;
mod credentials;
mod exam;
mod feed;
mod fixture;
mod json_answers;
mod limits;
mod log;
mod log_proofs;
mod lookups;
mod openapi_doc;
mod oversight;
mod pages;
mod print;
mod recognition;
mod regression_advice;
mod regression_api;
mod regression_input;
mod regression_net;
mod regression_pages;
mod regression_recognition;
mod shares;
mod verdict;
mod watch;
mod webdriver;
mod writes;

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use hutong_core::{HolderSecret, Policy};
use hutong_server::{AppState, Settings, app};
use hutong_store::Store;
use hutong_store_postgres::testing::TestDatabase;
use hutong_store_sqlite::SqliteStore;

pub fn policy() -> Arc<Policy> {
    let policy_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    Arc::new(Policy::load_dir(&policy_dir).unwrap())
}

pub fn secret() -> HolderSecret {
    HolderSecret::from_bytes([7; 32])
}

pub async fn state_with(mut settings: Settings) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    // Signing keys (made on first use) go to the test's folder, never into the source tree.
    if settings.keys_dir == Settings::default().keys_dir {
        settings.keys_dir = dir.path().join("keys");
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    (AppState::new(store, policy(), secret(), settings), dir)
}

/// What keeps a backend's data alive for one test (a temporary folder, a test database); the
/// data goes when it is dropped.
pub type Keep = Box<dyn std::any::Any>;

/// A fresh service over each backend in turn, with `settings`. `test` names the test, so that
/// its PostgreSQL database is recognisable.
pub async fn states_with(settings: Settings, test: &str) -> Vec<(AppState, Keep)> {
    let (sqlite, dir) = state_with(settings.clone()).await;
    let mut out: Vec<(AppState, Keep)> = vec![(sqlite, Box::new(dir))];
    if let Some(db) = TestDatabase::create(&test.replace("::", "_")).await {
        let pg: Arc<dyn Store> = Arc::new(db.open().await);
        let mut settings = settings;
        let keys = tempfile::tempdir().unwrap();
        if settings.keys_dir == Settings::default().keys_dir {
            settings.keys_dir = keys.path().join("keys");
        }
        out.push((
            AppState::new(pg, policy(), secret(), settings),
            Box::new((db, keys)),
        ));
    }
    out
}

/// A demo-mode service on SQLite only, for tests about pages rather than storage.
async fn state() -> (AppState, tempfile::TempDir) {
    state_with(Settings {
        demo: true,
        ..Settings::default()
    })
    .await
}

/// [`states_with`] in demo mode.
pub async fn states(test: &str) -> Vec<(AppState, Keep)> {
    states_with(
        Settings {
            demo: true,
            ..Settings::default()
        },
        test,
    )
    .await
}

/// A response: status, content type, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub ctype: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// Sends a request through the router and checks that the answer carries no ID number.
pub async fn send(state: &AppState, req: Request<Body>) -> Answer {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let ctype = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body =
        String::from_utf8(to_bytes(resp.into_body(), 1 << 26).await.unwrap().to_vec()).unwrap();
    assert_no_id_number("a response", &body);
    Answer {
        status,
        ctype,
        headers,
        body,
    }
}

/// Fails when `text` carries one of the fixture's ID numbers (`fixture::IDS`), in either case.
pub fn assert_no_id_number(what: &str, text: &str) {
    for id in fixture::IDS.iter() {
        assert!(
            !text.contains(id.as_str()) && !text.contains(&id.to_lowercase()),
            "{what} carries an ID number: {text}"
        );
    }
}

/// The metrics, from their own router ([`hutong_server::metrics_app`]).
pub async fn metrics(state: &AppState) -> (StatusCode, String, String) {
    let resp = hutong_server::metrics_app(state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body =
        String::from_utf8(to_bytes(resp.into_body(), 1 << 26).await.unwrap().to_vec()).unwrap();
    (status, ctype, body)
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, String, String) {
    let a = send(state, Request::get(uri).body(Body::empty()).unwrap()).await;
    (a.status, a.ctype, a.body)
}

/// The policy digest, as the loader defines it: SHA-256 over each `policy/*.toml` in name order, as the file
/// name, a zero byte, the text and a zero byte; the first 16 bytes in hex. Computed here from
/// the files, not taken from the loaded policy, so that the health answer can be wrong.
fn policy_digest_of_the_files() -> String {
    use sha2::{Digest, Sha256};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        h.update(f.file_name().unwrap().to_str().unwrap().as_bytes());
        h.update([0]);
        h.update(std::fs::read(f).unwrap());
        h.update([0]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn health_reports_backend_and_policy() {
    let expected = policy_digest_of_the_files();
    assert_eq!(expected.len(), 32);
    for (s, _keep) in states("health").await {
        let (status, ctype, body) = get(&s, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert!(ctype.starts_with("application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["backend"], s.store.backend());
        assert_eq!(v["policy"], expected.as_str());
        // The registry count, once taken (the benchmark waits for it).
        assert!(v["certificates"].is_null(), "{body}");
        s.refresh_stats().await;
        let (_, _, body) = get(&s, "/healthz").await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["certificates"], 0, "{body}");
    }
}

#[tokio::test]
async fn the_backends_under_test_are_the_expected_ones() {
    let names: Vec<&str> = states("backends")
        .await
        .iter()
        .map(|(s, _)| s.store.backend())
        .collect();
    if std::env::var_os("HUTONG_TEST_POSTGRES_URL").is_some() {
        assert_eq!(names, ["sqlite", "postgres"]);
    } else {
        assert_eq!(names, ["sqlite"]);
    }
}

#[tokio::test]
async fn the_home_page_says_what_the_service_is_in_both_languages() {
    for (s, _keep) in states("home").await {
        s.refresh_stats().await;
        let (status, ctype, body) = get(&s, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(ctype.starts_with("text/html"));
        assert!(body.contains("一网通查"), "{body}");
        assert!(body.contains("演示数据"), "the demo banner shows");
        assert!(body.contains("href=\"/?lang=en\""));
        let (_, _, en) = get(&s, "/?lang=en").await;
        assert!(en.contains("One place to check vocational skill certificates"));
        assert!(en.contains("lang=\"en\""));
    }
}

#[tokio::test]
async fn metrics_are_by_route_template_and_never_carry_query_strings() {
    for (s, _keep) in states("metrics").await {
        get(&s, "/healthz?name=%E5%BC%A0%E4%B8%89").await;
        get(&s, "/no/such/page?id=11010519491231002X").await;
        let (status, ctype, body) = metrics(&s).await;
        assert_eq!(status, StatusCode::OK);
        assert!(ctype.starts_with("text/plain; version=0.0.4"));
        assert!(
            body.contains("hutong_http_requests_total{route=\"/healthz\",status=\"2xx\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("hutong_http_requests_total{route=\"unmatched\",status=\"4xx\"} 1"),
            "{body}"
        );
        assert!(!body.contains("11010519491231002X") && !body.contains("name="));
        // Not on the public router: they have their own listener.
        assert_eq!(get(&s, "/metrics").await.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    let (s, _d) = state_with(Settings::default()).await;
    let (status, _, body) = get(&s, "/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("页面不存在"));
}
