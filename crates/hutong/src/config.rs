//! Layered configuration: defaults, then a TOML file, then `HUTONG_*` environment variables,
//! then flags; the later wins. Unknown keys and variables are warned about, not ignored silently:
//! the configuration is read before logging starts (it says how to log), so its warnings are
//! kept and logged by [`init_logging`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use clap::Args;

use hutong_server::ConnectionSettings;
use hutong_server::ratelimit::{IpRange, RateLimitSettings, parse_sha256_hex};

/// Keys whose value is a list: an array in the file, comma-separated in the environment.
const LIST_KEYS: &[&str] = &[
    "rate_limit_exempt",
    "rate_limit_exempt_token_sha256",
    "trusted_proxies",
    "log_witnesses",
];

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
    /// Default: holder.key beside a SQLite database, <data-dir>/holder.key for PostgreSQL.
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
    /// The public address of the service, for links in QR codes.
    pub public_url: Option<String>,
    pub rate_limits: RateLimitSettings,
    /// Where `data_dir` was named (`--data-dir`, `HUTONG_DATA_DIR`, `data_dir in FILE`); `None`
    /// for the default folder, the only one hutong may create.
    pub data_dir_source: Option<String>,
    /// Whether `holder_key_file` is the default one.
    pub holder_key_file_is_default: bool,
    /// The folder of the files kept with the database: the holder key (by default) and the demo
    /// samples. A SQLite database's own folder; `data_dir` for PostgreSQL.
    pub files_dir: PathBuf,
    /// Unknown keys and variables, one sentence each; logged once logging has started.
    pub warnings: Vec<String>,
    /// Connection timeouts and the cap on open connections.
    pub connections: ConnectionSettings,
    /// Where `/metrics` is served; `None`: not served.
    pub metrics_listen: Option<String>,
    /// The transparency log's origin as configured (`log_origin`); `None`: the name in the log
    /// key file, or for a new key the one [`Config::default_log_origin`] gives.
    pub log_origin: Option<String>,
    /// The log's signing key (C2SP signed-note key, Go's format): `log.key` beside the holder
    /// key's default place unless named.
    pub log_key_file: PathBuf,
    /// Verifier keys of the witnesses whose cosignatures the log accepts.
    pub log_witnesses: Vec<String>,
    /// Whether webhooks may point at loopback or private addresses (a closed network).
    pub webhook_private_targets: bool,
    /// The folder of the issuers' private signing keys and the registry key. Default:
    /// `keys/` in `files_dir`.
    pub keys_dir: PathBuf,
}

const FILE_KEYS: &[&str] = &[
    "database",
    "read_database",
    "listen",
    "policy",
    "data_dir",
    "holder_key",
    "holder_key_file",
    "keys_dir",
    "log",
    "public_url",
    "rate_limit_lookups_per_minute",
    "rate_limit_lookup_burst",
    "rate_limit_pages_per_minute",
    "rate_limit_page_burst",
    "rate_limit_exempt",
    "rate_limit_exempt_token_sha256",
    "trusted_proxies",
    "header_read_timeout",
    "body_timeout",
    "idle_timeout",
    "max_connections",
    "metrics_listen",
    "log_origin",
    "log_key_file",
    "log_witnesses",
    "webhook_private_targets",
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
    "HUTONG_PUBLIC_URL",
    "HUTONG_RATE_LIMIT_LOOKUPS_PER_MINUTE",
    "HUTONG_RATE_LIMIT_LOOKUP_BURST",
    "HUTONG_RATE_LIMIT_PAGES_PER_MINUTE",
    "HUTONG_RATE_LIMIT_PAGE_BURST",
    "HUTONG_RATE_LIMIT_EXEMPT",
    "HUTONG_RATE_LIMIT_EXEMPT_TOKEN_SHA256",
    "HUTONG_TRUSTED_PROXIES",
    "HUTONG_HEADER_READ_TIMEOUT",
    "HUTONG_BODY_TIMEOUT",
    "HUTONG_IDLE_TIMEOUT",
    "HUTONG_MAX_CONNECTIONS",
    "HUTONG_METRICS_LISTEN",
    "HUTONG_MIRROR_TOKEN",
    "HUTONG_LOG_ORIGIN",
    "HUTONG_LOG_KEY_FILE",
    "HUTONG_LOG_WITNESSES",
    "HUTONG_WEBHOOK_PRIVATE_TARGETS",
    // Read by the test suites, not by the service.
    "HUTONG_TEST_POSTGRES_URL",
    "HUTONG_SLOW_TESTS",
    "HUTONG_BROWSER_TESTS",
    "HUTONG_CHROMEDRIVER",
];

