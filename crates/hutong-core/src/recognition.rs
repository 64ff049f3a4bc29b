//! The mutual-recognition engine: what a worker's certificates entitle them to (POLICY.md §1,
//! measures M1 and M2), with the reasons.
//!
//! Pure: no I/O, no clock (except [`advise`], which reads today's date when the input gives none;
//! [`advise_at`] takes it as an argument). The rules are policy data (`policy/recognition.toml`,
//! format in `docs/policy-format.md`), indexed by held kind once at load
//! ([`Policy::rules_for`], kept with each kind), so one evaluation looks only at the rules that
//! name a held kind.
//!
//! # Combining semantics
//!
//! These are the contract; `docs/recognition.md` says the same for readers of the policy.
//!
//! 1. **Standing of a holding on the as-of date.** A holding issued after the as-of date is not
//!    held. A stated `revoked` or `suspended` status stands (from `status_since` when given, else
//!    always). Otherwise the status is the *worse* of the stated status and the status the kind's
//!    lifecycle gives from the dates stated (`valid_until`, `issued_on`, `last_review_on`, …), in
//!    the order valid < review-due < expired: a certificate whose validity has ended
//!    (`valid_until`, else `issued_on` plus the lifecycle's validity) is expired whatever the input
//!    says. A missed periodic review expires a certificate only when the input states a
//!    `last_review_on` and the next review after it is overdue; with no review recorded the
//!    review history is unknown, and the stated status is trusted for it (the registry states
//!    `expired` when it knows a review was missed).
//! 2. **A rule applies** to a holding of its `held` kind when all of these hold, and otherwise it
//!    is *not applied* with every reason that failed, in this order: the holding's status on the
//!    as-of date is in the rule's `held_status` (only `valid` and `review-due` can be listed); the
//!    as-of date is within the rule's effective period (`effective_from` ..= `effective_until`);
//!    the rule has no region or the advice's region is that region; no exception in force on the
//!    as-of date for the advice's region (or for everywhere) disables it, and the exceptions that
//!    narrow it leave at least one exemption.
//! 3. **Exceptions.** An exception applies when it is in force on the as-of date and names no
//!    region or the advice's region. `disable` switches its rule off. `narrow` keeps only the
//!    exemptions it lists; several narrowings intersect; a `disable` wins over any narrowing.
//!    When the advice has no region, regional exceptions do not apply, and each application lists
//!    them under `regional_exceptions` so the holder knows the entitlement is not the same
//!    everywhere.
//! 4. **Applications** are grouped by target kind. The exemptions of an application are the union
//!    of what its applying rules grant after narrowing (each rule is an entitlement in its own
//!    right: two certificates that each ground one exemption ground both). The entitlement is
//!    permissive (the notice says 可以): the receiving department *may* grant it.
//!    `already_held` says the holder already holds the target kind in force; the entry stays, so
//!    that adding a certificate never removes an entitlement.
//! 5. **Deemed levels** are grouped by occupation; the level is the highest any applying rule
//!    deems. A held skill level certificate is never downgraded: the entry says `counts: false`
//!    when a skill level certificate in force for that occupation is at the same or a higher
//!    level, and the held level is what counts for the next level.
//! 6. **Next levels.** For each occupation with a held (in force) or deemed level, the current
//!    level is the higher of the two (the held one on a tie), and the next level is the one above
//!    it among the occupation's levels (none above the top). Its conditions are those of the
//!    standard edition in force on the as-of date; the level is open when any condition is met,
//!    and a condition is met when all its requirements are. Years since a level count from the
//!    earliest `issued_on` of a skill level certificate in force at that level or above; for a
//!    deemed level the counting date is unknown (POLICY.md §1.1, \[U\]): hutong counts from the
//!    first issue date (`first_issued_on`, else `issued_on`) of the certificate that deems it,
//!    and says so in `assumptions`. Years in the occupation are those the input states (none when
//!    it states none) and are assumed to keep growing after the as-of date. A diploma or an
//!    apprenticeship is met when the input states it and never otherwise. When no condition is
//!    met on the as-of date, `eligible_from` is the earliest date one would be (null when none
//!    can be, e.g. it needs a diploma).
//! 7. **Provisional.** An entry is provisional when any rule, exception, standard or condition
//!    behind it is.
//! 8. **Order.** Every list is sorted by its ids (target kind, occupation code, rule id, then the
//!    holding), so the advice does not depend on the order of the holdings.
//!
//! # Use
//!
//! ```
//! use hutong_core::Policy;
//! use hutong_core::recognition::{AdviceInput, advise};
//!
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
//! let policy = Policy::load_dir(&dir).unwrap();
//! // Errors name the field: `holdings[0].issued_on: "2024-02-30" is not a real calendar date`.
//! let input = AdviceInput::from_json(
//!     r#"{"as_of": "2026-11-26",
//!         "holdings": [{"kind": "mem.electrical.low-voltage", "status": "valid",
//!                       "issued_on": "2024-06-01"}]}"#,
//! )
//! .unwrap();
//! // Errors name the holding and field: an unknown kind, a skill level without its level, …
//! let advice = advise(&policy, &input).unwrap();
//! assert_eq!(advice.applications[0].target, "mohurd.construction.electrician");
//! assert_eq!(advice.deemed_levels[0].level.id(), "5");
//! let json = serde_json::to_string(&advice).unwrap(); // the shape of issue 4
//! assert!(json.starts_with(r#"{"as_of":"2026-11-26""#));
//! ```
//!
//! The advice borrows its ids and texts from the policy and the input (no copies); sentences
//! that carry data ([`Text`], [`Texts`]) are worded when serialized or displayed.

