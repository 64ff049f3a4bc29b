//! The registry's public keys file, and offline verification of certificate credentials.
//!
//! The file (`hutong keys export`) holds every issuer's public record and every signing key
//! with its lifecycle, and is signed `eddsa-jcs-2022` by the registry's own key, a `did:key`
//! that verifiers pin (printed by the export, published on the registry's about page). From it
//! a verifier builds each issuer's DID document with no network.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use hutong_core::date::Day;
use hutong_core::keys::KeyRecord;
use hutong_core::{Issuer, IssuerStatus};

use crate::certificate::{CREDENTIAL_TYPE, VC_CONTEXT, issuer_did, key_method};
use crate::error::CredentialError;
use crate::logproof::LogProofs;
use crate::multikey::{did_key, public_key_from_multibase, verification_method};
use crate::proof::{
    PreparedProof, ProofOptions, create_proof, prepare_proof, verify_proof,
    verify_proof_with_did_key,
};
use crate::status::{StatusListCredential, StatusListEntry, StatusPurpose};
use ed25519_dalek::{Signature, VerifyingKey, verify_batch};

/// The file's `type`.
pub const KEYRING_TYPE: &str = "HutongPublicKeys";

/// The content of a public keys file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Keyring {
    /// The did:web host the issuers' DIDs are on.
    pub host: String,
    /// When the file was made (RFC 3339).
    pub issued: String,
    pub issuers: Vec<Issuer>,
    pub keys: Vec<KeyRecord>,
}

impl Keyring {
    /// The file, signed by the registry key.
    pub fn sign(&self, registry: &SigningKey, created: &str) -> Result<Value, CredentialError> {
        let mut doc =
            serde_json::to_value(self).map_err(|e| CredentialError::Json(e.to_string()))?;
        doc["type"] = KEYRING_TYPE.into();
        doc["registry"] = did_key(&registry.verifying_key()).into();
        let options =
            ProofOptions::assertion(verification_method(&registry.verifying_key()), created);
        create_proof(&doc, &options, registry)
    }

    /// Reads a signed file. Its proof must verify with the `did:key` it names, and that must be
    /// `trusted_registry` when given (a verifier pins the registry's key).
    pub fn open(
        signed: &Value,
        trusted_registry: Option<&str>,
    ) -> Result<Keyring, CredentialError> {
        if signed.get("type").and_then(Value::as_str) != Some(KEYRING_TYPE) {
            return Err(CredentialError::invalid(
                "public keys file",
                format!("its type is not {KEYRING_TYPE}"),
            ));
        }
        let (key, _) = verify_proof_with_did_key(signed)?;
        let signer = did_key(&key);
        if signed.get("registry").and_then(Value::as_str) != Some(signer.as_str()) {
            return Err(CredentialError::invalid(
                "public keys file",
                "it is not signed by the registry key it names",
            ));
        }
        if let Some(t) = trusted_registry
            && t != signer
        {
            return Err(CredentialError::invalid(
                "public keys file",
                format!("it is signed by {signer}, not by the trusted registry key {t}"),
            ));
        }
        let mut body = signed.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("proof");
            o.remove("type");
            o.remove("registry");
        }
        serde_json::from_value(body)
            .map_err(|e| CredentialError::invalid("public keys file", e.to_string()))
    }

    /// The key of a verification method (`did:web:HOST:issuers:ID#key_…`).
    pub fn key_of_method(&self, method: &str) -> Option<&KeyRecord> {
        KeyIndex::new(self).get(method)
    }

    pub fn issuer(&self, id: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.id == id)
    }

    /// An issuer's DID document: every key it ever had, so that credentials signed before a
    /// rotation still resolve (whether a key counts at a signing time is the key record's
    /// lifecycle, which this file carries).
    pub fn did_document(&self, issuer: &str) -> Value {
        did_document(&self.host, issuer, &self.keys)
    }
}

/// The most decoded keys a thread keeps (a national registry has a few thousand issuer keys).
const DECODED_KEYS: usize = 8192;

