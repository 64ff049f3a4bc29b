//! `hutong bench import`: the bulk load, `hutong import` of a generated CSV into a fresh SQLite
//! database, beside a bare insert loop of the same rows in the same run.
//!
//! 1. Generates `--rows` certificates with `hutong demo`'s generator (valid resident ID
//!    numbers, every department's kinds, authorities and evaluation institutions) and writes
//!    them as a CSV in the import format.
//! 2. For each run: registers the demo issuers in a fresh database and runs `hutong import` on
//!    the CSV as a child process (so with everything a user's import does: reading, validating,
//!    keying holders, storing), timed from start to exit; checks that every row was stored;
//!    then inserts the same rows into another fresh database of the same schema and indexes by
//!    a bare loop over one prepared statement ([`SqliteStore::bare_insert_loop`]), with the
//!    bulk load's page cache, the same synced commits and the same rows per transaction as the
//!    import (`--batch`, by default the import's), timed.
//! 3. Prints both rates per run, the ratio of each run, and their medians. On a shared machine
//!    compare the in-run ratios: the absolute rates swing with other work.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context as _;

use hutong_core::{Certificate, HolderSecret};
use hutong_store::Store;
use hutong_store_sqlite::SqliteStore;

use crate::cmd::bench::{machine, median_of as median};
use crate::cmd::demo::{self, Generator};
use crate::config::{Config, GlobalArgs};
use crate::context::{load_policy, runtime};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Rows in the generated CSV.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rows: u64,
    /// Runs of (import, bare insert loop); medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub runs: u64,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Rows per transaction, of the import and of the bare insert loop alike (by default the
    /// import's default).
    #[arg(long, default_value_t = u64::from(crate::cmd::import::DEFAULT_BATCH), value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// Folder for the CSV and the databases, which must exist; they are removed afterwards.
    /// Default: a new folder in the system's temporary folder.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Removes the benchmark's files when dropped, however the benchmark ends.
struct Scratch {
    dir: PathBuf,
    remove_dir: bool,
    files: Vec<PathBuf>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for f in &self.files {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = f.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Scratch {
    fn file(&mut self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        self.files.push(p.clone());
        p
    }
}

pub fn run(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    let policy = load_policy(&config.policy)?;
    let mut scratch = match &args.dir {
        Some(d) => {
            if !d.is_dir() {
                return Err(crate::exit::invalid(format!(
                    "--dir {}: no such folder",
                    d.display()
                )));
            }
            Scratch {
                dir: d.clone(),
                remove_dir: false,
                files: Vec::new(),
            }
        }
        None => {
            let d =
                std::env::temp_dir().join(format!("hutong-bench-import-{}", std::process::id()));
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            Scratch {
                dir: d,
                remove_dir: true,
                files: Vec::new(),
            }
        }
    };
    let today = hutong_core::date::today_in_china();
    println!("machine:     {}", machine());

    // The rows, as the CSV and as the records the bare loop inserts.
    let started = Instant::now();
    let csv = scratch.file("rows.csv");
    let mut g = Generator::new(&policy, HolderSecret::from_bytes([5; 32]), args.seed, today);
    let mut made = Vec::with_capacity(args.rows as usize);
    while (made.len() as u64) < args.rows {
        for m in g.next_person() {
            if (made.len() as u64) < args.rows {
                let status = policy
                    .status_of(&m.cert, today)
                    .map(|r| r.status)
                    .unwrap_or(hutong_core::Status::Valid);
                made.push((status, m));
            }
        }
    }
    demo::write_samples(&csv, &made)?;
    let certs: Vec<Certificate> = made.into_iter().map(|(_, m)| m.cert).collect();
    let kinds: std::collections::BTreeSet<&str> = certs.iter().map(|c| c.kind.as_str()).collect();
    let size = std::fs::metadata(&csv)?.len();
    println!(
        "dataset:     {} rows of {} kinds, {:.1} MB of CSV, generated in {:.1} s",
        certs.len(),
        kinds.len(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    println!(
        "import:      `hutong import --batch {}` of the CSV into a fresh SQLite database (the demo issuers registered), wall clock from start to exit",
        args.batch
    );
    println!(
        "baseline:    the same rows by a bare loop over one prepared INSERT, {} rows per transaction, into a fresh database of the same schema, indexes, page cache and synced commits",
        args.batch
    );

    let exe = std::env::current_exe().context("cannot find the hutong executable")?;
    let rt = runtime()?;
    let mut ratios = Vec::new();
    let (mut imports, mut bares) = (Vec::new(), Vec::new());
    for run in 1..=args.runs {
        // The import, as a user runs it.
        let db = scratch.file(&format!("import-{run}.db"));
        let key = scratch.file(&format!("import-{run}.key"));
        rt.block_on(async {
            let store = SqliteStore::open(&db).map_err(|e| anyhow::anyhow!("{e}"))?;
            hutong_store::write::register_issuers(&store, &demo::issuers(&policy), "bench").await?;
            anyhow::Ok(())
        })?;
        let t0 = Instant::now();
        let out = Process::new(&exe)
            .arg("--database")
            .arg(format!("sqlite://{}", db.display()))
            .arg("--policy")
            .arg(&config.policy)
            .arg("--data-dir")
            .arg(&scratch.dir)
            .arg("--holder-key-file")
            .arg(&key)
            .args(["import", "--by", "bench", "--batch"])
            .arg(args.batch.to_string())
            .arg(&csv)
            .env("HUTONG_LOG", "warn")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("cannot run hutong import")?;
        let import_s = t0.elapsed().as_secs_f64();
        anyhow::ensure!(
            out.status.success(),
            "hutong import failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let stored = stored_rows(&rt, &db)?;
        anyhow::ensure!(
            stored == certs.len() as u64,
            "hutong import stored {stored} of {} rows: the benchmark needs every row valid",
            certs.len()
        );

        // The bare loop, on the same rows.
        let bare_db = scratch.file(&format!("bare-{run}.db"));
        let store = SqliteStore::open(&bare_db).map_err(|e| anyhow::anyhow!("{e}"))?;
        // The page cache the import's bulk load uses, so that the two differ only in what the
        // import does per row.
        rt.block_on(store.begin_bulk_load())?;
        let t0 = Instant::now();
        store
            .bare_insert_loop(&certs, "bench", args.batch as usize)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let bare_s = t0.elapsed().as_secs_f64();
        drop(store);
        anyhow::ensure!(stored_rows(&rt, &bare_db)? == certs.len() as u64);

        let (i, b) = (certs.len() as f64 / import_s, certs.len() as f64 / bare_s);
        println!(
            "run {run}       import {i:>9.0} rows/s ({import_s:.2} s)   baseline {b:>9.0} rows/s ({bare_s:.2} s)   import at {:.0}% of baseline",
            100.0 * i / b
        );
        imports.push(i);
        bares.push(b);
        ratios.push(i / b);
        for p in [&db, &bare_db] {
            let _ = std::fs::remove_file(p);
        }
    }
    println!(
        "median      import {:.0} rows/s, baseline {:.0} rows/s; median of the in-run ratios: import at {:.0}% of baseline ({} rows, {} runs)",
        median(imports),
        median(bares),
        100.0 * median(ratios),
        certs.len(),
        args.runs
    );
    Ok(ExitCode::SUCCESS)
}

fn stored_rows(rt: &tokio::runtime::Runtime, db: &Path) -> anyhow::Result<u64> {
    rt.block_on(async {
        let store = SqliteStore::open(db).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(store.stats().await?.certificates)
    })
}
