//! Layered configuration: defaults, then a TOML file, then `HUTONG_*` environment variables,
//! then flags; the later wins. Unknown keys and variables are warned about, not ignored silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

/// Flags every command takes.
#[derive(Args, Debug, Default, Clone)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Default: ./hutong.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH (or a bare path) or postgres://… Default: sqlite://<data-dir>/hutong.db.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// A read-only database for query traffic (lookups, lists, counts): a streaming replica of
    /// a postgres:// --database. Writes still go to --database. Default: none, reads go there too.
    #[arg(long, global = true, value_name = "URL")]
    pub read_database: Option<String>,
    /// Folder of policy files. Default: ./policy.
    #[arg(long, global = true, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// Folder for the default database and the holder key. Default: ./data.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// File holding the secret that keys holder hashes (64 hex characters); created on first run.
    /// Default: <data-dir>/holder.key.
    #[arg(long, global = true, value_name = "FILE")]
    pub holder_key_file: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: String,
    /// Whether the database is the default one (whose folder hutong may create).
    pub database_is_default: bool,
    /// A replica of `database` for query traffic (PostgreSQL only).
    pub read_database: Option<String>,
    pub listen: String,
    pub policy: PathBuf,
    pub data_dir: PathBuf,
    /// The holder secret given directly (environment or file config), hex.
    pub holder_key: Option<String>,
    pub holder_key_file: PathBuf,
    pub log: String,
}

const FILE_KEYS: &[&str] = &[
    "database",
    "read_database",
    "listen",
    "policy",
    "data_dir",
    "holder_key",
    "holder_key_file",
    "log",
];
const ENV_KEYS: &[&str] = &[
    "HUTONG_CONFIG",
    "HUTONG_DATABASE",
    "HUTONG_READ_DATABASE",
    "HUTONG_LISTEN",
    "HUTONG_POLICY",
    "HUTONG_DATA_DIR",
    "HUTONG_HOLDER_KEY",
    "HUTONG_HOLDER_KEY_FILE",
    "HUTONG_LOG",
    // Read by the test suites, not by the service.
    "HUTONG_TEST_POSTGRES_URL",
    "HUTONG_SLOW_TESTS",
];

impl Config {
    /// Resolves the configuration from the real environment.
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Config> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("HUTONG_"))
            .collect();
        Config::resolve(args, &env, None)
    }

    /// Resolves from explicit parts; `listen_flag` is the serve command's `--listen`.
    pub fn resolve(
        args: &GlobalArgs,
        env: &BTreeMap<String, String>,
        listen_flag: Option<&str>,
    ) -> anyhow::Result<Config> {
        for k in env.keys() {
            if !ENV_KEYS.contains(&k.as_str()) {
                tracing::warn!(
                    "unknown environment variable {k} ignored (known: {})",
                    ENV_KEYS.join(", ")
                );
            }
        }
        let file_path = args
            .config
            .clone()
            .or_else(|| env.get("HUTONG_CONFIG").map(PathBuf::from))
            .or_else(|| {
                Path::new("hutong.toml")
                    .is_file()
                    .then(|| PathBuf::from("hutong.toml"))
            });
        let mut file: BTreeMap<String, String> = BTreeMap::new();
        if let Some(path) = &file_path {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the configuration file {}", path.display())
            })?;
            let table: toml::Table = toml::from_str(&text)
                .map_err(|e| crate::exit::invalid(format!("{}: {e}", path.display())))?;
            for (k, v) in table {
                if !FILE_KEYS.contains(&k.as_str()) {
                    tracing::warn!(
                        "{}: unknown key \"{k}\" ignored (known: {})",
                        path.display(),
                        FILE_KEYS.join(", ")
                    );
                    continue;
                }
                let s = match v {
                    toml::Value::String(s) => s,
                    other => {
                        return Err(crate::exit::invalid(format!(
                            "{}: \"{k}\" must be a string, not {}",
                            path.display(),
                            other.type_str()
                        )));
                    }
                };
                file.insert(k, s);
            }
        }
        // The later layer wins: flag, then environment, then file, then default.
        let pick = |flag: Option<String>, key: &str| -> Option<String> {
            flag.or_else(|| env.get(&format!("HUTONG_{}", key.to_uppercase())).cloned())
                .or_else(|| file.get(key).cloned())
        };
        let data_dir = PathBuf::from(
            pick(
                args.data_dir.as_ref().map(|p| p.display().to_string()),
                "data_dir",
            )
            .unwrap_or_else(|| "data".into()),
        );
        let database = pick(args.database.clone(), "database");
        let database_is_default = database.is_none();
        let database = database
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("hutong.db").display()));
        let holder_key_file = pick(
            args.holder_key_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "holder_key_file",
        )
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("holder.key"));
        Ok(Config {
            database,
            database_is_default,
            read_database: pick(args.read_database.clone(), "read_database")
                .filter(|s| !s.trim().is_empty()),
            listen: pick(listen_flag.map(str::to_string), "listen")
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            policy: PathBuf::from(
                pick(
                    args.policy.as_ref().map(|p| p.display().to_string()),
                    "policy",
                )
                .unwrap_or_else(|| "policy".into()),
            ),
            data_dir,
            holder_key: pick(None, "holder_key"),
            holder_key_file,
            log: pick(None, "log").unwrap_or_else(|| "info".into()),
        })
    }
}

