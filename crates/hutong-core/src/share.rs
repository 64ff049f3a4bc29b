//! Share codes (用证码): what a holder hands out instead of their ID number and name.
//!
//! A holder who has proved their ID number and name mints a code for one certificate or for
//! all of theirs, with a purpose (the annotation of a 加注件, "仅供入职核验使用") and an expiry.
//! Whoever has the code sees the verification result of what it covers, annotated with the
//! purpose, until it expires or its holder revokes it. The code is the only thing an address or a QR code carries: never a
//! number (which may embed the ID number) nor a name.
//!
//! - The code is 15 random bytes (120 bits) from the operating system, written as 24 characters
//!   of Crockford's base32 (`0-9`, `A-Z` without `I L O U`), shown in groups of four
//!   (`7KQ4-M2XD-…`). Reading is forgiving the way Crockford's alphabet is meant to be: case,
//!   hyphens and spaces do not matter, `I`/`L` read as `1` and `O` as `0`.
//! - The store keeps only its SHA-256 ([`ShareCode::hash`]), beside a public [`ShareId`] that
//!   the journal (`share:<id>`) and the holder's list of codes use.
//! - Minting and revoking are journal entries; they are not log leaves (the public log would
//!   tell when people share their certificates).
//!
//! A [`HolderTicket`] is the other half: a page that a holder reached by proving ID number and
//! name cannot carry the ID number in a form, so it carries a ticket, sealed with a key derived
//! from the holder secret, that says "this holder proved who they are, until …".

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::holder::{HolderKey, HolderSecret};

/// The random bytes of a share code.
const CODE_BYTES: usize = 15;
/// The characters of a share code, without its hyphens.
pub const CODE_LEN: usize = CODE_BYTES * 8 / 5;
/// How long a code works when its holder does not say.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest a code may work: a year and a day, so that a code printed for a yearly check
/// still works on the day.
pub const MAX_DAYS: u32 = 366;
/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// A share code. Like a token it is neither `Display`, `Serialize` nor `Clone`, and its `Debug`
/// hides it: [`ShareCode::expose`] is the only way to its text.
pub struct ShareCode(String);

/// Why a text is not a share code. The messages never repeat the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "character {position} of the share code is not one a share code has \
         (digits and the letters A-Z except U; hyphens and spaces are ignored)"
    )]
    BadCharacter { position: usize },
    #[error(
        "a share code has {CODE_LEN} characters besides hyphens and spaces, this one has {found}"
    )]
    WrongLength { found: usize },
}

impl ShareCode {
    /// A new code from the operating system's random source.
    pub fn generate() -> ShareCode {
        let mut bytes = [0u8; CODE_BYTES];
        OsRng.fill_bytes(&mut bytes);
        ShareCode(base32::encode(base32::Alphabet::Crockford, &bytes))
    }

    /// Reads a code as a person types or a scanner reads it.
    pub fn parse(text: &str) -> Result<ShareCode, CodeError> {
        let mut out = String::with_capacity(CODE_LEN);
        for (i, c) in text.chars().enumerate() {
            let c = match c {
                '-' | ' ' | '\u{3000}' | '\u{2010}'..='\u{2015}' => continue,
                // Full-width forms, as Chinese input methods type them.
                '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                '\u{FF0D}' => continue,
                c => c,
            };
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c @ ('0'..='9' | 'A'..='H' | 'J' | 'K' | 'M' | 'N' | 'P'..='T' | 'V'..='Z') => c,
                _ => return Err(CodeError::BadCharacter { position: i + 1 }),
            };
            out.push(c);
        }
        if out.len() != CODE_LEN {
            return Err(CodeError::WrongLength { found: out.len() });
        }
        Ok(ShareCode(out))
    }

    /// SHA-256 of the code's canonical text: what the store keeps and finds a code by.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The canonical text (24 characters, no hyphens): for addresses and QR codes.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code in groups of four, for people to read out and type.
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Debug for ShareCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareCode(…)")
    }
}

/// What every share id starts with.
pub const SHARE_ID_PREFIX: &str = "shr_";

/// The public name of a share code: `shr_` and 16 lower-case hex digits of its own randomness.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShareId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a share id is \"shr_\" and 16 lower-case hex digits")]
pub struct ShareIdError;

impl ShareId {
    pub fn generate() -> ShareId {
        let mut bytes = [0u8; 8];
        OsRng.fill_bytes(&mut bytes);
        ShareId(format!("{SHARE_ID_PREFIX}{}", hex::encode(bytes)))
    }