thread_local! {
    /// Public keys already decoded, by their multibase text: decoding one (base58, then the
    /// Edwards point's decompression, a field exponentiation) costs about a fifth of verifying
    /// a credential, and verifying one credential at a time would pay it every time.
    static DECODED: std::cell::RefCell<std::collections::HashMap<String, VerifyingKey>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// [`public_key_from_multibase`], remembered per thread.
fn decoded_key(multibase: &str) -> Result<VerifyingKey, CredentialError> {
    if let Some(k) = DECODED.with(|d| d.borrow().get(multibase).copied()) {
        return Ok(k);
    }
    let k = public_key_from_multibase(multibase)?;
    DECODED.with(|d| {
        let mut d = d.borrow_mut();
        if d.len() >= DECODED_KEYS {
            d.clear();
        }
        d.insert(multibase.to_string(), k);
    });
    Ok(k)
}

/// A keys file's keys by (issuer, key id), for lookups by verification method.
struct KeyIndex<'a> {
    host: &'a str,
    by_id: std::collections::HashMap<(&'a str, &'a str), &'a KeyRecord>,
}

impl<'a> KeyIndex<'a> {
    fn new(keyring: &'a Keyring) -> Self {
        KeyIndex {
            host: &keyring.host,
            by_id: keyring
                .keys
                .iter()
                .map(|k| ((k.issuer.as_str(), k.id.as_str()), k))
                .collect(),
        }
    }

    fn get(&self, method: &str) -> Option<&'a KeyRecord> {
        let rest = method
            .strip_prefix("did:web:")?
            .strip_prefix(self.host)?
            .strip_prefix(":issuers:")?;
        let (issuer, id) = rest.split_once('#')?;
        self.by_id.get(&(issuer, id)).copied()
    }
}

/// An issuer's DID document (did:web), with each of its keys as a Multikey.
pub fn did_document(host: &str, issuer: &str, keys: &[KeyRecord]) -> Value {
    let did = issuer_did(host, issuer);
    let methods: Vec<Value> = keys
        .iter()
        .filter(|k| k.issuer == issuer)
        .map(|k| {
            json!({
                "id": key_method(host, k),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": k.public_key_multibase,
            })
        })
        .collect();
    let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

/// The outcome of one check of a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `signature`, `key`, `status`, `validity`, `issuer`, `log`.
    pub check: &'static str,
    /// `pass`, `fail` or `skipped` (not checked: nothing to check it with).
    pub outcome: &'static str,
    pub detail: String,
}

impl Check {
    pub(crate) fn pass(check: &'static str, detail: impl Into<String>) -> Check {
        Check {
            check,
            outcome: "pass",
            detail: detail.into(),
        }
    }
    pub(crate) fn fail(check: &'static str, detail: impl Into<String>) -> Check {
        Check {
            check,
            outcome: "fail",
            detail: detail.into(),
        }
    }
    pub(crate) fn skipped(check: &'static str, detail: impl Into<String>) -> Check {
        Check {
            check,
            outcome: "skipped",
            detail: detail.into(),
        }
    }
}

/// What offline verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed.
    pub fn verified(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != "fail")
    }
}

fn instant(s: &str, what: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{what} \"{s}\" is not an RFC 3339 instant: {e}"))
}

/// Verifies a certificate credential against a public keys file, with no network.
/// `status_lists` are the status list credentials the verifier has; `now` is the verifier's
/// clock. Every check is reported; a credential is verified when none fails.
pub fn verify_certificate_credential(
    credential: &Value,
    keyring: &Keyring,
    status_lists: &[Value],
    now: DateTime<Utc>,
) -> Report {
    verify_many(std::slice::from_ref(credential), keyring, status_lists, now)
        .pop()
        .expect("one report per credential")
}

/// Verifies many credentials, their signatures in one Ed25519 batch (and one by one only when
/// the batch fails, to find which). Reports come in the order of `credentials`. The `log`
/// check is reported as not checked: see [`verify_many_with`].
pub fn verify_many(
    credentials: &[Value],
    keyring: &Keyring,
    status_lists: &[Value],
    now: DateTime<Utc>,
) -> Vec<Report> {
    verify_many_with(credentials, keyring, status_lists, None, now)
}

