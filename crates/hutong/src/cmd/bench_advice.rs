//! `hutong bench advice`: `POST /api/v1/recognition/advice` under `wrk` load, beside plain-JSON
//! axum baselines in the same run.
//!
//! Each run starts, as child processes of this binary (so with the same allocator and async
//! runtime), in turn:
//! 1. the **plain** baseline: a bare axum route at the same path that reads the request body and
//!    answers a small fixed JSON document through `axum::Json`;
//! 2. the **same-bytes** baseline: the same, answering the bytes of the advice for the holdings
//!    file, computed once at start, so that what remains between it and hutong is the work of
//!    the advice itself (reading the input, the engine, writing the answer) and hutong's
//!    middleware;
//! 3. `hutong serve --demo` on a fresh temporary data folder, with the rate limit exempting
//!    127.0.0.1 (`HUTONG_RATE_LIMIT_EXEMPT`), so the limiter's check runs on every request.
//!
//! and loads each with `wrk` (which must be installed) and a Lua script posting the holdings
//! file, after a warm-up. It prints requests/s and latency per server and run, hutong's share of
//! each baseline in the same run, and their medians over the runs. On a shared machine compare
//! the in-run ratios: the absolute figures swing with other work.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::routing::{get, post};

use hutong_core::recognition::{AdviceInput, advise_at};

use crate::cmd::bench::{self, free_addr, machine, stop};
use crate::config::GlobalArgs;
use crate::context::runtime;

/// `hutong bench …`: the advice benchmark here, the others in [`bench`].
#[derive(clap::Subcommand)]
pub enum Command {
    /// Load `POST /api/v1/recognition/advice` with wrk beside plain-JSON axum baselines, and
    /// print requests/s, latency and hutong's share of each baseline.
    Advice(AdviceArgs),
    /// Verify signed credentials offline as `hutong verify` does, one at a time and in
    /// batches on every core, beside the bare parse + JCS + SHA-256 + Ed25519 pipeline.
    Credentials(crate::cmd::bench_credentials::Args),
    /// A baseline server for `bench advice` (started by it).
    #[command(hide = true)]
    AdviceBaseline(BaselineArgs),
    #[command(flatten)]
    Other(bench::Command),
}

#[derive(clap::Args)]
pub struct AdviceArgs {
    /// The advice request posted (JSON, as for `hutong advise --holdings`).
    #[arg(long, default_value = "examples/holdings.json")]
    pub holdings: PathBuf,
    /// Runs of (plain baseline, same-bytes baseline, hutong); medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Seconds measured per server and run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds of warm-up load before each measurement.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// wrk keep-alive connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// The hutong program served (default: this one), e.g. an older build to compare with.
    #[arg(long)]
    pub server_exe: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[arg(long)]
    pub listen: String,
    /// Answer the advice for this request's holdings (computed once), instead of a small
    /// fixed document.
    #[arg(long)]
    pub same_bytes_for: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Advice(a) => advice(global, a),
        Command::Credentials(a) => crate::cmd::bench_credentials::run(global, a),
        Command::AdviceBaseline(a) => baseline(global, a),
        Command::Other(c) => bench::run(global, c),
    }
}

/// What one server reached in one run.
#[derive(Debug, Clone, Copy)]
struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn policy_dir(global: &GlobalArgs) -> PathBuf {
    global
        .policy
        .clone()
        .unwrap_or_else(|| PathBuf::from("policy"))
}

