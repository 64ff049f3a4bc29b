//! The PostgreSQL backend: the registry for server deployments.
//!
//! - **Pools.** Connections come from a [deadpool](deadpool_postgres) pool; every statement is
//!   prepared once per connection and cached.
//! - **Read scaling.** [`PgStore::connect_with`] takes an optional second URL for query traffic
//!   (a streaming replica): lookups, lists, events and counts go there, writes and the reads a
//!   write depends on go to the primary. Read sessions are read-only, and the read database must
//!   carry the primary's registry id, so a mistyped URL is refused rather than served.
//! - **Migrations.** Embedded, versioned and forward-only (`schema_migrations`), applied to the
//!   primary on connect under an advisory lock; a database newer than the code is refused.
//! - **Distribution.** Every large table is keyed by certificate number first, so that a
//!   Postgres-compatible distributed engine can shard it (see `docs/scaling.md`).
//! - **Bulk loads.** A batch goes to the server as one multi-row `INSERT … SELECT FROM unnest(…)`
//!   with arrays as parameters: one round trip and one plan for thousands of rows.

mod conn;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Client, GenericClient, Pool};
use tokio_postgres::Row;

use hutong_core::date::Day;
use hutong_core::{AdminState, Certificate, HolderKey, Issuer, Level};
use hutong_store::{
    CertificateUpdate, Event, EventKind, InsertMode, Result, RowOutcome, Stats, Store, StoreError,
};

use crate::conn::Target;

pub use schema::migrations;

/// Tuning of a [`PgStore`]; the defaults suit a two-core machine.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections to the primary.
    pub pool_size: usize,
    /// Connections to the read database, when there is one.
    pub read_pool_size: usize,
    /// How long to wait, at start, for a fresh replica to show the primary's schema.
    pub replica_wait: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        PgOptions {
            pool_size: cpus * 4,
            read_pool_size: cpus * 4,
            replica_wait: Duration::from_secs(30),
        }
    }
}

pub struct PgStore {
    primary: Pool,
    primary_target: Target,
    /// The read database's pool, when query traffic has a server of its own.
    reads: Option<(Pool, Target)>,
    /// Kind ids are interned to small integers; this maps both ways. Other processes may intern
    /// kinds too, so an id missing here is looked up again before it is called an error.
    kinds: RwLock<KindTable>,
}

#[derive(Default)]
struct KindTable {
    by_name: HashMap<String, i16>,
    by_id: HashMap<i16, String>,
}

pub(crate) fn db_error(context: &str, e: &tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("{context}: {}", conn::chain(e)))
}

fn backend(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(conn::chain(&e))
}

/// A column of a row, or an error (never a panic) if the stored type is not the expected one.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T> {
    r.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {}", conn::chain(&e))))
}

/// The first eight bytes of a holder key, as the indexed lookup tag.
fn holder_tag(k: &HolderKey) -> i64 {
    i64::from_be_bytes(k.0[..8].try_into().expect("8 bytes"))
}

fn state_code(s: &AdminState) -> i8 {
    (match s {
        AdminState::Active => b'a',
        AdminState::Suspended { .. } => b's',
        AdminState::Revoked { .. } => b'r',
    }) as i8
}

fn state_from(code: i8, since: Option<Day>) -> Result<AdminState> {
    let since =
        || since.ok_or_else(|| StoreError::Corrupt("a certificate's state has no date".into()));
    Ok(match code as u8 {
        b'a' => AdminState::Active,
        b's' => AdminState::Suspended { since: since()? },
        b'r' => AdminState::Revoked { on: since()? },
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown certificate state code {:?}",
                other as char
            )));
        }
    })
}

/// The columns [`PgStore::decode`] reads, in its order.
const CERT_COLUMNS: &str = "number, kind, holder_key, holder_name, occupation, level, issuer, \
     issued_on, first_issued_on, valid_until, last_review_on, state, state_since";

/// A kind's id from its name, inside the statement: reads need no cache to be right.
const KIND_BY_NAME: &str = "(SELECT id FROM kinds WHERE name = $2)";

