//! The PostgreSQL backend: the registry for server deployments.
//!
//! - **Pools.** Connections come from a [deadpool](deadpool_postgres) pool; every statement is
//!   prepared once per connection and cached.
//! - **Read scaling.** [`PgStore::connect_with`] takes an optional second URL for query traffic
//!   (a streaming replica): lookups, lists, the journal and counts go there, writes and the
//!   reads a write depends on go to the primary. Read sessions are read-only, and the read database must
//!   carry the primary's registry id, so a mistyped URL is refused rather than served.
//! - **Migrations.** Embedded, versioned and forward-only (`schema_migrations`), applied to the
//!   primary on connect under an advisory lock; a database newer than the code is refused.
//! - **Distribution.** Every large table is keyed by certificate number first, so that a
//!   Postgres-compatible distributed engine can shard it (see `docs/scaling.md`).
//! - **Bulk loads.** A batch goes to the server as one multi-row `INSERT … SELECT FROM unnest(…)`
//!   with arrays as parameters, and its journal entries as another: one round trip and one plan
//!   for thousands of rows.
//! - **The journal.** Every writing transaction first locks the one row of `journal_head`
//!   (`FOR UPDATE`) and numbers its entries from it: writers are serialised at the journal, a
//!   rolled-back transaction gives its numbers back, and so the sequence is gapless and entries
//!   become visible in their order. A batch takes the lock once. Taking it first, before any
//!   other row, also means two writers never wait on each other's rows in opposite orders.

mod conn;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Client, GenericClient, Pool};
use tokio_postgres::Row;

use hutong_core::date::Day;
use hutong_core::journal::{Entry, Subject};
use hutong_core::keys::KeyRecord;
use hutong_core::number::mask_id_numbers;
use hutong_core::share::{ShareId, SharePurpose, ShareRecord};
use hutong_core::token::{TokenId, TokenRecord};
use hutong_core::{AdminState, Certificate, HolderKey, Issuer, Level, RevocationReason};
use hutong_store::{
    AuditRow, CertificateWrite, IdempotencyClaim, IdempotencyRecord, InsertMode, Issue,
    IssuerWrite, KeyWrite, LogHead, LogLeaf, LogNode, MirrorCursor, Mirrored, MirroredSubject,
    PublishedPolicy, Result, RowOutcome, Stats, Store, StoreError, StoredCheckpoint, WebhookRecord,
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
pub(crate) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T> {
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

fn state_reason(s: &AdminState) -> Option<&'static str> {
    match s {
        AdminState::Revoked { reason, .. } => reason.map(|r| r.id()),
        _ => None,
    }
}

fn state_from(code: i8, since: Option<Day>, reason: Option<&str>) -> Result<AdminState> {
    let since =
        || since.ok_or_else(|| StoreError::Corrupt("a certificate's state has no date".into()));
    // An unknown state or reason is an error, never "active": a record that cannot be read must
    // not verify as valid.
    Ok(match code as u8 {
        b'a' => AdminState::Active,
        b's' => AdminState::Suspended { since: since()? },
        b'r' => AdminState::Revoked {
            on: since()?,
            reason: reason
                .map(|r| {
                    RevocationReason::parse(r).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown revocation reason {}", shown(r)))
                    })
                })
                .transpose()?,
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown certificate state code {:?}",
                other as char
            )));
        }
    })
}

/// A stored value for an error message: short values as they are, long ones only by length
/// (a long value in a wrong column may be personal data, such as an ID number).
fn shown(v: &str) -> String {
    if v.chars().count() <= 12 {
        format!("{v:?}")
    } else {
        format!("a value of {} characters", v.chars().count())
    }
}

macro_rules! cert_columns {
    ($p:literal) => {
        concat!(
            $p,
            "number, ",
            $p,
            "kind, ",
            $p,
            "holder_key, ",
            $p,
            "holder_name, ",
            $p,
            "occupation, ",
            $p,
            "level, ",
            $p,
            "issuer, ",
            $p,
            "issued_on, ",
            $p,
            "first_issued_on, ",
            $p,
            "valid_until, ",
            $p,
            "last_review_on, ",
            $p,
            "state, ",
            $p,
            "state_since, ",
            $p,
            "state_reason"
        )
    };
}

/// The columns [`read_cert`] reads, in its order.
const CERT_COLUMNS: &str = cert_columns!("");
/// [`CERT_COLUMNS`] of the table named `c`.
pub(crate) const CERT_COLUMNS_OF_C: &str = cert_columns!("c.");

/// A certificate from the columns of [`CERT_COLUMNS`] starting at `o`, of kind `kind` (the kind
/// column itself, `o + 1`, is the interned id and is not read here).
pub(crate) fn read_cert(r: &Row, o: usize, kind: String) -> Result<Certificate> {
    let key: &[u8] = col(r, o + 2)?;
    let level: Option<&str> = col(r, o + 5)?;
    Ok(Certificate {
        number: col(r, o)?,
        kind,
        holder_key: HolderKey::from_slice(key)
            .ok_or_else(|| StoreError::Corrupt("a holder key is not 32 bytes".into()))?,
        holder_name: col(r, o + 3)?,
        occupation: col(r, o + 4)?,
        level: level
            .map(|l| l.parse::<Level>())
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("stored level: {e}")))?,
        issuer: col(r, o + 6)?,
        issued_on: col(r, o + 7)?,
        first_issued_on: col(r, o + 8)?,
        valid_until: col(r, o + 9)?,
        last_review_on: col(r, o + 10)?,
        state: state_from(col(r, o + 11)?, col(r, o + 12)?, col(r, o + 13)?)?,
    })
}

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
    /// Applies a change to a stored certificate inside a write transaction, with its entry.
    async fn update_in(
        &self,
        tx: &impl GenericClient,
        j: &mut JournalWriter<'_>,
        w: &CertificateWrite,
    ) -> Result<()> {
        let stmt = tx
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS}, id FROM certificates WHERE number = $1 AND kind = {KIND_BY_NAME} FOR UPDATE"
            ))
            .await
            .map_err(backend)?;
        let rows = tx
            .query(&stmt, &[&w.before.number, &w.before.kind])
            .await
            .map_err(backend)?;
        let Some(row) = rows.first() else {
            return Err(no_certificate(&w.before.number, &w.before.kind));
        };
        self.know_kinds(tx, &rows).await?;
        let id: i64 = col(row, 14)?;
        if id != w.id || self.decode(row)? != w.before {
            return Err(StoreError::Stale(Subject::Certificate(id).to_string()));
        }
        let a = &w.after;
        let upd = tx
            .prepare_cached(
                "UPDATE certificates SET holder_name = $2, valid_until = $3, last_review_on = $4, \
                 issued_on = $5, state = $6, state_since = $7, state_reason = $8 WHERE id = $1",
            )
            .await
            .map_err(backend)?;
        tx.execute(
            &upd,
            &[
                &id,
                &a.holder_name,
                &a.valid_until,
                &a.last_review_on,
                &a.issued_on,
                &state_code(&a.state),
                &a.state.since(),
                &state_reason(&a.state),
            ],
        )
        .await
        .map_err(backend)?;
        touch_activity(tx, &[&a.issuer], j.at_micros).await?;
        j.append(
            &Subject::Certificate(id),
            w.change.clone(),
            Some(w.after_sha256.clone()),
        );
        Ok(())
    }

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
        read_cert(r, 0, kind)
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
    state_reason: Vec<Option<&'static str>>,
    holder_key: Vec<&'a [u8]>,
    holder_name: Vec<&'a str>,
    occupation: Vec<Option<&'a str>>,
    level: Vec<Option<&'static str>>,
    issuer: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    /// Inserts the rows (`INSERT_BATCH`), recorded by `actor`; answers (number, kind, id) of
    /// each row inserted, none for an identity already stored.
    async fn insert(&self, tx: &impl GenericClient, actor: &str) -> Result<Vec<Row>> {
        let insert = tx.prepare_cached(INSERT_BATCH).await.map_err(backend)?;
        tx.query(
            &insert,
            &[
                &self.number,
                &self.kind,
                &self.holder_tag,
                &self.issued_on,
                &self.first_issued_on,
                &self.valid_until,
                &self.last_review_on,
                &self.state_since,
                &self.state,
                &self.holder_key,
                &self.holder_name,
                &self.occupation,
                &self.level,
                &self.issuer,
                &self.state_reason,
                &actor,
            ],
        )
        .await
        .map_err(backend)
    }

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
        self.state_reason.push(state_reason(&c.state));
        self.holder_key.push(&c.holder_key.0[..]);
        self.holder_name.push(&c.holder_name);
        self.occupation.push(c.occupation.as_deref());
        self.level.push(c.level.map(|l| l.id()));
        self.issuer.push(&c.issuer);
    }
}

