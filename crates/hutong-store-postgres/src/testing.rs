//! Throw-away databases for tests, on the server named by `HUTONG_TEST_POSTGRES_URL`.
//!
//! - Variable unset: [`TestDatabase::create`] returns `None` and says so on standard error, so a
//!   newcomer's `cargo test` skips the PostgreSQL checks visibly.
//! - Variable set: the server must answer. If it does not, the test panics (fails) with the
//!   host and port; CI never mistakes an unreachable server for a pass.
//!
//! Each database has a unique name (`hutong_test_<unix time>_<pid>_<n>`), is created empty and
//! is dropped when the [`TestDatabase`] is dropped, even when the test panics.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::{Config, NoTls};

use crate::conn::{Target, chain};
use crate::{PgOptions, PgStore};

/// The variable that names the test server: `postgres://postgres@127.0.0.1:5432/test`.
pub const TEST_URL_VAR: &str = "HUTONG_TEST_POSTGRES_URL";

/// Test databases older than this are left-overs of killed runs and are dropped.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database that is dropped with this value.
pub struct TestDatabase {
    admin: Config,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a database for one test, or returns `None` (with a message naming `purpose`)
    /// when [`TEST_URL_VAR`] is not set. Panics when it is set and the server cannot be used.
    pub async fn create(purpose: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(TEST_URL_VAR) else {
            eprintln!("skipped on PostgreSQL: {purpose} ({TEST_URL_VAR} is not set)");
            announce_skip();
            return None;
        };
        Some(TestDatabase::create_on(&admin_url).await)
    }

    /// Creates a database on the server of `admin_url`; panics if that fails.
    pub async fn create_on(admin_url: &str) -> TestDatabase {
        let target = Target::parse(admin_url, TEST_URL_VAR).unwrap_or_else(|e| panic!("{e}"));
        let admin = target.config.clone();
        let client = admin_client(&admin, &target.shown).await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        if n == 0 {
            drop_stale(&client, now).await;
        }
        let name = format!("hutong_test_{now}_{}_{n}", std::process::id());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{TEST_URL_VAR}: cannot create a test database on {}: {}",
                    target.shown,
                    chain(&e)
                )
            });
        TestDatabase {
            url: with_dbname(admin_url, &name),
            admin,
            name,
        }
    }

    /// The URL of this database (the test server's URL with its database name replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store on this database; panics if it cannot be opened.
    pub async fn open(&self) -> PgStore {
        PgStore::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open the test database {}: {e}", self.name))
    }

    /// Brings this database's schema to `version` and no further, as a build that knew no later
    /// migration would have made it: for tests of a later migration. Panics if that fails.
    pub async fn migrate_to(&self, version: usize) {
        let target = Target::parse(&self.url, TEST_URL_VAR).unwrap_or_else(|e| panic!("{e}"));
        let pool = target.pool(1).unwrap_or_else(|e| panic!("{e}"));
        let mut client = target.get(&pool).await.unwrap_or_else(|e| panic!("{e}"));
        crate::schema::migrate_to(&mut client, version)
            .await
            .unwrap_or_else(|e| panic!("cannot migrate {} to version {version}: {e}", self.name));
    }

    /// A store that writes through one pool and reads through another, read-only one, on the
    /// same database: every read is routed as it would be to a replica, without the lag.
    pub async fn open_split(&self) -> PgStore {
        PgStore::connect_with(&self.url, Some(&self.url), PgOptions::default())
            .await
            .unwrap_or_else(|e| panic!("cannot open the test database {}: {e}", self.name))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop may run inside a runtime (at the end of an async test) or outside one; a thread
        // of its own with a runtime of its own works in both.
        let done = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let (client, conn) = admin.connect(NoTls).await.map_err(|e| chain(&e))?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| chain(&e))
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: could not drop test database {}", self.name),
        }
    }
}

/// A store on a fresh database, with its database: the value for `conformance_tests!`.
pub struct TestStore {
    // Field order is drop order: the store's pools close before the database is dropped.
    store: PgStore,
    _db: TestDatabase,
}

impl std::ops::Deref for TestStore {
    type Target = PgStore;
    fn deref(&self) -> &PgStore {
        &self.store
    }
}

/// A fresh store on its own database, or `None` when [`TEST_URL_VAR`] is not set.
pub async fn fresh_store() -> Option<TestStore> {
    let db = TestDatabase::create("the store conformance suite").await?;
    Some(TestStore {
        store: db.open().await,
        _db: db,
    })
}

/// Like [`fresh_store`], with reads through a separate read-only pool (see
/// [`TestDatabase::open_split`]).
pub async fn fresh_split_store() -> Option<TestStore> {
    let db = TestDatabase::create("the store conformance suite with a read pool").await?;
    Some(TestStore {
        store: db.open_split().await,
        _db: db,
    })
}

/// Says once per test binary, past the test harness's output capture, that the PostgreSQL
/// checks were skipped: a skipped suite must not pass unnoticed.
fn announce_skip() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "note: PostgreSQL checks skipped: {TEST_URL_VAR} is not set \
             (set it to e.g. postgres://postgres@127.0.0.1:5432/test to run them)"
        );
    });
}

async fn admin_client(admin: &Config, shown: &str) -> tokio_postgres::Client {
    match admin.connect(NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            client
        }
        Err(e) => panic!(
            "{TEST_URL_VAR} is set, but PostgreSQL at {shown} cannot be reached: {}. \
             Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or unset the variable to skip these tests",
            chain(&e)
        ),
    }
}

/// Drops test databases that killed runs left behind (by the time in their names).
async fn drop_stale(client: &tokio_postgres::Client, now: u64) {
    let Ok(rows) = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hutong\\_test\\_%'",
            &[],
        )
        .await
    else {
        return;
    };
    for r in rows {
        let name: String = r.get(0);
        let made = name
            .strip_prefix("hutong_test_")
            .and_then(|s| s.split('_').next())
            .and_then(|s| u64::from_str(s).ok());
        if made.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER.as_secs()) {
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// `url` with its database name replaced: `postgres://u@h:5432/test?x=y` → `…/NAME?x=y`.
pub fn with_dbname(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        // A dbname parameter would override the path.
        let kept: Vec<&str> = q.split('&').filter(|p| !p.starts_with("dbname=")).collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_dbname;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_dbname("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_dbname("postgresql://u:p@h/test?connect_timeout=5&dbname=y", "x"),
            "postgresql://u:p@h/x?connect_timeout=5"
        );
        assert_eq!(with_dbname("postgres://h", "x"), "postgres://h/x");
    }
}
