//! Embedded, versioned, forward-only migrations. `schema_migrations` records each one applied,
//! with the SHA-256 of its text; a database whose recorded texts differ from the ones that
//! shipped is refused.
//!
//! Distribution keys (docs/scaling.md): `certificates` is keyed by certificate number first, so
//! that a Postgres-compatible distributed engine can shard it by `number`; `kinds`, `issuers`
//! and `meta` are small reference tables, copied to every node. The journal is one total order
//! (`seq`), written under one lock (`journal_head`), and is not sharded.
//!
//! A migration may have Rust work after its text ([`postwork`]), in the same transaction: the
//! journal's record hashes cannot be computed in SQL.

use deadpool_postgres::{Client, GenericClient};

use hutong_core::Certificate;
use hutong_core::journal::{self, Subject};
use hutong_store::migration::{self, Migration};
use hutong_store::{Result, StoreError};

use crate::db_error;

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has shipped:
/// its checksum is pinned by a test, and databases record it.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "the registry",
        sql: V1,
        // Migration 1 first shipped without `COLLATE "C"`; migration 2 brings a database made
        // with that text to byte-order identifiers.
        also_shipped: &[V1_WITHOUT_COLLATE_C],
    },
    Migration {
        description: "identifiers compare byte by byte",
        sql: V2,
        also_shipped: &[],
    },
    Migration {
        description: "refuse unknown events",
        sql: V3,
        also_shipped: &[],
    },
    Migration {
        description: "the change journal, tokens, serials, idempotency and published policies",
        sql: V4,
        also_shipped: &[],
    },
    Migration {
        description: "issuers' signing keys",
        sql: V5,
        also_shipped: &[],
    },
    Migration {
        description: "the transparency log: leaves, tile hashes, checkpoints and cosignatures",
        sql: V6,
        also_shipped: &[],
    },
    Migration {
        description: "holders' share codes",
        sql: V7,
        also_shipped: &[],
    },
    Migration {
        description: "the last change from each issuer",
        sql: V8,
        also_shipped: &[],
    },
    Migration {
        description: "employers' webhooks",
        sql: V9,
        also_shipped: &[],
    },
];

/// Employers' webhooks (docs/watch.md): the share codes by their SHA-256 (hex, comma-separated),
/// never the codes; the signing secret; the journal sequence number delivered.
const V9: &str = "CREATE TABLE webhooks (
        id          text   COLLATE \"C\" PRIMARY KEY,
        url         text   NOT NULL,
        code_hashes text   NOT NULL,
        secret      bytea  NOT NULL CHECK (length(secret) = 32),
        after       bigint NOT NULL CHECK (after >= 0),
        created_at  bigint NOT NULL,
        revoked_at  bigint
     );";

/// When the registry last received a change to one of each issuer's certificates (refusals
/// apart): the freshness that public answers state. Kept by every write in its transaction;
/// filled here from the journal.
const V8: &str = "CREATE TABLE issuer_activity (
        issuer         text   COLLATE \"C\" PRIMARY KEY,
        last_change_at bigint NOT NULL
     );
     INSERT INTO issuer_activity (issuer, last_change_at)
        SELECT c.issuer, max(j.at) FROM journal j
        JOIN certificates c ON c.id = CAST(substr(j.subject, 6) AS bigint)
        WHERE j.subject LIKE 'cert:%' AND (j.change::jsonb ->> 'change') <> 'refused'
        GROUP BY c.issuer;";

/// Holders' share codes (`hutong_core::share`): the code's SHA-256, never the code; the holder
/// by keyed hash; the certificate by registry id, or none for all of the holder's; the holder
/// commitments of the certificates it covered when minted (JSON, registry id to hex).
const V7: &str = "CREATE TABLE share_codes (
        id          text COLLATE \"C\" PRIMARY KEY,
        hash        bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
        holder      bytea NOT NULL CHECK (length(holder) = 32),
        certificate bigint,
        purpose     text NOT NULL CHECK (purpose IN ('employment', 'application', 'tender', 'other')),
        created_at  bigint NOT NULL,
        expires_at  bigint NOT NULL CHECK (expires_at > created_at),
        revoked_at  bigint,
        commitments jsonb NOT NULL
     );
     CREATE INDEX share_codes_holder ON share_codes(holder, created_at);";

