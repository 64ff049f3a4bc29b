//! Recognition scenarios (one data file each, run by one test each) and property tests, against
//! the shipped `policy/` folder.
//!
//! A scenario file in `tests/recognition/` is JSON:
//!
//! ```json
//! {"description": "what it shows",
//!  "policy_extra": ["fixtures/….toml"],          // optional: files loaded on top of policy/
//!  "input": {"as_of": "…", "holdings": [...], …},  // the advice request, as the API takes it
//!  "expected": {"deemed_levels": [...], …}}        // or "expected_errors": ["holdings[0].level: …"]
//! ```
//!
//! `expected` is matched against the advice's JSON: every key it states must be there with a
//! matching value; an object matches when every key it states matches (others are ignored); an
//! array matches when it has exactly as many elements and each matches in order; anything else
//! must be equal, and `null` also matches an absent field. So a scenario states every entry of a
//! list it checks (nothing unexpected may appear) but only the fields it cares about.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use hutong_core::certificate::{AdminState, CertificateDates};
use hutong_core::date::Day;
use hutong_core::policy::{Policy, Source};
use hutong_core::recognition::{Advice, AdviceInput, Holding, advise_at};
use hutong_core::{Level, Status};
use proptest::prelude::*;
use serde_json::Value;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recognition")
}

fn shipped_sources() -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Source {
            name: p.display().to_string(),
            text: std::fs::read_to_string(&p).unwrap(),
        })
        .collect()
}

static SHIPPED: LazyLock<Policy> = LazyLock::new(|| {
    Policy::from_sources(&shipped_sources()).unwrap_or_else(|e| panic!("policy/: {e}"))
});

fn policy_with(extra: &[String]) -> Policy {
    let mut sources = shipped_sources();
    for f in extra {
        let p = here().join(f);
        sources.push(Source {
            name: p.display().to_string(),
            text: std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{f}: {e}")),
        });
    }
    Policy::from_sources(&sources).unwrap_or_else(|e| panic!("{e}"))
}

/// Where `actual` differs from `expected`, as `path: message` lines.
fn mismatches(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => mismatches(&p, ev, av, out),
                    // `null` expects the field to be null or absent.
                    None if ev.is_null() => {}
                    None => out.push(format!("{p}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: {} entries, expected {}\n  actual: {}",
                    a.len(),
                    e.len(),
                    serde_json::to_string(a).unwrap()
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                mismatches(&format!("{path}[{i}]"), ev, av, out);
            }
        }
        _ if expected == actual => {}
        _ => out.push(format!("{path}: {actual}, expected {expected}")),
    }
}

fn run_scenario(file: &str) {
    let path = here().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let scenario: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: not JSON: {e}"));
    let extra: Vec<String> = scenario
        .get("policy_extra")
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .unwrap_or_default();
    let owned;
    let policy: &Policy = if extra.is_empty() {
        &SHIPPED
    } else {
        owned = policy_with(&extra);
        &owned
    };
    let input_json = scenario
        .get("input")
        .unwrap_or_else(|| panic!("{file}: no \"input\""));
    let parsed = AdviceInput::from_value(input_json);
    let result = parsed.and_then(|input| {
        assert!(
            input.as_of.is_some(),
            "{file}: a scenario states its as_of date"
        );
        let today = input.as_of.unwrap();
        advise_at(policy, &input, today).map(|a| {
            // What the server sends: the same bytes as serde_json's.
            assert_eq!(
                String::from_utf8(a.to_json()).unwrap(),
                serde_json::to_string(&a).unwrap(),
                "{file}: Advice::to_json differs from serde_json"
            );
            serde_json::to_value(&a).unwrap()
        })
    });
    match (
        scenario.get("expected"),
        scenario.get("expected_errors"),
        result,
    ) {
        (Some(expected), None, Ok(actual)) => {
            let mut out = Vec::new();
            mismatches("advice", expected, &actual, &mut out);
            assert!(
                out.is_empty(),
                "{file}: the advice differs from the scenario:\n{}\n\nthe whole advice:\n{}",
                out.join("\n"),
                serde_json::to_string_pretty(&actual).unwrap()
            );
        }
        (None, Some(expected), Err(errs)) => {
            let actual: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
            let expected: Vec<String> = serde_json::from_value(expected.clone()).unwrap();
            assert_eq!(actual, expected, "{file}: the input errors differ");
        }
        (Some(_), None, Err(errs)) => panic!("{file}: expected advice, got input errors:\n{errs}"),
        (None, Some(_), Ok(a)) => panic!("{file}: expected input errors, got advice:\n{a:#}"),
        _ => panic!("{file}: a scenario has exactly one of \"expected\" and \"expected_errors\""),
    }
}

