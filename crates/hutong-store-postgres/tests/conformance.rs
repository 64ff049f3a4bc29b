//! The store conformance suite on PostgreSQL, each check on a fresh database, and the checks
//! that only a server backend has. Without `HUTONG_TEST_POSTGRES_URL` every check here is
//! skipped with a message; with it, an unreachable server fails them.

use hutong_core::journal::Subject;
use hutong_store::conformance::{insert, sample_certificate};
use hutong_store::{InsertMode, RowOutcome, Store, StoreError};
use hutong_store_postgres::testing::{TestDatabase, fresh_split_store, fresh_store};
use hutong_store_postgres::{PgOptions, PgStore};

hutong_store::conformance_tests!(fresh_store());

/// The same suite with reads on a separate, read-only pool: a write routed to the read side
/// by mistake fails here.
mod with_read_pool {
    use super::fresh_split_store;
    hutong_store::conformance_tests!(fresh_split_store());
}

async fn sql(url: &str, statement: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client.batch_execute(statement).await.expect(statement);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(db) = TestDatabase::create("a_newer_schema_is_refused").await else {
        return;
    };
    drop(db.open().await);
    sql(
        db.url(),
        "INSERT INTO schema_migrations (version, description) VALUES (99, 'from the future')",
    )
    .await;
    let err = PgStore::connect(db.url())
        .await
        .err()
        .expect("must refuse")
        .to_string();
    assert!(err.contains("newer than this hutong knows"), "{err}");
}