mod advice;
mod answers;
pub mod explain;
mod input;
mod json;
pub mod registry;

use std::borrow::Cow;

use crate::certificate::{AdminState, CertificateDates};
use crate::date::{Day, Period};
use crate::idcard::ResidentId;
use crate::ids::{ExemptionSet, Level, Status};
use crate::number::NumberScheme;
use crate::policy::{
    DeemedLevelRule, Effective, ExceptionAction, ExemptionRule, Kind, Occupation, Policy,
};

pub use advice::*;
pub use answers::{
    CHECK_NOTE, CheckAnswer, DepartmentCheck, HolderAdvice, HolderShown, Registered,
    RegisteredRequest, department_check, holder_advice,
};
pub use input::{AdviceInput, Holding, InputError, InputErrors, MAX_HOLDINGS};

/// Advice for `input` under `policy`, on the input's `as_of` date or today in China.
pub fn advise<'a>(policy: &'a Policy, input: &'a AdviceInput) -> Result<Advice<'a>, InputErrors> {
    advise_at(policy, input, crate::date::today_in_china())
}

/// Advice for `input` under `policy`, on the input's `as_of` date or else `today`.
pub fn advise_at<'a>(
    policy: &'a Policy,
    input: &'a AdviceInput,
    today: Day,
) -> Result<Advice<'a>, InputErrors> {
    let as_of = input.as_of.unwrap_or(today);
    // Checking the input resolves each holding's kind; the holding's standing comes with it.
    let held = input.resolve_with(policy, |h, kind, occupation| Held {
        h,
        kind,
        occupation,
        standing: standing(policy, kind, h, as_of),
        number: h
            .number
            .as_deref()
            .map(|n| shown_number(kind.number_scheme, n)),
    })?;
    Ok(evaluate(policy, input, held, as_of))
}

fn b(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

/// One holding, resolved against the policy.
struct Held<'a> {
    h: &'a Holding,
    kind: &'a Kind,
    /// For a skill level certificate, its occupation.
    occupation: Option<&'a Occupation>,
    standing: Result<Status, Why<'a>>,
    /// Its number as the advice shows it, masked once here for all the grounds it appears in.
    number: Option<ShownNumber<'a>>,
}