/// The checksum of migration 1 as it first shipped, before its identifiers had `COLLATE "C"`.
const V1_WITHOUT_COLLATE_C: &str =
    "731f4a3cfa37dbb38b56520dafd2a85da1699cf613c7354cfe042b2c4c70deff";

const V1: &str = "CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
     );
     -- Which registry this is: a read database must show the same id (it is a replica).
     INSERT INTO meta (key, value) VALUES ('registry_id', gen_random_uuid()::text);

     -- Kind ids are interned to small integers: two bytes per certificate instead of twenty.
     CREATE TABLE kinds (
        id   smallint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name text COLLATE \"C\" NOT NULL UNIQUE
     );

     CREATE TABLE issuers (
        id     text COLLATE \"C\" PRIMARY KEY,
        record jsonb NOT NULL
     );

     -- Distribution key: number. Identifiers compare byte by byte (COLLATE \"C\"): the same
     -- order as SQLite, faster index searches, and indexes that an operating system's locale
     -- update cannot silently reorder. Fixed-width columns come first so that rows pack without
     -- padding. `kind` has no foreign key: ids only come from interning in the store, and a
     -- per-row check would cost every bulk load a lookup and a row lock on `kinds`.
     -- state: 'a' active, 's' suspended (since state_since), 'r' revoked (on state_since).
     CREATE TABLE certificates (
        number            text     COLLATE \"C\" NOT NULL,
        kind              smallint NOT NULL,
        holder_tag        bigint   NOT NULL,
        issued_on         date     NOT NULL,
        first_issued_on   date     NOT NULL,
        valid_until       date,
        last_review_on    date,
        state_since       date,
        first_recorded_on date     NOT NULL DEFAULT (now() AT TIME ZONE 'Asia/Shanghai')::date,
        state             \"char\"   NOT NULL CHECK (state IN ('a', 's', 'r')),
        holder_key        bytea    NOT NULL,
        holder_name       text     NOT NULL,
        occupation        text,
        level             text,
        issuer            text     NOT NULL,
        recorded_by       text     NOT NULL,
        PRIMARY KEY (number, kind)
     );
     -- The first eight bytes of the holder key: an 8-byte index entry instead of a 32-byte one.
     CREATE INDEX certificates_holder ON certificates (holder_tag);

     -- Distribution key: number, co-located with certificates. The issue itself is implied by
     -- the certificate row; only later events are rows here.
     CREATE TABLE events (
        number      text        COLLATE \"C\" NOT NULL,
        kind        smallint    NOT NULL,
        id          bigint      GENERATED BY DEFAULT AS IDENTITY,
        event       text        NOT NULL,
        on_day      date        NOT NULL,
        actor       text        NOT NULL,
        note        text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (number, kind, id),
        FOREIGN KEY (number, kind) REFERENCES certificates (number, kind)
     );";

/// Databases made with the first text of migration 1 compare identifiers with the database's
/// default collation. Changing only the collation rewrites no row; the indexes on these columns
/// are rebuilt, and on a database that already has `COLLATE "C"` nothing changes.
const V2: &str = "ALTER TABLE kinds ALTER COLUMN name TYPE text COLLATE \"C\";
     ALTER TABLE issuers ALTER COLUMN id TYPE text COLLATE \"C\";
     ALTER TABLE certificates ALTER COLUMN number TYPE text COLLATE \"C\";
     ALTER TABLE events ALTER COLUMN number TYPE text COLLATE \"C\";";

/// An event this code does not know cannot be stored: a record that cannot be read must not
/// be stored in the first place.
const V3: &str = "ALTER TABLE events ADD CONSTRAINT event_kind_known
        CHECK (event IN ('issued', 'reviewed', 'renewed', 'suspended', 'reinstated', 'revoked'));";

/// The journal replaces `events`: [`after_v4`] writes an entry for every stored certificate and
/// event, then drops `events`.
///
/// - Certificates gain a stable integer identity, the subject of their journal entries. Existing
///   rows are numbered in a deterministic order: by the day they were first recorded, then by
///   (number, kind); new rows continue after the largest. The primary key stays (number, kind),
///   the distribution key.
/// - Revocations gain their reason, known only for revoked certificates.
/// - `journal_head` is one row that every writing transaction locks (`FOR UPDATE`) to number its
///   entries: a sequence is not gapless, since a rolled-back transaction burns its numbers. Its
///   `seq` is the last number given.
const V4: &str = "ALTER TABLE certificates ADD COLUMN id bigint;
     UPDATE certificates c SET id = o.n
        FROM (SELECT number, kind, row_number() OVER (ORDER BY first_recorded_on, number, kind) AS n
              FROM certificates) o
        WHERE c.number = o.number AND c.kind = o.kind;
     ALTER TABLE certificates ALTER COLUMN id SET NOT NULL;
     ALTER TABLE certificates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
     SELECT setval(pg_get_serial_sequence('certificates', 'id'), coalesce(max(id), 0) + 1, false)
        FROM certificates;
     ALTER TABLE certificates ADD CONSTRAINT certificates_id_key UNIQUE (id);
     ALTER TABLE certificates ADD COLUMN state_reason text
        CONSTRAINT certificate_state_reason_known
        CHECK (state_reason IS NULL OR (state = 'r' AND state_reason IN ('withdrawn', 'annulled', 'cancelled', 'issued-in-error')));

     CREATE TABLE journal (
        seq           bigint PRIMARY KEY CHECK (seq > 0),
        at            bigint NOT NULL,
        actor         text   NOT NULL,
        subject       text   COLLATE \"C\" NOT NULL,
        change        text   NOT NULL,
        record_sha256 text
     );
     CREATE INDEX journal_subject ON journal (subject, seq);
     CREATE TABLE journal_head (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq bigint  NOT NULL CHECK (seq >= 0)
     );
     INSERT INTO journal_head (seq) VALUES (0);

     CREATE TABLE tokens (
        id         text   COLLATE \"C\" PRIMARY KEY,
        hash       bytea  NOT NULL UNIQUE,
        actor      text   NOT NULL,
        label      text,
        created_at bigint NOT NULL,
        expires_at bigint,
        revoked_at bigint
     );
     CREATE TABLE serials (
        prefix text   COLLATE \"C\" PRIMARY KEY,
        next   bigint NOT NULL
     );
     CREATE TABLE idempotency (
        owner          text    COLLATE \"C\" NOT NULL,
        key            text    COLLATE \"C\" NOT NULL,
        request_sha256 text    NOT NULL,
        first_seq      bigint,
        last_seq       bigint,
        status         integer,
        body           text,
        PRIMARY KEY (owner, key)
     );
     CREATE TABLE policies (
        seq    bigint PRIMARY KEY,
        digest text   NOT NULL,
        files  text   NOT NULL
     );";

/// Issuers' signing keys: the public record (JSON, `hutong_core::keys::KeyRecord`); private keys
/// are files outside the database.
const V5: &str = "CREATE TABLE signing_keys (
        n      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id     text COLLATE \"C\" NOT NULL UNIQUE,
        issuer text COLLATE \"C\" NOT NULL,
        record jsonb NOT NULL
     );
     CREATE INDEX signing_keys_issuer ON signing_keys(issuer);";

