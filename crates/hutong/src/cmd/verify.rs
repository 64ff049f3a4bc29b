//! `hutong verify FILE...`: verifies certificate credentials offline, with the public keys file
//! and optionally status lists and log proofs. Each check is printed on its own; exit 0 when
//! every credential passes, 2 when any check fails. Many files are verified in parallel, their
//! signatures in Ed25519 batches; status lists and log proofs are checked once for all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args as ClapArgs;
use serde_json::Value;

use hutong_credential::barcode;
use hutong_credential::keyring::{Keyring, Report, verify_many_with};
use hutong_credential::logproof::{LogProof, LogProofs, LogTrust};

use crate::exit::invalid;

#[derive(ClapArgs)]
pub struct Args {
    /// Credential files: JSON, or the text of a printed certificate's QR code (`HTVC1:…`).
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
    /// Log proofs of the credentials' journal entries (`hutong credential --log-proof`, or
    /// `GET /api/v1/log/inclusion?seq=…`), repeatable: each credential is matched to the proof
    /// of the entry it names. Needs --log-key. Without it, log inclusion is not checked.
    #[arg(long = "log-proof", value_name = "FILE", requires = "log_key")]
    pub log_proofs: Vec<PathBuf>,
    /// The transparency log's verifier key, `<origin>+<key id>+<key>` (as `hutong serve` logs
    /// it): the checkpoints must be signed by it.
    #[arg(long = "log-key", value_name = "VKEY", requires = "log_proofs")]
    pub log_key: Option<String>,
    /// A witness's verifier key (`hutong witness init` prints it), repeatable: the checkpoints
    /// must carry its cosignature (see --witnesses-needed).
    #[arg(long = "witness", value_name = "VKEY", requires = "log_proofs")]
    pub witnesses: Vec<String>,
    /// How many of the witnesses given must have cosigned a checkpoint; all of them when absent.
    #[arg(long = "witnesses-needed", value_name = "N", requires = "witnesses")]
    pub witnesses_needed: Option<usize>,
    /// Print one JSON object per credential instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Credentials verified together: one Ed25519 batch each.
const BATCH: usize = 256;

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
    let log = match &args.log_key {
        None => None,
        Some(vkey) => {
            let trust = LogTrust::from_vkeys(vkey, &args.witnesses, args.witnesses_needed)
                .map_err(|e| invalid(format!("--log-key, --witness: {e}")))?;
            let proofs = args
                .log_proofs
                .iter()
                .map(|p| {
                    LogProof::from_value(&read_json(p, "the log proof")?)
                        .map_err(|e| invalid(format!("the log proof {}: {e}", p.display())))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Some(LogProofs::check(&trust, &proofs))
        }
    };
    let now = chrono::Utc::now();
    let reports = verify_files(&args.files, &keyring, &lists, log.as_ref(), now);
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

/// Verifies files on every core, in the order given, in signature batches of [`BATCH`].
pub fn verify_files(
    files: &[PathBuf],
    keyring: &Keyring,
    lists: &[Value],
    log: Option<&LogProofs>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Result<Report, String>> {
    let read = |p: &PathBuf| -> Result<Value, String> {
        let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
        // A printed certificate's QR code, as a scanner saved it.
        if barcode::looks_like_barcode(text.as_bytes()) {
            return barcode::decode(&text).map_err(|e| format!("not a hutong QR code: {e}"));
        }
        serde_json::from_str(&text)
            .map_err(|e| format!("not JSON: {e} (line {}, column {})", e.line(), e.column()))
    };
    let batch = |paths: &[PathBuf]| -> Vec<Result<Report, String>> {
        let mut out: Vec<Result<Report, String>> = Vec::with_capacity(paths.len());
        let (mut slots, mut values) = (Vec::new(), Vec::new());
        for (i, p) in paths.iter().enumerate() {
            match read(p) {
                Ok(v) => {
                    slots.push(i);
                    values.push(v);
                    out.push(Err(String::new()));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        for (i, r) in slots
            .into_iter()
            .zip(verify_many_with(&values, keyring, lists, log, now))
        {
            out[i] = Ok(r);
        }
        out
    };
    let part = |paths: &[PathBuf]| paths.chunks(BATCH).flat_map(batch).collect::<Vec<_>>();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if files.len() < 2 || threads < 2 {
        return part(files);
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|c| s.spawn(move || part(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
