//! The embedded default backend: one SQLite file in WAL mode.
//!
//! Reads go through a small pool of connections, each with its prepared statements cached, so a
//! lookup costs one B-tree search and no thread hand-off; writes go through one connection and
//! commit a whole batch or nothing. Schema changes are embedded, numbered migrations
//! (`PRAGMA user_version`), applied forward-only when the file is opened.

mod schema;

pub use schema::migrations;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use hutong_core::date::Day;
use hutong_core::journal::{Entry, Subject};
use hutong_core::keys::KeyRecord;
use hutong_core::share::{ShareId, SharePurpose, ShareRecord};
use hutong_core::token::{TokenId, TokenRecord};
use hutong_core::{AdminState, Certificate, HolderKey, Issuer, Level, RevocationReason};
use hutong_store::{
    AuditRow, CertificateWrite, IdempotencyClaim, IdempotencyRecord, InsertMode, Issue,
    IssuerWrite, KeyWrite, LogHead, LogLeaf, LogNode, MirrorCursor, Mirrored, MirroredSubject,
    PublishedPolicy, Result, RowOutcome, Stats, Store, StoreError, StoredCheckpoint, WebhookRecord,
};

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Kind ids are interned to small integers; this maps both ways.
    kinds: RwLock<KindTable>,
}

#[derive(Default)]
struct KindTable {
    by_name: HashMap<String, i64>,
    by_id: HashMap<i64, String>,
}

/// A stored value that does not decode (an unknown state or event, a malformed day, key or
/// level), raised inside row mapping and reported as [`StoreError::Corrupt`].
#[derive(Debug)]
struct Unreadable(String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

fn unreadable(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        Box::new(Unreadable(what)),
    )
}

/// A driver error as a store error: a stored value that cannot be read is [`StoreError::Corrupt`]
/// (never read as something else), anything else a backend failure.
fn backend(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(e.to_string()),
        e => StoreError::Backend(e.to_string()),
    }
}

/// Days are stored as integers (days since 0001-01-01), which keeps rows small.
fn day_to_i(d: Day) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn i_to_day(i: i64) -> rusqlite::Result<Day> {
    i32::try_from(i)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(0, i))
}

fn opt_day(i: Option<i64>) -> rusqlite::Result<Option<Day>> {
    i.map(i_to_day).transpose()
}

/// The first eight bytes of a holder key, as the indexed lookup tag.
fn holder_tag(k: &HolderKey) -> i64 {
    i64::from_be_bytes(k.0[..8].try_into().expect("8 bytes"))
}

/// Executes an `INSERT INTO certificates(number, kind, holder_key, holder_tag, holder_name,
/// occupation, level, issuer, issued_on, first_issued_on, valid_until, last_review_on, state,
/// state_since, recorded_by, state_reason)` for one certificate.
fn insert_row(
    insert: &mut rusqlite::CachedStatement<'_>,
    c: &Certificate,
    kind_id: i64,
    by: &str,
) -> rusqlite::Result<usize> {
    let (state, since, reason) = state_columns(&c.state);
    insert.execute(params![
        c.number,
        kind_id,
        &c.holder_key.0[..],
        holder_tag(&c.holder_key),
        c.holder_name,
        c.occupation,
        c.level.map(|l| l.id()),
        c.issuer,
        day_to_i(c.issued_on),
        day_to_i(c.first_issued_on),
        c.valid_until.map(day_to_i),
        c.last_review_on.map(day_to_i),
        state,
        since,
        by,
        reason,
    ])
}

fn state_columns(s: &AdminState) -> (&'static str, Option<i64>, Option<&'static str>) {
    let reason = match s {
        AdminState::Revoked { reason, .. } => reason.map(|r| r.id()),
        _ => None,
    };
    (s.id(), s.since().map(day_to_i), reason)
}

fn state_from(
    name: &str,
    since: Option<i64>,
    reason: Option<&str>,
) -> rusqlite::Result<AdminState> {
    let day = || {
        since
            .map(i_to_day)
            .transpose()?
            .ok_or(rusqlite::Error::InvalidColumnType(
                0,
                "state_since".into(),
                rusqlite::types::Type::Null,
            ))
    };
    // An unknown state is an error, never "active": a record that cannot be read must not
    // verify as valid.
    Ok(match name {
        "active" => AdminState::Active,
        "suspended" => AdminState::Suspended { since: day()? },
        "revoked" => AdminState::Revoked {
            on: day()?,
            reason: reason
                .map(|r| {
                    RevocationReason::parse(r).ok_or_else(|| {
                        unreadable(13, format!("unknown revocation reason {}", shown(r)))
                    })
                })
                .transpose()?,
        },
        other => {
            return Err(unreadable(
                11,
                format!("unknown certificate state {}", shown(other)),
            ));
        }
    })
}

/// A certificate from the columns of [`CERT_COLUMNS`] starting at `o`, of kind `kind` (the
/// kind column itself, `o + 1`, is the interned id and is not read here).
pub(crate) fn read_cert(r: &Row<'_>, o: usize, kind: String) -> rusqlite::Result<Certificate> {
    let key: Vec<u8> = r.get(o + 2)?;
    let level: Option<String> = r.get(o + 5)?;
    let state: String = r.get(o + 11)?;
    let reason: Option<String> = r.get(o + 13)?;
    Ok(Certificate {
        number: r.get(o)?,
        kind,
        holder_key: HolderKey::from_slice(&key).ok_or(rusqlite::Error::InvalidColumnType(
            o + 2,
            "holder_key".into(),
            rusqlite::types::Type::Blob,
        ))?,
        holder_name: r.get(o + 3)?,
        occupation: r.get(o + 4)?,
        level: level.map(|l| l.parse::<Level>()).transpose().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                o + 5,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })?,
        issuer: r.get(o + 6)?,
        issued_on: i_to_day(r.get(o + 7)?)?,
        first_issued_on: i_to_day(r.get(o + 8)?)?,
        valid_until: opt_day(r.get(o + 9)?)?,
        last_review_on: opt_day(r.get(o + 10)?)?,
        state: state_from(&state, r.get(o + 12)?, reason.as_deref())?,
    })
}

const INSERT_CERTIFICATE: &str = "INSERT INTO certificates(number, kind, holder_key, holder_tag, holder_name, occupation, level, issuer, \
     issued_on, first_issued_on, valid_until, last_review_on, state, state_since, recorded_by, state_reason) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
     ON CONFLICT(number, kind) DO NOTHING";

const INSERT_ENTRY: &str = "INSERT INTO journal (seq, at, actor, subject, change, record_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Appends journal entries inside a write transaction. The sequence continues from the
/// journal's head, read under the write lock: SQLite has one writer, so no other transaction
/// can take a number between the read and the commit, and a rolled-back transaction takes its
/// numbers with it. The journal is therefore gapless.
struct JournalWriter {
    next: u64,
}

impl JournalWriter {
    fn start(tx: &Connection) -> Result<JournalWriter> {
        Ok(JournalWriter {
            next: journal_head(tx)? + 1,
        })
    }

