//! Regression tests for the SQLite backend, one per defect, named `r8_<item>_…` after the item
//! of issue 8 that found it.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;

use hutong_core::journal::{self, Entry, Subject};
use hutong_core::token::TokenRecord;
use hutong_core::{Certificate, HolderKey, Issuer};
use hutong_store::conformance::{self, sample_certificate};
use hutong_store::{
    AuditRow, CertificateWrite, IdempotencyClaim, IdempotencyRecord, InsertMode, Issue,
    IssuerWrite, LogHead, LogLeaf, LogNode, PublishedPolicy, Result, RowOutcome, Stats, Store,
    StoreError, StoredCheckpoint,
};
use hutong_store_sqlite::SqliteStore;

/// Migration 1 exactly as it shipped (the checksum test below holds it to that).
const SHIPPED_MIGRATION_1: &str = include_str!("fixtures/migration-1.sql");

/// The checksums of the shipped migrations. A test fails when a migration's text changes:
/// databases record these, and a changed text would make their history differ.
const PINNED: &[(u32, &str, &str)] = &[
    (
        1,
        "the registry",
        "00860d5cc3d933e8613a9901e8d2163e9fccf8ae4b7b68c23701e9e53aca6690",
    ),
    (
        2,
        "refuse unknown states and events",
        "289858ed5d22cf248144b389b83636cc5e7013f395fb31da19d4736cd18b0d5d",
    ),
    (
        3,
        "the change journal, tokens, serials, idempotency and published policies",
        "5c9dcfde2f10dcf58be182169681a8c8f717be7b7b5dae36fd269afcb78f56c5",
    ),
    (
        4,
        "issuers' signing keys",
        "bba6da8c19cb25616dab00cc5f394c49a9b8311d179e048f493299e29cfd1a85",
    ),
    (
        5,
        "the transparency log: leaves, tile hashes, checkpoints and cosignatures",
        "c988cae40f7fed7d6a6e0b818c42ba47a652cf2a69b0260f312911aa7d1d74e4",
    ),
    (
        6,
        "holders' share codes",
        "c3c90ff7fee8a3d5b348f956e16b1baf81ad43bf8fdfd0a6b62127e6fe451abe",
    ),
    (
        7,
        "the last change from each issuer",
        "a58a3152b6d8aea50f3699af7d207553ac60b4744046514b9c66757b5f137ba0",
    ),
    (
        8,
        "employers' webhooks",
        "76d3495599c1f6d6d074b71056e7822fa2270c5fc3f4719647b5f281328ce4ab",
    ),
];

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    (dir, path)
}

/// A database as the releases before checksums and constraints made it: migration 1 only,
/// `user_version` 1, one active certificate and one event.
fn database_from_before(path: &Path, state: &str, event: &str) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(SHIPPED_MIGRATION_1).unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    c.execute_batch(&format!(
        "INSERT INTO kinds (id, name) VALUES (1, 'mem.electrical.low-voltage');
         INSERT INTO certificates (id, number, kind, holder_key, holder_tag, holder_name, issuer,
            issued_on, first_issued_on, valid_until, state, state_since, recorded_by)
         VALUES (1, 'OLD-1', 1, zeroblob(32), 0, '张小明', 'mem.44', 738946, 736754, 741138,
            '{state}', NULL, 'import');
         INSERT INTO events (certificate, event, on_day, by) VALUES (1, '{event}', 739000, 'mem.44');"
    ))
    .unwrap();
}

async fn store_with_one(path: &Path) -> (SqliteStore, Certificate) {
    let s = SqliteStore::open(path).unwrap();
    let c = sample_certificate("R-1", 1);
    conformance::insert(&s, std::slice::from_ref(&c), "t", InsertMode::Each)
        .await
        .unwrap();
    (s, c)
}

#[tokio::test]
async fn r8_06_an_unknown_state_cannot_be_stored() {
    let (_dir, path) = temp_db();
    let (_s, _) = store_with_one(&path).await;
    let raw = Connection::open(&path).unwrap();
    let e = raw
        .execute("UPDATE certificates SET state = 'bogus'", [])
        .expect_err("an unknown state must be refused");
    assert!(e.to_string().contains("certificate_state_known"), "{e}");
}

