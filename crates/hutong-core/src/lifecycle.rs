//! Lifecycle rules: how long a certificate is valid, when it is reviewed, and its status on a day.
//!
//! The rules are data (`[[lifecycle]]` in the policy files); this module only applies them.
//! Order of precedence, as documented in `docs/policy-format.md`: revoked, suspended, no expiry,
//! expired (after `valid_until` or a missed review), review-due (inside a window), valid.

use serde::Serialize;

use crate::certificate::{AdminState, CertificateDates};
use crate::date::{Day, Period};
use crate::ids::Status;

/// A compiled `[[lifecycle]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub id: String,
    pub expires: bool,
    pub validity: Option<Period>,
    pub review_interval: Option<Period>,
    pub review_window: Option<Period>,
    pub extended_review_interval: Option<Period>,
    pub extended_review_after: Option<Period>,
    pub renewal_window: Option<Period>,
    pub renewal_deadline: Option<Period>,
    pub renewal_extends: Option<Period>,
    pub source: String,
    pub provisional: bool,
}

/// A status with the dates that explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    pub status: Status,
    /// The last day of validity (none for certificates that do not expire).
    pub valid_until: Option<Day>,
    /// The next periodic review's due date, when one falls inside the validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_due_on: Option<Day>,
    /// The first day of the window in which the holder should apply for review or renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_due_from: Option<Day>,
    /// The day the certificate stopped being valid, when it has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_on: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_on: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_on: Option<Day>,
}

/// Why an expired certificate stopped being valid (IDENTIFIERS.md "Status reasons").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapse {
    /// A periodic review fell due before the end of the validity and was not passed: the
    /// certificate lapsed the day after the review's due date (`review-missed`).
    ReviewMissed,
    /// The validity ended without renewal (`past-validity`).
    PastValidity,
}

impl Lapse {
    /// The status reason's id.
    pub fn id(self) -> &'static str {
        match self {
            Lapse::ReviewMissed => "review-missed",
            Lapse::PastValidity => "past-validity",
        }
    }
}

impl StatusReport {
    /// Why an expired certificate lapsed; `None` unless it is expired. A review that falls
    /// due on the last day of validity is the end of the validity.
    pub fn lapse(&self) -> Option<Lapse> {
        if self.status != Status::Expired {
            return None;
        }
        let after = |d: Option<Day>| d.and_then(|d| d.succ_opt());
        if after(self.valid_until) != self.expired_on
            && self.review_due_on.is_some()
            && after(self.review_due_on) == self.expired_on
        {
            Some(Lapse::ReviewMissed)
        } else {
            Some(Lapse::PastValidity)
        }
    }
}

impl Lifecycle {
    /// The last day of validity: the record's own when it states one, else issue date plus validity.
    pub fn valid_until(&self, c: &CertificateDates) -> Option<Day> {
        if !self.expires {
            return None;
        }
        c.valid_until
            .or_else(|| self.validity.map(|p| p.after(c.issued_on)))
    }

    /// Whether the holder has held the certificate long enough to ask for the extended review
    /// interval (for `mem`: ten continuous years). The extension needs the issuing authority's
    /// approval and a clean record, so it never changes the status by itself: the authority's
    /// decision reaches the registry as a review or a new validity date.
    pub fn extended_review_eligible(&self, c: &CertificateDates, day: Day) -> bool {
        match (self.extended_review_interval, self.extended_review_after) {
            (Some(_), Some(after)) => after.after(c.first_issued_on) <= day,
            _ => false,
        }
    }

    /// The next review's due date, if a review falls due before the certificate expires anyway.
    pub fn next_review_due(&self, c: &CertificateDates) -> Option<Day> {
        self.next_review_due_before(c, self.valid_until(c))
    }

    /// [`Lifecycle::next_review_due`] for a certificate valid until `valid_until` (as
    /// [`Lifecycle::valid_until`] gives it), for a caller that has worked that out already.
    fn next_review_due_before(
        &self,
        c: &CertificateDates,
        valid_until: Option<Day>,
    ) -> Option<Day> {
        let base = c.last_review_on.unwrap_or(c.issued_on);
        let due = self.review_interval?.after(base);
        match valid_until {
            Some(until) if due >= until => None,
            _ => Some(due),
        }
    }