/// [`verify_many`], with the `log` check against log proofs checked beforehand
/// ([`LogProofs::check`], once for any number of calls): without them it is not checked.
pub fn verify_many_with(
    credentials: &[Value],
    keyring: &Keyring,
    status_lists: &[Value],
    log: Option<&LogProofs>,
    now: DateTime<Utc>,
) -> Vec<Report> {
    // Keys looked up by method, and each status list checked, once for all the credentials.
    let keys = KeyIndex::new(keyring);
    let lists = check_lists(status_lists, &keys, now);
    // The signatures first: prepared, then checked together.
    let mut outcomes: Vec<Result<String, String>> = Vec::with_capacity(credentials.len());
    let mut batch: Vec<(usize, PreparedProof, VerifyingKey)> = Vec::new();
    for (i, c) in credentials.iter().enumerate() {
        outcomes.push(Err(String::new()));
        let method = c
            .pointer("/proof/verificationMethod")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(k) = keys.get(method) else {
            outcomes[i] = Err(format!(
                "the verification method \"{method}\" is not in the public keys file"
            ));
            continue;
        };
        match decoded_key(&k.public_key_multibase).and_then(|pk| prepare_proof(c).map(|p| (p, pk)))
        {
            Ok((p, pk)) => {
                outcomes[i] = Ok(format!("eddsa-jcs-2022 by {}", k.id));
                batch.push((i, p, pk));
            }
            Err(e) => outcomes[i] = Err(e.to_string()),
        }
    }
    let messages: Vec<&[u8]> = batch.iter().map(|(_, p, _)| &p.signed[..]).collect();
    let signatures: Vec<Signature> = batch.iter().map(|(_, p, _)| p.signature).collect();
    let public_keys: Vec<VerifyingKey> = batch.iter().map(|(_, _, k)| *k).collect();
    // A batch passes only if every signature in it is valid; strict verification then rules
    // out the weak keys and malleable signatures a batch equation lets through.
    let batch_ok = batch.len() > 1 && verify_batch(&messages, &signatures, &public_keys).is_ok();
    for (i, p, k) in &batch {
        let ok = if batch_ok {
            !k.is_weak()
        } else {
            k.verify_strict(&p.signed, &p.signature).is_ok()
        };
        if !ok {
            outcomes[*i] = Err(CredentialError::BadSignature.to_string());
        }
    }
    credentials
        .iter()
        .zip(outcomes)
        .map(|(c, sig)| report(c, keyring, &keys, &lists, log, now, sig))
        .collect()
}

