//! `hutong witness`: a witness of a hutong transparency log (C2SP `tlog-witness` in spirit,
//! pulling instead of being pushed). Each department runs one. `init` makes its key; `cosign`
//! fetches the log's checkpoint, verifies the log's signature, proves with a consistency proof
//! that the new tree extends the one the witness last cosigned (kept in its state file), and
//! only then cosigns (C2SP `tlog-cosignature`), prints the cosigned checkpoint, posts it to the
//! log and keeps it as its new state. A log that shows this witness a history that does not
//! extend the one it saw before (a rewritten history, or a split view: another history shown
//! to others) is refused, exit code 2, and the state is left as it was.
//!
//! Transport: plain HTTP. The witness trusts nothing it fetches: the checkpoint is checked
//! with the log's key and the proof against the roots, so a network in the middle can deny
//! service but not make the witness cosign a forked history.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args as ClapArgs, Subcommand};
use ed25519_dalek::SigningKey;

use hutong_log::{Checkpoint, Cosigner, Ed25519NoteVerifier, SignedNote, verify_consistency};

use crate::config::GlobalArgs;
use crate::context::runtime;
use crate::exit::{failed, invalid};
use crate::http::Client;

#[derive(Subcommand)]
pub enum Command {
    /// Make a witness key in a new file (readable by its owner only) and print its verifier
    /// key, for the log's `log_witnesses` and for verifiers.
    Init(InitArgs),
    /// Check the log's latest checkpoint against the one this witness last cosigned and, if it
    /// is consistent, cosign it.
    Cosign(CosignArgs),
}

#[derive(ClapArgs)]
pub struct InitArgs {
    /// The witness's name, a schema-less URL such as `witness.mem.example.cn`.
    #[arg(long)]
    pub name: String,
    /// The key file to make; an existing file is never replaced.
    #[arg(long, value_name = "FILE")]
    pub key_file: PathBuf,
}

#[derive(ClapArgs)]
pub struct CosignArgs {
    /// The log's address, such as `http://registry.example:8080` (its checkpoint is at
    /// `<URL>/log/checkpoint`).
    #[arg(long, value_name = "URL")]
    pub log: String,
    /// The log's verifier key (`<origin>+<key id>+<key>`), as `hutong serve` logs it.
    #[arg(long, value_name = "VKEY")]
    pub log_vkey: String,
    /// The witness key file made by `hutong witness init`.
    #[arg(long, value_name = "FILE")]
    pub key_file: PathBuf,
    /// The witness's state: the checkpoint it last cosigned. Made on the first run.
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// Print the cosigned checkpoint without posting it to the log.
    #[arg(long)]
    pub no_post: bool,
}

pub fn run(_global: &GlobalArgs, c: Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::Init(a) => init(a),
        Command::Cosign(a) => {
            crate::config::init_logging("warn");
            runtime()?.block_on(cosign(a))
        }
    }
}

fn init(a: InitArgs) -> anyhow::Result<ExitCode> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let w =
        Cosigner::new(&a.name, key).map_err(|e| invalid(format!("--name \"{}\": {e}", a.name)))?;
    if a.key_file.exists() {
        return Err(invalid(format!(
            "{} exists; a witness key is never replaced",
            a.key_file.display()
        )));
    }
    crate::tlog::write_secret(&a.key_file, &w.to_skey())?;
    println!("{}", w.verifier().to_vkey());
    Ok(ExitCode::SUCCESS)
}

fn read_key(path: &Path) -> anyhow::Result<Cosigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the witness key file {}", path.display()))?;
    Cosigner::from_skey(text.trim())
        .map_err(|e| invalid(format!("{}: not a witness key ({e})", path.display())))
}

/// What a witness decides about a new checkpoint, given the one it cosigned before.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The first checkpoint this witness sees, or the same tree again: nothing to prove.
    NothingToProve,
    /// A larger tree: a consistency proof from the old size to the new one is needed.
    NeedsProof { from: u64, to: u64 },
}

/// Compares a new checkpoint with the last one cosigned: a smaller tree, or another root for the
/// same size, is refused here; a larger tree needs a proof.
pub fn judge(old: Option<&Checkpoint>, new: &Checkpoint) -> Result<Verdict, String> {
    let Some(old) = old else {
        return Ok(Verdict::NothingToProve);
    };
    if new.size < old.size {
        return Err(format!(
            "the log shows a tree of {} leaves, smaller than the {} leaves this witness already \
             cosigned: the log rolled its history back; not cosigned",
            new.size, old.size
        ));
    }
    if new.size == old.size {
        if new.root != old.root {
            return Err(format!(
                "the log shows a tree of {} leaves with another root than the one this witness \
                 cosigned ({} before, {} now): two histories of one log, a split view; not cosigned",
                new.size,
                B64.encode(old.root),
                B64.encode(new.root)
            ));
        }
        return Ok(Verdict::NothingToProve);
    }
    if old.size == 0 {
        return Ok(Verdict::NothingToProve);
    }
    Ok(Verdict::NeedsProof {
        from: old.size,
        to: new.size,
    })
}

