//! Abuse resistance: per-client rate limits, size limits, and logs without personal data.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::fixture::{self, verify_uri};
use super::{get, send, states, states_with};
use hutong_server::Settings;
use hutong_server::ratelimit::{RateLimitSettings, parse_sha256_hex, token_sha256_hex};

#[tokio::test]
async fn lookups_over_the_limit_get_429_with_retry_after_unless_exempt() {
    let token = "an-employer-integration";
    for (s, _keep) in states_with(
        Settings {
            rate_limits: RateLimitSettings {
                lookups_per_minute: 1,
                lookup_burst: 2,
                exempt_token_sha256: vec![parse_sha256_hex(&token_sha256_hex(token)).unwrap()],
                ..RateLimitSettings::default()
            },
            ..Settings::default()
        },
        "limits::lookups_over_the_limit_get_429_with_retry_after_unless_exempt",
    )
    .await
    {
        eprintln!(
            "lookups_over_the_limit_get_429_with_retry_after_unless_exempt: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let uri = verify_uri(&f.valid);
        assert_eq!(get(&s, &uri).await.0, StatusCode::OK);
        assert_eq!(get(&s, &uri).await.0, StatusCode::OK);
        let a = send(&s, Request::get(&uri).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(a.ctype, "application/problem+json");
        let wait: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        // The pages of lookups share the limit; other pages have their own.
        assert_eq!(
            get(&s, "/verify/result?number=x&name=y").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(get(&s, "/directory").await.0, StatusCode::OK);
        // The exempt token passes.
        let ok = send(
            &s,
            Request::get(&uri)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
        let (_, _, metrics) = super::metrics(&s).await;
        assert!(metrics.contains("hutong_rate_limited_total 2"), "{metrics}");
    }
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    for (s, _keep) in states("limits::oversized_requests_are_refused").await {
        eprintln!("oversized_requests_are_refused: on {}", s.store.backend());
        let long = format!("/api/v1/verify?number=1&name={}", "x".repeat(3000));
        let a = send(&s, Request::get(&long).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::URI_TOO_LONG);
        assert_eq!(a.ctype, "application/problem+json");
        let big = send(
            &s,
            Request::post("/holder/result")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("id=1&name={}", "x".repeat(64 * 1024))))
                .unwrap(),
        )
        .await;
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.body);
    }
}

#[tokio::test]
async fn metrics_name_lookup_routes_by_template_only() {
    for (s, _keep) in states("limits::metrics_name_lookup_routes_by_template_only").await {
        eprintln!(
            "metrics_name_lookup_routes_by_template_only: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        get(&s, &verify_uri(&f.valid)).await;
        let (_, _, m) = super::metrics(&s).await;
        assert!(m.contains("route=\"/api/v1/verify\",status=\"2xx\""), "{m}");
        assert!(!m.contains("number=") && !m.contains("张小明"), "{m}");
    }
}