macro_rules! scenarios {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_scenario($file);
            }
        )*
        const LISTED: &[&str] = &[$($file),*];
    };
}

scenarios! {
    // Every row of POLICY.md §1.1, and the rows M1 implies in the other directions.
    mem_low_voltage => "mem-low-voltage.json",
    mem_high_voltage => "mem-high-voltage.json",
    mem_fusion_cutting => "mem-fusion-cutting.json",
    mem_other_welding_items => "mem-other-welding-items.json",
    samr_metal_welding => "samr-metal-welding.json",
    mohurd_electrician => "mohurd-electrician.json",
    mohurd_welder => "mohurd-welder.json",
    two_certificates_one_target => "two-certificates-one-target.json",
    target_already_held => "target-already-held.json",
    // Every status.
    status_review_due => "status-review-due.json",
    status_expired_by_valid_until => "status-expired-by-valid-until.json",
    status_expired_as_stated => "status-expired-as-stated.json",
    status_expired_by_missed_review => "status-expired-by-missed-review.json",
    status_suspended => "status-suspended.json",
    status_revoked => "status-revoked.json",
    status_revoked_after_the_as_of_date => "status-revoked-after-as-of.json",
    not_yet_issued => "not-yet-issued.json",
    // The effective date.
    day_before_effective_date => "day-before-effective-date.json",
    on_effective_date => "on-effective-date.json",
    // Regional rules and exceptions (fictional fixture policy).
    exception_disables_in_its_region => "exception-disable-region-44.json",
    exception_not_in_force_yet => "exception-before-its-date.json",
    exception_in_another_region => "exception-other-region.json",
    exception_without_region => "exception-no-region.json",
    exception_narrows => "exception-narrow.json",
    regional_rule_and_end_date => "regional-rule-and-end-date.json",
    status_not_counted_by_the_rule => "status-not-counted.json",
    // Next levels.
    next_level_from_held_certificate => "next-level-held.json",
    next_level_by_experience => "next-level-by-experience.json",
    next_level_by_diploma => "next-level-by-diploma.json",
    held_level_not_downgraded => "held-level-not-downgraded.json",
    deemed_level_above_held => "deemed-level-above-held.json",
    deemed_level_without_dates => "deemed-level-without-dates.json",
    no_level_above_the_top => "top-level.json",
    // Input errors.
    input_errors => "input-errors.json",
    input_errors_against_the_policy => "input-errors-policy.json",
}

#[test]
fn every_scenario_file_is_listed() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(here())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = LISTED.iter().map(|s| s.to_string()).collect();
    let unlisted: Vec<&String> = on_disk.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "scenario files not listed in scenarios!{{}} (so never run): {unlisted:?}"
    );
    assert!(missing.is_empty(), "listed but not on disk: {missing:?}");
}