/// The transparency log (docs/transparency-log.md): a leaf hash per sequenced journal entry, the
/// roots of full subtrees of `256^level` leaves (tile hashes, level ≥ 1), the head (size and the
/// last journal entry the sequencer read, one row locked `FOR UPDATE` by the sequencer), and the
/// signed checkpoints with their cosignatures. Like the journal, the log is one total order and
/// is not sharded. An earlier database gets an empty log, which the server fills from the
/// journal.
const V6: &str = "CREATE TABLE log_leaves (
        idx  bigint PRIMARY KEY CHECK (idx >= 0),
        seq  bigint NOT NULL UNIQUE CHECK (seq > 0),
        hash bytea  NOT NULL CHECK (length(hash) = 32)
     );
     CREATE TABLE log_nodes (
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 63),
        idx   bigint   NOT NULL CHECK (idx >= 0),
        hash  bytea    NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
     );
     CREATE TABLE log_head (
        one         boolean PRIMARY KEY DEFAULT true CHECK (one),
        size        bigint  NOT NULL CHECK (size >= 0),
        through_seq bigint  NOT NULL CHECK (through_seq >= 0)
     );
     INSERT INTO log_head (size, through_seq) VALUES (0, 0);
     CREATE TABLE log_checkpoints (
        size bigint PRIMARY KEY CHECK (size >= 0),
        note text   NOT NULL,
        at   bigint NOT NULL
     );
     CREATE TABLE log_cosignatures (
        size    bigint NOT NULL REFERENCES log_checkpoints (size),
        witness text   COLLATE \"C\" NOT NULL,
        key_id  bigint NOT NULL,
        line    text   NOT NULL,
        at      bigint NOT NULL,
        PRIMARY KEY (size, witness, key_id)
     );";

