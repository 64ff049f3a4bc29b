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

use hutong_core::journal::{self, CertChange, Subject};
use hutong_core::lifecycle::Lifecycle;
use hutong_core::rights::Actor;
use hutong_core::token::{Token, TokenId, TokenRecord};
use hutong_core::{Period, RevocationReason};

use crate::{
    CertificateWrite, IdempotencyClaim, InsertMode, Issue, IssuerWrite, KeyWrite, LogHead, LogLeaf,
    LogNode, MirrorCursor, Mirrored, MirroredSubject, MirroredUpdate, RowOutcome, Store,
    StoreError, WebhookRecord,
};

/// The instant of the suite's writes.
const AT: i64 = 1_780_000_000_000_000;

/// Stores certificates as issued, each with its canonical form and hash.
pub async fn insert(
    s: &dyn Store,
    certs: &[Certificate],
    actor: &str,
    mode: InsertMode,
) -> crate::Result<Vec<RowOutcome>> {
    let issues: Vec<Issue> = certs.iter().cloned().map(Issue::new).collect();
    s.insert_certificates(&issues, actor, AT, mode, None).await
}

/// The hash of an issuer record's canonical form.
pub fn issuer_hash(i: &Issuer) -> String {
    journal::sha256_hex(journal::canonical(i).as_bytes())
}

/// Registers new issuers.
pub async fn register(s: &dyn Store, issuers: &[Issuer]) {
    let writes: Vec<IssuerWrite> = issuers
        .iter()
        .map(|i| IssuerWrite {
            before: None,
            after: i.clone(),
            after_sha256: issuer_hash(i),
            change: r#"{"change":"registered"}"#.into(),
        })
        .collect();
    s.put_issuers(&writes, "test", AT).await.unwrap();
}

/// Generates one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            holder_secret_is_bound_once,
            a_demo_registry_says_so,
            issuers_round_trip_and_replace,
            inserting_is_idempotent_and_detects_conflicts,
            a_batch_reports_outcomes_in_order,
            lookups_by_number_and_holder,
            the_same_number_may_serve_several_kinds,
            changes_update_the_record_and_are_journaled,
            stale_and_unknown_changes_write_nothing,
            the_journal_is_gapless_and_ordered,
            serials_are_never_handed_out_twice,
            idempotency_claims_are_kept_with_the_write,
            tokens_are_stored_by_hash_and_revoked,
            share_codes_are_stored_by_hash_and_revoked_by_their_holder,
            signing_keys_are_journaled_and_changed_only_from_what_is_stored,
            policies_are_published_with_their_files,
            audit_rows_carry_their_last_hash,
            stats_count_what_is_stored,
            count_estimates_and_random_picks,
            concurrent_readers_and_a_writer,
            all_or_nothing_batches_roll_back_on_conflict,
            mirrored_transactions_move_their_cursor_once,
            issuer_activity_follows_every_change_to_a_certificate,
            scans_page_through_certificates_refusals_and_answers,
            webhooks_keep_their_cursor_and_are_revoked,
            the_log_appends_leaves_under_its_head,
            the_log_keeps_one_checkpoint_per_size_and_its_cosignatures
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
        credit_code: None,
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