/// A holding's status on `as_of`, or why it does not count (semantics 1).
fn standing<'a>(policy: &Policy, kind: &Kind, h: &Holding, as_of: Day) -> Result<Status, Why<'a>> {
    if let Some(iss) = h.issued_on
        && iss > as_of
    {
        return Err(Why::NotYetIssued { issued_on: iss });
    }
    let stated_in_effect = h.status_since.is_none_or(|d| d <= as_of);
    match h.status {
        Status::Revoked if stated_in_effect => {
            return Err(Why::Revoked { on: h.status_since });
        }
        Status::Suspended if stated_in_effect => {
            return Err(Why::Suspended {
                since: h.status_since,
            });
        }
        _ => {}
    }
    let lc = policy.lifecycle_of(kind);
    let (computed, expired_on, review_due) = match h.issued_on {
        Some(issued) => {
            let dates = CertificateDates {
                issued_on: issued,
                first_issued_on: h.first_issued_on.unwrap_or(issued),
                valid_until: h.valid_until,
                last_review_on: h.last_review_on,
                state: AdminState::Active,
            };
            let r = lc.status_on(&dates, as_of);
            let missed = match (r.review_due_on, r.expired_on) {
                (Some(due), Some(on)) if due.succ_opt() == Some(on) => Some(due),
                _ => None,
            };
            // `r.valid_until` is `lc.valid_until(&dates)`, worked out once by `status_on`.
            match (missed, h.last_review_on, r.valid_until) {
                // A review fell due and the input records none: whether it was passed is
                // unknown, so only the end of validity is judged.
                (Some(_), None, Some(until)) if as_of > until => {
                    (Status::Expired, until.succ_opt(), None)
                }
                (Some(_), None, _) => (Status::Valid, None, None),
                _ => (r.status, r.expired_on, missed),
            }
        }
        None => match h.valid_until {
            Some(until) if lc.expires && as_of > until => (Status::Expired, until.succ_opt(), None),
            _ => (Status::Valid, None, None),
        },
    };
    if computed == Status::Expired {
        return Err(Why::Expired {
            on: expired_on,
            review_due,
        });
    }
    match h.status {
        Status::Expired if stated_in_effect => Err(Why::Expired {
            on: h.status_since,
            review_due: None,
        }),
        Status::Valid | Status::ReviewDue => Ok(h.status.max(computed)),
        // A suspension, revocation or expiry stated for a later day is not in effect yet.
        _ => Ok(computed),
    }
}

/// The parts of a rule that decide whether it applies.
struct RuleView<'a> {
    held_status: &'a [Status],
    effective: Effective,
    region: Option<&'a str>,
    exceptions: &'a [usize],
    grants: ExemptionSet,
}

impl<'a> RuleView<'a> {
    fn exemption(r: &'a ExemptionRule) -> Self {
        RuleView {
            held_status: &r.held_status,
            effective: r.effective,
            region: r.region.as_deref(),
            exceptions: &r.exceptions,
            grants: r.exemptions,
        }
    }

    fn deemed(r: &'a DeemedLevelRule) -> Self {
        RuleView {
            held_status: &r.held_status,
            effective: r.effective,
            region: r.region.as_deref(),
            exceptions: &r.exceptions,
            grants: ExemptionSet::EMPTY,
        }
    }
}

enum Outcome<'a> {
    Applies {
        grants: ExemptionSet,
        narrowed: Vec<Narrowing<'a>>,
        elsewhere: Vec<ExceptionNote<'a>>,
    },
    Fails(Vec<Why<'a>>),
}

/// Semantics 2 and 3 for one rule and one holding.
fn judge<'a>(
    policy: &'a Policy,
    rule: &RuleView<'a>,
    standing: &Result<Status, Why<'a>>,
    as_of: Day,
    region: Option<&'a str>,
) -> Outcome<'a> {
    let mut why: Vec<Why<'a>> = Vec::new();
    match standing {
        Err(w) => why.push(w.clone()),
        Ok(st) if !rule.held_status.contains(st) => why.push(Why::StatusNotCounted { status: *st }),
        Ok(_) => {}
    }
    if as_of < rule.effective.from {
        why.push(Why::NotYetEffective {
            from: rule.effective.from,
        });
    } else if let Some(until) = rule.effective.until
        && as_of > until
    {
        why.push(Why::NoLongerEffective { until });
    }
    if let Some(rr) = rule.region
        && region != Some(rr)
    {
        why.push(Why::OtherRegion {
            region: b(rr),
            asked: region.map(b),
        });
    }
    let mut grants = rule.grants;
    let mut narrowed: Vec<Narrowing<'a>> = Vec::new();
    let mut elsewhere: Vec<ExceptionNote<'a>> = Vec::new();
    let mut disabled = false;
    for &xi in rule.exceptions {
        let x = &policy.exceptions[xi];
        if !x.effective.contains(as_of) {
            continue;
        }
        match (x.region.as_deref(), region) {
            (Some(xr), Some(r)) if xr != r => continue,
            (Some(xr), None) => {
                elsewhere.push(ExceptionNote {
                    exception: b(&x.id),
                    rule: b(&x.rule),
                    region: b(xr),
                    action: b(match x.action {
                        ExceptionAction::Disable => "disable",
                        ExceptionAction::Narrow { .. } => "narrow",
                    }),
                    remaining: match x.action {
                        ExceptionAction::Disable => None,
                        ExceptionAction::Narrow { remaining } => Some(remaining),
                    },
                });
                continue;
            }
            _ => {}
        }
        match x.action {
            ExceptionAction::Disable => {
                disabled = true;
                why.push(Why::SwitchedOff {
                    exception: b(&x.id),
                    region: x.region.as_deref().map(b),
                });
            }
            ExceptionAction::Narrow { remaining } => {
                let removed = grants.minus(remaining);
                grants = grants.intersection(remaining);
                narrowed.push(Narrowing {
                    exception: b(&x.id),
                    region: x.region.as_deref().map(b),
                    removed,
                    provisional: x.provisional,
                });
            }
        }
    }
    if !disabled && !narrowed.is_empty() && grants.is_empty() {
        why.push(Why::NarrowedAway {
            exceptions: narrowed.iter().map(|n| n.exception.clone()).collect(),
            region: narrowed.iter().find_map(|n| n.region.clone()),
        });
    }
    if why.is_empty() {
        Outcome::Applies {
            grants,
            narrowed,
            elsewhere,
        }
    } else {
        Outcome::Fails(why)
    }
}