    /// The certificate's status on `day`.
    pub fn status_on(&self, c: &CertificateDates, day: Day) -> StatusReport {
        let valid_until = self.valid_until(c);
        let mut r = StatusReport {
            status: Status::Valid,
            valid_until,
            review_due_on: None,
            review_due_from: None,
            expired_on: None,
            suspended_on: None,
            revoked_on: None,
        };
        match c.state {
            AdminState::Revoked { on, .. } if on <= day => {
                r.status = Status::Revoked;
                r.revoked_on = Some(on);
                return r;
            }
            AdminState::Suspended { since } if since <= day => {
                r.status = Status::Suspended;
                r.suspended_on = Some(since);
                return r;
            }
            _ => {}
        }
        if !self.expires {
            return r;
        }
        if let Some(due) = self.next_review_due_before(c, valid_until) {
            r.review_due_on = Some(due);
            if day > due {
                r.status = Status::Expired;
                r.expired_on = due.succ_opt();
                return r;
            }
            if let Some(window) = self.review_window {
                let from = window.before(due);
                if day >= from {
                    r.status = Status::ReviewDue;
                    r.review_due_from = Some(from);
                    return r;
                }
            }
        }
        if let Some(until) = valid_until {
            if day > until {
                r.status = Status::Expired;
                r.expired_on = until.succ_opt();
                return r;
            }
            if let Some(window) = self.renewal_window.or(self.review_window) {
                let from = window.before(until);
                if day >= from {
                    r.status = Status::ReviewDue;
                    r.review_due_from = Some(from);
                    return r;
                }
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::parse_day;

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    fn mem() -> Lifecycle {
        Lifecycle {
            id: "mem-special-operation".into(),
            expires: true,
            validity: Some(Period::Years(6)),
            review_interval: Some(Period::Years(3)),
            review_window: Some(Period::Days(60)),
            extended_review_interval: Some(Period::Years(6)),
            extended_review_after: Some(Period::Years(10)),
            renewal_window: None,
            renewal_deadline: None,
            renewal_extends: None,
            source: "test".into(),
            provisional: false,
        }
    }

    fn mohurd() -> Lifecycle {
        Lifecycle {
            id: "mohurd-construction".into(),
            expires: true,
            validity: Some(Period::Years(2)),
            review_interval: None,
            review_window: None,
            extended_review_interval: None,
            extended_review_after: None,
            renewal_window: Some(Period::Months(3)),
            renewal_deadline: None,
            renewal_extends: Some(Period::Years(2)),
            source: "test".into(),
            provisional: false,
        }
    }

    fn skill() -> Lifecycle {
        Lifecycle {
            id: "skill-level".into(),
            expires: false,
            validity: None,
            ..mohurd()
        }
    }

    fn dates(issued: &str) -> CertificateDates {
        CertificateDates {
            issued_on: d(issued),
            first_issued_on: d(issued),
            valid_until: None,
            last_review_on: None,
            state: AdminState::Active,
        }
    }

    fn status(lc: &Lifecycle, c: &CertificateDates, day: &str) -> Status {
        lc.status_on(c, d(day)).status
    }

    #[test]
    fn mem_review_window_edges() {
        // Issued 2023-05-10: review due 2026-05-10, window opens 60 days before, on 2026-03-11.
        let c = dates("2023-05-10");
        let lc = mem();
        assert_eq!(lc.next_review_due(&c), Some(d("2026-05-10")));
        assert_eq!(status(&lc, &c, "2026-03-10"), Status::Valid);
        assert_eq!(status(&lc, &c, "2026-03-11"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2026-03-12"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2026-05-09"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2026-05-10"), Status::ReviewDue);
        let after = lc.status_on(&c, d("2026-05-11"));
        assert_eq!(after.status, Status::Expired);
        assert_eq!(after.expired_on, Some(d("2026-05-11")));
        let inside = lc.status_on(&c, d("2026-04-01"));
        assert_eq!(inside.review_due_from, Some(d("2026-03-11")));
        assert_eq!(inside.review_due_on, Some(d("2026-05-10")));
        assert_eq!(inside.valid_until, Some(d("2029-05-10")));
    }

    #[test]
    fn mem_after_review_the_expiry_window_and_expiry() {
        let mut c = dates("2023-05-10");
        c.last_review_on = Some(d("2026-04-20"));
        let lc = mem();
        // Three years after the review (2029-04-20) comes before the end of validity
        // (2029-05-10), so it is the next due date.
        assert_eq!(lc.next_review_due(&c), Some(d("2029-04-20")));
        assert_eq!(status(&lc, &c, "2026-05-11"), Status::Valid);
        assert_eq!(status(&lc, &c, "2029-02-18"), Status::Valid);
        assert_eq!(status(&lc, &c, "2029-02-19"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2029-04-21"), Status::Expired);
        // Reviewed again: only the expiry remains, with the 60-day window before it.
        c.last_review_on = Some(d("2029-04-01"));
        assert_eq!(lc.next_review_due(&c), None);
        assert_eq!(status(&lc, &c, "2029-03-11"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2029-05-10"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2029-05-11"), Status::Expired);
    }

    #[test]
    fn the_extended_interval_is_never_applied_without_a_decision() {
        let mut c = dates("2022-05-10");
        c.first_issued_on = d("2010-01-01");
        c.valid_until = Some(d("2028-05-10"));
        // Ten years held, but no authority has approved the six-year interval: the review is
        // due after three years as usual, and the holder is told they may ask.
        assert_eq!(mem().next_review_due(&c), Some(d("2025-05-10")));
        assert_eq!(status(&mem(), &c, "2025-05-11"), Status::Expired);
        assert!(mem().extended_review_eligible(&c, d("2025-01-01")));
        c.first_issued_on = d("2015-06-01");
        assert!(!mem().extended_review_eligible(&c, d("2025-05-31")));
        assert!(mem().extended_review_eligible(&c, d("2025-06-01")));
        assert!(!mohurd().extended_review_eligible(&c, d("2040-01-01")));
    }

    #[test]
    fn mohurd_renewal_window_edges() {
        let c = dates("2024-06-30");
        let lc = mohurd();
        assert_eq!(lc.valid_until(&c), Some(d("2026-06-30")));
        assert_eq!(status(&lc, &c, "2026-03-29"), Status::Valid);
        assert_eq!(status(&lc, &c, "2026-03-30"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2026-06-30"), Status::ReviewDue);
        assert_eq!(status(&lc, &c, "2026-07-01"), Status::Expired);
    }

    #[test]
    fn a_stated_valid_until_wins_over_the_default_validity() {
        let mut c = dates("2024-06-30");
        c.valid_until = Some(d("2028-06-30"));
        assert_eq!(status(&mohurd(), &c, "2026-07-01"), Status::Valid);
    }

    #[test]
    fn skill_levels_never_expire_but_can_be_revoked() {
        let mut c = dates("1990-01-01");
        assert_eq!(status(&skill(), &c, "2090-01-01"), Status::Valid);
        assert_eq!(skill().status_on(&c, d("2090-01-01")).valid_until, None);
        c.state = AdminState::Revoked {
            on: d("2026-02-01"),
            reason: None,
        };
        assert_eq!(status(&skill(), &c, "2026-01-31"), Status::Valid);
        let r = skill().status_on(&c, d("2026-02-01"));
        assert_eq!(
            (r.status, r.revoked_on),
            (Status::Revoked, Some(d("2026-02-01")))
        );
    }

    #[test]
    fn suspension_takes_effect_on_its_date_and_outranks_expiry() {
        let mut c = dates("2020-01-01");
        c.state = AdminState::Suspended {
            since: d("2021-03-01"),
        };
        assert_eq!(status(&mohurd(), &c, "2021-02-28"), Status::Valid);
        assert_eq!(status(&mohurd(), &c, "2021-03-01"), Status::Suspended);
        assert_eq!(status(&mohurd(), &c, "2030-01-01"), Status::Suspended);
    }
}