impl PgStore {
    /// Connects to `url`, brings its schema up to date, and serves reads and writes from it.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, None, PgOptions::default()).await
    }

    /// Connects to the primary at `url` and, when given, to a read database at `read_url` (a
    /// streaming replica of the primary) for query traffic.
    pub async fn connect_with(
        url: &str,
        read_url: Option<&str>,
        options: PgOptions,
    ) -> Result<PgStore> {
        let primary_target = Target::parse(url, "--database")?;
        let primary = primary_target.pool(options.pool_size)?;
        let mut client = primary_target.get(&primary).await?;
        refuse_read_only(&primary_target, &client).await?;
        schema::migrate(&mut client).await?;
        let registry_id = registry_id(&client).await?.ok_or_else(|| {
            StoreError::Backend("the database has a schema but no registry id".into())
        })?;
        let reads = match read_url {
            None => None,
            Some(u) => {
                let target = Target::parse(u, "--read-database")?.read_only();
                let pool = target.pool(options.read_pool_size)?;
                check_replica(&target, &pool, &registry_id, options.replica_wait).await?;
                Some((pool, target))
            }
        };
        let store = PgStore {
            primary,
            primary_target,
            reads,
            kinds: RwLock::new(KindTable::default()),
        };
        store.reload_kinds(&client).await?;
        tracing::debug!(
            primary = %store.primary_target.shown,
            read = store.reads.as_ref().map(|(_, t)| t.shown.as_str()).unwrap_or("(primary)"),
            "connected to PostgreSQL"
        );
        Ok(store)
    }

    /// Where writes go, for logs: `host:port (database D, user U)`, never a password.
    pub fn primary_description(&self) -> &str {
        &self.primary_target.shown
    }

    /// About how many certificates are stored, without counting them: the planner's row
    /// density times the table's current size, so rows added since the last `ANALYZE` are
    /// included. A table never analysed (new, or small) is counted exactly.
    pub async fn count_estimate(&self) -> Result<u64> {
        let c = self.reader().await?;
        let estimate: f64 = c
            .query_one(
                "SELECT CASE WHEN reltuples > 0 AND relpages > 0 \
                 THEN reltuples::float8 / relpages * (pg_relation_size(oid) / current_setting('block_size')::int) \
                 ELSE -1 END FROM pg_class WHERE oid = 'certificates'::regclass",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        if estimate >= 0.0 {
            return Ok(estimate.round() as u64);
        }
        let n: i64 = c
            .query_one("SELECT count(*) FROM certificates", &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(n as u64)
    }

    /// Up to `n` stored certificates picked at random, the same ones for the same `seed` while
    /// the table is unchanged: pages sampled with `TABLESAMPLE SYSTEM … REPEATABLE (seed)` from
    /// a large table, rows ordered by a seeded hash from a small one. For benchmarks that need
    /// real numbers to look up.
    pub async fn sample_certificates(&self, n: usize, seed: u64) -> Result<Vec<Certificate>> {
        if n == 0 {
            return Ok(vec![]);
        }
        let total = self.count_estimate().await?;
        let c = self.reader().await?;
        let seed = (seed % (i32::MAX as u64)) as i32;
        let limit = n as i64;
        let rows = if total <= 100_000 {
            let stmt = c
                .prepare_cached(&format!(
                    "SELECT {CERT_COLUMNS} FROM certificates \
                     ORDER BY hashtext(number || ':' || kind || ':' || $1::int4), number, kind LIMIT $2"
                ))
                .await
                .map_err(backend)?;
            c.query(&stmt, &[&seed, &limit]).await.map_err(backend)?
        } else {
            // Three times the pages needed, so that the sample rarely falls short of n.
            let percent = (n as f64 * 3.0 / total as f64 * 100.0).clamp(0.0001, 100.0);
            let stmt = c
                .prepare_cached(&format!(
                    "SELECT {CERT_COLUMNS} FROM certificates TABLESAMPLE SYSTEM ($1) REPEATABLE ($2) LIMIT $3"
                ))
                .await
                .map_err(backend)?;
            c.query(&stmt, &[&(percent as f32), &(seed as f64), &limit])
                .await
                .map_err(backend)?
        };
        self.know_kinds(&c, &rows).await?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// Where reads go.
    pub fn read_description(&self) -> &str {
        self.reads
            .as_ref()
            .map(|(_, t)| t.shown.as_str())
            .unwrap_or(&self.primary_target.shown)
    }

    async fn writer(&self) -> Result<Client> {
        self.primary_target.get(&self.primary).await
    }

    async fn reader(&self) -> Result<Client> {
        match &self.reads {
            Some((pool, target)) => target.get(pool).await,
            None => self.writer().await,
        }
    }

    async fn reload_kinds(&self, c: &impl GenericClient) -> Result<()> {
        let stmt = c
            .prepare_cached("SELECT id, name FROM kinds")
            .await
            .map_err(backend)?;
        let rows = c.query(&stmt, &[]).await.map_err(backend)?;
        let mut t = self.kinds.write().unwrap_or_else(|p| p.into_inner());
        for r in rows {
            let (id, name): (i16, String) = (r.get(0), r.get(1));
            t.by_name.insert(name.clone(), id);
            t.by_id.insert(id, name);
        }
        Ok(())
    }

    fn kind_id(&self, name: &str) -> Option<i16> {
        self.kinds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_name
            .get(name)
            .copied()
    }

    /// The kind's id, interning it if new. Runs on its own, outside any batch: an unused kind
    /// row is harmless if the batch fails, and readers never meet an id they cannot name.
    async fn intern_kind(&self, c: &Client, name: &str) -> Result<i16> {
        if let Some(id) = self.kind_id(name) {
            return Ok(id);
        }
        let ins = c
            .prepare_cached("INSERT INTO kinds (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .await
            .map_err(backend)?;
        c.execute(&ins, &[&name]).await.map_err(backend)?;
        let sel = c
            .prepare_cached("SELECT id FROM kinds WHERE name = $1")
            .await
            .map_err(backend)?;
        let id: i16 = c.query_one(&sel, &[&name]).await.map_err(backend)?.get(0);
        let mut t = self.kinds.write().unwrap_or_else(|p| p.into_inner());
        t.by_name.insert(name.to_string(), id);
        t.by_id.insert(id, name.to_string());
        Ok(id)
    }

    /// Makes sure every kind id in `rows` (column 1) can be named, reading the kinds table of
    /// the database the rows came from when one is new to this process.
    async fn know_kinds(&self, c: &impl GenericClient, rows: &[Row]) -> Result<()> {
        let missing = {
            let t = self.kinds.read().unwrap_or_else(|p| p.into_inner());
            rows.iter()
                .any(|r| !t.by_id.contains_key(&r.get::<_, i16>(1)))
        };
        if missing {
            self.reload_kinds(c).await?;
        }
        Ok(())
    }

    /// A row of [`CERT_COLUMNS`] as a certificate. Call [`PgStore::know_kinds`] first.
    fn decode(&self, r: &Row) -> Result<Certificate> {
        let kind_id: i16 = col(r, 1)?;
        let kind = self
            .kinds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .get(&kind_id)
            .cloned()
            .ok_or_else(|| StoreError::Backend(format!("unknown kind id {kind_id}")))?;
        let key: &[u8] = col(r, 2)?;
        let level: Option<&str> = col(r, 5)?;
        Ok(Certificate {
            number: col(r, 0)?,
            kind,
            holder_key: HolderKey::from_slice(key)
                .ok_or_else(|| StoreError::Corrupt("a holder key is not 32 bytes".into()))?,
            holder_name: col(r, 3)?,
            occupation: col(r, 4)?,
            level: level
                .map(|l| l.parse::<Level>())
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("stored level: {e}")))?,
            issuer: col(r, 6)?,
            issued_on: col(r, 7)?,
            first_issued_on: col(r, 8)?,
            valid_until: col(r, 9)?,
            last_review_on: col(r, 10)?,
            state: state_from(col(r, 11)?, col(r, 12)?)?,
        })
    }

    async fn query_certs(
        &self,
        c: &impl GenericClient,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Certificate>> {
        let stmt = c.prepare_cached(sql).await.map_err(backend)?;
        let rows = c.query(&stmt, params).await.map_err(backend)?;
        self.know_kinds(c, &rows).await?;
        rows.iter().map(|r| self.decode(r)).collect()
    }
}

/// A replica (or a read-only session) given as the write database is named as such, before a
/// migration fails on it with a less helpful message.
async fn refuse_read_only(target: &Target, c: &Client) -> Result<()> {
    let row = c
        .query_one(
            "SELECT current_setting('transaction_read_only') = 'on', pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|e| db_error("cannot read the session state", &e))?;
    let (read_only, recovery): (bool, bool) = (row.get(0), row.get(1));
    if recovery {
        return Err(StoreError::Config(format!(
            "--database: {} is a read-only replica (in recovery); writes need the primary. \
             A replica serves as --read-database",
            target.shown
        )));
    }
    if read_only {
        return Err(StoreError::Config(format!(
            "--database: sessions on {} are read-only (default_transaction_read_only); \
             hutong writes to --database",
            target.shown
        )));
    }
    Ok(())
}

async fn registry_id(c: &impl GenericClient) -> Result<Option<String>> {
    let row = c
        .query_opt("SELECT value FROM meta WHERE key = 'registry_id'", &[])
        .await
        .map_err(|e| db_error("cannot read the registry id", &e))?;
    Ok(row.map(|r| r.get(0)))
}

/// Checks that the read database is a replica of the primary: the same registry id, and a
/// schema this code knows. A replica made a moment ago may not show the schema yet, so its
/// absence is waited for (up to `wait`); a different registry is refused at once.
async fn check_replica(
    target: &Target,
    pool: &Pool,
    primary_id: &str,
    wait: Duration,
) -> Result<()> {
    let start = Instant::now();
    loop {
        let client = target.get(pool).await?;
        if let Some(version) = schema::version_of(&client).await? {
            schema::check_not_newer(version).map_err(|e| match e {
                StoreError::Incompatible(m) => {
                    StoreError::Incompatible(format!("--read-database: {m}"))
                }
                other => other,
            })?;
            match registry_id(&client).await? {
                Some(id) if id == primary_id => return Ok(()),
                Some(_) => {
                    return Err(StoreError::Config(format!(
                        "--read-database: {} holds another registry than --database; \
                         it must be a streaming replica of the primary",
                        target.shown
                    )));
                }
                None => {}
            }
        }
        if start.elapsed() >= wait {
            return Err(StoreError::Config(format!(
                "--read-database: {} has no hutong registry (waited {} s); \
                 it must be a streaming replica of the primary",
                target.shown,
                wait.as_secs()
            )));
        }
        drop(client);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One certificate as the columns of a multi-row insert.
#[derive(Default)]
struct Columns<'a> {
    number: Vec<&'a str>,
    kind: Vec<i16>,
    holder_tag: Vec<i64>,
    issued_on: Vec<Day>,
    first_issued_on: Vec<Day>,
    valid_until: Vec<Option<Day>>,
    last_review_on: Vec<Option<Day>>,
    state_since: Vec<Option<Day>>,
    state: Vec<i8>,
    holder_key: Vec<&'a [u8]>,
    holder_name: Vec<&'a str>,
    occupation: Vec<Option<&'a str>>,
    level: Vec<Option<&'static str>>,
    issuer: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, c: &'a Certificate, kind: i16) {
        self.number.push(&c.number);
        self.kind.push(kind);
        self.holder_tag.push(holder_tag(&c.holder_key));
        self.issued_on.push(c.issued_on);
        self.first_issued_on.push(c.first_issued_on);
        self.valid_until.push(c.valid_until);
        self.last_review_on.push(c.last_review_on);
        self.state_since.push(c.state.since());
        self.state.push(state_code(&c.state));
        self.holder_key.push(&c.holder_key.0[..]);
        self.holder_name.push(&c.holder_name);
        self.occupation.push(c.occupation.as_deref());
        self.level.push(c.level.map(|l| l.id()));
        self.issuer.push(&c.issuer);
    }
}

const INSERT_BATCH: &str = "INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on, \
     valid_until, last_review_on, state_since, state, holder_key, holder_name, occupation, level, issuer, recorded_by) \
     SELECT u.*, $15::text FROM unnest($1::text[], $2::int2[], $3::int8[], $4::date[], $5::date[], $6::date[], \
     $7::date[], $8::date[], $9::\"char\"[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[]) AS u \
     ON CONFLICT (number, kind) DO NOTHING \
     RETURNING number, kind";

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        let w = self.writer().await?;
        w.simple_query("SELECT 1").await.map_err(backend)?;
        if self.reads.is_some() {
            let r = self.reader().await?;
            r.simple_query("SELECT 1").await.map_err(backend)?;
        }
        Ok(())
    }

    async fn bind_holder_secret(&self, fingerprint: &str) -> Result<()> {
        let c = self.writer().await?;
        c.execute(
            "INSERT INTO meta (key, value) VALUES ('holder_secret_fingerprint', $1) ON CONFLICT (key) DO NOTHING",
            &[&fingerprint],
        )
        .await
        .map_err(backend)?;
        let stored: String = c
            .query_one(
                "SELECT value FROM meta WHERE key = 'holder_secret_fingerprint'",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        if stored == fingerprint {
            Ok(())
        } else {
            Err(StoreError::Incompatible(format!(
                "this database was filled with another holder secret (fingerprint {stored}, configured {fingerprint}); \
                 use the holder key file it was made with"
            )))
        }
    }

    async fn put_issuers(&self, issuers: &[Issuer]) -> Result<()> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO issuers (id, record) VALUES ($1, $2::text::jsonb) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            )
            .await
            .map_err(backend)?;
        for i in issuers {
            let json = serde_json::to_string(i).map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.execute(&stmt, &[&i.id, &json]).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn issuer(&self, id: &str) -> Result<Option<Issuer>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT record::text FROM issuers WHERE id = $1")
            .await
            .map_err(backend)?;
        let row = c.query_opt(&stmt, &[&id]).await.map_err(backend)?;
        row.map(|r| {
            serde_json::from_str(r.get(0))
                .map_err(|e| StoreError::Backend(format!("issuer {id}: {e}")))
        })
        .transpose()
    }

    async fn issuers(&self) -> Result<Vec<Issuer>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT id, record::text FROM issuers ORDER BY id")
            .await
            .map_err(backend)?;
        c.query(&stmt, &[])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| {
                let id: &str = r.get(0);
                serde_json::from_str(r.get(1))
                    .map_err(|e| StoreError::Backend(format!("issuer {id}: {e}")))
            })
            .collect()
    }

    async fn insert_certificates(
        &self,
        batch: &[Certificate],
        by: &str,
        mode: InsertMode,
    ) -> Result<Vec<RowOutcome>> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        let mut c = self.writer().await?;
        let mut kind_ids = Vec::with_capacity(batch.len());
        for cert in batch {
            kind_ids.push(self.intern_kind(&c, &cert.kind).await?);
        }
        // The first occurrence of each identity is sent; a repeat within the batch is judged
        // against it, as if the rows had been stored one by one.
        let mut first: HashMap<(&str, i16), usize> = HashMap::with_capacity(batch.len());
        let mut unique: Vec<usize> = Vec::with_capacity(batch.len());
        for (i, cert) in batch.iter().enumerate() {
            first.entry((&cert.number, kind_ids[i])).or_insert_with(|| {
                unique.push(i);
                i
            });
        }
        // Rows go in key order, so that two batches sharing rows lock them in the same order.
        unique.sort_by(|&a, &b| {
            (&batch[a].number, kind_ids[a]).cmp(&(&batch[b].number, kind_ids[b]))
        });
        let mut cols = Columns::default();
        for &i in &unique {
            cols.push(&batch[i], kind_ids[i]);
        }
        let tx = c.transaction().await.map_err(backend)?;
        let insert = tx.prepare_cached(INSERT_BATCH).await.map_err(backend)?;
        let inserted: HashSet<(String, i16)> = tx
            .query(
                &insert,
                &[
                    &cols.number,
                    &cols.kind,
                    &cols.holder_tag,
                    &cols.issued_on,
                    &cols.first_issued_on,
                    &cols.valid_until,
                    &cols.last_review_on,
                    &cols.state_since,
                    &cols.state,
                    &cols.holder_key,
                    &cols.holder_name,
                    &cols.occupation,
                    &cols.level,
                    &cols.issuer,
                    &by,
                ],
            )
            .await
            .map_err(backend)?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // What is stored under the identities that were not inserted.
        let mut existing: HashMap<(String, i16), Certificate> = HashMap::new();
        if inserted.len() < unique.len() {
            let (mut numbers, mut kinds) = (Vec::new(), Vec::new());
            for &i in &unique {
                let key = (batch[i].number.clone(), kind_ids[i]);
                if !inserted.contains(&key) {
                    numbers.push(batch[i].number.as_str());
                    kinds.push(kind_ids[i]);
                }
            }
            let stmt = tx
                .prepare_cached(&format!(
                    "SELECT {CERT_COLUMNS} FROM certificates \
                     WHERE (number, kind) IN (SELECT * FROM unnest($1::text[], $2::int2[]))"
                ))
                .await
                .map_err(backend)?;
            let rows = tx
                .query(&stmt, &[&numbers, &kinds])
                .await
                .map_err(backend)?;
            self.know_kinds(&tx, &rows).await?;
            for r in &rows {
                existing.insert((r.get(0), r.get(1)), self.decode(r)?);
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        for (i, cert) in batch.iter().enumerate() {
            let key = (cert.number.clone(), kind_ids[i]);
            let f = first[&(cert.number.as_str(), kind_ids[i])];
            let stored = if inserted.contains(&key) {
                if f == i {
                    out.push(RowOutcome::Stored);
                    continue;
                }
                &batch[f]
            } else {
                existing.get(&key).ok_or_else(|| {
                    StoreError::Backend(format!(
                        "{} of kind {} was neither inserted nor found",
                        cert.number, cert.kind
                    ))
                })?
            };
            out.push(if stored == cert {
                RowOutcome::Unchanged
            } else {
                RowOutcome::Conflict {
                    reason: format!(
                        "{} of kind {} is already registered with different data",
                        cert.number, cert.kind
                    ),
                }
            });
        }
        if mode == InsertMode::AllOrNothing {
            let conflicts: Vec<&str> = out
                .iter()
                .filter_map(|o| match o {
                    RowOutcome::Conflict { reason } => Some(reason.as_str()),
                    _ => None,
                })
                .collect();
            if !conflicts.is_empty() {
                let msg = conflicts.join("; ");
                tx.rollback().await.map_err(backend)?;
                return Err(StoreError::Conflict(msg));
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn certificate_count_estimate(&self) -> Result<u64> {
        self.count_estimate().await
    }

    async fn random_certificates(&self, n: usize, seed: u64) -> Result<Vec<Certificate>> {
        self.sample_certificates(n, seed).await
    }

    async fn certificates_by_number(&self, number: &str) -> Result<Vec<Certificate>> {
        let c = self.reader().await?;
        let mut v = self
            .query_certs(
                &c,
                &format!("SELECT {CERT_COLUMNS} FROM certificates WHERE number = $1"),
                &[&number],
            )
            .await?;
        v.sort_by(|a, b| a.kind.cmp(&b.kind));
        Ok(v)
    }

    async fn certificate(&self, number: &str, kind: &str) -> Result<Option<Certificate>> {
        let c = self.reader().await?;
        let v = self
            .query_certs(
                &c,
                &format!(
                    "SELECT {CERT_COLUMNS} FROM certificates WHERE number = $1 AND kind = {KIND_BY_NAME}"
                ),
                &[&number, &kind],
            )
            .await?;
        Ok(v.into_iter().next())
    }

    async fn certificates_by_holder(&self, holder: &HolderKey) -> Result<Vec<Certificate>> {
        let c = self.reader().await?;
        let mut v = self
            .query_certs(
                &c,
                &format!(
                    "SELECT {CERT_COLUMNS} FROM certificates WHERE holder_tag = $1 AND holder_key = $2"
                ),
                &[&holder_tag(holder), &&holder.0[..]],
            )
            .await?;
        v.sort_by(|a, b| (&a.kind, a.issued_on, &a.number).cmp(&(&b.kind, b.issued_on, &b.number)));
        Ok(v)
    }

    async fn record_event(
        &self,
        number: &str,
        kind: &str,
        event: &Event,
        update: &CertificateUpdate,
    ) -> Result<Certificate> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let stmt = tx
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS} FROM certificates WHERE number = $1 AND kind = {KIND_BY_NAME} FOR UPDATE"
            ))
            .await
            .map_err(backend)?;
        let rows = tx.query(&stmt, &[&number, &kind]).await.map_err(backend)?;
        let Some(row) = rows.first() else {
            return Err(StoreError::NotFound(format!(
                "certificate {number} of kind {kind}"
            )));
        };
        self.know_kinds(&tx, &rows).await?;
        let kind_id: i16 = row.get(1);
        let mut cert = self.decode(row)?;
        if let Some(v) = update.valid_until {
            cert.valid_until = v;
        }
        if let Some(v) = update.last_review_on {
            cert.last_review_on = Some(v);
        }
        if let Some(v) = update.issued_on {
            cert.issued_on = v;
        }
        if let Some(v) = update.state {
            cert.state = v;
        }
        let upd = tx
            .prepare_cached(
                "UPDATE certificates SET valid_until = $3, last_review_on = $4, issued_on = $5, \
                 state = $6, state_since = $7 WHERE number = $1 AND kind = $2",
            )
            .await
            .map_err(backend)?;
        tx.execute(
            &upd,
            &[
                &number,
                &kind_id,
                &cert.valid_until,
                &cert.last_review_on,
                &cert.issued_on,
                &state_code(&cert.state),
                &cert.state.since(),
            ],
        )
        .await
        .map_err(backend)?;
        let ins = tx
            .prepare_cached(
                "INSERT INTO events (number, kind, event, on_day, actor, note) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await
            .map_err(backend)?;
        tx.execute(
            &ins,
            &[
                &number,
                &kind_id,
                &event.kind.id(),
                &event.on,
                &event.by,
                &event.note,
            ],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(cert)
    }

    async fn events(&self, number: &str, kind: &str) -> Result<Vec<Event>> {
        let c = self.reader().await?;
        // One statement, so one snapshot: the certificate row (which implies the issue) and its
        // later events, which live on the same shard.
        let stmt = c
            .prepare_cached(&format!(
                "SELECT c.first_recorded_on, c.recorded_by, e.event, e.on_day, e.actor, e.note \
                 FROM certificates c LEFT JOIN events e ON e.number = c.number AND e.kind = c.kind \
                 WHERE c.number = $1 AND c.kind = {KIND_BY_NAME} ORDER BY e.id"
            ))
            .await
            .map_err(backend)?;
        let rows = c.query(&stmt, &[&number, &kind]).await.map_err(backend)?;
        let Some(head) = rows.first() else {
            return Ok(vec![]);
        };
        let mut out = vec![Event {
            kind: EventKind::Issued,
            on: col(head, 0)?,
            by: col(head, 1)?,
            note: None,
        }];
        for r in &rows {
            let Some(name) = col::<Option<&str>>(r, 2)? else {
                continue;
            };
            out.push(Event {
                kind: EventKind::parse(name)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {name:?}")))?,
                on: col(r, 3)?,
                by: col(r, 4)?,
                note: col(r, 5)?,
            });
        }
        Ok(out)
    }

    async fn stats(&self) -> Result<Stats> {
        let c = self.reader().await?;
        let by_kind_rows = c
            .query("SELECT kind, count(*) FROM certificates GROUP BY kind", &[])
            .await
            .map_err(backend)?;
        // `know_kinds` reads the kind id from column 1; these rows carry it in column 0.
        let missing = {
            let t = self.kinds.read().unwrap_or_else(|p| p.into_inner());
            by_kind_rows
                .iter()
                .any(|r| !t.by_id.contains_key(&r.get::<_, i16>(0)))
        };
        if missing {
            self.reload_kinds(&c).await?;
        }
        let mut by_kind = Vec::with_capacity(by_kind_rows.len());
        {
            let t = self.kinds.read().unwrap_or_else(|p| p.into_inner());
            for r in &by_kind_rows {
                let id: i16 = r.get(0);
                let name = t
                    .by_id
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| StoreError::Backend(format!("unknown kind id {id}")))?;
                by_kind.push((name, r.get::<_, i64>(1) as u64));
            }
        }
        by_kind.sort();
        let certificates = by_kind.iter().map(|(_, n)| n).sum();
        let holders: i64 = c
            .query_one(
                "SELECT count(*) FROM (SELECT DISTINCT holder_tag FROM certificates) h",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        let issuers: i64 = c
            .query_one("SELECT count(*) FROM issuers", &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(Stats {
            certificates,
            holders: holders as u64,
            issuers: issuers as u64,
            by_kind,
        })
    }

    async fn is_empty(&self) -> Result<bool> {
        // The primary decides: this answer starts writes (`serve --demo`).
        let c = self.writer().await?;
        let any: bool = c
            .query_one("SELECT EXISTS (SELECT 1 FROM certificates)", &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(!any)
    }

    // A bulk load needs no special setting: a batch is one statement and one commit, so durable
    // commits (synchronous_commit on) cost one WAL flush per thousands of rows.

    async fn end_bulk_load(&self) -> Result<()> {
        // Sets hint bits and the visibility map once, instead of on the first reads of every
        // page, and gives the planner statistics for the new size.
        let c = self.writer().await?;
        c.batch_execute("VACUUM (ANALYZE) certificates")
            .await
            .map_err(backend)
    }
}