struct ExHit<'a> {
    rule: usize,
    held: usize,
    grants: ExemptionSet,
    narrowed: Vec<Narrowing<'a>>,
    elsewhere: Vec<ExceptionNote<'a>>,
}

struct Miss<'a> {
    rule_type: RuleType,
    rule: usize,
    held: usize,
    why: Vec<Why<'a>>,
}

/// A holding's number as the advice shows it: masked when it is, or embeds, the holder's
/// resident ID number (`mem` `T…` and `samr` numbers, by the kind's scheme; any other number
/// that is one, or a letter before one), the way public answers mask them
/// ([`crate::number::display`]: the province digits and the last four characters kept).
fn number_of<'a>(hd: &Held<'a>) -> Option<ShownNumber<'a>> {
    hd.number.clone()
}

/// `number` as answers show it under `scheme` (see [`number_of`]).
pub(crate) fn shown_number(scheme: NumberScheme, number: &str) -> ShownNumber<'_> {
    let id = number
        .strip_prefix(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(number);
    let prefix = number.len() - id.len();
    match scheme {
        NumberScheme::MemTId => ShownNumber::masked(number, number.len().min(1) + 2, 4),
        NumberScheme::ResidentId => ShownNumber::masked(number, 2, 4),
        _ if id.len() == 18 && ResidentId::parse(id).is_ok() => {
            ShownNumber::masked(number, prefix + 2, 4)
        }
        _ => ShownNumber::whole(number),
    }
}

/// A skill level certificate in force: its occupation, level and issue date.
fn held_level<'a>(hd: &Held<'a>) -> Option<(&'a Occupation, Level, Option<Day>)> {
    if hd.standing.is_ok() {
        Some((hd.occupation?, hd.h.level?, hd.h.issued_on))
    } else {
        None
    }
}

