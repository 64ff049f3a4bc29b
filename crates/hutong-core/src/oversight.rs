//! The regulators' figures: what was issued, by whom, where and when, the status mix today, the
//! reviews falling due, the issuing refused as outside an issuer's rights, and the exam sessions
//! with their pass rates. Built from one pass over the registry and the journal's refusals
//! ([`Builder`]), for the whole country and for each province (a certificate belongs to its
//! issuer's province), so that a provincial regulator's view is a lookup.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::certificate::Certificate;
use crate::date::{Day, Period};
use crate::ids::Status;
use crate::policy::Policy;

/// How many months of issuing the figures give, ending with the current one.
pub const MONTHS: usize = 12;
/// The horizon of the reviews falling due, in days.
pub const DUE_DAYS: i64 = 90;

/// The figures of one scope (the country, or one province).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Certificates in the registry.
    pub certificates: u64,
    /// Certificates issued per month (`YYYY-MM`, the last [`MONTHS`] months) and department.
    pub issued_by_month: BTreeMap<String, BTreeMap<String, u64>>,
    /// Certificates in the registry by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Certificates in the registry by the issuer's province (`none` for national issuers).
    pub by_province: BTreeMap<String, u64>,
    /// Certificates by status today (`valid`, `review-due`, `expired`, `suspended`, `revoked`,
    /// and `unknown` for a kind the policy no longer knows).
    pub status: BTreeMap<String, u64>,
    /// Certificates in force whose next review or last day of validity falls in the next
    /// [`DUE_DAYS`] days, by the number of weeks from today (0 to 12).
    pub due_by_week: Vec<u64>,
    /// Per issuer: certificates in the registry, and requests to issue refused as outside its
    /// rights.
    pub issuers: BTreeMap<String, IssuerFigures>,
    /// Recognition checks made with a department's token (`POST /api/v1/recognition/check`), by
    /// the checking department.
    pub recognition_checks: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IssuerFigures {
    pub issued: u64,
    pub refused: u64,
}

/// An exam session's outcome, from its results report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionFigures {
    pub id: String,
    pub date: Day,
    pub region: Option<String>,
    pub candidates: u64,
    pub passed: u64,
    pub issued: u64,
}

/// Everything, per scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// The day statuses are computed for (today in China).
    pub as_of: Day,
    /// When the figures were computed, RFC 3339.
    pub computed_at: String,
    pub national: Figures,
    pub regions: BTreeMap<String, Figures>,
    pub exam_sessions: Vec<SessionFigures>,
}

impl Overview {
    /// The figures a regulator of `region` (the whole country when none) sees.
    pub fn figures(&self, region: Option<&str>) -> Figures {
        match region {
            None => self.national.clone(),
            Some(r) => self.regions.get(r).cloned().unwrap_or_else(|| Figures {
                due_by_week: vec![0; weeks()],
                ..Figures::default()
            }),
        }
    }

    /// The exam sessions a regulator of `region` sees.
    pub fn sessions(&self, region: Option<&str>) -> Vec<&SessionFigures> {
        self.exam_sessions
            .iter()
            .filter(|s| region.is_none() || s.region.as_deref() == region)
            .collect()
    }
}

fn weeks() -> usize {
    (DUE_DAYS as usize).div_ceil(7)
}

/// The months of the figures, oldest first, ending with `today`'s.
pub fn months(today: Day) -> Vec<String> {
    use chrono::Datelike;
    let mut out = Vec::with_capacity(MONTHS);
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..MONTHS {
        out.push(format!("{y:04}-{m:02}"));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

/// Builds an [`Overview`] from the certificates and refusals given to it.
pub struct Builder<'p> {
    policy: &'p Policy,
    today: Day,
    months: Vec<String>,
    overview: Overview,
}

impl<'p> Builder<'p> {
    pub fn new(policy: &'p Policy, today: Day, computed_at: String) -> Builder<'p> {
        let months = months(today);
        let mut national = Figures {
            due_by_week: vec![0; weeks()],
            ..Figures::default()
        };
        for m in &months {
            national.issued_by_month.insert(m.clone(), BTreeMap::new());
        }
        Builder {
            policy,
            today,
            months,
            overview: Overview {
                as_of: today,
                computed_at,
                national,
                ..Overview::default()
            },
        }
    }

    fn scopes(&mut self, region: Option<&str>) -> impl Iterator<Item = &mut Figures> {
        let regional = region.map(|r| {
            let months = &self.months;
            self.overview
                .regions
                .entry(r.to_string())
                .or_insert_with(|| Figures {
                    due_by_week: vec![0; weeks()],
                    issued_by_month: months
                        .iter()
                        .map(|m| (m.clone(), BTreeMap::new()))
                        .collect(),
                    ..Figures::default()
                })
        });
        std::iter::once(&mut self.overview.national).chain(regional)
    }

    /// Counts one certificate, of an issuer in `region`.
    pub fn certificate(&mut self, c: &Certificate, region: Option<&str>) {
        let policy = self.policy;
        let today = self.today;
        let department = policy
            .kind(&c.kind)
            .map(|k| k.department.clone())
            .unwrap_or_else(|| c.kind.split('.').next().unwrap_or("").to_string());
        let month = c.issued_on.format("%Y-%m").to_string();
        let report = policy.status_of(c, today);
        let status = report.map_or("unknown", |r| r.status.id());
        let due_week = report.and_then(|r| {
            if !matches!(r.status, Status::Valid | Status::ReviewDue) {
                return None;
            }
            let due = [r.review_due_on, r.valid_until]
                .into_iter()
                .flatten()
                .filter(|d| *d >= today)
                .min()?;
            let days = (due - today).num_days();
            (days < DUE_DAYS).then_some((days / 7) as usize)
        });
        let province = region.unwrap_or("none").to_string();
        for f in self.scopes(region) {
            f.certificates += 1;
            if let Some(m) = f.issued_by_month.get_mut(&month) {
                *m.entry(department.clone()).or_default() += 1;
            }
            *f.by_kind.entry(c.kind.clone()).or_default() += 1;
            *f.by_province.entry(province.clone()).or_default() += 1;
            *f.status.entry(status.to_string()).or_default() += 1;
            if let Some(w) = due_week {
                f.due_by_week[w] += 1;
            }
            f.issuers.entry(c.issuer.clone()).or_default().issued += 1;
        }
    }

    /// Counts a request to issue that was refused as outside `issuer`'s rights.
    pub fn refused(&mut self, issuer: &str, region: Option<&str>) {
        for f in self.scopes(region) {
            f.issuers.entry(issuer.to_string()).or_default().refused += 1;
        }
    }

    /// Counts a recognition check made by `department` (of `region`).
    pub fn recognition_check(&mut self, department: &str, region: Option<&str>) {
        for f in self.scopes(region) {
            *f.recognition_checks
                .entry(department.to_string())
                .or_default() += 1;
        }
    }

    /// Adds an exam session's outcome.
    pub fn session(&mut self, s: SessionFigures) {
        self.overview.exam_sessions.push(s);
    }

    pub fn finish(mut self) -> Overview {
        self.overview
            .exam_sessions
            .sort_by(|a, b| (b.date, &b.id).cmp(&(a.date, &a.id)));
        self.overview
    }
}

/// The first day of the week `w` weeks from `today`, for the plot's labels.
pub fn week_start(today: Day, w: usize) -> Day {
    Period::Days(7 * w as u32).after(today)
}
