//! The behaviour every [`Store`] backend must show. Each check is a public async function; a
//! backend's test file runs them all with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```text
//! hutong_store::conformance_tests!(async { Some(my_fresh_store().await) });
//! ```
//!
//! The factory returns a fresh, empty store, or `None` when the backend is not available here
//! (the factory says why on standard error), in which case the check is skipped.

use hutong_core::date::Day;
use hutong_core::{
    AdminState, Certificate, Grant, HolderKey, Issuer, IssuerChange, IssuerRole, Level,
};

use crate::{CertificateUpdate, Event, EventKind, InsertMode, RowOutcome, Store, StoreError};

/// Generates one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            holder_secret_is_bound_once,
            issuers_round_trip_and_replace,
            inserting_is_idempotent_and_detects_conflicts,
            a_batch_reports_outcomes_in_order,
            lookups_by_number_and_holder,
            the_same_number_may_serve_several_kinds,
            events_update_the_record_and_are_kept,
            events_on_unknown_certificates_fail_cleanly,
            stats_count_what_is_stored,
            count_estimates_and_random_picks,
            concurrent_readers_and_a_writer,
            all_or_nothing_batches_roll_back_on_conflict
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let made: Option<_> = $make.await;
                match made {
                    Some(store) => $crate::conformance::$name(&*store).await,
                    None => eprintln!("skipped {}: backend not available", stringify!($name)),
                }
            }
        )*
    };
}

fn day(s: &str) -> Day {
    s.parse().expect("test date")
}

fn key(n: u8) -> HolderKey {
    HolderKey([n; 32])
}

pub fn sample_issuer(id: &str) -> Issuer {
    Issuer {
        id: id.to_string(),
        name_zh: format!("{id} 发证机关"),
        name_en: Some(format!("{id} authority")),
        department: "mem".into(),
        role: IssuerRole::Authority,
        region: Some("44".into()),
        grants: vec![Grant::kind("mem.electrical.low-voltage", day("2015-01-01"))],
        institution_type: None,
        institution_code: None,
        registered_on: day("2015-01-01"),
        suspensions: vec![],
        removed_on: None,
        contact: Some("020-00000000".into()),
    }
}

pub fn sample_certificate(number: &str, holder: u8) -> Certificate {
    Certificate {
        number: number.to_string(),
        kind: "mem.electrical.low-voltage".into(),
        holder_key: key(holder),
        holder_name: "张小明".into(),
        occupation: None,
        level: None,
        issuer: "mem.44".into(),
        issued_on: day("2024-03-01"),
        first_issued_on: day("2018-03-01"),
        valid_until: Some(day("2030-03-01")),
        last_review_on: None,
        state: AdminState::Active,
    }
}

pub async fn holder_secret_is_bound_once(s: &dyn Store) {
    s.ping().await.expect("a fresh store answers a ping");
    s.bind_holder_secret("aaaa").await.expect("first bind");
    s.bind_holder_secret("aaaa")
        .await
        .expect("same secret again");
    match s.bind_holder_secret("bbbb").await {
        Err(StoreError::Incompatible(msg)) => assert!(msg.contains("holder"), "{msg}"),
        other => panic!("a different secret must be refused, got {other:?}"),
    }
}

pub async fn issuers_round_trip_and_replace(s: &dyn Store) {
    let mut a = sample_issuer("mem.44");
    let mut inst = sample_issuer("inst.s0000-44-000001");
    inst.role = IssuerRole::Institution;
    inst.department = "mohrss".into();
    // An institution with history: a grant that ended and a suspension that was lifted.
    inst.grants = vec![
        Grant {
            valid_until: Some(day("2020-12-31")),
            ..Grant::scope(
                "mohrss.skill-level",
                "6-31-01-03",
                &[Level::L5],
                day("2015-01-01"),
            )
        },
        Grant::scope(
            "mohrss.skill-level",
            "6-18-02-04",
            &[Level::L5, Level::L4],
            day("2015-01-01"),
        ),
    ];
    inst.institution_type = Some("S".into());
    inst.institution_code = Some("0000".into());
    for change in [
        IssuerChange::Suspended {
            from: day("2022-03-01"),
            reason: Some("质量督导".into()),
        },
        IssuerChange::Reinstated {
            on: day("2022-09-01"),
        },
    ] {
        inst = change.apply(Some(&inst)).expect("a valid change");
    }
    s.put_issuers(&[a.clone(), inst.clone()]).await.unwrap();
    assert_eq!(s.issuer("mem.44").await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.issuer("inst.s0000-44-000001").await.unwrap(),
        Some(inst.clone())
    );
    assert_eq!(s.issuer("nobody").await.unwrap(), None);
    a = IssuerChange::Suspended {
        from: day("2026-01-01"),
        reason: None,
    }
    .apply(Some(&a))
    .expect("a valid change");
    s.put_issuers(std::slice::from_ref(&a)).await.unwrap();
    let all = s.issuers().await.unwrap();
    assert_eq!(
        all.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["inst.s0000-44-000001", "mem.44"]
    );
    assert_eq!(all[1], a);
}