    fn append(
        &mut self,
        tx: &Connection,
        at_micros: i64,
        actor: &str,
        subject: &Subject,
        change: &str,
        record_sha256: Option<&str>,
    ) -> Result<Entry> {
        let e = Entry {
            seq: self.next,
            at_micros,
            actor: actor.to_string(),
            subject: subject.clone(),
            change: change.to_string(),
            record_sha256: record_sha256.map(str::to_string),
        };
        tx.prepare_cached(INSERT_ENTRY)
            .map_err(backend)?
            .execute(params![
                e.seq as i64,
                e.at_micros,
                e.actor,
                e.subject.to_string(),
                e.change,
                e.record_sha256
            ])
            .map_err(backend)?;
        self.next += 1;
        Ok(e)
    }
}

fn journal_head(conn: &Connection) -> Result<u64> {
    let head: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM journal")
        .map_err(backend)?
        .query_row([], |r| r.get(0))
        .map_err(backend)?;
    Ok(head.unwrap_or(0) as u64)
}

fn read_entry(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let subject: String = r.get(3)?;
    Ok(Entry {
        seq: r.get::<_, i64>(0)? as u64,
        at_micros: r.get(1)?,
        actor: r.get(2)?,
        subject: subject
            .parse()
            .map_err(|e: String| unreadable(3, format!("journal subject: {e}")))?,
        change: r.get(4)?,
        record_sha256: r.get(5)?,
    })
}

/// Records, inside a write transaction, that the registry received a change to one of
/// `issuer`'s certificates at `at_micros` (migration 7).
fn touch_activity(tx: &Connection, issuer: &str, at_micros: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO issuer_activity (issuer, last_change_at) VALUES (?1, ?2) \
         ON CONFLICT (issuer) DO UPDATE SET last_change_at = max(last_change_at, excluded.last_change_at)",
    )
    .map_err(backend)?
    .execute(params![issuer, at_micros])
    .map_err(backend)?;
    Ok(())
}

/// Stores one issuer record with its entry inside a write transaction ([`Store::put_issuers`]).
fn put_issuer_in(
    tx: &Connection,
    j: &mut JournalWriter,
    w: &IssuerWrite,
    actor: &str,
    at_micros: i64,
) -> Result<Entry> {
    let id = &w.after.id;
    let stored: Option<String> = tx
        .prepare_cached("SELECT record FROM issuers WHERE id = ?1")
        .map_err(backend)?
        .query_row([id], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    let stored = stored
        .map(|j| {
            serde_json::from_str::<Issuer>(&j)
                .map_err(|e| StoreError::Corrupt(format!("issuer {id}: {e}")))
        })
        .transpose()?;
    match (&w.before, stored) {
        (None, Some(_)) => {
            return Err(StoreError::Conflict(format!(
                "issuer {id} is already registered"
            )));
        }
        (Some(_), None) => {
            return Err(StoreError::NotFound(format!("issuer {id}")));
        }
        (Some(b), Some(s)) if *b != s => {
            return Err(StoreError::Stale(format!("issuer {id}")));
        }
        _ => {}
    }
    let json = serde_json::to_string(&w.after).map_err(|e| StoreError::Backend(e.to_string()))?;
    tx.prepare_cached("INSERT INTO issuers(id, record) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET record = excluded.record")
        .map_err(backend)?
        .execute(params![id, json])
        .map_err(backend)?;
    j.append(
        tx,
        at_micros,
        actor,
        &Subject::Issuer(id.clone()),
        &w.change,
        Some(&w.after_sha256),
    )
}

/// Stores an idempotency claim for the entries `first..next` of the transaction; a claim that
/// exists is [`StoreError::KeyUsed`], which rolls the transaction back.
fn store_claim(tx: &Connection, claim: &IdempotencyClaim, first: u64, next: u64) -> Result<()> {
    let seqs = (next > first).then(|| (first as i64, next as i64 - 1));
    tx.prepare_cached(
        "INSERT INTO idempotency(owner, key, request_sha256, first_seq, last_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(backend)?
    .execute(params![
        claim.owner,
        claim.key,
        claim.request_sha256,
        seqs.map(|s| s.0),
        seqs.map(|s| s.1)
    ])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::KeyUsed
        }
        e => backend(e),
    })?;
    Ok(())
}

macro_rules! token_columns {
    () => {
        "id, hash, actor, label, created_at, expires_at, revoked_at"
    };
}

fn read_token(r: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let id: String = r.get(0)?;
    let hash: Vec<u8> = r.get(1)?;
    let actor: String = r.get(2)?;
    Ok(TokenRecord {
        id: TokenId::parse(&id).map_err(|e| unreadable(0, format!("token id: {e}")))?,
        hash: hash
            .try_into()
            .map_err(|_| unreadable(1, "a token hash is not 32 bytes".into()))?,
        actor: serde_json::from_str(&actor)
            .map_err(|e| unreadable(2, format!("token actor: {e}")))?,
        label: r.get(3)?,
        created_at_micros: r.get(4)?,
        expires_at_micros: r.get(5)?,
        revoked_at_micros: r.get(6)?,
    })
}

macro_rules! share_columns {
    () => {
        "id, hash, holder, certificate, purpose, created_at, expires_at, revoked_at, commitments"
    };
}

fn read_share(r: &Row<'_>) -> rusqlite::Result<ShareRecord> {
    let id: String = r.get(0)?;
    let hash: Vec<u8> = r.get(1)?;
    let holder: Vec<u8> = r.get(2)?;
    let purpose: String = r.get(4)?;
    Ok(ShareRecord {
        id: ShareId::parse(&id).map_err(|e| unreadable(0, format!("share id: {e}")))?,
        hash: hash
            .try_into()
            .map_err(|_| unreadable(1, "a share code hash is not 32 bytes".into()))?,
        holder: HolderKey::from_slice(&holder)
            .ok_or_else(|| unreadable(2, "a share code's holder is not 32 bytes".into()))?,
        certificate: r.get(3)?,
        purpose: SharePurpose::parse(&purpose).map_err(|e| unreadable(4, e))?,
        created_at_micros: r.get(5)?,
        expires_at_micros: r.get(6)?,
        revoked_at_micros: r.get(7)?,
        commitments: ShareRecord::commitments_from_json(&r.get::<_, String>(8)?)
            .map_err(|e| unreadable(8, e))?,
    })
}

/// Runs blocking database work off the async runtime's worker: on a multi-threaded runtime the
/// worker hands its other tasks on first ([`tokio::task::block_in_place`]), so a write waiting on
/// SQLite's lock or on `fsync` never holds requests up. Elsewhere (a single-threaded test
/// runtime, a plain thread) it just runs.
fn off_runtime<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A stored value for an error message: short values as they are, long ones only by length
/// (a long value in a wrong column may be personal data, such as an ID number).
pub(crate) fn shown(v: &str) -> String {
    if v.chars().count() <= 12 {
        format!("{v:?}")
    } else {
        format!("a value of {} characters", v.chars().count())
    }
}

/// A stored 32-byte hash.
fn hash32(v: Vec<u8>, column: usize) -> rusqlite::Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| unreadable(column, "a log hash is not 32 bytes".into()))
}

