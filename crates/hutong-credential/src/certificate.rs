//! A registry certificate as a W3C Verifiable Credential 2.0, signed `eddsa-jcs-2022` by its
//! issuer's key (docs/credentials.md).
//!
//! - The issuer is a `did:web` DID of the registry's host, one per issuer
//!   (`did:web:hutong.example:issuers:mem.14`), so that it stays the same when the issuer's key is
//!   rotated; the verification method is one of its keys, a Multikey
//!   (`…#key_0123456789abcdef`). Offline verifiers get the DID documents from the registry's
//!   signed public keys file ([`crate::keyring`]); nothing is fetched.
//! - The holder appears by name and by a *commitment* to the ID number: SHA-256 of a secret
//!   16-byte salt followed by the ID number. The salt is never in the credential (an ID number
//!   has too few possible values to survive a public salt); the registry hands it to the holder,
//!   who discloses salt and ID number to whoever should link the credential to them.
//! - A number that is or embeds the holder's ID number (`mem` `T…`, `samr`) appears masked.

use chrono::{FixedOffset, NaiveTime, TimeZone};
use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use hutong_core::date::Day;
use hutong_core::idcard::ResidentId;
use hutong_core::keys::KeyRecord;
use hutong_core::number::mask_id_numbers;
use hutong_core::{AdminState, Certificate, Issuer, IssuerRole, Policy};

use crate::error::CredentialError;
use crate::logproof::JournalRef;
use crate::proof::{ProofOptions, create_proof};
use crate::status::StatusListEntry;

/// The W3C VC 2.0 context, first in every credential.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The W3C context whose `@vocab` defines every term the VC 2.0 context does not: hutong's own
/// (`certificate`, `registryId`, …). The VC 2.0 context itself has no `@vocab` (it was moved
/// here before the Recommendation), so without this one a JSON-LD processor drops hutong's
/// claims. A URL, never an inline object: Digital Bazaar's eddsa-jcs-2022 verifier compares
/// contexts by identity and refuses inline ones. No context is fetched to verify (JCS).
pub const UNDEFINED_TERMS_CONTEXT: &str = "https://www.w3.org/ns/credentials/undefined-terms/v2";
/// The credential's own type.
pub const CREDENTIAL_TYPE: &str = "VocationalCertificateCredential";

/// The DID of an issuer on a registry host (`hutong.example`, or `127.0.0.1%3A8080` with the
/// port's colon percent-encoded, as did:web writes it).
pub fn issuer_did(host: &str, issuer_id: &str) -> String {
    format!("did:web:{host}:issuers:{issuer_id}")
}

/// The verification method of a key of an issuer.
pub fn key_method(host: &str, key: &KeyRecord) -> String {
    format!("{}#{}", issuer_did(host, &key.issuer), key.id)
}

/// The did:web host of a public URL: `https://hutong.example/` → `hutong.example`,
/// `http://127.0.0.1:8080` → `127.0.0.1%3A8080`.
pub fn did_host(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(public_url);
    let host = rest.split('/').next().unwrap_or(rest);
    host.replace(':', "%3A")
}

/// A holder's commitment: lower-case hex of SHA-256(salt || ID number).
pub fn holder_commitment(salt: &[u8; 16], id: &ResidentId) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(id.as_str().as_bytes());
    hex_lower(&h.finalize())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything a certificate's credential says, apart from the signature.
pub struct CertificateCredential<'a> {
    pub certificate: &'a Certificate,
    /// The certificate's stable registry id.
    pub registry_id: i64,
    pub policy: &'a Policy,
    pub issuer: &'a Issuer,
    /// The did:web host ([`did_host`]).
    pub host: &'a str,
    /// [`holder_commitment`] of the holder's ID number.
    pub holder_commitment: String,
    /// The national e-licence identifier (GB/T 36904), when the kind has a licence type code.
    pub e_licence_id: Option<String>,
    /// Its status list entries (revocation, suspension).
    pub status: Vec<StatusListEntry>,
    /// The journal entry whose record the credential reflects (the certificate's latest), as
    /// an `evidence` object: what a log proof is matched to ([`crate::logproof`]).
    pub journal: Option<JournalRef>,
}

/// Midnight in China (UTC+8) at the start of `day`, as a dateTimeStamp.
fn start_of(day: Day) -> String {
    at_china(day, NaiveTime::MIN)
}

/// The last second of `day` in China.
fn end_of(day: Day) -> String {
    at_china(
        day,
        NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"),
    )
}

fn at_china(day: Day, t: NaiveTime) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    cst.from_local_datetime(&day.and_time(t))
        .single()
        .expect("UTC+8 has no gaps")
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn names(zh: &str, en: Option<&str>) -> Value {
    let mut v = vec![json!({"@value": zh, "@language": "zh"})];
    if let Some(en) = en {
        v.push(json!({"@value": en, "@language": "en"}));
    }
    Value::Array(v)
}

