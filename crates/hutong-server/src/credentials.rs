//! Signing: issuers' private keys in files, the registry key, and making a certificate's
//! credential. Used by the API and by the `hutong keys` and `hutong credential` commands, so
//! that both sign the same document the same way (docs/credentials.md).
//!
//! Private keys are files `<keys dir>/<key id>.key` (the registry's is `registry.key`), made
//! with mode 0600 in a folder of mode 0700, holding the secret key as a multibase Multikey.
//! They are never logged, never stored in the database and never returned by the API.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand::RngCore as _;
use serde_json::Value;

use hutong_core::idcard::ResidentId;
use hutong_core::journal::{Subject, certificate_digest, instant_rfc3339, now_micros};
use hutong_core::keys::{KeyChange, KeyRecord, signing_key_of};
use hutong_core::{Certificate, HolderSecret, Issuer, Policy};
use hutong_credential::certificate::{CertificateCredential, did_host, holder_commitment};
use hutong_credential::keyring::Keyring;
use hutong_credential::logproof::JournalRef;
use hutong_credential::status::{
    BitstringStatusList, IndexPermutation, MIN_STATUS_LIST_ENTRIES, StatusListCredential,
    StatusListEntry, StatusPurpose,
};
use hutong_credential::{public_key_multibase, secret_key_from_multibase, secret_key_multibase};
use hutong_store::{KeyWrite, Store};

/// The did:web host when no public URL is configured.
pub const DEFAULT_HOST: &str = "localhost";

