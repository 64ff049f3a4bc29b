//! The journal on PostgreSQL: what only a server backend can show (writers in parallel, rows
//! changed behind the store's back with SQL) and the migration of an earlier schema's events.
//! Skipped (with a note) without `HUTONG_TEST_POSTGRES_URL`.

use std::sync::Arc;

use hutong_core::journal::{self, CertChange, Subject};
use hutong_core::{AdminState, Certificate, HolderKey};
use hutong_store::conformance::{insert, sample_certificate};
use hutong_store::{CertificateWrite, InsertMode, RowOutcome, Store, StoreError};
use hutong_store_postgres::PgStore;
use hutong_store_postgres::testing::TestDatabase;

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

fn day(s: &str) -> hutong_core::date::Day {
    s.parse().expect("test date")
}

#[tokio::test]
async fn a_row_changed_with_sql_shows_in_the_audit() {
    let Some(db) = TestDatabase::create("a_row_changed_with_sql_shows_in_the_audit").await else {
        return;
    };
    let s = db.open().await;
    let certs: Vec<Certificate> = (0..3)
        .map(|i| sample_certificate(&format!("TA-{i}"), i))
        .collect();
    insert(&s, &certs, "import", InsertMode::Each)
        .await
        .unwrap();
    client(db.url())
        .await
        .batch_execute("UPDATE certificates SET holder_name = '王五' WHERE number = 'TA-1'")
        .await
        .unwrap();
    let rows = s.audit_page(0, 10).await.unwrap();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let now = journal::certificate_digest(&r.certificate).1;
        if r.certificate.number == "TA-1" {
            assert_eq!(
                r.certificate.holder_name, "王五",
                "the audit reads the row as it is"
            );
            let journaled = r.journal_sha256.as_deref().expect("it was journaled");
            assert_ne!(
                journaled, now,
                "a row changed behind the journal's back shows"
            );
            assert_eq!(journaled, journal::certificate_digest(&certs[1]).1);
        } else {
            assert_eq!(
                r.journal_sha256.as_deref(),
                Some(now.as_str()),
                "untouched rows agree"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_writers_leave_no_gap_in_the_journal() {
    let Some(db) = TestDatabase::create("parallel_writers_leave_no_gap_in_the_journal").await
    else {
        return;
    };
    let s = Arc::new(db.open().await);
    const WRITERS: usize = 8;
    const ROUNDS: usize = 10;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for r in 0..ROUNDS {
                    let c = sample_certificate(&format!("PW-{w}-{r}"), w as u8);
                    let out = insert(&*s, std::slice::from_ref(&c), "t", InsertMode::Each)
                        .await
                        .unwrap();
                    assert_eq!(out, [RowOutcome::Stored]);
                    // A batch that fails in the middle of the others takes no number.
                    let mut changed = c.clone();
                    changed.holder_name = "x".into();
                    let fresh = sample_certificate(&format!("PW-{w}-{r}-never"), w as u8);
                    let r = insert(&*s, &[fresh, changed], "t", InsertMode::AllOrNothing).await;
                    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
                    s.journal_only(
                        &[(Subject::Nothing, r#"{"change":"refused"}"#.into())],
                        "t",
                        1,
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a writer failed");
    }
    let all = s.journal(0, 10_000).await.unwrap();
    let n = (WRITERS * ROUNDS * 2) as u64;
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    assert_eq!(s.journal_head().await.unwrap(), n);
    assert_eq!(
        s.stats().await.unwrap().certificates,
        (WRITERS * ROUNDS) as u64
    );
}

#[tokio::test]
async fn messages_name_no_id_number() {
    let Some(db) = TestDatabase::create("messages_name_no_id_number").await else {
        return;
    };
    let s = db.open().await;
    let id_number = "11010519491231002X";
    let c = sample_certificate(&format!("T{id_number}"), 1);
    insert(&s, std::slice::from_ref(&c), "t", InsertMode::Each)
        .await
        .unwrap();
    let mut other = c.clone();
    other.holder_name = "李四".into();
    match &insert(&s, std::slice::from_ref(&other), "t", InsertMode::Each)
        .await
        .unwrap()[..]
    {
        [RowOutcome::Conflict { reason }] => {
            assert!(reason.contains("different"), "{reason}");
            assert!(!reason.contains(id_number), "{reason}");
        }
        o => panic!("expected a conflict, got {o:?}"),
    }
    let e = insert(&s, &[other], "t", InsertMode::AllOrNothing)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("conflict") && !e.contains(id_number), "{e}");
    let mut unknown = sample_certificate(&format!("T{}", "110105194912310037"), 2);
    unknown.kind = c.kind.clone();
    let after = CertChange::Suspended {
        on: day("2026-01-01"),
    };
    let e = s
        .update_certificate(
            &CertificateWrite {
                id: 99,
                before: unknown.clone(),
                after: unknown.clone(),
                after_sha256: journal::certificate_digest(&unknown).1,
                change: after.to_json(None),
            },
            "t",
            1,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e:?}");
    assert!(!e.to_string().contains("110105194912310037"), "{e}");
}

/// A database as the build before the journal made it: migrations 1 to 3, three certificates
/// (recorded on two days, so that their ids follow the day, then the number) and events.
async fn database_with_events(db: &TestDatabase) {
    db.migrate_to(3).await;
    client(db.url())
        .await
        .batch_execute(
            "INSERT INTO kinds (name) VALUES ('mem.electrical.low-voltage');
             INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on,
                valid_until, state, state_since, holder_key, holder_name, issuer, recorded_by,
                first_recorded_on)
             VALUES
             ('MIG-2', 1, 2, '2024-03-01', '2018-03-01', '2030-03-01', 's', '2025-06-01',
              decode(repeat('02', 32), 'hex'), '李四', 'mem.44', 'import', '2024-05-01'),
             ('MIG-1', 1, 1, '2024-03-01', '2018-03-01', '2030-03-01', 'a', NULL,
              decode(repeat('01', 32), 'hex'), '张小明', 'mem.44', 'demo', '2024-04-01'),
             ('MIG-3', 1, 3, '2024-03-01', '2018-03-01', '2030-03-01', 'r', '2025-07-01',
              decode(repeat('03', 32), 'hex'), '王五', 'mem.44', 'import', '2024-05-01');
             INSERT INTO events (number, kind, event, on_day, actor, note) VALUES
             ('MIG-2', 1, 'reviewed', '2025-02-01', 'mem.44', NULL),
             ('MIG-3', 1, 'revoked', '2025-07-01', 'mem.44', NULL),
             ('MIG-2', 1, 'suspended', '2025-06-01', 'mem.44', 'a note');",
        )
        .await
        .unwrap();
}

fn stored(number: &str, holder: u8, name: &str, state: AdminState) -> Certificate {
    Certificate {
        number: number.into(),
        holder_key: HolderKey([holder; 32]),
        holder_name: name.into(),
        state,
        ..sample_certificate(number, holder)
    }
}

#[tokio::test]
async fn events_of_schema_3_become_journal_entries() {
    let Some(db) = TestDatabase::create("events_of_schema_3_become_journal_entries").await else {
        return;
    };
    database_with_events(&db).await;
    let s = PgStore::connect(db.url())
        .await
        .expect("a database of schema 3 opens");
    let one = stored("MIG-1", 1, "张小明", AdminState::Active);
    let two = stored(
        "MIG-2",
        2,
        "李四",
        AdminState::Suspended {
            since: day("2025-06-01"),
        },
    );
    let three = stored(
        "MIG-3",
        3,
        "王五",
        AdminState::Revoked {
            on: day("2025-07-01"),
            reason: None,
        },
    );
    for (id, c) in [(1, &one), (2, &two), (3, &three)] {
        assert_eq!(
            s.certificate_with_id(&c.number, &c.kind).await.unwrap(),
            Some((id, c.clone())),
            "ids follow the day recorded, then the number"
        );
    }
    let all = s.journal(0, 100).await.unwrap();
    let hash = |c: &Certificate| Some(journal::certificate_digest(c).1);
    let want: Vec<(u64, &str, Subject, &str, Option<String>)> = vec![
        (
            1,
            "demo",
            Subject::Certificate(1),
            r#"{"change":"issued","migrated":true,"on":"2024-04-01"}"#,
            hash(&one),
        ),
        (
            2,
            "import",
            Subject::Certificate(2),
            r#"{"change":"issued","migrated":true,"on":"2024-05-01"}"#,
            None,
        ),
        (
            3,
            "migration",
            Subject::Certificate(2),
            r#"{"by":"mem.44","change":"reviewed","migrated":true,"on":"2025-02-01"}"#,
            None,
        ),
        (
            4,
            "migration",
            Subject::Certificate(2),
            r#"{"by":"mem.44","change":"suspended","migrated":true,"on":"2025-06-01"}"#,
            hash(&two),
        ),
        (
            5,
            "import",
            Subject::Certificate(3),
            r#"{"change":"issued","migrated":true,"on":"2024-05-01"}"#,
            None,
        ),
        (
            6,
            "migration",
            Subject::Certificate(3),
            r#"{"by":"mem.44","change":"revoked","migrated":true,"on":"2025-07-01"}"#,
            hash(&three),
        ),
    ];
    let have: Vec<(u64, &str, Subject, &str, Option<String>)> = all
        .iter()
        .map(|e| {
            (
                e.seq,
                e.actor.as_str(),
                e.subject.clone(),
                e.change.as_str(),
                e.record_sha256.clone(),
            )
        })
        .collect();
    assert_eq!(have, want);
    assert!(
        all.windows(2).all(|w| w[0].at_micros == w[1].at_micros),
        "one instant, the migration's"
    );
    assert_eq!(s.journal_head().await.unwrap(), 6);
    for r in s.audit_page(0, 10).await.unwrap() {
        assert_eq!(
            r.journal_sha256,
            hash(&r.certificate),
            "{}",
            r.certificate.number
        );
    }
    let c = client(db.url()).await;
    let events: bool = c
        .query_one("SELECT to_regclass('events') IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(events, "events is gone");
    // New writes continue the ids and the journal.
    let four = sample_certificate("MIG-4", 4);
    insert(&s, std::slice::from_ref(&four), "import", InsertMode::Each)
        .await
        .unwrap();
    let (id, _) = s
        .certificate_with_id("MIG-4", &four.kind)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id, 4);
    let last = s.journal(6, 10).await.unwrap();
    assert_eq!(
        (last.len(), last[0].seq, &last[0].subject),
        (1, 7, &Subject::Certificate(4))
    );
    drop(s);
    drop(
        PgStore::connect(db.url())
            .await
            .expect("and it opens again"),
    );
}

#[tokio::test]
async fn an_empty_database_of_schema_3_migrates() {
    let Some(db) = TestDatabase::create("an_empty_database_of_schema_3_migrates").await else {
        return;
    };
    db.migrate_to(3).await;
    let s = PgStore::connect(db.url()).await.expect("opens");
    assert_eq!(s.journal_head().await.unwrap(), 0);
    insert(&s, &[sample_certificate("E-1", 1)], "t", InsertMode::Each)
        .await
        .unwrap();
    let (id, _) = s
        .certificate_with_id("E-1", "mem.electrical.low-voltage")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((id, s.journal_head().await.unwrap()), (1, 1));
}

#[tokio::test]
async fn a_larger_schema_3_database_migrates_across_fetches() {
    let Some(db) = TestDatabase::create("a_larger_schema_3_database_migrates_across_fetches").await
    else {
        return;
    };
    db.migrate_to(3).await;
    // More rows than one fetch and one write of the migration, with a certificate's rows split
    // between two fetches.
    const N: i64 = 6001;
    client(db.url())
        .await
        .batch_execute(&format!(
            "INSERT INTO kinds (name) VALUES ('mem.electrical.low-voltage');
             INSERT INTO certificates (number, kind, holder_tag, issued_on, first_issued_on, state,
                holder_key, holder_name, issuer, recorded_by)
             SELECT 'L-' || lpad(i::text, 5, '0'), 1, i, '2024-03-01', '2018-03-01', 'a',
                decode(lpad(to_hex(i), 64, '0'), 'hex'), '张小明', 'mem.44', 'import'
             FROM generate_series(1, {N}) i;
             INSERT INTO events (number, kind, event, on_day, actor)
             SELECT 'L-' || lpad(i::text, 5, '0'), 1, 'reviewed', '2025-02-01', 'mem.44'
             FROM generate_series(1, {N}) i WHERE i % 2 = 0;"
        ))
        .await
        .unwrap();
    let s = PgStore::connect(db.url()).await.expect("opens");
    let n = N as u64 + N as u64 / 2;
    let all = s.journal(0, 100_000).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    assert_eq!(s.journal_head().await.unwrap(), n);
    let audit = s.audit_page(0, 100_000).await.unwrap();
    assert_eq!(audit.len(), N as usize);
    let mut entries = all.iter().peekable();
    for (i, r) in audit.iter().enumerate() {
        assert_eq!(r.certificate.number, format!("L-{:05}", i + 1));
        assert_eq!(
            r.journal_sha256,
            Some(journal::certificate_digest(&r.certificate).1)
        );
        let mine: Vec<_> =
            std::iter::from_fn(|| entries.next_if(|e| e.subject == Subject::Certificate(r.id)))
                .collect();
        let kinds: Vec<&str> = mine.iter().map(|e| e.kind()).collect();
        if (i + 1) % 2 == 0 {
            assert_eq!(kinds, ["issued", "reviewed"], "{}", r.certificate.number);
        } else {
            assert_eq!(kinds, ["issued"], "{}", r.certificate.number);
        }
        assert!(
            mine[..mine.len() - 1]
                .iter()
                .all(|e| e.record_sha256.is_none())
        );
    }
    assert!(entries.next().is_none());
}
