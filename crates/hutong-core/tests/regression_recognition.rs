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

// ------------------------------------------------------------------------------------------------
// 18: the registered-holder advice and the department check are built in core, typed.
// ------------------------------------------------------------------------------------------------

use hutong_core::certificate::{AdminState, Certificate};
use hutong_core::holder::HolderKey;
use hutong_core::recognition::{
    Advice, CheckAnswer, RegisteredRequest, advise_at, department_check, holder_advice,
};
use serde_json::{Value, json};

/// A valid resident ID number (check character included).
const ID: &str = "11010519491231002X";

fn day(s: &str) -> hutong_core::Day {
    s.parse().unwrap()
}

fn certificate(number: &str, kind: &str, issued: &str, state: AdminState) -> Certificate {
    Certificate {
        number: number.into(),
        kind: kind.into(),
        holder_key: HolderKey([1; 32]),
        holder_name: "张小明".into(),
        occupation: None,
        level: None,
        issuer: "mem.44".into(),
        issued_on: day(issued),
        first_issued_on: day(issued),
        valid_until: None,
        last_review_on: None,
        state,
    }
}

fn registered_certificates() -> Vec<Certificate> {
    vec![
        certificate(
            &format!("T{ID}"),
            "mem.electrical.low-voltage",
            "2024-03-01",
            AdminState::Active,
        ),
        certificate(
            ID,
            "samr.welding.metal",
            "2023-01-15",
            AdminState::Revoked {
                on: day("2026-02-01"),
                reason: None,
            },
        ),
    ]
}

/// The department check's answer as the handler built it before it moved to core (a
/// `serde_json::Map` edited field by field), kept here as the reference for its JSON.
fn check_answer_as_before(policy: &Policy, advice: &Advice<'_>, target: &str, name: &str) -> Value {
    let application = advice.applications.iter().find(|a| a.target == target);
    let rule_targets_this = |rule: &str| {
        policy
            .exemption_rules
            .iter()
            .any(|r| r.id == rule && r.target == target)
    };
    let not_applied: Vec<&hutong_core::recognition::NotApplied<'_>> = advice
        .not_applied
        .iter()
        .filter(|n| rule_targets_this(&n.rule))
        .collect();
    let kind = policy.kind(target);
    let mut v = json!({
        "found": true,
        "as_of": advice.as_of,
        "target": target,
        "target_zh": kind.map(|k| k.full_name_zh()),
        "target_en": kind.map(|k| k.full_name_en()),
        "department": kind.map(|k| k.department.as_str()),
        "exemptions": application.map(|a| serde_json::to_value(a.exemptions).unwrap_or(Value::Null)).unwrap_or_else(|| json!([])),
        "already_held": application.is_some_and(|a| a.already_held),
        "rules": application.map(|a| a.rules.to_vec()).unwrap_or_default(),
        "grounds": application.map(|a| serde_json::to_value(&a.grounds).unwrap_or(Value::Null)).unwrap_or_else(|| json!([])),
        "provisional": application.is_some_and(|a| a.provisional),
        "not_applied": not_applied,
        "note": "Exemptions are entitlements the department may grant (可以), unless special rules say otherwise (如无特别规定).",
    });
    v["holder"] = json!({"name": name});
    v
}

#[test]
fn r8_18_department_check_is_typed_and_answers_as_before() {
    let certs = registered_certificates();
    for (target, granted) in [
        ("mohurd.construction.electrician", true),
        ("mem.welding.fusion-cutting", false),
        ("mohurd.construction.welder", false),
    ] {
        let body = json!({"id": ID, "name": "张小明", "target": target, "as_of": "2026-11-26"});
        let req = RegisteredRequest::from_json(&POLICY, body.to_string().as_bytes(), true).unwrap();
        let reg = req.with_certificates(&POLICY, &certs, day("2020-01-01"));
        assert!(reg.found);
        assert_eq!(reg.holder_name, "张*明");
        let answer = department_check(&POLICY, &reg, day("2020-01-01")).unwrap();
        let CheckAnswer::Found(check) = &answer else {
            panic!("found")
        };
        assert_eq!(check.exemptions.is_empty(), !granted, "{target}");
        let advice = advise_at(&POLICY, &reg.input, day("2020-01-01")).unwrap();
        let typed = serde_json::to_string(&answer).unwrap();
        let before = check_answer_as_before(&POLICY, &advice, target, "张*明");
        // The same JSON value (keys are no longer sorted: they come in the struct's order).
        let typed_value: Value = serde_json::from_str(&typed).unwrap();
        assert_eq!(typed_value, before, "{target}");
        assert!(
            !typed.contains(ID) && !typed.contains(&ID[6..14]),
            "{typed}"
        );
    }
    // Nobody found: the same bytes as for a wrong name.
    let req = RegisteredRequest::from_json(
        &POLICY,
        br#"{"id": "11010519491231002X", "name": "x", "target": "mohurd.construction.electrician"}"#,
        true,
    )
    .unwrap();
    let reg = req.with_certificates(&POLICY, &[], day("2026-11-26"));
    let answer = department_check(&POLICY, &reg, day("2026-11-26")).unwrap();
    assert_eq!(
        serde_json::to_string(&answer).unwrap(),
        r#"{"found":false}"#
    );
}

