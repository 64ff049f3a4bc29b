//! API tokens: the bearer secret, its public id, and the record the store keeps.
//!
//! A token is 32 random bytes from the operating system, shown once as `ht_` and the bytes in
//! base64url without padding (46 characters in all). The store keeps only its SHA-256
//! ([`Token::hash`]) in a [`TokenRecord`], beside a [`TokenId`] that logs and the journal use
//! to name the token. What a token may do is decided by [`crate::rights::authorize`] from the
//! record's [`Actor`].
//!
//! Authentication, in the order a caller does it, every failure being a 401:
//! 1. no `Authorization: Bearer …` header: 401 (the public writes nothing);
//! 2. [`Token::parse`] fails: 401 with the [`TokenError`] message, which never repeats the text;
//! 3. no record has the token's [`Token::hash`]: 401;
//! 4. [`TokenRecord::usable_at`] refuses: 401 with the [`Unusable`] message.
//!
//! Then [`crate::rights::authorize`] decides, and a refusal is a 403.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rights::Actor;

/// What every token starts with, so that a leaked one is recognisable (and scannable).
pub const TOKEN_PREFIX: &str = "ht_";

/// The random bytes of a token.
const SECRET_BYTES: usize = 32;

/// The length of a token's text: the prefix and 43 base64url characters for 32 bytes.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + (SECRET_BYTES * 8).div_ceil(6);

/// A bearer secret. It is neither `Display`, `Serialize` nor `Clone`, and its `Debug` hides it:
/// the only way to its text is [`Token::expose`], to show it once or to send it.
pub struct Token(String);

/// Why a text is not a token. The messages never repeat the text, nor any part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a hutong token starts with \"ht_\"")]
    WrongPrefix,
    /// `position` is the 1-based position of the first character outside base64url.
    #[error(
        "character {position} of the token is not base64url \
         (a hutong token is \"ht_\" and A-Z, a-z, 0-9, \"-\" and \"_\")"
    )]
    BadAlphabet { position: usize },
    #[error("a hutong token is {TOKEN_LEN} characters long, this one is {found}")]
    WrongLength { found: usize },
    /// The last character carries bits that no encoding of 32 bytes sets: the token was altered.
    #[error("the last character of the token is not one that hutong writes: the token was altered")]
    NotCanonical,
}

