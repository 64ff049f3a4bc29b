//! `hutong keys create|rotate|retire|revoke|list|export`: issuers' signing keys, locally.
//! Private keys go to files in `keys_dir` (mode 0600); their public records and every change to
//! them go through the journal (docs/credentials.md).

use std::process::ExitCode;

use clap::Subcommand;

use hutong_core::journal::{instant_rfc3339, now_micros};
use hutong_core::keys::KeyChange;
use hutong_server::credentials::Signer;
use hutong_store::KeyWrite;

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(Subcommand)]
pub enum Command {
    /// Create a signing key for an issuer, valid from now (its keys in force stay in force).
    Create {
        #[arg(long, value_name = "ISSUER")]
        issuer: String,
    },
    /// Create a new key for an issuer and retire its keys in force at the same instant.
    /// Credentials signed before stay valid.
    Rotate {
        #[arg(long, value_name = "ISSUER")]
        issuer: String,
    },
    /// Retire a key now: it signs nothing more; what it signed stays valid.
    Retire { id: String },
    /// Revoke a key from an instant (now by default; earlier when it was compromised
    /// earlier): every signature dated from then on is invalid.
    Revoke {
        id: String,
        /// Why (no personal data): shown to verifiers.
        #[arg(long)]
        reason: String,
        /// RFC 3339 instant or a day (`2026-11-01`, midnight in China) from which its
        /// signatures are invalid.
        #[arg(long, value_name = "WHEN")]
        from: Option<String>,
    },
    /// List keys: id, issuer, state, validity.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Write the public keys file, signed by the registry key, for offline verifiers.
    Export {
        /// The file to write; standard output when absent.
        #[arg(short, long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// Also write each issuer's DID document (`<issuer>.did.json`, as `/issuers/<id>/did.json`
        /// serves it) into this existing folder, for verifiers that resolve did:web from files.
        #[arg(long, value_name = "DIR")]
        did_documents: Option<std::path::PathBuf>,
    },
}

/// An instant given as RFC 3339 or as a day in China.
fn parse_instant(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(d) = s.parse::<hutong_core::Day>() {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok((midnight - chrono::Duration::hours(8))
            .and_utc()
            .timestamp_micros());
    }
    Err(invalid(format!(
        "--from: \"{s}\" is neither an RFC 3339 instant (2026-11-01T08:00:00Z) nor a day (2026-11-01)"
    )))
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let from = match &cmd {
        Command::Revoke { from: Some(f), .. } => Some(parse_instant(f)?),
        _ => None,
    };
    runtime()?.block_on(async move {
        let signer = Signer::new(config.keys_dir.clone(), config.public_url.as_deref());
        let ctx = context::open(config, context::Reads::Primary).await?;
        let me = context::local_actor();
        let store = ctx.store.as_ref();
        match cmd {
            Command::Create { issuer } => create(&signer, store, &issuer, false, &me).await?,
            Command::Rotate { issuer } => create(&signer, store, &issuer, true, &me).await?,
            Command::Retire { id } => {
                let key = find(store, &id).await?;
                let now = now_micros();
                let (change, after) =
                    KeyChange::retire(&key, now).map_err(|e| invalid(e.to_string()))?;
                put_one(store, key, change, after, &me, now).await?;
                println!("retired {} at {}", id.trim(), instant_rfc3339(now));
            }
            Command::Revoke { id, reason, .. } => {
                let key = find(store, &id).await?;
                let now = now_micros();
                let at = from.unwrap_or(now);
                let (change, after) =
                    KeyChange::revoke(&key, at, &reason).map_err(|e| invalid(e.to_string()))?;
                put_one(store, key, change, after, &me, now).await?;
                println!(
                    "revoked {}: signatures from {} on are invalid",
                    id.trim(),
                    instant_rfc3339(at)
                );
            }
            Command::List { json } => {
                let now = now_micros();
                for k in store.keys().await? {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "id": k.id,
                                "issuer": k.issuer,
                                "state": k.state_at(now),
                                "valid_from": instant_rfc3339(k.valid_from_micros),
                                "retired_at": k.retired_micros.map(instant_rfc3339),
                                "revoked_from": k.revoked_micros.map(instant_rfc3339),
                                "public_key_multibase": k.public_key_multibase,
                            })
                        );
                    } else {
                        println!(
                            "{}  {:<28}  {:<8}  from {}",
                            k.id,
                            k.issuer,
                            k.state_at(now),
                            &instant_rfc3339(k.valid_from_micros)[..19]
                        );
                    }
                }
            }
            Command::Export {
                output,
                did_documents,
            } => {
                let file = signer.keyring(store).await?;
                if let Some(dir) = &did_documents {
                    if !dir.is_dir() {
                        return Err(invalid(format!(
                            "--did-documents: {} is not a folder",
                            dir.display()
                        )));
                    }
                    let keys = store.keys().await?;
                    let issuers: std::collections::BTreeSet<&str> =
                        keys.iter().map(|k| k.issuer.as_str()).collect();
                    for i in issuers {
                        let doc = hutong_credential::keyring::did_document(signer.host(), i, &keys);
                        let path = dir.join(format!("{i}.did.json"));
                        std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
                            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                    }
                }
                let registry = file["registry"].as_str().unwrap_or_default().to_string();
                let text = serde_json::to_string_pretty(&file)? + "\n";
                match output {
                    Some(path) => {
                        std::fs::write(&path, text)
                            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                        eprintln!(
                            "wrote {}; verifiers pin the registry key {registry}",
                            path.display()
                        );
                    }
                    None => {
                        print!("{text}");
                        eprintln!("verifiers pin the registry key {registry}");
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Stores one change to a stored key, with its journal entry.
async fn put_one(
    store: &dyn hutong_store::Store,
    before: hutong_core::keys::KeyRecord,
    change: KeyChange,
    after: hutong_core::keys::KeyRecord,
    me: &str,
    now: i64,
) -> anyhow::Result<()> {
    store
        .put_keys(
            &[KeyWrite {
                before: Some(before),
                after,
                change: change.to_json(),
            }],
            me,
            now,
        )
        .await?;
    Ok(())
}

async fn find(
    store: &dyn hutong_store::Store,
    id: &str,
) -> anyhow::Result<hutong_core::keys::KeyRecord> {
    let id = id.trim();
    store
        .keys()
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| invalid(format!("no key {id}; `hutong keys list` shows them")))
}

async fn create(
    signer: &Signer,
    store: &dyn hutong_store::Store,
    issuer: &str,
    rotate: bool,
    me: &str,
) -> anyhow::Result<()> {
    let issuer = issuer.trim();
    let Some(record) = store.issuer(issuer).await? else {
        return Err(invalid(format!(
            "--issuer: no issuer {issuer}; `hutong issuers list` shows them"
        )));
    };
    let key = signer.create_key(store, &record, rotate, me).await?;
    println!(
        "{} {} for {issuer}, valid from {}; private key in {}",
        if rotate { "rotated to" } else { "created" },
        key.id,
        instant_rfc3339(key.valid_from_micros),
        signer.dir().join(format!("{}.key", key.id)).display()
    );
    Ok(())
}
