//! W3C Data Integrity EdDSA Cryptosuites v1.0 test vectors for eddsa-jcs-2022, reproduced
//! exactly, and tamper detection.

use hutong_credential::jcs::canonicalize;
use hutong_credential::{
    CredentialError, ProofOptions, create_proof, did_key, hash_data, public_key_from_did_key,
    public_key_from_multibase, public_key_multibase, secret_key_from_multibase,
    secret_key_multibase, signing_key_from_key_pair, verification_method, verify_proof,
    verify_proof_with_did_key,
};
use serde_json::{Value, json};

const DIR: &str = "vc-di-eddsa/TestVectors";

fn vector(name: &str) -> String {
    crate::read(&format!("{DIR}/eddsa-jcs-2022/{name}"))
}

fn json_file(rel: &str) -> Value {
    serde_json::from_str(&crate::read(&format!("{DIR}/{rel}"))).unwrap()
}

fn key_pair() -> ed25519_dalek::SigningKey {
    signing_key_from_key_pair(&json_file("keyPair.json")).unwrap()
}

#[test]
fn the_key_pair_loads_under_both_names() {
    let kp = json_file("keyPair.json");
    let key = key_pair();
    assert_eq!(
        public_key_multibase(&key.verifying_key()),
        kp["publicKeyMultibase"]
    );
    assert_eq!(secret_key_multibase(&key), kp["privateKeyMultibase"]);
    let renamed = json!({
        "publicKeyMultibase": kp["publicKeyMultibase"],
        "secretKeyMultibase": kp["privateKeyMultibase"],
    });
    assert_eq!(signing_key_from_key_pair(&renamed).unwrap(), key);
    // A public key that is not the secret key's is refused.
    let other = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let mismatched = json!({
        "publicKeyMultibase": public_key_multibase(&other.verifying_key()),
        "secretKeyMultibase": kp["privateKeyMultibase"],
    });
    assert!(signing_key_from_key_pair(&mismatched).is_err());
}

#[test]
fn canonical_forms_hashes_and_signature_match_the_vectors() {
    let unsigned = json_file("unsigned.json");
    let config = json_file("eddsa-jcs-2022/proofConfigJCS.json");
    let hd = hash_data(unsigned.as_object().unwrap(), config.as_object().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(hd.canonical_document.clone()).unwrap(),
        vector("canonDocJCS.txt")
    );
    assert_eq!(hex::encode(hd.document_hash), vector("docHashJCS.txt"));
    assert_eq!(
        String::from_utf8(hd.canonical_proof_config.clone()).unwrap(),
        vector("proofCanonJCS.txt")
    );
    assert_eq!(
        hex::encode(hd.proof_config_hash),
        vector("proofHashJCS.txt")
    );
    assert_eq!(hex::encode(hd.combined()), vector("combinedHashJCS.txt"));

    // Signing the unsigned credential with the vector's options gives the signed vector.
    let key = key_pair();
    let options = ProofOptions::assertion(
        config["verificationMethod"].as_str().unwrap(),
        config["created"].as_str().unwrap(),
    );
    assert_eq!(
        options.verification_method,
        verification_method(&key.verifying_key())
    );
    let signed = create_proof(&unsigned, &options, &key).unwrap();
    let want = json_file("eddsa-jcs-2022/signedJCS.json");
    assert_eq!(signed, want);
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, vector("sigBTC58JCS.txt"));
    let sig = bs58::decode(&proof_value[1..]).into_vec().unwrap();
    assert_eq!(hex::encode(sig), vector("sigHexJCS.txt"));
}

#[test]
fn the_signed_vector_verifies() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let key = key_pair().verifying_key();
    let v = verify_proof(&signed, &key).unwrap();
    assert_eq!(v.proof_purpose, "assertionMethod");
    assert_eq!(v.created.as_deref(), Some("2023-02-24T23:36:38Z"));
    let (resolved, _) = verify_proof_with_did_key(&signed).unwrap();
    assert_eq!(resolved, key);
    assert_eq!(
        public_key_from_did_key(&did_key(&key)).unwrap(),
        key,
        "did:key round trip"
    );
    let kp = json_file("keyPair.json");
    assert_eq!(
        public_key_from_multibase(kp["publicKeyMultibase"].as_str().unwrap()).unwrap(),
        key
    );
}