/// The highest skill level held in force for the occupation with index `occupation`.
fn held_top(held: &[Held<'_>], occupation: usize) -> Option<Level> {
    held.iter()
        .filter_map(held_level)
        .filter(|x| x.0.index == occupation)
        .map(|x| x.1)
        .max()
}

/// How many occupations deemed-level `hits` (sorted by occupation) name.
fn occupations_in(policy: &Policy, hits: &[(usize, usize)]) -> usize {
    let rules = &policy.deemed_level_rules;
    hits.windows(2)
        .filter(|w| rules[w[0].0].occupation_index != rules[w[1].0].occupation_index)
        .count()
        + usize::from(!hits.is_empty())
}

/// The end of the run of `items[from..]` that share `key(items[from])`.
fn run_end<T, K: PartialEq>(items: &[T], from: usize, key: impl Fn(&T) -> K) -> usize {
    let k = key(&items[from]);
    from + items[from..].iter().take_while(|x| key(x) == k).count()
}

fn evaluate<'a>(
    policy: &'a Policy,
    input: &'a AdviceInput,
    mut held: Vec<Held<'a>>,
    as_of: Day,
) -> Advice<'a> {
    // The region, borrowed from the policy (check() guarantees it is defined).
    let region: Option<&'a str> = input
        .region
        .as_deref()
        .and_then(|r| policy.regions.get_key_value(r).map(|(k, _)| k.as_str()));

    // Holdings in a canonical order, so that nothing below depends on the input's order.
    held.sort_by(|a, b| a.kind.index.cmp(&b.kind.index).then_with(|| a.h.cmp(b.h)));

    // Sized once for every rule that names a held kind: no regrowth below.
    let (n_ex, n_dl, n_q) = held.iter().fold((0, 0, 0), |(e, d, q), hd| {
        let r = &hd.kind.recognition;
        (
            e + r.exemption.len(),
            d + r.deemed_level.len(),
            q + r.open_questions.len(),
        )
    });
    let mut ex_hits: Vec<ExHit<'a>> = Vec::with_capacity(n_ex);
    let mut dl_hits: Vec<(usize, usize)> = Vec::with_capacity(n_dl);
    let mut misses: Vec<Miss<'a>> = Vec::new();
    let mut open_questions: Vec<OpenQuestionNote<'a>> = Vec::with_capacity(n_q);
    for (hi, hd) in held.iter().enumerate() {
        let rules = &hd.kind.recognition;
        for &ri in &rules.exemption {
            let rule = &policy.exemption_rules[ri];
            match judge(
                policy,
                &RuleView::exemption(rule),
                &hd.standing,
                as_of,
                region,
            ) {
                Outcome::Applies {
                    grants,
                    narrowed,
                    elsewhere,
                } => ex_hits.push(ExHit {
                    rule: ri,
                    held: hi,
                    grants,
                    narrowed,
                    elsewhere,
                }),
                Outcome::Fails(why) => misses.push(Miss {
                    rule_type: RuleType::Exemption,
                    rule: ri,
                    held: hi,
                    why,
                }),
            }
        }
        for &ri in &rules.deemed_level {
            let rule = &policy.deemed_level_rules[ri];
            match judge(policy, &RuleView::deemed(rule), &hd.standing, as_of, region) {
                Outcome::Applies { .. } => dl_hits.push((ri, hi)),
                Outcome::Fails(why) => misses.push(Miss {
                    rule_type: RuleType::DeemedLevel,
                    rule: ri,
                    held: hi,
                    why,
                }),
            }
        }
        for &qi in &rules.open_questions {
            note_question(policy, &mut open_questions, qi, &hd.kind.id);
        }
    }

    // Grouped by occupation, then by rule and holding.
    let dl_rules = &policy.deemed_level_rules;
    dl_hits.sort_unstable_by_key(|&(ri, hi)| (dl_rules[ri].occupation_index, ri, hi));

    let applications = applications(policy, &held, ex_hits);
    let deemed_levels = deemed_levels(policy, &held, &dl_hits);
    let next_levels = next_levels(policy, input, as_of, &held, &dl_hits);
    let not_applied = not_applied(policy, &held, misses, &applications, &deemed_levels);
    open_questions.sort_unstable_by(|a, b| a.id.cmp(&b.id));

    Advice {
        as_of,
        region: region.map(b),
        policy: b(&policy.digest),
        deemed_levels,
        applications,
        next_levels,
        not_applied,
        open_questions,
    }
}

/// Adds held `kind` to open question `qi`. Kinds arrive in id order (the holdings are sorted by
/// kind); questions are put in id order once all are noted. Both are recognised by the address of
/// the policy's own string, which the notes borrow.
fn note_question<'a>(
    policy: &'a Policy,
    out: &mut Vec<OpenQuestionNote<'a>>,
    qi: usize,
    kind: &'a str,
) {
    let q = &policy.open_questions[qi];
    let same = |a: &str, b: &str| std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len();
    let note = match out.iter().position(|n| same(&n.id, &q.id)) {
        Some(i) => &mut out[i],
        None => {
            out.push(OpenQuestionNote {
                id: b(&q.id),
                held: ShortList::new(),
                text_zh: b(&q.text_zh),
                text_en: b(&q.text_en),
                provisional: q.provisional,
            });
            out.last_mut().expect("pushed above")
        }
    };
    if note.held.last().is_none_or(|k| !same(k, kind)) {
        note.held.push(b(kind));
    }
}

