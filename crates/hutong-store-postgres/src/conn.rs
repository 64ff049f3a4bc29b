//! Connection settings from a URL, connection pools, and error messages that name the server
//! but never a password.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Config, NoTls};

use hutong_store::{Result, StoreError};

/// Where a pool connects, for messages: `127.0.0.1:5432 (database test, user postgres)`.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub config: Config,
    pub shown: String,
    /// The password, to scrub from any message a driver might echo.
    secret: Option<String>,
}

impl Target {
    /// Parses a `postgres://` URL (or a `key=value` connection string). `what` names the
    /// setting in messages (`--database`, `--read-database`).
    pub fn parse(url: &str, what: &str) -> Result<Target> {
        let secret = password_in(url);
        let scrub = |m: String| match &secret {
            Some(p) if !p.is_empty() => m.replace(p.as_str(), "***"),
            _ => m,
        };
        let mut config = Config::from_str(url.trim()).map_err(|e| {
            StoreError::Config(scrub(format!(
                "{what}: not a PostgreSQL URL ({})",
                chain(&e)
            )))
        })?;
        if config.get_ssl_mode() == SslMode::Require {
            return Err(StoreError::Config(format!(
                "{what}: sslmode=require is not supported: this build connects without TLS; \
                 use a private network, a Unix socket, or a TLS-terminating proxy such as PgBouncer"
            )));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("hutong");
        }
        let shown = describe(&config);
        Ok(Target {
            config,
            shown,
            secret,
        })
    }

    /// Makes every session of this target read-only, so that a write sent to a read pool by
    /// mistake fails loudly instead of landing on the wrong server.
    pub fn read_only(mut self) -> Target {
        let opts = match self.config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -c default_transaction_read_only=on"),
            _ => "-c default_transaction_read_only=on".to_string(),
        };
        self.config.options(opts);
        self
    }

    pub fn scrub(&self, m: String) -> String {
        match &self.secret {
            Some(p) if !p.is_empty() => m.replace(p.as_str(), "***"),
            _ => m,
        }
    }

    pub fn pool(&self, size: usize) -> Result<Pool> {
        let manager = Manager::from_config(
            self.config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| StoreError::Config(format!("cannot build a connection pool: {e}")))
    }

    /// A connection from `pool`, or an error naming this server.
    pub async fn get(&self, pool: &Pool) -> Result<Client> {
        pool.get().await.map_err(|e| self.pool_error(e))
    }

    pub fn pool_error(&self, e: PoolError) -> StoreError {
        let why = match &e {
            PoolError::Backend(e) => chain(e),
            PoolError::Timeout(_) => "timed out".to_string(),
            PoolError::Closed => "the connection pool is closed".to_string(),
            other => other.to_string(),
        };
        StoreError::Backend(self.scrub(format!(
            "cannot connect to PostgreSQL at {}: {why}",
            self.shown
        )))
    }
}

/// The password of a URL, if it has one (`postgres://user:PASSWORD@host/…`).
fn password_in(url: &str) -> Option<String> {
    if let Some(q) = url.split_once('?').map(|(_, q)| q)
        && let Some(p) = q.split('&').find_map(|p| p.strip_prefix("password="))
    {
        return Some(p.to_string());
    }
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let (_, password) = userinfo.split_once(':')?;
    Some(password.to_string())
}

/// `host:port[, host:port…] (database D, user U)`, with no password.
pub(crate) fn describe(c: &Config) -> String {
    let ports = c.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = if c.get_hosts().is_empty() {
        vec![format!("localhost:{}", port(0))]
    } else {
        c.get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| match h {
                Host::Tcp(name) => format!("{name}:{}", port(i)),
                #[cfg(unix)]
                Host::Unix(path) => format!("socket {}:{}", path.display(), port(i)),
            })
            .collect()
    };
    let mut extra = Vec::new();
    if let Some(db) = c.get_dbname() {
        extra.push(format!("database {db}"));
    }
    if let Some(u) = c.get_user() {
        extra.push(format!("user {u}"));
    }
    if extra.is_empty() {
        hosts.join(", ")
    } else {
        format!("{} ({})", hosts.join(", "), extra.join(", "))
    }
}

/// An error with its causes: `error connecting to server: Connection refused (os error 111)`.
pub(crate) fn chain(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_described_without_passwords() {
        let t = Target::parse(
            "postgres://hutong:s3cret@db.example:6432/registry",
            "--database",
        )
        .unwrap();
        assert_eq!(t.shown, "db.example:6432 (database registry, user hutong)");
        assert!(!format!("{:?}", t.shown).contains("s3cret"));
        assert_eq!(t.scrub("x s3cret y".into()), "x *** y");
        let t = Target::parse("postgresql://127.0.0.1/test", "--database").unwrap();
        assert_eq!(t.shown, "127.0.0.1:5432 (database test)");
    }

    #[test]
    fn bad_urls_are_config_errors_without_the_password() {
        let e = Target::parse("postgres://u:pw@h:notaport/db", "--database")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--database: not a PostgreSQL URL"), "{e}");
        assert!(!e.contains("pw@"), "{e}");
        let e = Target::parse("postgres://h/db?sslmode=require", "--database")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslmode=require is not supported"), "{e}");
    }

    #[test]
    fn read_targets_are_read_only_sessions() {
        let t = Target::parse(
            "postgres://h/db?options=-c%20work_mem%3D8MB",
            "--read-database",
        )
        .unwrap()
        .read_only();
        assert_eq!(
            t.config.get_options(),
            Some("-c work_mem=8MB -c default_transaction_read_only=on")
        );
    }

    #[test]
    fn passwords_are_found_in_urls() {
        assert_eq!(
            password_in("postgres://u:p%40ss@h/db").as_deref(),
            Some("p%40ss")
        );
        assert_eq!(password_in("postgres://u@h/db"), None);
        assert_eq!(password_in("postgres://h/db?user=x"), None);
        assert_eq!(
            password_in("postgres://h/db?user=x&password=y").as_deref(),
            Some("y")
        );
    }
}