#[test]
fn advice_round_trips_through_json() {
    let input = AdviceInput::from_json(
        r#"{"as_of": "2026-11-26", "region": "44", "holdings": [
            {"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2024-06-01"},
            {"kind": "mem.welding.fusion-cutting", "status": "expired", "status_since": "2025-01-01"}]}"#,
    )
    .unwrap();
    let advice = advise_at(&SHIPPED, &input, input.as_of.unwrap()).unwrap();
    let json = serde_json::to_string(&advice).unwrap();
    let back: Advice<'static> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, advice);
}

// ------------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------------

/// Entitlements: (target, exemption) pairs, and (occupation, level) for every level at or below a
/// deemed one (being deemed level 4 entitles to all that level 5 does).
fn entitlements(a: &Advice<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for app in &a.applications {
        for e in app.exemptions.iter() {
            out.insert(format!("{} {e}", app.target));
        }
    }
    for d in &a.deemed_levels {
        for l in Level::ALL.into_iter().filter(|l| *l <= d.level) {
            out.insert(format!("{} {l}", d.occupation));
        }
    }
    out
}

fn kinds() -> Vec<String> {
    SHIPPED.kinds.keys().cloned().collect()
}

fn day(offset: i64) -> hutong_core::date::Day {
    hutong_core::date::parse_day("2026-01-01").unwrap() + chrono::Duration::days(offset)
}

prop_compose! {
    fn any_holding()(
        kind in prop::sample::select(kinds()),
        status in prop::sample::select(Status::ALL.to_vec()),
        issued in prop::option::of(-4000i64..1500),
        until in prop::option::of(0i64..3000),
        occupation in prop::sample::select(vec!["6-31-01-03", "6-18-02-04"]),
        level in prop::sample::select(vec![Level::L5, Level::L4, Level::L3, Level::L2, Level::L1]),
    ) -> Holding {
        let mut h = Holding::new(&kind, status);
        h.issued_on = issued.map(day);
        h.valid_until = match (issued, until) {
            (Some(i), Some(u)) => Some(day(i + u)),
            _ => None,
        };
        if SHIPPED.kinds[&kind].skill_level {
            h.occupation = Some(occupation.to_string());
            h.level = Some(level);
        }
        h
    }
}

prop_compose! {
    fn any_input()(
        holdings in prop::collection::vec(any_holding(), 0..6),
        as_of in -60i64..1500,
        region in prop::option::of(prop::sample::select(vec!["11", "31", "44"])),
        years in prop::option::of(0u32..12),
    ) -> AdviceInput {
        let mut holdings = holdings;
        // Unique numbers, so that a ground's number names exactly one holding.
        for (i, h) in holdings.iter_mut().enumerate() {
            h.number = Some(format!("N{i}"));
        }
        let mut input = AdviceInput {
            as_of: Some(day(as_of)),
            region: region.map(str::to_string),
            holdings,
            ..AdviceInput::default()
        };
        if let Some(y) = years {
            input.experience_years.insert("6-18-02-04".to_string(), y);
        }
        input
    }
}

/// The fixture policy too, so that exceptions and regional rules take part.
static WITH_FIXTURE: LazyLock<Policy> =
    LazyLock::new(|| policy_with(&["fixtures/fictional-regional-exceptions.toml".to_string()]));

/// Whether a generated holding is in force on `as_of` (semantics 1), computed here from the
/// stated status and dates with the kind's lifecycle rule, not taken from the engine: not issued
/// after `as_of`, not stated expired, suspended or revoked (from `status_since`, else always), and
/// its validity (`valid_until`, else issue date plus the lifecycle's validity) not ended. The
/// generator states no review, so a missed review never expires a holding here.
fn in_force_on(policy: &Policy, h: &Holding, as_of: Day) -> bool {
    if h.issued_on.is_some_and(|d| d > as_of) {
        return false;
    }
    if !h.status.is_in_force() && h.status_since.is_none_or(|d| d <= as_of) {
        return false;
    }
    let lc = policy.lifecycle_of(&policy.kinds[&h.kind]);
    let end = match h.issued_on {
        Some(issued_on) => lc.valid_until(&CertificateDates {
            issued_on,
            first_issued_on: h.first_issued_on.unwrap_or(issued_on),
            valid_until: h.valid_until,
            last_review_on: h.last_review_on,
            state: AdminState::Active,
        }),
        None => h.valid_until.filter(|_| lc.expires),
    };
    end.is_none_or(|until| as_of <= until)
}

