//! Advice for a holder with three certificates against the shipped policy.
//!
//! `cargo bench -p hutong-core --bench advice`. The figure to read is `advice/three-certificates`
//! (the whole `advise_at` call: input check, evaluation and building the advice); criterion prints
//! it as time per evaluation and as evaluations per second ("elem/s"). The issue's target is at
//! least 1,000,000 evaluations per second on one core. `advice+json` adds serializing the advice
//! to JSON, for an idea of what a request costs beyond the engine.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hutong_core::Policy;
use hutong_core::recognition::{AdviceInput, advise_at};

fn input() -> AdviceInput {
    AdviceInput::from_json(
        r#"{
        "as_of": "2026-11-26",
        "holdings": [
            {"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2024-06-01",
             "number": "T110101199001011234"},
            {"kind": "samr.welding.metal", "status": "valid", "issued_on": "2024-01-15",
             "number": "110101199001011234"},
            {"kind": "mohrss.skill-level", "status": "valid", "issued_on": "2023-09-01",
             "occupation": "6-18-02-04", "level": "5", "number": "S0000441234562350000001"}
        ],
        "experience_years": {"6-18-02-04": 5}
    }"#,
    )
    .expect("the benchmark input is valid")
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let policy = Policy::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let input = input();
    let today = input.as_of.unwrap();
    // What is measured: three applications, two deemed levels, two next levels.
    let a = advise_at(&policy, &input, today).unwrap();
    assert_eq!(
        (
            a.applications.len(),
            a.deemed_levels.len(),
            a.next_levels.len()
        ),
        (3, 2, 2)
    );
    eprintln!(
        "policy: {} exemption rules, {} deemed-level rules, {} kinds; holder: {} certificates",
        policy.exemption_rules.len(),
        policy.deemed_level_rules.len(),
        policy.kinds.len(),
        input.holdings.len()
    );

    let mut g = c.benchmark_group("advice");
    g.throughput(Throughput::Elements(1));
    g.bench_function("three-certificates", |b| {
        b.iter(|| advise_at(black_box(&policy), black_box(&input), today).unwrap())
    });
    g.bench_function("three-certificates+json", |b| {
        b.iter(|| {
            let a = advise_at(black_box(&policy), black_box(&input), today).unwrap();
            serde_json::to_vec(&a).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
