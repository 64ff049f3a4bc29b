//! `hutong bench verify`: the verification endpoint under load, beside a bare baseline.
//!
//! 1. Makes sure the database holds at least `--certificates` synthetic certificates, filling
//!    it with `hutong demo`'s generator when it holds fewer (the data is a function of the seed,
//!    so a larger run extends a smaller one).
//! 2. Picks real certificates at random from the database and builds a request mix: half with an
//!    existing number and the right name, a quarter with an existing number and a wrong name, a
//!    quarter with a well-formed number that is not registered.
//! 3. For each run: starts a *baseline* server as a child process (a bare axum route doing the
//!    one store lookup by number that verification makes, through the same store, and nothing
//!    else), loads it, stops it; then starts `hutong serve` as a child process and loads
//!    `/api/v1/verify` the same way. The load generator is this process: `--connections`
//!    keep-alive HTTP/1.1 connections (hyper's client) on one thread, each sending its next
//!    request as soon as the answer arrives. Every answer is checked (status 200, and `found`
//!    as expected).
//! 4. Prints requests/s, latency percentiles and the server's CPU time per request of each run
//!    and their medians, with verification's ratios to the baseline of the same run (requests/s
//!    and CPU per request), the server's resident memory, the dataset, the machine and the rate
//!    limits in force. The benchmark's client is exempted by a bearer token, so the limiter's
//!    check runs on every request.
//!
//! Both servers share the machine's cores with the load generator, as on a single-machine
//! deployment test; the baseline is measured in the same run so that figures taken on a busy
//! machine can still be compared.

use std::net::SocketAddr;
use std::process::{Child, Command as Process, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, HOST, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use hutong_core::ResidentId;
use hutong_core::date::Day;

use crate::cmd::demo;
use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load `GET /api/v1/verify` and a bare baseline, and print throughput and latency.
    Verify(VerifyArgs),
    /// The baseline server (started by `bench verify`): one database lookup per request.
    #[command(hide = true)]
    BaselineServer(BaselineArgs),
    /// Import a generated CSV into a fresh SQLite database beside a bare insert loop of the
    /// same rows, and print both rates and their ratio.
    Import(crate::cmd::bench_import::ImportArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// How many certificates the database must hold; it is filled with demo data up to this.
    #[arg(long, default_value_t = 1_000_000)]
    pub certificates: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// How long each measurement lasts, after the warm-up (`10s`, `500ms`, `1m`).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load before measuring, so that caches are warm.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Runs of (baseline, verify); medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Skip the baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Distinct requests in the mix.
    #[arg(long, default_value_t = 100_000)]
    pub requests: usize,
    /// Seed of the demo data and of the picks.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Discard and repeat a run (baseline and verify) during which other processes used more
    /// than this many cores, up to three times `--runs` attempts: for shared machines.
    #[arg(long, value_name = "CORES")]
    pub max_other_load: Option<f64>,
}

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[arg(long)]
    pub listen: String,
    /// A SQLite file: one raw SQLite lookup per request.
    #[arg(long, conflicts_with = "postgres")]
    pub sqlite: Option<std::path::PathBuf>,
    /// A PostgreSQL URL: one store lookup by number per request (pooled, prepared).
    #[arg(long)]
    pub postgres: Option<String>,
}

/// A duration such as `10s`, `500ms`, `1m` or `1m30s` (humantime's syntax), at most an hour.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    // A bare number is seconds.
    let t = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{t}s")
    } else {
        t.to_string()
    };
    let d = humantime::parse_duration(&t)
        .map_err(|e| format!("\"{s}\" is not a duration such as 10s, 500ms or 1m ({e})"))?;
    if d > Duration::from_secs(3600) {
        return Err(format!("\"{s}\" must be at most an hour"));
    }
    Ok(d)
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Verify(a) => verify(global, a),
        Command::BaselineServer(a) => baseline_server(a),
        Command::Import(a) => crate::cmd::bench_import::run(global, a),
    }
}

