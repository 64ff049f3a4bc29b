//! The OpenAPI document is generated from the handlers and covers every `/api/v1` route.

use axum::http::StatusCode;

use super::{get, send, states_with};

/// Every `/api/v1/…` path written anywhere in the server's source.
fn api_paths_in_source() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("\"/api/v1/") {
                    let rest = &text[i + 1..];
                    let end = rest.find(['"', '?']).unwrap();
                    out.push(rest[..end].to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
    );
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    // One request per documented operation, more than a client's burst of lookups.
    let settings = hutong_server::state::Settings {
        demo: true,
        rate_limits: hutong_server::ratelimit::RateLimitSettings {
            lookup_burst: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    for (s, _keep) in states_with(
        settings,
        "openapi_doc::every_api_route_is_in_the_openapi_document",
    )
    .await
    {
        eprintln!(
            "every_api_route_is_in_the_openapi_document: on {}",
            s.store.backend()
        );
        let (code, ctype, body) = get(&s, "/api/openapi.json").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(ctype, "application/json");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        let in_source = api_paths_in_source();
        assert!(
            in_source.contains(&"/api/v1/verify".to_string()),
            "{in_source:?}"
        );
        for p in &in_source {
            assert!(
                paths.contains(&p),
                "{p} is routed but not documented: {paths:?}"
            );
        }
        // And every documented operation is routed: it answers, if only with a 400 for no
        // parameters (or an empty body), or a 401 for no token where it needs one.
        for p in paths {
            for method in doc["paths"][p.as_str()].as_object().unwrap().keys() {
                let req = axum::http::Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(p.as_str())
                    .header("content-type", "application/json")
                    .body(axum::body::Body::empty())
                    .unwrap();
                let a = send(&s, req).await;
                // A security list with an empty requirement allows a request without a token.
                let needs_token = doc["paths"][p.as_str()][method.as_str()]["security"]
                    .as_array()
                    .is_some_and(|s| {
                        !s.iter()
                            .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                    });
                let op = &doc["paths"][p.as_str()][method.as_str()];
                let takes_nothing = op["parameters"].as_array().is_none_or(|a| a.is_empty())
                    && op["requestBody"].is_null();
                let want = if needs_token {
                    StatusCode::UNAUTHORIZED
                } else if takes_nothing {
                    // Nothing to leave out: it answers.
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                };
                assert_eq!(a.status, want, "{method} {p}: {}", a.body);
            }
        }
        // The verification query is one exploded object parameter, so that its alternatives
        // (number + name, number + id) can be stated.
        let verify = &doc["paths"]["/api/v1/verify"]["get"];
        let query = &verify["parameters"][0];
        assert_eq!(query["in"], "query");
        assert_eq!(query["explode"], true);
        let params: Vec<&String> = query["schema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(params, ["id", "kind", "name", "number"]);
        assert!(
            doc["components"]["schemas"]["LookupAnswer"].is_object(),
            "{body}"
        );
    }
}
