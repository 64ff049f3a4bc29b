//! Holders are personal data: the registry keys them by a keyed hash of their ID number and
//! shows their names only masked.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::idcard::ResidentId;

/// The secret that keys holder hashes. Without it, a stolen database cannot be searched by ID
/// number, nor its hashes reversed by enumerating the (small) space of valid ID numbers.
#[derive(Clone)]
pub struct HolderSecret([u8; 32]);

/// The registry's handle on a holder: HMAC-SHA256 of the normalised ID number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HolderKey(pub [u8; 32]);

impl HolderSecret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        HolderSecret(bytes)
    }

    /// Reads the secret from its text form: 64 hexadecimal characters.
    pub fn from_hex(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| match e {
            hex::FromHexError::InvalidHexCharacter { c, index } => format!(
                "a holder key is hexadecimal; \"{c}\" at position {} is not",
                index + 1
            ),
            hex::FromHexError::OddLength | hex::FromHexError::InvalidStringLength => format!(
                "a holder key is 64 hexadecimal characters, this one has {}",
                s.chars().count()
            ),
        })?;
        Ok(HolderSecret(out))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A short public fingerprint, stored with the data so that opening a database with the
    /// wrong secret is refused instead of silently finding nobody.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"hutong holder secret fingerprint v1\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }

    pub fn key_for(&self, id: &ResidentId) -> HolderKey {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hutong holder v1\0");
        mac.update(id.as_str().as_bytes());
        HolderKey(mac.finalize().into_bytes().into())
    }

    /// The key of the permutation that gives certificates their status list indexes
    /// (`hutong_credential::status::IndexPermutation`): secret, so that a list's set bits cannot
    /// be mapped to certificates, and stable, so that an index never changes.
    pub fn status_index_key(&self) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hutong status list index v1");
        mac.finalize().into_bytes().into()
    }

    /// The key that seals, in exports, the certificate numbers that embed an ID number
    /// ([`crate::export`]): another registry with the same holder secret can open them.
    pub fn export_key(&self) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hutong export seal v1");
        mac.finalize().into_bytes().into()
    }

    /// The key of holder tickets ([`crate::share::HolderTicket`]): what a page carries, in
    /// place of the ID number, to show that its holder proved who they are a moment ago.
    pub fn ticket_key(&self) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hutong holder ticket key v1");
        mac.finalize().into_bytes().into()
    }

    /// The secret salt of a certificate's holder commitment in its credential: 16 bytes, the
    /// same every time the credential is made (so a re-export matches), different for every
    /// certificate (so two credentials of one holder cannot be linked by it), and known only to
    /// the registry and to whom it hands it (the holder, the issuer). See
    /// `hutong_credential::certificate::holder_commitment`.
    pub fn credential_salt(&self, kind: &str, number: &str) -> [u8; 16] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hutong credential salt v1\0");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(number.as_bytes());
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        full[..16].try_into().expect("16 of 32 bytes")
    }
}

impl fmt::Debug for HolderSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderSecret(fingerprint {})", self.fingerprint())
    }
}

impl HolderKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_slice(b: &[u8]) -> Option<HolderKey> {
        b.try_into().ok().map(HolderKey)
    }
}

impl fmt::Debug for HolderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderKey({}…)", hex::encode(&self.0[..4]))
    }
}

/// Masks a name for public answers: the first and last characters stay, the rest become `*`
/// (`张三` → `张*`, `张小明` → `张*明`, `欧阳娜娜` → `欧**娜`). A separator dot in a transliterated
/// name (`·`) is kept so that the shape stays recognisable.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 || i == n - 1 || *c == '·' || *c == '•' {
                    *c
                } else {
                    '*'
                }
            })
            .collect(),
    }
}

/// Whether a name given as a second factor matches the registered one. Whitespace around and
/// inside is ignored, and the middle dots used in transliterated names are treated as one.
pub fn names_match(registered: &str, given: &str) -> bool {
    fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars().filter(|c| !c.is_whitespace()).map(|c| {
            if matches!(c, '•' | '・' | '.') {
                '·'
            } else {
                c
            }
        })
    }
    let given_trimmed = given.trim();
    !given_trimmed.is_empty() && norm(registered).eq(norm(given_trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小明"), "张*明");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·**提");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn name_matching() {
        assert!(names_match("张小明", " 张小明 "));
        assert!(names_match("阿依古丽·买买提", "阿依古丽•买买提"));
        assert!(!names_match("张小明", "张小"));
        assert!(!names_match("张小明", ""));
    }

    #[test]
    fn keys_depend_on_the_secret_and_the_number() {
        let a = HolderSecret::from_bytes([1; 32]);
        let b = HolderSecret::from_bytes([2; 32]);
        let id = ResidentId::parse("11010519491231002X").unwrap();
        let lower = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(a.key_for(&id), a.key_for(&lower));
        assert_ne!(a.key_for(&id), b.key_for(&id));
        assert_ne!(a.fingerprint(), b.fingerprint());
        let round = HolderSecret::from_hex(&a.to_hex()).unwrap();
        assert_eq!(round.key_for(&id), a.key_for(&id));
        assert!(HolderSecret::from_hex("zz").is_err());
        assert!(!format!("{a:?}").contains(&a.to_hex()));
    }

    #[test]
    fn hex_forms_are_stable_and_errors_say_where() {
        // Fingerprints are stored in every database: their text must never change.
        let a = HolderSecret::from_bytes([1; 32]);
        assert_eq!(a.fingerprint(), "4e1674f2c00cb95b");
        assert_eq!(a.to_hex(), "01".repeat(32));
        let upper = HolderSecret::from_hex(&"AB".repeat(32)).unwrap();
        assert_eq!(upper.to_hex(), "ab".repeat(32));
        let mut bad = "0".repeat(64);
        bad.replace_range(4..5, "g");
        let e = HolderSecret::from_hex(&bad).unwrap_err();
        assert_eq!(e, "a holder key is hexadecimal; \"g\" at position 5 is not");
        let e = HolderSecret::from_hex("abc").unwrap_err();
        assert_eq!(
            e,
            "a holder key is 64 hexadecimal characters, this one has 3"
        );
    }
}