    pub fn parse(text: &str) -> Result<ShareId, ShareIdError> {
        let digits = text.strip_prefix(SHARE_ID_PREFIX).ok_or(ShareIdError)?;
        let ok = digits.len() == 16
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(ShareId(text.to_string()))
        } else {
            Err(ShareIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ShareId {
    type Error = ShareIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ShareId::parse(&s)
    }
}

impl From<ShareId> for String {
    fn from(id: ShareId) -> String {
        id.0
    }
}

/// What the holder shares for: the annotation of a 加注件, shown to whoever opens the code
/// ("仅供入职核验使用") and in the holder's list of codes. It changes nothing of what the code
/// shows; it tells the verifier what the holder agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SharePurpose {
    /// An employer's check before or during employment (入职、用工核验).
    Employment,
    /// An application: an exam, a higher level, a licence (报考、申报).
    Application,
    /// A tender or a qualification review of a company (招投标、资质审查).
    Tender,
    /// Anything else the holder has in mind.
    Other,
}

impl SharePurpose {
    pub const ALL: [SharePurpose; 4] = [
        SharePurpose::Employment,
        SharePurpose::Application,
        SharePurpose::Tender,
        SharePurpose::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SharePurpose::Employment => "employment",
            SharePurpose::Application => "application",
            SharePurpose::Tender => "tender",
            SharePurpose::Other => "other",
        }
    }

    /// Reads a purpose exactly as [`SharePurpose::as_str`] writes it.
    pub fn parse(s: &str) -> Result<SharePurpose, String> {
        SharePurpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "purpose \"{}\" is not one of \"employment\", \"application\", \"tender\", \"other\"",
                    s.chars().take(20).collect::<String>()
                )
            })
    }

    /// Its name in Chinese and English, as the annotation reads: "仅供{zh}使用".
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            SharePurpose::Employment => ("入职、用工核验", "an employer's check"),
            SharePurpose::Application => ("报考、申报", "an application"),
            SharePurpose::Tender => ("招投标、资质审查", "a tender or qualification review"),
            SharePurpose::Other => ("持证人指定用途", "the use its holder had in mind"),
        }
    }
}

/// A share code as the store keeps it: its hash, never the code. Instants are UTC microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRecord {
    pub id: ShareId,
    pub hash: [u8; 32],
    /// The holder who minted it.
    pub holder: HolderKey,
    /// The certificate it covers, by registry id; all of the holder's when absent (including
    /// those registered after the code was minted, while it works).
    pub certificate: Option<i64>,
    pub purpose: SharePurpose,
    pub created_at_micros: i64,
    /// The first instant it no longer works. Every code expires.
    pub expires_at_micros: i64,
    pub revoked_at_micros: Option<i64>,
    /// The holder commitments (`SHA-256(salt ‖ ID number)`, as credentials carry them) of the
    /// certificates it covered when minted, by registry id: the holder proved the ID number
    /// then, so the bearer may have those certificates' signed credentials. Certificates
    /// registered later are shown, but have no credential by this code.
    pub commitments: BTreeMap<i64, [u8; 32]>,
}

/// Why a known code no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareUnusable {
    #[error("the share code was revoked by its holder")]
    Revoked { at_micros: i64 },
    #[error("the share code has expired")]
    Expired { at_micros: i64 },
}

impl ShareUnusable {
    pub fn code(&self) -> &'static str {
        match self {
            ShareUnusable::Revoked { .. } => "share-revoked",
            ShareUnusable::Expired { .. } => "share-expired",
        }
    }

    pub fn at_micros(&self) -> i64 {
        match self {
            ShareUnusable::Revoked { at_micros } | ShareUnusable::Expired { at_micros } => {
                *at_micros
            }
        }
    }
}

/// Why a holder's request for a code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareRequestError {
    #[error("days must be from 1 to {MAX_DAYS}, not {0}")]
    Days(i64),
}

