//! Embedded, numbered, forward-only migrations. `PRAGMA user_version` records the last applied;
//! `schema_migrations` records the SHA-256 of each applied migration's text, and a database whose
//! recorded texts differ from the ones that shipped is refused.
//!
//! Databases made before checksums were recorded have none; the first open records them,
//! checking the text of migration 1, which never changed, against its pinned checksum.

use rusqlite::Connection;

use hutong_store::migration::{self, Migration};
use hutong_store::{Result, StoreError};

use crate::shown;

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has shipped:
/// its checksum is pinned by a test, and databases record it.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "the registry",
        sql: V1,
        also_shipped: &[],
    },
    Migration {
        description: "refuse unknown states and events",
        sql: V2,
        also_shipped: &[],
    },
    Migration {
        description: "the change journal, tokens, serials, idempotency and published policies",
        sql: V3,
        also_shipped: &[],
    },
    Migration {
        description: "issuers' signing keys",
        sql: V4,
        also_shipped: &[],
    },
    Migration {
        description: "the transparency log: leaves, tile hashes, checkpoints and cosignatures",
        sql: V5,
        also_shipped: &[],
    },
    Migration {
        description: "holders' share codes",
        sql: V6,
        also_shipped: &[],
    },
    Migration {
        description: "the last change from each issuer",
        sql: V7,
        also_shipped: &[],
    },
    Migration {
        description: "employers' webhooks",
        sql: V8,
        also_shipped: &[],
    },
];

/// Employers' webhooks (docs/watch.md): the share codes by their SHA-256 (hex, comma-separated),
/// never the codes; the signing secret; the journal sequence number delivered.
const V8: &str = "CREATE TABLE webhooks (
        id          TEXT PRIMARY KEY,
        url         TEXT NOT NULL,
        code_hashes TEXT NOT NULL,
        secret      BLOB NOT NULL CHECK (length(secret) = 32),
        after       INTEGER NOT NULL CHECK (after >= 0),
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
     ) STRICT;";

/// When the registry last received a change to one of each issuer's certificates (refusals
/// apart): the freshness that public answers state. Kept by every write in its transaction;
/// filled here from the journal.
const V7: &str = "CREATE TABLE issuer_activity (
        issuer         TEXT PRIMARY KEY,
        last_change_at INTEGER NOT NULL
     ) STRICT, WITHOUT ROWID;
     INSERT INTO issuer_activity (issuer, last_change_at)
        SELECT c.issuer, max(j.at) FROM journal j
        JOIN certificates c ON c.id = CAST(substr(j.subject, 6) AS INTEGER)
        WHERE j.subject LIKE 'cert:%' AND json_extract(j.change, '$.change') <> 'refused'
        GROUP BY c.issuer;";

const V1: &str =     "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
     ) STRICT;
     CREATE TABLE kinds (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
     ) STRICT;
     CREATE TABLE issuers (
        id     TEXT PRIMARY KEY,
        record TEXT NOT NULL
     ) STRICT;
     CREATE TABLE certificates (
        id                INTEGER PRIMARY KEY,
        number            TEXT NOT NULL,
        kind              INTEGER NOT NULL REFERENCES kinds(id),
        holder_key        BLOB NOT NULL,
        holder_tag        INTEGER NOT NULL,
        holder_name       TEXT NOT NULL,
        occupation        TEXT,
        level             TEXT,
        issuer            TEXT NOT NULL,
        issued_on         INTEGER NOT NULL,
        first_issued_on   INTEGER NOT NULL,
        valid_until       INTEGER,
        last_review_on    INTEGER,
        state             TEXT NOT NULL,
        state_since       INTEGER,
        recorded_by       TEXT NOT NULL,
        first_recorded_on INTEGER NOT NULL DEFAULT (CAST(julianday('now', '+8 hours') - 1721424.5 AS INTEGER)),
        UNIQUE (number, kind)
     ) STRICT;
     CREATE INDEX certificates_holder ON certificates(holder_tag);
     CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        certificate INTEGER NOT NULL REFERENCES certificates(id),
        event       TEXT NOT NULL,
        on_day      INTEGER NOT NULL,
        by          TEXT NOT NULL,
        note        TEXT,
        recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     ) STRICT;
     CREATE INDEX events_certificate ON events(certificate);";

