//! Credentials over the API: a holder or a token gets a certificate's signed credential; the
//! verify endpoint passes it and refuses a changed one with a 422 problem; the public keys file
//! and DID documents; no ID number anywhere (`send` scans every answer).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::rights::Actor;
use hutong_credential::keyring::{Keyring, verify_certificate_credential};
use hutong_server::{AppState, Settings};

use crate::fixture;
use crate::writes::token;
use crate::{Answer, send, states_with};

pub async fn post(s: &AppState, path: &str, token: Option<&str>, body: &Value) -> Answer {
    let mut r = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    send(s, r.body(Body::from(body.to_string())).unwrap()).await
}

pub async fn get(s: &AppState, path: &str) -> Answer {
    send(s, Request::get(path).body(Body::empty()).unwrap()).await
}

pub fn json_of(a: &Answer) -> Value {
    serde_json::from_str(&a.body).unwrap_or(Value::Null)
}

async fn with_keys(test: &str) -> Vec<(AppState, crate::Keep, tempfile::TempDir)> {
    let mut out = Vec::new();
    for (s, keep) in states_with(Settings::default(), test).await {
        let dir = tempfile::tempdir().unwrap();
        // A state whose signer writes into this test's own folder.
        let settings = Settings {
            keys_dir: dir.path().join("keys"),
            public_url: Some("https://hutong.example".into()),
            ..Settings::default()
        };
        let s = AppState::new(s.store.clone(), s.policy(), crate::secret(), settings);
        out.push((s, keep, dir));
    }
    out
}

/// The fixture's certificates, and a signing key for their `mem` issuer.
async fn with_issuer_key(s: &AppState) -> fixture::Fixture {
    let f = fixture::fill(s).await;
    let issuer = s.store.issuer("mem.44").await.unwrap().unwrap();
    s.signer
        .create_key(&*s.store, &issuer, false, "test")
        .await
        .unwrap();
    f
}

#[tokio::test]
async fn a_holder_gets_a_credential_that_verifies_and_a_changed_one_does_not() {
    for (s, _keep, _dir) in with_keys("credential holder").await {
        let f = fixture::fill(&s).await;
        let body = json!({
            "number": f.valid.number, "kind": f.valid.kind,
            "id_number": f.valid.id, "name": f.valid.name,
        });
        // No key yet: a clear 422 that says what to do.
        let a = post(&s, "/api/v1/certificates/credential", None, &body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert_eq!(json_of(&a)["code"], "no-signing-key");
        assert!(
            a.body.contains("hutong keys create --issuer mem.44"),
            "{}",
            a.body
        );

        let issuer = s.store.issuer("mem.44").await.unwrap().unwrap();
        s.signer
            .create_key(&*s.store, &issuer, false, "test")
            .await
            .unwrap();
        let a = post(&s, "/api/v1/certificates/credential", None, &body).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers["cache-control"], "no-store");
        let v = json_of(&a);
        let cred = v["credential"].clone();
        assert_eq!(
            cred["issuer"]["id"],
            "did:web:hutong.example:issuers:mem.44"
        );
        assert!(v["holder_salt"].as_str().unwrap().len() >= 22);
        assert!(
            !cred
                .to_string()
                .contains(&v["holder_salt"].as_str().unwrap().to_string())
        );

        let ok = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({ "verifiableCredential": cred }),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(json_of(&ok)["verified"], true);

        let mut changed = cred.clone();
        changed["credentialSubject"]["name"] = "李四".into();
        let bad = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({ "verifiableCredential": changed }),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(
            bad.ctype.starts_with("application/problem+json"),
            "{}",
            bad.ctype
        );
        let p = json_of(&bad);
        assert_eq!(p["code"], "credential-not-verified");
        assert_eq!(p["verified"], false);
        assert!(
            p["detail"].as_str().unwrap().starts_with("signature"),
            "{p}"
        );

        // The same credential verifies offline against the public keys file.
        let keys = get(&s, "/api/v1/keys").await;
        assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
        let ring = Keyring::open(&json_of(&keys), None).unwrap();
        let r = verify_certificate_credential(&cred, &ring, &[], chrono::Utc::now());
        assert!(r.verified(), "{r:#?}");
        // And the issuer's DID document lists its key.
        let did = get(&s, "/issuers/mem.44/did.json").await;
        assert_eq!(did.status, StatusCode::OK);
        assert_eq!(
            json_of(&did)["verificationMethod"][0]["id"],
            cred["proof"]["verificationMethod"]
        );
        assert_eq!(
            get(&s, "/issuers/nobody/did.json").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_wrong_name_or_id_number_reads_as_not_found_and_input_errors_name_the_field() {
    for (s, _keep, _dir) in with_keys("credential refusals").await {
        let f = with_issuer_key(&s).await;
        let path = "/api/v1/certificates/credential";
        let wrong_name = post(
            &s,
            path,
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "id_number": f.valid.id, "name": "李四"}),
        )
        .await;
        let wrong_id = post(
            &s,
            path,
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "id_number": f.suspended.id, "name": f.valid.name}),
        )
        .await;
        let unknown = post(
            &s,
            path,
            None,
            &json!({"number": "T440101199001010000", "kind": f.valid.kind, "id_number": f.valid.id, "name": f.valid.name}),
        )
        .await;
        for a in [&wrong_name, &wrong_id, &unknown] {
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
        }
        assert_eq!(wrong_name.body, unknown.body, "no oracle");
        let no_id = post(
            &s,
            path,
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "name": f.valid.name}),
        )
        .await;
        assert_eq!(no_id.status, StatusCode::BAD_REQUEST);
        assert!(no_id.body.contains("id_number"), "{}", no_id.body);
        let bad_id = post(
            &s,
            path,
            None,
            &json!({"number": f.valid.number, "kind": f.valid.kind, "id_number": "123", "name": "x"}),
        )
        .await;
        assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
        assert!(bad_id.body.contains("id_number"), "{}", bad_id.body);
        let not_a_credential = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": [1, 2]}),
        )
        .await;
        assert_eq!(not_a_credential.status, StatusCode::BAD_REQUEST);
        let foreign = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}}),
        )
        .await;
        assert_eq!(
            foreign.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            foreign.body
        );
    }
}