#[test]
fn r8_18_holder_advice_is_typed_and_answers_as_before() {
    let certs = registered_certificates();
    let body = json!({"id": ID, "name": "张小明", "as_of": "2026-11-26", "experience_years": {"6-31-01-03": 2}});
    let req = RegisteredRequest::from_json(&POLICY, body.to_string().as_bytes(), false).unwrap();
    let reg = req.with_certificates(&POLICY, &certs, day("2020-01-01"));
    let answer = holder_advice(&POLICY, &reg, day("2020-01-01")).unwrap();
    let advice = advise_at(&POLICY, &reg.input, day("2020-01-01")).unwrap();
    let before = json!({
        "found": true,
        "holder": {"name": "张*明"},
        "certificates": 2,
        "advice": advice,
    });
    let typed = serde_json::to_string(&answer).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&typed).unwrap(), before);
    assert!(!typed.contains(&ID[6..14]), "{typed}");
    let reg = req.with_certificates(&POLICY, &[], day("2026-11-26"));
    let answer = holder_advice(&POLICY, &reg, day("2026-11-26")).unwrap();
    assert_eq!(
        serde_json::to_string(&answer).unwrap(),
        r#"{"found":false}"#
    );
}

#[test]
fn r8_18_registered_requests_name_the_bad_field() {
    let err = |body: &str, target: bool| {
        RegisteredRequest::from_json(&POLICY, body.as_bytes(), target)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err("[1]", false), "the body must be a JSON object");
    assert!(err("{", false).starts_with("the body is not valid JSON"));
    assert_eq!(
        err(r#"{"id": 5, "name": "x"}"#, false),
        "id: must be a string"
    );
    assert_eq!(
        err(r#"{"id": "11010519491231002X", "name": "x"}"#, true),
        "target: required (a certificate kind id)"
    );
    assert_eq!(
        err(
            r#"{"id": "11010519491231002X", "name": "x", "target": "mem.nothing"}"#,
            true
        ),
        "target: \"mem.nothing\" is not a certificate kind of the policy"
    );
    assert_eq!(
        err(
            r#"{"id": "11010519491231002X", "name": "x", "holdings": []}"#,
            false
        ),
        "holdings: the registered certificates are used; do not send holdings"
    );
    let e = err(
        r#"{"id": "11010519491231002X", "name": "x", "as_of": "2026-02-30"}"#,
        false,
    );
    assert!(e.starts_with("as_of: "), "{e}");
    let e = err(r#"{"id": "11010519491231002Y", "name": "x"}"#, false);
    assert!(e.starts_with("id: ") && !e.contains("1101051949"), "{e}");
}

#[test]
fn r8_18_stated_advice_masks_numbers_that_embed_an_id_number() {
    let input = AdviceInput::from_json(&format!(
        r#"{{"as_of": "2026-11-26", "holdings": [
            {{"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2024-06-01", "number": "T{ID}"}},
            {{"kind": "samr.welding.metal", "status": "valid", "issued_on": "2024-01-15", "number": "{ID}"}},
            {{"kind": "mohrss.skill-level", "status": "valid", "issued_on": "2023-09-01",
              "occupation": "6-18-02-04", "level": "5", "number": "{ID}"}},
            {{"kind": "mem.welding.fusion-cutting", "status": "revoked", "number": "T{ID}"}}]}}"#
    ))
    .unwrap();
    let advice = advise_at(&POLICY, &input, day("2026-11-26")).unwrap();
    let json = serde_json::to_string(&advice).unwrap();
    assert!(!json.contains(&ID[6..14]), "{json}");
    assert!(json.contains(r#""number":"T11************002X""#), "{json}");
    assert!(json.contains(r#""number":"11************002X""#), "{json}");
    // Grounds of every list carry a number.
    assert!(
        advice
            .applications
            .iter()
            .all(|a| a.grounds.iter().all(|g| g.number.is_some()))
    );
    assert!(!advice.not_applied.is_empty() && !advice.deemed_levels.is_empty());
}

/// Found by schemathesis after the registered-holder requests moved into the core: an unknown
/// region (or any option the policy refuses) was answered `{"found": false}` when no holder
/// matched, instead of being refused as the document says.
#[test]
fn r8_16_registered_requests_refuse_bad_options_before_any_lookup() {
    for with_target in [false, true] {
        let mut body = json!({"id": ID, "name": "张三", "region": "AAA"});
        if with_target {
            body["target"] = json!("mohrss.skill-level");
        }
        let err = RegisteredRequest::from_json(&POLICY, body.to_string().as_bytes(), with_target)
            .expect_err("an unknown region must be refused");
        let text: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter().any(|t| t.starts_with("region")),
            "the error names the region: {text:?}"
        );
    }
}
