//! Regression tests for the API defects of issue 8 (privacy of error answers, problem details
//! everywhere, an OpenAPI document that describes the API), one per defect, named after it.
//!
//! [`send`] already fails any answer that carries one of the fixture's ID numbers; these tests
//! also check what is answered instead.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use super::fixture::{self, IDS, enc};
use super::{Answer, get, send, state, states};

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The masked form public answers give an ID number.
fn masked(id: &str) -> String {
    format!("{}************{}", &id[..2], &id[14..])
}

fn problem(a: &Answer) -> Value {
    assert_eq!(a.ctype, "application/problem+json", "{}", a.body);
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body));
    assert_eq!(v["status"], a.status.as_u16(), "{v}");
    v
}

#[tokio::test]
async fn r8_12_an_id_number_in_the_wrong_field_is_masked_in_the_error() {
    let (s, _d) = state().await;
    let id = &IDS[0];
    let m = masked(id);
    let bad = [
        // A kind, a target, a region, an unknown key, an unknown holding field.
        send(
            &s,
            Request::get(format!("/api/v1/verify?number=T{id}&name=x&kind={id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await,
        send(
            &s,
            post_json(
                "/api/v1/recognition/check",
                &json!({"id": IDS[1], "name": "x", "target": id}).to_string(),
            ),
        )
        .await,
        send(
            &s,
            post_json(
                "/api/v1/recognition/advice",
                &json!({"holdings": [], "region": id}).to_string(),
            ),
        )
        .await,
        send(
            &s,
            post_json(
                "/api/v1/recognition/advice",
                &json!({"holdings": [], (id.as_str()): 1}).to_string(),
            ),
        )
        .await,
        send(
            &s,
            post_json(
                "/api/v1/recognition/advice",
                &json!({"holdings": [{"kind": id, "status": "valid"}]}).to_string(),
            ),
        )
        .await,
        send(
            &s,
            post_json(
                "/api/v1/holders/certificates",
                &json!({"id": IDS[1], "name": "x", (id.as_str()): "?"}).to_string(),
            ),
        )
        .await,
    ];
    for a in &bad {
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        let p = problem(a);
        assert!(
            p["detail"].as_str().unwrap().contains(&m),
            "the detail names the masked value: {p}"
        );
    }
    // The page form: `hold=` with an ID number.
    let a = send(
        &s,
        Request::post("/advice/result")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("hold={id}")))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains(&m), "{}", a.body);
}

#[tokio::test]
async fn r8_12_advice_masks_the_numbers_of_stated_holdings() {
    let (s, _d) = state().await;
    let id = &IDS[2];
    let body = json!({"holdings": [
        {"kind": "mem.electrical.low-voltage", "status": "valid", "number": format!("T{id}")},
        {"kind": "samr.welding.metal", "status": "valid", "number": id},
    ]});
    let a = send(
        &s,
        post_json("/api/v1/recognition/advice", &body.to_string()),
    )
    .await;
    // `send` refuses any answer with the ID number; the masked one is there.
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains(&masked(id)), "{}", a.body);
}

#[tokio::test]
async fn r8_12_the_one_stop_query_is_posted_and_the_get_deprecated() {
    for (s, _keep) in states("regression_api::r8_12_the_one_stop_query_is_posted").await {
        let f = fixture::fill(&s).await;
        let body = json!({"id": f.valid.id, "name": f.valid.name}).to_string();
        let a = send(&s, post_json("/api/v1/holders/certificates", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.ctype, "application/json");
        assert_eq!(a.headers["cache-control"], "no-store");
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["found"], true, "{v}");
        // The same answer as the deprecated GET.
        let (_, _, old) = get(
            &s,
            &format!(
                "/api/v1/holders/certificates?id={}&name={}",
                f.valid.id,
                enc(f.valid.name)
            ),
        )
        .await;
        assert_eq!(a.body, old);
        let (_, _, doc) = get(&s, "/api/openapi.json").await;
        let doc: Value = serde_json::from_str(&doc).unwrap();
        let path = &doc["paths"]["/api/v1/holders/certificates"];
        assert_eq!(path["get"]["deprecated"], true, "{path}");
        assert!(path["post"]["requestBody"].is_object(), "{path}");
        assert_ne!(path["post"]["deprecated"], true, "{path}");
    }
}

