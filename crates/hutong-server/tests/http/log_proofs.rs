//! Credentials and the transparency log over HTTP, on every backend under test: a credential
//! names its certificate's latest journal entry; the inclusion endpoint's answer is that
//! entry's log proof (its leaf holds no name or ID number), which verifies offline and in the
//! verify endpoint, with the witnesses' cosignatures once they have cosigned; a credential made
//! after a change names the new entry.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use hutong_core::rights::Actor;
use hutong_credential::keyring::{Keyring, Report, verify_many_with};
use hutong_credential::logproof::{LogProof, LogProofs, LogTrust};
use hutong_log::{Cosigner, NoteSigner, SignedNote};
use hutong_server::{AppState, LogSettings, Settings};

use crate::credentials::{get, json_of, post};
use crate::fixture;
use crate::writes::token;
use crate::{Keep, send, states_with};

fn log_signer() -> NoteSigner {
    NoteSigner::new("hutong.example/log", SigningKey::from_bytes(&[21; 32])).unwrap()
}

fn witness() -> Cosigner {
    Cosigner::new("witness.mem.example", SigningKey::from_bytes(&[22; 32])).unwrap()
}

/// A service on each backend with a log (accepting the witness) and a signer in its own folder.
async fn states(test: &str) -> Vec<(AppState, Keep, tempfile::TempDir)> {
    let mut out = Vec::new();
    for (s, keep) in states_with(Settings::default(), test).await {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            keys_dir: dir.path().join("keys"),
            public_url: Some("https://hutong.example".into()),
            log: Some(LogSettings::new(log_signer(), vec![witness().verifier()])),
            ..Settings::default()
        };
        let s = AppState::new(s.store.clone(), s.policy(), crate::secret(), settings);
        out.push((s, keep, dir));
    }
    out
}

