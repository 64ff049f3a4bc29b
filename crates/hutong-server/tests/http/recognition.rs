//! Mutual recognition over HTTP: advice for stated holdings, advice for a registered holder,
//! the department's check, and the 我的证书能做什么 page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use super::fixture;
use super::{send, states};

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn post_form(uri: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

fn enc(s: &str) -> String {
    fixture::enc(s)
}

#[tokio::test]
async fn advice_for_stated_holdings_has_the_contract_shape() {
    for (s, _keep) in states("recognition::advice").await {
        let body = json!({
            "as_of": "2026-11-26",
            "holdings": [{"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2023-05-10"}],
            "experience_years": {"6-31-01-03": 3}
        });
        let a = send(&s, post_json("/api/v1/recognition/advice", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["as_of"], "2026-11-26");
        assert_eq!(
            v["applications"][0]["target"],
            "mohurd.construction.electrician"
        );
        assert_eq!(
            v["applications"][0]["exemptions"],
            json!(["safety-training"])
        );
        assert_eq!(v["applications"][0]["provisional"], true);
        assert_eq!(v["deemed_levels"][0]["level"], "5");
        assert_eq!(v["next_levels"][0]["eligible_from"], "2027-05-10");

        let bad = json!({"holdings": [{"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2026-02-30"}]});
        let a = send(&s, post_json("/api/v1/recognition/advice", &bad)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.body.contains("holdings[0].issued_on"), "{}", a.body);
        let a = send(&s, post_json("/api/v1/recognition/advice", &json!([1, 2]))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn advice_for_a_registered_holder_comes_from_the_registry() {
    for (s, _keep) in states("recognition::holder_advice").await {
        let f = fixture::fill(&s).await;
        let body =
            json!({"id": f.valid.id, "name": f.valid.name, "experience_years": {"6-31-01-03": 2}});
        let a = send(&s, post_json("/api/v1/holders/advice", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers["cache-control"], "no-store");
        assert_eq!(a.headers["referrer-policy"], "no-referrer");
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["found"], true);
        assert_eq!(v["holder"]["name"], "张*明");
        assert_eq!(v["certificates"], 2);
        let targets: Vec<&str> = v["advice"]["applications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["target"].as_str().unwrap())
            .collect();
        assert!(
            targets.contains(&"mohurd.construction.electrician"),
            "{targets:?}"
        );
        assert!(
            targets.contains(&"mohurd.construction.welder"),
            "{targets:?}"
        );

        // A wrong name and an unknown holder are answered alike.
        let wrong = send(
            &s,
            post_json(
                "/api/v1/holders/advice",
                &json!({"id": f.valid.id, "name": "王五"}),
            ),
        )
        .await;
        let unknown = send(
            &s,
            post_json(
                "/api/v1/holders/advice",
                &json!({"id": fixture::IDS[3], "name": "王五"}),
            ),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::OK);
        assert_eq!(wrong.body, unknown.body);
        assert_eq!(wrong.body, r#"{"found":false}"#);
        let a = send(
            &s,
            post_json(
                "/api/v1/holders/advice",
                &json!({"id": "110105194912310021", "name": "x"}),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn the_department_check_names_the_exemptions_and_why_not() {
    for (s, _keep) in states("recognition::check").await {
        let f = fixture::fill(&s).await;
        let ask =
            |id: &str, name: &str, target: &str| json!({"id": id, "name": name, "target": target});
        let a = send(
            &s,
            post_json(
                "/api/v1/recognition/check",
                &ask(&f.valid.id, f.valid.name, "mohurd.construction.electrician"),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["exemptions"], json!(["safety-training"]));
        assert_eq!(
            v["rules"],
            json!(["m1/mem.electrical.low-voltage/mohurd.construction.electrician"])
        );
        assert_eq!(v["grounds"][0]["held"], "mem.electrical.low-voltage");
        assert!(
            !v["grounds"][0]["number"]
                .as_str()
                .unwrap()
                .contains(&f.valid.id[6..14]),
            "numbers that embed an ID are masked"
        );

        // The revoked samr welder: nothing may be granted, and the check says why.
        let a = send(
            &s,
            post_json(
                "/api/v1/recognition/check",
                &ask(&f.revoked.id, f.revoked.name, "mem.welding.fusion-cutting"),
            ),
        )
        .await;
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["exemptions"], json!([]));
        assert!(
            v["not_applied"][0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("revoked on"),
            "{v}"
        );

        let a = send(
            &s,
            post_json(
                "/api/v1/recognition/check",
                &ask(&f.valid.id, f.valid.name, "mem.nothing"),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.body.contains("target"), "{}", a.body);
    }
}

#[tokio::test]
async fn the_page_answers_for_ticked_and_registered_certificates() {
    for (s, _keep) in states("recognition::page").await {
        let f = fixture::fill(&s).await;
        let page = send(&s, Request::get("/advice").body(Body::empty()).unwrap()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("我的证书能做什么") && page.body.contains("name=\"hold\""));
        // The skill levels offered are the ones the occupations' standards define.
        assert!(
            page.body.contains("<option value=\"3\">高级工</option>"),
            "{}",
            page.body
        );

        let ticked = "mode=ticked&hold=mem.electrical.low-voltage&status%3Amem.electrical.low-voltage=valid&issued%3Amem.electrical.low-voltage=2023-05-10&exp%3A6-31-01-03=3";
        let a = send(&s, post_form("/advice/result", ticked)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("可以免予安全作业培训"), "{}", a.body);
        assert!(
            a.body.contains("视同取得电工职业初级工（五级）"),
            "{}",
            a.body
        );
        let en = send(&s, post_form("/advice/result?lang=en", ticked)).await;
        assert!(
            en.body.contains("you may be exempt from safety training"),
            "{}",
            en.body
        );

        let none = send(&s, post_form("/advice/result", "mode=ticked")).await;
        assert!(none.body.contains("请至少勾选一本证书"));

        let reg = format!(
            "mode=registered&id={}&name={}",
            f.valid.id,
            enc(f.valid.name)
        );
        let a = send(&s, post_form("/advice/result", &reg)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.headers["cache-control"], "no-store");
        assert_eq!(a.headers["referrer-policy"], "no-referrer");
        assert!(
            a.body.contains("张*明") && a.body.contains("建筑电工"),
            "{}",
            a.body
        );
        let wrong = format!("mode=registered&id={}&name={}", f.valid.id, enc("王五"));
        let a = send(&s, post_form("/advice/result", &wrong)).await;
        assert!(
            a.body.contains("未找到与该身份证号和姓名相符的已登记证书"),
            "{}",
            a.body
        );
    }
}