/// One prepared request and what its answer must say.
struct Probe {
    uri: Uri,
    found: bool,
}

/// The request mix, and the header that exempts the benchmark client from the rate limits.
struct Load {
    probes: Vec<Probe>,
    authorization: HeaderValue,
}

/// A run's figures.
#[derive(Clone, Copy)]
struct Figures {
    rps: f64,
    p50_us: u32,
    p99_us: u32,
    errors: u64,
    rss_kb: Option<u64>,
    peak_rss_kb: Option<u64>,
    /// The server's CPU time per answered request, over the measured span (/proc/PID/stat): a
    /// figure that other load on a shared machine disturbs much less than requests per second.
    cpu_us_per_request: Option<f64>,
    /// The part of it spent in the kernel (system time): the socket calls, and on loopback the
    /// delivery to the client, which grow with the answer's size.
    sys_us_per_request: Option<f64>,
    /// Cores that everything but the server and this process used during the measured span
    /// (machine-wide busy time from /proc/stat less theirs): other load on a shared machine.
    other_cores: Option<f64>,
}

fn verify(global: &GlobalArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let rt = runtime()?;
    let (probes, dataset) = rt.block_on(prepare(&config, &args))?;
    drop(rt);
    // Parsed once the database is open: the default data folder exists from then on.
    let target = hutong_store::DatabaseUrl::parse(&config.database)
        .map_err(|e| crate::exit::invalid(format!("--database: {e}")))?;

    let token = format!("bench-{:016x}", rand::random::<u64>());
    let token_hash = hutong_server::ratelimit::token_sha256_hex(&token);
    let probes = probes
        .into_iter()
        .map(|(path, found)| {
            Ok(Probe {
                uri: path
                    .parse()
                    .with_context(|| format!("a request path of the mix is not a URI: {path}"))?,
                found,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let load = Arc::new(Load {
        probes,
        authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
    });

    let mut in_force = config.rate_limits.clone();
    if let Ok(h) = hutong_server::ratelimit::parse_sha256_hex(&token_hash) {
        in_force.exempt_token_sha256.push(h);
    }
    let limits = in_force.describe();
    println!("hutong bench verify");
    match &target {
        hutong_store::DatabaseUrl::Sqlite(path) => {
            let db_size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!(
                "dataset:     {dataset} certificates in {} ({:.2} GB)",
                path.display(),
                db_size as f64 / 1e9
            );
        }
        hutong_store::DatabaseUrl::Postgres(_) => {
            println!(
                "dataset:     {dataset} certificates (estimate) in PostgreSQL, on this machine"
            );
        }
    }
    println!("machine:     {}", machine());
    println!(
        "load:        {} keep-alive connections from this process (one thread), {} s measured after {} s warm-up, {} run(s)",
        args.connections,
        args.duration.as_secs_f64(),
        args.warmup.as_secs_f64(),
        args.runs
    );
    println!(
        "mix:         {} distinct requests: 50% registered number + right name, 25% registered number + wrong name, 25% unregistered number",
        load.probes.len()
    );
    println!(
        "rate limits: {limits}; the benchmark client is exempt by its bearer token, checked on every request"
    );
    match &target {
        hutong_store::DatabaseUrl::Sqlite(path) => {
            println!(
                "baseline:    a bare axum route doing the one store lookup by number that verification makes (the same SQLite store, connections and cached statement)"
            );
            // Both servers start with the database in the operating system's cache, whichever
            // runs first: read the file once.
            let warm = Instant::now();
            let mut file = std::fs::File::open(path)?;
            let mut chunk = vec![0u8; 8 << 20];
            while std::io::Read::read(&mut file, &mut chunk)? > 0 {}
            println!(
                "cache:       read the database file once ({:.1} s) so that no run starts cold",
                warm.elapsed().as_secs_f64()
            );
        }
        hutong_store::DatabaseUrl::Postgres(_) => println!(
            "baseline:    a bare axum route doing the one store lookup by number (pooled, prepared), on the same PostgreSQL"
        ),
    }

    let exe = std::env::current_exe().context("cannot find the hutong executable")?;
    let mut baseline = Vec::new();
    let mut served = Vec::new();
    let mut run = 0;
    let mut attempts = 0;
    while run < args.runs && attempts < args.runs * 3 {
        attempts += 1;
        run += 1;
        let mut pair_baseline = None;
        if !args.no_baseline {
            let addr = free_addr()?;
            let child = Process::new(&exe)
                .args(["bench", "baseline-server", "--listen", &addr.to_string()])
                .args(match &target {
                    hutong_store::DatabaseUrl::Sqlite(p) => {
                        ["--sqlite".to_string(), p.display().to_string()]
                    }
                    hutong_store::DatabaseUrl::Postgres(u) => ["--postgres".to_string(), u.clone()],
                })
                .stdout(Stdio::null())
                .spawn()
                .context("cannot start the baseline server")?;
            let f = measure(child, addr, &load, &args, false)?;
            report(run, "baseline", &f, None);
            pair_baseline = Some(f);
        }
        let addr = free_addr()?;
        let child = Process::new(&exe)
            .arg("--database")
            .arg(&config.database)
            .arg("--policy")
            .arg(&config.policy)
            .arg("--data-dir")
            .arg(&config.data_dir)
            .arg("--holder-key-file")
            .arg(&config.holder_key_file)
            .args(["serve", "--listen", &addr.to_string()])
            .env("HUTONG_RATE_LIMIT_EXEMPT_TOKEN_SHA256", &token_hash)
            .env("HUTONG_LOG", "warn")
            .env_remove("RUST_LOG")
            .env_remove("HUTONG_LISTEN")
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start hutong serve")?;
        let f = measure(child, addr, &load, &args, true)?;
        report(run, "verify", &f, pair_baseline.as_ref());
        let busiest = [Some(&f), pair_baseline.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|f| f.other_cores)
            .fold(0.0, f64::max);
        if let Some(max) = args.max_other_load
            && busiest > max
        {
            println!(
                "          run {run} discarded: other processes used {busiest:.2} cores (--max-other-load {max})"
            );
            run -= 1;
            continue;
        }
        baseline.extend(pair_baseline);
        served.push(f);
    }
    anyhow::ensure!(
        !served.is_empty(),
        "every run was disturbed by other load; try again when the machine is quieter"
    );
    println!("--");
    let b = median(&baseline);
    let v = median(&served).context("no run was made")?;
    if let Some(b) = &b {
        report(0, "baseline", b, None);
    }
    report(0, "verify", &v, b.as_ref());
    // Each run's ratios to its own baseline, and their medians: on a shared machine, load from
    // others moves both halves of a run more alike than it moves runs apart.
    let pairs: Vec<(&Figures, &Figures)> = served.iter().zip(&baseline).collect();
    if !pairs.is_empty() {
        let rps: Vec<f64> = pairs.iter().map(|(v, b)| v.rps / b.rps).collect();
        let cpu: Vec<f64> = pairs
            .iter()
            .filter_map(|(v, b)| Some(v.cpu_us_per_request? / b.cpu_us_per_request?))
            .collect();
        let list = |v: &[f64], f: &dyn Fn(f64) -> String| {
            v.iter().map(|x| f(*x)).collect::<Vec<_>>().join(", ")
        };
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        let times = |x: f64| format!("{x:.2}×");
        println!(
            "ratios:  verify/baseline req/s {} (median {}); CPU per request {}{}",
            list(&rps, &pct),
            pct(median_of(rps.clone())),
            list(&cpu, &times),
            if cpu.is_empty() {
                String::new()
            } else {
                format!(" (median {})", times(median_of(cpu.clone())))
            }
        );
    }
    println!(
        "summary: {dataset} certificates, {} connections: verify {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {} per verification, server RSS {}{}",
        args.connections,
        v.rps,
        f64::from(v.p50_us) / 1000.0,
        f64::from(v.p99_us) / 1000.0,
        v.cpu_us_per_request
            .map(|c| format!("{c:.1} µs"))
            .unwrap_or_else(|| "unknown".into()),
        v.peak_rss_kb
            .map(|k| format!("{:.0} MB peak", k as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into()),
        b.map(|b| format!(
            "; baseline {:.0} req/s (verify at {:.0}%){}",
            b.rps,
            100.0 * v.rps / b.rps,
            b.cpu_us_per_request
                .map(|c| format!(
                    ", server CPU {c:.1} µs per lookup{}",
                    v.cpu_us_per_request
                        .map(|v| format!(" (verify at {:.2}×)", v / c))
                        .unwrap_or_default()
                ))
                .unwrap_or_default()
        ))
        .unwrap_or_default()
    );
    let errors: u64 = served.iter().chain(&baseline).map(|f| f.errors).sum();
    if errors > 0 {
        eprintln!("error: {errors} answers were not as expected (see above)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Fills the database if needed and builds the request mix: (path, expected `found`).
async fn prepare(config: &Config, args: &VerifyArgs) -> anyhow::Result<(Vec<(String, bool)>, u64)> {
    let ctx = context::open(config.clone(), context::Reads::Primary).await?;
    let mut have = ctx.store.certificate_count_estimate().await?;
    if have < args.certificates {
        eprintln!(
            "the database holds {have} certificates; filling it to {} with demo data…",
            args.certificates
        );
        let start = Instant::now();
        let demo_args = demo::Args {
            certificates: args.certificates,
            seed: args.seed,
            samples: None,
            today: None,
        };
        let bar = demo::progress_bar(args.certificates);
        let today = hutong_core::date::today_in_china();
        demo::fill(
            &*ctx.store,
            &ctx.policy,
            &ctx.secret,
            &demo_args,
            today,
            &bar,
        )
        .await?;
        bar.finish_and_clear();
        eprintln!("filled in {:.0} s", start.elapsed().as_secs_f64());
        have = ctx.store.certificate_count_estimate().await?;
    }
    let picks = ctx
        .store
        .random_certificates(args.requests.div_ceil(2).max(1), args.seed)
        .await?;
    anyhow::ensure!(
        !picks.is_empty(),
        "the database holds no certificate to look up"
    );
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(args.seed);
    let enc = hutong_server::pages::lookup::encode;
    let mut out = Vec::with_capacity(args.requests);
    for i in 0..args.requests {
        let c = &picks[(i / 2) % picks.len()];
        let path = |number: &str, name: &str| {
            format!("/api/v1/verify?number={}&name={}", enc(number), enc(name))
        };
        match i % 4 {
            0 | 2 => out.push((path(&c.number, &c.holder_name), true)),
            1 => {
                // A wrong name: the last character replaced.
                let mut name: Vec<char> = c.holder_name.chars().collect();
                if let Some(last) = name.last_mut() {
                    *last = if *last == '甲' { '乙' } else { '甲' };
                }
                out.push((path(&c.number, &name.iter().collect::<String>()), false));
            }
            _ => {
                // A well-formed special-operation number of a Tianjin ID number: the demo
                // data has no holder from Tianjin (province 12).
                let birth = Day::from_ymd_opt(1970, 1, 1).unwrap_or_default()
                    + chrono::Days::new(rand::Rng::gen_range(&mut rng, 0..12_000));
                let id =
                    ResidentId::synthesize(120101, birth, rand::Rng::gen_range(&mut rng, 0..1000));
                out.push((path(&format!("T{}", id.as_str()), &c.holder_name), false));
            }
        }
    }
    // Spread the kinds of request over time.
    rand::seq::SliceRandom::shuffle(out.as_mut_slice(), &mut rng);
    Ok((out, have))
}

pub(crate) fn free_addr() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?)
}

/// Waits for a server child to answer, loads it, reads its memory, stops it.
fn measure(
    mut child: Child,
    addr: SocketAddr,
    load: &Arc<Load>,
    args: &VerifyArgs,
    check_found: bool,
) -> anyhow::Result<Figures> {
    eprintln!("server process {} on {addr}", child.id());
    let result = (|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            wait_ready(addr, &mut child, check_found).await?;
            run_load(addr, child.id(), load, args, check_found).await
        })
    })();
    let (rss, peak) = memory(child.id());
    stop(&mut child);
    let mut f = result?;
    f.rss_kb = rss;
    f.peak_rss_kb = peak;
    Ok(f)
}

/// Stops a server started as a child: SIGTERM first, so that it finishes its requests.
pub(crate) fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        // SIGTERM lets the server finish its requests; it is this process's own child.
        let _ = Process::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until the server answers `/healthz`, and, for `hutong serve` (`settled`), until it has
/// finished counting the registry, which it does once at start: the measurement is of the
/// steady state, not of a server busy counting ten million rows.
async fn wait_ready(addr: SocketAddr, child: &mut Child, settled: bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the server exited before answering ({status})");
        }
        if let Ok(Ok((200, body))) =
            tokio::time::timeout(Duration::from_secs(5), get_once(addr, "/healthz")).await
            && (!settled || counted(&body))
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not become ready within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a `/healthz` answer has the registry count (`"certificates":N`, not `null`).
fn counted(body: &[u8]) -> bool {
    let needle = b"\"certificates\":";
    body.windows(needle.len() + 1)
        .any(|w| w.starts_with(needle) && w[needle.len()].is_ascii_digit())
}

/// An HTTP/1.1 connection to `addr`, driven by a task of its own.
async fn connect(
    addr: SocketAddr,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One GET on a connection of its own: the status and the body.
async fn get_once(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, Bytes)> {
    let mut sender = connect(addr).await?;
    let req = Request::get(path)
        .header(HOST, "127.0.0.1")
        .body(Empty::new())?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

async fn run_load(
    addr: SocketAddr,
    pid: u32,
    load: &Arc<Load>,
    args: &VerifyArgs,
    check_found: bool,
) -> anyhow::Result<Figures> {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    // CPU time of the server, of this process and of the whole machine, at the start and the
    // end of the measured span.
    let cpu = tokio::spawn(async move {
        let me = std::process::id();
        tokio::time::sleep_until(measure_from.into()).await;
        let before = (cpu_times(pid), cpu_time(me), machine_busy());
        tokio::time::sleep_until(end.into()).await;
        let after = (cpu_times(pid), cpu_time(me), machine_busy());
        let (b, a) = (before.0?, after.0?);
        let system = a.1.saturating_sub(b.1);
        let server = (a.0 + a.1).saturating_sub(b.0 + b.1);
        let others = match (before.1, after.1, before.2, after.2) {
            (Some(c0), Some(c1), Some(m0), Some(m1)) => Some(
                (m1.saturating_sub(m0).as_secs_f64()
                    - server.as_secs_f64()
                    - c1.saturating_sub(c0).as_secs_f64())
                .max(0.0),
            ),
            _ => None,
        };
        Some((server, system, others))
    });
    let mut tasks = Vec::with_capacity(args.connections);
    for c in 0..args.connections {
        let load = load.clone();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            let mut lat: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut i = c * 7919;
            loop {
                let p = &load.probes[i % load.probes.len()];
                i += 1;
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let req = Request::get(p.uri.clone())
                    .header(HOST, "127.0.0.1")
                    .header(AUTHORIZATION, load.authorization.clone())
                    .body(Empty::new())?;
                sender
                    .ready()
                    .await
                    .context("the server closed a connection")?;
                let resp = sender.send_request(req).await?;
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await?.to_bytes();
                let found = body.starts_with(b"{\"found\":true");
                let t1 = Instant::now();
                if status != 200 || (check_found && found != p.found) {
                    errors += 1;
                    if errors <= 3 {
                        eprintln!(
                            "unexpected answer: status {status}, found {found}, expected found {}",
                            p.found
                        );
                    }
                }
                if t0 >= measure_from {
                    lat.push(u32::try_from((t1 - t0).as_micros()).unwrap_or(u32::MAX));
                }
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        all.extend(lat);
        errors += e;
    }
    anyhow::ensure!(!all.is_empty(), "no request completed in the measured time");
    let cpu = cpu.await.ok().flatten();
    let per_request = |d: Duration| d.as_secs_f64() * 1e6 / all.len() as f64;
    let cpu_us_per_request = cpu.map(|(d, _, _)| per_request(d));
    let sys_us_per_request = cpu.map(|(_, s, _)| per_request(s));
    let other_cores = cpu
        .and_then(|(_, _, o)| o)
        .map(|o| o / args.duration.as_secs_f64());
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Ok(Figures {
        rps: all.len() as f64 / args.duration.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors,
        rss_kb: None,
        peak_rss_kb: None,
        cpu_us_per_request,
        sys_us_per_request,
        other_cores,
    })
}

/// Busy time of the whole machine (all but idle and I/O wait; steal counts as busy), from the
/// first line of /proc/stat, in USER_HZ ticks of 10 ms.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let busy: u64 = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum();
    Some(Duration::from_millis(busy * 10))
}

/// CPU time a process has used (user and system, including threads that have ended), from
/// /proc/PID/stat, in USER_HZ ticks of 10 ms.
fn cpu_time(pid: u32) -> Option<Duration> {
    cpu_times(pid).map(|(user, system)| user + system)
}

/// User and system CPU time of a process (Linux).
fn cpu_times(pid: u32) -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((
        Duration::from_millis(utime * 10),
        Duration::from_millis(stime * 10),
    ))
}

/// Resident and peak resident memory of a process, in KiB (Linux).
fn memory(pid: u32) -> (Option<u64>, Option<u64>) {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The machine, for the report: cores, CPU model, memory, system.
pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| format!(", {:.0} GiB memory", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores, {model}{mem}, {}", std::env::consts::OS)
}

/// The median of a non-empty list.
pub(crate) fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn median(runs: &[Figures]) -> Option<Figures> {
    if runs.is_empty() {
        return None;
    }
    let mid = median_of;
    Some(Figures {
        rps: mid(runs.iter().map(|f| f.rps).collect()),
        p50_us: mid(runs.iter().map(|f| f64::from(f.p50_us)).collect()) as u32,
        p99_us: mid(runs.iter().map(|f| f64::from(f.p99_us)).collect()) as u32,
        errors: runs.iter().map(|f| f.errors).sum(),
        rss_kb: runs.iter().filter_map(|f| f.rss_kb).max(),
        peak_rss_kb: runs.iter().filter_map(|f| f.peak_rss_kb).max(),
        cpu_us_per_request: {
            let v: Vec<f64> = runs.iter().filter_map(|f| f.cpu_us_per_request).collect();
            (!v.is_empty()).then(|| mid(v))
        },
        sys_us_per_request: {
            let v: Vec<f64> = runs.iter().filter_map(|f| f.sys_us_per_request).collect();
            (!v.is_empty()).then(|| mid(v))
        },
        other_cores: {
            let v: Vec<f64> = runs.iter().filter_map(|f| f.other_cores).collect();
            (!v.is_empty()).then(|| mid(v))
        },
    })
}

fn report(run: usize, what: &str, f: &Figures, baseline: Option<&Figures>) {
    let label = if run == 0 {
        "median".to_string()
    } else {
        format!("run {run}")
    };
    let mem = match (f.rss_kb, f.peak_rss_kb) {
        (Some(r), Some(p)) => format!(
            "  RSS {:.0} MB (peak {:.0} MB)",
            r as f64 / 1024.0,
            p as f64 / 1024.0
        ),
        _ => String::new(),
    };
    let rel = baseline
        .map(|b| {
            let cpu = match (f.cpu_us_per_request, b.cpu_us_per_request) {
                (Some(v), Some(b)) if b > 0.0 => format!(", CPU/req {:.2}× baseline", v / b),
                _ => String::new(),
            };
            format!("  {:.0}% of baseline req/s{cpu}", 100.0 * f.rps / b.rps)
        })
        .unwrap_or_default();
    let cpu = match (f.cpu_us_per_request, f.sys_us_per_request) {
        (Some(c), Some(s)) => format!("  server CPU {c:.1} µs/req ({s:.1} system)"),
        (Some(c), None) => format!("  server CPU {c:.1} µs/req"),
        _ => String::new(),
    };
    let others = f
        .other_cores
        .map(|o| format!("  other load {o:.2} cores"))
        .unwrap_or_default();
    println!(
        "{label:>8}  {what:<8} {:>9.0} req/s  p50 {:>5.2} ms  p99 {:>5.2} ms{cpu}{mem}{others}{rel}{}",
        f.rps,
        f64::from(f.p50_us) / 1000.0,
        f64::from(f.p99_us) / 1000.0,
        if f.errors > 0 {
            format!("  {} unexpected answers", f.errors)
        } else {
            String::new()
        }
    );
}

/// Serves a baseline until the benchmark stops it (SIGTERM).
async fn serve_until_terminated(listen: &str, app: axum::Router) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            #[cfg(unix)]
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// The baseline: one route doing the one store lookup by number that verification makes
/// (`Store::certificates_by_number`, through the same store, pool and prepared statement as
/// `hutong serve`), and a small constant JSON answer. Nothing else: no policy, no second
/// factor, no checks, no rate limit, no middleware.
fn baseline_server(args: BaselineArgs) -> anyhow::Result<ExitCode> {
    use axum::extract::{RawQuery, State};
    use axum::routing::get;

    let rt = runtime()?;
    rt.block_on(async move {
        let store: Arc<dyn hutong_store::Store> = match (&args.sqlite, &args.postgres) {
            (Some(path), _) => Arc::new(
                hutong_store_sqlite::SqliteStore::open(path).map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            (None, Some(url)) => Arc::new(
                hutong_store_postgres::PgStore::connect_with(
                    url,
                    None,
                    hutong_store_postgres::PgOptions::default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            (None, None) => {
                return Err(crate::exit::invalid(
                    "baseline-server needs --sqlite or --postgres",
                ));
            }
        };
        let lookup = |State(store): State<Arc<dyn hutong_store::Store>>, RawQuery(q): RawQuery| async move {
            let number = q
                .as_deref()
                .unwrap_or_default()
                .split('&')
                .find_map(|kv| kv.strip_prefix("number="))
                .map(query_value)
                .unwrap_or_default();
            match store.certificates_by_number(&number).await {
                Ok(v) if !v.is_empty() => "{\"found\":true}",
                _ => "{\"found\":false}",
            }
        };
        let app = axum::Router::new()
            .route("/api/v1/verify", get(lookup))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(store);
        serve_until_terminated(&args.listen, app).await
    })
}

/// A value of a query string: `+` is a space, then percent-decoding.
fn query_value(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn cpu_times_split_the_cpu_time() {
        let me = std::process::id();
        let (user, system) = cpu_times(me).expect("our own /proc/PID/stat");
        let total = cpu_time(me).unwrap();
        // Read a moment apart: the total can only have grown.
        assert!(total >= user + system, "{total:?} < {user:?} + {system:?}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    /// The benchmark's client read answers by `content-length` only: a chunked answer (as a
    /// proxy or a streamed body sends) came back empty, so `found` read false.
    #[test]
    fn r8_27_bench_client_reads_chunked_answers() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(
                    b"HTTP/1.1 203 Non-Authoritative Information\r\ntransfer-encoding: chunked\r\n\r\n\
                      6\r\n{\"foun\r\n8\r\nd\":true}\r\n0\r\n\r\n",
                )
                .await
                .unwrap();
            });
            let (status, body) = get_once(addr, "/api/v1/verify?number=1").await.unwrap();
            assert_eq!(status, 203);
            assert_eq!(&body[..], b"{\"found\":true}");
        });
    }

    #[test]
    fn decoding() {
        assert_eq!(query_value("%E6%99%8BA01"), "晋A01");
        assert_eq!(query_value("a+b%2"), "a b%2");
    }
}
