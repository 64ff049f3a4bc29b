//! Regression tests for the network defects of issue 8 (D13, D14, G24, G27), one per defect,
//! named after it.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};

use super::{send, state_with};
use hutong_server::Settings;
use hutong_server::ratelimit::RateLimitSettings;

/// A lookup from `peer` carrying `X-Forwarded-For: xff`; returns the status.
async fn lookup_via(s: &hutong_server::AppState, peer: &str, xff: &str) -> StatusCode {
    let mut req = Request::get("/api/v1/verify?number=x&name=y")
        .header("x-forwarded-for", xff)
        .body(Body::empty())
        .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    send(s, req).await.status
}

#[tokio::test]
async fn r8_14_forwarded_for_with_ports_is_one_client() {
    let (s, _dir) = state_with(Settings {
        rate_limits: RateLimitSettings {
            lookups_per_minute: 1,
            lookup_burst: 1,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..RateLimitSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let proxy = "127.0.0.1:40000";
    // `ip:port`: the client is 198.51.100.1, whatever it wrote to the left.
    assert_ne!(
        lookup_via(&s, proxy, "10.8.8.1, 198.51.100.1:5555").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for n in 2..6 {
        assert_eq!(
            lookup_via(&s, proxy, &format!("10.8.8.{n}, 198.51.100.1:5555")).await,
            StatusCode::TOO_MANY_REQUESTS,
            "10.8.8.{n} got a fresh allowance"
        );
    }
    // Bracketed IPv6, with and without a port, is the same client as the bare address.
    assert_ne!(
        lookup_via(&s, proxy, "10.8.8.1, [2001:db8::1]:443").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for xff in [
        "10.8.8.2, [2001:db8::1]",
        "2001:db8::1",
        "10.8.8.3,[2001:db8::1]:80",
    ] {
        assert_eq!(
            lookup_via(&s, proxy, xff).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{xff}"
        );
    }
    // An entry that cannot be read: nothing left of it is believed, so varying the left part
    // buys no allowance.
    let (s, _dir2) = state_with(Settings {
        rate_limits: RateLimitSettings {
            lookups_per_minute: 1,
            lookup_burst: 1,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..RateLimitSettings::default()
        },
        ..Settings::default()
    })
    .await;
    assert_ne!(
        lookup_via(&s, proxy, "203.0.113.1, not-an-address").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for n in 2..6 {
        assert_eq!(
            lookup_via(&s, proxy, &format!("203.0.113.{n}, not-an-address")).await,
            StatusCode::TOO_MANY_REQUESTS,
            "203.0.113.{n}, left of an unreadable entry, was believed"
        );
    }
}
