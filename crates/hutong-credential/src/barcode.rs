//! A signed credential as the text of a QR code, for printed certificates that verify offline.
//!
//! The format follows the EU Digital COVID Certificate's proven layout (a short versioned
//! prefix, then base45 of zlib-compressed data), with the credential's RFC 8785 JSON as the
//! data instead of CBOR:
//!
//! ```text
//! HTVC1:<base45 (RFC 9285) of zlib (RFC 1950) of the credential's JCS (RFC 8785) bytes>
//! ```
//!
//! - `HTVC1:` names the format and its version (hutong verifiable credential, format 1). Every
//!   character of the text is in the QR code's alphanumeric set (`0-9 A-Z space $ % * + - . / :`),
//!   so the whole text is one alphanumeric segment, 5.5 bits a character.
//! - The credential is the signed document itself, byte for byte what the JCS of its JSON is:
//!   decoding gives a credential that any eddsa-jcs-2022 verifier checks as it would a file. No
//!   field is dropped or shortened, so nothing has to be restored before verification.
//! - Decoding refuses, with an error that says which step failed: another prefix or version,
//!   a character outside the base45 alphabet, base45 that is not canonical (RFC 9285 §4: a
//!   final pair above 255 or a triple above 65535), a zlib stream that is corrupt, truncated or
//!   followed by other bytes, data that inflates to more than [`MAX_INFLATED_BYTES`] (a
//!   decompression bomb), and data that is not a JSON object.

use std::io::Write as _;

use flate2::{Compression, Decompress, FlushDecompress, Status};
use serde_json::Value;

use crate::error::CredentialError;
use crate::jcs;

/// The prefix of every barcode of this format, version 1.
pub const PREFIX: &str = "HTVC1:";

/// The family of prefixes: `HTVC`, a version number and a colon.
const FAMILY: &str = "HTVC";

/// The most bytes a barcode may inflate to. A certificate credential is about 2,500 bytes of
/// JCS; this leaves room for long names and never lets a small code allocate much.
pub const MAX_INFLATED_BYTES: usize = 32 * 1024;

/// The longest barcode text read. The largest QR code (version 40, level L) holds 4,296
/// alphanumeric characters; text from other carriers (a file) may be somewhat longer, but never
/// this long for a credential.
pub const MAX_TEXT_CHARS: usize = 16 * 1024;

/// Why a text is not a credential barcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("not a hutong credential barcode: the text must start with {PREFIX}")]
    Prefix,
    #[error(
        "barcode format version {0} is not supported: this verifier reads {PREFIX} (version 1)"
    )]
    Version(String),
    #[error("the barcode is longer than the {max} characters accepted")]
    TooLong { max: usize },
    #[error(
        "the barcode is not base45 (RFC 9285): character {position} is not in the base45 alphabet (0-9, A-Z, space, $ % * + - . / :)"
    )]
    Base45Character { position: usize },
    #[error("the barcode is not base45 (RFC 9285): {0}")]
    Base45(&'static str),
    #[error("the barcode's data is not a zlib stream: {0}")]
    Zlib(String),
    #[error(
        "the barcode's data inflates to more than {max} bytes, far more than a credential: refused"
    )]
    TooLarge { max: usize },
    #[error("the barcode's data is not JSON: {0}")]
    Json(String),
    #[error("the barcode's JSON is not an object, so not a credential")]
    NotAnObject,
}

/// The sizes of a credential's barcode, for the record (docs/credentials.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The barcode text: [`PREFIX`] and the base45 characters.
    pub text: String,
    /// The bytes of the credential's JCS.
    pub json_bytes: usize,
    /// The bytes of the zlib stream.
    pub deflated_bytes: usize,
}

/// The barcode text of a credential (any JSON object): [`PREFIX`], then base45 of zlib of its
/// RFC 8785 bytes.
pub fn encode(credential: &Value) -> Result<String, CredentialError> {
    encode_measured(credential).map(|e| e.text)
}

/// [`encode`], with the sizes of each step.
pub fn encode_measured(credential: &Value) -> Result<Encoded, CredentialError> {
    if !credential.is_object() {
        return Err(CredentialError::NotAnObject { what: "credential" });
    }
    let json = jcs::canonicalize(credential)?;
    let mut z =
        flate2::write::ZlibEncoder::new(Vec::with_capacity(json.len()), Compression::best());
    let deflated = z
        .write_all(&json)
        .and_then(|()| z.finish())
        .map_err(|e| CredentialError::invalid("credential", format!("cannot compress: {e}")))?;
    let mut text = String::with_capacity(PREFIX.len() + deflated.len() * 3 / 2 + 2);
    text.push_str(PREFIX);
    text.push_str(&base45::encode(&deflated));
    Ok(Encoded {
        text,
        json_bytes: json.len(),
        deflated_bytes: deflated.len(),
    })
}