/// A row that got past the constraint (written with checks off, or by another program) is an
/// error when read, never an active certificate.
#[tokio::test]
async fn r8_06_an_unknown_state_reads_as_an_error_not_as_active() {
    let (_dir, path) = temp_db();
    let (s, c) = store_with_one(&path).await;
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "PRAGMA ignore_check_constraints = ON; UPDATE certificates SET state = 'bogus';",
    )
    .unwrap();
    match s.certificate(&c.number, &c.kind).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("unknown certificate state"), "{m}"),
        other => panic!("an unreadable state must be an error, got {other:?}"),
    }
    assert!(matches!(
        s.certificates_by_number(&c.number).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        s.certificates_by_holder(&c.holder_key).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn r8_06_a_database_from_before_the_checks_gets_them() {
    let (_dir, path) = temp_db();
    database_from_before(&path, "active", "reviewed");
    let s = SqliteStore::open(&path).expect("a database made by an earlier release opens");
    let c = s
        .certificate("OLD-1", "mem.electrical.low-voltage")
        .await
        .unwrap()
        .expect("its data is kept");
    assert_eq!(c.holder_name, "张小明");
    let (id, c) = s
        .certificate_with_id("OLD-1", "mem.electrical.low-voltage")
        .await
        .unwrap()
        .unwrap();
    let history = s.history(&Subject::Certificate(id)).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["issued", "reviewed"],
        "the certificate and its event became journal entries"
    );
    assert_eq!(history[0].actor, "import");
    assert!(
        history
            .iter()
            .all(|e| e.change.contains("\"migrated\":true"))
    );
    assert_eq!(history[0].record_sha256, None);
    assert_eq!(
        history[1].record_sha256,
        Some(journal::certificate_digest(&c).1),
        "the last entry carries the record's hash"
    );
    drop(s);
    let raw = Connection::open(&path).unwrap();
    assert!(
        raw.execute("UPDATE certificates SET state = 'bogus'", [])
            .is_err(),
        "the constraint holds after the migration"
    );
    let fk: i64 = raw
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    let events: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 0, "the events table is gone");
}

/// A row changed behind the journal's back (here with plain SQL) no longer matches the hash of
/// its last journal entry, and the audit sees it; the rows left alone still match.
#[tokio::test]
async fn a_row_changed_behind_the_journal_fails_the_audit() {
    let (_dir, path) = temp_db();
    let s = SqliteStore::open(&path).unwrap();
    let certs: Vec<Certificate> = (0..4)
        .map(|i| sample_certificate(&format!("AUD-{i}"), i))
        .collect();
    conformance::insert(&s, &certs, "import", InsertMode::Each)
        .await
        .unwrap();
    let agrees =
        |r: &AuditRow| r.journal_sha256 == Some(journal::certificate_digest(&r.certificate).1);
    assert!(s.audit_page(0, 10).await.unwrap().iter().all(agrees));
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE certificates SET valid_until = valid_until + 3650 WHERE number = 'AUD-2'",
        [],
    )
    .unwrap();
    let rows = s.audit_page(0, 10).await.unwrap();
    let bad: Vec<&str> = rows
        .iter()
        .filter(|r| !agrees(r))
        .map(|r| r.certificate.number.as_str())
        .collect();
    assert_eq!(bad, ["AUD-2"]);
}

#[test]
fn r8_06_a_database_holding_an_unknown_state_is_refused_and_left_alone() {
    let (_dir, path) = temp_db();
    database_from_before(&path, "bogus", "reviewed");
    let e = SqliteStore::open(&path)
        .err()
        .expect("an unreadable record must stop the migration");
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("1 row(s) of certificates have an unknown state")
            && m.contains("row id 1")
            && m.contains("\"bogus\""),
        "{m}"
    );
    let raw = Connection::open(&path).unwrap();
    let v: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1, "nothing was migrated");
    // An unknown event is named too; a long value only by its length.
    let (_dir2, path2) = temp_db();
    database_from_before(&path2, "active", "11010519491231002X");
    let m = SqliteStore::open(&path2)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        m.contains("1 row(s) of events have an unknown event"),
        "{m}"
    );
    assert!(m.contains("a value of 18 characters"), "{m}");
    assert!(!m.contains("11010519491231002X"), "{m}");
}