const INSERT_BATCH: &str = "INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on, \
     valid_until, last_review_on, state_since, state, holder_key, holder_name, occupation, level, issuer, \
     state_reason, recorded_by) \
     SELECT u.*, $16::text FROM unnest($1::text[], $2::int2[], $3::int8[], $4::date[], $5::date[], $6::date[], \
     $7::date[], $8::date[], $9::\"char\"[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[], \
     $15::text[]) AS u \
     ON CONFLICT (number, kind) DO NOTHING \
     RETURNING number, kind, id";

/// Records, inside a write transaction, that the registry received a change to one of each
/// of `issuers`' certificates at `at_micros` (migration 8).
async fn touch_activity(tx: &impl GenericClient, issuers: &[&str], at_micros: i64) -> Result<()> {
    if issuers.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO issuer_activity (issuer, last_change_at) \
             SELECT i, $2 FROM unnest($1::text[]) AS u(i) \
             ON CONFLICT (issuer) DO UPDATE \
             SET last_change_at = GREATEST(issuer_activity.last_change_at, excluded.last_change_at)",
        )
        .await
        .map_err(backend)?;
    tx.execute(&stmt, &[&issuers, &at_micros])
        .await
        .map_err(backend)?;
    Ok(())
}

/// Stores one issuer record with its entry inside a write transaction ([`Store::put_issuers`]).
async fn put_issuer_in(
    tx: &impl GenericClient,
    j: &mut JournalWriter<'_>,
    w: &IssuerWrite,
) -> Result<()> {
    let read = tx
        .prepare_cached("SELECT record::text FROM issuers WHERE id = $1 FOR UPDATE")
        .await
        .map_err(backend)?;
    let upsert = tx
        .prepare_cached(
            "INSERT INTO issuers (id, record) VALUES ($1, $2::text::jsonb) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
        )
        .await
        .map_err(backend)?;
    let id = &w.after.id;
    let stored = tx
        .query_opt(&read, &[id])
        .await
        .map_err(backend)?
        .map(|r| {
            serde_json::from_str::<Issuer>(col(&r, 0)?)
                .map_err(|e| StoreError::Corrupt(format!("issuer {id}: {e}")))
        })
        .transpose()?;
    match (&w.before, stored) {
        (None, Some(_)) => {
            return Err(StoreError::Conflict(format!(
                "issuer {id} is already registered"
            )));
        }
        (Some(_), None) => return Err(StoreError::NotFound(format!("issuer {id}"))),
        (Some(b), Some(s)) if *b != s => {
            return Err(StoreError::Stale(format!("issuer {id}")));
        }
        _ => {}
    }
    let json = serde_json::to_string(&w.after).map_err(|e| StoreError::Backend(e.to_string()))?;
    tx.execute(&upsert, &[id, &json]).await.map_err(backend)?;
    j.append(
        &Subject::Issuer(id.clone()),
        w.change.clone(),
        Some(w.after_sha256.clone()),
    );
    Ok(())
}

/// Appends the entries of one writing transaction to the journal. [`JournalWriter::lock`] takes
/// the head row `FOR UPDATE` and numbers entries from it; [`JournalWriter::write`] stores them
/// and moves the head, in one statement. Until the transaction ends no other writer can take a
/// number, and a rolled-back transaction takes its numbers with it: the journal is gapless, and
/// an entry is visible only once every entry before it is.
struct JournalWriter<'a> {
    actor: &'a str,
    at_micros: i64,
    /// The first number of this transaction.
    first: u64,
    seqs: Vec<i64>,
    subjects: Vec<String>,
    changes: Vec<String>,
    hashes: Vec<Option<String>>,
}

const LOCK_HEAD: &str = "SELECT seq FROM journal_head FOR UPDATE";

const APPEND: &str = "WITH appended AS ( \
       INSERT INTO journal (seq, at, actor, subject, change, record_sha256) \
       SELECT u.seq, $2, $3, u.subject, u.change, u.h \
       FROM unnest($1::int8[], $4::text[], $5::text[], $6::text[]) AS u(seq, subject, change, h)) \
     UPDATE journal_head SET seq = $7";

const ENTRY_COLUMNS: &str = "seq, at, actor, subject, change, record_sha256";