impl ShareRecord {
    /// A new code and the record to store; the code is shown once, to its holder.
    pub fn create(
        holder: HolderKey,
        certificate: Option<i64>,
        purpose: SharePurpose,
        created_at_micros: i64,
        days: i64,
        commitments: BTreeMap<i64, [u8; 32]>,
    ) -> Result<(ShareCode, ShareRecord), ShareRequestError> {
        if !(1..=i64::from(MAX_DAYS)).contains(&days) {
            return Err(ShareRequestError::Days(days));
        }
        let code = ShareCode::generate();
        let record = ShareRecord {
            id: ShareId::generate(),
            hash: code.hash(),
            holder,
            certificate,
            purpose,
            created_at_micros,
            expires_at_micros: created_at_micros + days * DAY_MICROS,
            revoked_at_micros: None,
            commitments: match certificate {
                Some(id) => commitments.into_iter().filter(|(i, _)| *i == id).collect(),
                None => commitments,
            },
        };
        Ok((code, record))
    }

    /// The change of its `share-created` journal entry: what it covers, for what and until
    /// when; never the code or its hash. The holder is named by the keyed hash, as
    /// certificates' records name them.
    pub fn created_change(&self) -> String {
        crate::journal::canonical(&serde_json::json!({
            "change": "share-created",
            "holder": self.holder.to_hex(),
            "certificate": self.certificate,
            "purpose": self.purpose,
            "expires_at": crate::journal::instant_rfc3339(self.expires_at_micros),
        }))
    }

    /// The change of its `share-revoked` entry.
    pub fn revoked_change() -> String {
        crate::journal::canonical(&serde_json::json!({ "change": "share-revoked" }))
    }

    /// Whether the code covers the certificate of registry id `id`.
    pub fn covers(&self, id: i64) -> bool {
        self.certificate.is_none_or(|want| want == id)
    }

    /// The holder commitment by which the bearer may have the credential of certificate `id`:
    /// one the code covers and kept a commitment of when minted.
    pub fn commitment_of(&self, id: i64) -> Option<&[u8; 32]> {
        self.covers(id).then(|| self.commitments.get(&id)).flatten()
    }

    /// The commitments as stored: a JSON object of registry id to 64 hex digits.
    pub fn commitments_json(&self) -> String {
        let m: BTreeMap<String, String> = self
            .commitments
            .iter()
            .map(|(id, c)| (id.to_string(), hex::encode(c)))
            .collect();
        serde_json::to_string(&m).expect("a map of strings serialises")
    }

    /// Reads [`ShareRecord::commitments_json`] back.
    pub fn commitments_from_json(text: &str) -> Result<BTreeMap<i64, [u8; 32]>, String> {
        let m: BTreeMap<String, String> =
            serde_json::from_str(text).map_err(|e| format!("share commitments: {e}"))?;
        m.into_iter()
            .map(|(id, c)| {
                let id = id
                    .parse::<i64>()
                    .map_err(|_| format!("share commitments: \"{id}\" is not a registry id"))?;
                let mut out = [0u8; 32];
                hex::decode_to_slice(&c, &mut out)
                    .map_err(|_| format!("share commitments: {id}: not 64 hex digits"))?;
                Ok((id, out))
            })
            .collect()
    }

    /// Whether the code works at `now_micros`; a revocation is told first, and is never undone.
    pub fn usable_at(&self, now_micros: i64) -> Result<(), ShareUnusable> {
        if let Some(at) = self.revoked_at_micros {
            return Err(ShareUnusable::Revoked { at_micros: at });
        }
        if now_micros >= self.expires_at_micros {
            return Err(ShareUnusable::Expired {
                at_micros: self.expires_at_micros,
            });
        }
        Ok(())
    }
}

/// How long a holder ticket works: long enough to read a result and decide to share it.
pub const TICKET_MICROS: i64 = 30 * 60 * 1_000_000;

/// Proof, carried by a page in place of the ID number, that a holder proved their ID number and
/// name until an instant: the holder key, the instant, the holder commitments of the
/// certificates shown (so that a code minted from the page can hand out their credentials), and
/// an HMAC over all of it, in base64url.
pub struct HolderTicket;

/// What a genuine ticket vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouched {
    pub holder: HolderKey,
    pub commitments: BTreeMap<i64, [u8; 32]>,
}

/// Why a ticket is refused. The message never repeats the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the page's proof of who you are is not one this registry made; query again")]
    Forged,
    #[error("the page's proof of who you are has expired; query again")]
    Expired,
}

/// The most certificates a ticket carries commitments of.
const TICKET_MAX_CERTIFICATES: usize = 64;