/// A registry filled with demo data records it, so that it can never be served as real data;
/// a later record replaces the earlier one.
pub async fn a_demo_registry_says_so(s: &dyn Store) {
    assert_eq!(s.demo_record().await.expect("read"), None);
    s.mark_demo(r#"{"seed":1}"#).await.expect("mark");
    s.mark_demo(r#"{"seed":2}"#).await.expect("mark again");
    assert_eq!(
        s.demo_record().await.expect("read").as_deref(),
        Some(r#"{"seed":2}"#)
    );
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
    register(s, &[a.clone(), inst.clone()]).await;
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
    let before = s.issuer("mem.44").await.unwrap();
    let entries = s
        .put_issuers(
            &[IssuerWrite {
                before: before.clone(),
                after: a.clone(),
                after_sha256: issuer_hash(&a),
                change: r#"{"change":"suspended","from":"2026-01-01"}"#.into(),
            }],
            "test",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(entries[0].subject, Subject::Issuer("mem.44".into()));
    // A write against a record that is no longer the stored one changes nothing.
    let r = s
        .put_issuers(
            &[IssuerWrite {
                before,
                after: sample_issuer("mem.44"),
                after_sha256: issuer_hash(&a),
                change: r#"{"change":"reinstated","on":"2026-02-01"}"#.into(),
            }],
            "test",
            AT,
        )
        .await;
    assert!(matches!(r, Err(StoreError::Stale(_))), "{r:?}");
    let r = s
        .put_issuers(
            &[IssuerWrite {
                before: None,
                after: sample_issuer("mem.44"),
                after_sha256: issuer_hash(&a),
                change: r#"{"change":"registered"}"#.into(),
            }],
            "test",
            AT,
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let history = s.history(&Subject::Issuer("mem.44".into())).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["registered", "suspended"]
    );
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
        insert(s, std::slice::from_ref(&c), "test", InsertMode::Each)
            .await
            .unwrap(),
        [RowOutcome::Stored]
    );
    assert_eq!(
        insert(s, std::slice::from_ref(&c), "test", InsertMode::Each)
            .await
            .unwrap(),
        [RowOutcome::Unchanged]
    );
    let mut other = c.clone();
    other.holder_name = "李四".into();
    match &insert(s, &[other], "test", InsertMode::Each).await.unwrap()[..] {
        [RowOutcome::Conflict { reason }] => assert!(reason.contains("different"), "{reason}"),
        o => panic!("expected a conflict, got {o:?}"),
    }
    assert_eq!(
        s.certificate(&c.number, &c.kind).await.unwrap(),
        Some(c.clone())
    );
    let (id, _) = s
        .certificate_with_id(&c.number, &c.kind)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.history(&Subject::Certificate(id)).await.unwrap().len(),
        1,
        "one issued entry, not one per import"
    );
}

pub async fn a_batch_reports_outcomes_in_order(s: &dyn Store) {
    let a = sample_certificate("A0001", 1);
    insert(s, std::slice::from_ref(&a), "test", InsertMode::Each)
        .await
        .unwrap();
    let b = sample_certificate("B0002", 2);
    let mut a2 = a.clone();
    a2.issued_on = day("2024-03-02");
    let c = sample_certificate("C0003", 3);
    let out = insert(
        s,
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
    let out = insert(s, &[d.clone(), d], "test", InsertMode::Each)
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
    insert(
        s,
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
    // By registry id, the identity that status lists and e-licence serials use.
    let (id, _) = s
        .certificate_with_id(&sk.number, &sk.kind)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.certificate_by_id(id).await.unwrap(), Some(sk));
    assert_eq!(s.certificate_by_id(-1).await.unwrap(), None);
    assert_eq!(s.certificate_by_id(id + 1000).await.unwrap(), None);
}

pub async fn the_same_number_may_serve_several_kinds(s: &dyn Store) {
    // Special equipment certificates carry the holder's ID number; one card, several items.
    let mut metal = sample_certificate("11010519491231002X", 3);
    metal.kind = "samr.welding.metal".into();
    let mut nonmetal = metal.clone();
    nonmetal.kind = "samr.welding.nonmetal".into();
    let out = insert(
        s,
        &[nonmetal.clone(), metal.clone()],
        "test",
        InsertMode::Each,
    )
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

fn mem_rule() -> Lifecycle {
    Lifecycle {
        id: "mem-special-operation".into(),
        expires: true,
        validity: Some(Period::Years(6)),
        review_interval: Some(Period::Years(3)),
        review_window: Some(Period::Days(60)),
        extended_review_interval: None,
        extended_review_after: None,
        renewal_window: None,
        renewal_deadline: None,
        renewal_extends: None,
        source: "test".into(),
        provisional: false,
    }
}

/// Applies `change` (through the core) to the stored certificate and writes it.
async fn change(
    s: &dyn Store,
    c: &Certificate,
    ch: CertChange,
    today: &str,
) -> crate::Result<journal::Entry> {
    let (id, before) = s
        .certificate_with_id(&c.number, &c.kind)
        .await?
        .expect("stored");
    let after = ch.apply(&before, &mem_rule(), day(today)).expect("applies");
    let (_, after_sha256) = journal::certificate_digest(&after);
    s.update_certificate(
        &CertificateWrite {
            id,
            before,
            after,
            after_sha256,
            change: ch.to_json(None),
        },
        "mem.44",
        AT,
        None,
    )
    .await
}

pub async fn changes_update_the_record_and_are_journaled(s: &dyn Store) {
    let c = sample_certificate("E-1", 5);
    insert(s, std::slice::from_ref(&c), "import", InsertMode::Each)
        .await
        .unwrap();
    change(
        s,
        &c,
        CertChange::Reviewed {
            on: day("2027-02-01"),
        },
        "2027-02-01",
    )
    .await
    .unwrap();
    change(
        s,
        &c,
        CertChange::Suspended {
            on: day("2027-06-01"),
        },
        "2027-06-01",
    )
    .await
    .unwrap();
    change(
        s,
        &c,
        CertChange::Reinstated {
            on: day("2027-07-01"),
        },
        "2027-07-01",
    )
    .await
    .unwrap();
    change(
        s,
        &c,
        CertChange::NameCorrected {
            from: c.holder_name.clone(),
            to: "张晓明".into(),
        },
        "2027-07-02",
    )
    .await
    .unwrap();
    let last = change(
        s,
        &c,
        CertChange::Revoked {
            on: day("2028-01-01"),
            reason: RevocationReason::Withdrawn,
        },
        "2028-01-01",
    )
    .await
    .unwrap();
    let (id, now) = s
        .certificate_with_id(&c.number, &c.kind)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.last_review_on, Some(day("2027-02-01")));
    assert_eq!(now.holder_name, "张晓明");
    assert_eq!(
        now.state,
        AdminState::Revoked {
            on: day("2028-01-01"),
            reason: Some(RevocationReason::Withdrawn)
        },
        "the revocation's reason is stored"
    );
    assert_eq!(now.first_issued_on, c.first_issued_on);
    let history = s.history(&Subject::Certificate(id)).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        [
            "issued",
            "reviewed",
            "suspended",
            "reinstated",
            "holder-name-corrected",
            "revoked"
        ]
    );
    assert_eq!(history[0].actor, "import");
    assert_eq!(history[1].actor, "mem.44");
    assert_eq!(history.last(), Some(&last));
    assert!(
        history[4].change.contains("张小明"),
        "the old name stays in history"
    );
    assert_eq!(
        last.record_sha256,
        Some(journal::certificate_digest(&now).1),
        "the last entry's hash is the stored record's"
    );
}

pub async fn stale_and_unknown_changes_write_nothing(s: &dyn Store) {
    let c = sample_certificate("E-2", 5);
    insert(s, std::slice::from_ref(&c), "import", InsertMode::Each)
        .await
        .unwrap();
    let (id, before) = s
        .certificate_with_id(&c.number, &c.kind)
        .await
        .unwrap()
        .unwrap();
    let head = s.journal_head().await.unwrap();
    let mut wrong_before = before.clone();
    wrong_before.holder_name = "someone else".into();
    let after = CertChange::Suspended {
        on: day("2026-01-01"),
    }
    .apply(&before, &mem_rule(), day("2026-01-01"))
    .unwrap();
    let w = CertificateWrite {
        id,
        before: wrong_before,
        after: after.clone(),
        after_sha256: journal::certificate_digest(&after).1,
        change: "{\"change\":\"suspended\",\"on\":\"2026-01-01\"}".into(),
    };
    let r = s.update_certificate(&w, "t", AT, None).await;
    assert!(matches!(r, Err(StoreError::Stale(_))), "{r:?}");
    let mut unknown = w.clone();
    unknown.before.number = "NOPE".into();
    unknown.after.number = "NOPE".into();
    let r = s.update_certificate(&unknown, "t", AT, None).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    // A change to a field that writes never update is refused before anything is written.
    let mut moved = w.clone();
    moved.before = before.clone();
    moved.after.issuer = "mem.11".into();
    let r = s.update_certificate(&moved, "t", AT, None).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(s.journal_head().await.unwrap(), head, "no entry was added");
    assert_eq!(
        s.certificate(&c.number, &c.kind).await.unwrap(),
        Some(c),
        "nothing was changed"
    );
}

pub async fn the_journal_is_gapless_and_ordered(s: &dyn Store) {
    register(s, &[sample_issuer("mem.44")]).await;
    let a = sample_certificate("G-1", 1);
    insert(
        s,
        &[a.clone(), sample_certificate("G-2", 2)],
        "import",
        InsertMode::Each,
    )
    .await
    .unwrap();
    // A batch that fails takes its numbers with it.
    let mut changed = a.clone();
    changed.holder_name = "x".into();
    assert!(
        insert(
            s,
            &[sample_certificate("G-3", 3), changed],
            "import",
            InsertMode::AllOrNothing,
        )
        .await
        .is_err()
    );
    s.journal_only(
        &[(
            Subject::Nothing,
            "{\"change\":\"refused\",\"right\":\"issue\"}".into(),
        )],
        "tok_x",
        AT,
    )
    .await
    .unwrap();
    insert(
        s,
        &[sample_certificate("G-4", 4)],
        "import",
        InsertMode::Each,
    )
    .await
    .unwrap();
    let all = s.journal(0, 1000).await.unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        all.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["registered", "issued", "issued", "refused", "issued"]
    );
    assert_eq!(s.journal_head().await.unwrap(), all.len() as u64);
    assert_eq!(s.journal(2, 2).await.unwrap(), all[2..4].to_vec());
    assert!(s.journal(5, 10).await.unwrap().is_empty());
    // No entry holds an ID number, even for a certificate numbered by one.
    let t = sample_certificate("T11010519491231002X", 9);
    insert(s, &[t], "import", InsertMode::Each).await.unwrap();
    for e in s.journal(0, 1000).await.unwrap() {
        assert!(!e.change.contains("11010519491231002X"), "{}", e.change);
    }
}

pub async fn serials_are_never_handed_out_twice(s: &dyn Store) {
    // Sixteen threads at once, so that the backend's calls really overlap (see
    // `concurrent_readers_and_a_writer`).
    let handle = tokio::runtime::Handle::current();
    let mut all: Vec<u64> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| {
                        handle.block_on(async {
                            let mut mine = Vec::new();
                            for _ in 0..10 {
                                let first = s.reserve_serials("S0000-44-01-26-4", 3).await.unwrap();
                                mine.extend(first..first + 3);
                            }
                            mine
                        })
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().expect("a reserving thread panicked"))
                .collect()
        })
    });
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "a serial was handed out twice");
    assert_eq!(all, (1..=480).collect::<Vec<u64>>());
    assert_eq!(s.reserve_serials("other", 1).await.unwrap(), 1);
    // A prefix whose numbers were imported continues after the largest of them.
    let mut imported = vec![
        sample_certificate("S000044440100264000041", 1),
        sample_certificate("S000044440100264000007", 2),
        sample_certificate("S000044440100264000900X", 3),
        sample_certificate("S0000444401002640", 4),
    ];
    imported[3].number.push_str("99999999999999999999");
    insert(s, &imported, "import", InsertMode::Each)
        .await
        .unwrap();
    assert_eq!(s.reserve_serials("S000044440100264", 1).await.unwrap(), 42);
    assert_eq!(s.reserve_serials("S000044440100264", 1).await.unwrap(), 43);
    assert_eq!(
        s.reserve_serials("S0000%", 1).await.unwrap(),
        1,
        "a LIKE pattern is a plain prefix"
    );
}