impl<'a> JournalWriter<'a> {
    async fn lock(
        tx: &impl GenericClient,
        actor: &'a str,
        at_micros: i64,
    ) -> Result<JournalWriter<'a>> {
        let stmt = tx.prepare_cached(LOCK_HEAD).await.map_err(backend)?;
        let row = tx
            .query_opt(&stmt, &[])
            .await
            .map_err(|e| db_error("cannot lock the journal head", &e))?
            .ok_or_else(|| StoreError::Corrupt("the journal head row is missing".into()))?;
        let head: i64 = col(&row, 0)?;
        let head = u64::try_from(head)
            .map_err(|_| StoreError::Corrupt(format!("the journal head is {head}")))?;
        Ok(JournalWriter {
            actor,
            at_micros,
            first: head + 1,
            seqs: Vec::new(),
            subjects: Vec::new(),
            changes: Vec::new(),
            hashes: Vec::new(),
        })
    }

    /// The number the next entry gets.
    fn next(&self) -> u64 {
        self.first + self.seqs.len() as u64
    }

    fn with_capacity(mut self, n: usize) -> Self {
        self.seqs.reserve(n);
        self.subjects.reserve(n);
        self.changes.reserve(n);
        self.hashes.reserve(n);
        self
    }

    /// Adds an entry; returns its number.
    fn append(&mut self, subject: &Subject, change: String, record_sha256: Option<String>) -> u64 {
        let seq = self.next();
        self.seqs.push(seq as i64);
        self.subjects.push(subject.to_string());
        self.changes.push(change);
        self.hashes.push(record_sha256);
        seq
    }

    /// The entries added, as stored.
    fn entries(&self) -> Result<Vec<Entry>> {
        (0..self.seqs.len())
            .map(|i| {
                Ok(Entry {
                    seq: self.seqs[i] as u64,
                    at_micros: self.at_micros,
                    actor: self.actor.to_string(),
                    subject: self.subjects[i]
                        .parse()
                        .map_err(|e: String| StoreError::Backend(e))?,
                    change: self.changes[i].clone(),
                    record_sha256: self.hashes[i].clone(),
                })
            })
            .collect()
    }

    /// Stores the entries and moves the head past them.
    async fn write(&self, tx: &impl GenericClient) -> Result<()> {
        let Some(&last) = self.seqs.last() else {
            return Ok(());
        };
        let stmt = tx.prepare_cached(APPEND).await.map_err(backend)?;
        tx.execute(
            &stmt,
            &[
                &self.seqs,
                &self.at_micros,
                &self.actor,
                &self.subjects,
                &self.changes,
                &self.hashes,
                &last,
            ],
        )
        .await
        .map_err(|e| db_error("cannot append to the journal", &e))?;
        Ok(())
    }
}

/// An idempotency record from the columns request_sha256, first_seq, last_seq, status, body,
/// starting at column `o`.
fn idempotency_record(r: &Row, o: usize) -> Result<IdempotencyRecord> {
    let first: Option<i64> = col(r, o + 1)?;
    let last: Option<i64> = col(r, o + 2)?;
    let status: Option<i32> = col(r, o + 3)?;
    let body: Option<String> = col(r, o + 4)?;
    let status = status
        .map(|s| {
            u16::try_from(s).map_err(|_| StoreError::Corrupt(format!("an answer has status {s}")))
        })
        .transpose()?;
    Ok(IdempotencyRecord {
        request_sha256: col(r, o)?,
        seqs: first.zip(last).map(|(a, b)| (a as u64, b as u64)),
        answer: status.zip(body),
    })
}

fn read_entry(r: &Row) -> Result<Entry> {
    let seq: i64 = col(r, 0)?;
    let subject: &str = col(r, 3)?;
    Ok(Entry {
        seq: seq as u64,
        at_micros: col(r, 1)?,
        actor: col(r, 2)?,
        subject: subject
            .parse()
            .map_err(|e: String| StoreError::Corrupt(format!("journal entry {seq}: {e}")))?,
        change: col(r, 4)?,
        record_sha256: col(r, 5)?,
    })
}

/// Stores an idempotency claim for the entries `first..next` of the transaction. A claim that
/// exists is [`StoreError::KeyUsed`]; the caller's transaction then rolls back when dropped.
async fn store_claim(
    tx: &impl GenericClient,
    claim: &IdempotencyClaim,
    first: u64,
    next: u64,
) -> Result<()> {
    let seqs = (next > first).then(|| (first as i64, next as i64 - 1));
    let stmt = tx
        .prepare_cached(
            "INSERT INTO idempotency (owner, key, request_sha256, first_seq, last_seq) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, key) DO NOTHING",
        )
        .await
        .map_err(backend)?;
    let n = tx
        .execute(
            &stmt,
            &[
                &claim.owner,
                &claim.key,
                &claim.request_sha256,
                &seqs.map(|s| s.0),
                &seqs.map(|s| s.1),
            ],
        )
        .await
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::KeyUsed);
    }
    Ok(())
}

const TOKEN_COLUMNS: &str = "id, hash, actor, label, created_at, expires_at, revoked_at";

fn read_token(r: &Row) -> Result<TokenRecord> {
    let id: &str = col(r, 0)?;
    let hash: &[u8] = col(r, 1)?;
    let actor: &str = col(r, 2)?;
    Ok(TokenRecord {
        id: TokenId::parse(id).map_err(|e| StoreError::Corrupt(format!("token id: {e}")))?,
        hash: hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("a token hash is not 32 bytes".into()))?,
        actor: serde_json::from_str(actor)
            .map_err(|e| StoreError::Corrupt(format!("the actor of token {id}: {e}")))?,
        label: col(r, 3)?,
        created_at_micros: col(r, 4)?,
        expires_at_micros: col(r, 5)?,
        revoked_at_micros: col(r, 6)?,
    })
}

const SHARE_COLUMNS: &str =
    "id, hash, holder, certificate, purpose, created_at, expires_at, revoked_at, commitments::text";

fn read_share(r: &Row) -> Result<ShareRecord> {
    let id: &str = col(r, 0)?;
    let hash: &[u8] = col(r, 1)?;
    let holder: &[u8] = col(r, 2)?;
    let purpose: &str = col(r, 4)?;
    Ok(ShareRecord {
        id: ShareId::parse(id).map_err(|e| StoreError::Corrupt(format!("share id: {e}")))?,
        hash: hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("a share code hash is not 32 bytes".into()))?,
        holder: HolderKey::from_slice(holder)
            .ok_or_else(|| StoreError::Corrupt("a share code's holder is not 32 bytes".into()))?,
        certificate: col(r, 3)?,
        purpose: SharePurpose::parse(purpose).map_err(StoreError::Corrupt)?,
        created_at_micros: col(r, 5)?,
        expires_at_micros: col(r, 6)?,
        revoked_at_micros: col(r, 7)?,
        commitments: ShareRecord::commitments_from_json(col(r, 8)?).map_err(StoreError::Corrupt)?,
    })
}

/// A limit for SQL: `usize` values beyond `i64` mean no limit.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The message of a certificate that is not stored, without an ID number its number embeds.
fn no_certificate(number: &str, kind: &str) -> StoreError {
    StoreError::NotFound(format!(
        "certificate {} of kind {kind}",
        mask_id_numbers(number)
    ))
}

/// A stored 32-byte hash.
fn hash32(r: &Row, i: usize) -> Result<[u8; 32]> {
    let v: &[u8] = col(r, i)?;
    v.try_into()
        .map_err(|_| StoreError::Corrupt("a log hash is not 32 bytes".into()))
}

fn read_log_leaf(r: &Row) -> Result<LogLeaf> {
    let index: i64 = col(r, 0)?;
    let seq: i64 = col(r, 1)?;
    Ok(LogLeaf {
        index: index as u64,
        seq: seq as u64,
        hash: hash32(r, 2)?,
    })
}