/// Entries per statement while migration 4 fills the journal, and rows per fetch.
const MIGRATION_BATCH: usize = 5000;

/// After migration 4's tables exist: one `issued` entry per certificate (its recorder as actor),
/// then one entry per stored event, in the order they were recorded, all marked `migrated`
/// because their instants are the migration's. Only the last entry of a certificate carries a
/// record hash: the records between were never kept. Then `events` goes. The same entries as
/// SQLite's migration 3 makes.
///
/// Rows are read through a cursor and entries written in batches, so that a large registry
/// migrates in bounded memory.
async fn after_v4(tx: &impl GenericClient) -> Result<()> {
    let failed = |e: tokio_postgres::Error| db_error("migration 4 could not fill the journal", &e);
    let at = journal::now_micros();
    tx.batch_execute(&format!(
        "DECLARE migrating NO SCROLL CURSOR FOR
         SELECT c.id, c.recorded_by, c.first_recorded_on, k.name, {}, e.event, e.on_day, e.actor
         FROM certificates c LEFT JOIN kinds k ON k.id = c.kind
         LEFT JOIN events e ON e.number = c.number AND e.kind = c.kind
         ORDER BY c.id, e.id",
        crate::CERT_COLUMNS_OF_C
    ))
    .await
    .map_err(failed)?;
    let fetch = format!("FETCH {MIGRATION_BATCH} FROM migrating");
    let mut out = Appender::default();
    // The certificate whose entries are being gathered: its id, record and entries so far.
    let mut current: Option<Gathered> = None;
    loop {
        let rows = tx.query(fetch.as_str(), &[]).await.map_err(failed)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = crate::col(r, 0)?;
            if current.as_ref().is_none_or(|g| g.id != id) {
                if let Some(done) = current.take() {
                    out.certificate(tx, done, at).await?;
                }
                let kind: Option<String> = crate::col(r, 3)?;
                let kind = kind.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "certificate id {id} has a kind id that the kinds table does not name; \
                         migration 4 was not applied (nothing was changed)"
                    ))
                })?;
                let cert = crate::read_cert(r, 4, kind)?;
                let first: hutong_core::date::Day = crate::col(r, 2)?;
                let recorder: String = crate::col(r, 1)?;
                let issued =
                    format!("{{\"change\":\"issued\",\"migrated\":true,\"on\":\"{first}\"}}");
                current = Some(Gathered {
                    id,
                    cert,
                    changes: vec![(recorder, issued)],
                });
            }
            let event: Option<String> = crate::col(r, 18)?;
            if let (Some(event), Some(g)) = (event, current.as_mut()) {
                let on: hutong_core::date::Day = crate::col(r, 19)?;
                let by: String = crate::col(r, 20)?;
                g.changes.push((
                    "migration".to_string(),
                    journal::canonical(&serde_json::json!({
                        "change": event, "migrated": true, "on": on.to_string(), "by": by,
                    })),
                ));
            }
        }
    }
    if let Some(done) = current.take() {
        out.certificate(tx, done, at).await?;
    }
    out.flush(tx, at).await?;
    tx.batch_execute("CLOSE migrating; DROP TABLE events;")
        .await
        .map_err(failed)?;
    Ok(())
}

