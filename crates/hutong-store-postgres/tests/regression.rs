//! Regression tests for the PostgreSQL backend, one per defect, named `r8_<item>_…` after the
//! item of issue 8 that found it. Skipped (with a note) without `HUTONG_TEST_POSTGRES_URL`.

use hutong_store::{Store, StoreError};
use hutong_store_postgres::PgStore;
use hutong_store_postgres::testing::TestDatabase;

/// Migration 1 as it first shipped, before its identifiers had `COLLATE "C"`.
const FIRST_MIGRATION_1: &str = include_str!("fixtures/migration-1-without-collate-c.sql");
/// Migration 1 as it shipped later, and still is.
const MIGRATION_1: &str = include_str!("fixtures/migration-1.sql");

/// The checksums of the shipped migrations. A test fails when a migration's text changes:
/// databases record these, and a changed text would make their history differ.
const PINNED: &[(u32, &str, &str)] = &[
    (
        1,
        "the registry",
        "2c8d0e8dfb2fc2c54fccb0662eb0f27ce590116619d282d89a83d7d3630dae56",
    ),
    (
        2,
        "identifiers compare byte by byte",
        "1ed76ac34e88320f1e5f956cb1e9d270e5fc164bcd98b82e44ce19b78feaef11",
    ),
    (
        3,
        "refuse unknown events",
        "7661d97a9a39d412d8599aaad0ae58e0abed8dff179cce2629c265d526160606",
    ),
    (
        4,
        "the change journal, tokens, serials, idempotency and published policies",
        "0cd5fe8c36c8c08eebf38e11576598060f6db902cca3ee4c72e862c8b4aec7ee",
    ),
    (
        5,
        "issuers' signing keys",
        "e9e7ad16185524d50109958ee7a9ff688a5321f78e3c7a215fad47f1c80ecb76",
    ),
    (
        6,
        "the transparency log: leaves, tile hashes, checkpoints and cosignatures",
        "3d75d280e40179be5f5eeb4c1ac22d20b075220c3e41cac462c3da34c95b3335",
    ),
    (
        7,
        "holders' share codes",
        "c184cf26fea431e3305c3620da22a320c56e2e4c0f8e7ce456fec1683a613656",
    ),
    (
        8,
        "the last change from each issuer",
        "05985bdc98362f7c3903cae988dfcae1de5a9fc15842f2e84d8844753b0c3040",
    ),
    (
        9,
        "employers' webhooks",
        "2f23d5fd6ab00d580a1e7084de58ba2ffb65fb864ee535ef9555ffc6af5df962",
    ),
];
const PINNED_FIRST_MIGRATION_1: &str =
    "731f4a3cfa37dbb38b56520dafd2a85da1699cf613c7354cfe042b2c4c70deff";

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

/// A database as releases before checksums made it, with the given text of migration 1 and
/// one certificate.
async fn database_from_before(db: &TestDatabase, migration_1: &str) {
    let c = client(db.url()).await;
    c.batch_execute(migration_1).await.unwrap();
    c.batch_execute(
        "CREATE TABLE schema_migrations (
            version     integer     PRIMARY KEY,
            description text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
         );
         INSERT INTO schema_migrations (version, description) VALUES (1, 'the registry');
         INSERT INTO kinds (name) VALUES ('mem.electrical.low-voltage');
         INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on, state,
            holder_key, holder_name, issuer, recorded_by)
         VALUES ('OLD-1', 1, 0, '2024-03-01', '2018-03-01', 'a', decode(repeat('00', 32), 'hex'), '张小明', 'mem.44', 'import');",
    )
    .await
    .unwrap();
}