impl Token {
    /// A new token from 32 bytes of the operating system's random source.
    pub fn generate() -> Token {
        let mut bytes = [0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Token(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Reads a token as a client sends it. Strict: no surrounding whitespace (the caller strips
    /// `Bearer ` and any line ending), no padding, exactly one encoding of 32 bytes.
    pub fn parse(text: &str) -> Result<Token, TokenError> {
        let Some(body) = text.strip_prefix(TOKEN_PREFIX) else {
            return Err(TokenError::WrongPrefix);
        };
        if let Some(i) = body
            .chars()
            .position(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(TokenError::BadAlphabet {
                position: TOKEN_PREFIX.len() + i + 1,
            });
        }
        // Only ASCII is left, so bytes are characters.
        if text.len() != TOKEN_LEN {
            return Err(TokenError::WrongLength { found: text.len() });
        }
        let mut bytes = [0u8; SECRET_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(body, &mut bytes) {
            Ok(SECRET_BYTES) => Ok(Token(text.to_string())),
            // The alphabet and the length are checked: what is left is trailing bits.
            _ => Err(TokenError::NotCanonical),
        }
    }

    /// SHA-256 of the token's text: what the store keeps and looks a token up by.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The secret itself, to show once to whoever asked for the token, or to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(ht_…)")
    }
}

impl std::str::FromStr for Token {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Token::parse(s)
    }
}

/// What every token id starts with.
pub const TOKEN_ID_PREFIX: &str = "tok_";

/// The public name of a token, for logs, the journal's `actor` column and `hutong tokens list`:
/// `tok_` and 16 lower-case hex digits.
///
/// The digits are 8 random bytes of their own, drawn apart from the secret, so the id says
/// nothing about the token: it cannot help recover it, and it stays the same if the way tokens
/// are hashed ever changes. 64 random bits make a collision unlikely, not impossible: the store
/// keeps ids unique and draws again on a clash.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenId(String);

/// Why a text is not a token id. The message does not repeat the text: what was pasted into a
/// token id's place may be a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token id is \"tok_\" and 16 lower-case hex digits")]
pub struct TokenIdError;

impl TokenId {
    /// A new id from 8 bytes of the operating system's random source.
    pub fn generate() -> TokenId {
        let mut bytes = [0u8; 8];
        OsRng.fill_bytes(&mut bytes);
        TokenId(format!("{TOKEN_ID_PREFIX}{}", hex::encode(bytes)))
    }

    pub fn parse(text: &str) -> Result<TokenId, TokenIdError> {
        let digits = text.strip_prefix(TOKEN_ID_PREFIX).ok_or(TokenIdError)?;
        let ok = digits.len() == 16
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(TokenId(text.to_string()))
        } else {
            Err(TokenIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TokenId {
    type Err = TokenIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenId::parse(s)
    }
}

impl TryFrom<String> for TokenId {
    type Error = TokenIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TokenId::parse(&s)
    }
}

impl From<TokenId> for String {
    fn from(id: TokenId) -> String {
        id.0
    }
}

/// A token as the store keeps it: its hash, never the secret. Instants are UTC microseconds,
/// as in the journal. In JSON the hash is 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub id: TokenId,
    #[serde(with = "hash_hex")]
    pub hash: [u8; 32],
    /// The one party the token acts for.
    pub actor: Actor,
    /// What it is for, as whoever created it wrote it (`"exam centre upload"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created_at_micros: i64,
    /// The first instant it no longer works; it works for ever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_micros: Option<i64>,
}

/// Why a known token no longer works. The caller answers 401 to either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("the token was revoked")]
    Revoked { at_micros: i64 },
    #[error("the token has expired")]
    Expired { at_micros: i64 },
}

impl Unusable {
    /// A stable kebab-case id: `token-revoked`, `token-expired`.
    pub fn code(&self) -> &'static str {
        match self {
            Unusable::Revoked { .. } => "token-revoked",
            Unusable::Expired { .. } => "token-expired",
        }
    }
}

impl TokenRecord {
    /// A new token for `actor` and the record to store: the token is shown once, then only the
    /// record remains.
    pub fn create(
        actor: Actor,
        label: Option<String>,
        created_at_micros: i64,
        expires_at_micros: Option<i64>,
    ) -> (Token, TokenRecord) {
        let token = Token::generate();
        let record = TokenRecord {
            id: TokenId::generate(),
            hash: token.hash(),
            actor,
            label,
            created_at_micros,
            expires_at_micros,
            revoked_at_micros: None,
        };
        (token, record)
    }

    /// The change of its `token-created` journal entry: who it is for, its label and expiry;
    /// never the secret or its hash.
    pub fn created_change(&self) -> String {
        crate::journal::canonical(&serde_json::json!({
            "change": "token-created",
            "actor": self.actor,
            "label": self.label,
            "expires_at": self.expires_at_micros.map(crate::journal::instant_rfc3339),
        }))
    }