/// Whether `bytes` look like a credential barcode of this family (`HTVC`, a version number and
/// a colon), rather than a JSON file. Any version is recognised, so that [`decode`] can say
/// that a version is not supported instead of calling the text malformed JSON.
pub fn looks_like_barcode(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(FAMILY.as_bytes()) else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&b':')
}

/// The credential a barcode text holds, as JSON, for verification. Line ends after the text
/// (a file's last newline) are ignored; nothing else is. Never panics.
pub fn decode(text: &str) -> Result<Value, BarcodeError> {
    let text = text.trim_end_matches(['\r', '\n']);
    let Some(payload) = text.strip_prefix(PREFIX) else {
        if looks_like_barcode(text.as_bytes()) {
            let version: String = text[FAMILY.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .take(9)
                .collect();
            return Err(BarcodeError::Version(version));
        }
        return Err(BarcodeError::Prefix);
    };
    if text.len() > MAX_TEXT_CHARS {
        return Err(BarcodeError::TooLong {
            max: MAX_TEXT_CHARS,
        });
    }
    let deflated = base45_decode(payload, PREFIX.len())?;
    let json = inflate(&deflated)?;
    let value: Value =
        serde_json::from_slice(&json).map_err(|e| BarcodeError::Json(e.to_string()))?;
    if !value.is_object() {
        return Err(BarcodeError::NotAnObject);
    }
    Ok(value)
}

/// Base45 through the `base45` crate, which names no position and accepts a final pair above
/// 255 (keeping its low byte): the position of a bad character is found here, and only the
/// canonical form (the one that encodes back to the same text) is accepted.
fn base45_decode(payload: &str, offset: usize) -> Result<Vec<u8>, BarcodeError> {
    if let Some(i) = payload
        .bytes()
        .position(|b| base45::alphabet::decode(b).is_none())
    {
        // 1-based, in characters of the whole text (the prefix is ASCII).
        let position = offset + payload[..i].chars().count() + 1;
        return Err(BarcodeError::Base45Character { position });
    }
    if payload.len() % 3 == 1 {
        return Err(BarcodeError::Base45(
            "its length leaves a single character at the end",
        ));
    }
    let bytes = base45::decode(payload)
        .map_err(|_| BarcodeError::Base45("a group of three characters is above 65535"))?;
    if base45::encode(&bytes) != payload {
        return Err(BarcodeError::Base45(
            "its final pair of characters is above 255",
        ));
    }
    Ok(bytes)
}

/// Inflates a zlib stream into at most [`MAX_INFLATED_BYTES`], checking its Adler-32, that it
/// ends, and that nothing follows it.
fn inflate(data: &[u8]) -> Result<Vec<u8>, BarcodeError> {
    let mut d = Decompress::new(true);
    // One byte more than allowed: filling it means the data is too large.
    let mut out = Vec::with_capacity(MAX_INFLATED_BYTES + 1);
    loop {
        let (read, written) = (d.total_in(), d.total_out());
        let rest = usize::try_from(read)
            .ok()
            .and_then(|n| data.get(n..))
            .unwrap_or_default();
        let status = d
            .decompress_vec(rest, &mut out, FlushDecompress::Finish)
            .map_err(|e| BarcodeError::Zlib(e.to_string()))?;
        if out.len() > MAX_INFLATED_BYTES {
            return Err(BarcodeError::TooLarge {
                max: MAX_INFLATED_BYTES,
            });
        }
        match status {
            Status::StreamEnd => break,
            _ if d.total_in() == read && d.total_out() == written => {
                return Err(BarcodeError::Zlib(
                    "the stream is truncated: it ends before its end marker".into(),
                ));
            }
            _ => {}
        }
    }
    if usize::try_from(d.total_in()).ok() != Some(data.len()) {
        return Err(BarcodeError::Zlib(format!(
            "{} bytes follow the end of the stream",
            data.len() as u64 - d.total_in()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    fn barcode_of(bytes: &[u8]) -> String {
        format!("{PREFIX}{}", base45::encode(bytes))
    }

    #[test]
    fn round_trips_a_credential_like_document() {
        let doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "credentialSubject": {"name": "张小明", "number": "T44************1233"},
            "proof": {"proofValue": "z5uQhhCXf8RdjkeCtpFQ4YTPQ"},
        });
        let e = encode_measured(&doc).unwrap();
        assert!(e.text.starts_with(PREFIX));
        assert_eq!(e.json_bytes, jcs::canonicalize(&doc).unwrap().len());
        assert!(
            e.text[PREFIX.len()..]
                .bytes()
                .all(|b| base45::alphabet::TABLE.contains(&b))
        );
        assert_eq!(decode(&e.text).unwrap(), doc);
        // A file's last newline is no part of the code.
        assert_eq!(decode(&format!("{}\r\n", e.text)).unwrap(), doc);
        assert!(looks_like_barcode(e.text.as_bytes()));
    }

    #[test]
    fn the_prefix_is_in_the_qr_alphanumeric_set() {
        assert!(PREFIX.bytes().all(|b| base45::alphabet::TABLE.contains(&b)));
    }

    #[test]
    fn recognises_the_family_and_nothing_else() {
        for yes in ["HTVC1:", "HTVC2:ABC", "HTVC10:"] {
            assert!(looks_like_barcode(yes.as_bytes()), "{yes}");
        }
        for no in [
            "",
            "HTVC",
            "HTVC:",
            "HTVCX:",
            "htvc1:",
            "{\"a\":1}",
            " HTVC1:",
            "HC1:NCF",
        ] {
            assert!(!looks_like_barcode(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn refuses_another_prefix_or_version() {
        assert_eq!(decode("HC1:6BFOXN").unwrap_err(), BarcodeError::Prefix);
        assert_eq!(decode("{\"a\": 1}").unwrap_err(), BarcodeError::Prefix);
        assert_eq!(decode("").unwrap_err(), BarcodeError::Prefix);
        assert_eq!(decode("htvc1:00").unwrap_err(), BarcodeError::Prefix);
        let e = decode("HTVC2:00").unwrap_err();
        assert_eq!(e, BarcodeError::Version("2".into()));
        assert!(e.to_string().contains("version 2 is not supported"), "{e}");
    }

    #[test]
    fn refuses_bad_base45_naming_the_character() {
        let e = decode("HTVC1:AB~CD").unwrap_err();
        assert_eq!(e, BarcodeError::Base45Character { position: 9 });
        assert!(e.to_string().contains("character 9"), "{e}");
        // Lower case is not base45.
        assert_eq!(
            decode("HTVC1:abc").unwrap_err(),
            BarcodeError::Base45Character { position: 7 }
        );
        // Positions count characters, not bytes.
        assert_eq!(
            decode("HTVC1:A张").unwrap_err(),
            BarcodeError::Base45Character { position: 8 }
        );
        assert!(matches!(
            decode("HTVC1:ABCD").unwrap_err(),
            BarcodeError::Base45(m) if m.contains("single character")
        ));
        // ":::" is 44 + 44·45 + 44·2025 = 91124, above 65535.
        assert!(matches!(
            decode("HTVC1::::").unwrap_err(),
            BarcodeError::Base45(m) if m.contains("65535")
        ));
    }

    /// The `base45` crate keeps the low byte of a final pair above 255; such text is not
    /// base45 (RFC 9285 §4.2) and must not decode to the same credential as the real one.
    #[test]
    fn refuses_a_final_pair_above_255() {
        let doc = json!({"a": "b"});
        let mut deflated = zlib(&jcs::canonicalize(&doc).unwrap());
        if deflated.len().is_multiple_of(2) {
            deflated.pop();
        }
        let good = base45::encode(&deflated);
        let last = u32::from(*deflated.last().unwrap()) + 256;
        let table = base45::alphabet::TABLE;
        let forged = format!(
            "{PREFIX}{}{}{}",
            &good[..good.len() - 2],
            table[(last % 45) as usize] as char,
            table[(last / 45) as usize] as char
        );
        assert_eq!(base45::decode(&forged[PREFIX.len()..]).unwrap(), deflated);
        assert!(matches!(
            decode(&forged).unwrap_err(),
            BarcodeError::Base45(m) if m.contains("above 255")
        ));
    }

    #[test]
    fn refuses_bad_zlib() {
        // Not zlib at all.
        assert!(matches!(
            decode(&barcode_of(b"{\"a\":1}")).unwrap_err(),
            BarcodeError::Zlib(_)
        ));
        // Raw deflate without the zlib header.
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::best());
        raw.write_all(b"{\"a\":1}").unwrap();
        assert!(matches!(
            decode(&barcode_of(&raw.finish().unwrap())).unwrap_err(),
            BarcodeError::Zlib(_)
        ));
        let good = zlib(b"{\"a\":\"a long enough value to compress\"}");
        // Truncated.
        for cut in [1, 4, good.len() / 2] {
            let e = decode(&barcode_of(&good[..good.len() - cut])).unwrap_err();
            assert!(matches!(e, BarcodeError::Zlib(_)), "{cut}: {e}");
        }
        // A wrong Adler-32.
        let mut bad_sum = good.clone();
        *bad_sum.last_mut().unwrap() ^= 1;
        assert!(matches!(
            decode(&barcode_of(&bad_sum)).unwrap_err(),
            BarcodeError::Zlib(_)
        ));
        // Bytes after the stream.
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"xy");
        let e = decode(&barcode_of(&trailing)).unwrap_err();
        assert_eq!(
            e,
            BarcodeError::Zlib("2 bytes follow the end of the stream".into())
        );
        assert!(decode(&barcode_of(&good)).is_ok());
        // An empty payload.
        assert!(matches!(decode(PREFIX).unwrap_err(), BarcodeError::Zlib(_)));
    }

    #[test]
    fn refuses_a_decompression_bomb() {
        // 10 MB of spaces inside a JSON string: about 10 KB of zlib, a QR-sized 15 KB text.
        let mut bomb = b"{\"a\":\"".to_vec();
        bomb.resize(10_000_000, b' ');
        bomb.extend_from_slice(b"\"}");
        let text = barcode_of(&zlib(&bomb));
        assert!(text.len() < MAX_TEXT_CHARS, "{}", text.len());
        assert_eq!(
            decode(&text).unwrap_err(),
            BarcodeError::TooLarge {
                max: MAX_INFLATED_BYTES
            }
        );
        // Exactly the limit passes; one byte more does not.
        let at = |n: usize| {
            let mut v = b"{\"a\":\"".to_vec();
            v.resize(n - 2, b'x');
            v.extend_from_slice(b"\"}");
            barcode_of(&zlib(&v))
        };
        assert!(decode(&at(MAX_INFLATED_BYTES)).is_ok());
        assert_eq!(
            decode(&at(MAX_INFLATED_BYTES + 1)).unwrap_err(),
            BarcodeError::TooLarge {
                max: MAX_INFLATED_BYTES
            }
        );
        let long = format!("{PREFIX}{}", "0".repeat(MAX_TEXT_CHARS));
        assert_eq!(
            decode(&long).unwrap_err(),
            BarcodeError::TooLong {
                max: MAX_TEXT_CHARS
            }
        );
    }

    #[test]
    fn refuses_what_is_not_a_json_object() {
        for (bytes, want) in [
            (&b"not json"[..], "Json"),
            (b"{\"a\":", "Json"),
            (b"\xff\xfe{}", "Json"),
            (b"{\"a\":\"\xff\"}", "Json"),
            (b"[1,2]", "NotAnObject"),
            (b"\"text\"", "NotAnObject"),
        ] {
            let e = decode(&barcode_of(&zlib(bytes))).unwrap_err();
            let got = match e {
                BarcodeError::Json(_) => "Json",
                BarcodeError::NotAnObject => "NotAnObject",
                other => panic!("{bytes:?}: {other}"),
            };
            assert_eq!(got, want, "{bytes:?}");
        }
        assert_eq!(
            encode(&json!([1])).unwrap_err(),
            CredentialError::NotAnObject { what: "credential" }
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            (-1e15f64..1e15).prop_map(|f| json!(f)),
            ".{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_object_round_trips_as_its_canonical_json(
            members in prop::collection::btree_map(".{0,12}", json_value(), 0..8)
        ) {
            let doc = Value::Object(members.into_iter().collect());
            let text = encode(&doc).unwrap();
            prop_assert!(looks_like_barcode(text.as_bytes()));
            let canonical: Value =
                serde_json::from_slice(&jcs::canonicalize(&doc).unwrap()).unwrap();
            let back = decode(&text).unwrap();
            // The decoded document is the canonical one, to the byte.
            prop_assert_eq!(jcs::canonicalize(&back).unwrap(), jcs::canonicalize(&doc).unwrap());
            prop_assert_eq!(back, canonical);
        }

        #[test]
        fn any_text_is_refused_or_decoded_without_panicking(s in "HTVC1:[0-9A-Z $%*+./:-]{0,200}") {
            let _ = decode(&s);
        }

        #[test]
        fn any_bytes_after_the_prefix_are_refused_or_decoded_without_panicking(
            bytes in prop::collection::vec(any::<u8>(), 0..300)
        ) {
            let _ = decode(&barcode_of(&bytes));
            let _ = decode(&barcode_of(&zlib(&bytes)));
        }

        /// Zlib's Adler-32 catches a changed character before any signature is checked: it
        /// is refused, or (when it only flips the unused bits that pad the deflate stream's
        /// last byte) it decodes to the very same document.
        #[test]
        fn a_changed_character_is_refused_or_changes_nothing(
            i in 0usize..10_000, c in 0usize..45
        ) {
            let doc = json!({"name": "张小明", "number": "T44************1233", "n": 17});
            let text = encode(&doc).unwrap();
            let pos = PREFIX.len() + i % (text.len() - PREFIX.len());
            let mut bytes = text.clone().into_bytes();
            let new = base45::alphabet::TABLE[c];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let changed = String::from_utf8(bytes).unwrap();
            if let Ok(v) = decode(&changed) {
                prop_assert_eq!(v, doc);
            }
        }
    }
}