impl HolderTicket {
    fn mac(secret: &HolderSecret, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret.ticket_key())
            .expect("HMAC takes any key length");
        mac.update(b"hutong holder ticket v2\0");
        mac.update(body);
        mac
    }

    /// A ticket for `holder`, valid for [`TICKET_MICROS`] from `now_micros`.
    pub fn issue(
        secret: &HolderSecret,
        holder: &HolderKey,
        commitments: &BTreeMap<i64, [u8; 32]>,
        now_micros: i64,
    ) -> String {
        let until = now_micros + TICKET_MICROS;
        let mut body = Vec::with_capacity(40 + 40 * commitments.len() + 32);
        body.extend_from_slice(&holder.0);
        body.extend_from_slice(&until.to_be_bytes());
        for (id, c) in commitments.iter().take(TICKET_MAX_CERTIFICATES) {
            body.extend_from_slice(&id.to_be_bytes());
            body.extend_from_slice(c);
        }
        let tag = Self::mac(secret, &body).finalize().into_bytes();
        body.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(body)
    }

    /// What a ticket vouches for, if it is genuine and works at `now_micros`.
    pub fn check(
        secret: &HolderSecret,
        ticket: &str,
        now_micros: i64,
    ) -> Result<Vouched, TicketError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(ticket.trim())
            .map_err(|_| TicketError::Forged)?;
        if bytes.len() < 72 || (bytes.len() - 72) % 40 != 0 {
            return Err(TicketError::Forged);
        }
        let (body, tag) = bytes.split_at(bytes.len() - 32);
        Self::mac(secret, body)
            .verify_slice(tag)
            .map_err(|_| TicketError::Forged)?;
        let word = |at: usize| -> [u8; 8] {
            let mut w = [0u8; 8];
            w.copy_from_slice(&body[at..at + 8]);
            w
        };
        let mut holder = [0u8; 32];
        holder.copy_from_slice(&body[..32]);
        let until = i64::from_be_bytes(word(32));
        if now_micros >= until {
            return Err(TicketError::Expired);
        }
        let mut commitments = BTreeMap::new();
        for at in (40..body.len()).step_by(40) {
            let mut c = [0u8; 32];
            c.copy_from_slice(&body[at + 8..at + 40]);
            commitments.insert(i64::from_be_bytes(word(at)), c);
        }
        Ok(Vouched {
            holder: HolderKey(holder),
            commitments,
        })
    }
}

