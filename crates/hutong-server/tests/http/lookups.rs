//! `GET /api/v1/verify` and `GET /api/v1/holders/certificates` on demo-like data.

use axum::http::StatusCode;
use serde_json::Value;

use super::fixture::{self, enc, verify_uri};
use super::{get, states};

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn status_of(s: &hutong_server::AppState, sample: &fixture::Sample) -> Value {
    let (code, ctype, body) = get(s, &verify_uri(sample)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(ctype, "application/json");
    let v = json(&body);
    assert_eq!(v["found"], true, "{body}");
    assert_eq!(v["certificates"].as_array().unwrap().len(), 1, "{body}");
    v["certificates"][0].clone()
}

fn check(c: &Value, id: &str) -> String {
    c["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ch| ch["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {c}"))["outcome"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn verify_gives_each_status_with_its_dates_and_checks() {
    for (s, _keep) in states("lookups::verify_gives_each_status_with_its_dates_and_checks").await {
        eprintln!(
            "verify_gives_each_status_with_its_dates_and_checks: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;

        let c = status_of(&s, &f.valid).await;
        assert_eq!(c["status"], "valid");
        assert!(c["valid_until"].is_string());
        let ids: Vec<&str> = c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["registered", "issuer", "state-recognised", "status"]);
        for id in ids {
            assert_eq!(check(&c, id), "pass", "{c}");
        }
        let cert = &c["certificate"];
        assert_eq!(cert["kind"], "mem.electrical.low-voltage");
        assert_eq!(
            cert["kind_name_zh"],
            "特种作业操作证 · 电工作业 · 低压电工作业"
        );
        assert_eq!(cert["department"]["id"], "mem");
        assert_eq!(cert["issuer"]["name_zh"], "广东省应急管理厅");
        assert_eq!(cert["issuer"]["region"]["name_zh"], "广东省");
        assert_eq!(cert["issuer"]["registration"], "registered");
        assert_eq!(cert["holder_name"], "张*明");
        let number = cert["number"].as_str().unwrap();
        assert!(
            number.starts_with("T44") && number.contains("****"),
            "{number}"
        );
        // The mem six-year validity is a secondary fact: marked provisional.
        assert!(
            c["provisional"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["fact"] == "lifecycle")
        );

        let c = status_of(&s, &f.review_due).await;
        assert_eq!(c["status"], "review-due", "{c}");
        assert!(
            c["review_due_from"].is_string() && c["valid_until"].is_string(),
            "{c}"
        );
        assert_eq!(check(&c, "status"), "pass");

        let c = status_of(&s, &f.expired).await;
        assert_eq!(c["status"], "expired", "{c}");
        assert!(c["expired_on"].is_string());
        assert_eq!(check(&c, "status"), "fail");
        assert_eq!(check(&c, "issuer"), "pass");

        let c = status_of(&s, &f.suspended).await;
        assert_eq!(c["status"], "suspended", "{c}");
        assert!(c["suspended_on"].is_string());
        assert_eq!(check(&c, "status"), "fail");
        assert_eq!(check(&c, "state-recognised"), "pass");
        assert_eq!(c["certificate"]["level"]["id"], "4");
        assert_eq!(c["certificate"]["occupation"]["name_zh"], "电工");
        assert_eq!(c["certificate"]["holder_name"], "欧**娜");

        let c = status_of(&s, &f.revoked).await;
        assert_eq!(c["status"], "revoked", "{c}");
        assert!(c["revoked_on"].is_string());
        assert_eq!(check(&c, "status"), "fail");
        let number = c["certificate"]["number"].as_str().unwrap();
        assert!(
            number.starts_with("44************") && number.len() == 18,
            "{number}"
        );
    }
}

#[tokio::test]
async fn a_wrong_name_and_an_unknown_number_get_the_same_bytes() {
    for (s, _keep) in states("lookups::a_wrong_name_and_an_unknown_number_get_the_same_bytes").await
    {
        eprintln!(
            "a_wrong_name_and_an_unknown_number_get_the_same_bytes: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let wrong_name = format!(
            "/api/v1/verify?number={}&name={}",
            enc(&f.review_due.number),
            enc("李五")
        );
        let unknown = format!(
            "/api/v1/verify?number={}&name={}",
            enc("粤A012020999999"),
            enc("李四")
        );
        let wrong_kind = format!(
            "{}&kind=mohurd.construction.scaffolder",
            &verify_uri(&f.review_due)[..verify_uri(&f.review_due).find("&kind").unwrap()]
        );
        let (c1, _, a) = get(&s, &wrong_name).await;
        let (c2, _, b) = get(&s, &unknown).await;
        let (c3, _, c) = get(&s, &wrong_kind).await;
        assert_eq!(
            (c1, c2, c3),
            (StatusCode::OK, StatusCode::OK, StatusCode::OK)
        );
        assert_eq!(a, b);
        assert_eq!(a, c);
        let v = json(&a);
        assert_eq!(v["found"], false);
        assert_eq!(v["certificates"].as_array().unwrap().len(), 0);
    }
}

#[tokio::test]
async fn the_id_number_opens_a_certificate_instead_of_or_besides_the_name() {
    for (s, _keep) in
        states("lookups::the_id_number_opens_a_certificate_instead_of_or_besides_the_name").await
    {
        eprintln!(
            "the_id_number_opens_a_certificate_instead_of_or_besides_the_name: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let by_id = format!(
            "/api/v1/verify?number={}&id={}",
            enc(&f.expired.number),
            f.expired.id
        );
        let (_, _, body) = get(&s, &by_id).await;
        assert_eq!(
            json(&body)["certificates"][0]["status"],
            "expired",
            "{body}"
        );
        let both_wrong_id = format!(
            "/api/v1/verify?number={}&name={}&id={}",
            enc(&f.expired.number),
            enc(f.expired.name),
            f.valid.id
        );
        let (_, _, body) = get(&s, &both_wrong_id).await;
        assert_eq!(json(&body)["found"], false);
    }
}

#[tokio::test]
async fn kinds_sharing_a_number_are_listed_and_kind_narrows_to_one() {
    for (s, _keep) in
        states("lookups::kinds_sharing_a_number_are_listed_and_kind_narrows_to_one").await
    {
        eprintln!(
            "kinds_sharing_a_number_are_listed_and_kind_narrows_to_one: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let uri = format!(
            "/api/v1/verify?number={}&name={}",
            enc(&f.valid.number.to_lowercase()),
            enc(" 张小明 ")
        );
        let (_, _, body) = get(&s, &uri).await;
        let v = json(&body);
        let kinds: Vec<&str> = v["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["certificate"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["mem.electrical.low-voltage", "mem.welding.fusion-cutting"]
        );
        let c = status_of(&s, &f.valid_welding).await;
        assert_eq!(c["certificate"]["kind"], "mem.welding.fusion-cutting");
    }
}

#[tokio::test]
async fn bad_parameters_are_400_problems_that_never_echo_an_id_number() {
    for (s, _keep) in
        states("lookups::bad_parameters_are_400_problems_that_never_echo_an_id_number").await
    {
        eprintln!(
            "bad_parameters_are_400_problems_that_never_echo_an_id_number: on {}",
            s.store.backend()
        );
        fixture::fill(&s).await;
        let cases = [
            (
                "/api/v1/verify",
                "number: the certificate number is required",
            ),
            (
                "/api/v1/verify?number=%E7%B2%A4A012024000001",
                "a second factor is required",
            ),
            (
                "/api/v1/verify?number=T440305&name=x",
                "has the form of no certificate number",
            ),
            (
                "/api/v1/verify?number=%E7%B2%A4A012024000001&name=x&kind=nope",
                "kind: \\\"nope\\\" is not a certificate kind",
            ),
            (
                "/api/v1/verify?number=%E7%B2%A4A012024000001&id=440305198506151012",
                "id: the resident ID number's check character is wrong",
            ),
            (
                "/api/v1/holders/certificates?name=x",
                "id: the holder's resident ID number is required",
            ),
            (
                "/api/v1/holders/certificates?id=440305198506151012&name=x",
                "id: the resident ID number's check character is wrong",
            ),
            (
                "/api/v1/verify?number=%FF&name=x",
                "number: has the form of no certificate number",
            ),
        ];
        for (uri, expected) in cases {
            let (code, ctype, body) = get(&s, uri).await;
            assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
            assert_eq!(ctype, "application/problem+json", "{uri}");
            assert!(body.contains(expected), "{uri}: {body}");
            assert!(
                !body.contains("440305198506151012"),
                "{uri} echoes the ID: {body}"
            );
            let v = json(&body);
            assert_eq!(v["status"], 400);
        }
    }
}

#[tokio::test]
async fn the_one_stop_query_lists_a_holders_certificates() {
    for (s, _keep) in states("lookups::the_one_stop_query_lists_a_holders_certificates").await {
        eprintln!(
            "the_one_stop_query_lists_a_holders_certificates: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let uri = format!(
            "/api/v1/holders/certificates?id={}&name={}",
            f.review_due.id.to_lowercase(),
            enc("李四")
        );
        let (code, _, body) = get(&s, &uri).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let v = json(&body);
        assert_eq!(v["found"], true);
        let got: Vec<(&str, &str)> = v["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["certificate"]["kind"].as_str().unwrap(),
                    c["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("mohurd.construction.electrician", "review-due"),
                ("mohurd.construction.scaffolder", "expired")
            ]
        );
        assert!(got.iter().all(|_| true));
        assert!(
            v["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["certificate"]["holder_name"] == "李*")
        );

        // A wrong name and a holder with no certificate: the same answer.
        let wrong = format!(
            "/api/v1/holders/certificates?id={}&name={}",
            f.review_due.id,
            enc("李五")
        );
        let nobody = format!(
            "/api/v1/holders/certificates?id={}&name={}",
            hutong_core::ResidentId::synthesize(
                110105,
                chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap(),
                1
            )
            .as_str(),
            enc("李四")
        );
        let (_, _, a) = get(&s, &wrong).await;
        let (_, _, b) = get(&s, &nobody).await;
        assert_eq!(a, b);
        assert_eq!(json(&a)["found"], false);
    }
}

#[tokio::test]
async fn lookups_are_never_cached_nor_passed_on_as_referrers() {
    for (s, _keep) in states("lookups::lookups_are_never_cached_nor_passed_on_as_referrers").await {
        eprintln!(
            "lookups_are_never_cached_nor_passed_on_as_referrers: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let a = super::send(
            &s,
            axum::http::Request::get(verify_uri(&f.valid))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.headers["cache-control"], "no-store");
        assert_eq!(a.headers["referrer-policy"], "no-referrer");
    }
}