fn read_log_leaf(r: &Row<'_>) -> rusqlite::Result<LogLeaf> {
    Ok(LogLeaf {
        index: r.get::<_, i64>(0)? as u64,
        seq: r.get::<_, i64>(1)? as u64,
        hash: hash32(r.get(2)?, 2)?,
    })
}

/// An index or size as SQLite's signed integer; beyond it, the largest (nothing is stored there).
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn read_log_head(conn: &Connection) -> Result<LogHead> {
    conn.prepare_cached("SELECT size, through_seq FROM log_head WHERE one = 1")
        .map_err(backend)?
        .query_row([], |r| {
            Ok(LogHead {
                size: r.get::<_, i64>(0)? as u64,
                through_seq: r.get::<_, i64>(1)? as u64,
            })
        })
        .optional()
        .map_err(backend)?
        .ok_or_else(|| StoreError::Corrupt("the log head row is missing".into()))
}

macro_rules! cert_columns {
    () => {
        "number, kind, holder_key, holder_name, occupation, level, issuer, issued_on, \
         first_issued_on, valid_until, last_review_on, state, state_since, state_reason"
    };
}
const CERT_COLUMNS: &str = cert_columns!();

impl SqliteStore {
    /// Opens (creating if absent) the database file at `path` and brings its schema up to date.
    /// The folder must exist.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(StoreError::Config(format!(
                "the folder {} does not exist",
                parent.display()
            )));
        }
        let writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Config(format!("cannot open {}: {e}", path.display())))?;
        configure(&writer).map_err(backend)?;
        // In WAL mode NORMAL may lose the last commits on power loss; an accepted certificate
        // must survive, so the writer syncs every commit. Batches keep the cost per row small.
        writer
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(backend)?;
        schema::migrate(&writer)?;
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2
            + 2;
        let mut readers = Vec::with_capacity(n);
        for _ in 0..n {
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| StoreError::Config(format!("cannot open {}: {e}", path.display())))?;
            configure(&c).map_err(backend)?;
            // Readers map the file instead of copying each page into their own cache with a
            // read(2): a lookup then touches the operating system's page cache directly. The
            // limit is SQLite's default ceiling (2 GiB); beyond it, reads fall back to read(2).
            c.execute_batch("PRAGMA mmap_size = 2147418112;")
                .map_err(backend)?;
            c.set_prepared_statement_cache_capacity(32);
            readers.push(Mutex::new(c));
        }
        let store = SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            kinds: RwLock::new(KindTable::default()),
        };
        store.load_kinds()?;
        Ok(store)
    }

    /// The baseline of `hutong bench import`: the same rows inserted by a bare loop over one
    /// prepared statement, in transactions of `batch` rows, with none of what an import adds
    /// (no validation, no outcome per row, no conflict handling). What an import costs beyond
    /// storing the rows is its rate's distance from this one.
    pub fn bare_insert_loop(&self, certs: &[Certificate], by: &str, batch: usize) -> Result<()> {
        let mut conn = self.writer();
        for c in certs {
            if self.kind_id(&c.kind).is_none() {
                let id = self.intern_kind(&conn, &c.kind)?;
                self.publish_kinds(vec![(id, c.kind.clone())]);
            }
        }
        for chunk in certs.chunks(batch.max(1)) {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO certificates(number, kind, holder_key, holder_tag, holder_name, occupation, level, issuer, \
                         issued_on, first_issued_on, valid_until, last_review_on, state, state_since, recorded_by, state_reason) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                    )
                    .map_err(backend)?;
                for c in chunk {
                    let kind = self.kind_id(&c.kind).unwrap_or_default();
                    insert_row(&mut insert, c, kind, by).map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)?;
        }
        Ok(())
    }

    /// Runs `f` on the write connection, off the async runtime (see [`off_runtime`]).
    fn write<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        off_runtime(|| f(&mut self.writer()))
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reader connection: the first free one. Starting from the same end every time keeps
    /// the work on the fewest connections, whose page caches then stay warm; the others serve
    /// only when requests overlap.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(g) = r.try_lock() {
                return g;
            }
        }
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        self.readers[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn load_kinds(&self) -> Result<()> {
        self.load_kinds_with(&self.writer())
    }

    fn load_kinds_with(&self, conn: &Connection) -> Result<()> {
        let mut stmt = conn
            .prepare("SELECT id, name FROM kinds")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(backend)?;
        let mut t = self.kinds.write().unwrap_or_else(|p| p.into_inner());
        for row in rows {
            let (id, name) = row.map_err(backend)?;
            t.by_name.insert(name.clone(), id);
            t.by_id.insert(id, name);
        }
        Ok(())
    }

    /// Applies a change to a stored certificate inside a write transaction, with its entry.
    fn update_in(
        &self,
        tx: &Connection,
        j: &mut JournalWriter,
        w: &CertificateWrite,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        let Some((id, stored)) = self.certificate_in(tx, &w.before.number, &w.before.kind)? else {
            return Err(StoreError::NotFound(format!(
                "certificate {} of kind {}",
                hutong_core::number::mask_id_numbers(&w.before.number),
                w.before.kind
            )));
        };
        if id != w.id || stored != w.before {
            return Err(StoreError::Stale(format!("cert:{id}")));
        }
        let c = &w.after;
        let (state, since, reason) = state_columns(&c.state);
        tx.prepare_cached(
            "UPDATE certificates SET holder_name = ?1, valid_until = ?2, last_review_on = ?3, issued_on = ?4, \
             state = ?5, state_since = ?6, state_reason = ?7 WHERE id = ?8",
        )
        .map_err(backend)?
        .execute(params![
            c.holder_name,
            c.valid_until.map(day_to_i),
            c.last_review_on.map(day_to_i),
            day_to_i(c.issued_on),
            state,
            since,
            reason,
            id
        ])
        .map_err(backend)?;
        touch_activity(tx, &c.issuer, at_micros)?;
        j.append(
            tx,
            at_micros,
            actor,
            &Subject::Certificate(id),
            &w.change,
            Some(&w.after_sha256),
        )
    }

    fn kind_id(&self, name: &str) -> Option<i64> {
        self.kinds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_name
            .get(name)
            .copied()
    }

    /// The kind's integer id, interning it if new.
    fn intern_kind(&self, tx: &Connection, name: &str) -> Result<i64> {
        if let Some(id) = self.kind_id(name) {
            return Ok(id);
        }
        tx.execute("INSERT OR IGNORE INTO kinds(name) VALUES (?1)", [name])
            .map_err(backend)?;
        let id: i64 = tx
            .query_row("SELECT id FROM kinds WHERE name = ?1", [name], |r| r.get(0))
            .map_err(backend)?;
        Ok(id)
    }

    /// Publishes kinds interned in a transaction that has committed.
    fn publish_kinds(&self, new: Vec<(i64, String)>) {
        if new.is_empty() {
            return;
        }
        let mut t = self.kinds.write().unwrap_or_else(|p| p.into_inner());
        for (id, name) in new {
            t.by_name.insert(name.clone(), id);
            t.by_id.insert(id, name);
        }
    }

    fn kind_name(&self, id: i64) -> rusqlite::Result<String> {
        if let Some(n) = self
            .kinds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .get(&id)
        {
            return Ok(n.clone());
        }
        Err(rusqlite::Error::IntegralValueOutOfRange(1, id))
    }

    fn row_to_cert(&self, r: &Row<'_>) -> rusqlite::Result<Certificate> {
        read_cert(r, 0, self.kind_name(r.get(1)?)?)
    }

    fn query_certs(
        &self,
        conn: &Connection,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Certificate>> {
        let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
        let rows = stmt
            .query_map(params, |r| self.row_to_cert(r))
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    fn certificate_in(
        &self,
        conn: &Connection,
        number: &str,
        kind: &str,
    ) -> Result<Option<(i64, Certificate)>> {
        let Some(kind_id) = self.kind_id(kind) else {
            return Ok(None);
        };
        let sql =
            format!("SELECT {CERT_COLUMNS}, id FROM certificates WHERE number = ?1 AND kind = ?2");
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        stmt.query_row(params![number, kind_id], |r| {
            Ok((r.get::<_, i64>(14)?, self.row_to_cert(r)?))
        })
        .optional()
        .map_err(backend)
    }

    /// Runs a checkpoint and `ANALYZE`, for after a bulk load.
    pub fn optimize(&self) -> Result<()> {
        let conn = self.writer();
        conn.execute_batch(
            "PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .map_err(backend)
    }
}

fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    // journal_mode returns a row, so it is read rather than executed.
    let _: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    c.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;
         PRAGMA temp_store = MEMORY;",
    )
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        let conn = self.reader();
        conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend)
    }

    async fn bind_holder_secret(&self, fingerprint: &str) -> Result<()> {
        let conn = self.writer();
        let stored: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'holder_secret_fingerprint'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        match stored {
            Some(s) if s == fingerprint => Ok(()),
            Some(s) => Err(StoreError::Incompatible(format!(
                "this database was filled with another holder secret (fingerprint {s}, configured {fingerprint}); \
                 use the holder key file it was made with"
            ))),
            None => conn
                .execute(
                    "INSERT INTO meta(key, value) VALUES ('holder_secret_fingerprint', ?1)",
                    [fingerprint],
                )
                .map(|_| ())
                .map_err(backend),
        }
    }

    async fn mark_demo(&self, record: &str) -> Result<()> {
        self.writer()
            .execute(
                "INSERT INTO meta(key, value) VALUES ('demo', ?1) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [record],
            )
            .map(|_| ())
            .map_err(backend)
    }

    async fn demo_record(&self) -> Result<Option<String>> {
        self.reader()
            .query_row("SELECT value FROM meta WHERE key = 'demo'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(backend)
    }

    async fn put_issuers(
        &self,
        writes: &[IssuerWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let mut out = Vec::with_capacity(writes.len());
            for w in writes {
                out.push(put_issuer_in(&tx, &mut j, w, actor, at_micros)?);
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
    }

    async fn issuer(&self, id: &str) -> Result<Option<Issuer>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT record FROM issuers WHERE id = ?1")
            .map_err(backend)?;
        let json: Option<String> = stmt
            .query_row([id], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Backend(format!("issuer {id}: {e}")))
        })
        .transpose()
    }

    async fn issuers(&self) -> Result<Vec<Issuer>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT id, record FROM issuers ORDER BY id")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(backend)?;
            out.push(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Backend(format!("issuer {id}: {e}")))?,
            );
        }
        Ok(out)
    }

    async fn insert_certificates(
        &self,
        batch: &[Issue],
        actor: &str,
        at_micros: i64,
        mode: InsertMode,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Vec<RowOutcome>> {
        self.write(|conn| {
            // New kinds are interned first, outside the batch: an unused kind row is harmless
            // if the batch fails, and readers never see an id they cannot name. Each row's
            // kind id is looked up once, here.
            let mut kind_ids = Vec::with_capacity(batch.len());
            let mut last: Option<(&str, i64)> = None;
            for i in batch {
                let kind = i.certificate.kind.as_str();
                let id = match last {
                    Some((k, id)) if k == kind => id,
                    _ => match self.kind_id(kind) {
                        Some(id) => id,
                        None => {
                            let id = self.intern_kind(conn, kind)?;
                            self.publish_kinds(vec![(id, kind.to_string())]);
                            id
                        }
                    },
                };
                last = Some((kind, id));
                kind_ids.push(id);
            }
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let first = j.next;
            let mut out = Vec::with_capacity(batch.len());
            {
                let mut insert = tx.prepare_cached(INSERT_CERTIFICATE).map_err(backend)?;
                let mut entry = tx.prepare_cached(INSERT_ENTRY).map_err(backend)?;
                // The entry's subject, written into one buffer for the whole batch.
                let mut subject = String::with_capacity(24);
                // The issuers of the stored rows: a batch has few.
                let mut touched: Vec<&str> = Vec::new();
                for (i, &kind_id) in batch.iter().zip(&kind_ids) {
                    let c = &i.certificate;
                    let n = insert_row(&mut insert, c, kind_id, actor).map_err(backend)?;
                    if n == 1 {
                        let id = tx.last_insert_rowid();
                        subject.clear();
                        {
                            use std::fmt::Write as _;
                            let _ = write!(subject, "cert:{id}");
                        }
                        entry
                            .execute(params![
                                j.next as i64,
                                at_micros,
                                actor,
                                subject,
                                i.change(),
                                i.sha256
                            ])
                            .map_err(backend)?;
                        j.next += 1;
                        if !touched.contains(&c.issuer.as_str()) {
                            touched.push(&c.issuer);
                        }
                        out.push(RowOutcome::Stored);
                    } else {
                        let existing = self
                            .certificate_in(&tx, &c.number, &c.kind)?
                            .map(|(_, c)| c);
                        out.push(match existing {
                            Some(e) if e == *c => RowOutcome::Unchanged,
                            Some(e) => RowOutcome::Conflict {
                                reason: hutong_store::conflict_reason(&e, c),
                            },
                            None => {
                                return Err(StoreError::Backend(
                                    "insert ignored but no row found".into(),
                                ));
                            }
                        });
                    }
                }
                for issuer in touched {
                    touch_activity(&tx, issuer, at_micros)?;
                }
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
                    drop(tx);
                    return Err(StoreError::Conflict(msg));
                }
            }
            if let Some(claim) = claim {
                store_claim(&tx, claim, first, j.next)?;
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
    }

    async fn certificates_by_number(&self, number: &str) -> Result<Vec<Certificate>> {
        let conn = self.reader();
        // The statement text is a constant: the per-connection statement cache finds it
        // without building a string per lookup.
        let mut v = self.query_certs(
            &conn,
            concat!(
                "SELECT ",
                cert_columns!(),
                " FROM certificates WHERE number = ?1"
            ),
            &[&number],
        )?;
        if v.len() > 1 {
            v.sort_by(|a, b| a.kind.cmp(&b.kind));
        }
        Ok(v)
    }

    async fn certificate(&self, number: &str, kind: &str) -> Result<Option<Certificate>> {
        let conn = self.reader();
        Ok(self.certificate_in(&conn, number, kind)?.map(|(_, c)| c))
    }

    async fn certificates_by_holder(&self, holder: &HolderKey) -> Result<Vec<Certificate>> {
        let conn = self.reader();
        let mut v = self.query_certs(
            &conn,
            &format!(
                "SELECT {CERT_COLUMNS} FROM certificates WHERE holder_tag = ?1 AND holder_key = ?2"
            ),
            &[&holder_tag(holder), &&holder.0[..]],
        )?;
        v.sort_by(|a, b| (&a.kind, a.issued_on, &a.number).cmp(&(&b.kind, b.issued_on, &b.number)));
        Ok(v)
    }

    async fn certificate_with_id(
        &self,
        number: &str,
        kind: &str,
    ) -> Result<Option<(i64, Certificate)>> {
        let conn = self.reader();
        self.certificate_in(&conn, number, kind)
    }

    async fn certificate_by_id(&self, id: i64) -> Result<Option<Certificate>> {
        let conn = self.reader();
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE id = ?1");
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        stmt.query_row([id], |r| self.row_to_cert(r))
            .optional()
            .map_err(backend)
    }

    async fn update_certificate(
        &self,
        w: &CertificateWrite,
        actor: &str,
        at_micros: i64,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Entry> {
        w.check()?;
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let first = j.next;
            let e = self.update_in(&tx, &mut j, w, actor, at_micros)?;
            if let Some(claim) = claim {
                store_claim(&tx, claim, first, j.next)?;
            }
            tx.commit().map_err(backend)?;
            Ok(e)
        })
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
        let c = &new.certificate;
        let Some(kind_id) = self.kind_id(&c.kind) else {
            return Err(StoreError::NotFound(format!("kind {}", c.kind)));
        };
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let first = j.next;
            let renewed = self.update_in(&tx, &mut j, old, actor, at_micros)?;
            let n = {
                let mut insert = tx.prepare_cached(INSERT_CERTIFICATE).map_err(backend)?;
                insert_row(&mut insert, c, kind_id, actor).map_err(backend)?
            };
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "{} of kind {} is already registered",
                    hutong_core::number::mask_id_numbers(&c.number),
                    c.kind
                )));
            }
            let id = tx.last_insert_rowid();
            let issued = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Certificate(id),
                &new.change(),
                Some(&new.sha256),
            )?;
            if let Some(claim) = claim {
                store_claim(&tx, claim, first, j.next)?;
            }
            tx.commit().map_err(backend)?;
            Ok((renewed, issued))
        })
    }

    async fn journal_only(
        &self,
        entries: &[(Subject, String)],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let mut out = Vec::with_capacity(entries.len());
            for (subject, change) in entries {
                out.push(j.append(&tx, at_micros, actor, subject, change, None)?);
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
    }

    async fn apply_mirrored(
        &self,
        writes: &[Mirrored],
        actor: &str,
        at_micros: i64,
        cursor: MirrorCursor<'_>,
    ) -> Result<Vec<Entry>> {
        self.write(|conn| {
            // New kinds are interned first, as for an import.
            for w in writes {
                if let Mirrored::Issue(i) = w
                    && self.kind_id(&i.certificate.kind).is_none()
                {
                    let id = self.intern_kind(conn, &i.certificate.kind)?;
                    self.publish_kinds(vec![(id, i.certificate.kind.clone())]);
                }
            }
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let key = MirrorCursor::key(cursor.source);
            let stored: Option<String> = tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?;
            cursor.check(stored.as_deref().map(MirrorCursor::parse).transpose()?)?;
            let mut j = JournalWriter::start(&tx)?;
            let mut out = Vec::with_capacity(writes.len());
            let find = |number: &str, kind: &str| {
                self.certificate_in(&tx, number, kind)?.ok_or_else(|| {
                    StoreError::NotFound(format!(
                        "certificate {} of kind {kind}",
                        hutong_core::number::mask_id_numbers(number)
                    ))
                })
            };
            for w in writes {
                match w {
                    Mirrored::Issue(i) => {
                        let c = &i.certificate;
                        let kind_id = self
                            .kind_id(&c.kind)
                            .ok_or_else(|| StoreError::NotFound(format!("kind {}", c.kind)))?;
                        let n = {
                            let mut insert =
                                tx.prepare_cached(INSERT_CERTIFICATE).map_err(backend)?;
                            insert_row(&mut insert, c, kind_id, actor).map_err(backend)?
                        };
                        if n == 1 {
                            let id = tx.last_insert_rowid();
                            touch_activity(&tx, &c.issuer, at_micros)?;
                            out.push(j.append(
                                &tx,
                                at_micros,
                                actor,
                                &Subject::Certificate(id),
                                &i.change(),
                                Some(&i.sha256),
                            )?);
                        } else {
                            let (_, stored) = find(&c.number, &c.kind)?;
                            if stored != *c {
                                return Err(StoreError::Conflict(hutong_store::conflict_reason(
                                    &stored, c,
                                )));
                            }
                        }
                    }
                    Mirrored::Update(u) => {
                        let write = u.write(find(&u.before.number, &u.before.kind)?.0)?;
                        out.push(self.update_in(&tx, &mut j, &write, actor, at_micros)?);
                    }
                    Mirrored::Issuer(w) => {
                        out.push(put_issuer_in(&tx, &mut j, w, actor, at_micros)?);
                    }
                    Mirrored::Note { about, change } => {
                        let subject = match about {
                            MirroredSubject::Certificate { number, kind } => {
                                Subject::Certificate(find(number, kind)?.0)
                            }
                            MirroredSubject::Issuer(id) => Subject::Issuer(id.clone()),
                        };
                        out.push(j.append(&tx, at_micros, actor, &subject, change, None)?);
                    }
                }
            }
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, cursor.through.to_string()],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(out)
        })
    }

    async fn issuer_activity(&self) -> Result<Vec<(String, i64)>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT issuer, last_change_at FROM issuer_activity ORDER BY issuer")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn put_webhook(&self, w: &WebhookRecord) -> Result<()> {
        let hashes = hutong_store::webhook_hashes_text(&w.code_hashes);
        self.writer()
            .execute(
                "INSERT INTO webhooks (id, url, code_hashes, secret, after, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    w.id,
                    w.url,
                    hashes,
                    &w.secret[..],
                    sql_int(w.after),
                    w.created_at_micros,
                    w.revoked_at_micros
                ],
            )
            .map(|_| ())
            .map_err(backend)
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, url, code_hashes, secret, after, created_at, revoked_at FROM webhooks \
                 WHERE revoked_at IS NULL ORDER BY id",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, url, hashes, secret, after, created, revoked) = row.map_err(backend)?;
            out.push(hutong_store::webhook_record(
                id, url, &hashes, &secret, after, created, revoked,
            )?);
        }
        Ok(out)
    }

    async fn advance_webhook(&self, id: &str, from: u64, to: u64) -> Result<()> {
        let n = self
            .writer()
            .execute(
                "UPDATE webhooks SET after = ?3 WHERE id = ?1 AND after = ?2",
                params![id, sql_int(from), sql_int(to)],
            )
            .map_err(backend)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale(format!("webhook {id} is not at {from}")))
        }
    }

    async fn revoke_webhook(&self, id: &str, at_micros: i64) -> Result<bool> {
        self.writer()
            .execute(
                "UPDATE webhooks SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, at_micros],
            )
            .map(|n| n == 1)
            .map_err(backend)
    }

    async fn mirror_cursor(&self, source: &str) -> Result<Option<u64>> {
        let v: Option<String> = self
            .reader()
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [MirrorCursor::key(source)],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        v.as_deref().map(MirrorCursor::parse).transpose()
    }

    async fn journal(&self, after: u64, limit: usize) -> Result<Vec<Entry>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, actor, subject, change, record_sha256 FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![after as i64, limit as i64], read_entry)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn history(&self, subject: &Subject) -> Result<Vec<Entry>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, actor, subject, change, record_sha256 FROM journal WHERE subject = ?1 ORDER BY seq",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([subject.to_string()], read_entry)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn journal_head(&self) -> Result<u64> {
        let conn = self.reader();
        journal_head(&conn)
    }

    async fn status_page(
        &self,
        issuer: &str,
        from_id: i64,
        to_id: i64,
    ) -> Result<(u64, Vec<(i64, bool, bool)>)> {
        let conn = self.reader();
        // One statement: one snapshot of the journal and the certificates.
        let mut stmt = conn
            .prepare_cached(
                "SELECT (SELECT coalesce(max(seq), 0) FROM journal), c.id, c.state \
                 FROM (SELECT 1) LEFT JOIN certificates c \
                   ON c.id >= ?2 AND c.id < ?3 AND c.issuer = ?1 AND c.state <> 'active' \
                 ORDER BY c.id",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![issuer, from_id, to_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(backend)?;
        let (mut head, mut out) = (0u64, Vec::new());
        for r in rows {
            let (h, id, state) = r.map_err(backend)?;
            head = h as u64;
            if let (Some(id), Some(state)) = (id, state) {
                out.push((id, state == "revoked", state == "suspended"));
            }
        }
        Ok((head, out))
    }

    async fn audit_page(&self, after: i64, limit: usize) -> Result<Vec<AuditRow>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(concat!(
                "SELECT ",
                cert_columns!(),
                ", id, (SELECT record_sha256 FROM journal WHERE subject = 'cert:' || c.id AND record_sha256 IS NOT NULL ORDER BY seq DESC LIMIT 1) \
                 FROM certificates c WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok(AuditRow {
                    certificate: self.row_to_cert(r)?,
                    id: r.get(14)?,
                    journal_sha256: r.get(15)?,
                })
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn certificates_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, Certificate)>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(concat!(
                "SELECT ",
                cert_columns!(),
                ", id FROM certificates c WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok((r.get(14)?, self.row_to_cert(r)?))
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn entries_of_kind(&self, kind: &str, after: u64, limit: usize) -> Result<Vec<Entry>> {
        let pattern = hutong_store::change_kind_pattern(kind)?;
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, actor, subject, change, record_sha256 FROM journal \
                 WHERE seq > ?1 AND record_sha256 IS NULL AND change LIKE ?3 \
                 ORDER BY seq LIMIT ?2",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![sql_int(after), limit as i64, pattern], read_entry)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn answers_of(&self, owner: &str) -> Result<Vec<(String, IdempotencyRecord)>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, request_sha256, first_seq, last_seq, status, body FROM idempotency WHERE owner = ?1 ORDER BY key",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([owner], |r| {
                let first: Option<i64> = r.get(2)?;
                let last: Option<i64> = r.get(3)?;
                let status: Option<i64> = r.get(4)?;
                let body: Option<String> = r.get(5)?;
                Ok((
                    r.get(0)?,
                    IdempotencyRecord {
                        request_sha256: r.get(1)?,
                        seqs: first.zip(last).map(|(a, b)| (a as u64, b as u64)),
                        answer: status.zip(body).map(|(s, b)| (s as u16, b)),
                    },
                ))
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn reserve_serials(&self, prefix: &str, n: u64) -> Result<u64> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let first: i64 = tx
                .query_row(
                    "INSERT INTO serials(prefix, next) VALUES (?1, 1 + ?2 + coalesce(( \
                        SELECT max(CAST(substr(number, length(?1) + 1) AS INTEGER)) FROM certificates \
                        WHERE number >= ?1 AND number < ?1 || char(1114111) \
                          AND substr(number, length(?1) + 1) NOT GLOB '*[^0-9]*' \
                          AND length(number) > length(?1) AND length(number) <= length(?1) + 18), 0)) \
                     ON CONFLICT(prefix) DO UPDATE SET next = next + ?2 RETURNING next - ?2",
                    params![prefix, n as i64],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(first as u64)
        })
    }

    async fn idempotency(&self, owner: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT request_sha256, first_seq, last_seq, status, body FROM idempotency WHERE owner = ?1 AND key = ?2",
        )
        .map_err(backend)?
        .query_row(params![owner, key], |r| {
            let first: Option<i64> = r.get(1)?;
            let last: Option<i64> = r.get(2)?;
            let status: Option<i64> = r.get(3)?;
            let body: Option<String> = r.get(4)?;
            Ok(IdempotencyRecord {
                request_sha256: r.get(0)?,
                seqs: first.zip(last).map(|(a, b)| (a as u64, b as u64)),
                answer: status.zip(body).map(|(s, b)| (s as u16, b)),
            })
        })
        .optional()
        .map_err(backend)
    }

    async fn record_answer(&self, owner: &str, key: &str, status: u16, body: &str) -> Result<()> {
        self.write(|conn| {
            conn.prepare_cached(
                "UPDATE idempotency SET status = ?3, body = ?4 WHERE owner = ?1 AND key = ?2 AND status IS NULL",
            )
            .map_err(backend)?
            .execute(params![owner, key, status as i64, body])
            .map_err(backend)?;
            Ok(())
        })
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
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            tx.prepare_cached(
                "INSERT INTO tokens(id, hash, actor, label, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?
            .execute(params![
                t.id.as_str(),
                &t.hash[..],
                actor_json,
                t.label,
                t.created_at_micros,
                t.expires_at_micros,
                t.revoked_at_micros
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!("token {} exists", t.id.as_str()))
                }
                e => backend(e),
            })?;
            let mut j = JournalWriter::start(&tx)?;
            let e = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Token(t.id.as_str().to_string()),
                change,
                None,
            )?;
            tx.commit().map_err(backend)?;
            Ok(e)
        })
    }

    async fn revoke_token(
        &self,
        id: &str,
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .prepare_cached(
                    "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )
                .map_err(backend)?
                .execute(params![id, at_micros])
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "token {id} (or already revoked)"
                )));
            }
            let mut j = JournalWriter::start(&tx)?;
            let e = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Token(id.to_string()),
                change,
                None,
            )?;
            tx.commit().map_err(backend)?;
            Ok(e)
        })
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let conn = self.reader();
        conn.prepare_cached(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE hash = ?1"
        ))
        .map_err(backend)?
        .query_row([&hash[..]], read_token)
        .optional()
        .map_err(backend)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(concat!(
                "SELECT ",
                token_columns!(),
                " FROM tokens ORDER BY created_at, id"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map([], read_token).map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn create_share(&self, sh: &ShareRecord, actor: &str, at_micros: i64) -> Result<Entry> {
        let change = sh.created_change();
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            tx.prepare_cached(concat!(
                "INSERT INTO share_codes(",
                share_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .map_err(backend)?
            .execute(params![
                sh.id.as_str(),
                &sh.hash[..],
                &sh.holder.0[..],
                sh.certificate,
                sh.purpose.as_str(),
                sh.created_at_micros,
                sh.expires_at_micros,
                sh.revoked_at_micros,
                sh.commitments_json()
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!("share code {} exists", sh.id))
                }
                e => backend(e),
            })?;
            let mut j = JournalWriter::start(&tx)?;
            let e = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Share(sh.id.to_string()),
                &change,
                None,
            )?;
            tx.commit().map_err(backend)?;
            Ok(e)
        })
    }

    async fn revoke_share(
        &self,
        id: &str,
        holder: &HolderKey,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .prepare_cached(
                    "UPDATE share_codes SET revoked_at = ?3 WHERE id = ?1 AND holder = ?2 AND revoked_at IS NULL",
                )
                .map_err(backend)?
                .execute(params![id, &holder.0[..], at_micros])
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "share code {id} of this holder (or already revoked)"
                )));
            }
            let mut j = JournalWriter::start(&tx)?;
            let e = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Share(id.to_string()),
                &ShareRecord::revoked_change(),
                None,
            )?;
            tx.commit().map_err(backend)?;
            Ok(e)
        })
    }

    async fn share_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ShareRecord>> {
        let conn = self.reader();
        conn.prepare_cached(concat!(
            "SELECT ",
            share_columns!(),
            " FROM share_codes WHERE hash = ?1"
        ))
        .map_err(backend)?
        .query_row([&hash[..]], read_share)
        .optional()
        .map_err(backend)
    }

    async fn shares_of(&self, holder: &HolderKey) -> Result<Vec<ShareRecord>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(concat!(
                "SELECT ",
                share_columns!(),
                " FROM share_codes WHERE holder = ?1 ORDER BY created_at DESC, id"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([&holder.0[..]], read_share)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn put_keys(
        &self,
        writes: &[KeyWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>> {
        let records = writes
            .iter()
            .map(|w| {
                let (json, hash) = w.after.digest();
                let before = w.before.as_ref().map(|b| b.digest().0);
                (json, hash, before)
            })
            .collect::<Vec<_>>();
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let mut entries = Vec::with_capacity(writes.len());
            for (w, (json, hash, before)) in writes.iter().zip(&records) {
                let id = w.after.id.as_str();
                match before {
                    None => {
                        tx.prepare_cached(
                            "INSERT INTO signing_keys(id, issuer, record) VALUES (?1, ?2, ?3)",
                        )
                        .map_err(backend)?
                        .execute(params![id, w.after.issuer, json])
                        .map_err(|e| match e {
                            rusqlite::Error::SqliteFailure(f, _)
                                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                            {
                                StoreError::Conflict(format!("key {id} exists"))
                            }
                            e => backend(e),
                        })?;
                    }
                    Some(before) => {
                        let n = tx
                            .prepare_cached(
                                "UPDATE signing_keys SET record = ?3 WHERE id = ?1 AND record = ?2",
                            )
                            .map_err(backend)?
                            .execute(params![id, before, json])
                            .map_err(backend)?;
                        if n == 0 {
                            return Err(StoreError::Stale(format!(
                                "key {id} changed since it was read"
                            )));
                        }
                    }
                }
                entries.push(j.append(
                    &tx,
                    at_micros,
                    actor,
                    &Subject::Key(id.to_string()),
                    &w.change,
                    Some(hash.as_str()),
                )?);
            }
            tx.commit().map_err(backend)?;
            Ok(entries)
        })
    }

    async fn keys(&self) -> Result<Vec<KeyRecord>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT record FROM signing_keys ORDER BY n")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            let json = r.map_err(backend)?;
            out.push(serde_json::from_str(&json).map_err(|e| {
                StoreError::Backend(format!("a stored signing key cannot be read: {e}"))
            })?);
        }
        Ok(out)
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
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut j = JournalWriter::start(&tx)?;
            let seq = j.next;
            tx.prepare_cached("INSERT INTO policies(seq, digest, files) VALUES (?1, ?2, ?3)")
                .map_err(backend)?
                .execute(params![seq as i64, digest, files_json])
                .map_err(backend)?;
            let e = j.append(
                &tx,
                at_micros,
                actor,
                &Subject::Policy(digest.to_string()),
                change,
                None,
            )?;
            tx.commit().map_err(backend)?;
            Ok(e)
        })
    }

    async fn published_policy(&self) -> Result<Option<PublishedPolicy>> {
        let conn = self.reader();
        let row: Option<(i64, String, String)> = conn
            .prepare_cached("SELECT seq, digest, files FROM policies ORDER BY seq DESC LIMIT 1")
            .map_err(backend)?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(backend)?;
        row.map(|(seq, digest, files)| {
            Ok(PublishedPolicy {
                seq: seq as u64,
                digest,
                files: serde_json::from_str(&files)
                    .map_err(|e| StoreError::Corrupt(format!("published policy {seq}: {e}")))?,
            })
        })
        .transpose()
    }

    async fn is_empty(&self) -> Result<bool> {
        let conn = self.reader();
        let any: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM certificates)", [], |r| {
                r.get(0)
            })
            .map_err(backend)?;
        Ok(!any)
    }

    async fn certificate_count_estimate(&self) -> Result<u64> {
        // Rows are never deleted, so the largest row id is the count (and at worst an upper
        // bound); it is one B-tree descent, where count(*) reads the whole table.
        let conn = self.reader();
        let max: Option<i64> = conn
            .query_row("SELECT max(id) FROM certificates", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(max.unwrap_or(0).max(0) as u64)
    }

    async fn random_certificates(&self, n: usize, seed: u64) -> Result<Vec<Certificate>> {
        let max = self.certificate_count_estimate().await?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let conn = self.reader();
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE id = ?1");
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        // A small xorshift generator: the picks need only be spread and repeatable.
        let mut x = seed | 1;
        let mut out = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n && tries < n * 4 {
            tries += 1;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = (x % max) as i64 + 1;
            if let Some(c) = stmt
                .query_row([id], |r| self.row_to_cert(r))
                .optional()
                .map_err(backend)?
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn begin_bulk_load(&self) -> Result<()> {
        // A large page cache keeps the unique index's upper levels in memory while rows arrive
        // in random number order.
        self.writer()
            .execute_batch("PRAGMA cache_size = -1000000;")
            .map_err(backend)
    }

    async fn end_bulk_load(&self) -> Result<()> {
        self.writer()
            .execute_batch("PRAGMA cache_size = -16000;")
            .map_err(backend)?;
        self.optimize()
    }

    async fn stats(&self) -> Result<Stats> {
        let conn = self.reader();
        let q = |sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map_err(backend)
        };
        let certificates = q("SELECT count(*) FROM certificates")? as u64;
        let holders = q("SELECT count(DISTINCT holder_tag) FROM certificates")? as u64;
        let issuers = q("SELECT count(*) FROM issuers")? as u64;
        let mut stmt = conn
            .prepare_cached("SELECT k.name, count(*) FROM certificates c JOIN kinds k ON k.id = c.kind GROUP BY k.name ORDER BY k.name")
            .map_err(backend)?;
        let by_kind = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(backend)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(backend)?;
        Ok(Stats {
            certificates,
            holders,
            issuers,
            by_kind,
        })
    }

    async fn log_head(&self) -> Result<LogHead> {
        read_log_head(&self.reader())
    }

    async fn append_log(
        &self,
        expected: LogHead,
        through_seq: u64,
        leaves: &[LogLeaf],
        nodes: &[LogNode],
    ) -> Result<LogHead> {
        hutong_store::check_log_append(expected, through_seq, leaves, nodes)?;
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let head = read_log_head(&tx)?;
            if head != expected {
                return Err(StoreError::Stale(format!(
                    "the log head is {} leaves through entry {}, not {} through {}",
                    head.size, head.through_seq, expected.size, expected.through_seq
                )));
            }
            let conflict = |e: rusqlite::Error| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!("the log already holds a leaf or node: {e}"))
                }
                e => backend(e),
            };
            {
                let mut leaf = tx
                    .prepare_cached("INSERT INTO log_leaves (idx, seq, hash) VALUES (?1, ?2, ?3)")
                    .map_err(backend)?;
                for l in leaves {
                    leaf.execute(params![l.index as i64, l.seq as i64, &l.hash[..]])
                        .map_err(conflict)?;
                }
                let mut node = tx
                    .prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                    .map_err(backend)?;
                for n in nodes {
                    node.execute(params![i64::from(n.level), n.index as i64, &n.hash[..]])
                        .map_err(conflict)?;
                }
            }
            let new = LogHead {
                size: expected.size + leaves.len() as u64,
                through_seq,
            };
            tx.prepare_cached("UPDATE log_head SET size = ?1, through_seq = ?2 WHERE one = 1")
                .map_err(backend)?
                .execute(params![new.size as i64, new.through_seq as i64])
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(new)
        })
    }

    async fn log_leaves(&self, start: u64, end: u64) -> Result<Vec<LogLeaf>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT idx, seq, hash FROM log_leaves WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![sql_int(start), sql_int(end)], read_log_leaf)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn log_nodes(&self, level: u8, start: u64, end: u64) -> Result<Vec<[u8; 32]>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT hash FROM log_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(
                params![i64::from(level), sql_int(start), sql_int(end)],
                |r| hash32(r.get(0)?, 0),
            )
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
    }

    async fn log_leaf_by_seq(&self, seq: u64) -> Result<Option<LogLeaf>> {
        let conn = self.reader();
        conn.prepare_cached("SELECT idx, seq, hash FROM log_leaves WHERE seq = ?1")
            .map_err(backend)?
            .query_row([sql_int(seq)], read_log_leaf)
            .optional()
            .map_err(backend)
    }

    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<Entry>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT l.seq, j.seq, j.at, j.actor, j.subject, j.change, j.record_sha256 \
                 FROM log_leaves l LEFT JOIN journal j ON j.seq = l.seq \
                 WHERE l.idx >= ?1 AND l.idx < ?2 ORDER BY l.idx",
            )
            .map_err(backend)?;
        let mut rows = stmt
            .query(params![sql_int(start), sql_int(end)])
            .map_err(backend)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(backend)? {
            let seq: i64 = r.get(0).map_err(backend)?;
            let found: Option<i64> = r.get(1).map_err(backend)?;
            if found.is_none() {
                return Err(StoreError::Corrupt(format!(
                    "journal entry {seq}, a leaf of the log, is missing from the journal"
                )));
            }
            let subject: String = r.get(4).map_err(backend)?;
            out.push(Entry {
                seq: seq as u64,
                at_micros: r.get(2).map_err(backend)?,
                actor: r.get(3).map_err(backend)?,
                subject: subject.parse().map_err(|e: String| {
                    StoreError::Corrupt(format!("journal entry {seq}: {e}"))
                })?,
                change: r.get(5).map_err(backend)?,
                record_sha256: r.get(6).map_err(backend)?,
            });
        }
        Ok(out)
    }

    async fn put_checkpoint(&self, size: u64, note: &str, at_micros: i64) -> Result<()> {
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let stored: Option<String> = tx
                .prepare_cached("SELECT note FROM log_checkpoints WHERE size = ?1")
                .map_err(backend)?
                .query_row([sql_int(size)], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            match stored {
                Some(s) if s == note => return Ok(()),
                Some(_) => {
                    return Err(StoreError::Conflict(format!(
                        "the log already signed another checkpoint of size {size}"
                    )));
                }
                None => {}
            }
            tx.prepare_cached("INSERT INTO log_checkpoints (size, note, at) VALUES (?1, ?2, ?3)")
                .map_err(backend)?
                .execute(params![sql_int(size), note, at_micros])
                .map_err(backend)?;
            tx.commit().map_err(backend)
        })
    }

    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>> {
        let conn = self.reader();
        let row: Option<(i64, String, i64)> = match size {
            Some(size) => conn
                .prepare_cached("SELECT size, note, at FROM log_checkpoints WHERE size = ?1")
                .map_err(backend)?
                .query_row([sql_int(size)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))),
            None => conn
                .prepare_cached(
                    "SELECT size, note, at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                )
                .map_err(backend)?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))),
        }
        .optional()
        .map_err(backend)?;
        let Some((size, note, at)) = row else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT line FROM log_cosignatures WHERE size = ?1 ORDER BY at, witness, key_id",
            )
            .map_err(backend)?;
        let cosignatures = stmt
            .query_map([size], |r| r.get(0))
            .map_err(backend)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(backend)?;
        Ok(Some(StoredCheckpoint {
            size: size as u64,
            note,
            cosignatures,
            at_micros: at,
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
        self.write(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let known: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM log_checkpoints WHERE size = ?1)")
                .map_err(backend)?
                .query_row([sql_int(size)], |r| r.get(0))
                .map_err(backend)?;
            if !known {
                return Err(StoreError::NotFound(format!("checkpoint of size {size}")));
            }
            tx.prepare_cached(
                "INSERT INTO log_cosignatures (size, witness, key_id, line, at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (size, witness, key_id) DO UPDATE SET line = excluded.line, at = excluded.at",
            )
            .map_err(backend)?
            .execute(params![sql_int(size), witness, i64::from(key_id), line, at_micros])
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
    }
}