impl Config {
    /// Resolves the configuration from the real environment.
    /// Its warnings are logged when logging starts ([`init_logging`]).
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Config> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("HUTONG_"))
            .collect();
        let config = Config::resolve(args, &env, None)?;
        config.defer_warnings();
        Ok(config)
    }

    /// Resolves from explicit parts; `listen_flag` is the serve command's `--listen`.
    pub fn resolve(
        args: &GlobalArgs,
        env: &BTreeMap<String, String>,
        listen_flag: Option<&str>,
    ) -> anyhow::Result<Config> {
        let mut warnings = Vec::new();
        for k in env.keys() {
            if !ENV_KEYS.contains(&k.as_str()) {
                warnings.push(format!(
                    "unknown environment variable {k} ignored (known: {})",
                    ENV_KEYS.join(", ")
                ));
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
                    warnings.push(format!(
                        "{}: unknown key \"{k}\" ignored (known: {})",
                        path.display(),
                        FILE_KEYS.join(", ")
                    ));
                    continue;
                }
                let numeric =
                    k.ends_with("_per_minute") || k.ends_with("_burst") || k == "max_connections";
                let listed = LIST_KEYS.contains(&k.as_str());
                let s = match v {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) if numeric => i.to_string(),
                    toml::Value::Boolean(b) if k == "webhook_private_targets" => b.to_string(),
                    toml::Value::Array(items) if listed => {
                        let mut parts = Vec::new();
                        for item in items {
                            match item {
                                toml::Value::String(s) => parts.push(s),
                                other => {
                                    return Err(crate::exit::invalid(format!(
                                        "{}: \"{k}\" must be a list of strings, not of {}",
                                        path.display(),
                                        other.type_str()
                                    )));
                                }
                            }
                        }
                        parts.join(",")
                    }
                    other => {
                        let expected = if numeric {
                            "a whole number"
                        } else if listed {
                            "a list of strings"
                        } else {
                            "a string"
                        };
                        return Err(crate::exit::invalid(format!(
                            "{}: \"{k}\" must be {expected}, not {}",
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
        let data_dir_source = if args.data_dir.is_some() {
            Some("--data-dir".to_string())
        } else if env.contains_key("HUTONG_DATA_DIR") {
            Some("HUTONG_DATA_DIR".to_string())
        } else if file.contains_key("data_dir") {
            file_path
                .as_ref()
                .map(|p| format!("data_dir in {}", p.display()))
        } else {
            None
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
        let files_dir = match sqlite_path(&database) {
            Some(path) => match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
            None => data_dir.clone(),
        };
        let holder_key_file = pick(
            args.holder_key_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "holder_key_file",
        )
        .map(PathBuf::from);
        let holder_key_file_is_default = holder_key_file.is_none();
        let holder_key_file = holder_key_file.unwrap_or_else(|| files_dir.join("holder.key"));
        let keys_dir = pick(None, "keys_dir")
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| files_dir.join("keys"));
        let defaults = RateLimitSettings::default();
        let number = |key: &str, default: u32| -> anyhow::Result<u32> {
            match pick(None, key) {
                None => Ok(default),
                Some(v) => v.trim().parse::<u32>().map_err(|_| {
                    crate::exit::invalid(format!(
                        "{key} (HUTONG_{}): \"{v}\" is not a whole number from 0 up",
                        key.to_uppercase()
                    ))
                }),
            }
        };
        let list = |key: &str| -> Vec<String> {
            pick(None, key)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let ranges = |key: &str| -> anyhow::Result<Vec<IpRange>> {
            list(key)
                .iter()
                .map(|s| {
                    s.parse::<IpRange>()
                        .map_err(|e| crate::exit::invalid(format!("{key}: {e}")))
                })
                .collect()
        };
        let rate_limits = RateLimitSettings {
            lookups_per_minute: number(
                "rate_limit_lookups_per_minute",
                defaults.lookups_per_minute,
            )?,
            lookup_burst: number("rate_limit_lookup_burst", defaults.lookup_burst)?,
            pages_per_minute: number("rate_limit_pages_per_minute", defaults.pages_per_minute)?,
            page_burst: number("rate_limit_page_burst", defaults.page_burst)?,
            exempt: ranges("rate_limit_exempt")?,
            exempt_token_sha256: list("rate_limit_exempt_token_sha256")
                .iter()
                .map(|s| {
                    parse_sha256_hex(s).map_err(|e| {
                        crate::exit::invalid(format!("rate_limit_exempt_token_sha256: {e}"))
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            trusted_proxies: ranges("trusted_proxies")?,
        };
        let conn_defaults = ConnectionSettings::default();
        let duration = |key: &str, default: std::time::Duration| -> anyhow::Result<_> {
            match pick(None, key) {
                None => Ok(default),
                Some(v) => match humantime::parse_duration(v.trim()) {
                    Ok(d) if !d.is_zero() => Ok(d),
                    Ok(_) => Err(crate::exit::invalid(format!(
                        "{key} (HUTONG_{}): \"{v}\" must be longer than zero",
                        key.to_uppercase()
                    ))),
                    Err(e) => Err(crate::exit::invalid(format!(
                        "{key} (HUTONG_{}): \"{v}\" is not a duration such as \"10s\" or \"500ms\" ({e})",
                        key.to_uppercase()
                    ))),
                },
            }
        };
        let connections = ConnectionSettings {
            header_read_timeout: duration(
                "header_read_timeout",
                conn_defaults.header_read_timeout,
            )?,
            body_timeout: duration("body_timeout", conn_defaults.body_timeout)?,
            idle_timeout: duration("idle_timeout", conn_defaults.idle_timeout)?,
            max_connections: match number("max_connections", conn_defaults.max_connections)? {
                0 => {
                    return Err(crate::exit::invalid(
                        "max_connections (HUTONG_MAX_CONNECTIONS): must be 1 or more",
                    ));
                }
                n => n,
            },
        };
        let metrics_listen = pick(None, "metrics_listen").filter(|s| !s.trim().is_empty());
        let public_url = pick(None, "public_url").filter(|u| !u.trim().is_empty());
        if let Some(u) = &public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(crate::exit::invalid(format!(
                "public_url: \"{u}\" must start with http:// or https://"
            )));
        }
        let log_origin = pick(None, "log_origin").filter(|o| !o.trim().is_empty());
        if let Some(o) = &log_origin {
            check_log_origin(o).map_err(|e| crate::exit::invalid(format!("log_origin: {e}")))?;
        }
        let log_key_file = pick(None, "log_key_file")
            .filter(|f| !f.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| files_dir.join("log.key"));
        let log_witnesses = list("log_witnesses");
        let webhook_private_targets = match pick(None, "webhook_private_targets")
            .as_deref()
            .map(str::trim)
        {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(crate::exit::invalid(format!(
                    "webhook_private_targets (HUTONG_WEBHOOK_PRIVATE_TARGETS): \"{v}\" must be true or false"
                )));
            }
        };
        Ok(Config {
            webhook_private_targets,
            log_origin,
            log_key_file,
            log_witnesses,
            public_url,
            rate_limits,
            connections,
            metrics_listen,
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
            data_dir_source,
            holder_key_file_is_default,
            files_dir,
            keys_dir,
            warnings,
        })
    }

    /// The origin a new log key is made for: the public address without its scheme, then
    /// `/log` (`https://hutong.example.cn` gives `hutong.example.cn/log`), as C2SP
    /// `tlog-tiles` recommends; `hutong.example/log` without a `public_url`.
    pub fn default_log_origin(&self) -> String {
        match &self.public_url {
            Some(u) => {
                let rest = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
                format!("{}/log", rest.trim_end_matches('/'))
            }
            None => "hutong.example/log".to_string(),
        }
    }

    /// Keeps the configuration's warnings for [`init_logging`] to log.
    pub fn defer_warnings(&self) {
        if let Ok(mut w) = DEFERRED.lock() {
            w.extend(self.warnings.iter().cloned());
        }
    }
}

/// A log origin is a signed-note key name: not empty, no white space, no `+`, no control
/// character, at most 200 bytes.
pub fn check_log_origin(o: &str) -> Result<(), String> {
    if o.is_empty()
        || o.len() > 200
        || o.contains('+')
        || o.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "\"{}\" is not a log origin: 1 to 200 bytes without spaces, control characters or '+', \
             such as hutong.example.cn/log",
            o.chars().take(60).collect::<String>()
        ));
    }
    Ok(())
}

/// The file of a SQLite database URL (`sqlite://PATH`, `sqlite:PATH` or a bare path); `None`
/// for PostgreSQL or an unknown scheme. Only the text is read: whether the file's folder exists
/// is checked when the database is opened.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let s = url.trim();
    let path = match s
        .strip_prefix("sqlite://")
        .or_else(|| s.strip_prefix("sqlite:"))
    {
        Some(rest) => rest,
        None if s.contains("://") => return None,
        None => s,
    };
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// Warnings made before logging started.
static DEFERRED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Starts logging to standard error, then logs the configuration's warnings. `RUST_LOG` wins
/// over the configured level.
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn,tower=warn"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal: in a file, a journal or a pipe they
        // are noise around every level and field.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        // A log line that cannot be written (standard error closed) is dropped: the library's
        // own report of it would panic the task that logged, and drop a request unanswered.
        .log_internal_errors(false)
        .try_init();
    let deferred = DEFERRED
        .lock()
        .map(|mut w| std::mem::take(&mut *w))
        .unwrap_or_default();
    for w in deferred {
        tracing::warn!("{w}");
    }
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
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with(&format!(
                "{}: unknown key \"colour\" ignored",
                file.display()
            )),
            "{:?}",
            c.warnings
        );
        let c = Config::resolve(&args, &env(&[("HUTONG_LISTN", "x")]), None).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|w| w.starts_with("unknown environment variable HUTONG_LISTN ignored")),
            "{:?}",
            c.warnings
        );
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
        assert!(c.holder_key_file_is_default);
        assert_eq!(c.data_dir_source.as_deref(), Some("--data-dir"));
        assert_eq!(c.listen, "127.0.0.1:8080");
        let c = Config::resolve(&GlobalArgs::default(), &env(&[]), None).unwrap();
        assert_eq!(c.holder_key_file, PathBuf::from("data/holder.key"));
        assert_eq!(c.data_dir_source, None);
    }

    #[test]
    fn the_holder_key_is_kept_beside_a_sqlite_database_and_in_the_data_folder_for_postgres() {
        let key = |database: &str| {
            let args = GlobalArgs {
                database: Some(database.into()),
                ..Default::default()
            };
            Config::resolve(&args, &env(&[]), None)
                .unwrap()
                .holder_key_file
        };
        assert_eq!(
            key("sqlite://other/x.db"),
            PathBuf::from("other/holder.key")
        );
        assert_eq!(
            key("sqlite:/srv/r/x.db"),
            PathBuf::from("/srv/r/holder.key")
        );
        assert_eq!(key("x.db"), PathBuf::from("./holder.key"));
        assert_eq!(
            key("postgres://postgres@127.0.0.1:5432/x"),
            PathBuf::from("data/holder.key")
        );
        let args = GlobalArgs {
            database: Some("sqlite://other/x.db".into()),
            holder_key_file: Some("k/h.key".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args, &env(&[]), None).unwrap();
        assert_eq!(c.holder_key_file, PathBuf::from("k/h.key"));
        assert!(!c.holder_key_file_is_default);
    }

    #[test]
    fn rate_limits_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        let hash = hutong_server::ratelimit::token_sha256_hex("t0ken");
        std::fs::write(
            &file,
            format!(
                "rate_limit_lookups_per_minute = 30\nrate_limit_exempt = [\"10.0.0.0/8\", \"::1\"]\nrate_limit_exempt_token_sha256 = [\"{hash}\"]\npublic_url = \"https://hutong.example\"\n"
            ),
        )
        .unwrap();
        let args = GlobalArgs {
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&args, &env(&[]), None).unwrap();
        assert_eq!(c.rate_limits.lookups_per_minute, 30);
        assert_eq!(c.rate_limits.lookup_burst, 20, "the default");
        assert_eq!(c.rate_limits.exempt.len(), 2);
        assert_eq!(c.rate_limits.exempt_token_sha256.len(), 1);
        assert_eq!(c.public_url.as_deref(), Some("https://hutong.example"));
        let c = Config::resolve(
            &args,
            &env(&[
                ("HUTONG_RATE_LIMIT_LOOKUPS_PER_MINUTE", "0"),
                ("HUTONG_TRUSTED_PROXIES", "127.0.0.1, 10.1.2.3"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.rate_limits.lookups_per_minute, 0);
        assert_eq!(c.rate_limits.trusted_proxies.len(), 2);
        let err = Config::resolve(
            &args,
            &env(&[("HUTONG_RATE_LIMIT_EXEMPT", "10.0.0.0/99")]),
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("rate_limit_exempt: \"10.0.0.0/99\""),
            "{err}"
        );
        let err = Config::resolve(
            &args,
            &env(&[("HUTONG_RATE_LIMIT_LOOKUP_BURST", "many")]),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not a whole number"), "{err}");
        std::fs::write(
            &file,
            "rate_limit_exempt = \"x\"\nrate_limit_page_burst = \"y\"\n",
        )
        .unwrap();
        assert!(Config::resolve(&args, &env(&[]), None).is_err());
    }

    #[test]
    fn connection_limits_and_the_metrics_listener_come_from_the_file_and_the_environment() {
        use std::time::Duration;
        let c = Config::resolve(&GlobalArgs::default(), &env(&[]), None).unwrap();
        assert_eq!(c.connections, ConnectionSettings::default());
        assert_eq!(c.metrics_listen, None, "not served unless configured");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(
            &file,
            "header_read_timeout = \"5s\"\nbody_timeout = \"1m\"\nmax_connections = 300\nmetrics_listen = \"127.0.0.1:9100\"\n",
        )
        .unwrap();
        let args = GlobalArgs {
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&args, &env(&[("HUTONG_IDLE_TIMEOUT", "500ms")]), None).unwrap();
        assert_eq!(c.connections.header_read_timeout, Duration::from_secs(5));
        assert_eq!(c.connections.body_timeout, Duration::from_secs(60));
        assert_eq!(c.connections.idle_timeout, Duration::from_millis(500));
        assert_eq!(c.connections.max_connections, 300);
        assert_eq!(c.metrics_listen.as_deref(), Some("127.0.0.1:9100"));
        assert!(!c.webhook_private_targets, "refused unless configured");
        let c = Config::resolve(
            &args,
            &env(&[("HUTONG_WEBHOOK_PRIVATE_TARGETS", "true")]),
            None,
        )
        .unwrap();
        assert!(c.webhook_private_targets);
        for (k, v, says) in [
            (
                "HUTONG_WEBHOOK_PRIVATE_TARGETS",
                "yes",
                "must be true or false",
            ),
            ("HUTONG_BODY_TIMEOUT", "soon", "is not a duration"),
            ("HUTONG_HEADER_READ_TIMEOUT", "0s", "longer than zero"),
            ("HUTONG_MAX_CONNECTIONS", "0", "1 or more"),
        ] {
            let err = Config::resolve(&args, &env(&[(k, v)]), None).unwrap_err();
            assert!(err.to_string().contains(says), "{k}={v}: {err}");
        }
    }

    #[test]
    fn the_log_is_configured_beside_the_holder_key_and_named_from_the_public_address() {
        let c = Config::resolve(&GlobalArgs::default(), &env(&[]), None).unwrap();
        assert_eq!(c.log_key_file, PathBuf::from("data/log.key"));
        assert_eq!(c.log_origin, None);
        assert_eq!(c.default_log_origin(), "hutong.example/log");
        assert!(c.log_witnesses.is_empty());
        let args = GlobalArgs {
            database: Some("sqlite://other/x.db".into()),
            ..Default::default()
        };
        let c = Config::resolve(
            &args,
            &env(&[
                ("HUTONG_PUBLIC_URL", "https://hutong.example.cn/"),
                ("HUTONG_LOG_WITNESSES", "w1+01020304+BAAA, w2+05060708+BBBB"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.log_key_file, PathBuf::from("other/log.key"));
        assert_eq!(c.default_log_origin(), "hutong.example.cn/log");
        assert_eq!(c.log_witnesses, ["w1+01020304+BAAA", "w2+05060708+BBBB"]);
        let c = Config::resolve(
            &GlobalArgs::default(),
            &env(&[("HUTONG_LOG_ORIGIN", "registry.example/log")]),
            None,
        )
        .unwrap();
        assert_eq!(c.log_origin.as_deref(), Some("registry.example/log"));
        for bad in ["has space", "a+b", "x\u{1}"] {
            let e = Config::resolve(
                &GlobalArgs::default(),
                &env(&[("HUTONG_LOG_ORIGIN", bad)]),
                None,
            )
            .unwrap_err();
            assert!(e.to_string().starts_with("log_origin: "), "{e}");
        }
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