fn advice(global: &GlobalArgs, args: AdviceArgs) -> anyhow::Result<ExitCode> {
    Process::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("bench advice needs wrk (https://github.com/wg/wrk; apt-get install wrk)")?;
    let body = std::fs::read_to_string(&args.holdings)
        .with_context(|| format!("cannot read {}", args.holdings.display()))?;
    AdviceInput::from_json(&body)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.holdings.display()))?;
    let exe = std::env::current_exe().context("cannot find this program")?;
    let work = std::env::temp_dir().join(format!("hutong-bench-advice-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let script = work.join("post.lua");
    std::fs::write(&script, lua_script(&body))?;
    let policy = policy_dir(global);

    println!("machine:     {}", machine());
    println!(
        "request:     POST /api/v1/recognition/advice with {} ({} bytes)",
        args.holdings.display(),
        body.len()
    );
    println!(
        "load:        wrk -t{} -c{} -d{}s after {} s warm-up, {} run(s); loopback, same cores",
        args.threads, args.connections, args.seconds, args.warmup, args.runs
    );
    println!("plain:       a bare axum route answering a small fixed JSON document (axum::Json)");
    println!("same-bytes:  a bare axum route answering the advice's bytes, computed once");
    println!(
        "hutong:      hutong serve --demo, rate limit exempting 127.0.0.1 (checked per request)"
    );

    let mut all: Vec<[Figures; 3]> = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for run in 1..=args.runs {
            let mut figs = Vec::new();
            for what in ["plain", "same-bytes", "hutong"] {
                let addr = free_addr()?;
                let mut cmd = Process::new(if what == "hutong" {
                    args.server_exe.as_ref().unwrap_or(&exe)
                } else {
                    &exe
                });
                cmd.arg("--policy").arg(&policy);
                match what {
                    "plain" => {
                        cmd.args(["bench", "advice-baseline", "--listen", &addr.to_string()]);
                    }
                    "same-bytes" => {
                        cmd.args(["bench", "advice-baseline", "--listen", &addr.to_string()])
                            .arg("--same-bytes-for")
                            .arg(&args.holdings);
                    }
                    _ => {
                        let data = work.join(format!("data-{run}"));
                        std::fs::create_dir_all(&data)?;
                        cmd.arg("--data-dir")
                            .arg(&data)
                            .args(["serve", "--demo", "--demo-certificates", "1000"])
                            .args(["--listen", &addr.to_string()])
                            .env("HUTONG_RATE_LIMIT_EXEMPT", "127.0.0.1")
                            .env("HUTONG_LOG", "warn")
                            .env_remove("RUST_LOG")
                            .env_remove("HUTONG_LISTEN");
                    }
                }
                let mut child = cmd
                    .stdout(Stdio::null())
                    .spawn()
                    .with_context(|| format!("cannot start the {what} server"))?;
                let f = wait_ready(addr, &mut child).and_then(|()| load(addr, &script, &args));
                stop(&mut child);
                let f = f.with_context(|| format!("run {run}, {what}"))?;
                println!(
                    "run {run} {what:<11} {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms{}",
                    f.rps,
                    f.p50_ms,
                    f.p99_ms,
                    if f.errors > 0 {
                        format!("  {} errors", f.errors)
                    } else {
                        String::new()
                    }
                );
                figs.push(f);
            }
            let [p, s, h] = [figs[0], figs[1], figs[2]];
            println!(
                "run {run} hutong at {:.0}% of plain, {:.0}% of same-bytes",
                100.0 * h.rps / p.rps,
                100.0 * h.rps / s.rps
            );
            all.push([p, s, h]);
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result?;

    let med = |f: &dyn Fn(&[Figures; 3]) -> f64| {
        let mut v: Vec<f64> = all.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median      plain {:.0} req/s, same-bytes {:.0} req/s, hutong {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms)",
        med(&|r| r[0].rps),
        med(&|r| r[1].rps),
        med(&|r| r[2].rps),
        med(&|r| r[2].p50_ms),
        med(&|r| r[2].p99_ms),
    );
    println!(
        "median of the in-run ratios: hutong at {:.0}% of plain, {:.0}% of same-bytes",
        med(&|r| 100.0 * r[2].rps / r[0].rps),
        med(&|r| 100.0 * r[2].rps / r[1].rps),
    );
    let errors: u64 = all.iter().flatten().map(|f| f.errors).sum();
    if errors > 0 {
        eprintln!("{errors} requests failed or were not answered 200");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A wrk script posting `body` and printing the latency percentiles (wrk counts answers other
/// than 2xx itself; a `response` callback would slow wrk down).
fn lua_script(body: &str) -> String {
    let quoted = serde_json::to_string(body).expect("a string serializes");
    format!(
        r#"wrk.method = "POST"
wrk.path = "/api/v1/recognition/advice"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {quoted}
done = function(summary, latency, requests)
  io.write(string.format("HUTONG p50_us %d p99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
"#
    )
}

/// Waits until the server answers `/healthz` (a demo server first fills its database).
fn wait_ready(addr: SocketAddr, child: &mut Child) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the server exited before answering ({status})");
        }
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = [0u8; 12];
            if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .is_ok()
                && s.read_exact(&mut head).is_ok()
                && head.starts_with(b"HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not answer within 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wrk(addr: SocketAddr, script: &Path, args: &AdviceArgs, seconds: u64) -> anyhow::Result<String> {
    let out = Process::new("wrk")
        .arg(format!("-t{}", args.threads))
        .arg(format!("-c{}", args.connections))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(format!("http://{addr}/"))
        .output()
        .context("cannot run wrk")?;
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn load(addr: SocketAddr, script: &Path, args: &AdviceArgs) -> anyhow::Result<Figures> {
    if args.warmup > 0 {
        wrk(addr, script, args, args.warmup)?;
    }
    let out = wrk(addr, script, args, args.seconds)?;
    parse_wrk(&out).with_context(|| format!("cannot read wrk's output:\n{out}"))
}

/// Requests/s, latency percentiles (from the script's line) and errors from wrk's output.
fn parse_wrk(out: &str) -> anyhow::Result<Figures> {
    let field = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::trim))
            .map(str::to_string)
    };
    let rps: f64 = field("Requests/sec:")
        .context("no Requests/sec line")?
        .parse()?;
    let line = field("HUTONG").context("no latency line from the script")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let us = |name: &str| -> anyhow::Result<f64> {
        let i = words
            .iter()
            .position(|w| *w == name)
            .with_context(|| format!("no {name}"))?;
        Ok(words.get(i + 1).context("no value")?.parse::<f64>()?)
    };
    let mut errors = 0;
    if let Some(non2xx) = field("Non-2xx or 3xx responses:") {
        errors += non2xx.parse::<u64>()?;
    }
    if let Some(sock) = field("Socket errors:") {
        // "connect 0, read 0, write 0, timeout 0"
        errors += sock
            .split(',')
            .filter_map(|p| p.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(Figures {
        rps,
        p50_ms: us("p50_us")? / 1000.0,
        p99_ms: us("p99_us")? / 1000.0,
        errors,
    })
}

/// A baseline: `POST /api/v1/recognition/advice` reads the body and answers plain JSON, and
/// `/healthz` answers `ok`. No policy, no checks, no middleware.
fn baseline(global: &GlobalArgs, args: BaselineArgs) -> anyhow::Result<ExitCode> {
    let answer: Option<bytes_answer::Answer> = match &args.same_bytes_for {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let policy = hutong_core::Policy::load_dir(&policy_dir(global))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let input = AdviceInput::from_json(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
            let advice = advise_at(&policy, &input, hutong_core::date::today_in_china())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Some(bytes_answer::Answer(serde_json::to_vec(&advice)?.into()))
        }
        None => None,
    };
    let app = match answer {
        Some(a) => axum::Router::new().route(
            "/api/v1/recognition/advice",
            post(move |_body: axum::body::Bytes| {
                let a = a.clone();
                async move { a }
            }),
        ),
        None => axum::Router::new().route(
            "/api/v1/recognition/advice",
            post(|_body: axum::body::Bytes| async {
                axum::Json(serde_json::json!({"ok": true, "service": "baseline"}))
            }),
        ),
    }
    .route("/healthz", get(|| async { "ok" }));
    let rt = runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
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
    })
}

mod bytes_answer {
    use axum::http::{HeaderValue, header};
    use axum::response::{IntoResponse, Response};

    /// Precomputed JSON bytes, answered as `application/json`.
    #[derive(Clone)]
    pub struct Answer(pub axum::body::Bytes);

    impl IntoResponse for Answer {
        fn into_response(self) -> Response {
            let mut r = self.0.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.00ms  200.00us   5.00ms   90.00%\n  500000 requests in 10.00s, 1.00GB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:  50000.12\nTransfer/sec:    100.00MB\nHUTONG p50_us 950 p99_us 2100\n";
        let f = parse_wrk(out).unwrap();
        assert_eq!(f.rps, 50000.12);
        assert_eq!((f.p50_ms, f.p99_ms, f.errors), (0.95, 2.1, 3));
        assert!(lua_script("{\"a\": \"b\"}").contains(r#"wrk.body = "{\"a\": \"b\"}""#));
    }
}