/// Semantics 4.
fn applications<'a>(
    policy: &'a Policy,
    held: &[Held<'a>],
    mut hits: Vec<ExHit<'a>>,
) -> Vec<Application<'a>> {
    let rules = &policy.exemption_rules;
    hits.sort_unstable_by_key(|h| (rules[h.rule].target_index, h.rule, h.held));
    let mut out: Vec<Application<'a>> = Vec::with_capacity(hits.len());
    let mut last_target: Option<usize> = None;
    for hit in hits {
        let rule = &rules[hit.rule];
        let hd = &held[hit.held];
        if last_target != Some(rule.target_index) {
            last_target = Some(rule.target_index);
            out.push(Application {
                target: b(&rule.target),
                target_zh: b(&rule.target_name_zh),
                target_en: b(&rule.target_name_en),
                department: b(&rule.target_department),
                exemptions: ExemptionSet::EMPTY,
                rules: ShortList::new(),
                provisional: false,
                already_held: held
                    .iter()
                    .any(|x| x.standing.is_ok() && x.kind.index == rule.target_index),
                grounds: ShortList::new(),
                exceptions: Vec::new(),
                regional_exceptions: Vec::new(),
            });
        }
        let app = out.last_mut().expect("pushed above");
        app.exemptions = app.exemptions.union(hit.grants);
        if app.rules.last().is_none_or(|r| r != rule.id.as_str()) {
            app.rules.push(b(&rule.id));
        }
        app.provisional |= rule.provisional || hit.narrowed.iter().any(|n| n.provisional);
        for n in &hit.narrowed {
            if !app.exceptions.contains(&n.exception) {
                app.exceptions.push(n.exception.clone());
            }
        }
        for e in hit.elsewhere {
            if !app.regional_exceptions.contains(&e) {
                app.regional_exceptions.push(e);
            }
        }
        app.grounds.push(ExemptionGround {
            rule: b(&rule.id),
            held: b(&hd.kind.id),
            number: number_of(hd),
            exemptions: hit.grants,
            narrowed: hit.narrowed,
            provisional: rule.provisional,
        });
    }
    for app in &mut out {
        app.exceptions.sort();
        app.regional_exceptions
            .sort_by(|a, b| (&a.exception, &a.region).cmp(&(&b.exception, &b.region)));
    }
    out
}

/// Semantics 5. `hits` are sorted by occupation, rule and holding.
fn deemed_levels<'a>(
    policy: &'a Policy,
    held: &[Held<'a>],
    hits: &[(usize, usize)],
) -> Vec<DeemedLevel<'a>> {
    let rules = &policy.deemed_level_rules;
    // One entry per occupation: sized once, as the hits run in occupation order.
    let mut out: Vec<DeemedLevel<'a>> = Vec::with_capacity(occupations_in(policy, hits));
    let mut i = 0;
    while i < hits.len() {
        let end = run_end(hits, i, |(ri, _)| rules[*ri].occupation_index);
        let group = &hits[i..end];
        i = end;
        let first = &rules[group[0].0];
        let level = group
            .iter()
            .map(|(ri, _)| rules[*ri].level)
            .max()
            .expect("a run is never empty");
        let held_level = held_top(held, first.occupation_index);
        let mut d = DeemedLevel {
            occupation: b(&first.occupation),
            occupation_zh: b(&first.occupation_name_zh),
            occupation_en: b(&first.occupation_name_en),
            level,
            rules: ShortList::new(),
            provisional: false,
            counts: held_level.is_none_or(|h| level > h),
            held_level,
            grounds: ShortList::new(),
        };
        for &(ri, hi) in group {
            let rule = &rules[ri];
            if rule.level == level && d.rules.last().is_none_or(|r| r != rule.id.as_str()) {
                d.rules.push(b(&rule.id));
                d.provisional |= rule.provisional;
            }
            d.grounds.push(LevelGround {
                rule: b(&rule.id),
                held: b(&held[hi].kind.id),
                number: number_of(&held[hi]),
                level: rule.level,
                provisional: rule.provisional,
            });
        }
        out.push(d);
    }
    out
}