fn report(
    credential: &Value,
    keyring: &Keyring,
    keys: &KeyIndex<'_>,
    status_lists: &[CheckedList],
    log: Option<&LogProofs>,
    now: DateTime<Utc>,
    signature: Result<String, String>,
) -> Report {
    let mut checks = Vec::new();
    // The signature, by a key the registry lists.
    let method = credential
        .pointer("/proof/verificationMethod")
        .and_then(Value::as_str)
        .unwrap_or("");
    let created = credential
        .pointer("/proof/created")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_ours = credential
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(CREDENTIAL_TYPE)))
        && credential
            .get("@context")
            .and_then(|c| c.get(0))
            .and_then(Value::as_str)
            == Some(VC_CONTEXT);
    let key = keys.get(method);
    checks.push(match (is_ours, signature) {
        (false, _) => Check::fail("signature", format!("not a VC 2.0 {CREDENTIAL_TYPE}")),
        (true, Ok(d)) => Check::pass("signature", d),
        (true, Err(e)) => Check::fail("signature", e),
    });
    let issuer_did_of_credential = credential
        .pointer("/issuer/id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let issuer_id = credential
        .pointer("/issuer/registryId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let issue_date: Option<Day> = credential
        .pointer("/credentialSubject/certificate/issueDate")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());

    // The key: the issuer's, and valid when it signed.
    match key {
        None => checks.push(Check::fail("key", "no listed key signed it")),
        Some(k) => {
            // `did:web:<host>:issuers:<id>`, compared without making it.
            let names_its_issuer = issuer_did_of_credential
                .strip_prefix("did:web:")
                .and_then(|r| r.strip_prefix(keyring.host.as_str()))
                .and_then(|r| r.strip_prefix(":issuers:"))
                == Some(k.issuer.as_str());
            let problem = if k.issuer != issuer_id || !names_its_issuer {
                Some(format!(
                    "key {} is {}'s, but the credential names issuer {}",
                    k.id, k.issuer, issuer_did_of_credential
                ))
            } else {
                match instant(created, "proof.created") {
                    Err(e) => Some(e),
                    Ok(t) => match k.signed_validly_at(t.timestamp_micros()) {
                        Err(e) => Some(e.to_string()),
                        Ok(()) => match issue_date {
                            Some(d) if t.date_naive() < d.pred_opt().unwrap_or(d) => Some(format!(
                                "signed at {created}, before the certificate's issue date {d}"
                            )),
                            None => Some("the credential has no issue date".into()),
                            _ => None,
                        },
                    },
                }
            };
            checks.push(match problem {
                None => Check::pass(
                    "key",
                    format!("{} was valid for {} at {created}", k.id, k.issuer),
                ),
                Some(p) => Check::fail("key", p),
            });
        }
    }

    // Status: every entry against a list the verifier has, which must be signed by the same
    // issuer and inside its validity window.
    let entries: Vec<&Value> = match credential.get("credentialStatus") {
        None => vec![],
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    };
    if entries.is_empty() {
        checks.push(Check::skipped(
            "status",
            "the credential has no status entries",
        ));
    } else if status_lists.is_empty() {
        checks.push(Check::skipped(
            "status",
            "no status list given: revocation and suspension not checked",
        ));
    } else {
        for e in entries {
            checks.push(check_status(e, status_lists, issuer_did_of_credential));
        }
    }

    // The validity window.
    let from = credential.get("validFrom").and_then(Value::as_str);
    let until = credential.get("validUntil").and_then(Value::as_str);
    let window = (|| -> Result<String, String> {
        if let Some(f) = from
            && instant(f, "validFrom")? > now
        {
            return Err(format!("not valid before {f}"));
        }
        if let Some(u) = until
            && instant(u, "validUntil")? < now
        {
            return Err(format!("expired at {u}"));
        }
        Ok(match until {
            Some(u) => format!("valid from {} until {u}", from.unwrap_or("-")),
            None => format!("valid from {}, no expiry", from.unwrap_or("-")),
        })
    })();
    checks.push(match window {
        Ok(d) => Check::pass("validity", d),
        Err(e) => Check::fail("validity", e),
    });

    // The issuer: registered, and with the right to issue this kind, on the issue date.
    let kind = credential
        .pointer("/credentialSubject/certificate/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    checks.push(match (keyring.issuer(issuer_id), issue_date) {
        (None, _) => Check::fail(
            "issuer",
            format!("issuer \"{issuer_id}\" is not in the public keys file"),
        ),
        (Some(_), None) => Check::fail("issuer", "the credential has no issue date"),
        (Some(i), Some(d)) => {
            let (status, _) = i.status_on(d);
            if status != IssuerStatus::Registered {
                Check::fail(
                    "issuer",
                    format!("{} was {} on the issue date {d}", i.id, status.id()),
                )
            } else if !i.kinds_on(d).contains(&kind) {
                Check::fail(
                    "issuer",
                    format!("{} had no right to issue {kind} on {d}", i.id),
                )
            } else {
                Check::pass(
                    "issuer",
                    format!("{} ({}) could issue {kind} on {d}", i.name_zh, i.id),
                )
            }
        }
    });

    // Log inclusion: the journal entry the credential names is a leaf of a trusted checkpoint.
    checks.push(match log {
        Some(l) => l.check_credential(credential),
        None => crate::logproof::not_checked(),
    });
    Report { checks }
}

/// A status list as given to a verifier, checked once for every credential that points at it:
/// its proof by a listed key valid when it signed, and its validity window.
struct CheckedList {
    id: String,
    list: Result<StatusListCredential, String>,
}