#[test]
fn changing_any_byte_of_the_document_or_proof_fails() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let key = key_pair().verifying_key();
    let text = canonicalize(&signed).unwrap();
    let (mut parsed, mut refused) = (0, 0);
    for i in 0..text.len() {
        for flip in [0x01u8, 0x20] {
            let mut bytes = text.clone();
            bytes[i] ^= flip;
            let Ok(s) = std::str::from_utf8(&bytes) else {
                refused += 1;
                continue;
            };
            match serde_json::from_str::<Value>(s) {
                Err(_) => refused += 1,
                Ok(v) => {
                    parsed += 1;
                    assert!(
                        verify_proof(&v, &key).is_err(),
                        "byte {i} ^ {flip:#04x} still verifies: {s}"
                    );
                }
            }
        }
    }
    // Most changes still parse as JSON and must be caught by the signature check.
    assert!(parsed > text.len(), "{parsed} parsed, {refused} refused");
}

#[test]
fn a_wrong_key_or_a_broken_proof_fails_without_panic() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let key = key_pair().verifying_key();
    let other = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    assert_eq!(
        verify_proof(&signed, &other),
        Err(CredentialError::BadSignature)
    );

    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut v = signed.clone();
        f(&mut v);
        verify_proof(&v, &key)
    };
    assert!(
        mutate(&|v| {
            v.as_object_mut().unwrap().remove("proof");
        })
        .is_err()
    );
    assert!(mutate(&|v| v["proof"]["proofValue"] = json!("x123")).is_err());
    assert!(mutate(&|v| v["proof"]["proofValue"] = json!("z0OIl")).is_err());
    assert!(mutate(&|v| v["proof"]["proofValue"] = json!("z2HnFSSPPBzR36zd")).is_err());
    assert!(mutate(&|v| v["proof"]["proofValue"] = json!(42)).is_err());
    assert!(mutate(&|v| v["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022")).is_err());
    assert!(mutate(&|v| v["proof"]["created"] = json!("yesterday")).is_err());
    assert!(mutate(&|v| v["proof"] = json!([v["proof"].clone()])).is_err());
    assert!(mutate(&|v| v["proof"]["@context"] = json!(["https://example.org/other"])).is_err());
    assert!(mutate(&|v| v["@context"] = json!("https://www.w3.org/ns/credentials/v2")).is_err());
    assert!(verify_proof(&json!([1, 2]), &key).is_err());
    assert!(
        verify_proof_with_did_key(&json!({"proof": {"verificationMethod": "did:web:x"}})).is_err()
    );
    assert!(
        public_key_from_did_key("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other")
            .is_err()
    );
    assert!(
        public_key_from_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
            .is_err()
    );
}

#[test]
fn a_fresh_credential_round_trips_and_refuses_double_signing() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let doc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_key(&key.verifying_key()),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"name": "张三", "level": 3, "score": 92.5},
    });
    let options = ProofOptions::assertion(
        verification_method(&key.verifying_key()),
        "2026-01-02T03:04:05Z",
    );
    let signed = create_proof(&doc, &options, &key).unwrap();
    verify_proof(&signed, &key.verifying_key()).unwrap();
    assert_eq!(
        create_proof(&signed, &options, &key),
        Err(CredentialError::AlreadySigned)
    );
    // Key order and whitespace do not matter (JCS), content does.
    let reordered: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&signed).unwrap()).unwrap();
    verify_proof(&reordered, &key.verifying_key()).unwrap();
    let mut changed = signed.clone();
    changed["credentialSubject"]["level"] = json!(4);
    assert_eq!(
        verify_proof(&changed, &key.verifying_key()),
        Err(CredentialError::BadSignature)
    );
    let bad_created =
        ProofOptions::assertion(verification_method(&key.verifying_key()), "2026-01-02");
    assert!(create_proof(&doc, &bad_created, &key).is_err());
    assert!(secret_key_from_multibase("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").is_err());
}
