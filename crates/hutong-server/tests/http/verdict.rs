//! The verdict of the lookup answers and the result page's banner: one overall answer per
//! certificate, never `verified` (nor a green banner) above a check that did not pass.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Days;
use serde_json::{Value, json};

use hutong_core::date::{Period, today_in_china};
use hutong_core::{AdminState, Certificate, Issuer, ResidentId};
use hutong_store::InsertMode;

use super::fixture::{self, Sample, enc, verify_uri};
use super::{get, send, states};

/// The certificate of the answer, checked for the rule of docs/verification.md ("The verdict")
/// against its own checks and status.
fn consistent(c: &Value) -> &str {
    let verdict = c["verdict"].as_str().unwrap_or_default();
    let checks = c["checks"].as_array().unwrap();
    let not_passed = checks.iter().any(|ch| ch["outcome"] != "pass");
    let provisional = checks.iter().any(|ch| ch["provisional"] == true);
    let status = c["status"].as_str().unwrap_or_default();
    let expected = if not_passed || !matches!(status, "valid" | "review-due") {
        "not-verified"
    } else if provisional || status == "review-due" {
        "attention"
    } else {
        "verified"
    };
    assert_eq!(verdict, expected, "{c}");
    verdict
}

async fn api_verdict(s: &hutong_server::AppState, sample: &Sample) -> String {
    let (code, _, body) = get(s, &verify_uri(sample)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let c = &v["certificates"][0];
    assert_eq!(c["certificate"]["kind"], sample.kind, "{body}");
    consistent(c).to_string()
}

/// The result page's banner: its verdict class and attribute, and the outcomes of the checks
/// below it.
async fn page_banner(s: &hutong_server::AppState, sample: &Sample) -> (String, Vec<String>) {
    let uri = format!(
        "/verify/result?number={}&name={}&kind={}",
        enc(&sample.number),
        enc(sample.name),
        sample.kind
    );
    let (code, _, body) = get(s, &uri).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let at = body.find("data-verdict=\"").expect("a verdict banner") + "data-verdict=\"".len();
    let verdict = body[at..].split('"').next().unwrap().to_string();
    assert!(
        body.contains(&format!("class=\"status {verdict}\"")),
        "the banner's colour is the verdict's: {body}"
    );
    let outcomes = ["pass", "fail", "not-applicable"]
        .into_iter()
        .filter(|o| body.contains(&format!("<li class=\"{o}\" data-check=")))
        .map(str::to_string)
        .collect();
    (verdict, outcomes)
}

#[tokio::test]
async fn answers_and_banners_carry_the_verdict_of_their_checks() {
    for (s, _keep) in states("verdict::answers_and_banners_carry_the_verdict_of_their_checks").await
    {
        let f = fixture::fill(&s).await;
        // A valid construction certificate whose facts are all confirmed.
        let today = today_in_china();
        let issued = today - Days::new(100);
        let id = ResidentId::parse(&fixture::IDS[1]).unwrap();
        let good = Certificate {
            number: format!("粤B02{}000009", chrono::Datelike::year(&issued)),
            kind: "mohurd.construction.scaffolder".into(),
            holder_key: super::secret().key_for(&id),
            holder_name: "李四".into(),
            occupation: None,
            level: None,
            issuer: "mohurd.44".into(),
            issued_on: issued,
            first_issued_on: issued,
            valid_until: Some(Period::Years(2).after(issued)),
            last_review_on: None,
            state: AdminState::Active,
        };
        hutong_store::write::issue(
            &*s.store,
            std::slice::from_ref(&good),
            "test",
            InsertMode::AllOrNothing,
        )
        .await
        .unwrap();
        let verified = Sample {
            number: good.number.clone(),
            kind: "mohurd.construction.scaffolder",
            name: "李四",
            id: fixture::IDS[1].clone(),
        };

        for (sample, expected) in [
            (&verified, "verified"),
            // The mem lifecycle's validity is provisional in the policy.
            (&f.valid, "attention"),
            (&f.review_due, "attention"),
            (&f.expired, "not-verified"),
            (&f.suspended, "not-verified"),
            (&f.revoked, "not-verified"),
        ] {
            assert_eq!(api_verdict(&s, sample).await, expected, "{sample:?}");
            let (banner, outcomes) = page_banner(&s, sample).await;
            assert_eq!(banner, expected, "{sample:?}");
            if outcomes.iter().any(|o| o != "pass") {
                assert_eq!(banner, "not-verified", "{sample:?}: {outcomes:?}");
            }
        }

        // The issuer is amended: registered only from today, after both certificates were
        // issued. Their issuer check fails; a valid status does not make them verified.
        let mut issuer: Issuer = s.store.issuer("mohurd.44").await.unwrap().unwrap();
        issuer.registered_on = today;
        for g in &mut issuer.grants {
            g.valid_from = today;
        }
        hutong_store::write::register_issuers(&*s.store, &[issuer], "test")
            .await
            .unwrap();
        s.refresh_issuers().await.unwrap();
        for sample in [&verified, &f.review_due] {
            assert_eq!(api_verdict(&s, sample).await, "not-verified", "{sample:?}");
            let (banner, outcomes) = page_banner(&s, sample).await;
            assert_eq!(banner, "not-verified");
            assert!(outcomes.contains(&"fail".to_string()), "{outcomes:?}");
        }

        // The one-stop query: every certificate of the holder with its own verdict.
        let a = send(
            &s,
            Request::post("/api/v1/holders/certificates")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"id": f.review_due.id, "name": "李四"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        let certs = v["certificates"].as_array().unwrap();
        assert_eq!(certs.len(), 3, "{}", a.body);
        for c in certs {
            consistent(c);
        }
    }
}