/// SQLite cannot add a CHECK constraint to a table, so both tables are rebuilt (the documented
/// twelve steps, run by [`migrate`] with foreign keys off and checked before commit). Row ids
/// are kept: events refer to certificates by them. The unique key on (number, kind) becomes an
/// index built after the copy, which sorts once instead of inserting every row into it at
/// random: half the time on a million certificates (24 s against 50 s on the two-core
/// development machine, under load).
const V2: &str = "CREATE TABLE certificates_checked (
        id                INTEGER PRIMARY KEY,
        number            TEXT NOT NULL,
        kind              INTEGER NOT NULL REFERENCES kinds(id),
        holder_key        BLOB NOT NULL,
        holder_tag        INTEGER NOT NULL,
        holder_name       TEXT NOT NULL,
        occupation        TEXT,
        level             TEXT,
        issuer            TEXT NOT NULL,
        issued_on         INTEGER NOT NULL,
        first_issued_on   INTEGER NOT NULL,
        valid_until       INTEGER,
        last_review_on    INTEGER,
        state             TEXT NOT NULL
                          CONSTRAINT certificate_state_known CHECK (state IN ('active', 'suspended', 'revoked')),
        state_since       INTEGER,
        recorded_by       TEXT NOT NULL,
        first_recorded_on INTEGER NOT NULL DEFAULT (CAST(julianday('now', '+8 hours') - 1721424.5 AS INTEGER))
     ) STRICT;
     INSERT INTO certificates_checked (id, number, kind, holder_key, holder_tag, holder_name, occupation,
        level, issuer, issued_on, first_issued_on, valid_until, last_review_on, state, state_since,
        recorded_by, first_recorded_on)
     SELECT id, number, kind, holder_key, holder_tag, holder_name, occupation,
        level, issuer, issued_on, first_issued_on, valid_until, last_review_on, state, state_since,
        recorded_by, first_recorded_on
     FROM certificates ORDER BY id;
     DROP TABLE certificates;
     ALTER TABLE certificates_checked RENAME TO certificates;
     CREATE UNIQUE INDEX certificates_number_kind ON certificates(number, kind);
     CREATE INDEX certificates_holder ON certificates(holder_tag);
     CREATE TABLE events_checked (
        id          INTEGER PRIMARY KEY,
        certificate INTEGER NOT NULL REFERENCES certificates(id),
        event       TEXT NOT NULL
                    CONSTRAINT event_kind_known CHECK (event IN ('issued', 'reviewed', 'renewed', 'suspended', 'reinstated', 'revoked')),
        on_day      INTEGER NOT NULL,
        by          TEXT NOT NULL,
        note        TEXT,
        recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     ) STRICT;
     INSERT INTO events_checked (id, certificate, event, on_day, by, note, recorded_at)
     SELECT id, certificate, event, on_day, by, note, recorded_at FROM events ORDER BY id;
     DROP TABLE events;
     ALTER TABLE events_checked RENAME TO events;
     CREATE INDEX events_certificate ON events(certificate);";