pub async fn idempotency_claims_are_kept_with_the_write(s: &dyn Store) {
    let claim = IdempotencyClaim {
        owner: "tok_a".into(),
        key: "k-1".into(),
        request_sha256: "ab".repeat(32),
    };
    let c = sample_certificate("I-1", 1);
    let issues = [Issue::new(c.clone())];
    s.insert_certificates(&issues, "tok_a", AT, InsertMode::AllOrNothing, Some(&claim))
        .await
        .unwrap();
    let head = s.journal_head().await.unwrap();
    let rec = s.idempotency("tok_a", "k-1").await.unwrap().unwrap();
    assert_eq!(rec.request_sha256, claim.request_sha256);
    assert_eq!(rec.seqs, Some((head, head)));
    assert_eq!(rec.answer, None);
    // A retry with the same key stores nothing.
    let other = [Issue::new(sample_certificate("I-2", 2))];
    let r = s
        .insert_certificates(&other, "tok_a", AT, InsertMode::AllOrNothing, Some(&claim))
        .await;
    assert!(matches!(r, Err(StoreError::KeyUsed)), "{r:?}");
    assert_eq!(s.certificate("I-2", &c.kind).await.unwrap(), None);
    assert_eq!(s.journal_head().await.unwrap(), head);
    s.record_answer("tok_a", "k-1", 201, "{\"ok\":1}")
        .await
        .unwrap();
    // The first answer stays.
    s.record_answer("tok_a", "k-1", 500, "later").await.unwrap();
    let rec = s.idempotency("tok_a", "k-1").await.unwrap().unwrap();
    assert_eq!(rec.answer, Some((201, "{\"ok\":1}".to_string())));
    assert_eq!(s.idempotency("tok_b", "k-1").await.unwrap(), None);
}

