//! Exports in the import format that never carry an ID number (`hutong export`).
//!
//! The registry does not have its holders' ID numbers, only their keyed hashes
//! ([`HolderSecret::key_for`]); an export row gives that hash in a `holder_key` column, in place
//! of `holder_id`, as `FINGERPRINT:HASH` (the holder secret's public fingerprint, then the 32
//! bytes of the hash in base64url: 43 characters, in which a run of 18 digits that reads as an
//! ID number is as good as impossible, where hexadecimal made one in a few thousand rows).
//! Some certificate numbers are ID numbers, or embed one (emergency management and market
//! regulation numbers): an export seals them, as
//! `sealed:BASE64URL`, with XChaCha20-Poly1305 under a key derived from the holder secret
//! ([`HolderSecret::export_key`]), the kind as associated data. The nonce is derived from the
//! kind and number (a synthetic IV), so that exporting the same registry twice gives the same
//! bytes and two registries with the same data give the same export.
//!
//! Another hutong with the same holder key file imports such a file as it imports any other
//! (`hutong import`): it opens the sealed numbers and takes the keyed hashes as they are, after
//! checking that the fingerprint is its own. A registry with another holder secret refuses every
//! row, naming both fingerprints: its hashes would never find the holders.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::certificate::Certificate;
use crate::holder::{HolderKey, HolderSecret};
use crate::number::mask_id_numbers;
use crate::policy::Policy;

/// The prefix of a sealed number.
pub const SEALED: &str = "sealed:";

fn cipher(secret: &HolderSecret) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&secret.export_key().into())
}

fn nonce(secret: &HolderSecret, kind: &str, number: &str) -> [u8; 24] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret.export_key())
        .expect("HMAC takes any key length");
    mac.update(b"hutong export nonce v1\0");
    mac.update(kind.as_bytes());
    mac.update(b"\0");
    mac.update(number.as_bytes());
    let full: [u8; 32] = mac.finalize().into_bytes().into();
    full[..24].try_into().expect("24 of 32 bytes")
}

/// Seals a certificate number of `kind`: `sealed:` and the nonce and ciphertext, base64url.
pub fn seal_number(secret: &HolderSecret, kind: &str, number: &str) -> String {
    let n = nonce(secret, kind, number);
    let sealed = cipher(secret)
        .encrypt(
            XNonce::from_slice(&n),
            Payload {
                msg: number.as_bytes(),
                aad: kind.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 seals any message of this size");
    let mut bytes = n.to_vec();
    bytes.extend_from_slice(&sealed);
    format!(
        "{SEALED}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A certificate's number as an export row and a feed entry give it: sealed where its kind's
/// scheme embeds an ID number (and wherever one is found all the same, or where the kind is not
/// in the policy), plain otherwise.
pub fn number_field(policy: &Policy, secret: &HolderSecret, c: &Certificate) -> String {
    let embeds = policy
        .kind(&c.kind)
        .is_none_or(|k| k.number_scheme.embeds_resident_id());
    if embeds || mask_id_numbers(&c.number) != c.number {
        seal_number(secret, &c.kind, &c.number)
    } else {
        c.number.clone()
    }
}

/// Opens a sealed number; `None` when `field` is not sealed (a plain number).
pub fn unseal_number(
    secret: &HolderSecret,
    kind: &str,
    field: &str,
) -> Option<Result<String, String>> {
    let body = field.strip_prefix(SEALED)?;
    let refused = || {
        format!(
            "the sealed number does not open with this registry's holder key (fingerprint {}) for kind \"{kind}\": it was exported by a registry with another holder key, or for another kind, or changed",
            secret.fingerprint()
        )
    };
    let bytes = match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body) {
        Ok(b) if b.len() > 24 + 16 => b,
        _ => return Some(Err("is not a sealed number (sealed: and base64url)".into())),
    };
    let (n, sealed) = bytes.split_at(24);
    Some(
        cipher(secret)
            .decrypt(
                XNonce::from_slice(n),
                Payload {
                    msg: sealed,
                    aad: kind.as_bytes(),
                },
            )
            .map_err(|_| refused())
            .and_then(|plain| String::from_utf8(plain).map_err(|_| refused())),
    )
}

/// The `holder_key` column of an export row.
pub fn holder_key_field(secret: &HolderSecret, key: &HolderKey) -> String {
    format!(
        "{}:{}",
        secret.fingerprint(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.0)
    )
}

/// Reads a `holder_key` column: the fingerprint must be this registry's.
pub fn parse_holder_key(secret: &HolderSecret, field: &str) -> Result<HolderKey, String> {
    let Some((fingerprint, hash)) = field.split_once(':') else {
        return Err(
            "must be FINGERPRINT:HASH, the holder secret's fingerprint and the hash in base64url"
                .into(),
        );
    };
    let ours = secret.fingerprint();
    if fingerprint != ours {
        return Err(format!(
            "was made with another holder key (fingerprint {fingerprint}); this registry's is {ours}: import it into a registry that uses the same holder key file"
        ));
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(hash)
        .ok()
        .and_then(|b| HolderKey::from_slice(&b))
        .ok_or_else(|| "the hash must be 32 bytes in base64url (43 characters)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(b: u8) -> HolderSecret {
        HolderSecret::from_bytes([b; 32])
    }

    #[test]
    fn a_sealed_number_opens_only_with_its_secret_and_kind() {
        let s = secret(7);
        let sealed = seal_number(&s, "mem.electrical.low-voltage", "T440305198507031233");
        assert!(sealed.starts_with(SEALED), "{sealed}");
        assert!(!sealed.contains("440305198507031233"));
        // The same input seals to the same bytes.
        assert_eq!(
            sealed,
            seal_number(&s, "mem.electrical.low-voltage", "T440305198507031233")
        );
        assert_eq!(
            unseal_number(&s, "mem.electrical.low-voltage", &sealed),
            Some(Ok("T440305198507031233".to_string()))
        );
        assert!(matches!(
            unseal_number(&secret(8), "mem.electrical.low-voltage", &sealed),
            Some(Err(e)) if e.contains("another holder key")
        ));
        assert!(matches!(
            unseal_number(&s, "mem.electrical.high-voltage", &sealed),
            Some(Err(_))
        ));
        let mut changed = sealed.clone();
        changed.pop();
        changed.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            unseal_number(&s, "mem.electrical.low-voltage", &changed),
            Some(Err(_))
        ));
        assert_eq!(unseal_number(&s, "x", "T440305198507031233"), None);
    }

    #[test]
    fn a_holder_key_reads_only_under_its_fingerprint() {
        let s = secret(7);
        let key = HolderKey([3; 32]);
        let field = holder_key_field(&s, &key);
        assert_eq!(parse_holder_key(&s, &field), Ok(key));
        let e = parse_holder_key(&secret(9), &field).unwrap_err();
        assert!(e.contains("another holder key"), "{e}");
        assert!(parse_holder_key(&s, "abc").is_err());
        assert!(parse_holder_key(&s, &format!("{}:zz", s.fingerprint())).is_err());
    }
}