/// One certificate's entries while migration 4 reads its rows: its id, its record as stored
/// and its changes so far, each with its actor.
struct Gathered {
    id: i64,
    cert: Certificate,
    changes: Vec<(String, String)>,
}

/// Journal entries of migration 4, numbered from 1 and written in batches.
#[derive(Default)]
struct Appender {
    seq: i64,
    seqs: Vec<i64>,
    actors: Vec<String>,
    subjects: Vec<String>,
    changes: Vec<String>,
    hashes: Vec<Option<String>>,
}

impl Appender {
    /// Adds a certificate's entries; the last carries the hash of its record as stored.
    async fn certificate(
        &mut self,
        tx: &impl GenericClient,
        Gathered { id, cert, changes }: Gathered,
        at: i64,
    ) -> Result<()> {
        let (_, hash) = journal::certificate_digest(&cert);
        let subject = Subject::Certificate(id).to_string();
        let n = changes.len();
        for (i, (actor, change)) in changes.into_iter().enumerate() {
            self.seq += 1;
            self.seqs.push(self.seq);
            self.actors.push(actor);
            self.subjects.push(subject.clone());
            self.changes.push(change);
            self.hashes.push((i + 1 == n).then(|| hash.clone()));
        }
        if self.seqs.len() >= MIGRATION_BATCH {
            self.flush(tx, at).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &impl GenericClient, at: i64) -> Result<()> {
        if !self.seqs.is_empty() {
            tx.execute(
                "INSERT INTO journal (seq, at, actor, subject, change, record_sha256) \
                 SELECT u.seq, $2, u.actor, u.subject, u.change, u.h \
                 FROM unnest($1::int8[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(seq, actor, subject, change, h)",
                &[&self.seqs, &at, &self.actors, &self.subjects, &self.changes, &self.hashes],
            )
            .await
            .map_err(|e| db_error("migration 4 could not write the journal", &e))?;
            self.seqs.clear();
            self.actors.clear();
            self.subjects.clear();
            self.changes.clear();
            self.hashes.clear();
        }
        tx.execute("UPDATE journal_head SET seq = $1", &[&self.seq])
            .await
            .map_err(|e| db_error("migration 4 could not set the journal head", &e))?;
        Ok(())
    }
}

/// Work run after a migration's text, in its transaction, by the migration's index.
async fn postwork(index: usize, tx: &impl GenericClient) -> Result<()> {
    match index {
        3 => after_v4(tx).await,
        _ => Ok(()),
    }
}

/// The migrations this build applies: version, description and the SHA-256 of the text.
pub fn migrations() -> Vec<(u32, &'static str, String)> {
    MIGRATIONS
        .iter()
        .enumerate()
        .map(|(i, m)| (i as u32 + 1, m.description, m.checksum()))
        .collect()
}

/// An arbitrary constant: the advisory lock that serialises migrations of one database.
const MIGRATION_LOCK: i64 = 0x6875_746f_6e67_0001;

/// Brings the schema up to date in one transaction, under an advisory lock so that two
/// processes starting together do not both migrate. Refuses a database newer than this code.
pub(crate) async fn migrate(client: &mut Client) -> Result<()> {
    migrate_to(client, MIGRATIONS.len()).await
}

/// Like [`migrate`], applying migrations up to `version` only, as a build that knew no later
/// one would (for tests of later migrations).
pub(crate) async fn migrate_to(client: &mut Client, version: usize) -> Result<()> {
    let last = version.min(MIGRATIONS.len());
    let tx = client
        .transaction()
        .await
        .map_err(|e| db_error("cannot start the migration", &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| db_error("cannot lock the schema for migration", &e))?;
    // "already exists, skipping" notices would be logged on every start. Databases made before
    // checksums were recorded have no checksum column.
    tx.batch_execute(
        "SET LOCAL client_min_messages = warning;
         CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer     PRIMARY KEY,
            description text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
         );
         ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text",
    )
    .await
    .map_err(|e| db_error("cannot create schema_migrations", &e))?;
    let current = max_version(&tx).await?;
    check_not_newer(current)?;
    let recorded: Vec<(i64, Option<String>)> = tx
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(|e| db_error("cannot read schema_migrations", &e))?
        .iter()
        .map(|r| (i64::from(r.get::<_, i32>(0)), r.get(1)))
        .collect();
    migration::check_history(MIGRATIONS, &recorded)?;
    backfill_checksums(&tx, &recorded).await?;
    for (i, m) in MIGRATIONS
        .iter()
        .enumerate()
        .take(last)
        .skip(current as usize)
    {
        let version = i as i32 + 1;
        tx.batch_execute(m.sql).await.map_err(|e| {
            db_error(
                &format!("migration {version} ({}) failed", m.description),
                &e,
            )
        })?;
        postwork(i, &tx).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, description, checksum) VALUES ($1, $2, $3)",
            &[&version, &m.description, &m.checksum()],
        )
        .await
        .map_err(|e| db_error("cannot record the migration", &e))?;
        tracing::info!(version, description = m.description, "applied migration");
    }
    tx.commit()
        .await
        .map_err(|e| db_error("cannot commit the migration", &e))
}

