//! Advice for a holder with three certificates against the shipped policy.
//!
//! `cargo bench -p hutong-core --bench advice`. The figure to read is `advice/three-certificates`
//! (the whole `advise_at` call: input check, evaluation, building and dropping the advice);
//! criterion prints it as time per evaluation and as evaluations per second ("elem/s"). The
//! issue's target is at least 1,000,000 evaluations per second on one core.
//! `advice/three-certificates+json` adds writing the advice as JSON the way the server does
//! (`Advice::to_json`), for an idea of what a request costs beyond the engine;
//! `…+serde_json` writes the same bytes through serde_json, for comparison.
//!
//! Those are wall-clock times: on a machine whose cores are shared with other work they include
//! the time the benchmark waits for a core. On Linux, `advice-cpu/three-certificates` measures
//! the same call in CPU time of the benchmark's thread (from `/proc/thread-self/schedstat`), which
//! is the per-core figure whatever else runs; its samples are long because the kernel updates
//! that counter only at scheduler ticks.
//!
//! The benchmark allocates with mimalloc, as the `hutong` program (and so the server) does: an
//! evaluation makes about ten allocations, and with the system allocator they and their frees
//! are a sixth of its instructions, which the server does not pay.

/// The allocator of the `hutong` program (`crates/hutong/src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            a.to_json()
        })
    });
    g.bench_function("three-certificates+serde_json", |b| {
        b.iter(|| {
            let a = advise_at(black_box(&policy), black_box(&input), today).unwrap();
            serde_json::to_vec(&a).unwrap()
        })
    });
    g.finish();
}

#[cfg(target_os = "linux")]
mod thread_cpu {
    //! CPU time of the current thread as a criterion measurement.

    use criterion::Throughput;
    use criterion::measurement::{Measurement, ValueFormatter};

    pub struct ThreadCpuTime;

    /// Nanoseconds this thread has run (the first field of `/proc/thread-self/schedstat`).
    fn now() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .expect("/proc/thread-self/schedstat is readable")
    }

    impl Measurement for ThreadCpuTime {
        type Intermediate = u64;
        type Value = u64;
        fn start(&self) -> u64 {
            now()
        }
        fn end(&self, start: u64) -> u64 {
            now().saturating_sub(start)
        }
        fn add(&self, a: &u64, b: &u64) -> u64 {
            a + b
        }
        fn zero(&self) -> u64 {
            0
        }
        fn to_f64(&self, v: &u64) -> f64 {
            *v as f64
        }
        fn formatter(&self) -> &dyn ValueFormatter {
            &CpuNanos
        }
    }

    struct CpuNanos;

    impl ValueFormatter for CpuNanos {
        fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
            let (factor, unit) = if typical < 1e3 {
                (1.0, "ns cpu")
            } else if typical < 1e6 {
                (1e-3, "µs cpu")
            } else {
                (1e-6, "ms cpu")
            };
            values.iter_mut().for_each(|v| *v *= factor);
            unit
        }

        fn scale_throughputs(
            &self,
            typical: f64,
            throughput: &Throughput,
            values: &mut [f64],
        ) -> &'static str {
            let n = match *throughput {
                Throughput::Elements(n) => n as f64,
                _ => 1.0,
            };
            let (factor, unit) = if n * 1e9 / typical < 1e6 {
                (1e-3, "Kelem/s cpu")
            } else {
                (1e-6, "Melem/s cpu")
            };
            values.iter_mut().for_each(|v| *v = n * 1e9 / *v * factor);
            unit
        }

        fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
            "ns"
        }
    }
}

#[cfg(target_os = "linux")]
fn bench_cpu(c: &mut Criterion<thread_cpu::ThreadCpuTime>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let policy = Policy::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let input = input();
    let today = input.as_of.unwrap();
    let mut g = c.benchmark_group("advice-cpu");
    g.throughput(Throughput::Elements(1));
    g.bench_function("three-certificates", |b| {
        b.iter(|| advise_at(black_box(&policy), black_box(&input), today).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);

#[cfg(target_os = "linux")]
criterion_group! {
    name = cpu;
    config = Criterion::default()
        .with_measurement(thread_cpu::ThreadCpuTime)
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(10));
    targets = bench_cpu
}

#[cfg(target_os = "linux")]
criterion_main!(benches, cpu);
#[cfg(not(target_os = "linux"))]
criterion_main!(benches);
