//! Embedded, numbered, forward-only migrations. `PRAGMA user_version` records the last applied.

use rusqlite::Connection;

use hutong_store::{Result, StoreError};

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: the registry.
    "CREATE TABLE meta (
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
     CREATE INDEX events_certificate ON events(certificate);",
];

pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::Config(format!("not a SQLite database, or unreadable: {e}")))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::Incompatible(format!(
            "the database is at schema version {current}, newer than this hutong knows ({known}); upgrade hutong"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", i as i64 + 1))
            .map_err(|e| StoreError::Backend(format!("migration {} failed: {e}", i + 1)))?;
        tx.commit()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
    }
    Ok(())
}
