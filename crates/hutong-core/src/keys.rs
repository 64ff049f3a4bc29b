//! Issuers' signing keys and their lifecycle.
//!
//! A key is created for one issuer and signs that issuer's credentials from the instant it was
//! created. It stops signing when it is *retired* (by a rotation, or on its own): signatures it
//! made before stay valid, so a rotation never invalidates a credential issued earlier. A key
//! that is *revoked* (compromised, say) is revoked from an instant that may lie in the past:
//! every signature dated at or after it is invalid, those before it stay valid.
//!
//! The record holds only the public key (a Multikey, `z6Mk…`). The private key lives in a file
//! of its own with restricted permissions, outside the database (docs/credentials.md). Every
//! change is a journal entry with subject `key:<id>` and is a leaf of the transparency log.

use serde::{Deserialize, Serialize};

use crate::journal::{canonical, instant_rfc3339, sha256_hex};

/// A key's record, as stored and as published in the public keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// `key_` and the first 16 hex digits of the SHA-256 of the public key bytes' multibase.
    pub id: String,
    /// The issuer whose credentials this key signs.
    pub issuer: String,
    /// The Ed25519 public key as a Multikey (`z6Mk…`, base58btc of `0xed01 || key`).
    pub public_key_multibase: String,
    /// From this instant (µs since the Unix epoch) the key may sign.
    pub valid_from_micros: i64,
    /// The key signs nothing at or after this instant; signatures made before stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_micros: Option<i64>,
    /// Every signature dated at or after this instant is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_micros: Option<i64>,
    /// Why it was revoked (free text from the operator; no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
}

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyInvalid {
    #[error("the signature is dated {at}, before key {key} was valid (from {from})")]
    NotYetValid {
        key: String,
        at: String,
        from: String,
    },
    #[error("the signature is dated {at}, but key {key} was retired at {retired}")]
    Retired {
        key: String,
        at: String,
        retired: String,
    },
    #[error("the signature is dated {at}, but key {key} was revoked from {revoked} ({reason})")]
    Revoked {
        key: String,
        at: String,
        revoked: String,
        reason: String,
    },
}

impl KeyInvalid {
    /// A stable code for APIs and exit reports.
    pub fn code(&self) -> &'static str {
        match self {
            KeyInvalid::NotYetValid { .. } => "key-not-yet-valid",
            KeyInvalid::Retired { .. } => "key-retired",
            KeyInvalid::Revoked { .. } => "key-revoked",
        }
    }
}

impl KeyRecord {
    /// The id of a key with this public Multikey.
    pub fn id_for(public_key_multibase: &str) -> String {
        format!("key_{}", &sha256_hex(public_key_multibase.as_bytes())[..16])
    }

    /// Whether a signature made at `at_micros` counts.
    pub fn signed_validly_at(&self, at_micros: i64) -> Result<(), KeyInvalid> {
        let at = || instant_rfc3339(at_micros);
        if let Some(r) = self.revoked_micros
            && at_micros >= r
        {
            return Err(KeyInvalid::Revoked {
                key: self.id.clone(),
                at: at(),
                revoked: instant_rfc3339(r),
                reason: self
                    .revocation_reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".into()),
            });
        }
        if at_micros < self.valid_from_micros {
            return Err(KeyInvalid::NotYetValid {
                key: self.id.clone(),
                at: at(),
                from: instant_rfc3339(self.valid_from_micros),
            });
        }
        if let Some(r) = self.retired_micros
            && at_micros >= r
        {
            return Err(KeyInvalid::Retired {
                key: self.id.clone(),
                at: at(),
                retired: instant_rfc3339(r),
            });
        }
        Ok(())
    }

    /// Whether the key may sign now.
    pub fn usable_at(&self, now_micros: i64) -> bool {
        self.signed_validly_at(now_micros).is_ok()
    }

    /// The record's canonical form (RFC 8785) and its SHA-256, for the journal.
    pub fn digest(&self) -> (String, String) {
        let c = canonical(self);
        let h = sha256_hex(c.as_bytes());
        (c, h)
    }

    /// The state, for listings: `active`, `retired` or `revoked`, now.
    pub fn state_at(&self, now_micros: i64) -> &'static str {
        match self.signed_validly_at(now_micros) {
            Ok(()) => "active",
            Err(KeyInvalid::Revoked { .. }) => "revoked",
            Err(KeyInvalid::Retired { .. }) => "retired",
            Err(KeyInvalid::NotYetValid { .. }) => "pending",
        }
    }
}

/// A change to a key. Serialised, it is the `change` of its journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KeyChange {
    /// Created (also by a rotation, which then retires the issuer's previous key).
    KeyCreated {
        issuer: String,
        public_key_multibase: String,
        valid_from: String,
    },
    /// Retired: signs nothing from `at` on.
    KeyRetired { at: String },
    /// Revoked: signatures from `at` on are invalid.
    KeyRevoked { at: String, reason: String },
}

/// Why a key change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("key {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("key {0} is already retired")]
    AlreadyRetired(String),
    #[error("a key cannot be retired before it was valid ({0})")]
    BeforeValid(String),
    #[error("a revocation needs a reason")]
    NoReason,
    #[error("a reason is at most 200 characters")]
    LongReason,
}

impl KeyChange {
    /// The change's canonical JSON, the journal's `change`.
    pub fn to_json(&self) -> String {
        canonical(self)
    }

