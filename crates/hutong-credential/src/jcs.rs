//! RFC 8785 JSON Canonicalization Scheme (JCS), through `serde_json_canonicalizer`.
//!
//! Numbers are written as IEEE 754 doubles in the ECMAScript form (integers included, so that
//! 2^53 + 1 becomes 9007199254740992), object members sorted by their UTF-16 code units, and
//! strings with the minimal JSON escapes.

use serde_json::Value;

use crate::error::CredentialError;

/// The canonical bytes of a JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, CredentialError> {
    serde_json_canonicalizer::to_vec(value)
        .map_err(|e| CredentialError::Canonicalization(e.to_string()))
}

/// The canonical bytes of a JSON object without the member `skip` (a document without its
/// `proof`), written without copying the object.
pub fn canonicalize_without(
    object: &serde_json::Map<String, Value>,
    skip: &str,
) -> Result<Vec<u8>, CredentialError> {
    struct Without<'a>(&'a serde_json::Map<String, Value>, &'a str);
    impl serde::Serialize for Without<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap as _;
            let n = self.0.len() - usize::from(self.0.contains_key(self.1));
            let mut m = s.serialize_map(Some(n))?;
            for (k, v) in self.0 {
                if k != self.1 {
                    m.serialize_entry(k, v)?;
                }
            }
            m.end()
        }
    }
    serde_json_canonicalizer::to_vec(&Without(object, skip))
        .map_err(|e| CredentialError::Canonicalization(e.to_string()))
}

/// Parses JSON text and returns its canonical bytes.
pub fn canonicalize_str(json: &str) -> Result<Vec<u8>, CredentialError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| CredentialError::Json(e.to_string()))?;
    canonicalize(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_as_doubles() {
        assert_eq!(
            canonicalize_str("9007199254740993").unwrap(),
            b"9007199254740992"
        );
        assert_eq!(
            canonicalize_str("[1.0, -0.0, 1e21, 1e-7]").unwrap(),
            b"[1,0,1e+21,1e-7]"
        );
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units() {
        // U+1F602 (surrogates D83D DE02) sorts before U+FB33 in UTF-16, after it in UTF-8.
        assert_eq!(
            String::from_utf8(canonicalize_str(r#"{"\ufb33":1,"\ud83d\ude02":2}"#).unwrap())
                .unwrap(),
            "{\"\u{1F602}\":2,\"\u{FB33}\":1}"
        );
    }

    #[test]
    fn without_a_member_is_the_object_without_it() {
        let v: Value = serde_json::from_str(r#"{"b":1,"proof":{"x":2},"a":[3]}"#).unwrap();
        let mut copy = v.as_object().unwrap().clone();
        copy.remove("proof");
        assert_eq!(
            canonicalize_without(v.as_object().unwrap(), "proof").unwrap(),
            canonicalize(&Value::Object(copy)).unwrap()
        );
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(matches!(
            canonicalize_str("{"),
            Err(CredentialError::Json(_))
        ));
        assert!(matches!(
            canonicalize_str("NaN"),
            Err(CredentialError::Json(_))
        ));
    }
}