fn run(policy: &Policy, input: &AdviceInput) -> String {
    let a = advise_at(policy, input, input.as_of.unwrap()).unwrap();
    serde_json::to_string(&a).unwrap()
}

proptest! {
    #[test]
    fn adding_a_valid_holding_never_removes_an_entitlement(
        input in any_input(),
        extra in any_holding(),
        fixture in any::<bool>(),
    ) {
        let policy: &Policy = if fixture { &WITH_FIXTURE } else { &SHIPPED };
        let as_of = input.as_of.unwrap();
        let mut extra = extra;
        // Valid on the as-of date: issued the day before, no end date, status valid.
        extra.status = Status::Valid;
        extra.issued_on = Some(as_of.pred_opt().unwrap());
        extra.valid_until = None;
        extra.number = Some("N-extra".to_string());
        let before = advise_at(policy, &input, as_of).unwrap();
        let mut more = input.clone();
        more.holdings.push(extra);
        let after = advise_at(policy, &more, as_of).unwrap();
        let (b, a) = (entitlements(&before), entitlements(&after));
        prop_assert!(b.is_subset(&a), "lost {:?}", b.difference(&a).collect::<Vec<_>>());
    }

    #[test]
    fn expired_suspended_or_revoked_certificates_never_ground_an_entitlement(
        input in any_input(),
        fixture in any::<bool>(),
    ) {
        let policy: &Policy = if fixture { &WITH_FIXTURE } else { &SHIPPED };
        let advice = advise_at(policy, &input, input.as_of.unwrap()).unwrap();
        let as_of = input.as_of.unwrap();
        let in_force_numbers: BTreeSet<&str> = input
            .holdings
            .iter()
            .filter(|h| in_force_on(policy, h, as_of))
            .filter_map(|h| h.number.as_deref())
            .collect();
        for app in &advice.applications {
            for g in &app.grounds {
                let n = g.number.as_deref().unwrap();
                prop_assert!(in_force_numbers.contains(n), "{} grounded by {n}", app.target);
            }
        }
        for d in &advice.deemed_levels {
            for g in &d.grounds {
                let n = g.number.as_deref().unwrap();
                prop_assert!(in_force_numbers.contains(n), "{} grounded by {n}", d.occupation);
            }
        }
        // And with only such certificates, nothing at all.
        let mut bad = input.clone();
        bad.holdings.retain(|h| !in_force_on(policy, h, as_of));
        let advice = advise_at(policy, &bad, bad.as_of.unwrap()).unwrap();
        prop_assert!(entitlements(&advice).is_empty());
        prop_assert!(advice.next_levels.is_empty());
    }

    #[test]
    fn the_advice_is_written_as_serde_json_writes_it(
        input in any_input(),
        fixture in any::<bool>(),
    ) {
        let policy: &Policy = if fixture { &WITH_FIXTURE } else { &SHIPPED };
        let a = advise_at(policy, &input, input.as_of.unwrap()).unwrap();
        prop_assert_eq!(String::from_utf8(a.to_json()).unwrap(), serde_json::to_string(&a).unwrap());
    }

    #[test]
    fn the_advice_does_not_depend_on_the_order_of_holdings(
        input in any_input(),
        seed in any::<u64>(),
        fixture in any::<bool>(),
    ) {
        let policy: &Policy = if fixture { &WITH_FIXTURE } else { &SHIPPED };
        let mut shuffled = input.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.holdings.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.holdings.swap(i, j);
        }
        prop_assert_eq!(run(policy, &input), run(policy, &shuffled));
    }
}