/// Semantics 6. `dl_hits` are sorted by occupation.
fn next_levels<'a>(
    policy: &'a Policy,
    input: &'a AdviceInput,
    as_of: Day,
    held: &[Held<'a>],
    dl_hits: &[(usize, usize)],
) -> Vec<NextLevel<'a>> {
    let rules = &policy.deemed_level_rules;
    // At most one entry per occupation deemed or held: sized once.
    let held_levels = held.iter().filter(|hd| hd.occupation.is_some()).count();
    let mut out = Vec::with_capacity(occupations_in(policy, dl_hits) + held_levels);
    // Occupations in code order: the first after the last one done, among the deemed levels and
    // the skill levels held.
    let mut last: Option<usize> = None;
    let mut di = 0;
    loop {
        let from_held = held
            .iter()
            .filter_map(held_level)
            .map(|x| x.0)
            .filter(|o| last.is_none_or(|l| o.index > l))
            .min_by_key(|o| o.index);
        let from_deemed = dl_hits.get(di).map(|(ri, _)| &rules[*ri]);
        let occ: &'a Occupation = match (from_held, from_deemed) {
            (Some(o), Some(r)) if o.index <= r.occupation_index => o,
            (_, Some(r)) => &policy.occupations[&r.occupation],
            (Some(o), None) => o,
            (None, None) => break,
        };
        last = Some(occ.index);
        let d_end = if from_deemed.is_some_and(|r| r.occupation_index == occ.index) {
            run_end(dl_hits, di, |(ri, _)| rules[*ri].occupation_index)
        } else {
            di
        };
        let deemed_here = &dl_hits[di..d_end];
        di = d_end;
        if let Some(entry) = next_level(policy, input, as_of, held, occ, deemed_here) {
            out.push(entry);
        }
    }
    out
}

/// The next level of one occupation.
fn next_level<'a>(
    policy: &'a Policy,
    input: &'a AdviceInput,
    as_of: Day,
    held: &[Held<'a>],
    occ: &'a Occupation,
    deemed_here: &[(usize, usize)],
) -> Option<NextLevel<'a>> {
    let rules = &policy.deemed_level_rules;
    let held_here = || {
        held.iter()
            .filter_map(held_level)
            .filter(move |x| x.0.index == occ.index)
    };
    let experience = input.experience_years.get(&occ.code).copied();
    let held_top = held_here().map(|x| x.1).max();
    let deemed_top = deemed_here.iter().map(|(ri, _)| rules[*ri].level).max();
    let (current, basis) = match (held_top, deemed_top) {
        (Some(h), Some(d)) if d > h => (d, Basis::Deemed),
        (Some(h), _) => (h, Basis::Held),
        (None, Some(d)) => (d, Basis::Deemed),
        (None, None) => return None,
    };
    let next = current.next().filter(|l| occ.levels.contains(l))?;
    let mut deemed_rules: ShortList<Cow<'a, str>> = ShortList::new();
    let mut provisional = false;
    if basis == Basis::Deemed {
        // In rule order already: keep each rule that deems the current level once.
        for (ri, _) in deemed_here {
            let r = &rules[*ri];
            if r.level == current && deemed_rules.last().is_none_or(|x| x != r.id.as_str()) {
                deemed_rules.push(b(&r.id));
                provisional |= r.provisional;
            }
        }
    }
    let mut said = Assumed::default();
    let nothing_assumed = Texts::assumed(Assumed::default(), Lang::En);
    let mut entry = NextLevel {
        occupation: b(&occ.code),
        occupation_zh: b(&occ.name_zh),
        occupation_en: b(&occ.name_en),
        level: next,
        current_level: current,
        basis,
        standard: None,
        eligible: false,
        eligible_from: None,
        conditions: Cow::Borrowed(&[]),
        details: Vec::new(),
        assumptions: nothing_assumed.clone(),
        assumptions_zh: nothing_assumed,
        rules: deemed_rules,
        provisional,
    };
    let Some(std) = occ.standard_on(as_of) else {
        said.no_standard = true;
        entry.assumptions = Texts::assumed(said, Lang::En);
        entry.assumptions_zh = Texts::assumed(said, Lang::Zh);
        entry.provisional = true;
        return Some(entry);
    };
    entry.standard = Some(b(&std.edition));
    entry.provisional |= std.provisional;
    entry.conditions = Cow::Borrowed(std.condition_ids(next));
    said.no_condition = entry.conditions.is_empty();
    said.later = occ
        .standards
        .iter()
        .find(|s| s.effective_from > as_of)
        .map(|later| {
            (
                std.edition.as_str(),
                later.edition.as_str(),
                later.effective_from,
            )
        });

    // When the holder obtained a level: the earliest dated skill level certificate at that level
    // or above, else the first issue of the certificate that deems it (assumed). What a
    // condition assumed is reported only when the condition can be met at all.
    let mut earliest: Option<Day> = None;
    entry.details.reserve_exact(entry.conditions.len());
    for c in std.conditions.iter().filter(|c| c.level == next) {
        entry.provisional |= c.provisional;
        let mut here = Assumed::default();
        // The earliest day this condition is met; None when it cannot be foreseen.
        let mut date: Option<Day> = Some(Day::MIN);
        if let Some(lvl) = c.held_level {
            if current < lvl {
                date = None;
            } else if let Some(n) = c.years_since_held_level {
                here.since = true;
                let at_or_above = || held_here().filter(|x| x.1 >= lvl);
                let start = if let Some(d) = at_or_above().filter_map(|x| x.2).min() {
                    Some(d)
                } else if at_or_above().next().is_some() {
                    said.undated_held = true;
                    None
                } else {
                    let mut best: Option<(Day, &'a str, &'a str, Day)> = None;
                    for (ri, hi) in deemed_here {
                        let r = &rules[*ri];
                        let h = held[*hi].h;
                        if r.level >= lvl
                            && let Some(d) = h.first_issued_on.or(h.issued_on)
                            && best.is_none_or(|bst| d < bst.0)
                        {
                            best = Some((d, held[*hi].kind.id.as_str(), &r.id, r.effective.from));
                        }
                    }
                    if best.is_none() {
                        said.undated_deemed = true;
                    }
                    here.deemed_date = best;
                    best.map(|bst| bst.0)
                };
                date = match (date, start) {
                    (Some(d), Some(s)) => Some(d.max(Period::Years(n).after(s))),
                    _ => None,
                };
            }
        }
        if let Some(n) = c.years_in_occupation {
            here.no_experience = experience.is_none();
            let have = experience.unwrap_or(0);
            let when = if have >= n {
                as_of
            } else {
                here.projected = true;
                Period::Years(n - have).after(as_of)
            };
            date = date.map(|d| d.max(when));
        }
        if let Some(dip) = c.diploma {
            date = date.filter(|_| input.diplomas.contains(&dip));
        }
        if c.apprenticeship {
            date = date.filter(|_| input.apprenticeship);
        }
        if date.is_some() {
            said.merge(&here);
        }
        let met = date.is_some_and(|d| d <= as_of);
        entry.eligible |= met;
        if !met && let Some(d) = date {
            earliest = Some(earliest.map_or(d, |e| e.min(d)));
        }
        entry.details.push(ConditionCheck {
            condition: b(&c.id),
            met,
            met_from: if met { None } else { date },
            text_zh: b(&c.text_zh),
        });
    }
    entry.eligible_from = if entry.eligible { None } else { earliest };
    entry.assumptions = Texts::assumed(said, Lang::En);
    entry.assumptions_zh = Texts::assumed(said, Lang::Zh);
    Some(entry)
}

