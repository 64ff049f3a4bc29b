//! Regression tests for recognition over HTTP, one per defect of issue 8 (`r8_<item>_…`).

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

#[tokio::test]
async fn r8_09_null_status_gets_a_400_naming_the_field() {
    for (s, _keep) in states("regression_recognition::r8_09").await {
        let missing = json!({"kind": "mem.electrical.low-voltage", "issued_on": "2024-05-10"});
        let mut null = missing.clone();
        null["status"] = Value::Null;
        for holding in [missing, null] {
            let a = send(
                &s,
                post_json(
                    "/api/v1/recognition/advice",
                    &json!({"holdings": [holding]}),
                ),
            )
            .await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
            assert!(a.body.contains("holdings[0].status: missing"), "{}", a.body);
        }
    }
}

#[tokio::test]
async fn r8_18_stated_advice_masks_numbers_that_embed_an_id_number() {
    for (s, _keep) in states("regression_recognition::r8_18_mask").await {
        // `send` fails the test when an answer contains one of the fixture's ID numbers.
        let id = &fixture::IDS[0];
        let body = json!({"as_of": "2026-11-26", "holdings": [
            {"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2024-06-01", "number": format!("T{id}")},
            {"kind": "samr.welding.metal", "status": "revoked", "issued_on": "2024-01-15", "number": id},
        ]});
        let a = send(&s, post_json("/api/v1/recognition/advice", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        let shown = v["applications"][0]["grounds"][0]["number"]
            .as_str()
            .unwrap();
        assert_eq!(shown, format!("T{}************{}", &id[..2], &id[14..]));
        let shown = v["not_applied"][0]["number"].as_str().unwrap();
        assert_eq!(shown, format!("{}************{}", &id[..2], &id[14..]));
    }
}

#[tokio::test]
async fn r8_18_check_and_holder_advice_answer_as_before() {
    for (s, _keep) in states("regression_recognition::r8_18_shape").await {
        let f = fixture::fill(&s).await;
        let body = json!({"id": f.valid.id, "name": f.valid.name, "target": "mohurd.construction.electrician"});
        let a = send(&s, post_json("/api/v1/recognition/check", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "already_held",
                "as_of",
                "department",
                "exemptions",
                "found",
                "grounds",
                "holder",
                "not_applied",
                "note",
                "provisional",
                "rules",
                "target",
                "target_en",
                "target_zh"
            ]
        );
        assert_eq!(v["department"], "mohurd");
        assert_eq!(v["holder"], json!({"name": "张*明"}));
        let body = json!({"id": f.valid.id, "name": f.valid.name});
        let a = send(&s, post_json("/api/v1/holders/advice", &body)).await;
        let v: Value = serde_json::from_str(&a.body).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["advice", "certificates", "found", "holder"]);
        // A null target is a missing one.
        let body = json!({"id": f.valid.id, "name": f.valid.name, "target": null});
        let a = send(&s, post_json("/api/v1/recognition/check", &body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.body.contains("target: required"), "{}", a.body);
    }
}