pub async fn inserting_is_idempotent_and_detects_conflicts(s: &dyn Store) {
    let c = sample_certificate("T11010519491231002X", 1);
    assert_eq!(
        s.insert_certificates(std::slice::from_ref(&c), "test", InsertMode::Each)
            .await
            .unwrap(),
        [RowOutcome::Stored]
    );
    assert_eq!(
        s.insert_certificates(std::slice::from_ref(&c), "test", InsertMode::Each)
            .await
            .unwrap(),
        [RowOutcome::Unchanged]
    );
    let mut other = c.clone();
    other.holder_name = "李四".into();
    match &s
        .insert_certificates(&[other], "test", InsertMode::Each)
        .await
        .unwrap()[..]
    {
        [RowOutcome::Conflict { reason }] => assert!(reason.contains("different"), "{reason}"),
        o => panic!("expected a conflict, got {o:?}"),
    }
    assert_eq!(
        s.certificate(&c.number, &c.kind).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        s.events(&c.number, &c.kind).await.unwrap().len(),
        1,
        "one issued event, not one per import"
    );
}

pub async fn a_batch_reports_outcomes_in_order(s: &dyn Store) {
    let a = sample_certificate("A0001", 1);
    s.insert_certificates(std::slice::from_ref(&a), "test", InsertMode::Each)
        .await
        .unwrap();
    let b = sample_certificate("B0002", 2);
    let mut a2 = a.clone();
    a2.issued_on = day("2024-03-02");
    let c = sample_certificate("C0003", 3);
    let out = s
        .insert_certificates(
            &[b.clone(), a.clone(), a2, c.clone()],
            "test",
            InsertMode::Each,
        )
        .await
        .unwrap();
    assert_eq!(out[0], RowOutcome::Stored);
    assert_eq!(out[1], RowOutcome::Unchanged);
    assert!(matches!(out[2], RowOutcome::Conflict { .. }));
    assert_eq!(out[3], RowOutcome::Stored);
    assert_eq!(s.stats().await.unwrap().certificates, 3);
    // The same certificate twice in one batch: stored once, then unchanged.
    let d = sample_certificate("D0004", 4);
    let out = s
        .insert_certificates(&[d.clone(), d], "test", InsertMode::Each)
        .await
        .unwrap();
    assert_eq!(out, [RowOutcome::Stored, RowOutcome::Unchanged]);
}

pub async fn lookups_by_number_and_holder(s: &dyn Store) {
    let mut a = sample_certificate("N-1", 7);
    a.kind = "mohurd.construction.electrician".into();
    a.issued_on = day("2025-01-01");
    let b = sample_certificate("N-2", 7);
    let mut c = sample_certificate("N-3", 7);
    c.issued_on = day("2020-01-01");
    let mut sk = sample_certificate("S000044000123254000042", 7);
    sk.kind = "mohrss.skill-level".into();
    sk.occupation = Some("6-18-02-04".into());
    sk.level = Some(Level::L4);
    sk.valid_until = None;
    let stranger = sample_certificate("N-9", 8);
    s.insert_certificates(
        &[a.clone(), b.clone(), c.clone(), sk.clone(), stranger],
        "test",
        InsertMode::Each,
    )
    .await
    .unwrap();
    assert_eq!(
        s.certificates_by_number("N-2").await.unwrap(),
        vec![b.clone()]
    );
    assert!(
        s.certificates_by_number("n-2").await.unwrap().is_empty(),
        "numbers are looked up normalised"
    );
    assert!(s.certificates_by_number("NONE").await.unwrap().is_empty());
    let mine = s.certificates_by_holder(&key(7)).await.unwrap();
    let order: Vec<&str> = mine.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(
        order,
        ["N-3", "N-2", "S000044000123254000042", "N-1"],
        "by kind, then issue date, then number"
    );
    assert_eq!(mine[2], sk);
    assert!(s.certificates_by_holder(&key(99)).await.unwrap().is_empty());
}

pub async fn the_same_number_may_serve_several_kinds(s: &dyn Store) {
    // Special equipment certificates carry the holder's ID number; one card, several items.
    let mut metal = sample_certificate("11010519491231002X", 3);
    metal.kind = "samr.welding.metal".into();
    let mut nonmetal = metal.clone();
    nonmetal.kind = "samr.welding.nonmetal".into();
    let out = s
        .insert_certificates(&[nonmetal.clone(), metal.clone()], "test", InsertMode::Each)
        .await
        .unwrap();
    assert_eq!(out, [RowOutcome::Stored, RowOutcome::Stored]);
    assert_eq!(
        s.certificates_by_number("11010519491231002X")
            .await
            .unwrap(),
        vec![metal, nonmetal]
    );
}