pub async fn tokens_are_stored_by_hash_and_revoked(s: &dyn Store) {
    let secret = Token::generate();
    let t = TokenRecord {
        id: TokenId::generate(),
        hash: secret.hash(),
        actor: Actor::Regulator {
            department: "mohrss".into(),
            region: None,
        },
        label: Some("first".into()),
        created_at_micros: AT,
        expires_at_micros: Some(AT + 1_000_000),
        revoked_at_micros: None,
    };
    let e = s
        .create_token(&t, "{\"change\":\"token-created\"}", "cli:root", AT)
        .await
        .unwrap();
    assert_eq!(e.subject, Subject::Token(t.id.as_str().to_string()));
    assert_eq!(
        s.token_by_hash(&secret.hash()).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(s.token_by_hash(&[0; 32]).await.unwrap(), None);
    assert_eq!(s.tokens().await.unwrap(), vec![t.clone()]);
    s.revoke_token(
        t.id.as_str(),
        "{\"change\":\"token-revoked\"}",
        "cli:root",
        AT + 5,
    )
    .await
    .unwrap();
    let revoked = s.token_by_hash(&secret.hash()).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at_micros, Some(AT + 5));
    let r = s
        .revoke_token(
            t.id.as_str(),
            "{\"change\":\"token-revoked\"}",
            "cli:root",
            AT + 6,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let all = s.journal(0, 100).await.unwrap();
    for e in &all {
        assert!(
            !e.change.contains(secret.expose()),
            "no secret in the journal"
        );
    }
}

pub async fn share_codes_are_stored_by_hash_and_revoked_by_their_holder(s: &dyn Store) {
    use hutong_core::share::{SharePurpose, ShareRecord};
    let holder = HolderKey([7; 32]);
    let other = HolderKey([8; 32]);
    let commitments = std::collections::BTreeMap::from([(3, [1u8; 32]), (4, [2u8; 32])]);
    let none = std::collections::BTreeMap::new();
    let (code, one) = ShareRecord::create(
        holder,
        Some(3),
        SharePurpose::Employment,
        AT,
        30,
        commitments.clone(),
    )
    .unwrap();
    let (_, all) =
        ShareRecord::create(holder, None, SharePurpose::Tender, AT + 1, 1, commitments).unwrap();
    let (_, theirs) =
        ShareRecord::create(other, None, SharePurpose::Employment, AT, 1, none).unwrap();
    assert_eq!(all.commitments.len(), 2);
    let e = s.create_share(&one, "holder", AT).await.unwrap();
    assert_eq!(e.subject, Subject::Share(one.id.to_string()));
    assert_eq!(e.kind(), "share-created");
    assert!(!e.is_log_leaf());
    s.create_share(&all, "holder", AT + 1).await.unwrap();
    s.create_share(&theirs, "holder", AT).await.unwrap();
    let r = s.create_share(&one, "holder", AT).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        s.share_by_hash(&code.hash()).await.unwrap(),
        Some(one.clone())
    );
    assert_eq!(s.share_by_hash(&[0; 32]).await.unwrap(), None);
    assert_eq!(
        s.shares_of(&holder).await.unwrap(),
        vec![all.clone(), one.clone()],
        "newest first, the holder's only"
    );
    // Another holder cannot revoke it.
    let r = s
        .revoke_share(one.id.as_str(), &other, "holder", AT + 5)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let e = s
        .revoke_share(one.id.as_str(), &holder, "holder", AT + 5)
        .await
        .unwrap();
    assert_eq!(e.kind(), "share-revoked");
    let revoked = s.share_by_hash(&code.hash()).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at_micros, Some(AT + 5));
    let r = s
        .revoke_share(one.id.as_str(), &holder, "holder", AT + 6)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    for e in s.journal(0, 100).await.unwrap() {
        assert!(!e.change.contains(code.expose()), "no code in the journal");
        assert!(!e.change.contains(&hex::encode(one.hash)), "no hash either");
    }
}

