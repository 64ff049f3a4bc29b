//! The write API: tokens, the rights matrix, issuing (numbering, idempotency, concurrency), the
//! lifecycle and histories, on every backend under test.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::ResidentId;
use hutong_core::date::today_in_china;
use hutong_core::journal::{Subject, now_micros};
use hutong_core::rights::Actor;
use hutong_core::token::TokenRecord;
use hutong_server::AppState;

use crate::fixture::{self, Fixture};
use crate::{Answer, send, states};

/// A token for `actor`, stored as `hutong tokens create` stores it.
pub async fn token(s: &AppState, actor: Actor) -> String {
    let (secret, record) = TokenRecord::create(actor, None, now_micros(), None);
    s.store
        .create_token(&record, &record.created_change(), "test", now_micros())
        .await
        .unwrap();
    secret.expose().to_string()
}

async fn post(s: &AppState, path: &str, token: Option<&str>, body: &Value) -> Answer {
    post_with(s, path, token, body, None).await
}

async fn post_with(
    s: &AppState,
    path: &str,
    token: Option<&str>,
    body: &Value,
    key: Option<&str>,
) -> Answer {
    let mut r = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    send(s, r.body(Body::from(body.to_string())).unwrap()).await
}

fn code(a: &Answer) -> String {
    serde_json::from_str::<Value>(&a.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn holder(n: u32) -> String {
    ResidentId::synthesize(
        440305,
        chrono::NaiveDate::from_ymd_opt(1988, 3, 4).unwrap(),
        n,
    )
    .as_str()
    .to_string()
}

fn mem_issue(n: u32) -> Value {
    json!({
        "kind": "mem.electrical.low-voltage",
        "holder_name": "王五",
        "holder_id": holder(n),
        "issuer": "mem.44",
    })
}

fn skill_issue(n: u32) -> Value {
    json!({
        "kind": "mohrss.skill-level",
        "holder_name": "赵六",
        "holder_id": holder(n),
        "issuer": "inst.s0000-44-000123",
        "occupation": "6-31-01-03",
        "level": "4",
        "site": "440100",
    })
}

struct Actors {
    regulator: String,
    regulator_44: String,
    regulator_11: String,
    mem_44: String,
    mem_11: String,
    mohurd_44: String,
    institution: String,
}

async fn actors(s: &AppState) -> Actors {
    let reg = |region: Option<&str>| Actor::Regulator {
        department: "mohrss".into(),
        region: region.map(str::to_string),
    };
    let auth = |d: &str, r: &str| Actor::Authority {
        department: d.into(),
        region: Some(r.into()),
    };
    Actors {
        regulator: token(s, reg(None)).await,
        regulator_44: token(s, reg(Some("44"))).await,
        regulator_11: token(s, reg(Some("11"))).await,
        mem_44: token(s, auth("mem", "44")).await,
        mem_11: token(s, auth("mem", "11")).await,
        mohurd_44: token(s, auth("mohurd", "44")).await,
        institution: token(
            s,
            Actor::Institution {
                issuer: "inst.s0000-44-000123".into(),
            },
        )
        .await,
    }
}

/// One row of the rights matrix: who, with which token, on which endpoint, with which body;
/// the status and reason code expected.
type Case = (
    &'static str,
    Option<String>,
    &'static str,
    Value,
    StatusCode,
    &'static str,
);

/// The rights matrix: every kind of actor against every write endpoint, with the status and the
/// reason code expected, on each backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rights_matrix_holds_on_every_endpoint() {
    for (s, _keep) in states("writes_rights_matrix").await {
        let f: Fixture = fixture::fill(&s).await;
        let a = actors(&s).await;
        let suspend_mem =
            json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"});
        let reinstate_mem =
            json!({"number": f.valid.number, "kind": f.valid.kind, "change": "reinstate"});
        let review_skill =
            json!({"number": f.suspended.number, "kind": f.suspended.kind, "change": "reinstate"});
        let history_mem = json!({"number": f.valid.number, "kind": f.valid.kind});
        let new_inst_token =
            json!({"actor": {"kind": "institution", "issuer": "inst.s0000-44-000123"}});
        let new_bj_token =
            json!({"actor": {"kind": "authority", "department": "mem", "region": "11"}});
        let t = |x: &String| Some(x.clone());
        // (who, endpoint, body, status, code)
        let cases: Vec<Case> = vec![
            (
                "nobody",
                None,
                "/api/v1/certificates",
                mem_issue(1),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                "bad token",
                Some("ht_notatoken".into()),
                "/api/v1/certificates",
                mem_issue(1),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                "unknown token",
                Some(format!("ht_{}", "A".repeat(43))),
                "/api/v1/certificates",
                mem_issue(1),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                "national regulator",
                t(&a.regulator),
                "/api/v1/certificates",
                mem_issue(2),
                StatusCode::FORBIDDEN,
                "role-cannot",
            ),
            (
                "mem 11",
                t(&a.mem_11),
                "/api/v1/certificates",
                mem_issue(3),
                StatusCode::FORBIDDEN,
                "outside-region",
            ),
            (
                "mohurd 44",
                t(&a.mohurd_44),
                "/api/v1/certificates",
                mem_issue(4),
                StatusCode::FORBIDDEN,
                "other-department",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/certificates",
                mem_issue(5),
                StatusCode::FORBIDDEN,
                "other-issuer",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/certificates",
                mem_issue(6),
                StatusCode::CREATED,
                "",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/certificates",
                skill_issue(7),
                StatusCode::FORBIDDEN,
                "other-department",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/certificates",
                skill_issue(8),
                StatusCode::CREATED,
                "",
            ),
            (
                "institution, level out of grant",
                t(&a.institution),
                "/api/v1/certificates",
                {
                    let mut b = skill_issue(9);
                    b["level"] = "1".into();
                    b
                },
                StatusCode::FORBIDDEN,
                "outside-grant",
            ),
            (
                "regulator 44",
                t(&a.regulator_44),
                "/api/v1/certificates/changes",
                suspend_mem.clone(),
                StatusCode::FORBIDDEN,
                "role-cannot",
            ),
            (
                "mohurd 44",
                t(&a.mohurd_44),
                "/api/v1/certificates/changes",
                suspend_mem.clone(),
                StatusCode::FORBIDDEN,
                "other-department",
            ),
            (
                "mem 11",
                t(&a.mem_11),
                "/api/v1/certificates/changes",
                suspend_mem.clone(),
                StatusCode::FORBIDDEN,
                "outside-region",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/certificates/changes",
                suspend_mem.clone(),
                StatusCode::FORBIDDEN,
                "not-own-certificate",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/certificates/changes",
                suspend_mem.clone(),
                StatusCode::OK,
                "",
            ),
            (
                "mem 44 again",
                t(&a.mem_44),
                "/api/v1/certificates/changes",
                suspend_mem,
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong-state",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/certificates/changes",
                reinstate_mem,
                StatusCode::OK,
                "",
            ),
            (
                "mem 44 on a skill level certificate",
                t(&a.mem_44),
                "/api/v1/certificates/changes",
                review_skill.clone(),
                StatusCode::FORBIDDEN,
                "other-department",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/certificates/changes",
                review_skill,
                StatusCode::OK,
                "",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/certificates/history",
                history_mem.clone(),
                StatusCode::OK,
                "",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/certificates/history",
                history_mem.clone(),
                StatusCode::FORBIDDEN,
                "not-own-certificate",
            ),
            (
                "national regulator",
                t(&a.regulator),
                "/api/v1/certificates/history",
                history_mem.clone(),
                StatusCode::OK,
                "",
            ),
            (
                "regulator 11",
                t(&a.regulator_11),
                "/api/v1/certificates/history",
                history_mem,
                StatusCode::FORBIDDEN,
                "outside-region",
            ),
            (
                "nobody",
                None,
                "/api/v1/tokens",
                new_inst_token.clone(),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                "mem 44",
                t(&a.mem_44),
                "/api/v1/tokens",
                new_inst_token.clone(),
                StatusCode::FORBIDDEN,
                "role-cannot",
            ),
            (
                "institution",
                t(&a.institution),
                "/api/v1/tokens",
                new_inst_token.clone(),
                StatusCode::FORBIDDEN,
                "role-cannot",
            ),
            (
                "regulator 11",
                t(&a.regulator_11),
                "/api/v1/tokens",
                new_inst_token.clone(),
                StatusCode::FORBIDDEN,
                "outside-region",
            ),
            (
                "regulator 44",
                t(&a.regulator_44),
                "/api/v1/tokens",
                new_inst_token,
                StatusCode::CREATED,
                "",
            ),
            (
                "regulator 44",
                t(&a.regulator_44),
                "/api/v1/tokens",
                new_bj_token.clone(),
                StatusCode::FORBIDDEN,
                "outside-region",
            ),
            (
                "national regulator",
                t(&a.regulator),
                "/api/v1/tokens",
                new_bj_token,
                StatusCode::CREATED,
                "",
            ),
        ];
        let mut wrong = Vec::new();
        for (who, tok, path, body, status, want) in &cases {
            let head = s.store.journal_head().await.unwrap();
            let got = post(&s, path, tok.as_deref(), body).await;
            let c = code(&got);
            if got.status != *status || (!want.is_empty() && c != *want) {
                wrong.push(format!(
                    "{}: {who} {path}: got {} {c} ({}), want {status} {want}",
                    s.store.backend(),
                    got.status,
                    got.body
                ));
            }
            // A refusal is journaled and changes nothing else; a 401 writes nothing at all.
            let entries = s.store.journal(head, 100).await.unwrap();
            match got.status {
                StatusCode::FORBIDDEN => {
                    assert_eq!(entries.len(), 1, "{who} {path}: {entries:?}");
                    assert_eq!(entries[0].kind(), "refused");
                }
                StatusCode::UNAUTHORIZED | StatusCode::UNPROCESSABLE_ENTITY => {
                    assert!(entries.is_empty(), "{who} {path}: {entries:?}")
                }
                _ => {}
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_tokens_get_401() {
    for (s, _keep) in states("writes_token_states").await {
        fixture::fill(&s).await;
        let (secret, mut record) = TokenRecord::create(
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
            None,
            now_micros() - 10_000_000,
            Some(now_micros() - 1),
        );
        s.store
            .create_token(&record, &record.created_change(), "test", now_micros())
            .await
            .unwrap();
        let a = post(
            &s,
            "/api/v1/certificates",
            Some(secret.expose()),
            &mem_issue(1),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("expired"), "{}", a.body);
        assert!(!a.body.contains(secret.expose()));
        let live = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let id = s
            .store
            .tokens()
            .await
            .unwrap()
            .into_iter()
            .last()
            .unwrap()
            .id;
        let a = post(
            &s,
            "/api/v1/tokens/revoke",
            Some(&live),
            &json!({"id": id.as_str()}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let a = post(&s, "/api/v1/certificates", Some(&live), &mem_issue(2)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("revoked"), "{}", a.body);
        record.revoked_at_micros = None;
        let _ = record;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_assigns_numbers_and_answers_once_per_idempotency_key() {
    for (s, _keep) in states("writes_issue").await {
        fixture::fill(&s).await;
        let a = actors(&s).await;
        let first = post_with(
            &s,
            "/api/v1/certificates",
            Some(&a.institution),
            &skill_issue(1),
            Some("k1"),
        )
        .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let v: Value = serde_json::from_str(&first.body).unwrap();
        let number = v["number"].as_str().unwrap().to_string();
        let yy = format!("{:02}", chrono::Datelike::year(&today_in_china()) % 100);
        assert_eq!(
            number,
            format!("S000044440100{yy}4000001"),
            "{}",
            first.body
        );
        assert_eq!(v["status"], "valid");
        assert_eq!(v["journal"]["change"], "issued");
        let again = post_with(
            &s,
            "/api/v1/certificates",
            Some(&a.institution),
            &skill_issue(1),
            Some("k1"),
        )
        .await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.body, first.body, "a retry gets the first answer");
        assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
        let other = post_with(
            &s,
            "/api/v1/certificates",
            Some(&a.institution),
            &skill_issue(2),
            Some("k1"),
        )
        .await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code(&other), "idempotency-key-reused");
        let second = post(
            &s,
            "/api/v1/certificates",
            Some(&a.institution),
            &skill_issue(3),
        )
        .await;
        let v: Value = serde_json::from_str(&second.body).unwrap();
        assert!(
            v["number"].as_str().unwrap().ends_with("000002"),
            "{}",
            second.body
        );
        // A mem certificate is numbered by the holder's ID number, which the answer masks.
        let m = post(&s, "/api/v1/certificates", Some(&a.mem_44), &mem_issue(4)).await;
        assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
        let v: Value = serde_json::from_str(&m.body).unwrap();
        assert!(v["number"].as_str().unwrap().contains('*'), "{}", m.body);
        // The same certificate again, without a key: refused, not issued twice.
        let dup = post(&s, "/api/v1/certificates", Some(&a.mem_44), &mem_issue(4)).await;
        assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
        // Bad input names the field and stores nothing.
        let head = s.store.journal_head().await.unwrap();
        let mut bad = mem_issue(5);
        bad["holder_id"] = "440305198803040000".into();
        let r = post(&s, "/api/v1/certificates", Some(&a.mem_44), &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("holder_id"), "{}", r.body);
        assert!(!r.body.contains("440305198803040000"), "{}", r.body);
        let r = post(
            &s,
            "/api/v1/certificates",
            Some(&a.mem_44),
            &json!({"kind": 1}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        let r = post(
            &s,
            "/api/v1/certificates",
            Some(&a.mem_44),
            &json!({"what": "x"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("what"), "{}", r.body);
        assert_eq!(s.store.journal_head().await.unwrap(), head);
    }
}

/// 1,000 certificates of one institution issued from 16 tasks at once get 1,000 distinct
/// numbers, and the journal stays gapless.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuing_never_reuses_a_serial() {
    for (s, _keep) in states("writes_concurrent").await {
        fixture::fill(&s).await;
        let inst = actors(&s).await.institution;
        let mut tasks = Vec::new();
        for t in 0..16u32 {
            let (s, inst) = (s.clone(), inst.clone());
            tasks.push(tokio::spawn(async move {
                let mut numbers = Vec::new();
                let n = if t < 8 { 63 } else { 62 };
                for i in 0..n {
                    let a = post(
                        &s,
                        "/api/v1/certificates",
                        Some(&inst),
                        &skill_issue(1000 + t * 100 + i),
                    )
                    .await;
                    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
                    let v: Value = serde_json::from_str(&a.body).unwrap();
                    numbers.push(v["number"].as_str().unwrap().to_string());
                }
                numbers
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        assert_eq!(all.len(), 1000);
        all.sort();
        all.dedup();
        assert_eq!(
            all.len(),
            1000,
            "{}: a number was issued twice",
            s.store.backend()
        );
        let entries = s.store.journal(0, 100_000).await.unwrap();
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=entries.len() as u64).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_follows_the_rules_and_leaves_a_history() {
    for (s, _keep) in states("writes_lifecycle").await {
        let f = fixture::fill(&s).await;
        let a = actors(&s).await;
        let change = |c: &str| json!({"number": f.valid.number, "kind": f.valid.kind, "change": c});
        // A review far from its due date is refused with the rule and its window.
        let r = post(
            &s,
            "/api/v1/certificates/changes",
            Some(&a.mem_44),
            &change("review"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(code(&r), "outside-window");
        assert!(r.body.contains("mem-special-operation"), "{}", r.body);
        let mut revoke = change("revoke");
        let r = post(&s, "/api/v1/certificates/changes", Some(&a.mem_44), &revoke).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("reason"), "{}", r.body);
        revoke["reason"] = "withdrawn".into();
        let r = post(&s, "/api/v1/certificates/changes", Some(&a.mem_44), &revoke).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["status"], "revoked");
        assert_eq!(v["status_reason"]["code"], "withdrawn");
        assert_eq!(v["status_reason"]["national_code"], "03");
        assert!(
            v["status_reason"]["basis_zh"]
                .as_str()
                .unwrap()
                .contains("吊销"),
            "{}",
            r.body
        );
        let mut name = change("correct-name");
        name["name"] = "张晓明".into();
        let r = post(&s, "/api/v1/certificates/changes", Some(&a.mem_44), &name).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // The owner sees the whole history; the public only dates and kinds, with the name.
        let h = post(
            &s,
            "/api/v1/certificates/history",
            Some(&a.mem_44),
            &json!({"number": f.valid.number, "kind": f.valid.kind}),
        )
        .await;
        let v: Value = serde_json::from_str(&h.body).unwrap();
        let kinds: Vec<&str> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["change"]["change"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["issued", "revoked", "holder-name-corrected"]);
        assert!(h.body.contains("张小明"), "the old name stays: {}", h.body);
        let p = post(
            &s,
            "/api/v1/certificates/history",
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "name": "张晓明"}),
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let v: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(v["view"], "public");
        assert!(
            !p.body.contains("actor") && !p.body.contains("tok_"),
            "{}",
            p.body
        );
        assert_eq!(v["entries"][1]["change"], "revoked");
        let wrong = post(
            &s,
            "/api/v1/certificates/history",
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "name": "别人"}),
        )
        .await;
        let none = post(
            &s,
            "/api/v1/certificates/history",
            None,
            &json!({"number": "NOPE-1", "kind": f.valid.kind, "name": "别人"}),
        )
        .await;
        assert_eq!(
            (wrong.status, &wrong.body),
            (none.status, &none.body),
            "a wrong name and no certificate look alike"
        );
        // The record's hash is the last entry's.
        let (id, now) = s
            .store
            .certificate_with_id(&f.valid.number, f.valid.kind)
            .await
            .unwrap()
            .unwrap();
        let last = s
            .store
            .history(&Subject::Certificate(id))
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(
            last.record_sha256,
            Some(hutong_core::journal::certificate_digest(&now).1)
        );
    }
}

fn policy_files() -> serde_json::Map<String, Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let mut files = serde_json::Map::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.insert(
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read_to_string(&p).unwrap().into(),
            );
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regulator_publishes_a_policy_and_every_answer_names_it() {
    for (s, _keep) in states("writes_policy").await {
        fixture::fill(&s).await;
        let a = actors(&s).await;
        let before = s.policy().digest.clone();
        let mut files = policy_files();
        let kinds = files["kinds.toml"].as_str().unwrap().to_string();
        // A corrected note changes the digest and nothing else.
        files.insert(
            "kinds.toml".into(),
            format!("{kinds}\n# corrected\n").into(),
        );
        let body = json!({ "files": files });
        let r = post(&s, "/api/v1/policy", Some(&a.mem_44), &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post(&s, "/api/v1/policy", Some(&a.regulator_44), &body).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (StatusCode::FORBIDDEN, "national-only"),
            "{}",
            r.body
        );
        // An invalid policy changes nothing, and the errors name the file and line.
        let mut broken = files.clone();
        broken.insert(
            "kinds.toml".into(),
            format!("{kinds}\n[[kind]]\nid = \"x\"\n").into(),
        );
        let head = s.store.journal_head().await.unwrap();
        let r = post(
            &s,
            "/api/v1/policy",
            Some(&a.regulator),
            &json!({ "files": broken }),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("kinds.toml:"), "{}", r.body);
        assert_eq!(s.store.journal_head().await.unwrap(), head);
        assert_eq!(s.policy().digest, before);
        let r = post(&s, "/api/v1/policy", Some(&a.regulator), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let digest = v["digest"].as_str().unwrap().to_string();
        assert_ne!(digest, before);
        assert_eq!(s.policy().digest, digest, "in force at once");
        let (_, _, health) = crate::get(&s, "/healthz").await;
        assert!(health.contains(&digest), "{health}");
        let e = s.store.journal(head, 10).await.unwrap();
        assert_eq!(e.last().unwrap().kind(), "policy-published");
        assert!(e.last().unwrap().change.contains(&digest));
        // Another server of the registry picks it up from the store.
        let other = AppState::new(
            s.store.clone(),
            crate::policy(),
            crate::secret(),
            hutong_server::Settings::default(),
        );
        assert_eq!(other.policy().digest, before);
        other.refresh_policy().await.unwrap();
        assert_eq!(other.policy().digest, digest);
    }
}

/// An institution whose grant ends on a date can no longer issue under it afterwards; what it
/// issued before still passes the `issuer` check; a suspension stays in its history after the
/// reinstatement; and all of it is done by a regulator of its region, over the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regulator_narrows_and_suspends_an_institution_without_rewriting_history() {
    for (s, _keep) in states("writes_issuers").await {
        let f = fixture::fill(&s).await;
        let a = actors(&s).await;
        let inst = "inst.s0000-44-000123";
        let yesterday = (today_in_china() - chrono::Days::new(1)).to_string();
        let today = today_in_china().to_string();
        let withdraw = json!({"issuer": inst, "change": {
            "change": "scope-withdrawn", "kind": "mohrss.skill-level",
            "occupation": "6-31-01-03", "levels": [], "last_day": yesterday}});
        for (tok, want) in [
            (&a.regulator_11, "outside-region"),
            (&a.mem_44, "role-cannot"),
            (&a.institution, "role-cannot"),
        ] {
            let r = post(&s, "/api/v1/issuers/changes", Some(tok), &withdraw).await;
            assert_eq!(
                (r.status, code(&r).as_str()),
                (StatusCode::FORBIDDEN, want),
                "{}",
                r.body
            );
        }
        let r = post(
            &s,
            "/api/v1/issuers/changes",
            Some(&a.regulator_44),
            &withdraw,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // No more issuing under the ended grant...
        let r = post(
            &s,
            "/api/v1/certificates",
            Some(&a.institution),
            &skill_issue(50),
        )
        .await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (StatusCode::FORBIDDEN, "outside-grant"),
            "{}",
            r.body
        );
        // ...but what was issued under it still passes.
        let q = format!(
            "/api/v1/verify?number={}&name={}",
            fixture::enc(&f.suspended.number),
            fixture::enc(f.suspended.name)
        );
        let v = send(&s, Request::get(q).body(Body::empty()).unwrap()).await;
        let v: Value = serde_json::from_str(&v.body).unwrap();
        let issuer_check = v["certificates"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "issuer")
            .unwrap()
            .clone();
        assert_eq!(issuer_check["outcome"], "pass", "{issuer_check}");
        // A suspension and a reinstatement: the period stays in the record.
        let suspend = json!({"issuer": inst, "change": {"change": "suspended", "from": yesterday, "reason": "督导"}});
        let r = post(
            &s,
            "/api/v1/issuers/changes",
            Some(&a.regulator_44),
            &suspend,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["status"], "suspended");
        let again = post(
            &s,
            "/api/v1/issuers/changes",
            Some(&a.regulator_44),
            &suspend,
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            again.body
        );
        let r = post(
            &s,
            "/api/v1/issuers/changes",
            Some(&a.regulator_44),
            &json!({"issuer": inst, "change": {"change": "reinstated", "on": today}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let stored = s.store.issuer(inst).await.unwrap().unwrap();
        assert_eq!(stored.suspensions.len(), 1, "{stored:?}");
        assert!(
            stored.grants.iter().any(|g| g.valid_until.is_some()),
            "the ended grant is kept: {stored:?}"
        );
        let kinds: Vec<String> = s
            .store
            .history(&Subject::Issuer(inst.into()))
            .await
            .unwrap()
            .iter()
            .map(|e| e.kind().to_string())
            .collect();
        // The three refused changes, the withdrawal, the refused issue (journaled on the
        // issuer it named), the suspension and the reinstatement.
        assert_eq!(
            kinds,
            [
                "registered",
                "refused",
                "refused",
                "refused",
                "scope-withdrawn",
                "refused",
                "suspended",
                "reinstated"
            ]
        );
        let r = post(
            &s,
            "/api/v1/issuers/changes",
            Some(&a.regulator_44),
            &json!({"issuer": "inst.nobody", "change": {"change": "removed", "on": today}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
}

/// The result page shows the same public history as the API: dates and kinds of change, in
/// Chinese and English, never who made them or what was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_page_shows_the_public_history() {
    for (s, _keep) in states("writes_page_history").await {
        let f = fixture::fill(&s).await;
        let a = actors(&s).await;
        let c = &f.review_due;
        let change = |ch: &str| json!({"number": c.number, "kind": c.kind, "change": ch});
        let r = post(
            &s,
            "/api/v1/certificates/changes",
            Some(&a.mohurd_44),
            &change("suspend"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A refused request leaves no trace on the public page.
        let r = post(
            &s,
            "/api/v1/certificates/changes",
            Some(&a.mem_44),
            &change("reinstate"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        for (lang, issued, suspended) in [
            ("", "登记入库", "暂扣"),
            ("&lang=en", "recorded in the registry", "suspended"),
        ] {
            let uri = format!(
                "/verify/result?number={}&name={}{lang}",
                fixture::enc(&c.number),
                fixture::enc(c.name)
            );
            let p = send(&s, Request::get(uri).body(Body::empty()).unwrap()).await;
            assert_eq!(p.status, StatusCode::OK);
            assert!(p.body.contains("data-history=\"2\""), "{}", p.body);
            assert!(
                p.body.contains(issued) && p.body.contains(suspended),
                "{}",
                p.body
            );
            assert!(
                !p.body.contains("tok_") && !p.body.contains("refused"),
                "{}",
                p.body
            );
        }
    }
}

async fn post_batch(s: &AppState, token: &str, ctype: &str, body: String) -> Answer {
    let r = Request::post("/api/v1/certificates/batch")
        .header("content-type", ctype)
        .header("authorization", format!("Bearer {token}"));
    send(s, r.body(Body::from(body)).unwrap()).await
}

fn mem_row(n: u32, name: &str) -> String {
    let id = holder(n);
    format!("T{id},mem.electrical.low-voltage,{name},{id},,,mem.44,2025-03-01,,valid\n")
}

const HEADER: &str =
    "number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status\n";

/// A batch is all or nothing: every refused row is reported with its line and field, and
/// nothing of a refused batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_stored_whole_or_refused_with_every_bad_row() {
    for (s, _keep) in states("writes_batch").await {
        fixture::fill(&s).await;
        let a = actors(&s).await;
        let good = format!(
            "{HEADER}{}{}{}",
            mem_row(1, "甲"),
            mem_row(2, "乙"),
            mem_row(3, "丙")
        );
        let head = s.store.journal_head().await.unwrap();
        // One bad ID number and one row twice with other data: both reported, nothing stored.
        let mut bad_row = mem_row(5, "戊");
        bad_row = bad_row.replacen(&holder(5), "440305198803040000", 2);
        let bad = format!("{good}{bad_row}{}", mem_row(1, "别人"));
        let r = post_batch(&s, &a.mem_44, "text/csv", bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let lines: Vec<u64> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert!(lines.contains(&5) && lines.contains(&6), "{}", r.body);
        assert!(r.body.contains("\"field\":\"holder_id\""), "{}", r.body);
        assert!(!r.body.contains("440305198803040000"), "{}", r.body);
        assert_eq!(
            s.store.journal_head().await.unwrap(),
            head,
            "nothing stored"
        );
        // Outside the token's rights: 403 with the rows, one refusal journaled.
        let r = post_batch(&s, &a.mohurd_44, "text/csv", good.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("other-department"), "{}", r.body);
        assert_eq!(s.store.journal_head().await.unwrap(), head + 1);
        // The good batch: stored whole, each row reported.
        let r = post_batch(&s, &a.mem_44, "text/csv", good.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            (v["stored"].as_u64(), v["unchanged"].as_u64()),
            (Some(3), Some(0))
        );
        assert_eq!(v["rows"][2]["line"], 4);
        assert_eq!(s.store.journal_head().await.unwrap(), head + 4);
        // Again: nothing new.
        let r = post_batch(&s, &a.mem_44, "text/csv", good).await;
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            (v["stored"].as_u64(), v["unchanged"].as_u64()),
            (Some(0), Some(3))
        );
        // NDJSON, with a conflict against what is stored: 409 naming the line.
        let id = holder(1);
        let nd = format!(
            "{{\"number\":\"T{id}\",\"kind\":\"mem.electrical.low-voltage\",\"holder_name\":\"别人\",\"holder_id\":\"{id}\",\"issuer\":\"mem.44\",\"issued_on\":\"2025-03-01\",\"status\":\"valid\"}}\n"
        );
        let r = post_batch(&s, &a.mem_44, "application/x-ndjson", nd).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("\"line\":1"), "{}", r.body);
        let r = post_batch(&s, &a.mem_44, "application/json", "{}".into()).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
        let r = post_batch(&s, &a.mem_44, "text/csv", "number,colour\n".into()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("colour"), "{}", r.body);
    }
}

/// Regressions found by reading the write side, each named after what it found.
mod review {
    use super::*;

    /// A revoked skill level certificate (which never expires) must not read "no expiry".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revoked_certificate_never_shows_no_expiry() {
        for (s, _keep) in states("writes_review_no_expiry").await {
            let f = fixture::fill(&s).await;
            let a = actors(&s).await;
            let c = &f.suspended;
            let r = post(
                &s,
                "/api/v1/certificates/changes",
                Some(&a.institution),
                &json!({
                "number": c.number, "kind": c.kind, "change": "revoke", "reason": "annulled"}),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            for (lang, shown, never) in [
                ("", "不适用（证书已撤销）", "长期有效"),
                ("&lang=en", "not applicable (revoked)", "no expiry"),
            ] {
                let uri = format!(
                    "/verify/result?number={}&name={}{lang}",
                    fixture::enc(&c.number),
                    fixture::enc(c.name)
                );
                let p = send(&s, Request::get(uri).body(Body::empty()).unwrap()).await;
                assert!(
                    p.body.contains(shown) && !p.body.contains(never),
                    "{}",
                    p.body
                );
                assert!(p.body.contains("data-reason=\"annulled\""), "{}", p.body);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_removed_institution_cannot_issue_by_backdating() {
        for (s, _keep) in states("writes_review_backdating").await {
            fixture::fill(&s).await;
            let a = actors(&s).await;
            let yesterday = (today_in_china() - chrono::Days::new(1)).to_string();
            let week_ago = (today_in_china() - chrono::Days::new(7)).to_string();
            let r = post(&s, "/api/v1/issuers/changes", Some(&a.regulator_44), &json!({
                "issuer": "inst.s0000-44-000123", "change": {"change": "removed", "on": yesterday}})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let mut b = skill_issue(60);
            b["issued_on"] = week_ago.clone().into();
            let r = post(&s, "/api/v1/certificates", Some(&a.institution), &b).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
            let csv = format!(
                "{HEADER}S000044440100{}4000099,mohrss.skill-level,赵六,{},6-31-01-03,4,inst.s0000-44-000123,{week_ago},,valid\n",
                &week_ago[2..4],
                holder(61)
            );
            let r = post_batch(&s, &a.institution, "text/csv", csv).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_number_registered_by_hand_is_passed_over_by_the_serials() {
        for (s, _keep) in states("writes_review_serials").await {
            fixture::fill(&s).await;
            let a = actors(&s).await;
            let first = post(
                &s,
                "/api/v1/certificates",
                Some(&a.institution),
                &skill_issue(70),
            )
            .await;
            let v: Value = serde_json::from_str(&first.body).unwrap();
            let n1 = v["number"].as_str().unwrap().to_string();
            let by_hand = format!("{}000002", &n1[..16]);
            let mut b = skill_issue(71);
            b["number"] = by_hand.into();
            let r = post(&s, "/api/v1/certificates", Some(&a.institution), &b).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let r = post(
                &s,
                "/api/v1/certificates",
                Some(&a.institution),
                &skill_issue(72),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let v: Value = serde_json::from_str(&r.body).unwrap();
            assert!(
                v["number"].as_str().unwrap().ends_with("000003"),
                "{}",
                r.body
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_registration_journals_no_id_number() {
        for (s, _keep) in states("writes_review_subject").await {
            fixture::fill(&s).await;
            let a = actors(&s).await;
            let id = holder(80);
            let head = s.store.journal_head().await.unwrap();
            let r = post(
                &s,
                "/api/v1/issuers/changes",
                Some(&a.institution),
                &json!({
                "issuer": id, "change": {"change": "registered",
                "id": id, "name_zh": "新机构", "department": "mohrss", "role": "institution",
                "region": "44", "registered_on": "2026-01-01", "grants": [],
                "institution_type": "S", "institution_code": "0000"}}),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "an ID number is never an issuer id: {}",
                r.body
            );
            assert!(!r.body.contains(&id), "{}", r.body);
            assert_eq!(s.store.journal_head().await.unwrap(), head);
            // A proposed id that is not registered is refused with no subject.
            let r = post(
                &s,
                "/api/v1/issuers/changes",
                Some(&a.institution),
                &json!({
                "issuer": "inst.new", "change": {"change": "registered",
                "id": "inst.new", "name_zh": "新机构", "department": "mohrss", "role": "institution",
                "region": "44", "registered_on": "2026-01-01", "grants": [],
                "institution_type": "S", "institution_code": "0000"}}),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
            let entries = s.store.journal(head, 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(
                entries[0].subject,
                Subject::Nothing,
                "a proposed id is not a subject"
            );
            assert!(!format!("{entries:?}").contains(&id));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_huge_token_expiry_is_refused_not_a_panic() {
        for (s, _keep) in states("writes_review_expiry").await {
            fixture::fill(&s).await;
            let a = actors(&s).await;
            for days in [0u64, 3651, 200_000_000] {
                let r = post(
                    &s,
                    "/api/v1/tokens",
                    Some(&a.regulator),
                    &json!({
                    "actor": {"kind": "authority", "department": "mem", "region": "44"},
                    "expires_in_days": days}),
                )
                .await;
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "{days}: {}", r.body);
                assert!(r.body.contains("expires_in_days"), "{}", r.body);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retried_duplicate_issue_gets_its_first_answer_not_pending() {
        for (s, _keep) in states("writes_review_pending").await {
            fixture::fill(&s).await;
            let a = actors(&s).await;
            let r = post(&s, "/api/v1/certificates", Some(&a.mem_44), &mem_issue(90)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let first = post_with(
                &s,
                "/api/v1/certificates",
                Some(&a.mem_44),
                &mem_issue(90),
                Some("dup"),
            )
            .await;
            assert_eq!(
                (first.status, code(&first).as_str()),
                (StatusCode::CONFLICT, "already-issued"),
                "{}",
                first.body
            );
            let again = post_with(
                &s,
                "/api/v1/certificates",
                Some(&a.mem_44),
                &mem_issue(90),
                Some("dup"),
            )
            .await;
            assert_eq!(again.status, StatusCode::CONFLICT);
            assert_eq!(
                again.body, first.body,
                "the first answer, not idempotency-pending"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_garbage_authorization_header_does_not_lift_the_rate_limit() {
        for (s, _keep) in states("writes_review_ratelimit").await {
            let mut limited = 0;
            for _ in 0..60 {
                let r = post(&s, "/api/v1/certificates", Some("garbage"), &json!({})).await;
                if r.status == StatusCode::TOO_MANY_REQUESTS {
                    limited += 1;
                }
            }
            assert!(
                limited > 0,
                "60 requests with a garbage token were never limited"
            );
        }
    }
}

/// A renewal that re-issues a card: the old card is cancelled that day, the new one is issued
/// valid to the rule's date, each history names the other, and the two move together or not at
/// all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_that_reissues_a_card_links_it_to_its_predecessor() {
    use chrono::Datelike;
    for (s, _keep) in states("writes_reissue").await {
        let f = fixture::fill(&s).await;
        let a = actors(&s).await;
        let today = today_in_china();
        let new_number = format!("粤A01{}000777", today.year());
        let renew = |sample: &fixture::Sample, n: &str| json!({"number": sample.number, "kind": sample.kind, "change": "renew", "new_number": n});
        let changes = "/api/v1/certificates/changes";
        let head = s.store.journal_head().await.unwrap();

        // Refused, with nothing written: a number of another year, the same number, a kind
        // numbered by the ID number, a change other than a renewal, another department.
        let wrong_year = format!("粤A01{}000777", today.year() - 1);
        let r = post(
            &s,
            changes,
            Some(&a.mohurd_44),
            &renew(&f.review_due, &wrong_year),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("new_number"), "{}", r.body);
        let same = f.review_due.number.to_lowercase();
        let r = post(
            &s,
            changes,
            Some(&a.mohurd_44),
            &renew(&f.review_due, &same),
        )
        .await;
        assert_eq!(code(&r), "same-number", "{}", r.body);
        let r = post(&s, changes, Some(&a.mem_44), &renew(&f.valid, "T1")).await;
        assert_eq!(code(&r), "renewed-in-place", "{}", r.body);
        let mut suspend = renew(&f.review_due, &new_number);
        suspend["change"] = "suspend".into();
        let r = post(&s, changes, Some(&a.mohurd_44), &suspend).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("new_number"), "{}", r.body);
        let r = post(
            &s,
            changes,
            Some(&a.mem_44),
            &renew(&f.review_due, &new_number),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(
            s.store
                .certificate(&new_number, f.review_due.kind)
                .await
                .unwrap()
                .is_none()
        );
        let refusals = s.store.journal(head, 100).await.unwrap();
        assert!(
            refusals.iter().all(|e| e.kind() == "refused"),
            "only refusals were journaled: {refusals:?}"
        );

        // The renewal itself.
        let r = post(
            &s,
            changes,
            Some(&a.mohurd_44),
            &renew(&f.review_due, &new_number),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["number"], new_number.as_str());
        assert_eq!(v["status"], "valid");
        assert_eq!(v["issued_on"], today.to_string());
        assert_eq!(v["journal"]["change"], "issued");
        assert_eq!(v["renews"]["number"], f.review_due.number.as_str());
        assert_eq!(v["renews"]["status"], "revoked");
        assert_eq!(v["renews"]["status_reason"]["code"], "cancelled");
        assert_eq!(v["renews"]["journal"]["change"], "renewed-as");
        let old = s
            .store
            .certificate(&f.review_due.number, f.review_due.kind)
            .await
            .unwrap()
            .unwrap();
        let new = s
            .store
            .certificate(&new_number, f.review_due.kind)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(new.holder_key, old.holder_key);
        assert_eq!(new.first_issued_on, old.first_issued_on);
        let policy = s.policy();
        let rule = policy.lifecycle_of(policy.kind(&old.kind).unwrap());
        let window = hutong_core::journal::renewal_window(&old, rule).unwrap();
        assert_eq!(new.valid_until, Some(window.extended_to));
        assert!(window.extended_to > today, "{window:?}");

        // Each history names the other; the hashes are the records'.
        let history = |n: &str| {
            let body = json!({"number": n, "kind": f.review_due.kind});
            let s = &s;
            let t = a.mohurd_44.clone();
            async move {
                let h = post(s, "/api/v1/certificates/history", Some(&t), &body).await;
                assert_eq!(h.status, StatusCode::OK, "{}", h.body);
                serde_json::from_str::<Value>(&h.body).unwrap()
            }
        };
        let h = history(&new_number).await;
        assert_eq!(
            h["entries"][0]["change"]["renews"],
            f.review_due.number.as_str()
        );
        let h = history(&f.review_due.number).await;
        let last = h["entries"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["change"]["change"], "renewed-as");
        assert_eq!(last["change"]["number"], new_number.as_str());
        assert_eq!(
            last["record_sha256"],
            hutong_core::journal::certificate_digest(&old).1.as_str()
        );

        // The old card cannot be renewed again, and a taken number is refused whole.
        let r = post(
            &s,
            changes,
            Some(&a.mohurd_44),
            &renew(&f.review_due, &new_number),
        )
        .await;
        assert_eq!(code(&r), "wrong-state", "{}", r.body);
        let e = s.store.journal_head().await.unwrap();
        let mut again = old.clone();
        again.state = hutong_core::AdminState::Active;
        let (id, stored) = s
            .store
            .certificate_with_id(&old.number, &old.kind)
            .await
            .unwrap()
            .unwrap();
        let write = hutong_store::CertificateWrite {
            id,
            after_sha256: hutong_core::journal::certificate_digest(&again).1,
            after: again.clone(),
            change: "{}".into(),
            before: stored,
        };
        let taken = hutong_store::Issue::renewing(new.clone(), &old.number);
        let r = s
            .store
            .renew_as(&write, &taken, "test", now_micros(), None)
            .await;
        assert!(
            matches!(r, Err(hutong_store::StoreError::Conflict(_))),
            "{r:?}"
        );
        assert_eq!(
            s.store.journal_head().await.unwrap(),
            e,
            "nothing was written"
        );
        assert_eq!(
            s.store.certificate(&old.number, &old.kind).await.unwrap(),
            Some(old.clone()),
            "the old card was not touched"
        );
    }
}