#[tokio::test]
async fn a_token_with_rights_gets_the_credential_and_one_without_is_refused() {
    for (s, _keep, _dir) in with_keys("credential tokens").await {
        let f = with_issuer_key(&s).await;
        let own = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let other = token(
            &s,
            Actor::Authority {
                department: "samr".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let body = json!({"number": f.valid.number, "kind": f.valid.kind});
        let a = post(&s, "/api/v1/certificates/credential", Some(&own), &body).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let b = post(&s, "/api/v1/certificates/credential", Some(&other), &body).await;
        assert_eq!(b.status, StatusCode::FORBIDDEN, "{}", b.body);
    }
}

#[tokio::test]
async fn a_suspension_sets_the_credentials_bit_in_the_list_served_next() {
    for (s, _keep, _dir) in with_keys("credential status lists").await {
        let f = with_issuer_key(&s).await;
        let token = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let a = post(
            &s,
            "/api/v1/certificates/credential",
            Some(&token),
            &json!({"number": f.valid.number, "kind": f.valid.kind}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let cred = json_of(&a)["credential"].clone();
        let entries = cred["credentialStatus"].as_array().unwrap().clone();
        assert_eq!(entries.len(), 2);
        let lists = |s: AppState| {
            let entries = entries.clone();
            async move {
                let mut out = vec![];
                for e in &entries {
                    let url = e["statusListCredential"].as_str().unwrap();
                    let path = url.strip_prefix("https://hutong.example").unwrap();
                    let r = get(&s, path).await;
                    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
                    out.push(json_of(&r));
                }
                out
            }
        };
        let verify = |lists: Vec<Value>| {
            let s = s.clone();
            let cred = cred.clone();
            async move {
                post(
                    &s,
                    "/api/v1/credentials/verify",
                    None,
                    &json!({"verifiableCredential": cred, "statusLists": lists}),
                )
                .await
            }
        };
        let before = lists(s.clone()).await;
        let seq_before = before[0]["credentialSubject"]["journalSeq"]
            .as_u64()
            .unwrap();
        assert_eq!(verify(before.clone()).await.status, StatusCode::OK);
        // Suspend it: the next lists set its bit, and say the journal sequence they reflect.
        let a = post(
            &s,
            "/api/v1/certificates/changes",
            Some(&token),
            &json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let after = lists(s.clone()).await;
        assert!(
            after[0]["credentialSubject"]["journalSeq"]
                .as_u64()
                .unwrap()
                > seq_before
        );
        let r = verify(after).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let p = json_of(&r);
        assert!(
            p["detail"].as_str().unwrap().contains("status: suspended"),
            "{p}"
        );
        // The lists from before still say "not suspended", but only until they expire.
        assert!(before[1]["validUntil"].as_str().is_some());
        assert_eq!(
            get(&s, "/status/mem.44/other/0").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&s, "/status/nobody/revocation/0").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&s, "/status/mem.44/revocation/-1").await.status,
            StatusCode::NOT_FOUND
        );
    }
}