/// Starts logging to standard error. `RUST_LOG` wins over the configured level.
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn,tower=warn"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn later_layers_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(&file, "database = \"sqlite://from-file.db\"\nlisten = \"127.0.0.1:1\"\npolicy = \"p-file\"\ncolour = \"red\"\n").unwrap();
        let args = GlobalArgs {
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&args, &env(&[]), None).unwrap();
        assert_eq!(
            (c.database.as_str(), c.listen.as_str()),
            ("sqlite://from-file.db", "127.0.0.1:1")
        );
        assert!(!c.database_is_default);
        let c = Config::resolve(
            &args,
            &env(&[("HUTONG_LISTEN", "127.0.0.1:2"), ("HUTONG_POLICY", "p-env")]),
            None,
        )
        .unwrap();
        assert_eq!(
            (c.listen.as_str(), c.policy.to_str().unwrap()),
            ("127.0.0.1:2", "p-env")
        );
        let c = Config::resolve(
            &args,
            &env(&[("HUTONG_LISTEN", "127.0.0.1:2")]),
            Some("127.0.0.1:3"),
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:3");
        let args = GlobalArgs {
            config: Some(file),
            database: Some("sqlite://flag.db".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(&args, &env(&[("HUTONG_DATABASE", "x")]), None)
                .unwrap()
                .database,
            "sqlite://flag.db"
        );
    }

    #[test]
    fn the_read_database_is_layered_like_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(&file, "read_database = \"postgres://replica-file/r\"\n").unwrap();
        let mut args = GlobalArgs {
            config: Some(file),
            ..Default::default()
        };
        let c = Config::resolve(&args, &env(&[]), None).unwrap();
        assert_eq!(
            c.read_database.as_deref(),
            Some("postgres://replica-file/r")
        );
        let e = env(&[("HUTONG_READ_DATABASE", "postgres://replica-env/r")]);
        let c = Config::resolve(&args, &e, None).unwrap();
        assert_eq!(c.read_database.as_deref(), Some("postgres://replica-env/r"));
        args.read_database = Some("postgres://replica-flag/r".into());
        let c = Config::resolve(&args, &e, None).unwrap();
        assert_eq!(
            c.read_database.as_deref(),
            Some("postgres://replica-flag/r")
        );
        assert_eq!(
            Config::resolve(&GlobalArgs::default(), &env(&[]), None)
                .unwrap()
                .read_database,
            None
        );
    }

    #[test]
    fn defaults_live_in_the_data_folder() {
        let c = Config::resolve(
            &GlobalArgs {
                data_dir: Some("/srv/h".into()),
                ..Default::default()
            },
            &env(&[]),
            None,
        )
        .unwrap();
        assert_eq!(c.database, "sqlite:///srv/h/hutong.db");
        assert!(c.database_is_default);
        assert_eq!(c.holder_key_file, PathBuf::from("/srv/h/holder.key"));
        assert_eq!(c.listen, "127.0.0.1:8080");
    }

    #[test]
    fn a_malformed_file_is_invalid_input() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(&file, "listen = 8080\n").unwrap();
        let err = Config::resolve(
            &GlobalArgs {
                config: Some(file),
                ..Default::default()
            },
            &env(&[]),
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("\"listen\" must be a string"),
            "{err}"
        );
    }
}