#[tokio::test]
async fn migrations_are_recorded_and_not_repeated() {
    let Some(db) = TestDatabase::create("migrations_are_recorded_and_not_repeated").await else {
        return;
    };
    let s = db.open().await;
    insert(&s, &[sample_certificate("M-1", 1)], "t", InsertMode::Each)
        .await
        .unwrap();
    drop(s);
    // Opening again (two processes at once, even) applies nothing and keeps the data.
    let (a, b) = tokio::join!(PgStore::connect(db.url()), PgStore::connect(db.url()));
    let (a, _b) = (a.unwrap(), b.unwrap());
    assert!(!a.is_empty().await.unwrap());
    let (client, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_without_the_password() {
    // A port nothing listens on: the error names host and port, not the password.
    let err = PgStore::connect("postgres://hutong:topsecret@127.0.0.1:1/registry")
        .await
        .err()
        .expect("nothing listens on port 1")
        .to_string();
    assert!(
        err.contains(
            "cannot connect to PostgreSQL at 127.0.0.1:1 (database registry, user hutong)"
        ),
        "{err}"
    );
    assert!(!err.contains("topsecret"), "{err}");
}

#[tokio::test]
async fn a_read_database_of_another_registry_is_refused() {
    let Some(primary) =
        TestDatabase::create("a_read_database_of_another_registry_is_refused").await
    else {
        return;
    };
    let Some(other) = TestDatabase::create("a_read_database_of_another_registry_is_refused").await
    else {
        return;
    };
    drop(other.open().await);
    let err = PgStore::connect_with(primary.url(), Some(other.url()), PgOptions::default())
        .await
        .err()
        .expect("another registry must be refused")
        .to_string();
    assert!(
        err.contains("holds another registry than --database"),
        "{err}"
    );
    // An empty database (no replica yet, or the wrong one) is waited for, then refused.
    let Some(empty) = TestDatabase::create("a_read_database_of_another_registry_is_refused").await
    else {
        return;
    };
    let err = PgStore::connect_with(
        primary.url(),
        Some(empty.url()),
        PgOptions {
            replica_wait: std::time::Duration::from_millis(300),
            ..PgOptions::default()
        },
    )
    .await
    .err()
    .expect("an empty read database must be refused")
    .to_string();
    assert!(err.contains("has no hutong registry"), "{err}");
}

#[tokio::test]
async fn a_read_only_primary_is_refused_with_the_reason() {
    let Some(db) = TestDatabase::create("a_read_only_primary_is_refused_with_the_reason").await
    else {
        return;
    };
    drop(db.open().await);
    let url = format!(
        "{}?options=-c%20default_transaction_read_only%3Don",
        db.url()
    );
    let ro = PgStore::connect(&url).await;
    let err = ro.err().expect("read-only primary").to_string();
    assert!(
        err.contains("are read-only (default_transaction_read_only)"),
        "{err}"
    );
}

#[tokio::test]
async fn kinds_interned_by_another_process_are_found() {
    let Some(db) = TestDatabase::create("kinds_interned_by_another_process_are_found").await else {
        return;
    };
    let (a, b) = (db.open().await, db.open().await);
    let mut c = sample_certificate("K-1", 1);
    c.kind = "samr.welding.metal".into();
    insert(&a, std::slice::from_ref(&c), "t", InsertMode::Each)
        .await
        .unwrap();
    // `b` has never seen this kind's id: it reads it from the database.
    assert_eq!(
        b.certificates_by_number("K-1").await.unwrap(),
        vec![c.clone()]
    );
    assert_eq!(
        b.certificate("K-1", &c.kind).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        insert(&b, &[c], "t", InsertMode::Each).await.unwrap(),
        [RowOutcome::Unchanged]
    );
    assert_eq!(b.stats().await.unwrap().by_kind[0].0, "samr.welding.metal");
}

#[tokio::test]
async fn concurrent_batches_sharing_rows_do_not_deadlock() {
    let Some(db) = TestDatabase::create("concurrent_batches_sharing_rows_do_not_deadlock").await
    else {
        return;
    };
    let s = db.open().await;
    let forward: Vec<_> = (0..2000)
        .map(|i| sample_certificate(&format!("DL-{i:05}"), (i % 200) as u8))
        .collect();
    let mut backward = forward.clone();
    backward.reverse();
    let (x, y) = tokio::join!(
        insert(&s, &forward, "t", InsertMode::Each),
        insert(&s, &backward, "t", InsertMode::Each)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let stored = x
        .iter()
        .chain(&y)
        .filter(|o| **o == RowOutcome::Stored)
        .count();
    assert_eq!(stored, 2000, "each row stored exactly once");
    assert_eq!(s.stats().await.unwrap().certificates, 2000);
}

#[tokio::test]
async fn a_bulk_load_is_stored_and_analysed() {
    let Some(db) = TestDatabase::create("a_bulk_load_is_stored_and_analysed").await else {
        return;
    };
    let s = db.open().await;
    s.begin_bulk_load().await.unwrap();
    let batch: Vec<_> = (0..5000)
        .map(|i| sample_certificate(&format!("BL-{i:05}"), (i % 250) as u8))
        .collect();
    let out = insert(&s, &batch, "demo", InsertMode::Each).await.unwrap();
    assert!(out.iter().all(|o| *o == RowOutcome::Stored));
    s.end_bulk_load().await.unwrap();
    let st = s.stats().await.unwrap();
    assert_eq!((st.certificates, st.holders), (5000, 250));
    // Each row has its entry, numbered in input order, and the entries follow the ids.
    let journal = s.journal(0, 10_000).await.unwrap();
    assert_eq!(journal.len(), 5000);
    assert_eq!(s.journal_head().await.unwrap(), 5000);
    let audit = s.audit_page(0, 10_000).await.unwrap();
    for (i, (e, a)) in journal.iter().zip(&audit).enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.actor, "demo");
        assert_eq!(e.subject, Subject::Certificate(a.id));
        assert_eq!(a.certificate, batch[i]);
        assert_eq!(e.record_sha256, a.journal_sha256);
    }
    // Outside a bulk load, conflicts are still told apart from repeats.
    let mut changed = batch[7].clone();
    changed.holder_name = "赵六".into();
    match insert(
        &s,
        &[batch[3].clone(), changed],
        "t",
        InsertMode::AllOrNothing,
    )
    .await
    {
        Err(StoreError::Conflict(m)) => assert!(m.contains("BL-00007"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn counts_are_estimated_and_samples_repeat_for_a_seed() {
    let Some(db) = TestDatabase::create("counts_are_estimated_and_samples_repeat_for_a_seed").await
    else {
        return;
    };
    let s = db.open().await;
    assert_eq!(s.count_estimate().await.unwrap(), 0);
    assert!(s.sample_certificates(5, 1).await.unwrap().is_empty());
    let batch: Vec<_> = (0..300)
        .map(|i| sample_certificate(&format!("RS-{i:04}"), (i % 100) as u8))
        .collect();
    insert(&s, &batch, "t", InsertMode::Each).await.unwrap();
    assert_eq!(
        s.count_estimate().await.unwrap(),
        300,
        "never analysed: counted"
    );
    let picked = s.sample_certificates(10, 42).await.unwrap();
    assert_eq!(picked.len(), 10);
    assert!(picked.iter().all(|c| batch.contains(c)));
    assert_eq!(s.sample_certificates(10, 42).await.unwrap(), picked);
    assert_ne!(s.sample_certificates(10, 43).await.unwrap(), picked);
    // After ANALYZE the estimate comes from the planner's statistics, and grows with the table.
    s.end_bulk_load().await.unwrap();
    assert_eq!(s.count_estimate().await.unwrap(), 300);
}
