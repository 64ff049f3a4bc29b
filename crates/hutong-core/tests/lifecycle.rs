//! Status at the edges of every window and expiry, for every lifecycle in the shipped policy:
//! the day before, the day of and the day after. Driven by the policy data, so a change to a
//! period there is tested without touching this file.

use std::path::Path;

use chrono::Days;
use hutong_core::certificate::CertificateDates;
use hutong_core::{AdminState, Day, Policy, Status};

fn policy() -> Policy {
    Policy::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy")).unwrap()
}

fn d(s: &str) -> Day {
    s.parse().unwrap()
}

fn day_before(x: Day) -> Day {
    x - Days::new(1)
}

fn day_after(x: Day) -> Day {
    x + Days::new(1)
}

fn fresh(issued: Day) -> CertificateDates {
    CertificateDates {
        issued_on: issued,
        first_issued_on: issued,
        valid_until: None,
        last_review_on: None,
        state: AdminState::Active,
    }
}

#[test]
fn every_expiring_lifecycle_at_its_edges() {
    let p = policy();
    let issued = d("2024-02-29");
    let mut checked = 0;
    for lc in p.lifecycles.values().filter(|l| l.expires) {
        let c = fresh(issued);
        let at = |day: Day| lc.status_on(&c, day).status;
        let until = lc
            .valid_until(&c)
            .expect("an expiring lifecycle has a validity");
        assert_eq!(
            at(issued),
            Status::Valid,
            "{}: valid on the issue day",
            lc.id
        );
        // A periodic review before expiry: its window and due date.
        let first_deadline = match lc.next_review_due(&c) {
            Some(due) => {
                let from = lc
                    .review_window
                    .expect("a review interval comes with a window")
                    .before(due);
                assert_eq!(
                    at(day_before(from)),
                    Status::Valid,
                    "{}: the day before the review window",
                    lc.id
                );
                assert_eq!(
                    at(from),
                    Status::ReviewDue,
                    "{}: the review window's first day",
                    lc.id
                );
                assert_eq!(at(day_after(from)), Status::ReviewDue, "{}", lc.id);
                assert_eq!(
                    at(due),
                    Status::ReviewDue,
                    "{}: the review's due date itself",
                    lc.id
                );
                assert_eq!(
                    at(day_after(due)),
                    Status::Expired,
                    "{}: the day after a missed review",
                    lc.id
                );
                due
            }
            None => until,
        };
        // The renewal window before expiry, for a certificate whose reviews are all done.
        let mut reviewed = c;
        if first_deadline != until {
            reviewed.last_review_on = Some(first_deadline);
        }
        let at = |day: Day| lc.status_on(&reviewed, day).status;
        if let Some(window) = lc.renewal_window.or(lc.review_window) {
            let from = window.before(until);
            assert_eq!(
                at(day_before(from)),
                Status::Valid,
                "{}: the day before the renewal window",
                lc.id
            );
            assert_eq!(
                at(from),
                Status::ReviewDue,
                "{}: the renewal window's first day",
                lc.id
            );
        }
        assert_eq!(at(day_before(until)), Status::ReviewDue, "{}", lc.id);
        assert_eq!(
            at(until),
            Status::ReviewDue,
            "{}: the last day of validity",
            lc.id
        );
        let after = lc.status_on(&reviewed, day_after(until));
        assert_eq!(
            after.status,
            Status::Expired,
            "{}: the day after expiry",
            lc.id
        );
        assert_eq!(after.expired_on, Some(day_after(until)));
        checked += 1;
    }
    assert!(
        checked >= 3,
        "the shipped policy has the mem, mohurd and samr lifecycles"
    );
}

#[test]
fn the_shipped_lifecycles_have_the_documented_periods() {
    let p = policy();
    let c = fresh(d("2024-02-29"));
    let until = |id: &str| p.lifecycles[id].valid_until(&c);
    // Month arithmetic clamps: 29 February plus whole years lands on 28 February.
    assert_eq!(until("mem-special-operation"), Some(d("2030-02-28")));
    assert_eq!(
        p.lifecycles["mem-special-operation"].next_review_due(&c),
        Some(d("2027-02-28"))
    );
    assert_eq!(until("mohurd-construction"), Some(d("2026-02-28")));
    assert_eq!(until("samr-special-equipment"), Some(d("2028-02-29")));
    assert_eq!(until("skill-level"), None);
}

#[test]
fn skill_level_certificates_stay_valid_and_only_decisions_change_them() {
    let p = policy();
    let lc = &p.lifecycles["skill-level"];
    let mut c = fresh(d("2020-06-01"));
    assert_eq!(lc.status_on(&c, d("2099-12-31")).status, Status::Valid);
    c.state = AdminState::Suspended {
        since: d("2026-03-01"),
    };
    assert_eq!(lc.status_on(&c, d("2026-02-28")).status, Status::Valid);
    assert_eq!(lc.status_on(&c, d("2026-03-01")).status, Status::Suspended);
    c.state = AdminState::Revoked {
        on: d("2026-03-02"),
        reason: None,
    };
    assert_eq!(lc.status_on(&c, d("2026-03-01")).status, Status::Valid);
    assert_eq!(lc.status_on(&c, d("2026-03-02")).status, Status::Revoked);
}