/// The journal replaces `events`: [`after_v3`] writes an entry for every stored certificate and
/// event, then drops `events`. Revocations gain their reason.
const V3: &str = "ALTER TABLE certificates ADD COLUMN state_reason TEXT
        CONSTRAINT certificate_state_reason_known
        CHECK (state_reason IS NULL OR (state = 'revoked' AND state_reason IN ('withdrawn', 'annulled', 'cancelled', 'issued-in-error')));
     CREATE TABLE journal (
        seq           INTEGER PRIMARY KEY CHECK (seq > 0),
        at            INTEGER NOT NULL,
        actor         TEXT NOT NULL,
        subject       TEXT NOT NULL,
        change        TEXT NOT NULL,
        record_sha256 TEXT
     ) STRICT;
     CREATE INDEX journal_subject ON journal(subject, seq);
     CREATE TABLE tokens (
        id         TEXT PRIMARY KEY,
        hash       BLOB NOT NULL UNIQUE,
        actor      TEXT NOT NULL,
        label      TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
     ) STRICT;
     CREATE TABLE serials (
        prefix TEXT PRIMARY KEY,
        next   INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE idempotency (
        owner          TEXT NOT NULL,
        key            TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        first_seq      INTEGER,
        last_seq       INTEGER,
        status         INTEGER,
        body           TEXT,
        PRIMARY KEY (owner, key)
     ) STRICT;
     CREATE TABLE policies (
        seq    INTEGER PRIMARY KEY,
        digest TEXT NOT NULL,
        files  TEXT NOT NULL
     ) STRICT;";

/// Issuers' signing keys: the public record (JSON, `hutong_core::keys::KeyRecord`); private keys
/// are files outside the database.
const V4: &str = "CREATE TABLE signing_keys (
        n      INTEGER PRIMARY KEY,
        id     TEXT NOT NULL UNIQUE,
        issuer TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
     ) STRICT;
     CREATE INDEX signing_keys_issuer ON signing_keys(issuer);";

/// Holders' share codes (`hutong_core::share`): the code's SHA-256, never the code; the holder
/// by keyed hash; the certificate by registry id, or none for all of the holder's; the holder
/// commitments of the certificates it covered when minted (JSON, registry id to hex).
const V6: &str = "CREATE TABLE share_codes (
        id          TEXT PRIMARY KEY,
        hash        BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
        holder      BLOB NOT NULL CHECK (length(holder) = 32),
        certificate INTEGER,
        purpose     TEXT NOT NULL CHECK (purpose IN ('employment', 'application', 'tender', 'other')),
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL CHECK (expires_at > created_at),
        revoked_at  INTEGER,
        commitments TEXT NOT NULL CHECK (json_valid(commitments))
     ) STRICT;
     CREATE INDEX share_codes_holder ON share_codes(holder, created_at);";