pub async fn signing_keys_are_journaled_and_changed_only_from_what_is_stored(s: &dyn Store) {
    use hutong_core::keys::KeyChange;
    let (c1, k1) = KeyChange::create("mem.44", "z6MkOne", AT);
    let (c2, k2) = KeyChange::create("mem.44", "z6MkTwo", AT + 10);
    let created = s
        .put_keys(
            &[KeyWrite {
                before: None,
                after: k1.clone(),
                change: c1.to_json(),
            }],
            "cli:root",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(created[0].subject, Subject::Key(k1.id.clone()));
    assert_eq!(created[0].record_sha256, Some(k1.digest().1));
    assert_eq!(created[0].kind(), "key-created");
    // A rotation: the new key and the old one retired, in one step.
    let (r, k1_retired) = KeyChange::retire(&k1, AT + 10).unwrap();
    let rotated = s
        .put_keys(
            &[
                KeyWrite {
                    before: None,
                    after: k2.clone(),
                    change: c2.to_json(),
                },
                KeyWrite {
                    before: Some(k1.clone()),
                    after: k1_retired.clone(),
                    change: r.to_json(),
                },
            ],
            "cli:root",
            AT + 10,
        )
        .await
        .unwrap();
    assert_eq!(rotated.len(), 2);
    assert_eq!(rotated[1].seq, rotated[0].seq + 1);
    assert_eq!(
        s.keys().await.unwrap(),
        vec![k1_retired.clone(), k2.clone()]
    );
    // A write from a record that is no longer the stored one changes nothing, and neither does
    // a batch with one bad write in it.
    let head = s.journal_head().await.unwrap();
    let (v, k1_revoked) = KeyChange::revoke(&k1, AT + 5, "leaked").unwrap();
    let stale = s
        .put_keys(
            &[KeyWrite {
                before: Some(k1.clone()),
                after: k1_revoked,
                change: v.to_json(),
            }],
            "cli:root",
            AT + 20,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Stale(_))), "{stale:?}");
    let (c3, k3) = KeyChange::create("mem.44", "z6MkThree", AT + 20);
    let dup = s
        .put_keys(
            &[
                KeyWrite {
                    before: None,
                    after: k3,
                    change: c3.to_json(),
                },
                KeyWrite {
                    before: None,
                    after: k2.clone(),
                    change: c2.to_json(),
                },
            ],
            "cli:root",
            AT + 20,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(s.journal_head().await.unwrap(), head);
    assert_eq!(s.keys().await.unwrap(), vec![k1_retired, k2]);
}

