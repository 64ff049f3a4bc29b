//! The transparency log's key and witnesses, for `serve` and `audit`; key files for
//! `hutong witness`. The key files hold C2SP signed-note signer keys in Go's format
//! (`PRIVATE+KEY+<name>+<key id>+<key>`), readable by their owner only, and are never logged.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ed25519_dalek::SigningKey;

use hutong_log::{CosignatureVerifier, NoteSigner};

use crate::config::{Config, check_log_origin};
use crate::exit::invalid;

/// The log key: read from its file, or to be made once the command has opened everything else.
pub enum LogKey {
    Ready(Box<NoteSigner>),
    Create { path: PathBuf, origin: String },
}

/// Reads the log key, or checks that it can be made (its folder exists, or is the default place,
/// which opening the store checks, and makes when it is the default data folder). The key's name is the log's origin: a configured
/// `log_origin` must be it.
pub fn plan_key(config: &Config) -> anyhow::Result<LogKey> {
    let path = &config.log_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let signer = NoteSigner::from_skey(text.trim())
                .map_err(|e| invalid(format!("{}: not a log key ({e})", path.display())))?;
            if let Some(o) = &config.log_origin
                && o != signer.name()
            {
                return Err(invalid(format!(
                    "the log key in {} is for origin \"{}\", but log_origin is \"{o}\": a log's \
                     origin never changes; remove log_origin, or name the key made for it",
                    path.display(),
                    signer.name()
                )));
            }
            Ok(LogKey::Ready(Box::new(signer)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            // The default place is the folder of the database's files, which opening the store
            // checks (and names as configured) before anything is made.
            let default_place = folder == config.files_dir;
            if !folder.is_dir() && !default_place {
                return Err(invalid(format!(
                    "cannot make the log key file {}: the folder {} does not exist",
                    path.display(),
                    folder.display()
                )));
            }
            let origin = config
                .log_origin
                .clone()
                .unwrap_or_else(|| config.default_log_origin());
            check_log_origin(&origin).map_err(|e| {
                invalid(format!(
                    "the log origin made from public_url: {e}; set log_origin"
                ))
            })?;
            Ok(LogKey::Create {
                path: path.clone(),
                origin,
            })
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("cannot read the log key file {}", path.display()))),
    }
}

/// The key, made now if it was planned so.
pub fn make_key(key: LogKey) -> anyhow::Result<NoteSigner> {
    match key {
        LogKey::Ready(s) => Ok(*s),
        LogKey::Create { path, origin } => {
            let signer = NoteSigner::new(&origin, SigningKey::generate(&mut rand::rngs::OsRng))
                .map_err(|e| invalid(format!("log origin \"{origin}\": {e}")))?;
            write_secret(&path, &signer.to_skey())?;
            tracing::info!(
                "created a new log key in {} for origin {origin} (verifier key {}); keep it with the database",
                path.display(),
                signer.verifier().to_vkey()
            );
            Ok(signer)
        }
    }
}

/// The configured witnesses' verifier keys.
pub fn witnesses(config: &Config) -> anyhow::Result<Vec<CosignatureVerifier>> {
    config
        .log_witnesses
        .iter()
        .map(|v| {
            CosignatureVerifier::from_vkey(v).map_err(|e| {
                invalid(format!(
                    "log_witnesses: \"{}\" is not a witness verifier key ({e})",
                    v.chars().take(80).collect::<String>()
                ))
            })
        })
        .collect()
}

/// Writes a new secret file, readable by its owner only; an existing file is never replaced.
pub fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    writeln!(f, "{text}")
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))
}