async fn collations(db: &TestDatabase) -> Vec<(String, String, Option<String>)> {
    client(db.url())
        .await
        .query(
            "SELECT table_name::text, column_name::text, collation_name::text \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND (table_name, column_name) IN (('kinds', 'name'), ('issuers', 'id'), \
             ('certificates', 'number'), ('events', 'number')) ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn checksums(db: &TestDatabase) -> Vec<(i32, String)> {
    client(db.url())
        .await
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn r8_25_shipped_migration_texts_are_pinned() {
    let have = hutong_store_postgres::migrations();
    let want: Vec<(u32, &str, String)> = PINNED
        .iter()
        .map(|(v, d, s)| (*v, *d, s.to_string()))
        .collect();
    assert_eq!(
        have, want,
        "a shipped migration changed: add a new migration instead"
    );
    assert_eq!(hutong_store::migration::checksum(MIGRATION_1), PINNED[0].2);
    assert_eq!(
        hutong_store::migration::checksum(FIRST_MIGRATION_1),
        PINNED_FIRST_MIGRATION_1
    );
}

#[tokio::test]
async fn r8_25_a_database_made_with_the_first_migration_1_gets_collate_c() {
    let Some(db) = TestDatabase::create("r8_25 first migration 1").await else {
        return;
    };
    database_from_before(&db, FIRST_MIGRATION_1).await;
    assert!(collations(&db).await.iter().all(|(_, _, c)| c.is_none()));
    let s = PgStore::connect(db.url())
        .await
        .expect("a database made by an earlier release opens");
    let c = s
        .certificate("OLD-1", "mem.electrical.low-voltage")
        .await
        .unwrap()
        .expect("its data is kept");
    assert_eq!(c.holder_name, "张小明");
    drop(s);
    assert!(
        collations(&db)
            .await
            .iter()
            .all(|(_, _, c)| c.as_deref() == Some("C")),
        "{:?}",
        collations(&db).await
    );
    assert_eq!(
        checksums(&db).await,
        [
            (1, PINNED_FIRST_MIGRATION_1.to_string()),
            (2, PINNED[1].2.to_string()),
            (3, PINNED[2].2.to_string()),
            (4, PINNED[3].2.to_string()),
            (5, PINNED[4].2.to_string()),
            (6, PINNED[5].2.to_string()),
            (7, PINNED[6].2.to_string()),
            (8, PINNED[7].2.to_string()),
            (9, PINNED[8].2.to_string())
        ],
        "history says which text of migration 1 made the database"
    );
    drop(
        PgStore::connect(db.url())
            .await
            .expect("and it opens again"),
    );
}

#[tokio::test]
async fn r8_25_a_database_from_before_checksums_opens_and_records_them() {
    let Some(db) = TestDatabase::create("r8_25 current migration 1").await else {
        return;
    };
    database_from_before(&db, MIGRATION_1).await;
    drop(PgStore::connect(db.url()).await.expect("opens"));
    assert_eq!(
        checksums(&db).await,
        [
            (1, PINNED[0].2.to_string()),
            (2, PINNED[1].2.to_string()),
            (3, PINNED[2].2.to_string()),
            (4, PINNED[3].2.to_string()),
            (5, PINNED[4].2.to_string()),
            (6, PINNED[5].2.to_string()),
            (7, PINNED[6].2.to_string()),
            (8, PINNED[7].2.to_string()),
            (9, PINNED[8].2.to_string())
        ]
    );
}

#[tokio::test]
async fn r8_25_a_database_with_another_history_is_refused() {
    let Some(db) = TestDatabase::create("r8_25 another history").await else {
        return;
    };
    drop(db.open().await);
    client(db.url())
        .await
        .execute(
            "UPDATE schema_migrations SET checksum = $1 WHERE version = 1",
            &[&hutong_store::migration::checksum(
                "CREATE TABLE meta (key text)",
            )],
        )
        .await
        .unwrap();
    let e = PgStore::connect(db.url()).await.err().expect("must refuse");
    assert!(matches!(e, StoreError::Incompatible(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("migration 1 (the registry)") && m.contains("modified build"),
        "{m}"
    );
}

#[tokio::test]
async fn r8_06_an_unknown_event_cannot_be_stored() {
    // Events exist up to schema 3 (migration 4 turns them into journal entries).
    let Some(db) = TestDatabase::create("r8_06 unknown event").await else {
        return;
    };
    db.migrate_to(3).await;
    let c = client(db.url()).await;
    c.batch_execute(
        "INSERT INTO kinds (name) VALUES ('mem.electrical.low-voltage');
         INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on, state,
            holder_key, holder_name, issuer, recorded_by)
         VALUES ('EV-1', 1, 0, '2024-03-01', '2018-03-01', 'a', decode(repeat('00', 32), 'hex'), '张小明', 'mem.44', 'import');",
    )
    .await
    .unwrap();
    let e = c
        .batch_execute(
            "INSERT INTO events (number, kind, event, on_day, actor) \
             SELECT 'EV-1', id, 'bogus', '2026-01-01', 'x' FROM kinds",
        )
        .await
        .expect_err("an unknown event must be refused");
    let m = format!("{e:?}");
    assert!(m.contains("event_kind_known"), "{m}");
}

/// An issuer record stored before grants and suspension periods (`kinds`, `scope`, `status`,
/// `status_since`) still reads, as the same rights and the same removal.
#[tokio::test]
async fn an_issuer_record_of_the_older_form_still_reads() {
    let Some(db) = TestDatabase::create("older issuer record").await else {
        return;
    };
    let s = db.open().await;
    client(db.url())
        .await
        .batch_execute(
            r#"INSERT INTO issuers (id, record) VALUES ('mem.44', '{"id":"mem.44","name_zh":"广东省应急管理厅","department":"mem","role":"authority","region":"44","kinds":["mem.electrical.low-voltage","mem.welding.fusion-cutting"],"registered_on":"2019-01-01","status":"removed","status_since":"2025-06-01"}')"#,
        )
        .await
        .unwrap();
    let i = s.issuer("mem.44").await.unwrap().unwrap();
    let day = |t: &str| t.parse().unwrap();
    assert_eq!(
        i.kinds_on(day("2024-01-01")),
        ["mem.electrical.low-voltage", "mem.welding.fusion-cutting"]
    );
    assert_eq!(i.removed_on, Some(day("2025-06-01")));
    assert!(i.was_active_on(day("2025-05-31")) && !i.was_active_on(day("2025-06-01")));
    assert_eq!(s.issuers().await.unwrap(), [i]);
}