/// Why a credential or a key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "issuer {0} has no signing key in force; create one with `hutong keys create --issuer {0}`"
    )]
    NoKey(String),
    #[error("issuer {0} is not in the register")]
    UnknownIssuer(String),
    #[error(
        "the holder's ID number is needed to make this certificate's credential (its number does not contain it)"
    )]
    NeedsIdNumber,
    #[error("the ID number given is not this certificate holder's")]
    NotTheHolder,
    #[error("the private key file {path} of key {key}: {reason}")]
    KeyFile {
        path: String,
        key: String,
        reason: String,
    },
    #[error("{0}")]
    Credential(#[from] hutong_credential::CredentialError),
    #[error("{0}")]
    Store(#[from] hutong_store::StoreError),
}

/// The folder of private key files, and the did:web host credentials are issued on.
#[derive(Debug, Clone)]
pub struct Signer {
    dir: PathBuf,
    host: String,
    /// Where the registry's documents are published (status lists): `public_url`, or
    /// `https://localhost`.
    base: String,
}

/// How long a published status list is valid: a verifier refuses it afterwards, so that an
/// old list replayed offline cannot hide a revocation for longer than this.
pub const STATUS_LIST_VALIDITY_SECONDS: i64 = 6 * 3600;

/// A certificate's credential, and the salt of its holder commitment, which goes to the holder
/// (or to the issuer, who knows the ID number already) and never into the credential.
pub struct Exported {
    pub credential: Value,
    /// base64url, no padding.
    pub holder_salt: String,
    /// The journal entry the credential names (its `evidence`): the certificate's latest,
    /// whose log proof `GET /api/v1/log/inclusion?seq=…` gives.
    pub journal_seq: u64,
}

/// How often a credential is retried when the certificate changes while it is being made.
const JOURNAL_READS: usize = 3;

impl Signer {
    pub fn new(dir: impl Into<PathBuf>, public_url: Option<&str>) -> Signer {
        Signer {
            dir: dir.into(),
            host: public_url.map_or_else(|| DEFAULT_HOST.to_string(), did_host),
            base: public_url
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("https://{DEFAULT_HOST}")),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The address of an issuer's status list.
    pub fn status_list_url(&self, issuer: &str, purpose: StatusPurpose, list: i64) -> String {
        format!("{}/status/{issuer}/{}/{list}", self.base, purpose.as_str())
    }

    /// A certificate's status entries: revocation and suspension, at the same index of its
    /// issuer's lists. Its list is its registry id divided by the list size; its index the
    /// secret permutation of the remainder.
    pub fn status_entries(
        &self,
        secret: &HolderSecret,
        issuer: &str,
        registry_id: i64,
    ) -> Vec<StatusListEntry> {
        let n = MIN_STATUS_LIST_ENTRIES as i64;
        let (list, position) = (registry_id.div_euclid(n), registry_id.rem_euclid(n));
        let index = IndexPermutation::new(secret.status_index_key()).index(position as u64);
        [StatusPurpose::Revocation, StatusPurpose::Suspension]
            .into_iter()
            .map(|p| StatusListEntry::new(self.status_list_url(issuer, p, list), p, index))
            .collect()
    }

    /// An issuer's status list, built from the certificates' states now and signed by the
    /// issuer's key in force, valid for [`STATUS_LIST_VALIDITY_SECONDS`]. It says the journal
    /// sequence it reflects (`credentialSubject.journalSeq`): the lists are derived from the
    /// registry in one snapshot, so a revocation is in every list made after its entry, and
    /// nothing needs replaying after a crash.
    pub async fn status_list(
        &self,
        store: &dyn Store,
        secret: &HolderSecret,
        issuer: &Issuer,
        purpose: StatusPurpose,
        list: i64,
    ) -> Result<Value, SigningError> {
        let n = MIN_STATUS_LIST_ENTRIES as i64;
        let from = list.saturating_mul(n);
        let (head, rows) = store
            .status_page(&issuer.id, from, from.saturating_add(n))
            .await?;
        let perm = IndexPermutation::new(secret.status_index_key());
        let mut bits = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES)?;
        for (id, revoked, suspended) in rows {
            let set = match purpose {
                StatusPurpose::Revocation => revoked,
                StatusPurpose::Suspension => suspended,
            };
            if set {
                bits.set(perm.index((id - from) as u64), true)?;
            }
        }
        let now = now_micros() / 1_000_000 * 1_000_000;
        let keys = store.keys().await?;
        let record = signing_key_of(&keys, &issuer.id, now)
            .ok_or_else(|| SigningError::NoKey(issuer.id.clone()))?;
        let key = self.load(record)?;
        let mut doc = StatusListCredential::new(
            self.status_list_url(&issuer.id, purpose, list),
            hutong_credential::certificate::issuer_did(&self.host, &issuer.id),
            purpose,
            bits,
        )
        .valid(
            rfc3339_seconds(now),
            rfc3339_seconds(now + STATUS_LIST_VALIDITY_SECONDS * 1_000_000),
        )
        .to_value();
        doc["@context"] = serde_json::json!([
            hutong_credential::certificate::VC_CONTEXT,
            hutong_credential::certificate::UNDEFINED_TERMS_CONTEXT
        ]);
        doc["credentialSubject"]["journalSeq"] = head.into();
        let options = hutong_credential::ProofOptions::assertion(
            hutong_credential::certificate::key_method(&self.host, record),
            rfc3339_seconds(now),
        );
        Ok(hutong_credential::create_proof(&doc, &options, &key)?)
    }

    fn path_of(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("{key_id}.key"))
    }

    fn ensure_dir(&self) -> Result<(), SigningError> {
        if self.dir.is_dir() {
            return Ok(());
        }
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&self.dir).map_err(|e| SigningError::KeyFile {
            path: self.dir.display().to_string(),
            key: "-".into(),
            reason: format!("cannot create the keys folder: {e}"),
        })
    }

    fn write_new(&self, path: &Path, key_id: &str, key: &SigningKey) -> Result<(), SigningError> {
        self.ensure_dir()?;
        let fail = |reason: String| SigningError::KeyFile {
            path: path.display().to_string(),
            key: key_id.to_string(),
            reason,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(path)
            .map_err(|e| fail(format!("cannot create: {e}")))?;
        writeln!(f, "{}", secret_key_multibase(key))
            .and_then(|()| f.sync_all())
            .map_err(|e| fail(format!("cannot write: {e}")))
    }

    fn read(&self, path: &Path, key_id: &str) -> Result<SigningKey, SigningError> {
        let fail = |reason: String| SigningError::KeyFile {
            path: path.display().to_string(),
            key: key_id.to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|e| fail(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "others may read it (mode {:o}); make it readable by its owner only: chmod 600",
                    mode & 0o777
                )));
            }
        }
        secret_key_from_multibase(text.trim()).map_err(|e| fail(e.to_string()))
    }

    /// The private key of a key record, checked against its public key.
    pub fn load(&self, record: &KeyRecord) -> Result<SigningKey, SigningError> {
        let path = self.path_of(&record.id);
        let key = self.read(&path, &record.id)?;
        if public_key_multibase(&key.verifying_key()) != record.public_key_multibase {
            return Err(SigningError::KeyFile {
                path: path.display().to_string(),
                key: record.id.clone(),
                reason: "it holds a different key than the registry lists".into(),
            });
        }
        Ok(key)
    }

    /// The registry's own key, which signs the public keys file; made on first use.
    pub fn registry_key(&self) -> Result<SigningKey, SigningError> {
        let path = self.dir.join("registry.key");
        if path.exists() {
            return self.read(&path, "registry");
        }
        let key = random_key();
        self.write_new(&path, "registry", &key)?;
        Ok(key)
    }

    /// Makes a new key for `issuer`, valid from now: its private key file first, then its
    /// record and journal entry. When `rotate` is set, the issuer's keys in force are retired
    /// at the same instant, in the same transaction. A failed store write removes the file.
    pub async fn create_key(
        &self,
        store: &dyn Store,
        issuer: &Issuer,
        rotate: bool,
        actor: &str,
    ) -> Result<KeyRecord, SigningError> {
        // To the second, as proofs date their signatures: a credential signed in the key's
        // first second must not predate it.
        let at = now_micros() / 1_000_000 * 1_000_000;
        let key = random_key();
        let (change, record) =
            KeyChange::create(&issuer.id, &public_key_multibase(&key.verifying_key()), at);
        let mut writes = vec![KeyWrite {
            before: None,
            after: record.clone(),
            change: change.to_json(),
        }];
        if rotate {
            for old in store.keys().await? {
                if old.issuer == issuer.id && old.usable_at(at) {
                    // Retired at the end of this second: proofs are dated to the second, and
                    // one the old key made earlier in this second was made before the rotation.
                    let (c, after) = KeyChange::retire(&old, at + 1_000_000).map_err(|e| {
                        hutong_credential::CredentialError::Invalid {
                            what: "key",
                            reason: e.to_string(),
                        }
                    })?;
                    writes.push(KeyWrite {
                        before: Some(old),
                        after,
                        change: c.to_json(),
                    });
                }
            }
        }
        let path = self.path_of(&record.id);
        self.write_new(&path, &record.id, &key)?;
        if let Err(e) = store.put_keys(&writes, actor, at).await {
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(record)
    }

    /// The signed public keys file: every issuer and every key, signed by the registry key.
    pub async fn keyring(&self, store: &dyn Store) -> Result<Value, SigningError> {
        let registry = self.registry_key()?;
        let now = rfc3339_seconds(now_micros());
        Ok(Keyring {
            host: self.host.clone(),
            issued: now.clone(),
            issuers: store.issuers().await?,
            keys: store.keys().await?,
        }
        .sign(&registry, &now)?)
    }

    /// A certificate's credential, signed now by its issuer's key in force. `id` is the
    /// holder's ID number: needed unless the certificate's number contains it, and checked
    /// against the holder's keyed hash.
    #[allow(clippy::too_many_arguments)]
    pub async fn credential(
        &self,
        store: &dyn Store,
        policy: &Policy,
        secret: &HolderSecret,
        certificate: &Certificate,
        registry_id: i64,
        id: Option<&ResidentId>,
    ) -> Result<Exported, SigningError> {
        let embedded = policy
            .kind(&certificate.kind)
            .and_then(|k| hutong_core::number::embedded_id(k.number_scheme, &certificate.number));
        let id = match (embedded.as_ref(), id) {
            (Some(e), Some(given)) if e != given => return Err(SigningError::NotTheHolder),
            (Some(e), _) => e,
            (None, Some(given)) => given,
            (None, None) => return Err(SigningError::NeedsIdNumber),
        };
        if secret.key_for(id) != certificate.holder_key {
            return Err(SigningError::NotTheHolder);
        }
        let salt = secret.credential_salt(&certificate.kind, &certificate.number);
        self.credential_with_commitment(
            store,
            policy,
            secret,
            certificate,
            registry_id,
            &holder_commitment(&salt, id),
        )
        .await
    }

    /// A certificate's credential with a holder commitment made earlier, when its holder
    /// proved the ID number (a share code keeps the commitments of the certificates it covers;
    /// the commitment is what every credential of the certificate carries, not the ID number).
    pub async fn credential_with_commitment(
        &self,
        store: &dyn Store,
        policy: &Policy,
        secret: &HolderSecret,
        certificate: &Certificate,
        registry_id: i64,
        commitment: &str,
    ) -> Result<Exported, SigningError> {
        let (certificate, journal) = journaled(store, certificate, registry_id).await?;
        let certificate = &certificate;
        let issuer = store
            .issuer(&certificate.issuer)
            .await?
            .ok_or_else(|| SigningError::UnknownIssuer(certificate.issuer.clone()))?;
        let now = now_micros();
        let keys = store.keys().await?;
        let record = signing_key_of(&keys, &issuer.id, now)
            .ok_or_else(|| SigningError::NoKey(issuer.id.clone()))?;
        let key = self.load(record)?;
        let salt = secret.credential_salt(&certificate.kind, &certificate.number);
        // The national e-licence identifier, where the kind has a licence type code and the
        // issuer a unified social credit code; the certificate's registry id is its serial.
        let e_licence_id = hutong_core::elicence::for_certificate(
            policy
                .kind(&certificate.kind)
                .and_then(|k| k.licence_type_code.as_ref()),
            issuer.credit_code.as_ref(),
            registry_id,
            hutong_core::elicence::FIRST_ISSUE,
        )
        .map(|id| id.to_string());
        let credential = CertificateCredential {
            certificate,
            registry_id,
            policy,
            issuer: &issuer,
            host: &self.host,
            holder_commitment: commitment.to_string(),
            e_licence_id,
            status: self.status_entries(secret, &issuer.id, registry_id),
            journal: Some(journal.clone()),
        }
        .sign(record, &key, &rfc3339_seconds(now))?;
        Ok(Exported {
            credential,
            holder_salt: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(salt),
            journal_seq: journal.seq,
        })
    }
}