pub(crate) fn check_not_newer(current: i32) -> Result<()> {
    migration::check_not_newer(i64::from(current), MIGRATIONS)
}

/// Records the checksums of migrations applied before checksums were: the text of each that
/// shipped. Migration 1 shipped with two texts; the one applied shows in the collation of
/// `certificates.number`.
async fn backfill_checksums(
    c: &impl GenericClient,
    recorded: &[(i64, Option<String>)],
) -> Result<()> {
    for (version, sum) in recorded {
        if sum.is_some() {
            continue;
        }
        let Some(m) = usize::try_from(*version)
            .ok()
            .and_then(|v| v.checked_sub(1))
            .and_then(|i| MIGRATIONS.get(i))
        else {
            continue;
        };
        let sum = if *version == 1 {
            let row = c
                .query_one(
                    "SELECT collation_name FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = 'certificates' \
                     AND column_name = 'number'",
                    &[],
                )
                .await
                .map_err(|e| db_error("cannot read the collation of certificates.number", &e))?;
            match row.get::<_, Option<&str>>(0) {
                Some("C") => m.checksum(),
                _ => V1_WITHOUT_COLLATE_C.to_string(),
            }
        } else {
            m.checksum()
        };
        let version = *version as i32;
        c.execute(
            "UPDATE schema_migrations SET checksum = $2 WHERE version = $1",
            &[&version, &sum],
        )
        .await
        .map_err(|e| db_error("cannot record the checksum of a migration", &e))?;
    }
    Ok(())
}

/// The schema version of a database that this process must not migrate (a read replica):
/// `None` when it has no hutong schema (yet).
pub(crate) async fn version_of(client: &Client) -> Result<Option<i32>> {
    let row = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .map_err(|e| db_error("cannot read the schema", &e))?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    Ok(Some(max_version(client).await?))
}

async fn max_version(c: &impl GenericClient) -> Result<i32> {
    let row = c
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(|e| db_error("cannot read schema_migrations", &e))?;
    Ok(row.get(0))
}