/// Rules that named a held kind and applied through no holding.
fn not_applied<'a>(
    policy: &'a Policy,
    held: &[Held<'a>],
    mut misses: Vec<Miss<'a>>,
    applications: &[Application<'a>],
    deemed: &[DeemedLevel<'a>],
) -> Vec<NotApplied<'a>> {
    if misses.is_empty() {
        return Vec::new();
    }
    let id_of = |m: &Miss<'a>| -> (&'a str, bool) {
        match m.rule_type {
            RuleType::Exemption => {
                let r = &policy.exemption_rules[m.rule];
                (&r.id, r.provisional)
            }
            RuleType::DeemedLevel => {
                let r = &policy.deemed_level_rules[m.rule];
                (&r.id, r.provisional)
            }
        }
    };
    let applied = |m: &Miss<'a>| {
        let id = id_of(m).0;
        match m.rule_type {
            RuleType::Exemption => applications.iter().any(|a| a.rules.iter().any(|r| r == id)),
            RuleType::DeemedLevel => deemed
                .iter()
                .any(|d| d.grounds.iter().any(|g| g.rule == id)),
        }
    };
    misses.retain(|m| !applied(m));
    misses.sort_by(|a, b| (id_of(a).0, a.held).cmp(&(id_of(b).0, b.held)));
    let mut out: Vec<NotApplied<'a>> = Vec::with_capacity(misses.len());
    for m in misses {
        let (id, provisional) = id_of(&m);
        let hd = &held[m.held];
        let entry = NotApplied {
            rule: b(id),
            rule_type: m.rule_type,
            held: b(&hd.kind.id),
            number: number_of(hd),
            reason: Text::Why(m.why[0].clone(), Lang::En),
            reason_zh: Text::Why(m.why[0].clone(), Lang::Zh),
            why: m.why,
            provisional,
        };
        // Two holdings of one kind that fail one rule the same way make one entry.
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out
}