impl CertificateCredential<'_> {
    /// The unsigned credential.
    pub fn document(&self) -> Result<Value, CredentialError> {
        let c = self.certificate;
        let kind = self.policy.kind(&c.kind).ok_or_else(|| {
            CredentialError::invalid("kind", format!("{} is not in the policy", c.kind))
        })?;
        let dept = self.policy.department(&kind.department);
        let mut cert = Map::new();
        cert.insert("type".into(), "VocationalCertificate".into());
        cert.insert("number".into(), mask_id_numbers(&c.number).into());
        cert.insert("kind".into(), c.kind.clone().into());
        cert.insert(
            "kindName".into(),
            names(&kind.title_zh, Some(&kind.title_en)),
        );
        cert.insert(
            "department".into(),
            json!({
                "registryId": kind.department,
                "name": dept.map(|d| names(&d.name_zh, Some(&d.name_en))).unwrap_or(Value::Null),
            }),
        );
        if let Some(q) = &kind.qualification {
            cert.insert("directoryEntry".into(), q.clone().into());
        }
        if let Some(code) = &c.occupation {
            let occ = self.policy.occupation(code);
            cert.insert(
                "occupation".into(),
                json!({
                    "code": code,
                    "name": occ.map(|o| names(&o.name_zh, Some(&o.name_en))).unwrap_or(Value::Null),
                }),
            );
        }
        if let Some(l) = c.level {
            cert.insert(
                "level".into(),
                json!({"code": l.id(), "name": names(l.name_zh(), Some(l.name_en()))}),
            );
        }
        cert.insert("issueDate".into(), c.issued_on.to_string().into());
        cert.insert(
            "firstIssueDate".into(),
            c.first_issued_on.to_string().into(),
        );
        if let Some(r) = c.last_review_on {
            cert.insert("lastReviewDate".into(), r.to_string().into());
        }
        if let Some(id) = &self.e_licence_id {
            cert.insert("eLicenceId".into(), id.clone().into());
        }
        if self.issuer.role == IssuerRole::Institution {
            cert.insert(
                "evaluationInstitution".into(),
                json!({
                    "registryId": self.issuer.id,
                    "name": names(&self.issuer.name_zh, self.issuer.name_en.as_deref()),
                }),
            );
        }
        let state = match c.state {
            AdminState::Active => "active",
            AdminState::Suspended { .. } => "suspended",
            AdminState::Revoked { .. } => "revoked",
        };
        cert.insert("stateWhenSigned".into(), state.into());

        let mut doc = Map::new();
        doc.insert(
            "@context".into(),
            json!([VC_CONTEXT, UNDEFINED_TERMS_CONTEXT]),
        );
        doc.insert(
            "id".into(),
            format!("urn:hutong:{}:certificate:{}", self.host, self.registry_id).into(),
        );
        doc.insert(
            "type".into(),
            json!(["VerifiableCredential", CREDENTIAL_TYPE]),
        );
        doc.insert("name".into(), names(&kind.title_zh, Some(&kind.title_en)));
        doc.insert(
            "issuer".into(),
            json!({
                "id": issuer_did(self.host, &self.issuer.id),
                "name": names(&self.issuer.name_zh, self.issuer.name_en.as_deref()),
                "registryId": self.issuer.id,
            }),
        );
        doc.insert("validFrom".into(), start_of(c.issued_on).into());
        if let Some(u) = c.valid_until {
            doc.insert("validUntil".into(), end_of(u).into());
        }
        doc.insert(
            "credentialSubject".into(),
            json!({
                "type": "CertificateHolder",
                "name": c.holder_name,
                "idNumberCommitment": {
                    "algorithm": "sha-256(salt||idNumber)",
                    "digest": self.holder_commitment,
                },
                "certificate": Value::Object(cert),
            }),
        );
        if !self.status.is_empty() {
            doc.insert(
                "credentialStatus".into(),
                Value::Array(self.status.iter().map(StatusListEntry::to_value).collect()),
            );
        }
        if let Some(j) = &self.journal {
            doc.insert("evidence".into(), Value::Array(vec![j.to_value()]));
        }
        Ok(Value::Object(doc))
    }

    /// The credential signed by `key` (whose record is `record`) at `created` (RFC 3339, UTC,
    /// seconds).
    pub fn sign(
        &self,
        record: &KeyRecord,
        key: &SigningKey,
        created: &str,
    ) -> Result<Value, CredentialError> {
        if record.issuer != self.issuer.id {
            return Err(CredentialError::invalid(
                "key",
                format!(
                    "key {} is {}'s, not {}'s",
                    record.id, record.issuer, self.issuer.id
                ),
            ));
        }
        let options = ProofOptions::assertion(key_method(self.host, record), created);
        create_proof(&self.document()?, &options, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_hosts() {
        assert_eq!(did_host("https://hutong.example/"), "hutong.example");
        assert_eq!(did_host("http://127.0.0.1:8080"), "127.0.0.1%3A8080");
        assert_eq!(
            issuer_did("hutong.example", "mem.14"),
            "did:web:hutong.example:issuers:mem.14"
        );
    }

    #[test]
    fn dates_are_days_in_china() {
        let d: Day = "2024-03-01".parse().unwrap();
        assert_eq!(start_of(d), "2024-03-01T00:00:00+08:00");
        assert_eq!(end_of(d), "2024-03-01T23:59:59+08:00");
    }

    #[test]
    fn a_commitment_is_salted() {
        let id = ResidentId::parse("11010119660101004X").expect("a valid test ID number");
        let a = holder_commitment(&[1; 16], &id);
        let b = holder_commitment(&[2; 16], &id);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(!a.contains(id.as_str()));
    }
}
