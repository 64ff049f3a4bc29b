//! What commands share: the policy, the store chosen by URL, and the holder secret.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rand::RngCore;

use hutong_core::{HolderSecret, Policy};
use hutong_store::{DatabaseUrl, Store, StoreError};
use hutong_store_postgres::{PgOptions, PgStore};
use hutong_store_sqlite::SqliteStore;

use crate::config::Config;
use crate::exit::invalid;

pub struct Context {
    pub config: Config,
    pub policy: Arc<Policy>,
    pub store: Arc<dyn Store>,
    pub secret: HolderSecret,
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Loads and validates the policy folder; every problem is printed, and the exit code is 3.
pub fn load_policy(dir: &Path) -> anyhow::Result<Arc<Policy>> {
    match Policy::load_dir(dir) {
        Ok(p) => Ok(Arc::new(p)),
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{e}");
            }
            Err(invalid(format!(
                "the policy in {} has {} problem(s); nothing was started",
                dir.display(),
                errs.0.len()
            )))
        }
    }
}

/// Where a command's reads go when a read database is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Query traffic: reads go to the read database (a replica), writes to the primary.
    Replica,
    /// Batch writes whose checks read what they are about to write on (issuer rights, stored
    /// states): everything goes to the primary, so a replica's lag cannot reject a good row.
    Primary,
}

/// Opens the store the configuration names. The default database's folder is created; a
/// database named explicitly must be in a folder that exists.
pub async fn open_store(config: &Config, reads: Reads) -> anyhow::Result<Arc<dyn Store>> {
    if config.database_is_default && !config.data_dir.exists() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    }
    let url =
        DatabaseUrl::parse(&config.database).map_err(|e| invalid(format!("--database: {e}")))?;
    match url {
        DatabaseUrl::Sqlite(path) => {
            if config.read_database.is_some() {
                return Err(invalid(
                    "--read-database needs a postgres:// --database: a SQLite file serves its own reads"
                        .to_string(),
                ));
            }
            let store = SqliteStore::open(&path).map_err(store_error)?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => {
            let read = match &config.read_database {
                None => None,
                Some(_) if reads == Reads::Primary => {
                    tracing::debug!(
                        "this command reads and writes the primary; --read-database is for query traffic"
                    );
                    None
                }
                Some(r) => match DatabaseUrl::parse(r)
                    .map_err(|e| invalid(format!("--read-database: {e}")))?
                {
                    DatabaseUrl::Postgres(r) => Some(r),
                    DatabaseUrl::Sqlite(_) => {
                        return Err(invalid(
                            "--read-database must be a postgres:// URL (a replica of --database)"
                                .to_string(),
                        ));
                    }
                },
            };
            let store = PgStore::connect_with(&url, read.as_deref(), PgOptions::default())
                .await
                .map_err(store_error)?;
            if read.is_some() {
                tracing::info!(
                    "PostgreSQL: writes to {}, queries from {}",
                    store.primary_description(),
                    store.read_description()
                );
            }
            Ok(Arc::new(store))
        }
    }
}

/// A database URL fit for a message: the password, if any, is replaced by `***`.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail: Vec<String> = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => p.to_string(),
                })
                .collect();
            vec![path.to_string(), q.join("&")]
        }
        None => vec![tail.to_string()],
    };
    format!("{scheme}://{authority}{}", tail.join("?"))
}

fn store_error(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Config(m) | StoreError::Incompatible(m) => invalid(m),
        other => other.into(),
    }
}

/// Reads the holder secret, or creates one when none is configured and the key file is absent.
/// Returns whether it was created.
pub fn holder_secret(config: &Config) -> anyhow::Result<(HolderSecret, bool)> {
    if let Some(hex) = &config.holder_key {
        return Ok((
            HolderSecret::from_hex(hex).map_err(|e| invalid(format!("HUTONG_HOLDER_KEY: {e}")))?,
            false,
        ));
    }
    let path = &config.holder_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((
            HolderSecret::from_hex(&text)
                .map_err(|e| invalid(format!("{}: {e}", path.display())))?,
            false,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let secret = HolderSecret::from_bytes(bytes);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(path)
                .with_context(|| format!("cannot create the holder key file {}", path.display()))?;
            writeln!(f, "{}", secret.to_hex())?;
            f.sync_all()?;
            tracing::info!(
                "created a new holder key in {} (fingerprint {}); keep it with the database",
                path.display(),
                secret.fingerprint()
            );
            Ok((secret, true))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot read the holder key file {}",
            path.display()
        ))),
    }
}

/// Opens everything a data command needs, and checks that the secret fits the database.
pub async fn open(config: Config, reads: Reads) -> anyhow::Result<Context> {
    let policy = load_policy(&config.policy)?;
    let store = open_store(&config, reads).await?;
    let (secret, created) = holder_secret(&config)?;
    if let Err(e) = store.bind_holder_secret(&secret.fingerprint()).await {
        if created {
            let _ = std::fs::remove_file(&config.holder_key_file);
        }
        return Err(store_error(e));
    }
    Ok(Context {
        config,
        policy,
        store,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            shown_url("postgres://hutong:s3cret@db:5432/registry"),
            "postgres://hutong:***@db:5432/registry"
        );
        assert_eq!(
            shown_url("postgres://db/registry?user=u&password=s3cret&x=1"),
            "postgres://db/registry?user=u&password=***&x=1"
        );
        assert_eq!(
            shown_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            shown_url("sqlite://data/hutong.db"),
            "sqlite://data/hutong.db"
        );
    }
}