/// An index or size as a `bigint`; beyond it, the largest (nothing is stored there).
fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn read_log_head(c: &impl GenericClient, lock: bool) -> Result<LogHead> {
    let sql = if lock {
        "SELECT size, through_seq FROM log_head FOR UPDATE"
    } else {
        "SELECT size, through_seq FROM log_head"
    };
    let stmt = c.prepare_cached(sql).await.map_err(backend)?;
    let row = c
        .query_opt(&stmt, &[])
        .await
        .map_err(|e| db_error("cannot read the log head", &e))?
        .ok_or_else(|| StoreError::Corrupt("the log head row is missing".into()))?;
    let size: i64 = col(&row, 0)?;
    let through: i64 = col(&row, 1)?;
    Ok(LogHead {
        size: size as u64,
        through_seq: through as u64,
    })
}

/// A unique or check violation of the log's tables, as a conflict; anything else as a backend
/// failure.
fn log_conflict(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::CHECK_VIOLATION => {
            StoreError::Conflict(format!("the log refuses the append: {}", conn::chain(&e)))
        }
        _ => backend(e),
    }
}

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

    async fn mark_demo(&self, record: &str) -> Result<()> {
        self.writer()
            .await?
            .execute(
                "INSERT INTO meta (key, value) VALUES ('demo', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&record],
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn demo_record(&self) -> Result<Option<String>> {
        Ok(self
            .reader()
            .await?
            .query_opt("SELECT value FROM meta WHERE key = 'demo'", &[])
            .await
            .map_err(backend)?
            .map(|r| r.get(0)))
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

    async fn put_issuers(
        &self,
        writes: &[IssuerWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        for w in writes {
            put_issuer_in(&tx, &mut j, w).await?;
        }
        j.write(&tx).await?;
        let entries = j.entries()?;
        tx.commit().await.map_err(backend)?;
        Ok(entries)
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
        batch: &[Issue],
        actor: &str,
        at_micros: i64,
        mode: InsertMode,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Vec<RowOutcome>> {
        if batch.is_empty() && claim.is_none() {
            return Ok(vec![]);
        }
        let mut c = self.writer().await?;
        let mut kind_ids = Vec::with_capacity(batch.len());
        for issue in batch {
            kind_ids.push(self.intern_kind(&c, &issue.certificate.kind).await?);
        }
        // The first occurrence of each identity is sent; a repeat within the batch is judged
        // against it, as if the rows had been stored one by one. Rows go in input order, so
        // that ids and journal entries follow it; writers cannot deadlock on rows, since each
        // takes the journal head first.
        let mut first: HashMap<(&str, i16), usize> = HashMap::with_capacity(batch.len());
        let mut cols = Columns::default();
        for (i, issue) in batch.iter().enumerate() {
            let cert = &issue.certificate;
            first.entry((&cert.number, kind_ids[i])).or_insert_with(|| {
                cols.push(cert, kind_ids[i]);
                i
            });
        }
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros)
            .await?
            .with_capacity(first.len());
        let first_seq = j.next();
        let inserted: HashMap<(String, i16), i64> = cols
            .insert(&tx, actor)
            .await?
            .iter()
            .map(|r| Ok(((col(r, 0)?, col(r, 1)?), col(r, 2)?)))
            .collect::<Result<_>>()?;
        // What is stored under the identities that were not inserted.
        let mut existing: HashMap<(String, i16), Certificate> = HashMap::new();
        if inserted.len() < first.len() {
            let (mut numbers, mut kinds) = (Vec::new(), Vec::new());
            for (&(number, kind), _) in first.iter() {
                if !inserted.contains_key(&(number.to_string(), kind)) {
                    numbers.push(number);
                    kinds.push(kind);
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
                existing.insert((col(r, 0)?, col(r, 1)?), self.decode(r)?);
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        // The issuers of the stored rows: a batch has few.
        let mut touched: Vec<&str> = Vec::new();
        for (i, issue) in batch.iter().enumerate() {
            let cert = &issue.certificate;
            let key = (cert.number.clone(), kind_ids[i]);
            let f = first[&(cert.number.as_str(), kind_ids[i])];
            let stored = if let Some(&id) = inserted.get(&key) {
                if f == i {
                    j.append(
                        &Subject::Certificate(id),
                        issue.change(),
                        Some(issue.sha256.clone()),
                    );
                    if !touched.contains(&cert.issuer.as_str()) {
                        touched.push(&cert.issuer);
                    }
                    out.push(RowOutcome::Stored);
                    continue;
                }
                &batch[f].certificate
            } else {
                existing.get(&key).ok_or_else(|| {
                    StoreError::Backend(format!(
                        "{} of kind {} was neither inserted nor found",
                        mask_id_numbers(&cert.number),
                        cert.kind
                    ))
                })?
            };
            out.push(if stored == cert {
                RowOutcome::Unchanged
            } else {
                RowOutcome::Conflict {
                    reason: hutong_store::conflict_reason(stored, cert),
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
        touch_activity(&tx, &touched, at_micros).await?;
        if let Some(claim) = claim {
            store_claim(&tx, claim, first_seq, j.next()).await?;
        }
        j.write(&tx).await?;
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

    async fn certificate_with_id(
        &self,
        number: &str,
        kind: &str,
    ) -> Result<Option<(i64, Certificate)>> {
        // From the primary: the record a change is applied to must be the stored one, which a
        // lagging replica may not show yet.
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS}, id FROM certificates WHERE number = $1 AND kind = {KIND_BY_NAME}"
            ))
            .await
            .map_err(backend)?;
        let rows = c.query(&stmt, &[&number, &kind]).await.map_err(backend)?;
        self.know_kinds(&c, &rows).await?;
        rows.first()
            .map(|r| Ok((col(r, 14)?, self.decode(r)?)))
            .transpose()
    }

    async fn certificate_by_id(&self, id: i64) -> Result<Option<Certificate>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS} FROM certificates WHERE id = $1"
            ))
            .await
            .map_err(backend)?;
        let rows = c.query(&stmt, &[&id]).await.map_err(backend)?;
        self.know_kinds(&c, &rows).await?;
        rows.first().map(|r| self.decode(r)).transpose()
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

    async fn update_certificate(
        &self,
        w: &CertificateWrite,
        actor: &str,
        at_micros: i64,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Entry> {
        w.check()?;
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let first_seq = j.next();
        self.update_in(&tx, &mut j, w).await?;
        if let Some(claim) = claim {
            store_claim(&tx, claim, first_seq, j.next()).await?;
        }
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn renew_as(
        &self,
        old: &CertificateWrite,
        new: &Issue,
        actor: &str,
        at_micros: i64,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<(Entry, Entry)> {
        old.check()?;
        let mut c = self.writer().await?;
        let kind = self.intern_kind(&c, &new.certificate.kind).await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let first_seq = j.next();
        self.update_in(&tx, &mut j, old).await?;
        let mut cols = Columns::default();
        cols.push(&new.certificate, kind);
        let rows = cols.insert(&tx, actor).await?;
        let Some(row) = rows.first() else {
            return Err(StoreError::Conflict(format!(
                "{} of kind {} is already registered",
                mask_id_numbers(&new.certificate.number),
                new.certificate.kind
            )));
        };
        let id: i64 = col(row, 2)?;
        j.append(
            &Subject::Certificate(id),
            new.change(),
            Some(new.sha256.clone()),
        );
        if let Some(claim) = claim {
            store_claim(&tx, claim, first_seq, j.next()).await?;
        }
        j.write(&tx).await?;
        let mut entries = j.entries()?;
        let issued = entries
            .pop()
            .ok_or_else(|| StoreError::Backend("no entry".into()))?;
        let renewed = entries
            .pop()
            .ok_or_else(|| StoreError::Backend("no entry".into()))?;
        tx.commit().await.map_err(backend)?;
        Ok((renewed, issued))
    }

    async fn journal_only(
        &self,
        entries: &[(Subject, String)],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        if entries.is_empty() {
            return Ok(vec![]);
        }
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        for (subject, change) in entries {
            j.append(subject, change.clone(), None);
        }
        j.write(&tx).await?;
        let out = j.entries()?;
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn apply_mirrored(
        &self,
        writes: &[Mirrored],
        actor: &str,
        at_micros: i64,
        cursor: MirrorCursor<'_>,
    ) -> Result<Vec<Entry>> {
        let mut c = self.writer().await?;
        let mut kinds = HashMap::new();
        for w in writes {
            if let Mirrored::Issue(i) = w {
                let kind = &i.certificate.kind;
                if !kinds.contains_key(kind) {
                    kinds.insert(kind.clone(), self.intern_kind(&c, kind).await?);
                }
            }
        }
        let tx = c.transaction().await.map_err(backend)?;
        let key = MirrorCursor::key(cursor.source);
        // The head row first, as every writer takes it: it serialises this transaction with
        // every other write, so that two mirrors of one source cannot both pass the check.
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let stored: Option<String> = tx
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .await
            .map_err(backend)?
            .map(|r| r.get(0));
        cursor.check(stored.as_deref().map(MirrorCursor::parse).transpose()?)?;
        let find = async |tx: &deadpool_postgres::Transaction<'_>, number: &str, kind: &str| {
            let stmt = tx
                .prepare_cached(&format!(
                    "SELECT {CERT_COLUMNS}, id FROM certificates WHERE number = $1 AND kind = {KIND_BY_NAME} FOR UPDATE"
                ))
                .await
                .map_err(backend)?;
            let rows = tx.query(&stmt, &[&number, &kind]).await.map_err(backend)?;
            self.know_kinds(tx, &rows).await?;
            match rows.first() {
                Some(r) => Ok((col::<i64>(r, 14)?, self.decode(r)?)),
                None => Err(no_certificate(number, kind)),
            }
        };
        for w in writes {
            match w {
                Mirrored::Issue(i) => {
                    let cert = &i.certificate;
                    let mut cols = Columns::default();
                    cols.push(cert, kinds[&cert.kind]);
                    let rows = cols.insert(&tx, actor).await?;
                    if let Some(row) = rows.first() {
                        touch_activity(&tx, &[&cert.issuer], at_micros).await?;
                        j.append(
                            &Subject::Certificate(col(row, 2)?),
                            i.change(),
                            Some(i.sha256.clone()),
                        );
                    } else {
                        let (_, stored) = find(&tx, &cert.number, &cert.kind).await?;
                        if stored != *cert {
                            return Err(StoreError::Conflict(hutong_store::conflict_reason(
                                &stored, cert,
                            )));
                        }
                    }
                }
                Mirrored::Update(u) => {
                    let id = find(&tx, &u.before.number, &u.before.kind).await?.0;
                    self.update_in(&tx, &mut j, &u.write(id)?).await?;
                }
                Mirrored::Issuer(w) => put_issuer_in(&tx, &mut j, w).await?,
                Mirrored::Note { about, change } => {
                    let subject = match about {
                        MirroredSubject::Certificate { number, kind } => {
                            Subject::Certificate(find(&tx, number, kind).await?.0)
                        }
                        MirroredSubject::Issuer(id) => Subject::Issuer(id.clone()),
                    };
                    j.append(&subject, change.clone(), None);
                }
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &cursor.through.to_string()],
        )
        .await
        .map_err(backend)?;
        j.write(&tx).await?;
        let entries = j.entries()?;
        tx.commit().await.map_err(backend)?;
        Ok(entries)
    }

    async fn issuer_activity(&self) -> Result<Vec<(String, i64)>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT issuer, last_change_at FROM issuer_activity ORDER BY issuer")
            .await
            .map_err(backend)?;
        c.query(&stmt, &[])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
            .collect()
    }

    async fn put_webhook(&self, w: &WebhookRecord) -> Result<()> {
        let after = i64::try_from(w.after).unwrap_or(i64::MAX);
        self.writer()
            .await?
            .execute(
                "INSERT INTO webhooks (id, url, code_hashes, secret, after, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &w.id,
                    &w.url,
                    &hutong_store::webhook_hashes_text(&w.code_hashes),
                    &&w.secret[..],
                    &after,
                    &w.created_at_micros,
                    &w.revoked_at_micros,
                ],
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        // From the primary: the cursor must be the one the last delivery stored.
        let c = self.writer().await?;
        let rows = c
            .query(
                "SELECT id, url, code_hashes, secret, after, created_at, revoked_at FROM webhooks \
                 WHERE revoked_at IS NULL ORDER BY id",
                &[],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                hutong_store::webhook_record(
                    col(r, 0)?,
                    col(r, 1)?,
                    col::<&str>(r, 2)?,
                    col::<&[u8]>(r, 3)?,
                    col(r, 4)?,
                    col(r, 5)?,
                    col(r, 6)?,
                )
            })
            .collect()
    }

    async fn advance_webhook(&self, id: &str, from: u64, to: u64) -> Result<()> {
        let (from_i, to_i) = (
            i64::try_from(from).unwrap_or(i64::MAX),
            i64::try_from(to).unwrap_or(i64::MAX),
        );
        let n = self
            .writer()
            .await?
            .execute(
                "UPDATE webhooks SET after = $3 WHERE id = $1 AND after = $2",
                &[&id, &from_i, &to_i],
            )
            .await
            .map_err(backend)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale(format!("webhook {id} is not at {from}")))
        }
    }

    async fn revoke_webhook(&self, id: &str, at_micros: i64) -> Result<bool> {
        self.writer()
            .await?
            .execute(
                "UPDATE webhooks SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &at_micros],
            )
            .await
            .map(|n| n == 1)
            .map_err(backend)
    }

    async fn mirror_cursor(&self, source: &str) -> Result<Option<u64>> {
        let v: Option<String> = self
            .writer()
            .await?
            .query_opt(
                "SELECT value FROM meta WHERE key = $1",
                &[&MirrorCursor::key(source)],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get(0));
        v.as_deref().map(MirrorCursor::parse).transpose()
    }

    async fn journal(&self, after: u64, limit: usize) -> Result<Vec<Entry>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .await
            .map_err(backend)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        c.query(&stmt, &[&after, &sql_limit(limit)])
            .await
            .map_err(backend)?
            .iter()
            .map(read_entry)
            .collect()
    }

    async fn history(&self, subject: &Subject) -> Result<Vec<Entry>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM journal WHERE subject = $1 ORDER BY seq"
            ))
            .await
            .map_err(backend)?;
        c.query(&stmt, &[&subject.to_string()])
            .await
            .map_err(backend)?
            .iter()
            .map(read_entry)
            .collect()
    }

    async fn status_page(
        &self,
        issuer: &str,
        from_id: i64,
        to_id: i64,
    ) -> Result<(u64, Vec<(i64, bool, bool)>)> {
        let c = self.reader().await?;
        // One statement: one snapshot of the journal head and the certificates.
        let stmt = c
            .prepare_cached(
                "SELECT h.seq, c.id, c.state::text FROM journal_head h LEFT JOIN certificates c \
                   ON c.id >= $2 AND c.id < $3 AND c.issuer = $1 AND c.state <> 'a' \
                 ORDER BY c.id",
            )
            .await
            .map_err(backend)?;
        let rows = c
            .query(&stmt, &[&issuer, &from_id, &to_id])
            .await
            .map_err(backend)?;
        let (mut head, mut out) = (0u64, Vec::new());
        for r in &rows {
            let h: i64 = col(r, 0)?;
            head = u64::try_from(h).unwrap_or(0);
            let id: Option<i64> = col(r, 1)?;
            let state: Option<String> = col(r, 2)?;
            if let (Some(id), Some(state)) = (id, state) {
                out.push((id, state == "r", state == "s"));
            }
        }
        Ok((head, out))
    }

    async fn journal_head(&self) -> Result<u64> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT seq FROM journal_head")
            .await
            .map_err(backend)?;
        let row = c
            .query_opt(&stmt, &[])
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::Corrupt("the journal head row is missing".into()))?;
        let head: i64 = col(&row, 0)?;
        u64::try_from(head).map_err(|_| StoreError::Corrupt(format!("the journal head is {head}")))
    }

    async fn audit_page(&self, after: i64, limit: usize) -> Result<Vec<AuditRow>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS_OF_C}, c.id, \
                 (SELECT j.record_sha256 FROM journal j \
                  WHERE j.subject = 'cert:' || c.id AND j.record_sha256 IS NOT NULL \
                  ORDER BY j.seq DESC LIMIT 1) \
                 FROM certificates c WHERE c.id > $1 ORDER BY c.id LIMIT $2"
            ))
            .await
            .map_err(backend)?;
        let rows = c
            .query(&stmt, &[&after, &sql_limit(limit)])
            .await
            .map_err(backend)?;
        self.know_kinds(&c, &rows).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    certificate: self.decode(r)?,
                    id: col(r, 14)?,
                    journal_sha256: col(r, 15)?,
                })
            })
            .collect()
    }

    async fn reserve_serials(&self, prefix: &str, n: u64) -> Result<u64> {
        let n = i64::try_from(n)
            .map_err(|_| StoreError::Backend(format!("cannot reserve {n} serials at once")))?;
        // One statement outside any transaction: committed at once. Concurrent reservations of
        // a prefix serialise on its row; the first of a new prefix inserts it, the others wait
        // and add to it. A new prefix starts after the largest serial that stored numbers with
        // it already use (certificates imported before hutong numbered them).
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO serials (prefix, next) VALUES ($1, 1 + $2::int8 + coalesce(( \
                    SELECT max(substr(number, length($1) + 1)::int8) FROM certificates \
                    WHERE number LIKE replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' \
                      AND substr(number, length($1) + 1) ~ '^[0-9]{1,18}$'), 0)) \
                 ON CONFLICT (prefix) DO UPDATE SET next = serials.next + $2::int8 \
                 RETURNING next - $2::int8",
            )
            .await
            .map_err(backend)?;
        let row = c
            .query_one(&stmt, &[&prefix, &n])
            .await
            .map_err(|e| db_error("cannot reserve serials", &e))?;
        let first: i64 = col(&row, 0)?;
        Ok(first as u64)
    }

    async fn certificates_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, Certificate)>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {CERT_COLUMNS_OF_C}, c.id FROM certificates c WHERE c.id > $1 ORDER BY c.id LIMIT $2"
            ))
            .await
            .map_err(backend)?;
        let rows = c
            .query(&stmt, &[&after, &sql_limit(limit)])
            .await
            .map_err(backend)?;
        self.know_kinds(&c, &rows).await?;
        rows.iter()
            .map(|r| Ok((col(r, 14)?, self.decode(r)?)))
            .collect()
    }

    async fn entries_of_kind(&self, kind: &str, after: u64, limit: usize) -> Result<Vec<Entry>> {
        let pattern = hutong_store::change_kind_pattern(kind)?;
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM journal WHERE seq > $1 AND record_sha256 IS NULL \
                 AND change LIKE $3 ORDER BY seq LIMIT $2"
            ))
            .await
            .map_err(backend)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        c.query(&stmt, &[&after, &sql_limit(limit), &pattern])
            .await
            .map_err(backend)?
            .iter()
            .map(read_entry)
            .collect()
    }

    async fn answers_of(&self, owner: &str) -> Result<Vec<(String, IdempotencyRecord)>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(
                "SELECT key, request_sha256, first_seq, last_seq, status, body FROM idempotency \
                 WHERE owner = $1 ORDER BY key",
            )
            .await
            .map_err(backend)?;
        c.query(&stmt, &[&owner])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| Ok((col(r, 0)?, idempotency_record(r, 1)?)))
            .collect()
    }

    async fn idempotency(&self, owner: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        // From the primary: whether a request is a retry must not depend on replication lag.
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "SELECT request_sha256, first_seq, last_seq, status, body FROM idempotency \
                 WHERE owner = $1 AND key = $2",
            )
            .await
            .map_err(backend)?;
        let Some(r) = c.query_opt(&stmt, &[&owner, &key]).await.map_err(backend)? else {
            return Ok(None);
        };
        idempotency_record(&r, 0).map(Some)
    }

    async fn record_answer(&self, owner: &str, key: &str, status: u16, body: &str) -> Result<()> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "UPDATE idempotency SET status = $3, body = $4 \
                 WHERE owner = $1 AND key = $2 AND status IS NULL",
            )
            .await
            .map_err(backend)?;
        c.execute(&stmt, &[&owner, &key, &i32::from(status), &body])
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn create_token(
        &self,
        t: &TokenRecord,
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        let actor_json =
            serde_json::to_string(&t.actor).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT DO NOTHING"
            ))
            .await
            .map_err(backend)?;
        let n = tx
            .execute(
                &stmt,
                &[
                    &t.id.as_str(),
                    &&t.hash[..],
                    &actor_json,
                    &t.label,
                    &t.created_at_micros,
                    &t.expires_at_micros,
                    &t.revoked_at_micros,
                ],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "token {} exists",
                t.id.as_str()
            )));
        }
        j.append(
            &Subject::Token(t.id.as_str().to_string()),
            change.to_string(),
            None,
        );
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn revoke_token(
        &self,
        id: &str,
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .await
            .map_err(backend)?;
        let n = tx
            .execute(&stmt, &[&id, &at_micros])
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "token {id} (or already revoked)"
            )));
        }
        j.append(&Subject::Token(id.to_string()), change.to_string(), None);
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn create_share(&self, sh: &ShareRecord, actor: &str, at_micros: i64) -> Result<Entry> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO share_codes (id, hash, holder, certificate, purpose, created_at, \
                 expires_at, revoked_at, commitments) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb) ON CONFLICT DO NOTHING",
            )
            .await
            .map_err(backend)?;
        let n = tx
            .execute(
                &stmt,
                &[
                    &sh.id.as_str(),
                    &&sh.hash[..],
                    &&sh.holder.0[..],
                    &sh.certificate,
                    &sh.purpose.as_str(),
                    &sh.created_at_micros,
                    &sh.expires_at_micros,
                    &sh.revoked_at_micros,
                    &sh.commitments_json(),
                ],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("share code {} exists", sh.id)));
        }
        j.append(
            &Subject::Share(sh.id.to_string()),
            sh.created_change(),
            None,
        );
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn revoke_share(
        &self,
        id: &str,
        holder: &HolderKey,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE share_codes SET revoked_at = $3 \
                 WHERE id = $1 AND holder = $2 AND revoked_at IS NULL",
            )
            .await
            .map_err(backend)?;
        let n = tx
            .execute(&stmt, &[&id, &&holder.0[..], &at_micros])
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "share code {id} of this holder (or already revoked)"
            )));
        }
        j.append(
            &Subject::Share(id.to_string()),
            ShareRecord::revoked_change(),
            None,
        );
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn share_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ShareRecord>> {
        // From the primary: a revocation must take effect at once.
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM share_codes WHERE hash = $1"
            ))
            .await
            .map_err(backend)?;
        c.query_opt(&stmt, &[&&hash[..]])
            .await
            .map_err(backend)?
            .map(|r| read_share(&r))
            .transpose()
    }

    async fn shares_of(&self, holder: &HolderKey) -> Result<Vec<ShareRecord>> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM share_codes WHERE holder = $1 \
                 ORDER BY created_at DESC, id"
            ))
            .await
            .map_err(backend)?;
        c.query(&stmt, &[&&holder.0[..]])
            .await
            .map_err(backend)?
            .iter()
            .map(read_share)
            .collect()
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        // From the primary: a revocation must take effect at once, not after replication lag.
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"
            ))
            .await
            .map_err(backend)?;
        c.query_opt(&stmt, &[&&hash[..]])
            .await
            .map_err(backend)?
            .map(|r| read_token(&r))
            .transpose()
    }

    async fn put_keys(
        &self,
        writes: &[KeyWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let insert = tx
            .prepare_cached(
                "INSERT INTO signing_keys (id, issuer, record) VALUES ($1, $2, $3::text::jsonb) \
                 ON CONFLICT DO NOTHING",
            )
            .await
            .map_err(backend)?;
        let update = tx
            .prepare_cached(
                "UPDATE signing_keys SET record = $3::text::jsonb \
                 WHERE id = $1 AND record = $2::text::jsonb",
            )
            .await
            .map_err(backend)?;
        for w in writes {
            let (json, hash) = w.after.digest();
            let id = w.after.id.as_str();
            match &w.before {
                None => {
                    let n = tx
                        .execute(&insert, &[&id, &w.after.issuer, &json])
                        .await
                        .map_err(backend)?;
                    if n == 0 {
                        return Err(StoreError::Conflict(format!("key {id} exists")));
                    }
                }
                Some(before) => {
                    let n = tx
                        .execute(&update, &[&id, &before.digest().0, &json])
                        .await
                        .map_err(backend)?;
                    if n == 0 {
                        return Err(StoreError::Stale(format!(
                            "key {id} changed since it was read"
                        )));
                    }
                }
            }
            j.append(&Subject::Key(id.to_string()), w.change.clone(), Some(hash));
        }
        j.write(&tx).await?;
        let entries = j.entries()?;
        tx.commit().await.map_err(backend)?;
        Ok(entries)
    }

    async fn keys(&self) -> Result<Vec<KeyRecord>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT record::text FROM signing_keys ORDER BY n")
            .await
            .map_err(backend)?;
        c.query(&stmt, &[])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0)).map_err(|e| {
                    StoreError::Backend(format!("a stored signing key cannot be read: {e}"))
                })
            })
            .collect()
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"
            ))
            .await
            .map_err(backend)?;
        c.query(&stmt, &[])
            .await
            .map_err(backend)?
            .iter()
            .map(read_token)
            .collect()
    }

    async fn publish_policy(
        &self,
        digest: &str,
        files: &[(String, String)],
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        let files_json =
            serde_json::to_string(files).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut j = JournalWriter::lock(&tx, actor, at_micros).await?;
        let seq = j.next() as i64;
        let stmt = tx
            .prepare_cached("INSERT INTO policies (seq, digest, files) VALUES ($1, $2, $3)")
            .await
            .map_err(backend)?;
        tx.execute(&stmt, &[&seq, &digest, &files_json])
            .await
            .map_err(backend)?;
        j.append(
            &Subject::Policy(digest.to_string()),
            change.to_string(),
            None,
        );
        j.write(&tx).await?;
        let entry = j.entries()?.remove(0);
        tx.commit().await.map_err(backend)?;
        Ok(entry)
    }

    async fn published_policy(&self) -> Result<Option<PublishedPolicy>> {
        let c = self.reader().await?;
        let stmt = c
            .prepare_cached("SELECT seq, digest, files FROM policies ORDER BY seq DESC LIMIT 1")
            .await
            .map_err(backend)?;
        let Some(r) = c.query_opt(&stmt, &[]).await.map_err(backend)? else {
            return Ok(None);
        };
        let seq: i64 = col(&r, 0)?;
        let files: &str = col(&r, 2)?;
        Ok(Some(PublishedPolicy {
            seq: seq as u64,
            digest: col(&r, 1)?,
            files: serde_json::from_str(files)
                .map_err(|e| StoreError::Corrupt(format!("published policy {seq}: {e}")))?,
        }))
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

    // A bulk load needs no special setting: a batch is one statement for its rows, one for its
    // journal entries and one commit, so durable commits (synchronous_commit on) cost one WAL
    // flush per thousands of rows.

    async fn end_bulk_load(&self) -> Result<()> {
        // Sets hint bits and the visibility map once, instead of on the first reads of every
        // page, and gives the planner statistics for the new size.
        let c = self.writer().await?;
        c.batch_execute("VACUUM (ANALYZE) certificates, journal")
            .await
            .map_err(backend)
    }

    async fn log_head(&self) -> Result<LogHead> {
        read_log_head(&self.writer().await?, false).await
    }

    async fn append_log(
        &self,
        expected: LogHead,
        through_seq: u64,
        leaves: &[LogLeaf],
        nodes: &[LogNode],
    ) -> Result<LogHead> {
        hutong_store::check_log_append(expected, through_seq, leaves, nodes)?;
        let mut c = self.writer().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let head = read_log_head(&tx, true).await?;
        if head != expected {
            return Err(StoreError::Stale(format!(
                "the log head is {} leaves through entry {}, not {} through {}",
                head.size, head.through_seq, expected.size, expected.through_seq
            )));
        }
        if !leaves.is_empty() {
            let idx: Vec<i64> = leaves.iter().map(|l| l.index as i64).collect();
            let seq: Vec<i64> = leaves.iter().map(|l| l.seq as i64).collect();
            let hash: Vec<&[u8]> = leaves.iter().map(|l| &l.hash[..]).collect();
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO log_leaves (idx, seq, hash) \
                     SELECT * FROM unnest($1::int8[], $2::int8[], $3::bytea[])",
                )
                .await
                .map_err(backend)?;
            tx.execute(&stmt, &[&idx, &seq, &hash])
                .await
                .map_err(log_conflict)?;
        }
        if !nodes.is_empty() {
            let level: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
            let idx: Vec<i64> = nodes.iter().map(|n| n.index as i64).collect();
            let hash: Vec<&[u8]> = nodes.iter().map(|n| &n.hash[..]).collect();
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO log_nodes (level, idx, hash) \
                     SELECT * FROM unnest($1::int2[], $2::int8[], $3::bytea[])",
                )
                .await
                .map_err(backend)?;
            tx.execute(&stmt, &[&level, &idx, &hash])
                .await
                .map_err(log_conflict)?;
        }
        let new = LogHead {
            size: expected.size + leaves.len() as u64,
            through_seq,
        };
        let stmt = tx
            .prepare_cached("UPDATE log_head SET size = $1, through_seq = $2")
            .await
            .map_err(backend)?;
        tx.execute(&stmt, &[&(new.size as i64), &(new.through_seq as i64)])
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(new)
    }

    async fn log_leaves(&self, start: u64, end: u64) -> Result<Vec<LogLeaf>> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "SELECT idx, seq, hash FROM log_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .await
            .map_err(backend)?;
        c.query(&stmt, &[&big(start), &big(end)])
            .await
            .map_err(backend)?
            .iter()
            .map(read_log_leaf)
            .collect()
    }

    async fn log_nodes(&self, level: u8, start: u64, end: u64) -> Result<Vec<[u8; 32]>> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "SELECT hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
            )
            .await
            .map_err(backend)?;
        c.query(&stmt, &[&i16::from(level), &big(start), &big(end)])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| hash32(r, 0))
            .collect()
    }

    async fn log_leaf_by_seq(&self, seq: u64) -> Result<Option<LogLeaf>> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached("SELECT idx, seq, hash FROM log_leaves WHERE seq = $1")
            .await
            .map_err(backend)?;
        c.query_opt(&stmt, &[&big(seq)])
            .await
            .map_err(backend)?
            .map(|r| read_log_leaf(&r))
            .transpose()
    }

    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<Entry>> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "SELECT l.seq, j.at, j.actor, j.subject, j.change, j.record_sha256, j.seq IS NULL \
                 FROM log_leaves l LEFT JOIN journal j ON j.seq = l.seq \
                 WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx",
            )
            .await
            .map_err(backend)?;
        let rows = c
            .query(&stmt, &[&big(start), &big(end)])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let missing: bool = col(r, 6)?;
                if missing {
                    let seq: i64 = col(r, 0)?;
                    return Err(StoreError::Corrupt(format!(
                        "journal entry {seq}, a leaf of the log, is missing from the journal"
                    )));
                }
                read_entry(r)
            })
            .collect()
    }

    async fn put_checkpoint(&self, size: u64, note: &str, at_micros: i64) -> Result<()> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "WITH ins AS (INSERT INTO log_checkpoints (size, note, at) VALUES ($1, $2, $3) \
                   ON CONFLICT (size) DO NOTHING RETURNING note) \
                 SELECT note FROM ins UNION ALL SELECT note FROM log_checkpoints WHERE size = $1",
            )
            .await
            .map_err(backend)?;
        let rows = c
            .query(&stmt, &[&big(size), &note, &at_micros])
            .await
            .map_err(backend)?;
        for r in &rows {
            let stored: &str = col(r, 0)?;
            if stored != note {
                return Err(StoreError::Conflict(format!(
                    "the log already signed another checkpoint of size {size}"
                )));
            }
        }
        Ok(())
    }

    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>> {
        let c = self.writer().await?;
        let row = match size {
            Some(size) => {
                let stmt = c
                    .prepare_cached("SELECT size, note, at FROM log_checkpoints WHERE size = $1")
                    .await
                    .map_err(backend)?;
                c.query_opt(&stmt, &[&big(size)]).await
            }
            None => {
                let stmt = c
                    .prepare_cached(
                        "SELECT size, note, at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                    )
                    .await
                    .map_err(backend)?;
                c.query_opt(&stmt, &[]).await
            }
        }
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let size: i64 = col(&row, 0)?;
        let stmt = c
            .prepare_cached(
                "SELECT line FROM log_cosignatures WHERE size = $1 ORDER BY at, witness, key_id",
            )
            .await
            .map_err(backend)?;
        let cosignatures = c
            .query(&stmt, &[&size])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| col::<String>(r, 0))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(StoredCheckpoint {
            size: size as u64,
            note: col(&row, 1)?,
            cosignatures,
            at_micros: col(&row, 2)?,
        }))
    }

    async fn put_cosignature(
        &self,
        size: u64,
        witness: &str,
        key_id: u32,
        line: &str,
        at_micros: i64,
    ) -> Result<()> {
        let c = self.writer().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO log_cosignatures (size, witness, key_id, line, at) \
                 SELECT size, $2, $3, $4, $5 FROM log_checkpoints WHERE size = $1 \
                 ON CONFLICT (size, witness, key_id) DO UPDATE SET line = excluded.line, at = excluded.at",
            )
            .await
            .map_err(backend)?;
        let n = c
            .execute(
                &stmt,
                &[&big(size), &witness, &i64::from(key_id), &line, &at_micros],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("checkpoint of size {size}")));
        }
        Ok(())
    }
}