pub async fn events_update_the_record_and_are_kept(s: &dyn Store) {
    let c = sample_certificate("E-1", 5);
    s.insert_certificates(std::slice::from_ref(&c), "import", InsertMode::Each)
        .await
        .unwrap();
    let ev = |kind, on: &str| Event {
        kind,
        on: day(on),
        by: "mem.44".into(),
        note: None,
    };
    let after = s
        .record_event(
            &c.number,
            &c.kind,
            &ev(EventKind::Reviewed, "2027-02-01"),
            &CertificateUpdate {
                last_review_on: Some(day("2027-02-01")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.last_review_on, Some(day("2027-02-01")));
    let suspended = AdminState::Suspended {
        since: day("2027-06-01"),
    };
    let after = s
        .record_event(
            &c.number,
            &c.kind,
            &Event {
                note: Some("违章作业".into()),
                ..ev(EventKind::Suspended, "2027-06-01")
            },
            &CertificateUpdate {
                state: Some(suspended),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.state, suspended);
    let after = s
        .record_event(
            &c.number,
            &c.kind,
            &ev(EventKind::Renewed, "2030-01-15"),
            &CertificateUpdate {
                issued_on: Some(day("2030-01-15")),
                valid_until: Some(Some(day("2036-01-15"))),
                state: Some(AdminState::Active),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (after.issued_on, after.valid_until, after.state),
        (
            day("2030-01-15"),
            Some(day("2036-01-15")),
            AdminState::Active
        )
    );
    assert_eq!(
        after.first_issued_on, c.first_issued_on,
        "renewal keeps the first issue date"
    );
    assert_eq!(
        s.certificate(&c.number, &c.kind).await.unwrap(),
        Some(after)
    );
    let kinds: Vec<EventKind> = s
        .events(&c.number, &c.kind)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Issued,
            EventKind::Reviewed,
            EventKind::Suspended,
            EventKind::Renewed
        ]
    );
    let events = s.events(&c.number, &c.kind).await.unwrap();
    assert_eq!(events[0].by, "import");
    assert_eq!(events[2].note.as_deref(), Some("违章作业"));
}

pub async fn events_on_unknown_certificates_fail_cleanly(s: &dyn Store) {
    let ev = Event {
        kind: EventKind::Revoked,
        on: day("2026-01-01"),
        by: "x".into(),
        note: None,
    };
    let r = s
        .record_event(
            "NOPE",
            "mem.electrical.low-voltage",
            &ev,
            &CertificateUpdate::default(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    assert!(
        s.events("NOPE", "mem.electrical.low-voltage")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn stats_count_what_is_stored(s: &dyn Store) {
    assert_eq!(s.stats().await.unwrap().certificates, 0);
    assert!(s.is_empty().await.unwrap());
    let mut b = sample_certificate("ST-2", 1);
    b.kind = "samr.welding.metal".into();
    s.insert_certificates(
        &[
            sample_certificate("ST-1", 1),
            b,
            sample_certificate("ST-3", 2),
        ],
        "t",
        InsertMode::Each,
    )
    .await
    .unwrap();
    s.put_issuers(&[sample_issuer("mem.44")]).await.unwrap();
    let st = s.stats().await.unwrap();
    assert!(!s.is_empty().await.unwrap());
    assert_eq!((st.certificates, st.holders, st.issuers), (3, 2, 1));
    assert_eq!(
        st.by_kind,
        vec![
            ("mem.electrical.low-voltage".to_string(), 2),
            ("samr.welding.metal".to_string(), 1)
        ]
    );
}

pub async fn count_estimates_and_random_picks(s: &dyn Store) {
    assert_eq!(s.certificate_count_estimate().await.unwrap(), 0);
    let batch: Vec<Certificate> = (0..20)
        .map(|i| sample_certificate(&format!("RP-{i:04}"), i as u8))
        .collect();
    s.insert_certificates(&batch, "t", InsertMode::Each)
        .await
        .unwrap();
    assert!(s.certificate_count_estimate().await.unwrap() >= 20);
    // Picks are stored certificates only, the same ones for the same seed.
    let picked = s.random_certificates(10, 42).await.unwrap();
    assert!(!picked.is_empty() && picked.len() <= 10);
    for c in &picked {
        assert!(batch.contains(c), "{c:?} was not stored");
    }
    assert_eq!(s.random_certificates(10, 42).await.unwrap(), picked);
}

/// Batches written while a reader looks them up from another thread: a batch is visible whole
/// or not at all. All rows of a batch belong to one holder, so one holder lookup must find none
/// or all of them; and a reader that has seen one end of a batch must then see the other.
pub async fn concurrent_readers_and_a_writer(s: &dyn Store) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    const BATCHES: usize = 20;
    const ROWS: usize = 50;
    let number = |b: usize, i: usize| format!("CC-{b:03}-{i:04}");
    let holder = |b: usize| key(b as u8 + 1);
    let batches: Vec<Vec<Certificate>> = (0..BATCHES)
        .map(|b| {
            (0..ROWS)
                .map(|i| sample_certificate(&number(b, i), b as u8 + 1))
                .collect()
        })
        .collect();
    let handle = tokio::runtime::Handle::current();
    let writing = AtomicBool::new(true);
    let sweeps = AtomicUsize::new(0);
    let reader_done = AtomicBool::new(false);
    /// Tells the writer that the reader has stopped, even when it stops by panicking.
    struct SetOnDrop<'a>(&'a AtomicBool);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    let present =
        |n: String| async move { !s.certificates_by_number(&n).await.unwrap().is_empty() };

    // Reader and writer each run on a thread of their own, so that they really overlap even on a
    // backend whose calls never yield (SQLite): `tokio::join!` on one task would run them in turn.
    let (violations, partial_sweeps) = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let _done = SetOnDrop(&reader_done);
                handle.block_on(async {
                    let mut violations = Vec::new();
                    let mut partial_sweeps = 0;
                    loop {
                        let last_sweep = !writing.load(SeqCst);
                        let mut visible = 0;
                        for b in 0..BATCHES {
                            let first_before = present(number(b, 0)).await;
                            let last = present(number(b, ROWS - 1)).await;
                            let first_after = present(number(b, 0)).await;
                            let whole = s.certificates_by_holder(&holder(b)).await.unwrap().len();
                            if first_before && !last {
                                violations.push(format!(
                                    "batch {b}: its first row was visible, then its last was not"
                                ));
                            }
                            if last && !first_after {
                                violations.push(format!(
                                    "batch {b}: its last row was visible, then its first was not"
                                ));
                            }
                            if whole != 0 && whole != ROWS {
                                violations.push(format!(
                                    "batch {b}: one lookup found {whole} of its {ROWS} rows"
                                ));
                            }
                            visible += usize::from(last);
                        }
                        sweeps.fetch_add(1, SeqCst);
                        if visible > 0 && visible < BATCHES {
                            partial_sweeps += 1;
                        }
                        if last_sweep {
                            assert_eq!(visible, BATCHES, "every batch is visible once written");
                            break;
                        }
                    }
                    (violations, partial_sweeps)
                })
            });
            let writer = scope.spawn(|| {
                let wait_for_a_sweep = || {
                    // A sweep that starts after this point, so that the reader sees every state
                    // between batches, while it also keeps reading during the next batch.
                    let target = sweeps.load(SeqCst) + 2;
                    while sweeps.load(SeqCst) < target && !reader_done.load(SeqCst) {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                };
                wait_for_a_sweep();
                for batch in &batches {
                    let out = handle
                        .block_on(s.insert_certificates(batch, "t", InsertMode::Each))
                        .unwrap();
                    assert!(out.iter().all(|o| *o == RowOutcome::Stored));
                    wait_for_a_sweep();
                }
            });
            let written = writer.join();
            writing.store(false, SeqCst);
            let read = reader.join();
            if let Err(p) = written {
                std::panic::resume_unwind(p);
            }
            read.unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    });
    assert!(
        violations.is_empty(),
        "a batch was visible in part: {violations:#?}"
    );
    assert!(
        partial_sweeps > 0,
        "the reader never ran while batches were being written"
    );
    assert_eq!(
        s.stats().await.unwrap().certificates,
        (BATCHES * ROWS) as u64
    );
}

pub async fn all_or_nothing_batches_roll_back_on_conflict(s: &dyn Store) {
    let a = sample_certificate("AON-1", 1);
    s.insert_certificates(std::slice::from_ref(&a), "t", InsertMode::AllOrNothing)
        .await
        .unwrap();
    let mut changed = a.clone();
    changed.holder_name = "王五".into();
    let fresh = sample_certificate("AON-2", 2);
    match s
        .insert_certificates(&[fresh.clone(), changed], "t", InsertMode::AllOrNothing)
        .await
    {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("AON-1"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        s.certificate("AON-2", &fresh.kind).await.unwrap(),
        None,
        "nothing of the batch was stored"
    );
    // Unchanged rows are no conflict.
    let out = s
        .insert_certificates(&[a, fresh], "t", InsertMode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(out, [RowOutcome::Unchanged, RowOutcome::Stored]);
}
