//! Consented monitoring (`POST /api/v1/watch/status`, `POST /api/v1/watch/changes`): the
//! employer holds the share codes the holders gave; one request gives every covered
//! certificate's status and review window; a waiting changes request sees a suspension within
//! a second; a revoked code stops everything at once; 10,000 codes answer in one request.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::rights::Actor;

use crate::fixture;
use crate::writes::token;
use crate::{AppState, send, states};

async fn post(
    s: &AppState,
    uri: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value, String) {
    let mut r = Request::post(uri).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let a = send(s, r.body(Body::from(body.to_string())).unwrap()).await;
    let v = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    (a.status, v, a.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_sees_each_status_and_a_suspension_within_a_second() {
    for (s, _keep) in states("watch::a_watch_list_sees").await {
        let f = fixture::fill(&s).await;
        // The holder of the valid certificate consents, for employment, for 30 days.
        let (code, made, body) = post(
            &s,
            "/api/v1/shares",
            json!({"id_number": f.valid.id, "name": f.valid.name, "purpose": "employment", "days": 30}),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        let consent = made["code"].as_str().unwrap().to_string();
        let share_id = made["share"]["id"].as_str().unwrap().to_string();
        let codes = json!([consent, "not a code", "0000-0000-0000-0000-0000-0000"]);
        let (code, st, body) =
            post(&s, "/api/v1/watch/status", json!({"codes": codes}), None).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert_eq!(st["codes"][0]["consent"], "active");
        assert_eq!(st["codes"][0]["purpose"], "employment");
        assert_eq!(st["codes"][1]["consent"], "malformed");
        assert_eq!(st["codes"][2]["consent"], "unknown");
        let certs = st["codes"][0]["certificates"].as_array().unwrap();
        assert!(!certs.is_empty(), "{body}");
        let mine = certs
            .iter()
            .find(|c| c["kind"] == f.valid.kind)
            .expect("the valid certificate is watched");
        assert_eq!(mine["status"], "valid", "{body}");
        // The review or renewal window from the kind's lifecycle rule.
        assert!(mine["reminder"]["opens_on"].is_string(), "{body}");
        assert!(!body.contains(&f.valid.id), "an ID number in the answer");
        let head = st["head"].as_u64().unwrap();

        // A waiting changes request, then a suspension by the issuer.
        let waiting = {
            let s = s.clone();
            let codes = codes.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let r = post(
                    &s,
                    "/api/v1/watch/changes",
                    json!({"codes": codes, "after": head, "wait": 10}),
                    None,
                )
                .await;
                (r, started)
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mem = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: None,
            },
        )
        .await;
        let suspended_at = Instant::now();
        let (code, _, body) = post(
            &s,
            "/api/v1/certificates/changes",
            json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"}),
            Some(&mem),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let ((code, ch, body), _) = waiting.await.unwrap();
        let seen = suspended_at.elapsed();
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(seen < Duration::from_secs(1), "seen after {seen:?}");
        let changes = ch["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{body}");
        assert_eq!(changes[0]["change"], "suspended");
        assert_eq!(changes[0]["status"], "suspended");
        assert_eq!(changes[0]["codes"], json!([0]));
        let next = ch["next"].as_u64().unwrap();

        // The holder revokes the consent: nothing more, at once.
        let (code, _, body) = post(
            &s,
            "/api/v1/shares/revoke",
            json!({"id_number": f.valid.id, "name": f.valid.name, "id": share_id}),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let (_, st, _) = post(&s, "/api/v1/watch/status", json!({"codes": codes}), None).await;
        assert_eq!(st["codes"][0]["consent"], "revoked");
        assert_eq!(st["codes"][0]["certificates"], json!([]));
        post(
            &s,
            "/api/v1/certificates/changes",
            json!({"number": f.valid.number, "kind": f.valid.kind, "change": "reinstate"}),
            Some(&mem),
        )
        .await;
        let (_, ch, _) = post(
            &s,
            "/api/v1/watch/changes",
            json!({"codes": codes, "after": next, "wait": 0}),
            None,
        )
        .await;
        assert_eq!(ch["changes"], json!([]), "a revoked consent sees no change");

        // Bad input names the field.
        for (b, field) in [
            (json!({"codes": []}), "codes"),
            (json!({"codes": ["x"], "after": 0, "wait": 31}), "wait"),
            (json!({"cods": ["x"]}), "cods"),
        ] {
            let uri = if b.get("after").is_some() {
                "/api/v1/watch/changes"
            } else {
                "/api/v1/watch/status"
            };
            let (code, _, body) = post(&s, uri, b, None).await;
            assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
            assert!(body.contains(field), "{body}");
        }
    }
}

/// 10,000 codes in one request, of 200 holders' consents given again and again: one answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_watched_codes_answer_in_one_request() {
    let (s, _dir) = crate::state().await;
    let f = fixture::fill(&s).await;
    let (_, made, _) = post(
        &s,
        "/api/v1/shares",
        json!({"id_number": f.review_due.id, "name": f.review_due.name, "purpose": "employment"}),
        None,
    )
    .await;
    let code = made["code"].as_str().unwrap();
    let codes: Vec<&str> = std::iter::repeat_n(code, 10_000).collect();
    let started = Instant::now();
    let (status, st, body) = post(&s, "/api/v1/watch/status", json!({"codes": codes}), None).await;
    eprintln!(
        "10,000 codes: {} bytes in {:?} (debug build)",
        body.len(),
        started.elapsed()
    );
    assert_eq!(status, StatusCode::OK, "{}", &body[..body.len().min(300)]);
    assert_eq!(st["codes"].as_array().unwrap().len(), 10_000);
    assert!(
        st["codes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["consent"] == "active")
    );
    let (status, _, _) = post(
        &s,
        "/api/v1/watch/status",
        json!({"codes": std::iter::repeat_n(code, 10_001).collect::<Vec<_>>()}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A webhook whose receiver is down is retried with backoff, and the receiver gets every change
/// once it is back, in order, each in one accepted delivery, signed with the webhook's secret;
/// once the holder revokes the consent nothing more is posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_retried_until_its_receiver_is_back_and_gets_every_change_once() {
    use std::sync::{Arc, Mutex};
    type Seen = Arc<Mutex<(u32, Vec<(String, String, Vec<u8>)>)>>;
    let settings = hutong_server::Settings {
        demo: true,
        webhook_interval: Duration::from_millis(50),
        webhook_private_targets: true,
        ..hutong_server::Settings::default()
    };
    for (s, _keep) in crate::states_with(settings, "watch::a_webhook_is_retried").await {
        let f = fixture::fill(&s).await;
        // The receiver: down for its first three requests, then up.
        let seen: Seen = Arc::new(Mutex::new((0, Vec::new())));
        let receiver = {
            let seen = seen.clone();
            axum::Router::new().route(
                "/hook",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                        let seen = seen.clone();
                        async move {
                            let mut g = seen.lock().unwrap();
                            g.0 += 1;
                            if g.0 <= 3 {
                                return StatusCode::SERVICE_UNAVAILABLE;
                            }
                            let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
                            g.1.push((
                                h("x-hutong-delivery"),
                                h("x-hutong-signature"),
                                body.to_vec(),
                            ));
                            StatusCode::NO_CONTENT
                        }
                    },
                ),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, receiver).await });

        let (_, made, _) = post(
            &s,
            "/api/v1/shares",
            json!({"id_number": f.valid.id, "name": f.valid.name, "purpose": "employment"}),
            None,
        )
        .await;
        let consent = made["code"].as_str().unwrap().to_string();
        let share_id = made["share"]["id"].as_str().unwrap().to_string();
        // Bad webhooks name the field.
        for (b, field) in [
            (json!({"url": "https://x.test/", "codes": [consent]}), "url"),
            (json!({"url": url, "codes": ["nope"]}), "codes[0]"),
        ] {
            let (code, _, body) = post(&s, "/api/v1/watch/webhooks", b, None).await;
            assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
            assert!(body.contains(field), "{body}");
        }
        let (code, hook, body) = post(
            &s,
            "/api/v1/watch/webhooks",
            json!({"url": url, "codes": [consent]}),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        use base64::Engine as _;
        let secret: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(hook["secret"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let delivering = tokio::spawn(hutong_server::handlers::watch::deliver_forever(s.clone()));

        let mem = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: None,
            },
        )
        .await;
        for change in ["suspend", "reinstate"] {
            let (code, _, body) = post(
                &s,
                "/api/v1/certificates/changes",
                json!({"number": f.valid.number, "kind": f.valid.kind, "change": change}),
                Some(&mem),
            )
            .await;
            assert_eq!(code, StatusCode::OK, "{body}");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let delivered = loop {
            let got: Vec<(String, String, Vec<u8>)> = seen.lock().unwrap().1.clone();
            let changes: Vec<Value> = got
                .iter()
                .flat_map(|(_, _, b)| {
                    serde_json::from_slice::<Value>(b).unwrap()["changes"]
                        .as_array()
                        .unwrap()
                        .clone()
                })
                .collect();
            if changes.len() >= 2 || Instant::now() > deadline {
                break (got, changes);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (got, changes) = delivered;
        assert!(
            seen.lock().unwrap().0 >= 4,
            "the failed deliveries were retried"
        );
        assert_eq!(
            changes
                .iter()
                .map(|c| c["change"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["suspended", "reinstated"],
            "every change once, in order"
        );
        for (delivery, signature, body) in &got {
            assert!(
                delivery.starts_with(hook["id"].as_str().unwrap()),
                "{delivery}"
            );
            assert_eq!(
                *signature,
                format!(
                    "sha256={}",
                    hutong_core::share::webhook_signature(&secret, body)
                )
            );
            assert!(!String::from_utf8_lossy(body).contains(&f.valid.id));
        }

        // The holder revokes the consent: nothing more is posted.
        post(
            &s,
            "/api/v1/shares/revoke",
            json!({"id_number": f.valid.id, "name": f.valid.name, "id": share_id}),
            None,
        )
        .await;
        post(
            &s,
            "/api/v1/certificates/changes",
            json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"}),
            Some(&mem),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            seen.lock().unwrap().1.len(),
            got.len(),
            "a delivery after the revocation"
        );
        // Revoking the webhook needs its secret.
        let (code, _, _) = post(
            &s,
            "/api/v1/watch/webhooks/revoke",
            json!({"id": hook["id"], "secret": "AAAA"}),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        let (code, _, body) = post(
            &s,
            "/api/v1/watch/webhooks/revoke",
            json!({"id": hook["id"], "secret": hook["secret"]}),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        delivering.abort();
    }
}

/// Without the setting that allows them, a webhook cannot point into a private network.
#[tokio::test]
async fn a_webhook_into_a_private_network_is_refused() {
    let (s, _dir) = crate::state().await;
    let f = fixture::fill(&s).await;
    let (_, made, _) = post(
        &s,
        "/api/v1/shares",
        json!({"id_number": f.valid.id, "name": f.valid.name}),
        None,
    )
    .await;
    let (code, _, body) = post(
        &s,
        "/api/v1/watch/webhooks",
        json!({"url": "http://127.0.0.1:9/hook", "codes": [made["code"]]}),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("webhook-private"), "{body}");
}
