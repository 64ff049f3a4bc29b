//! Regression tests for the recognition engine, one per defect of issue 8, named after it
//! (`r8_<item>_…`).

use std::path::Path;
use std::sync::LazyLock;

use hutong_core::Policy;
use hutong_core::recognition::AdviceInput;

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    Policy::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
        .unwrap_or_else(|e| panic!("policy/: {e}"))
});

fn errors(json: &str) -> Vec<String> {
    match AdviceInput::from_json(json) {
        Ok(i) => match i.check(&POLICY) {
            Ok(()) => Vec::new(),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        },
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn r8_09_null_status_is_refused_like_a_missing_one() {
    let missing = errors(r#"{"holdings": [{"kind": "mem.electrical.low-voltage"}]}"#);
    let null = errors(r#"{"holdings": [{"kind": "mem.electrical.low-voltage", "status": null}]}"#);
    assert_eq!(
        missing,
        ["holdings[0].status: missing: one of valid, review-due, expired, suspended, revoked"]
    );
    assert_eq!(null, missing);
}

#[test]
fn r8_09_null_kind_and_holdings_are_refused_like_missing_ones() {
    let missing = errors(r#"{"holdings": [{"status": "valid"}]}"#);
    let null = errors(r#"{"holdings": [{"kind": null, "status": "valid"}]}"#);
    assert_eq!(missing, ["holdings[0].kind: missing: the certificate kind"]);
    assert_eq!(null, missing);
    let missing = errors(r#"{"as_of": "2026-01-01"}"#);
    let null = errors(r#"{"as_of": "2026-01-01", "holdings": null}"#);
    assert_eq!(
        missing,
        ["holdings: missing: the certificates held, as an array"]
    );
    assert_eq!(null, missing);
}

#[test]
fn r8_09_null_optional_fields_are_absent_ones() {
    // Optional fields: null and absent mean the same, as for serde's `Option`.
    let base = r#"{"kind": "mem.electrical.low-voltage", "status": "valid""#;
    for field in [
        "issued_on",
        "first_issued_on",
        "valid_until",
        "last_review_on",
        "status_since",
        "occupation",
        "level",
        "number",
    ] {
        let with_null = format!(r#"{{"holdings": [{base}, "{field}": null}}]}}"#);
        let a = AdviceInput::from_json(&with_null).unwrap();
        let b = AdviceInput::from_json(&format!(r#"{{"holdings": [{base}}}]}}"#)).unwrap();
        assert_eq!(a, b, "{field}");
    }
    for field in [
        "as_of",
        "region",
        "experience_years",
        "diplomas",
        "apprenticeship",
    ] {
        let a = AdviceInput::from_json(&format!(r#"{{"holdings": [], "{field}": null}}"#)).unwrap();
        assert_eq!(a, AdviceInput::default(), "{field}");
    }
}