/// The certificate as its latest journal entry recorded it, with that entry: the record hash
/// of the entry must be the hash of the certificate's canonical form. When the certificate
/// changed after it was read, it is read again (the credential then reflects the newer record,
/// of the same holder); a certificate whose stored row is not what its journal recorded (a row
/// changed behind the journal's back) is refused: the registry signs only journaled records.
async fn journaled(
    store: &dyn Store,
    certificate: &Certificate,
    registry_id: i64,
) -> Result<(Certificate, JournalRef), SigningError> {
    let subject = Subject::Certificate(registry_id);
    let mut cert = certificate.clone();
    for _ in 0..JOURNAL_READS {
        let history = store.history(&subject).await?;
        let Some(last) = history.iter().rev().find(|e| e.record_sha256.is_some()) else {
            return Err(hutong_store::StoreError::Corrupt(format!(
                "certificate {registry_id} has no journal entry with its record"
            ))
            .into());
        };
        let recorded = last.record_sha256.clone().unwrap_or_default();
        if certificate_digest(&cert).1 == recorded {
            return Ok((
                cert,
                JournalRef {
                    seq: last.seq,
                    subject: subject.to_string(),
                    record_sha256: recorded,
                },
            ));
        }
        let fresh = store
            .certificate_with_id(&cert.number, &cert.kind)
            .await?
            .filter(|(id, c)| *id == registry_id && c.holder_key == certificate.holder_key);
        match fresh {
            Some((_, c)) if c != cert => cert = c,
            _ => {
                return Err(hutong_store::StoreError::Corrupt(format!(
                    "certificate {registry_id} is not the record its last journal entry (seq \
                     {}) recorded: it was changed behind the journal's back (run hutong audit)",
                    last.seq
                ))
                .into());
            }
        }
    }
    Err(hutong_store::StoreError::Stale(format!(
        "certificate {registry_id} kept changing while its credential was made"
    ))
    .into())
}

fn random_key() -> SigningKey {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SigningKey::from_bytes(&bytes)
}

/// An instant as RFC 3339 UTC to the second (`2026-12-01T08:00:00Z`), as proofs carry it.
pub fn rfc3339_seconds(micros: i64) -> String {
    let s = instant_rfc3339(micros);
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s,
    }
}