/// The transparency log (docs/transparency-log.md). `log_leaves` holds a leaf hash per
/// sequenced journal entry, by leaf index; `log_nodes` the roots of full subtrees of `256^level`
/// leaves (the hashes of tiles at `level` ≥ 1), so that proofs and tiles need no pass over the
/// leaves; `log_head` the size and the last journal entry the sequencer read. A database of an
/// earlier version gets an empty log, which the server's sequencer then fills from the journal.
const V5: &str = "CREATE TABLE log_leaves (
        idx  INTEGER PRIMARY KEY CHECK (idx >= 0),
        seq  INTEGER NOT NULL UNIQUE CHECK (seq > 0),
        hash BLOB    NOT NULL CHECK (length(hash) = 32)
     ) STRICT;
     CREATE TABLE log_nodes (
        level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 63),
        idx   INTEGER NOT NULL CHECK (idx >= 0),
        hash  BLOB    NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
     ) STRICT, WITHOUT ROWID;
     CREATE TABLE log_head (
        one         INTEGER PRIMARY KEY CHECK (one = 1),
        size        INTEGER NOT NULL CHECK (size >= 0),
        through_seq INTEGER NOT NULL CHECK (through_seq >= 0)
     ) STRICT;
     INSERT INTO log_head (one, size, through_seq) VALUES (1, 0, 0);
     CREATE TABLE log_checkpoints (
        size INTEGER PRIMARY KEY CHECK (size >= 0),
        note TEXT    NOT NULL,
        at   INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE log_cosignatures (
        size    INTEGER NOT NULL REFERENCES log_checkpoints(size),
        witness TEXT    NOT NULL,
        key_id  INTEGER NOT NULL,
        line    TEXT    NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (size, witness, key_id)
     ) STRICT;";

/// After migration 3's tables exist: one `issued` entry per certificate (its recorder as actor),
/// then one entry per stored event, in the order they were recorded, all marked `migrated`
/// because their instants are the migration's. Only the last entry of a certificate carries a
/// record hash: the records between were never kept. Then `events` goes.
fn after_v3(conn: &Connection) -> Result<()> {
    let failed = backend("migration 3 could not fill the journal");
    let at = hutong_core::journal::now_micros();
    let mut rows: Vec<(i64, String, Vec<String>, hutong_core::Certificate)> = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT c.id, c.recorded_by, c.first_recorded_on, k.name, c.number, c.kind, c.holder_key,
                        c.holder_name, c.occupation, c.level, c.issuer, c.issued_on, c.first_issued_on,
                        c.valid_until, c.last_review_on, c.state, c.state_since, c.state_reason
                 FROM certificates c JOIN kinds k ON k.id = c.kind ORDER BY c.id",
            )
            .map_err(&failed)?;
        let mut q = stmt.query([]).map_err(&failed)?;
        while let Some(r) = q.next().map_err(&failed)? {
            let first: i64 = r.get(2).map_err(&failed)?;
            let row = crate::read_cert(r, 4, r.get(3).map_err(&failed)?).map_err(&failed)?;
            let on = crate::i_to_day(first).map_err(&failed)?;
            rows.push((
                r.get(0).map_err(&failed)?,
                r.get(1).map_err(&failed)?,
                vec![format!(
                    "{{\"change\":\"issued\",\"migrated\":true,\"on\":\"{on}\"}}"
                )],
                row,
            ));
        }
    }
    {
        let mut stmt = conn
            .prepare("SELECT certificate, event, on_day, by FROM events ORDER BY id")
            .map_err(&failed)?;
        let mut q = stmt.query([]).map_err(&failed)?;
        let index: std::collections::HashMap<i64, usize> =
            rows.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
        while let Some(r) = q.next().map_err(&failed)? {
            let cert: i64 = r.get(0).map_err(&failed)?;
            let event: String = r.get(1).map_err(&failed)?;
            let on = crate::i_to_day(r.get(2).map_err(&failed)?).map_err(&failed)?;
            let by: String = r.get(3).map_err(&failed)?;
            if let Some(&i) = index.get(&cert) {
                rows[i]
                    .2
                    .push(hutong_core::journal::canonical(&serde_json::json!({
                        "change": event, "migrated": true, "on": on.to_string(), "by": by,
                    })));
            }
        }
    }
    let mut insert = conn
        .prepare("INSERT INTO journal (seq, at, actor, subject, change, record_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .map_err(&failed)?;
    let mut seq: i64 = 0;
    for (id, by, changes, row) in &rows {
        let (_, hash) = hutong_core::journal::certificate_digest(row);
        let subject = format!("cert:{id}");
        let n = changes.len();
        for (i, change) in changes.iter().enumerate() {
            seq += 1;
            let actor = if i == 0 { by.as_str() } else { "migration" };
            let h = (i + 1 == n).then_some(hash.as_str());
            insert
                .execute(rusqlite::params![seq, at, actor, subject, change, h])
                .map_err(&failed)?;
        }
    }
    conn.execute_batch("DROP TABLE events;").map_err(&failed)?;
    Ok(())
}

/// Steps run after a migration's text, in its transaction, by its index.
fn postwork(index: usize, conn: &Connection) -> Result<()> {
    match index {
        2 => after_v3(conn),
        _ => Ok(()),
    }
}

