//! Exam sessions over the API: a joint evaluation needs the other issuer's agreement, given with
//! its own token; the results import issues every passing candidate's certificates once; bad
//! rows name their line and field; tokens outside the session are refused.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::rights::Actor;

use crate::fixture;
use crate::writes::token;
use crate::{AppState, send, states};

async fn post(s: &AppState, uri: &str, body: &Value, token: &str) -> (StatusCode, Value, String) {
    let a = send(
        s,
        Request::post(uri)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    let v = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    (a.status, v, a.body)
}

fn session() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/exam-session.toml"),
    )
    .unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    let mut j = serde_json::to_value(v).unwrap();
    j["date"] = json!("2026-11-20");
    j
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_session_issues_both_certificates_once_both_issuers_agree() {
    for (s, _keep) in states("exam::a_joint_session").await {
        fixture::fill(&s).await;
        let mem = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let inst = token(
            &s,
            Actor::Institution {
                issuer: "inst.s0000-44-000123".into(),
            },
        )
        .await;
        let samr = token(
            &s,
            Actor::Authority {
                department: "samr".into(),
                region: None,
            },
        )
        .await;
        let results = "holder_id,name,theory,practical\n\
                       110101199001011237,王五,75,80\n\
                       110101199001011253,赵六,40,90\n";
        let body = json!({"session": session(), "results": results});

        // Before the institution agrees, the authority cannot issue the joint session's output.
        let (code, _, answer) = post(&s, "/api/v1/exam-sessions/results", &body, &mem).await;
        assert_eq!(code, StatusCode::CONFLICT, "{answer}");
        assert!(
            answer.contains("inst.s0000-44-000123 has not agreed"),
            "{answer}"
        );
        // A token that issues none of the outputs is refused.
        let (code, _, answer) = post(
            &s,
            "/api/v1/exam-sessions/agreements",
            &json!({"session": session()}),
            &samr,
        )
        .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");

        let (code, agreed, answer) = post(
            &s,
            "/api/v1/exam-sessions/agreements",
            &json!({"session": session()}),
            &inst,
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{answer}");
        assert_eq!(agreed["agreed"], json!(["inst.s0000-44-000123"]));

        // A bad row rejects the whole file, naming line and field.
        let bad = json!({"session": session(), "results": "holder_id,name,theory,practical\n110101199001011237,王五,七十,80\n"});
        let (code, _, answer) = post(&s, "/api/v1/exam-sessions/results", &bad, &mem).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer.contains("results line 2: theory"), "{answer}");

        let (code, report, answer) = post(&s, "/api/v1/exam-sessions/results", &body, &mem).await;
        assert_eq!(code, StatusCode::CREATED, "{answer}");
        assert_eq!(report["issued"], 2, "{answer}");
        assert_eq!(report["passed"], 1, "{answer}");
        let wang = &report["outcomes"][0]["outputs"];
        assert_eq!(wang[0]["passed"], true);
        assert_eq!(wang[1]["passed"], true);
        assert!(
            wang[1]["number"]
                .as_str()
                .unwrap()
                .starts_with("S000044440305"),
            "{answer}"
        );
        let zhao = &report["outcomes"][1]["outputs"];
        assert_eq!(zhao[0]["theory"]["outcome"], "failed");
        assert!(
            !answer.contains("110101199001011237"),
            "an ID number in the report"
        );
        // Both certificates are registered.
        let key = s
            .secret
            .key_for(&hutong_core::ResidentId::parse("110101199001011237").unwrap());
        let held = s.store.certificates_by_holder(&key).await.unwrap();
        assert_eq!(held.len(), 2);

        // The same results again: nothing issued; other results: refused.
        let (code, again, _) = post(&s, "/api/v1/exam-sessions/results", &body, &mem).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(again, report);
        assert_eq!(s.store.certificates_by_holder(&key).await.unwrap().len(), 2);
        let other = json!({"session": session(), "results": "holder_id,name,theory,practical\n110101199001011253,赵六,90,90\n"});
        let (code, _, answer) = post(&s, "/api/v1/exam-sessions/results", &other, &mem).await;
        assert_eq!(code, StatusCode::CONFLICT, "{answer}");
        assert!(answer.contains("other-results"), "{answer}");

        // The organisers' page: the institution sees the outcome; another department does not.
        let page = |t: &str| {
            let s = s.clone();
            let form = format!("token={t}&session=2026-44-0001");
            async move {
                send(
                    &s,
                    Request::post("/exam-sessions")
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Body::from(form))
                        .unwrap(),
                )
                .await
            }
        };
        let a = page(&inst).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.contains("id=\"issued\">2<"), "{}", a.body);
        assert!(a.body.contains("王五") && a.body.contains("11************1237"));
        assert_eq!(a.body.matches("data-passed=\"true\"").count(), 2);
        let a = page(&samr).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
        assert!(!a.body.contains("王五"));
    }
}

/// The organisers' page in a real browser at a phone's width and a desktop's: the outcome table
/// fits the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisers_page_fits_a_phone_and_a_desktop() {
    use fantoccini::Locator;
    if !crate::webdriver::enabled() {
        return;
    }
    let (s, _dir) = crate::state().await;
    fixture::fill(&s).await;
    let inst = token(
        &s,
        Actor::Institution {
            issuer: "inst.s0000-44-000123".into(),
        },
    )
    .await;
    let mem = token(
        &s,
        Actor::Authority {
            department: "mem".into(),
            region: Some("44".into()),
        },
    )
    .await;
    post(
        &s,
        "/api/v1/exam-sessions/agreements",
        &json!({"session": session()}),
        &inst,
    )
    .await;
    let results = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/exam-results.csv"),
    )
    .unwrap();
    let (code, _, answer) = post(
        &s,
        "/api/v1/exam-sessions/results",
        &json!({"session": session(), "results": results}),
        &mem,
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let b = crate::webdriver::Session::start(&s).await;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages-exam");
    std::fs::create_dir_all(&shots).unwrap();
    let run = async {
        let c = &b.client;
        for width in [390u32, 1280] {
            c.set_window_size(width, 1000).await.unwrap();
            c.goto(&format!("{}/exam-sessions?lang=en", b.base))
                .await
                .unwrap();
            c.find(Locator::Css("#token"))
                .await
                .unwrap()
                .send_keys(&inst)
                .await
                .unwrap();
            c.find(Locator::Css("#session"))
                .await
                .unwrap()
                .send_keys("2026-44-0001")
                .await
                .unwrap();
            c.find(Locator::Css("button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait()
                .for_element(Locator::Css("#outcomes"))
                .await
                .unwrap();
            let fits = c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth, document.querySelectorAll('#outcomes tbody tr').length];",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                fits[0].as_f64() <= fits[1].as_f64(),
                "wider than the window at {width}: {fits}"
            );
            assert_eq!(fits[2], 6, "three candidates, two outputs each: {fits}");
            std::fs::write(
                shots.join(format!("exam-{width}.png")),
                c.screenshot().await.unwrap(),
            )
            .unwrap();
        }
    };
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(120), run).await;
    b.end().await;
    outcome.expect("the browser test took more than two minutes");
}