#[tokio::test]
async fn r8_15_every_api_error_is_problem_details() {
    let (s, _d) = state().await;
    // 413 from a JSON endpoint.
    let big = format!(
        "{{\"holdings\": [], \"region\": \"{}\"}}",
        "4".repeat(20_000)
    );
    let a = send(&s, post_json("/api/v1/recognition/advice", &big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(&a)["code"], "too-large");
    // 405, with a body and the Allow header.
    let a = send(
        &s,
        Request::delete("/api/v1/verify")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem(&a)["code"], "method-not-allowed");
    assert!(a.headers.contains_key("allow"), "{:?}", a.headers);
    // An unknown API path: not the HTML page.
    let a = send(
        &s,
        Request::get("/api/v1/nothing-here")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(problem(&a)["code"], "not-found");
    // A body that is not JSON at all, and one with the wrong content type.
    let a = send(&s, post_json("/api/v1/holders/certificates", "{")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    problem(&a);
    let a = send(
        &s,
        Request::post("/api/v1/holders/certificates")
            .header("content-type", "text/plain")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    problem(&a);
    // The problem type: no made-up host; `about:blank` and a stable code.
    let a = send(
        &s,
        Request::get("/api/v1/verify").body(Body::empty()).unwrap(),
    )
    .await;
    let p = problem(&a);
    assert_eq!(p["type"], "about:blank", "{p}");
    assert_eq!(p["code"], "invalid-request", "{p}");
    assert!(!a.body.contains("hutong.example"));
    // Pages keep their HTML 404.
    let (code, ctype, _) = get(&s, "/nowhere").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(ctype.starts_with("text/html"), "{ctype}");
}

#[tokio::test]
async fn r8_16_the_openapi_document_describes_what_the_api_accepts() {
    let (s, _d) = state().await;
    let (_, _, body) = get(&s, "/api/openapi.json").await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    // The verification query: a number and a second factor, name or id.
    let q = &doc["paths"]["/api/v1/verify"]["get"]["parameters"][0]["schema"];
    assert_eq!(q["required"], json!(["number"]), "{q}");
    let factors: Vec<&Value> = q["allOf"][0]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["required"])
        .collect();
    assert_eq!(factors, [&json!(["name"]), &json!(["id"])], "{q}");
    assert!(
        q["allOf"][0]["anyOf"][1]["properties"]["id"]["pattern"].is_string(),
        "{q}"
    );
    // The one-stop query: both required.
    for p in doc["paths"]["/api/v1/holders/certificates"]["get"]["parameters"]
        .as_array()
        .unwrap()
    {
        assert_eq!(p["required"], true, "{p}");
    }
    let hb = &doc["components"]["schemas"]["HolderBody"];
    assert_eq!(hb["required"], json!(["id", "name"]), "{hb}");
    // Every body and answer is typed: no `{}` (any value) schema anywhere.
    let compact = serde_json::to_string(&doc).unwrap();
    assert!(!compact.contains(":{}"), "an untyped schema: {compact}");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for code in ["400", "413", "414", "429"] {
                assert_eq!(
                    op["responses"][code]["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}: {code} is not documented"
                );
            }
        }
    }
    let holding = &doc["components"]["schemas"]["HoldingInput"]["oneOf"][0];
    assert!(
        holding["properties"]["kind"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("mem.electrical.low-voltage")),
        "{holding}"
    );
    assert_eq!(
        doc["components"]["schemas"]["CheckRequest"]["required"],
        json!(["id", "name", "target"])
    );
}

#[tokio::test]
async fn r8_16_whole_years_written_as_3_0_are_whole_years() {
    // JSON Schema's integer (and so the document) allows 3.0; the service must too.
    let (s, _d) = state().await;
    let body = json!({"holdings": [], "experience_years": {"6-18-02-04": 3.0}}).to_string();
    let a = send(&s, post_json("/api/v1/recognition/advice", &body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let body = json!({"holdings": [], "experience_years": {"6-18-02-04": 2.5}}).to_string();
    let a = send(&s, post_json("/api/v1/recognition/advice", &body)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
}

#[tokio::test]
async fn r8_12_a_verification_by_id_number_can_be_posted() {
    for (s, _keep) in
        states("regression_api::r8_12_a_verification_by_id_number_can_be_posted").await
    {
        let f = fixture::fill(&s).await;
        // The number of a mem certificate embeds the ID number, and the second factor is one.
        let body = json!({"number": f.valid.number, "id": f.valid.id, "name": null}).to_string();
        let a = send(&s, post_json("/api/v1/verify", &body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers["cache-control"], "no-store");
        let (_, _, old) = get(
            &s,
            &format!("/api/v1/verify?number={}&id={}", f.valid.number, f.valid.id),
        )
        .await;
        assert_eq!(a.body, old);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["found"], true, "{v}");
        // No second factor, or an unknown field: refused, as for the GET.
        let a = send(
            &s,
            post_json(
                "/api/v1/verify",
                &json!({"number": f.valid.number}).to_string(),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        let a = send(
            &s,
            post_json(
                "/api/v1/verify",
                &json!({"number": f.valid.number, "name": "x", "colour": 1}).to_string(),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    }
}
