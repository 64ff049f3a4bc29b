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

/// The database a command opens, checked before anything is made.
enum Target {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, read: Option<String> },
}

/// The holder secret: ready (given, or read from its file), or to be made into a new file.
enum Key {
    Ready(HolderSecret),
    Create(std::path::PathBuf),
}

/// What a data command needs, checked without making anything: the folders it names exist, the
/// database URL is valid, the holder key can be read or made.
struct Plan {
    /// The default data folder, when it has to be made.
    create_data_dir: Option<std::path::PathBuf>,
    target: Target,
    key: Key,
}

fn plan(config: &Config, reads: Reads) -> anyhow::Result<Plan> {
    let data_dir = &config.data_dir;
    // The data folder holds the default database, and for PostgreSQL the default key and the
    // demo samples; a folder that was named must exist, only the default one is made.
    let data_dir_used = config.database_is_default || config.files_dir == *data_dir;
    let mut create_data_dir = None;
    if data_dir_used && !data_dir.is_dir() {
        if data_dir.exists() {
            return Err(invalid(format!(
                "the data folder {} is not a folder",
                data_dir.display()
            )));
        }
        match &config.data_dir_source {
            Some(source) => {
                return Err(invalid(format!(
                    "the data folder {} does not exist (named by {source}); create it, or correct \
                     the name: hutong makes only the default folder, ./data, by itself",
                    data_dir.display()
                )));
            }
            None => create_data_dir = Some(data_dir.clone()),
        }
    }
    let target = if config.database_is_default {
        let path = data_dir.join("hutong.db");
        if path.is_dir() {
            return Err(invalid(format!(
                "{} is a folder, not a database file",
                path.display()
            )));
        }
        Target::Sqlite(path)
    } else {
        match DatabaseUrl::parse(&config.database)
            .map_err(|e| invalid(format!("--database: {e}")))?
        {
            DatabaseUrl::Sqlite(path) => Target::Sqlite(path),
            DatabaseUrl::Postgres(url) => Target::Postgres { url, read: None },
        }
    };
    let target = match (target, &config.read_database) {
        (t, None) => t,
        (Target::Sqlite(_), Some(_)) => {
            return Err(invalid(
                "--read-database needs a postgres:// --database: a SQLite file serves its own reads"
                    .to_string(),
            ));
        }
        (Target::Postgres { url, .. }, Some(r)) => {
            let read = match DatabaseUrl::parse(r)
                .map_err(|e| invalid(format!("--read-database: {e}")))?
            {
                DatabaseUrl::Postgres(r) => r,
                DatabaseUrl::Sqlite(_) => {
                    return Err(invalid(
                        "--read-database must be a postgres:// URL (a replica of --database)"
                            .to_string(),
                    ));
                }
            };
            if reads == Reads::Primary {
                tracing::debug!(
                    "this command reads and writes the primary; --read-database is for query traffic"
                );
                Target::Postgres { url, read: None }
            } else {
                Target::Postgres {
                    url,
                    read: Some(read),
                }
            }
        }
    };
    let key = holder_key(config, create_data_dir.as_deref())?;
    Ok(Plan {
        create_data_dir,
        target,
        key,
    })
}

/// Reads the holder secret, or checks that its file can be made: its folder exists, or is the
/// default data folder that is about to be made.
fn holder_key(config: &Config, data_dir_to_make: Option<&Path>) -> anyhow::Result<Key> {
    if let Some(hex) = &config.holder_key {
        return Ok(Key::Ready(
            HolderSecret::from_hex(hex).map_err(|e| invalid(format!("HUTONG_HOLDER_KEY: {e}")))?,
        ));
    }
    let path = &config.holder_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            Ok(Key::Ready(HolderSecret::from_hex(&text).map_err(|e| {
                invalid(format!("{}: {e}", path.display()))
            })?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if !folder.is_dir() && data_dir_to_make != Some(folder) {
                return Err(invalid(format!(
                    "cannot make the holder key file {}: the folder {} does not exist",
                    path.display(),
                    folder.display()
                )));
            }
            Ok(Key::Create(path.clone()))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot read the holder key file {}",
            path.display()
        ))),
    }
}