/// The signature of a webhook delivery's body (docs/watch.md): HMAC-SHA-256 under the
/// webhook's secret, in lower-case hex, sent as `X-Hutong-Signature: sha256=…`.
pub fn webhook_signature(secret: &[u8; 32], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_are_random_and_read_back_however_typed() {
        let a = ShareCode::generate();
        let b = ShareCode::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), CODE_LEN);
        assert_eq!(CODE_LEN, 24);
        let grouped = a.grouped();
        assert_eq!(grouped.len(), 24 + 5);
        for typed in [
            grouped.clone(),
            grouped.to_lowercase(),
            grouped.replace('-', " "),
            a.expose().replace('1', "l").replace('0', "O"),
            a.expose()
                .chars()
                .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
                .collect(),
        ] {
            let back = ShareCode::parse(&typed).unwrap();
            assert_eq!(back.expose(), a.expose(), "{typed}");
            assert_eq!(back.hash(), a.hash());
        }
    }

    #[test]
    fn bad_codes_say_what_is_wrong_without_repeating_them() {
        let e = ShareCode::parse("ABCD-EFGH-U").unwrap_err();
        assert_eq!(e, CodeError::BadCharacter { position: 11 });
        let e = ShareCode::parse("ABCD").unwrap_err();
        assert_eq!(e, CodeError::WrongLength { found: 4 });
        assert!(!e.to_string().contains("ABCD"));
        assert!(ShareCode::parse("11010119660101004X11010119").is_err());
        assert!(ShareCode::parse("").is_err());
    }

    #[test]
    fn ids_parse_and_refuse() {
        let id = ShareId::generate();
        assert_eq!(ShareId::parse(id.as_str()).unwrap(), id);
        assert!(ShareId::parse("shr_123").is_err());
        assert!(ShareId::parse("tok_0123456789abcdef").is_err());
    }

    #[test]
    fn a_code_expires_and_a_revocation_is_told_first() {
        let (_, mut r) = ShareRecord::create(
            HolderKey([1; 32]),
            Some(7),
            SharePurpose::Employment,
            1000,
            2,
            BTreeMap::from([(7, [1; 32]), (8, [2; 32])]),
        )
        .unwrap();
        assert_eq!(
            r.commitments.keys().collect::<Vec<_>>(),
            [&7],
            "the one it covers"
        );
        assert!(r.covers(7) && !r.covers(8));
        assert_eq!(r.commitment_of(7), Some(&[1; 32]));
        assert_eq!(r.commitment_of(8), None);
        assert_eq!(
            ShareRecord::commitments_from_json(&r.commitments_json()).unwrap(),
            r.commitments
        );
        assert_eq!(r.expires_at_micros, 1000 + 2 * DAY_MICROS);
        assert!(r.usable_at(1000).is_ok());
        assert!(r.usable_at(r.expires_at_micros - 1).is_ok());
        assert!(matches!(
            r.usable_at(r.expires_at_micros),
            Err(ShareUnusable::Expired { .. })
        ));
        r.revoked_at_micros = Some(2000);
        assert_eq!(
            r.usable_at(r.expires_at_micros + 5),
            Err(ShareUnusable::Revoked { at_micros: 2000 })
        );
        for days in [0, -1, i64::from(MAX_DAYS) + 1] {
            assert!(
                ShareRecord::create(
                    HolderKey([1; 32]),
                    None,
                    SharePurpose::Employment,
                    0,
                    days,
                    BTreeMap::new()
                )
                .is_err()
            );
        }
    }

    #[test]
    fn the_journal_change_holds_neither_code_nor_hash() {
        let (code, r) = ShareRecord::create(
            HolderKey([9; 32]),
            None,
            SharePurpose::Other,
            0,
            30,
            BTreeMap::new(),
        )
        .unwrap();
        let c = r.created_change();
        assert!(!c.contains(code.expose()));
        assert!(!c.contains(&hex::encode(r.hash)));
        assert!(c.contains("\"change\":\"share-created\""), "{c}");
        assert!(c.contains("\"certificate\":null"), "{c}");
    }

    #[test]
    fn purposes_read_back() {
        for p in SharePurpose::ALL {
            assert_eq!(SharePurpose::parse(p.as_str()), Ok(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::String(p.as_str().into())
            );
        }
        assert!(SharePurpose::parse("print").is_err());
    }

    #[test]
    fn tickets_work_until_they_expire_and_cannot_be_forged() {
        let secret = HolderSecret::from_bytes([3; 32]);
        let other = HolderSecret::from_bytes([4; 32]);
        let holder = HolderKey([5; 32]);
        let commitments = BTreeMap::from([(12, [6; 32]), (40, [7; 32])]);
        let t = HolderTicket::issue(&secret, &holder, &commitments, 100);
        assert_eq!(
            HolderTicket::check(&secret, &t, 100).unwrap(),
            Vouched {
                holder,
                commitments: commitments.clone()
            }
        );
        let bare = HolderTicket::issue(&secret, &holder, &BTreeMap::new(), 100);
        assert!(
            HolderTicket::check(&secret, &bare, 100)
                .unwrap()
                .commitments
                .is_empty()
        );
        assert_eq!(
            HolderTicket::check(&secret, &t, 100 + TICKET_MICROS),
            Err(TicketError::Expired)
        );
        assert_eq!(
            HolderTicket::check(&other, &t, 100),
            Err(TicketError::Forged)
        );
        // Any changed byte: another holder, a later expiry, another certificate or commitment.
        let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in [0, 39, 40, 47, 48, 90, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert_eq!(
                HolderTicket::check(&secret, &URL_SAFE_NO_PAD.encode(&b), 100),
                Err(TicketError::Forged),
                "byte {i}"
            );
        }
        // A commitment cut off.
        let cut = [&bytes[..bytes.len() - 72], &bytes[bytes.len() - 32..]].concat();
        assert_eq!(
            HolderTicket::check(&secret, &URL_SAFE_NO_PAD.encode(&cut), 100),
            Err(TicketError::Forged)
        );
        assert_eq!(
            HolderTicket::check(&secret, "not a ticket", 100),
            Err(TicketError::Forged)
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = ShareCode::parse(&s);
            let _ = HolderTicket::check(&HolderSecret::from_bytes([0; 32]), &s, 0);
        }

        #[test]
        fn any_code_round_trips(bytes in proptest::array::uniform15(any::<u8>())) {
            let text = base32::encode(base32::Alphabet::Crockford, &bytes);
            let code = ShareCode::parse(&text).unwrap();
            prop_assert_eq!(code.expose(), text.as_str());
            let again = ShareCode::parse(&code.grouped()).unwrap();
            prop_assert_eq!(again.expose(), text.as_str());
        }
    }
}
