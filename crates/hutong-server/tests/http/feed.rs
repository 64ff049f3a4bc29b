//! The change feed (`GET /api/v1/feed`): each token sees its scope, in order, exactly once by
//! its cursor; a waiting request answers as soon as an entry of its scope is written; no answer
//! carries an ID number.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::rights::Actor;
use hutong_server::AppState;

use crate::fixture;
use crate::writes::token;
use crate::{Answer, send, states};

async fn get(s: &AppState, path: &str, t: Option<&str>) -> Answer {
    let mut r = Request::get(path);
    if let Some(t) = t {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    send(s, r.body(Body::empty()).unwrap()).await
}

fn json(a: &Answer) -> Value {
    serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body))
}

/// Every entry a token sees, by following `next` with `limit` entries an answer.
async fn all(s: &AppState, t: &str, query: &str, limit: usize) -> Vec<Value> {
    let (mut after, mut out) = (0u64, Vec::new());
    loop {
        let a = get(
            s,
            &format!("/api/v1/feed?after={after}&limit={limit}{query}"),
            Some(t),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v = json(&a);
        let entries = v["entries"].as_array().unwrap().clone();
        assert!(entries.len() <= limit);
        let next = v["next"].as_u64().unwrap();
        if entries.is_empty() {
            assert_eq!(
                next,
                v["head"].as_u64().unwrap(),
                "an empty answer is at the head"
            );
            return out;
        }
        assert!(next >= entries.last().unwrap()["seq"].as_u64().unwrap());
        after = next;
        out.extend(entries);
    }
}

/// Tokens of the national regulator and of Guangdong's emergency management department.
async fn regulator_and_mem_44(s: &AppState) -> (String, String) {
    let regulator = Actor::Regulator {
        department: "mohrss".into(),
        region: None,
    };
    let mem = Actor::Authority {
        department: "mem".into(),
        region: Some("44".into()),
    };
    (token(s, regulator).await, token(s, mem).await)
}

fn subjects_in_order(entries: &[Value]) -> Vec<u64> {
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "out of order: {seqs:?}"
    );
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_gives_each_token_its_scope_in_order_exactly_once() {
    for (s, _keep) in states("feed_scopes").await {
        fixture::fill(&s).await;
        let (regulator, mem) = regulator_and_mem_44(&s).await;
        let institution = token(
            &s,
            Actor::Institution {
                issuer: "inst.s0000-44-000123".into(),
            },
        )
        .await;

        let a = get(&s, "/api/v1/feed", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);

        // The national regulator sees every certificate and issuer entry, whatever the page
        // size, each once and in order.
        let everything = all(&s, &regulator, "", 1000).await;
        assert!(!everything.is_empty());
        assert_eq!(
            subjects_in_order(&all(&s, &regulator, "", 1).await),
            subjects_in_order(&everything)
        );
        assert_eq!(
            subjects_in_order(&all(&s, &regulator, "", 3).await),
            subjects_in_order(&everything)
        );
        // Blank parameters are absent ones.
        assert_eq!(
            all(&s, &regulator, "&department=&region=&issuer=", 1000).await,
            everything
        );
        assert!(everything.iter().all(|e| {
            let subject = e["subject"].as_str().unwrap();
            subject.starts_with("cert:") || subject.starts_with("issuer:")
        }));
        // Numbers that are ID numbers are masked in the journal (send() also checks every
        // answer for the fixture's ID numbers).
        assert!(
            everything
                .iter()
                .any(|e| e["change"].to_string().contains("************")),
            "no masked number"
        );

        // Each certificate entry names its certificate as every registry knows it: numbers
        // that are or embed an ID number sealed under the holder key, the others plain.
        let mut sealed = 0;
        for e in everything
            .iter()
            .filter(|e| e["subject"].as_str().unwrap().starts_with("cert:"))
        {
            let id: i64 = e["subject"].as_str().unwrap()[5..].parse().unwrap();
            let stored = s.store.certificate_by_id(id).await.unwrap().unwrap();
            let (number, kind) = (
                e["certificate"]["number"].as_str().unwrap(),
                e["certificate"]["kind"].as_str().unwrap(),
            );
            assert_eq!(kind, stored.kind);
            match hutong_core::export::unseal_number(&s.secret, kind, number) {
                Some(opened) => {
                    sealed += 1;
                    assert_eq!(opened.unwrap(), stored.number);
                }
                None => {
                    assert_eq!(number, stored.number);
                    assert_eq!(hutong_core::number::mask_id_numbers(number), number);
                }
            }
        }
        assert!(sealed > 0, "no sealed number");
        assert!(
            everything
                .iter()
                .filter(|e| e["subject"].as_str().unwrap().starts_with("issuer:"))
                .all(|e| e.get("certificate").is_none())
        );

        // An authority sees its department only; asking for another is refused.
        let own = all(&s, &mem, "", 1000).await;
        assert!(!own.is_empty() && own.len() < everything.len());
        for e in &own {
            let c = e["change"].to_string();
            assert!(
                !c.contains("mohrss.skill-level") && !c.contains("\"department\":\"mohrss\""),
                "{c}"
            );
        }
        assert_eq!(own, all(&s, &mem, "&department=mem", 1000).await);
        let a = get(&s, "/api/v1/feed?department=mohrss", Some(&mem)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);

        // An institution sees its own certificates and record only.
        let mine = all(&s, &institution, "", 1000).await;
        assert!(!mine.is_empty() && mine.len() < everything.len());
        assert!(
            mine.iter()
                .all(|e| e["change"].to_string().contains("inst.s0000-44-000123")),
            "{mine:?}"
        );
        let a = get(&s, "/api/v1/feed?issuer=mem.44", Some(&institution)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);

        // Bad parameters name themselves.
        for (q, field) in [
            ("limit=0", "limit"),
            ("limit=5000", "limit"),
            ("wait=31", "wait"),
            ("region=99", "region"),
            ("department=nope", "department"),
        ] {
            let a = get(&s, &format!("/api/v1/feed?{q}"), Some(&regulator)).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}: {}", a.body);
            assert!(a.body.contains(field), "{q}: {}", a.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_feed_request_answers_as_soon_as_an_entry_is_written() {
    for (s, _keep) in states("feed_wait").await {
        let f = fixture::fill(&s).await;
        let (regulator, mem) = regulator_and_mem_44(&s).await;
        let head = s.store.journal_head().await.unwrap();
        // Nothing new: an empty answer after the wait.
        let start = Instant::now();
        let a = get(
            &s,
            &format!("/api/v1/feed?after={head}&wait=1"),
            Some(&regulator),
        )
        .await;
        assert!(start.elapsed() >= Duration::from_millis(900));
        assert_eq!(json(&a)["entries"], json!([]));

        let waiting = {
            let (s, t) = (s.clone(), regulator.clone());
            tokio::spawn(async move {
                let start = Instant::now();
                let a = get(&s, &format!("/api/v1/feed?after={head}&wait=20"), Some(&t)).await;
                (a, start.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let body = json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"});
        let issued = send(
            &s,
            Request::post("/api/v1/certificates/changes")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {mem}"))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
        let (a, took) = waiting.await.unwrap();
        let v = json(&a);
        let entries = v["entries"].as_array().unwrap();
        assert!(
            took < Duration::from_secs(5),
            "the waiting request took {took:?} (the change: {} {})",
            issued.status,
            issued.body
        );
        assert!(!entries.is_empty(), "{}", a.body);
        assert!(entries[0]["seq"].as_u64().unwrap() > head);
    }
}