pub async fn policies_are_published_with_their_files(s: &dyn Store) {
    assert_eq!(s.published_policy().await.unwrap(), None);
    let files = vec![
        ("kinds.toml".to_string(), "# 种类\n".to_string()),
        ("regions.toml".to_string(), "x = 1\n".to_string()),
    ];
    let e = s
        .publish_policy(
            "d1",
            &files,
            "{\"change\":\"policy-published\"}",
            "cli:root",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(e.subject, Subject::Policy("d1".into()));
    let p = s.published_policy().await.unwrap().unwrap();
    assert_eq!((p.digest.as_str(), &p.files, p.seq), ("d1", &files, e.seq));
    s.publish_policy(
        "d2",
        &files[..1],
        "{\"change\":\"policy-published\"}",
        "cli:root",
        AT,
    )
    .await
    .unwrap();
    assert_eq!(s.published_policy().await.unwrap().unwrap().digest, "d2");
}

pub async fn audit_rows_carry_their_last_hash(s: &dyn Store) {
    let certs: Vec<Certificate> = (0..5)
        .map(|i| sample_certificate(&format!("AU-{i}"), i))
        .collect();
    insert(s, &certs, "import", InsertMode::Each).await.unwrap();
    let mut rows = s.audit_page(0, 3).await.unwrap();
    rows.extend(s.audit_page(rows[2].id, 10).await.unwrap());
    assert_eq!(rows.len(), 5);
    for r in &rows {
        assert_eq!(
            r.journal_sha256,
            Some(journal::certificate_digest(&r.certificate).1)
        );
    }
}

pub async fn stats_count_what_is_stored(s: &dyn Store) {
    assert_eq!(s.stats().await.unwrap().certificates, 0);
    assert!(s.is_empty().await.unwrap());
    let mut b = sample_certificate("ST-2", 1);
    b.kind = "samr.welding.metal".into();
    insert(
        s,
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
    register(s, &[sample_issuer("mem.44")]).await;
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
    insert(s, &batch, "t", InsertMode::Each).await.unwrap();
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
                        .block_on(insert(s, batch, "t", InsertMode::Each))
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
    insert(s, std::slice::from_ref(&a), "t", InsertMode::AllOrNothing)
        .await
        .unwrap();
    let mut changed = a.clone();
    changed.holder_name = "王五".into();
    let fresh = sample_certificate("AON-2", 2);
    match insert(s, &[fresh.clone(), changed], "t", InsertMode::AllOrNothing).await {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("AON-1"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        s.certificate("AON-2", &fresh.kind).await.unwrap(),
        None,
        "nothing of the batch was stored"
    );
    // Unchanged rows are no conflict.
    let out = insert(s, &[a, fresh], "t", InsertMode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(out, [RowOutcome::Unchanged, RowOutcome::Stored]);
}

fn leaf(index: u64, seq: u64) -> LogLeaf {
    LogLeaf {
        index,
        seq,
        hash: [index as u8 + 1; 32],
    }
}

pub async fn the_log_appends_leaves_under_its_head(s: &dyn Store) {
    let empty = LogHead::default();
    assert_eq!(s.log_head().await.unwrap(), empty);
    assert!(s.log_leaves(0, 10).await.unwrap().is_empty());
    register(s, &[sample_issuer("mem.44")]).await;
    insert(
        s,
        &[sample_certificate("L-1", 1), sample_certificate("L-2", 2)],
        "t",
        InsertMode::Each,
    )
    .await
    .unwrap();
    let journal = s.journal(0, 10).await.unwrap();
    assert_eq!(journal.len(), 3);

    let head = s
        .append_log(empty, 2, &[leaf(0, 1), leaf(1, 2)], &[])
        .await
        .unwrap();
    assert_eq!(
        head,
        LogHead {
            size: 2,
            through_seq: 2
        }
    );
    assert_eq!(s.log_head().await.unwrap(), head);
    // A sequencer that read an older head writes nothing.
    assert!(matches!(
        s.append_log(empty, 3, &[leaf(0, 3)], &[]).await,
        Err(StoreError::Stale(_))
    ));
    // Leaves that do not continue the log, or go back in the journal, are refused.
    for bad in [vec![leaf(3, 3)], vec![leaf(2, 2)], vec![leaf(2, 4)]] {
        assert!(matches!(
            s.append_log(head, 3, &bad, &[]).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert!(matches!(
        s.append_log(head, 1, &[], &[]).await,
        Err(StoreError::Conflict(_))
    ));
    // A node that is already stored refuses the whole append: the leaf with it is not kept.
    let node = LogNode {
        level: 1,
        index: 0,
        hash: [9; 32],
    };
    let head = s.append_log(head, 2, &[], &[node]).await.unwrap();
    assert!(matches!(
        s.append_log(head, 3, &[leaf(2, 3)], &[node]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.log_head().await.unwrap(), head);
    assert_eq!(s.log_leaves(0, 10).await.unwrap(), [leaf(0, 1), leaf(1, 2)]);
    // Entries that are no leaves move the head on without a leaf.
    let head = s.append_log(head, 3, &[], &[]).await.unwrap();
    assert_eq!(
        head,
        LogHead {
            size: 2,
            through_seq: 3
        }
    );

    assert_eq!(s.log_leaves(1, 2).await.unwrap(), [leaf(1, 2)]);
    assert_eq!(s.log_leaves(u64::MAX - 1, u64::MAX).await.unwrap(), []);
    assert_eq!(s.log_nodes(1, 0, 5).await.unwrap(), [[9; 32]]);
    assert!(s.log_nodes(2, 0, 5).await.unwrap().is_empty());
    assert_eq!(s.log_leaf_by_seq(2).await.unwrap(), Some(leaf(1, 2)));
    assert_eq!(s.log_leaf_by_seq(3).await.unwrap(), None);
    assert_eq!(s.log_entries(0, 2).await.unwrap(), journal[..2].to_vec());
    assert_eq!(s.log_entries(1, 9).await.unwrap(), journal[1..2].to_vec());
}

pub async fn the_log_keeps_one_checkpoint_per_size_and_its_cosignatures(s: &dyn Store) {
    assert_eq!(s.checkpoint(None).await.unwrap(), None);
    s.put_checkpoint(0, "log\n0\nA\n\n— log sig0\n", AT)
        .await
        .unwrap();
    s.put_checkpoint(2, "log\n2\nB\n\n— log sig2\n", AT + 1)
        .await
        .unwrap();
    // The same note again is no change; another note of the same size is refused.
    s.put_checkpoint(2, "log\n2\nB\n\n— log sig2\n", AT + 2)
        .await
        .unwrap();
    assert!(matches!(
        s.put_checkpoint(2, "log\n2\nC\n\n— log sig\n", AT).await,
        Err(StoreError::Conflict(_))
    ));
    let latest = s.checkpoint(None).await.unwrap().unwrap();
    assert_eq!(
        (latest.size, latest.note.as_str(), latest.at_micros),
        (2, "log\n2\nB\n\n— log sig2\n", AT + 1)
    );
    assert!(latest.cosignatures.is_empty());
    assert_eq!(s.checkpoint(Some(0)).await.unwrap().unwrap().size, 0);
    assert_eq!(s.checkpoint(Some(1)).await.unwrap(), None);

    assert!(matches!(
        s.put_cosignature(1, "w1", 7, "— w1 x", AT).await,
        Err(StoreError::NotFound(_))
    ));
    s.put_cosignature(2, "w1", 7, "— w1 first", AT)
        .await
        .unwrap();
    s.put_cosignature(2, "w2", 8, "— w2 only", AT + 1)
        .await
        .unwrap();
    s.put_cosignature(2, "w1", 7, "— w1 again", AT + 2)
        .await
        .unwrap();
    s.put_cosignature(0, "w1", 7, "— w1 old", AT).await.unwrap();
    assert_eq!(
        s.checkpoint(Some(2)).await.unwrap().unwrap().cosignatures,
        ["— w2 only", "— w1 again"]
    );
    assert_eq!(
        s.checkpoint(Some(0)).await.unwrap().unwrap().cosignatures,
        ["— w1 old"]
    );
}

/// A mirrored transaction stores its writes with the source's actor and instant and moves the
/// cursor in the same transaction; one that does not start from the stored cursor, or that
/// fails half-way, changes nothing.
pub async fn mirrored_transactions_move_their_cursor_once(s: &dyn Store) {
    let source = "http://source.example";
    assert_eq!(s.mirror_cursor(source).await.unwrap(), None);
    let issuer = sample_issuer("mem.44");
    let c = sample_certificate("M-1", 9);
    let issue = Issue::new(c.clone());
    let suspended = CertChange::Suspended {
        on: day("2027-06-01"),
    };
    let after = suspended.replay(&c);
    let writes = [
        Mirrored::Issuer(IssuerWrite {
            before: None,
            after: issuer.clone(),
            after_sha256: issuer_hash(&issuer),
            change: r#"{"change":"registered"}"#.into(),
        }),
        Mirrored::Issue(issue.clone()),
        Mirrored::Update(MirroredUpdate {
            before: c.clone(),
            after: after.clone(),
            after_sha256: journal::certificate_digest(&after).1,
            change: suspended.to_json(None),
        }),
        Mirrored::Note {
            about: MirroredSubject::Certificate {
                number: c.number.clone(),
                kind: c.kind.clone(),
            },
            change: r#"{"change":"refused","reason":"test"}"#.into(),
        },
    ];
    let cursor = |after, through| MirrorCursor {
        source,
        after,
        through,
    };
    let entries = s
        .apply_mirrored(&writes, "tok_source", AT + 7, cursor(0, 40))
        .await
        .unwrap();
    assert_eq!(
        entries.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["registered", "issued", "suspended", "refused"]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.actor == "tok_source" && e.at_micros == AT + 7)
    );
    assert_eq!(entries[1].change, issue.change());
    assert_eq!(s.mirror_cursor(source).await.unwrap(), Some(40));
    let (id, stored) = s
        .certificate_with_id(&c.number, &c.kind)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, after);
    assert_eq!(entries[3].subject, Subject::Certificate(id));
    assert_eq!(s.issuer("mem.44").await.unwrap(), Some(issuer));

    // The same transaction again, from the cursor it started at, is refused whole.
    let head = s.journal_head().await.unwrap();
    let again = s
        .apply_mirrored(&writes[1..2], "tok_source", AT + 7, cursor(0, 40))
        .await;
    assert!(matches!(again, Err(StoreError::Stale(_))), "{again:?}");
    // A transaction that fails half-way (a change to a record that is not as stated) stores
    // nothing and leaves the cursor.
    let other = sample_certificate("M-2", 9);
    let failing = [
        Mirrored::Issue(Issue::new(other.clone())),
        Mirrored::Update(MirroredUpdate {
            before: c.clone(),
            after: after.clone(),
            after_sha256: journal::certificate_digest(&after).1,
            change: suspended.to_json(None),
        }),
    ];
    let r = s
        .apply_mirrored(&failing, "tok_source", AT + 8, cursor(40, 41))
        .await;
    assert!(matches!(r, Err(StoreError::Stale(_))), "{r:?}");
    assert_eq!(s.journal_head().await.unwrap(), head);
    assert_eq!(s.mirror_cursor(source).await.unwrap(), Some(40));
    assert_eq!(
        s.certificate(&other.number, &other.kind).await.unwrap(),
        None
    );
    // An issue already stored with the same data gets no entry, and the cursor moves on; one
    // with other data is a conflict.
    insert(s, std::slice::from_ref(&other), "import", InsertMode::Each)
        .await
        .unwrap();
    let head = s.journal_head().await.unwrap();
    let none = s
        .apply_mirrored(&failing[..1], "tok_source", AT + 9, cursor(40, 45))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(s.mirror_cursor(source).await.unwrap(), Some(45));
    assert_eq!(s.journal_head().await.unwrap(), head);
    let r = s
        .apply_mirrored(&writes[1..2], "tok_source", AT + 9, cursor(45, 46))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    // A cursor that moves past entries outside the mirror's scope needs no write.
    s.apply_mirrored(&[], "tok_source", AT + 9, cursor(45, 60))
        .await
        .unwrap();
    assert_eq!(s.mirror_cursor(source).await.unwrap(), Some(60));
    assert_eq!(s.journal_head().await.unwrap(), head);
}

/// Each issuer's last change is the instant of the last write to one of its certificates, in
/// the write's transaction; refusals and rolled-back batches leave it.
pub async fn issuer_activity_follows_every_change_to_a_certificate(s: &dyn Store) {
    assert!(s.issuer_activity().await.unwrap().is_empty());
    let a = sample_certificate("A-1", 1);
    let b = Certificate {
        number: "B-1".into(),
        issuer: "mem.45".into(),
        ..sample_certificate("B-1", 2)
    };
    let issues = [Issue::new(a.clone()), Issue::new(b.clone())];
    s.insert_certificates(&issues, "import", AT, InsertMode::Each, None)
        .await
        .unwrap();
    assert_eq!(
        s.issuer_activity().await.unwrap(),
        [("mem.44".to_string(), AT), ("mem.45".to_string(), AT)]
    );
    let (id, before) = s
        .certificate_with_id(&a.number, &a.kind)
        .await
        .unwrap()
        .unwrap();
    let ch = CertChange::Suspended {
        on: day("2027-06-01"),
    };
    let after = ch.replay(&before);
    s.update_certificate(
        &CertificateWrite {
            id,
            after_sha256: journal::certificate_digest(&after).1,
            before,
            after,
            change: ch.to_json(None),
        },
        "mem.44",
        AT + 10,
        None,
    )
    .await
    .unwrap();
    // A refusal is not a change; a batch that rolls back changed nothing.
    s.journal_only(
        &[(Subject::Certificate(id), r#"{"change":"refused"}"#.into())],
        "mem.44",
        AT + 20,
    )
    .await
    .unwrap();
    let conflicting = Certificate {
        holder_name: "李四".into(),
        ..b.clone()
    };
    let r = s
        .insert_certificates(
            &[Issue::new(conflicting)],
            "import",
            AT + 30,
            InsertMode::AllOrNothing,
            None,
        )
        .await;
    assert!(r.is_err());
    assert_eq!(
        s.issuer_activity().await.unwrap(),
        [("mem.44".to_string(), AT + 10), ("mem.45".to_string(), AT)]
    );
    // An earlier instant (a mirror catching up on old entries) never moves it back.
    let c = sample_certificate("A-2", 3);
    s.insert_certificates(&[Issue::new(c)], "import", AT + 5, InsertMode::Each, None)
        .await
        .unwrap();
    assert_eq!(s.issuer_activity().await.unwrap()[0].1, AT + 10);
}

/// The scans behind the regulators' figures: certificates in id order, page by page; only the
/// refusals of the journal; every answer kept under one idempotency owner.
pub async fn scans_page_through_certificates_refusals_and_answers(s: &dyn Store) {
    let certs: Vec<Certificate> = (1..=5)
        .map(|i| sample_certificate(&format!("P-{i}"), i))
        .collect();
    insert(s, &certs, "import", InsertMode::Each).await.unwrap();
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = s.certificates_page(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        after = *last;
        seen.extend(page);
    }
    assert_eq!(
        seen.iter()
            .map(|(_, c)| c.number.as_str())
            .collect::<Vec<_>>(),
        ["P-1", "P-2", "P-3", "P-4", "P-5"]
    );
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    s.journal_only(
        &[
            (
                Subject::Issuer("mem.44".into()),
                r#"{"change":"refused","right":"issue"}"#.into(),
            ),
            (Subject::Nothing, r#"{"change":"noted"}"#.into()),
            (
                Subject::Nothing,
                r#"{"change":"refused","right":"read-feed"}"#.into(),
            ),
        ],
        "t",
        AT,
    )
    .await
    .unwrap();
    let refusals = s.entries_of_kind("refused", 0, 10).await.unwrap();
    assert_eq!(refusals.len(), 2);
    assert!(refusals.iter().all(|e| e.kind() == "refused"));
    assert_eq!(
        s.entries_of_kind("refused", refusals[0].seq, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.entries_of_kind("noted", 0, 10).await.unwrap().len(), 1);
    assert!(s.entries_of_kind("refused%", 0, 10).await.is_err());
    let claim = IdempotencyClaim {
        owner: "exam-session".into(),
        key: "s1".into(),
        request_sha256: "ab".into(),
    };
    s.insert_certificates(
        &[Issue::new(sample_certificate("P-6", 6))],
        "t",
        AT,
        InsertMode::AllOrNothing,
        Some(&claim),
    )
    .await
    .unwrap();
    s.record_answer("exam-session", "s1", 201, "{}")
        .await
        .unwrap();
    let answers = s.answers_of("exam-session").await.unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, "s1");
    assert_eq!(answers[0].1.answer, Some((201, "{}".to_string())));
    assert!(s.answers_of("nobody").await.unwrap().is_empty());
}

/// A webhook is stored with its code hashes and secret, its cursor moves only from where it
/// is, and a revoked one is no longer listed.
pub async fn webhooks_keep_their_cursor_and_are_revoked(s: &dyn Store) {
    let w = WebhookRecord {
        id: "wh_1".into(),
        url: "http://example.test/hook".into(),
        code_hashes: vec![[1; 32], [2; 32]],
        secret: [9; 32],
        after: 7,
        created_at_micros: AT,
        revoked_at_micros: None,
    };
    s.put_webhook(&w).await.unwrap();
    assert_eq!(s.webhooks().await.unwrap(), std::slice::from_ref(&w));
    assert!(s.put_webhook(&w).await.is_err(), "an id is stored once");
    s.advance_webhook("wh_1", 7, 12).await.unwrap();
    let r = s.advance_webhook("wh_1", 7, 13).await;
    assert!(matches!(r, Err(StoreError::Stale(_))), "{r:?}");
    assert_eq!(s.webhooks().await.unwrap()[0].after, 12);
    assert!(s.revoke_webhook("wh_1", AT + 1).await.unwrap());
    assert!(!s.revoke_webhook("wh_1", AT + 2).await.unwrap());
    assert!(s.webhooks().await.unwrap().is_empty());
}