/// What an opening made, removed again if the opening fails.
#[derive(Default)]
struct Made {
    data_dir: Option<std::path::PathBuf>,
    key: Option<std::path::PathBuf>,
    database: Option<std::path::PathBuf>,
}

impl Made {
    fn undo(&self) {
        if let Some(db) = &self.database {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        if let Some(key) = &self.key {
            let _ = std::fs::remove_file(key);
        }
        if let Some(dir) = &self.data_dir {
            // Only if it is still empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

async fn open_target(target: &Target, made: &mut Made) -> anyhow::Result<Arc<dyn Store>> {
    match target {
        Target::Sqlite(path) => {
            if !path.exists() {
                made.database = Some(path.clone());
            }
            let store = SqliteStore::open(path).map_err(store_error)?;
            Ok(Arc::new(store))
        }
        Target::Postgres { url, read } => {
            let store = PgStore::connect_with(url, read.as_deref(), PgOptions::default())
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

/// Writes a new holder secret to `path`, readable by its owner only.
fn create_key_file(path: &Path) -> anyhow::Result<HolderSecret> {
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
    writeln!(f, "{}", secret.to_hex())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the holder key file {}", path.display()))?;
    Ok(secret)
}

/// Opens everything a data command needs, and checks that the secret fits the database.
///
/// Everything is checked before anything is made, and what was made (the default data folder,
/// a new key file, a new SQLite file) is removed again when a later step fails. A new key is
/// written before the database is opened: a database is never bound to a key that was not kept.
pub async fn open(config: Config, reads: Reads) -> anyhow::Result<Context> {
    let policy = load_policy(&config.policy)?;
    let plan = plan(&config, reads)?;
    let mut made = Made::default();
    match open_planned(&config, plan, &mut made).await {
        Ok((store, secret)) => {
            if made.key.is_some() {
                tracing::info!(
                    "created a new holder key in {} (fingerprint {}); keep it with the database",
                    config.holder_key_file.display(),
                    secret.fingerprint()
                );
            }
            Ok(Context {
                config,
                policy,
                store,
                secret,
            })
        }
        Err(e) => {
            made.undo();
            Err(e)
        }
    }
}

async fn open_planned(
    config: &Config,
    plan: Plan,
    made: &mut Made,
) -> anyhow::Result<(Arc<dyn Store>, HolderSecret)> {
    if let Some(dir) = &plan.create_data_dir {
        std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        made.data_dir = Some(dir.clone());
    }
    let secret = match &plan.key {
        Key::Ready(secret) => secret.clone(),
        Key::Create(path) => {
            let secret = create_key_file(path)?;
            made.key = Some(path.clone());
            secret
        }
    };
    let store = open_target(&plan.target, made).await?;
    if let Err(e) = store.bind_holder_secret(&secret.fingerprint()).await {
        let mut err = store_error(e);
        // Before, the default key of a SQLite database outside the data folder was looked for
        // in the data folder; say where an old key may be.
        let old = config.data_dir.join("holder.key");
        if made.key.is_some()
            && config.holder_key_file_is_default
            && old != config.holder_key_file
            && old.is_file()
        {
            err = err.context(format!(
                "the database may be bound to {}: move that key to {}, or name it with --holder-key-file",
                old.display(),
                config.holder_key_file.display()
            ));
        }
        return Err(err);
    }
    Ok((store, secret))
}

/// The journal's actor for a local command: `cli:<user>`, from `$USER` (or `$LOGNAME`), else
/// `cli:unknown`. Only the name's safe characters are kept.
pub fn local_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(32)
        .collect();
    if user.is_empty() {
        "cli:unknown".into()
    } else {
        format!("cli:{user}")
    }
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