/// Migration 7 fills each issuer's last change from the journal of a registry made before it:
/// the last entry about one of its certificates, refusals apart.
#[tokio::test]
async fn the_last_change_from_each_issuer_is_filled_from_the_journal() {
    let (_dir, path) = temp_db();
    let (s, c) = store_with_one(&path).await;
    let other = Certificate {
        number: "R-2".into(),
        issuer: "mem.45".into(),
        ..sample_certificate("R-2", 2)
    };
    s.insert_certificates(
        &[hutong_store::Issue::new(other)],
        "t",
        1_790_000_000_000_000,
        InsertMode::Each,
        None,
    )
    .await
    .unwrap();
    let (id, _) = s
        .certificate_with_id(&c.number, &c.kind)
        .await
        .unwrap()
        .unwrap();
    s.journal_only(
        &[(Subject::Certificate(id), r#"{"change":"refused"}"#.into())],
        "t",
        1_800_000_000_000_000,
    )
    .await
    .unwrap();
    let before = s.issuer_activity().await.unwrap();
    drop(s);
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP TABLE issuer_activity; DROP TABLE webhooks; DELETE FROM schema_migrations WHERE version >= 7; PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(raw);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.issuer_activity().await.unwrap(), before);
    assert_eq!(before.len(), 2);
    assert_eq!(before[1], ("mem.45".to_string(), 1_790_000_000_000_000));
}

#[test]
fn r8_25_shipped_migration_texts_are_pinned() {
    let have = hutong_store_sqlite::migrations();
    let want: Vec<(u32, &str, String)> = PINNED
        .iter()
        .map(|(v, d, s)| (*v, *d, s.to_string()))
        .collect();
    assert_eq!(
        have, want,
        "a shipped migration changed: add a new migration instead"
    );
    assert_eq!(
        hutong_store::migration::checksum(SHIPPED_MIGRATION_1),
        PINNED[0].2,
        "the fixture is migration 1 as it shipped"
    );
}

#[tokio::test]
async fn r8_25_a_database_from_before_checksums_opens_and_records_them() {
    let (_dir, path) = temp_db();
    database_from_before(&path, "active", "reviewed");
    drop(SqliteStore::open(&path).unwrap());
    let raw = Connection::open(&path).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT version, checksum, applied_at IS NULL FROM schema_migrations ORDER BY version",
        )
        .unwrap();
    let rows: Vec<(i64, String, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, PINNED[0].2.to_string(), true),
            (2, PINNED[1].2.to_string(), false),
            (3, PINNED[2].2.to_string(), false),
            (4, PINNED[3].2.to_string(), false),
            (5, PINNED[4].2.to_string(), false),
            (6, PINNED[5].2.to_string(), false),
            (7, PINNED[6].2.to_string(), false),
            (8, PINNED[7].2.to_string(), false)
        ],
        "migration 1 recorded on first open (time unknown), the others when applied"
    );
    drop(stmt);
    drop(raw);
    // And it opens again.
    drop(SqliteStore::open(&path).unwrap());
}