/// Checks a consistency proof (base64 hashes) between the two checkpoints.
pub fn check_proof(old: &Checkpoint, new: &Checkpoint, proof: &[String]) -> Result<(), String> {
    let hashes = proof
        .iter()
        .map(|h| B64.decode(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "the consistency proof is not base64".to_string())?;
    verify_consistency(old.size, new.size, &hashes, &old.root, &new.root).map_err(|e| {
        format!(
            "the log's tree of {} leaves does not extend the tree of {} leaves this witness \
             cosigned ({e}): its history was changed, or it shows another history to others \
             (a split view); not cosigned",
            new.size, old.size
        )
    })
}

async fn cosign(a: CosignArgs) -> anyhow::Result<ExitCode> {
    let witness = read_key(&a.key_file)?;
    let log_key = Ed25519NoteVerifier::from_vkey(a.log_vkey.trim())
        .map_err(|e| invalid(format!("--log-vkey: {e}")))?;
    let origin = log_key.name().to_string();
    let base = a.log.trim().trim_end_matches('/').to_string();
    if !base.starts_with("http://") {
        return Err(invalid(format!(
            "--log {base}: only http:// addresses are fetched (put a TLS-terminating proxy in front \
             of a witness that must reach an https:// log); the witness trusts nothing it fetches \
             either way"
        )));
    }
    let client = Client::new(1 << 20);
    // The state: the checkpoint last cosigned, checked again with the log's key.
    let old = match std::fs::read_to_string(&a.state) {
        Ok(text) => Some(
            Checkpoint::open(&text, &origin, &log_key)
                .map_err(|e| {
                    invalid(format!(
                        "{}: not a checkpoint of log {origin} signed by its key ({e})",
                        a.state.display()
                    ))
                })?
                .0,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot read the state file {}", a.state.display())));
        }
    };
    let text = client.get(&format!("{base}/log/checkpoint")).await?;
    let (new, note) = Checkpoint::open(&text, &origin, &log_key).map_err(|e| {
        failed(format!(
            "the checkpoint at {base}/log/checkpoint is not one of log {origin} signed by its key: {e}"
        ))
    })?;
    match judge(old.as_ref(), &new).map_err(failed)? {
        Verdict::NothingToProve => {}
        Verdict::NeedsProof { from, to } => {
            // A log that cannot prove consistency answers 404 with the reason: read below.
            let body = client
                .get_accepting(
                    &format!("{base}/api/v1/log/consistency?from={from}&to={to}"),
                    |status| status == hyper::StatusCode::NOT_FOUND,
                )
                .await?;
            let v: serde_json::Value = serde_json::from_str(&body)
                .map_err(|_| failed("the log's consistency proof is not JSON"))?;
            let proof: Vec<String> = v["proof"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|h| h.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .ok_or_else(|| {
                    failed(format!(
                        "the log gave no consistency proof from {from} to {to}: {}",
                        v["detail"].as_str().unwrap_or("no detail")
                    ))
                })?;
            let old = old
                .as_ref()
                .expect("a proof is asked only after a checkpoint");
            check_proof(old, &new, &proof).map_err(failed)?;
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let line = witness
        .cosign(&note, now)
        .map_err(|e| failed(format!("cannot cosign: {e}")))?;
    let mut cosigned = note.clone();
    cosigned
        .add_signature(line)
        .map_err(|e| failed(format!("cannot cosign: {e}")))?;
    // The new state, written whole before it replaces the old one.
    let log_only = SignedNote::parse(&text).map_err(|e| failed(e.to_string()))?;
    save_state(&a.state, &log_only.to_string())?;
    print!("{cosigned}");
    if !a.no_post {
        client
            .post(&format!("{base}/log/cosignature"), cosigned.to_string())
            .await
            .context("the checkpoint was cosigned and the state kept, but the log did not take the cosignature")?;
    }
    eprintln!(
        "cosigned the checkpoint of {} leaves of {origin}{}",
        new.size,
        match &old {
            Some(o) if o.size < new.size =>
                format!(", consistent with the {} leaves cosigned before", o.size),
            Some(_) => ", the same tree as before".to_string(),
            None => " (the first this witness sees)".to_string(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn save_state(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write the state file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hutong_log::{MemoryLog, consistency_proof};

    fn log(leaves: &[&[u8]]) -> MemoryLog {
        let mut l = MemoryLog::new();
        for x in leaves {
            l.append(x);
        }
        l
    }

    fn cp(l: &MemoryLog) -> Checkpoint {
        Checkpoint::new("h.example/log", l.leaf_hashes().len() as u64, l.root()).unwrap()
    }

    fn proof(l: &MemoryLog, from: u64) -> Vec<String> {
        consistency_proof(l, from, l.leaf_hashes().len() as u64)
            .unwrap()
            .iter()
            .map(|h| B64.encode(h))
            .collect()
    }

    #[test]
    fn a_witness_accepts_a_grown_tree_and_refuses_another_history() {
        let a3 = log(&[b"a", b"b", b"c"]);
        let a5 = log(&[b"a", b"b", b"c", b"d", b"e"]);
        // The same size with a changed entry, and a longer history that rewrote entry 2.
        let b3 = log(&[b"a", b"B", b"c"]);
        let b5 = log(&[b"a", b"B", b"c", b"d", b"e"]);
        assert_eq!(judge(None, &cp(&a3)), Ok(Verdict::NothingToProve));
        assert_eq!(judge(Some(&cp(&a3)), &cp(&a3)), Ok(Verdict::NothingToProve));
        assert_eq!(
            judge(Some(&cp(&a3)), &cp(&a5)),
            Ok(Verdict::NeedsProof { from: 3, to: 5 })
        );
        check_proof(&cp(&a3), &cp(&a5), &proof(&a5, 3)).unwrap();
        let e = judge(Some(&cp(&a3)), &cp(&b3)).unwrap_err();
        assert!(e.contains("split view"), "{e}");
        let e = judge(Some(&cp(&a5)), &cp(&a3)).unwrap_err();
        assert!(e.contains("rolled its history back"), "{e}");
        // The forked log's own proof does not tie it to what the witness saw.
        let e = check_proof(&cp(&a3), &cp(&b5), &proof(&b5, 3)).unwrap_err();
        assert!(e.contains("does not extend"), "{e}");
        assert!(check_proof(&cp(&a3), &cp(&a5), &["!".into()]).is_err());
    }
}
