//! Store-level lookup rate on PostgreSQL: how many `certificates_by_number` calls per second
//! the store serves, with the server on the same machine. This measures the database path of a
//! verification (pool, prepared statement, index lookup, row decoding), not HTTP.
//!
//! ```text
//! cargo run --release -p hutong-store-postgres --example lookup_bench -- \
//!     postgres://postgres@127.0.0.1:5432/hutong_bench [--seconds 10] [--runs 5] [--concurrency 32] [--pool 8] [--sample 1000000]
//! ```
//!
//! Numbers are sampled from the stored certificates (a million by default, from pages spread
//! over the whole table, shuffled), so every lookup finds a certificate and the lookups touch
//! the whole table and its index as real verification traffic would, not a cached corner. Each run prints its rate, latency percentiles and the CPU time spent per
//! lookup by this process and by the whole machine (Linux `/proc`); the last line gives the
//! median of the runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hutong_store::Store;
use hutong_store_postgres::{PgOptions, PgStore};

struct Args {
    url: String,
    seconds: u64,
    runs: usize,
    concurrency: usize,
    pool: usize,
    sample: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        seconds: 10,
        runs: 5,
        concurrency: 32,
        pool: 8,
        sample: 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "--seconds" => args.seconds = num("--seconds")?.max(1),
            "--runs" => args.runs = num("--runs")?.max(1) as usize,
            "--concurrency" => args.concurrency = num("--concurrency")?.max(1) as usize,
            "--pool" => args.pool = num("--pool")?.max(1) as usize,
            "--sample" => args.sample = num("--sample")?.max(1),
            u if u.starts_with("postgres") => args.url = u.to_string(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.url.is_empty() {
        return Err("usage: lookup_bench postgres://… [--seconds N] [--runs N] [--concurrency N] [--pool N] [--sample N]".into());
    }
    Ok(args)
}

/// (this process's CPU seconds, the machine's busy CPU seconds), from /proc; zeros elsewhere.
fn cpu_seconds() -> (f64, f64) {
    let tick = 100.0; // USER_HZ on Linux
    let own = process_cpu_seconds("self");
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.to_string();
            let v: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
            let busy: f64 = v.iter().take(8).sum::<f64>() - v.get(3)? - v.get(4)?;
            Some(busy / tick)
        })
        .unwrap_or(0.0);
    (own, machine)
}

/// CPU seconds a process (a pid, or `self`) has used, user and system, from /proc; 0 if unreadable.
fn process_cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(3);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let store = Arc::new(
        PgStore::connect_with(
            &args.url,
            None,
            PgOptions {
                pool_size: args.pool,
                ..PgOptions::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?,
    );
    let (client, conn) = tokio_postgres::connect(&args.url, tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let estimate = store.count_estimate().await.map_err(|e| e.to_string())?;
    let mut numbers: Vec<String> = store
        .sample_certificates(args.sample as usize, 2026)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|c| c.number)
        .collect();
    if numbers.is_empty() {
        return Err("the database holds no certificates: load some first (hutong demo)".into());
    }
    // A fixed shuffle (xorshift), so that lookups do not walk the table in order.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..numbers.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        numbers.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let numbers = Arc::new(numbers);
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "lookup_bench: {estimate} certificates (estimate), {} sampled numbers, {cpus} CPUs, \
         concurrency {}, pool {}, {} s × {} runs",
        numbers.len(),
        args.concurrency,
        args.pool,
        args.seconds,
        args.runs
    );
    // Warm the pool (every connection opened) and the statement caches.
    let mut warm = Vec::new();
    for t in 0..args.concurrency {
        let (store, numbers) = (store.clone(), numbers.clone());
        warm.push(tokio::spawn(async move {
            for i in 0..200 {
                let n = &numbers[(t * 200 + i) % numbers.len()];
                store
                    .certificates_by_number(n)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
    }
    for w in warm {
        w.await.map_err(|e| e.to_string())??;
    }
    // The server processes that serve this store's pool (a local server only), so that the CPU
    // spent per lookup can be counted apart from whatever else the machine runs.
    let backends: Vec<i32> = client
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'hutong' AND datname = current_database()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let server_cpu = || {
        backends
            .iter()
            .map(|p| process_cpu_seconds(&p.to_string()))
            .sum::<f64>()
    };
    let mut rates = Vec::new();
    let mut costs = Vec::new();
    for run in 1..=args.runs {
        let next = Arc::new(AtomicUsize::new(0));
        let missing = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let (own0, machine0) = cpu_seconds();
        let server0 = server_cpu();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (store, numbers, next, missing) = (
                store.clone(),
                numbers.clone(),
                next.clone(),
                missing.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(1 << 16);
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed) % numbers.len();
                    let t = Instant::now();
                    match store.certificates_by_number(&numbers[i]).await {
                        Ok(v) if !v.is_empty() => {}
                        Ok(_) => {
                            missing.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                    lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                }
                Ok(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.map_err(|e| e.to_string())??);
        }
        let secs = start.elapsed().as_secs_f64();
        let (own1, machine1) = cpu_seconds();
        let server1 = server_cpu();
        lat.sort_unstable();
        let n = lat.len() as f64;
        let rate = n / secs;
        rates.push(rate);
        let (own, server) = ((own1 - own0) / n * 1e6, (server1 - server0) / n * 1e6);
        costs.push(own + server);
        println!(
            "run {run}: {:.0} lookups/s ({} in {secs:.1} s, {} not found); latency µs p50 {} p99 {} max {}; \
             CPU µs per lookup: this process {own:.1} + its {} server backends {server:.1} = {:.1} \
             (whole machine {:.1})",
            rate,
            lat.len(),
            missing.load(Ordering::Relaxed),
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            lat.last().copied().unwrap_or(0),
            backends.len(),
            own + server,
            (machine1 - machine0) / n * 1e6,
        );
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    costs.sort_by(|a, b| a.total_cmp(b));
    let cost = costs[costs.len() / 2];
    println!(
        "median of {} runs: {:.0} lookups/s; {cost:.1} CPU µs per lookup (client and server), \
         i.e. {:.0} lookups per CPU-second",
        rates.len(),
        rates[rates.len() / 2],
        if cost > 0.0 { 1e6 / cost } else { 0.0 }
    );
    Ok(())
}