/// The log proof of entry `seq`; its leaf, decoded, holds no name or ID number of the fixture.
async fn log_proof(s: &AppState, seq: u64) -> Value {
    let a = get(s, &format!("/api/v1/log/inclusion?seq={seq}")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v = json_of(&a);
    let leaf = String::from_utf8(B64.decode(v["leaf"].as_str().unwrap()).unwrap()).unwrap();
    assert!(leaf.contains(&format!("\"seq\":{seq}")), "{leaf}");
    for id in fixture::IDS.iter() {
        assert!(!leaf.contains(id.as_str()), "a leaf holds an ID number");
    }
    for name in ["张", "王", "李", "陈"] {
        assert!(!leaf.contains(name), "a leaf holds a name: {leaf}");
    }
    v
}

fn verify(cred: &Value, ring: &Keyring, proofs: &[Value], witnesses: usize) -> Report {
    let w = if witnesses > 0 {
        vec![witness().verifier().to_vkey()]
    } else {
        vec![]
    };
    let trust = LogTrust::from_vkeys(&log_signer().verifier().to_vkey(), &w, None).unwrap();
    let proofs: Vec<LogProof> = proofs
        .iter()
        .map(|p| LogProof::from_value(p).unwrap())
        .collect();
    let checked = LogProofs::check(&trust, &proofs);
    verify_many_with(
        std::slice::from_ref(cred),
        ring,
        &[],
        Some(&checked),
        chrono::Utc::now(),
    )
    .pop()
    .unwrap()
}

fn log_check(r: &Report) -> String {
    let c = r.checks.iter().find(|c| c.check == "log").unwrap();
    format!("{}: {}", c.outcome, c.detail)
}

#[tokio::test]
async fn a_credentials_log_proof_is_served_and_verifies_offline_and_online() {
    for (s, _keep, _dir) in states("credential log proof").await {
        let f = fixture::fill(&s).await;
        let issuer = s.store.issuer("mem.44").await.unwrap().unwrap();
        s.signer
            .create_key(&*s.store, &issuer, false, "test")
            .await
            .unwrap();
        let holder = json!({
            "number": f.valid.number, "kind": f.valid.kind,
            "id_number": f.valid.id, "name": f.valid.name,
        });
        let a = post(&s, "/api/v1/certificates/credential", None, &holder).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let cred = json_of(&a)["credential"].clone();
        let evidence = &cred["evidence"][0];
        assert_eq!(evidence["type"], json!(["JournalEntry"]));
        let seq = evidence["journalSeq"].as_u64().unwrap();
        // The certificate's latest entry, with the record hash it recorded.
        let (id, _) = s
            .store
            .certificate_with_id(&f.valid.number, f.valid.kind)
            .await
            .unwrap()
            .unwrap();
        let history = s
            .store
            .history(&hutong_core::journal::Subject::Certificate(id))
            .await
            .unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.seq, seq);
        assert_eq!(
            evidence["recordSha256"].as_str(),
            last.record_sha256.as_deref()
        );
        assert_eq!(evidence["journalSubject"], format!("cert:{id}"));

        let proof = log_proof(&s, seq).await;
        let ring = Keyring::open(&json_of(&get(&s, "/api/v1/keys").await), None).unwrap();
        let r = verify(&cred, &ring, std::slice::from_ref(&proof), 0);
        assert!(r.verified(), "{r:#?}");
        assert!(log_check(&r).starts_with("pass: "), "{r:#?}");
        // The witness has not cosigned yet: a verifier that needs it refuses the checkpoint.
        let r = verify(&cred, &ring, std::slice::from_ref(&proof), 1);
        assert!(
            log_check(&r).contains("no cosignature by witness witness.mem.example"),
            "{r:#?}"
        );

        // The verify endpoint takes the proof and checks it against this log's key.
        let ok = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": cred, "logProof": proof}),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        let v = json_of(&ok);
        let log = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "log")
            .unwrap();
        assert_eq!(log["outcome"], "pass", "{v}");
        assert!(!v["not_checked"].as_array().unwrap().contains(&json!("log")));
        // Without one, log inclusion is not checked, and said so.
        let ok = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": cred}),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert!(
            json_of(&ok)["not_checked"]
                .as_array()
                .unwrap()
                .contains(&json!("log"))
        );
        // The proof of another entry: a 422 whose detail says the log check failed.
        let other = log_proof(&s, seq - 1).await;
        let bad = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": cred, "logProof": other}),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let detail = json_of(&bad)["detail"].as_str().unwrap().to_string();
        assert!(
            detail.starts_with(&format!("log: no log proof for journal entry {seq}")),
            "{detail}"
        );
        // Not a log proof: the log check fails, naming the member (a 422 with the checks, as
        // schemathesis requires of a schema-valid body: `logProof` is any object).
        let bad = post(
            &s,
            "/api/v1/credentials/verify",
            None,
            &json!({"verifiableCredential": cred, "logProof": {"seq": 1}}),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let v: serde_json::Value = serde_json::from_str(&bad.body).unwrap();
        let log = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "log")
            .unwrap();
        assert_eq!(log["outcome"], "fail");
        assert!(
            log["detail"].as_str().unwrap().contains("logProof"),
            "{}",
            bad.body
        );

        // The witness cosigns; the proof fetched now carries its cosignature and passes a
        // verifier that needs it.
        let note = SignedNote::parse(proof["checkpoint"].as_str().unwrap()).unwrap();
        let mut cosigned = note.clone();
        cosigned
            .add_signature(witness().cosign(&note, 1_800_000_000).unwrap())
            .unwrap();
        let a = send(
            &s,
            Request::post("/log/cosignature")
                .header("content-type", "text/plain")
                .body(Body::from(cosigned.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let size = proof["tree_size"].as_u64().unwrap();
        let a = get(
            &s,
            &format!("/api/v1/log/inclusion?seq={seq}&tree_size={size}"),
        )
        .await;
        let witnessed = json_of(&a);
        let r = verify(&cred, &ring, std::slice::from_ref(&witnessed), 1);
        assert!(r.verified(), "{r:#?}");
        assert!(
            log_check(&r).contains("cosigned by witness.mem.example"),
            "{r:#?}"
        );

        // A change: the next credential names the new entry, and the first one's proof still
        // holds (its entry stays in the log; its status is the status lists' to tell).
        let t = token(
            &s,
            Actor::Authority {
                department: "mem".into(),
                region: Some("44".into()),
            },
        )
        .await;
        let a = post(
            &s,
            "/api/v1/certificates/changes",
            Some(&t),
            &json!({"number": f.valid.number, "kind": f.valid.kind, "change": "suspend"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let a = post(&s, "/api/v1/certificates/credential", None, &holder).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let newer = json_of(&a)["credential"].clone();
        let newer_seq = newer["evidence"][0]["journalSeq"].as_u64().unwrap();
        assert!(newer_seq > seq, "{newer_seq} after {seq}");
        assert_eq!(
            newer["credentialSubject"]["certificate"]["stateWhenSigned"],
            "suspended"
        );
        let newer_proof = log_proof(&s, newer_seq).await;
        assert!(newer_proof["leaf_index"].as_u64() > proof["leaf_index"].as_u64());
        let r = verify(&newer, &ring, &[newer_proof.clone(), proof.clone()], 0);
        assert!(log_check(&r).starts_with("pass: "), "{r:#?}");
        let r = verify(&cred, &ring, &[newer_proof.clone(), proof.clone()], 0);
        assert!(log_check(&r).starts_with("pass: "), "{r:#?}");
        // The newer credential against the older checkpoint: its entry is not in that tree.
        let mut old_checkpoint = newer_proof.clone();
        old_checkpoint["checkpoint"] = proof["checkpoint"].clone();
        old_checkpoint["tree_size"] = Value::Null;
        let r = verify(&newer, &ring, &[old_checkpoint], 0);
        assert!(
            log_check(&r).contains("the checkpoint is older than the entry"),
            "{r:#?}"
        );
    }
}