#[test]
fn r8_25_a_database_with_another_history_is_refused() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).unwrap());
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE schema_migrations SET checksum = ?1 WHERE version = 1",
        [hutong_store::migration::checksum(
            "CREATE TABLE meta (key TEXT)",
        )],
    )
    .unwrap();
    drop(raw);
    let e = SqliteStore::open(&path).err().expect("must refuse");
    assert!(matches!(e, StoreError::Incompatible(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("migration 1 (the registry)") && m.contains("modified build"),
        "{m}"
    );
}

/// A store that writes a batch row by row, each row committed on its own: what the conformance
/// check on concurrent readers exists to catch.
struct RowByRow(SqliteStore);

#[async_trait]
impl Store for RowByRow {
    fn backend(&self) -> &'static str {
        "row-by-row"
    }
    async fn ping(&self) -> Result<()> {
        self.0.ping().await
    }
    async fn bind_holder_secret(&self, f: &str) -> Result<()> {
        self.0.bind_holder_secret(f).await
    }
    async fn mark_demo(&self, r: &str) -> Result<()> {
        self.0.mark_demo(r).await
    }
    async fn demo_record(&self) -> Result<Option<String>> {
        self.0.demo_record().await
    }
    async fn put_issuers(&self, w: &[IssuerWrite], a: &str, at: i64) -> Result<Vec<Entry>> {
        self.0.put_issuers(w, a, at).await
    }
    async fn issuer(&self, id: &str) -> Result<Option<Issuer>> {
        self.0.issuer(id).await
    }
    async fn issuers(&self) -> Result<Vec<Issuer>> {
        self.0.issuers().await
    }
    async fn insert_certificates(
        &self,
        batch: &[Issue],
        by: &str,
        at: i64,
        mode: InsertMode,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Vec<RowOutcome>> {
        let mut out = Vec::new();
        for c in batch {
            out.extend(
                self.0
                    .insert_certificates(std::slice::from_ref(c), by, at, mode, claim)
                    .await?,
            );
        }
        Ok(out)
    }
    async fn certificates_by_number(&self, n: &str) -> Result<Vec<Certificate>> {
        self.0.certificates_by_number(n).await
    }
    async fn certificate(&self, n: &str, k: &str) -> Result<Option<Certificate>> {
        self.0.certificate(n, k).await
    }
    async fn certificate_with_id(&self, n: &str, k: &str) -> Result<Option<(i64, Certificate)>> {
        self.0.certificate_with_id(n, k).await
    }
    async fn certificates_by_holder(&self, h: &HolderKey) -> Result<Vec<Certificate>> {
        self.0.certificates_by_holder(h).await
    }
    async fn update_certificate(
        &self,
        w: &CertificateWrite,
        a: &str,
        at: i64,
        c: Option<&IdempotencyClaim>,
    ) -> Result<Entry> {
        self.0.update_certificate(w, a, at, c).await
    }
    async fn renew_as(
        &self,
        o: &CertificateWrite,
        n: &hutong_store::Issue,
        a: &str,
        at: i64,
        c: Option<&IdempotencyClaim>,
    ) -> Result<(Entry, Entry)> {
        self.0.renew_as(o, n, a, at, c).await
    }
    async fn journal_only(&self, e: &[(Subject, String)], a: &str, at: i64) -> Result<Vec<Entry>> {
        self.0.journal_only(e, a, at).await
    }
    async fn apply_mirrored(
        &self,
        w: &[hutong_store::Mirrored],
        a: &str,
        at: i64,
        c: hutong_store::MirrorCursor<'_>,
    ) -> Result<Vec<Entry>> {
        self.0.apply_mirrored(w, a, at, c).await
    }
    async fn certificates_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, Certificate)>> {
        self.0.certificates_page(after, limit).await
    }
    async fn entries_of_kind(&self, kind: &str, after: u64, limit: usize) -> Result<Vec<Entry>> {
        self.0.entries_of_kind(kind, after, limit).await
    }
    async fn answers_of(
        &self,
        owner: &str,
    ) -> Result<Vec<(String, hutong_store::IdempotencyRecord)>> {
        self.0.answers_of(owner).await
    }
    async fn put_webhook(&self, w: &hutong_store::WebhookRecord) -> Result<()> {
        self.0.put_webhook(w).await
    }
    async fn webhooks(&self) -> Result<Vec<hutong_store::WebhookRecord>> {
        self.0.webhooks().await
    }
    async fn advance_webhook(&self, id: &str, from: u64, to: u64) -> Result<()> {
        self.0.advance_webhook(id, from, to).await
    }
    async fn revoke_webhook(&self, id: &str, at: i64) -> Result<bool> {
        self.0.revoke_webhook(id, at).await
    }
    async fn issuer_activity(&self) -> Result<Vec<(String, i64)>> {
        self.0.issuer_activity().await
    }
    async fn mirror_cursor(&self, source: &str) -> Result<Option<u64>> {
        self.0.mirror_cursor(source).await
    }
    async fn journal(&self, after: u64, limit: usize) -> Result<Vec<Entry>> {
        self.0.journal(after, limit).await
    }
    async fn history(&self, s: &Subject) -> Result<Vec<Entry>> {
        self.0.history(s).await
    }
    async fn journal_head(&self) -> Result<u64> {
        self.0.journal_head().await
    }
    async fn audit_page(&self, after: i64, limit: usize) -> Result<Vec<AuditRow>> {
        self.0.audit_page(after, limit).await
    }
    async fn reserve_serials(&self, p: &str, n: u64) -> Result<u64> {
        self.0.reserve_serials(p, n).await
    }
    async fn idempotency(&self, o: &str, k: &str) -> Result<Option<IdempotencyRecord>> {
        self.0.idempotency(o, k).await
    }
    async fn record_answer(&self, o: &str, k: &str, st: u16, b: &str) -> Result<()> {
        self.0.record_answer(o, k, st, b).await
    }
    async fn create_token(&self, t: &TokenRecord, c: &str, a: &str, at: i64) -> Result<Entry> {
        self.0.create_token(t, c, a, at).await
    }
    async fn revoke_token(&self, id: &str, c: &str, a: &str, at: i64) -> Result<Entry> {
        self.0.revoke_token(id, c, a, at).await
    }
    async fn token_by_hash(&self, h: &[u8; 32]) -> Result<Option<TokenRecord>> {
        self.0.token_by_hash(h).await
    }
    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.0.tokens().await
    }
    async fn certificate_by_id(&self, id: i64) -> Result<Option<hutong_core::Certificate>> {
        self.0.certificate_by_id(id).await
    }
    async fn create_share(
        &self,
        sh: &hutong_core::share::ShareRecord,
        a: &str,
        at: i64,
    ) -> Result<Entry> {
        self.0.create_share(sh, a, at).await
    }
    async fn revoke_share(
        &self,
        id: &str,
        h: &hutong_core::HolderKey,
        a: &str,
        at: i64,
    ) -> Result<Entry> {
        self.0.revoke_share(id, h, a, at).await
    }
    async fn share_by_hash(&self, h: &[u8; 32]) -> Result<Option<hutong_core::share::ShareRecord>> {
        self.0.share_by_hash(h).await
    }
    async fn shares_of(
        &self,
        h: &hutong_core::HolderKey,
    ) -> Result<Vec<hutong_core::share::ShareRecord>> {
        self.0.shares_of(h).await
    }
    async fn put_keys(&self, w: &[hutong_store::KeyWrite], a: &str, at: i64) -> Result<Vec<Entry>> {
        self.0.put_keys(w, a, at).await
    }
    async fn keys(&self) -> Result<Vec<hutong_core::keys::KeyRecord>> {
        self.0.keys().await
    }
    async fn status_page(
        &self,
        issuer: &str,
        from_id: i64,
        to_id: i64,
    ) -> Result<(u64, Vec<(i64, bool, bool)>)> {
        self.0.status_page(issuer, from_id, to_id).await
    }
    async fn publish_policy(
        &self,
        d: &str,
        f: &[(String, String)],
        c: &str,
        a: &str,
        at: i64,
    ) -> Result<Entry> {
        self.0.publish_policy(d, f, c, a, at).await
    }
    async fn published_policy(&self) -> Result<Option<PublishedPolicy>> {
        self.0.published_policy().await
    }
    async fn stats(&self) -> Result<Stats> {
        self.0.stats().await
    }
    async fn is_empty(&self) -> Result<bool> {
        self.0.is_empty().await
    }
    async fn log_head(&self) -> Result<LogHead> {
        self.0.log_head().await
    }
    async fn append_log(
        &self,
        e: LogHead,
        t: u64,
        l: &[LogLeaf],
        n: &[LogNode],
    ) -> Result<LogHead> {
        self.0.append_log(e, t, l, n).await
    }
    async fn log_leaves(&self, a: u64, b: u64) -> Result<Vec<LogLeaf>> {
        self.0.log_leaves(a, b).await
    }
    async fn log_nodes(&self, l: u8, a: u64, b: u64) -> Result<Vec<[u8; 32]>> {
        self.0.log_nodes(l, a, b).await
    }
    async fn log_leaf_by_seq(&self, s: u64) -> Result<Option<LogLeaf>> {
        self.0.log_leaf_by_seq(s).await
    }
    async fn log_entries(&self, a: u64, b: u64) -> Result<Vec<Entry>> {
        self.0.log_entries(a, b).await
    }
    async fn put_checkpoint(&self, s: u64, n: &str, at: i64) -> Result<()> {
        self.0.put_checkpoint(s, n, at).await
    }
    async fn checkpoint(&self, s: Option<u64>) -> Result<Option<StoredCheckpoint>> {
        self.0.checkpoint(s).await
    }
    async fn put_cosignature(&self, s: u64, w: &str, k: u32, l: &str, at: i64) -> Result<()> {
        self.0.put_cosignature(s, w, k, l, at).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_24_the_concurrency_check_catches_a_batch_stored_row_by_row() {
    let (_dir, path) = temp_db();
    let store = Arc::new(RowByRow(SqliteStore::open(&path).unwrap()));
    let s = store.clone();
    let run =
        tokio::spawn(async move { conformance::concurrent_readers_and_a_writer(&*s).await }).await;
    let err = run.expect_err("a batch that is visible in part must fail the check");
    assert!(err.is_panic(), "{err:?}");
    let msg = err
        .into_panic()
        .downcast::<String>()
        .map(|b| *b)
        .unwrap_or_default();
    assert!(msg.contains("a batch was visible in part"), "{msg}");
}

/// An issuer record stored before grants and suspension periods (`kinds`, `scope`, `status`,
/// `status_since`) still reads, as the same rights and the same suspension.
#[tokio::test]
async fn an_issuer_record_of_the_older_form_still_reads() {
    let (_dir, path) = temp_db();
    let s = SqliteStore::open(&path).unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO issuers (id, record) VALUES ('inst.s0000-44-000001', ?1)",
        [r#"{"id":"inst.s0000-44-000001","name_zh":"广东某中心","department":"mohrss","role":"institution","region":"44","kinds":["mohrss.skill-level"],"scope":[{"occupation":"6-18-02-04","levels":["5","4"]}],"institution_type":"S","institution_code":"0000","registered_on":"2021-01-01","status":"suspended","status_since":"2025-06-01"}"#],
    )
    .unwrap();
    let i: Issuer = s.issuer("inst.s0000-44-000001").await.unwrap().unwrap();
    let day = |t: &str| t.parse().unwrap();
    assert_eq!(
        i.grants,
        [hutong_core::Grant::scope(
            "mohrss.skill-level",
            "6-18-02-04",
            &[hutong_core::Level::L5, hutong_core::Level::L4],
            day("2021-01-01"),
        )]
    );
    assert_eq!(i.suspensions.len(), 1);
    assert!(i.was_active_on(day("2025-05-31")) && !i.was_active_on(day("2025-06-01")));
    // Written back (as an amendment, through the journal), it is stored in the new form and
    // reads the same.
    let stored = s.issuer("inst.s0000-44-000001").await.unwrap();
    s.put_issuers(
        &[hutong_store::IssuerWrite {
            before: stored,
            after: i.clone(),
            after_sha256: conformance::issuer_hash(&i),
            change: r#"{"change":"amended"}"#.into(),
        }],
        "test",
        1,
    )
    .await
    .unwrap();
    let record: String = raw
        .query_row("SELECT record FROM issuers", [], |r| r.get(0))
        .unwrap();
    assert!(
        record.contains("\"grants\"") && !record.contains("\"kinds\""),
        "{record}"
    );
    assert_eq!(s.issuers().await.unwrap(), [i]);
}