fn check_lists(lists: &[Value], keys: &KeyIndex<'_>, now: DateTime<Utc>) -> Vec<CheckedList> {
    lists
        .iter()
        .map(|list| CheckedList {
            id: list
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            list: check_list(list, keys, now),
        })
        .collect()
}

fn check_list(
    list: &Value,
    keys: &KeyIndex<'_>,
    now: DateTime<Utc>,
) -> Result<StatusListCredential, String> {
    let method = list
        .pointer("/proof/verificationMethod")
        .and_then(Value::as_str)
        .unwrap_or("");
    let key = keys
        .get(method)
        .ok_or_else(|| format!("the list is signed by \"{method}\", which is not listed"))?;
    let pk = public_key_from_multibase(&key.public_key_multibase).map_err(|e| e.to_string())?;
    let proof = verify_proof(list, &pk).map_err(|e| format!("the list's proof: {e}"))?;
    let signed = instant(
        proof.created.as_deref().unwrap_or(""),
        "the list's proof.created",
    )?;
    key.signed_validly_at(signed.timestamp_micros())
        .map_err(|e| format!("the list's key: {e}"))?;
    let parsed = StatusListCredential::from_value(list).map_err(|e| e.to_string())?;
    let from = parsed
        .valid_from
        .as_deref()
        .ok_or("the list has no validFrom")?;
    let until = parsed
        .valid_until
        .as_deref()
        .ok_or("the list has no validUntil: an old list could be replayed")?;
    if instant(from, "the list's validFrom")? > now {
        return Err(format!("the list is not valid before {from}"));
    }
    if instant(until, "the list's validUntil")? < now {
        return Err(format!(
            "the list expired at {until}: fetch a current one (an old list can hide a revocation)"
        ));
    }
    Ok(parsed)
}

fn check_status(entry: &Value, lists: &[CheckedList], issuer: &str) -> Check {
    let e = match StatusListEntry::from_value(entry) {
        Ok(e) => e,
        Err(err) => return Check::fail("status", format!("a status entry is invalid: {err}")),
    };
    let Some(list) = lists.iter().find(|l| l.id == e.list_credential) else {
        return Check::skipped(
            "status",
            format!(
                "{}: no list given for {}",
                e.purpose.as_str(),
                e.list_credential
            ),
        );
    };
    let result = (|| -> Result<bool, String> {
        let parsed = list.list.as_ref().map_err(Clone::clone)?;
        if parsed.issuer != issuer {
            return Err(format!(
                "the list is issued by {}, not by the credential's issuer",
                parsed.issuer
            ));
        }
        if parsed.purpose != e.purpose {
            return Err("the list's purpose differs from the entry's".into());
        }
        parsed.list.get(e.index).map_err(|e| e.to_string())
    })();
    let purpose = e.purpose.as_str();
    match result {
        Ok(false) => Check::pass(
            "status",
            format!(
                "not {} (index {} of {})",
                match e.purpose {
                    StatusPurpose::Revocation => "revoked",
                    StatusPurpose::Suspension => "suspended",
                },
                e.index,
                e.list_credential
            ),
        ),
        Ok(true) => Check::fail(
            "status",
            match e.purpose {
                StatusPurpose::Revocation => "revoked",
                StatusPurpose::Suspension => "suspended",
            },
        ),
        Err(err) => Check::fail("status", format!("{purpose}: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multikey::public_key_multibase;

    #[test]
    fn decoded_keys_are_the_keys_and_bad_ones_are_not_kept() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = public_key_multibase(&key);
        assert_eq!(decoded_key(&text).unwrap(), key);
        assert_eq!(decoded_key(&text).unwrap(), key, "from the cache");
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(decoded_key(&public_key_multibase(&other)).unwrap(), other);
        // Not base58 ("0" is outside its alphabet), and a Multikey of the wrong length.
        for bad in ["z6Mk0000", "z6Mk"] {
            assert!(decoded_key(bad).is_err(), "{bad}");
            assert!(
                decoded_key(bad).is_err(),
                "{bad}: a refusal is not remembered"
            );
            assert!(DECODED.with(|d| !d.borrow().contains_key(bad)));
        }
        let bad = "z6MkX";
        assert!(decoded_key(bad).is_err());
    }
}
