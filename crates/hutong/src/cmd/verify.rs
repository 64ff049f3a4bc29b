//! `hutong verify FILE...`: verifies certificate credentials offline, with the public keys file
//! and optionally status lists. Each check is printed on its own; exit 0 when every credential
//! passes, 2 when any check fails. Many files are verified in parallel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args as ClapArgs;
use serde_json::Value;

use hutong_credential::keyring::{Keyring, Report, verify_certificate_credential};

use crate::exit::invalid;

#[derive(ClapArgs)]
pub struct Args {
    /// Credential files (JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The registry's public keys file (`hutong keys export`, `GET /api/v1/keys`).
    #[arg(long, value_name = "FILE")]
    pub keys: PathBuf,
    /// The registry key (`did:key:z6Mk…`) the keys file must be signed by. Without it the file
    /// is only checked to be signed by the key it names.
    #[arg(long, value_name = "DID")]
    pub registry: Option<String>,
    /// Status list credentials to check status entries against (repeatable).
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_lists: Vec<PathBuf>,
    /// Print one JSON object per credential instead of text.
    #[arg(long)]
    pub json: bool,
}

fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("{what} {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "{what} {}: not JSON: {e} (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let keys = read_json(&args.keys, "the keys file")?;
    let keyring = Keyring::open(&keys, args.registry.as_deref())
        .map_err(|e| invalid(format!("the keys file {}: {e}", args.keys.display())))?;
    let lists = args
        .status_lists
        .iter()
        .map(|p| read_json(p, "the status list"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let now = chrono::Utc::now();
    let reports = verify_files(&args.files, &keyring, &lists, now);
    let mut all_ok = true;
    for (path, r) in args.files.iter().zip(&reports) {
        match r {
            Err(e) => {
                all_ok = false;
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": path.display().to_string(), "verified": false, "error": e})
                    );
                } else {
                    println!("{}: not verified: {e}", path.display());
                }
            }
            Ok(r) => {
                all_ok &= r.verified();
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": path.display().to_string(), "verified": r.verified(), "checks": r.checks})
                    );
                } else {
                    println!(
                        "{}: {}",
                        path.display(),
                        if r.verified() {
                            "verified"
                        } else {
                            "NOT VERIFIED"
                        }
                    );
                    for c in &r.checks {
                        // A detail can quote the file: masked like every output.
                        let detail = hutong_core::number::mask_id_numbers(&c.detail);
                        println!("  {:<9} {:<7} {detail}", c.check, c.outcome);
                    }
                }
            }
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Verifies files on every core, in the order given.
pub fn verify_files(
    files: &[PathBuf],
    keyring: &Keyring,
    lists: &[Value],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Result<Report, String>> {
    let one = |p: &PathBuf| -> Result<Report, String> {
        let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("not JSON: {e} (line {}, column {})", e.line(), e.column()))?;
        Ok(verify_certificate_credential(&v, keyring, lists, now))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if files.len() < 2 || threads < 2 {
        return files.iter().map(one).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
