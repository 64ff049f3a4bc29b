//! The service through its router, without a socket, once per storage backend: SQLite always,
//! PostgreSQL when `HUTONG_TEST_POSTGRES_URL` is set (each test on a fresh database).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use hutong_core::Policy;
use hutong_server::{AppState, Settings, app};
use hutong_store::Store;
use hutong_store_postgres::testing::TestDatabase;
use hutong_store_sqlite::SqliteStore;

/// What keeps a backend's data alive for one test (a temporary folder, a test database); the
/// data goes when it is dropped.
type Keep = Box<dyn std::any::Any>;

/// The backends to run a test on: a fresh, empty store of each, with what keeps it alive.
async fn stores(test: &str) -> Vec<(Arc<dyn Store>, Keep)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    let mut out: Vec<(Arc<dyn Store>, Keep)> = vec![(sqlite, Box::new(dir))];
    if let Some(db) = TestDatabase::create(test).await {
        let pg: Arc<dyn Store> = Arc::new(db.open().await);
        out.push((pg, Box::new(db)));
    }
    out
}

fn policy() -> Arc<Policy> {
    let policy_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    Arc::new(Policy::load_dir(&policy_dir).unwrap())
}

/// Runs `check` on a fresh demo-mode service over each backend in turn. The backend's name is
/// printed first, so a failure says which one failed.
async fn each_backend<F, Fut>(test: &str, check: F)
where
    F: Fn(AppState) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for (store, _keep) in stores(test).await {
        eprintln!("{test}: on {}", store.backend());
        let state = AppState::new(
            store,
            policy(),
            Settings {
                demo: true,
                ..Settings::default()
            },
        );
        check(state).await;
    }
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, String, String) {
    let resp = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body =
        String::from_utf8(to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    (status, ctype, body)
}

#[tokio::test]
async fn health_reports_backend_and_policy() {
    each_backend("health_reports_backend_and_policy", |s| async move {
        let (status, ctype, body) = get(&s, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert!(ctype.starts_with("application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["backend"], s.store.backend());
        assert_eq!(v["policy"], s.policy().digest);
    })
    .await;
}

#[tokio::test]
async fn the_backends_under_test_are_the_expected_ones() {
    let names: Vec<&str> = stores("the_backends_under_test_are_the_expected_ones")
        .await
        .iter()
        .map(|(s, _)| s.backend())
        .collect();
    let want: &[&str] = if std::env::var_os("HUTONG_TEST_POSTGRES_URL").is_some() {
        &["sqlite", "postgres"]
    } else {
        &["sqlite"]
    };
    assert_eq!(names, want);
}

#[tokio::test]
async fn the_home_page_says_what_the_service_is_in_both_languages() {
    each_backend(
        "the_home_page_says_what_the_service_is_in_both_languages",
        |s| async move {
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
        },
    )
    .await;
}

#[tokio::test]
async fn metrics_are_by_route_template_and_never_carry_query_strings() {
    each_backend(
        "metrics_are_by_route_template_and_never_carry_query_strings",
        |s| async move {
            get(&s, "/healthz?name=%E5%BC%A0%E4%B8%89").await;
            get(&s, "/no/such/page?id=11010519491231002X").await;
            let (status, ctype, body) = get(&s, "/metrics").await;
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
        },
    )
    .await;
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    each_backend("unknown_pages_are_404_pages", |s| async move {
        let (status, _, body) = get(&s, "/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("页面不存在"));
    })
    .await;
}