    /// Retire `key` at `at_micros`.
    pub fn retire(key: &KeyRecord, at_micros: i64) -> Result<(KeyChange, KeyRecord), KeyRefusal> {
        if key.revoked_micros.is_some() {
            return Err(KeyRefusal::AlreadyRevoked(key.id.clone()));
        }
        if key.retired_micros.is_some() {
            return Err(KeyRefusal::AlreadyRetired(key.id.clone()));
        }
        if at_micros < key.valid_from_micros {
            return Err(KeyRefusal::BeforeValid(instant_rfc3339(
                key.valid_from_micros,
            )));
        }
        let mut after = key.clone();
        after.retired_micros = Some(at_micros);
        Ok((
            KeyChange::KeyRetired {
                at: instant_rfc3339(at_micros),
            },
            after,
        ))
    }

    /// Revoke `key` from `at_micros`, which may lie in the past (the day it was compromised).
    /// A retired key can still be revoked: that invalidates what it signed since `at`.
    pub fn revoke(
        key: &KeyRecord,
        at_micros: i64,
        reason: &str,
    ) -> Result<(KeyChange, KeyRecord), KeyRefusal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(KeyRefusal::NoReason);
        }
        if reason.chars().count() > 200 {
            return Err(KeyRefusal::LongReason);
        }
        if key.revoked_micros.is_some() {
            return Err(KeyRefusal::AlreadyRevoked(key.id.clone()));
        }
        let mut after = key.clone();
        after.revoked_micros = Some(at_micros);
        after.revocation_reason = Some(reason.to_string());
        Ok((
            KeyChange::KeyRevoked {
                at: instant_rfc3339(at_micros),
                reason: reason.to_string(),
            },
            after,
        ))
    }

    /// A new key's record and its change.
    pub fn create(
        issuer: &str,
        public_key_multibase: &str,
        valid_from_micros: i64,
    ) -> (KeyChange, KeyRecord) {
        let record = KeyRecord {
            id: KeyRecord::id_for(public_key_multibase),
            issuer: issuer.to_string(),
            public_key_multibase: public_key_multibase.to_string(),
            valid_from_micros,
            retired_micros: None,
            revoked_micros: None,
            revocation_reason: None,
        };
        (
            KeyChange::KeyCreated {
                issuer: issuer.to_string(),
                public_key_multibase: public_key_multibase.to_string(),
                valid_from: instant_rfc3339(valid_from_micros),
            },
            record,
        )
    }
}

/// The key an issuer signs with at `now`: its usable key created last.
pub fn signing_key_of<'a>(
    keys: &'a [KeyRecord],
    issuer: &str,
    now_micros: i64,
) -> Option<&'a KeyRecord> {
    keys.iter()
        .filter(|k| k.issuer == issuer && k.usable_at(now_micros))
        .max_by_key(|k| (k.valid_from_micros, k.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    fn key() -> KeyRecord {
        KeyChange::create("mem.14", "z6MkTest", 10 * DAY).1
    }

    #[test]
    fn a_signature_counts_only_inside_the_keys_window() {
        let k = key();
        assert_eq!(
            k.signed_validly_at(9 * DAY).unwrap_err().code(),
            "key-not-yet-valid"
        );
        assert!(k.signed_validly_at(10 * DAY).is_ok());
        let (_, retired) = KeyChange::retire(&k, 20 * DAY).unwrap();
        assert!(retired.signed_validly_at(19 * DAY).is_ok(), "signed before");
        assert_eq!(
            retired.signed_validly_at(20 * DAY).unwrap_err().code(),
            "key-retired"
        );
        let (_, revoked) = KeyChange::revoke(&retired, 15 * DAY, "leaked").unwrap();
        assert!(revoked.signed_validly_at(14 * DAY).is_ok());
        let e = revoked.signed_validly_at(16 * DAY).unwrap_err();
        assert_eq!(e.code(), "key-revoked");
        assert!(e.to_string().contains("leaked"), "{e}");
    }

    #[test]
    fn lifecycle_refusals() {
        let k = key();
        assert_eq!(
            KeyChange::retire(&k, 5 * DAY).unwrap_err(),
            KeyRefusal::BeforeValid(instant_rfc3339(10 * DAY))
        );
        assert_eq!(
            KeyChange::revoke(&k, 11 * DAY, "  ").unwrap_err(),
            KeyRefusal::NoReason
        );
        let (_, r) = KeyChange::revoke(&k, 11 * DAY, "x").unwrap();
        assert!(matches!(
            KeyChange::retire(&r, 12 * DAY),
            Err(KeyRefusal::AlreadyRevoked(_))
        ));
        let (_, t) = KeyChange::retire(&k, 12 * DAY).unwrap();
        assert!(matches!(
            KeyChange::retire(&t, 13 * DAY),
            Err(KeyRefusal::AlreadyRetired(_))
        ));
    }

    #[test]
    fn the_signing_key_is_the_newest_usable_one() {
        let a = KeyChange::create("mem.14", "z6MkA", 10 * DAY).1;
        let (_, a) = KeyChange::retire(&a, 20 * DAY).unwrap();
        let b = KeyChange::create("mem.14", "z6MkB", 20 * DAY).1;
        let c = KeyChange::create("mem.11", "z6MkC", 1).1;
        let keys = [a.clone(), b.clone(), c];
        assert_eq!(signing_key_of(&keys, "mem.14", 15 * DAY), Some(&a));
        assert_eq!(signing_key_of(&keys, "mem.14", 25 * DAY), Some(&b));
        assert_eq!(signing_key_of(&keys, "mohurd.14", 25 * DAY), None);
    }

    #[test]
    fn changes_serialise_as_journal_changes() {
        let (c, _) = KeyChange::create("mem.14", "z6MkA", 0);
        assert_eq!(
            c.to_json(),
            r#"{"change":"key-created","issuer":"mem.14","public_key_multibase":"z6MkA","valid_from":"1970-01-01T00:00:00.000000Z"}"#
        );
        assert_eq!(
            crate::journal::change_kind(&c.to_json()),
            Some("key-created")
        );
    }
}