/// Before migration 2: stored values that its constraints would refuse are named, so that the
/// operator learns which rows cannot be read instead of a bare constraint failure. Nothing is
/// changed, and no row is guessed at.
fn before_v2(conn: &Connection) -> Result<()> {
    let checks = [
        (
            "certificates",
            "state",
            "SELECT count(*), min(id) FROM certificates WHERE state NOT IN ('active', 'suspended', 'revoked')",
        ),
        (
            "events",
            "event",
            "SELECT count(*), min(id) FROM events WHERE event NOT IN ('issued', 'reviewed', 'renewed', 'suspended', 'reinstated', 'revoked')",
        ),
    ];
    for (table, column, sql) in checks {
        let (n, first): (i64, Option<i64>) = conn
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| StoreError::Backend(format!("cannot check {table}.{column}: {e}")))?;
        if let Some(id) = first {
            let value: String = conn
                .query_row(
                    &format!("SELECT {column} FROM {table} WHERE id = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .map_err(|e| StoreError::Backend(format!("cannot read {table}.{column}: {e}")))?;
            return Err(StoreError::Corrupt(format!(
                "{n} row(s) of {table} have an unknown {column}, first row id {id} with {}; \
                 hutong reads no record it cannot understand. Correct or remove those rows, then open \
                 the database again (migration 2 was not applied; nothing was changed)",
                shown(&value)
            )));
        }
    }
    Ok(())
}

/// Checks run before a migration, by its index.
fn precheck(index: usize, conn: &Connection) -> Result<()> {
    match index {
        1 => before_v2(conn),
        _ => Ok(()),
    }
}

fn backend(context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Backend(format!("{context}: {e}"))
}

pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::Config(format!("not a SQLite database, or unreadable: {e}")))?;
    migration::check_not_newer(current, MIGRATIONS)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            checksum    TEXT NOT NULL,
            applied_at  TEXT
         ) STRICT",
    )
    .map_err(backend("cannot create schema_migrations"))?;
    let recorded: Vec<(i64, Option<String>)> = {
        let mut stmt = conn
            .prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .map_err(backend("cannot read schema_migrations"))?;
        stmt.query_map([], |r| Ok((r.get(0)?, Some(r.get(1)?))))
            .and_then(|rows| rows.collect())
            .map_err(backend("cannot read schema_migrations"))?
    };
    if let Some((v, _)) = recorded.iter().find(|(v, _)| *v > current) {
        return Err(StoreError::Incompatible(format!(
            "the database records migration {v} as applied but is at schema version {current}; \
             it was changed by hand or by another program, and is not opened"
        )));
    }
    migration::check_history(MIGRATIONS, &recorded)?;
    // A database made before checksums were recorded: its migrations are the shipped ones (their
    // texts never changed, which the pinned checksums in the tests hold to), recorded as such.
    // The time they were applied is not known.
    for (i, m) in MIGRATIONS.iter().enumerate().take(current as usize) {
        let version = i as i64 + 1;
        if !recorded.iter().any(|(v, _)| *v == version) {
            conn.execute(
                "INSERT INTO schema_migrations (version, description, checksum) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, m.description, m.checksum()],
            )
            .map_err(backend("cannot record the checksum of a migration"))?;
        }
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        // Foreign keys are off while a table is rebuilt (a no-op inside a transaction, so it is
        // set before), and checked as a whole before commit.
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(backend("cannot prepare the migration"))?;
        let applied = apply(conn, i, version, m);
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(backend("cannot restore foreign keys"))?;
        applied?;
        tracing::info!(version, description = m.description, "applied migration");
    }
    Ok(())
}

fn apply(conn: &Connection, index: usize, version: i64, m: &Migration) -> Result<()> {
    let tx = conn
        .unchecked_transaction()
        .map_err(backend("cannot start the migration"))?;
    precheck(index, &tx)?;
    let failed = |e: rusqlite::Error| {
        StoreError::Backend(format!(
            "migration {version} ({}) failed: {e}",
            m.description
        ))
    };
    tx.execute_batch(m.sql).map_err(failed)?;
    postwork(index, &tx)?;
    let dangling: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(failed)?;
    if let Some(table) = dangling {
        return Err(StoreError::Corrupt(format!(
            "migration {version} ({}) found rows of {table} that refer to nothing; it was not applied",
            m.description
        )));
    }
    tx.execute(
        "INSERT INTO schema_migrations (version, description, checksum, applied_at) \
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        rusqlite::params![version, m.description, m.checksum()],
    )
    .map_err(failed)?;
    tx.pragma_update(None, "user_version", version)
        .map_err(failed)?;
    tx.commit().map_err(failed)
}

/// The migrations this build applies: version, description and the SHA-256 of the text.
pub fn migrations() -> Vec<(u32, &'static str, String)> {
    MIGRATIONS
        .iter()
        .enumerate()
        .map(|(i, m)| (i as u32 + 1, m.description, m.checksum()))
        .collect()
}