    /// Whether the token works at `now_micros`. A revoked token never works again, whatever the
    /// clock says (a revocation is never undone, and another server's clock may be behind); an
    /// expiring one works up to, not including, `expires_at_micros`. Revocation is told first.
    pub fn usable_at(&self, now_micros: i64) -> Result<(), Unusable> {
        if let Some(at) = self.revoked_at_micros {
            return Err(Unusable::Revoked { at_micros: at });
        }
        match self.expires_at_micros {
            Some(at) if now_micros >= at => Err(Unusable::Expired { at_micros: at }),
            _ => Ok(()),
        }
    }
}

/// A SHA-256 as 64 lower-case hex digits.
mod hash_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|_| D::Error::custom("hash must be 64 hex digits (a SHA-256)"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_and_differ() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 46);
        assert!(a.expose().starts_with("ht_"));
        let again = Token::parse(a.expose()).unwrap();
        assert_eq!(again.hash(), a.hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn the_hash_is_sha256_of_the_text() {
        let text = format!("ht_{}", "A".repeat(43));
        let t = Token::parse(&text).unwrap();
        let want: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        assert_eq!(t.hash(), want);
    }

    #[test]
    fn bad_tokens_are_told_apart_without_repeating_them() {
        let good = Token::generate();
        let body = &good.expose()[3..];
        let cases = [
            (format!("hx_{body}"), TokenError::WrongPrefix),
            (body.to_string(), TokenError::WrongPrefix),
            (format!(" {}", good.expose()), TokenError::WrongPrefix),
            (
                format!("{}\n", good.expose()),
                TokenError::BadAlphabet { position: 47 },
            ),
            (
                format!("ht_{}=", body),
                TokenError::BadAlphabet { position: 47 },
            ),
            (
                format!("ht_+{}", &body[1..]),
                TokenError::BadAlphabet { position: 4 },
            ),
            (
                format!("ht_é{}", &body[2..]),
                TokenError::BadAlphabet { position: 4 },
            ),
            (
                good.expose()[..45].to_string(),
                TokenError::WrongLength { found: 45 },
            ),
            (
                format!("{}A", good.expose()),
                TokenError::WrongLength { found: 47 },
            ),
            ("ht_".to_string(), TokenError::WrongLength { found: 3 }),
            // 'B' sets one of the two bits past the 256th.
            (format!("ht_{}B", "A".repeat(42)), TokenError::NotCanonical),
        ];
        for (text, want) in cases {
            let err = Token::parse(&text).unwrap_err();
            assert_eq!(err, want, "{text:?}");
            let msg = err.to_string();
            assert!(!msg.contains(body), "{msg}");
            assert!(!msg.contains(&body[..8]), "{msg}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = Token::generate();
        let shown = format!("{t:?} {:?}", Some(&t));
        assert!(!shown.contains(&t.expose()[3..]), "{shown}");
        assert!(!shown.contains(&t.expose()[3..9]), "{shown}");
    }

    #[test]
    fn token_ids_are_public_and_checked() {
        let id = TokenId::generate();
        assert_eq!(id.as_str().len(), 20);
        assert_eq!(TokenId::parse(id.as_str()).unwrap(), id);
        assert_ne!(TokenId::generate(), id);
        for bad in [
            "tok_0123456789ABCDEF",
            "tok_0123456789abcde",
            "tok_0123456789abcdef0",
            "tk_0123456789abcdef",
            "tok_0123456789abcdeg",
        ] {
            assert_eq!(TokenId::parse(bad), Err(TokenIdError), "{bad}");
        }
        // A token pasted where an id goes is not echoed.
        let t = Token::generate();
        let msg = TokenId::parse(t.expose()).unwrap_err().to_string();
        assert!(!msg.contains(&t.expose()[3..]), "{msg}");
    }

    fn record() -> TokenRecord {
        let (_, r) = TokenRecord::create(
            Actor::Institution {
                issuer: "inst.s0000-44-000001".into(),
            },
            Some("upload".into()),
            1_000,
            Some(2_000),
        );
        r
    }

    #[test]
    fn records_expire_and_revoke() {
        let mut r = record();
        assert_eq!(r.usable_at(1_000), Ok(()));
        assert_eq!(r.usable_at(1_999), Ok(()));
        assert_eq!(
            r.usable_at(2_000),
            Err(Unusable::Expired { at_micros: 2_000 })
        );
        r.expires_at_micros = None;
        assert_eq!(r.usable_at(i64::MAX), Ok(()));
        r.revoked_at_micros = Some(1_500);
        assert_eq!(
            r.usable_at(1_600),
            Err(Unusable::Revoked { at_micros: 1_500 })
        );
        // Revoked is revoked, even on a clock that is behind.
        assert_eq!(
            r.usable_at(1_400),
            Err(Unusable::Revoked { at_micros: 1_500 })
        );
        r.expires_at_micros = Some(1_200);
        assert_eq!(r.usable_at(1_600).unwrap_err().code(), "token-revoked");
    }

    #[test]
    fn the_record_keeps_the_hash_of_its_token() {
        let (t, r) = TokenRecord::create(
            Actor::Regulator {
                department: "mohrss".into(),
                region: None,
            },
            None,
            0,
            None,
        );
        assert_eq!(r.hash, t.hash());
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains(t.expose()), "{json}");
        assert!(!json.contains(&t.expose()[3..]), "{json}");
    }

    #[test]
    fn records_round_trip_through_json() {
        let r = record();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["hash"].as_str().unwrap().len(), 64);
        assert_eq!(json["actor"]["kind"], "institution");
        assert_eq!(json["id"], r.id.as_str());
        let back: TokenRecord = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, r);

        let mut bad = json.clone();
        bad["id"] = "tok_xyz".into();
        assert!(serde_json::from_value::<TokenRecord>(bad).is_err());
        let mut bad = json.clone();
        bad["hash"] = "00".into();
        let err = serde_json::from_value::<TokenRecord>(bad).unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
        let mut bad = json;
        bad["secret"] = "x".into();
        assert!(serde_json::from_value::<TokenRecord>(bad).is_err());
    }
}
