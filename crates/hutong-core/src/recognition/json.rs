//! The advice as JSON, written directly: the same bytes as `serde_json::to_vec(&advice)`, at a
//! fraction of the cost.
//!
//! serde_json escapes every string a byte at a time, keys included (about 12 instructions per
//! byte), and the advice is some 6 KB of keys, ids and sentences. Here keys are byte literals
//! with their punctuation (`,"occupation_zh":`), a string is checked for the characters JSON
//! escapes in one vectorized pass and copied whole when it has none (serde_json writes the rest),
//! the fixed sentences need no check, and days are written digit by digit. The derived
//! `Serialize` implementations stay the reference: tests compare the two on every recognition
//! case and on generated advice.

use super::advice::*;
use std::io::Write as _;

use crate::ids::{ExemptionSet, Level};
use crate::json::{bool, day, escaped, list, lit, needs_escaping, opt_day, opt_str, plain, str};

impl Advice<'_> {
    /// The advice as compact JSON: the bytes `serde_json::to_vec(self)` gives.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8192);
        self.write_json(&mut out);
        out
    }

    /// Appends the advice as compact JSON to `out` (see [`Advice::to_json`]).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let w = out;
        lit(w, b"{\"as_of\":");
        day(w, self.as_of);
        lit(w, b",\"region\":");
        opt_str(w, self.region.as_deref());
        lit(w, b",\"policy\":");
        str(w, &self.policy);
        lit(w, b",\"deemed_levels\":");
        list(w, &self.deemed_levels, deemed_level);
        lit(w, b",\"applications\":");
        list(w, &self.applications, application);
        lit(w, b",\"next_levels\":");
        list(w, &self.next_levels, next_level);
        lit(w, b",\"not_applied\":");
        list(w, &self.not_applied, not_applied);
        lit(w, b",\"open_questions\":");
        list(w, &self.open_questions, open_question);
        w.push(b'}');
    }
}

fn strs<S: AsRef<str>>(w: &mut Vec<u8>, items: &[S]) {
    list(w, items, |w, s| str(w, s.as_ref()));
}

fn level(w: &mut Vec<u8>, l: Level) {
    plain(w, l.id());
}

fn exemptions(w: &mut Vec<u8>, set: ExemptionSet) {
    w.push(b'[');
    for (i, e) in set.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        plain(w, e.id());
    }
    w.push(b']');
}

fn number(w: &mut Vec<u8>, n: &Option<ShownNumber<'_>>) {
    if let Some(n) = n {
        lit(w, b",\"number\":");
        str(w, n);
    }
}

fn deemed_level(w: &mut Vec<u8>, d: &DeemedLevel<'_>) {
    lit(w, b"{\"occupation\":");
    str(w, &d.occupation);
    lit(w, b",\"occupation_zh\":");
    str(w, &d.occupation_zh);
    lit(w, b",\"occupation_en\":");
    str(w, &d.occupation_en);
    lit(w, b",\"level\":");
    level(w, d.level);
    lit(w, b",\"rules\":");
    strs(w, &d.rules);
    lit(w, b",\"provisional\":");
    bool(w, d.provisional);
    lit(w, b",\"counts\":");
    bool(w, d.counts);
    if let Some(l) = d.held_level {
        lit(w, b",\"held_level\":");
        level(w, l);
    }
    lit(w, b",\"grounds\":");
    list(w, &d.grounds, |w, g| {
        lit(w, b"{\"rule\":");
        str(w, &g.rule);
        lit(w, b",\"held\":");
        str(w, &g.held);
        number(w, &g.number);
        lit(w, b",\"level\":");
        level(w, g.level);
        lit(w, b",\"provisional\":");
        bool(w, g.provisional);
        w.push(b'}');
    });
    w.push(b'}');
}

fn application(w: &mut Vec<u8>, a: &Application<'_>) {
    lit(w, b"{\"target\":");
    str(w, &a.target);
    lit(w, b",\"target_zh\":");
    str(w, &a.target_zh);
    lit(w, b",\"target_en\":");
    str(w, &a.target_en);
    lit(w, b",\"department\":");
    str(w, &a.department);
    lit(w, b",\"exemptions\":");
    exemptions(w, a.exemptions);
    lit(w, b",\"rules\":");
    strs(w, &a.rules);
    lit(w, b",\"provisional\":");
    bool(w, a.provisional);
    lit(w, b",\"already_held\":");
    bool(w, a.already_held);
    lit(w, b",\"grounds\":");
    list(w, &a.grounds, |w, g| {
        lit(w, b"{\"rule\":");
        str(w, &g.rule);
        lit(w, b",\"held\":");
        str(w, &g.held);
        number(w, &g.number);
        lit(w, b",\"exemptions\":");
        exemptions(w, g.exemptions);
        if !g.narrowed.is_empty() {
            lit(w, b",\"narrowed\":");
            list(w, &g.narrowed, |w, n| {
                lit(w, b"{\"exception\":");
                str(w, &n.exception);
                if let Some(r) = &n.region {
                    lit(w, b",\"region\":");
                    str(w, r);
                }
                lit(w, b",\"removed\":");
                exemptions(w, n.removed);
                lit(w, b",\"provisional\":");
                bool(w, n.provisional);
                w.push(b'}');
            });
        }
        lit(w, b",\"provisional\":");
        bool(w, g.provisional);
        w.push(b'}');
    });
    if !a.exceptions.is_empty() {
        lit(w, b",\"exceptions\":");
        strs(w, &a.exceptions);
    }
    if !a.regional_exceptions.is_empty() {
        lit(w, b",\"regional_exceptions\":");
        list(w, &a.regional_exceptions, |w, e| {
            lit(w, b"{\"exception\":");
            str(w, &e.exception);
            lit(w, b",\"rule\":");
            str(w, &e.rule);
            lit(w, b",\"region\":");
            str(w, &e.region);
            lit(w, b",\"action\":");
            str(w, &e.action);
            if let Some(r) = e.remaining {
                lit(w, b",\"remaining\":");
                exemptions(w, r);
            }
            w.push(b'}');
        });
    }
    w.push(b'}');
}

fn next_level(w: &mut Vec<u8>, n: &NextLevel<'_>) {
    lit(w, b"{\"occupation\":");
    str(w, &n.occupation);
    lit(w, b",\"occupation_zh\":");
    str(w, &n.occupation_zh);
    lit(w, b",\"occupation_en\":");
    str(w, &n.occupation_en);
    lit(w, b",\"level\":");
    level(w, n.level);
    lit(w, b",\"current_level\":");
    level(w, n.current_level);
    lit(w, b",\"basis\":");
    lit(
        w,
        match n.basis {
            Basis::Held => b"\"held\"",
            Basis::Deemed => b"\"deemed\"",
        },
    );
    lit(w, b",\"standard\":");
    opt_str(w, n.standard.as_deref());
    lit(w, b",\"eligible\":");
    bool(w, n.eligible);
    lit(w, b",\"eligible_from\":");
    opt_day(w, n.eligible_from);
    lit(w, b",\"conditions\":");
    strs(w, &n.conditions);
    lit(w, b",\"details\":");
    list(w, &n.details, |w, c| {
        lit(w, b"{\"condition\":");
        str(w, &c.condition);
        lit(w, b",\"met\":");
        bool(w, c.met);
        lit(w, b",\"met_from\":");
        opt_day(w, c.met_from);
        lit(w, b",\"text_zh\":");
        str(w, &c.text_zh);
        w.push(b'}');
    });
    lit(w, b",\"assumptions\":");
    n.assumptions.write_json(w);
    lit(w, b",\"assumptions_zh\":");
    n.assumptions_zh.write_json(w);
    if !n.rules.is_empty() {
        lit(w, b",\"rules\":");
        strs(w, &n.rules);
    }
    lit(w, b",\"provisional\":");
    bool(w, n.provisional);
    w.push(b'}');
}

fn not_applied(w: &mut Vec<u8>, n: &NotApplied<'_>) {
    lit(w, b"{\"rule\":");
    str(w, &n.rule);
    lit(w, b",\"rule_type\":");
    lit(
        w,
        match n.rule_type {
            RuleType::Exemption => b"\"exemption\"",
            RuleType::DeemedLevel => b"\"deemed-level\"",
        },
    );
    lit(w, b",\"held\":");
    str(w, &n.held);
    number(w, &n.number);
    lit(w, b",\"reason\":");
    text(w, &n.reason);
    lit(w, b",\"reason_zh\":");
    text(w, &n.reason_zh);
    lit(w, b",\"why\":");
    list(w, &n.why, why);
    lit(w, b",\"provisional\":");
    bool(w, n.provisional);
    w.push(b'}');
}

fn why(w: &mut Vec<u8>, y: &Why<'_>) {
    match y {
        Why::Expired { on, review_due } => {
            lit(w, b"{\"code\":\"expired\",\"on\":");
            opt_day(w, *on);
            if let Some(d) = review_due {
                lit(w, b",\"review_due\":");
                day(w, *d);
            }
        }
        Why::Suspended { since } => {
            lit(w, b"{\"code\":\"suspended\",\"since\":");
            opt_day(w, *since);
        }
        Why::Revoked { on } => {
            lit(w, b"{\"code\":\"revoked\",\"on\":");
            opt_day(w, *on);
        }
        Why::NotYetIssued { issued_on } => {
            lit(w, b"{\"code\":\"not-yet-issued\",\"issued_on\":");
            day(w, *issued_on);
        }
        Why::StatusNotCounted { status } => {
            lit(w, b"{\"code\":\"status-not-counted\",\"status\":");
            plain(w, status.id());
        }
        Why::NotYetEffective { from } => {
            lit(w, b"{\"code\":\"not-yet-effective\",\"from\":");
            day(w, *from);
        }
        Why::NoLongerEffective { until } => {
            lit(w, b"{\"code\":\"no-longer-effective\",\"until\":");
            day(w, *until);
        }
        Why::OtherRegion { region, asked } => {
            lit(w, b"{\"code\":\"other-region\",\"region\":");
            str(w, region);
            lit(w, b",\"asked\":");
            opt_str(w, asked.as_deref());
        }
        Why::SwitchedOff { exception, region } => {
            lit(w, b"{\"code\":\"switched-off\",\"exception\":");
            str(w, exception);
            lit(w, b",\"region\":");
            opt_str(w, region.as_deref());
        }
        Why::NarrowedAway { exceptions, region } => {
            lit(w, b"{\"code\":\"narrowed-away\",\"exceptions\":");
            strs(w, exceptions);
            lit(w, b",\"region\":");
            opt_str(w, region.as_deref());
        }
    }
    w.push(b'}');
}

fn open_question(w: &mut Vec<u8>, q: &OpenQuestionNote<'_>) {
    lit(w, b"{\"id\":");
    str(w, &q.id);
    lit(w, b",\"held\":");
    strs(w, &q.held);
    lit(w, b",\"text_zh\":");
    str(w, &q.text_zh);
    lit(w, b",\"text_en\":");
    str(w, &q.text_en);
    lit(w, b",\"provisional\":");
    bool(w, q.provisional);
    w.push(b'}');
}

/// A sentence: words borrowed as they are, or worded here from its data straight into `w`, then
/// escaped in place in the rare case the data needs it.
pub(super) fn text(w: &mut Vec<u8>, t: &Text<'_>) {
    match t {
        Text::Str(s) => str(w, s),
        _ => {
            w.push(b'"');
            let start = w.len();
            write!(w, "{t}").expect("writing to a Vec cannot fail");
            if needs_escaping(&w[start..]) {
                let words = String::from_utf8(w.split_off(start)).expect("Display writes UTF-8");
                w.pop();
                escaped(w, &words);
            } else {
                w.push(b'"');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::date::{Day, parse_day};
    use crate::ids::{Exemption, Status};
    use crate::json::written as ours;

    #[test]
    fn days_in_sentences_read_as_chrono_displays_them() {
        for n in [
            1, 365, 700_000, 739_000, 3_652_059, 3_652_060, 5_000_000, -400,
        ] {
            let day = Day::from_num_days_from_ce_opt(n).unwrap();
            let t = Text::LaterEdition {
                edition: "2018",
                later: "2027",
                from: day,
                lang: Lang::En,
            };
            assert!(t.to_string().contains(&format!(" on {day} and ")), "{day}");
        }
    }

    #[test]
    fn sentences_worded_from_data_are_escaped_when_they_need_it() {
        for ex in ["x", "an \"exception\" with a back\\slash and a\ttab"] {
            for lang in [Lang::En, Lang::Zh] {
                let t = Text::Why(
                    Why::NarrowedAway {
                        exceptions: vec![Cow::Borrowed(ex)],
                        region: Some(Cow::Borrowed("44")),
                    },
                    lang,
                );
                assert_eq!(ours(|w| text(w, &t)), serde_json::to_string(&t).unwrap());
            }
        }
    }

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    /// An advice with every optional field and every reason, and strings that need escaping.
    #[test]
    fn an_advice_with_every_field_is_written_as_serde_json_writes_it() {
        let q = |s: &'static str| Cow::Borrowed(s);
        let odd = "a \"quoted\" id\\with\nbreaks";
        let both: ExemptionSet = Exemption::ALL.into_iter().collect();
        let whys = vec![
            Why::Expired {
                on: Some(d("2025-05-10")),
                review_due: Some(d("2025-05-09")),
            },
            Why::Expired {
                on: None,
                review_due: None,
            },
            Why::Suspended { since: None },
            Why::Revoked {
                on: Some(d("2024-01-01")),
            },
            Why::NotYetIssued {
                issued_on: d("2027-01-01"),
            },
            Why::StatusNotCounted {
                status: Status::ReviewDue,
            },
            Why::NotYetEffective {
                from: d("2026-01-16"),
            },
            Why::NoLongerEffective {
                until: d("2026-01-16"),
            },
            Why::OtherRegion {
                region: q("44"),
                asked: None,
            },
            Why::SwitchedOff {
                exception: q(odd),
                region: Some(q("31")),
            },
            Why::NarrowedAway {
                exceptions: vec![q("x1"), q(odd)],
                region: None,
            },
        ];
        let advice = Advice {
            as_of: d("2026-11-26"),
            region: Some(q("44")),
            policy: q("digest"),
            deemed_levels: vec![DeemedLevel {
                occupation: q("6-31-01-03"),
                occupation_zh: q("电工"),
                occupation_en: q(odd),
                level: Level::L4,
                rules: vec![q("r1"), q("r2")].into(),
                provisional: true,
                counts: false,
                held_level: Some(Level::L3),
                grounds: vec![LevelGround {
                    rule: q("r1"),
                    held: q("k"),
                    number: Some(ShownNumber::masked("T11010519491231002X", 3, 4)),
                    level: Level::L5,
                    provisional: false,
                }]
                .into(),
            }],
            applications: vec![Application {
                target: q("t"),
                target_zh: q("目标"),
                target_en: q("target"),
                department: q("mohurd"),
                exemptions: both,
                rules: vec![q("r")].into(),
                provisional: false,
                already_held: true,
                grounds: vec![ExemptionGround {
                    rule: q("r"),
                    held: q("k"),
                    number: Some(ShownNumber::whole(odd)),
                    exemptions: ExemptionSet::EMPTY,
                    narrowed: vec![Narrowing {
                        exception: q("x"),
                        region: Some(q("44")),
                        removed: both,
                        provisional: true,
                    }],
                    provisional: true,
                }]
                .into(),
                exceptions: vec![q("x"), q(odd)],
                regional_exceptions: vec![ExceptionNote {
                    exception: q("x"),
                    rule: q("r"),
                    region: q("31"),
                    action: q("narrow"),
                    remaining: Some(ExemptionSet::EMPTY),
                }],
            }],
            next_levels: vec![NextLevel {
                occupation: q("o"),
                occupation_zh: q("职业"),
                occupation_en: q("o"),
                level: Level::Principal,
                current_level: Level::L1,
                basis: Basis::Held,
                standard: None,
                eligible: true,
                eligible_from: None,
                conditions: Cow::Owned(vec!["c1".to_string(), odd.to_string()]),
                details: vec![ConditionCheck {
                    condition: q("c1"),
                    met: false,
                    met_from: Some(d("2030-02-28")),
                    text_zh: q(odd),
                }],
                assumptions: Texts::assumed(
                    Assumed {
                        no_standard: true,
                        no_condition: true,
                        since: true,
                        deemed_date: Some((d("2024-06-01"), odd, "m2/x", d("2026-01-16"))),
                        undated_held: true,
                        undated_deemed: true,
                        no_experience: true,
                        projected: true,
                        later: Some(("2018", odd, d("2027-01-01"))),
                    },
                    Lang::En,
                ),
                assumptions_zh: Texts::assumed(Assumed::default(), Lang::Zh),
                rules: ShortList::new(),
                provisional: false,
            }],
            not_applied: whys
                .iter()
                .map(|w| NotApplied {
                    rule: q("r"),
                    rule_type: RuleType::DeemedLevel,
                    held: q("k"),
                    number: None,
                    reason: Text::Why(w.clone(), Lang::En),
                    reason_zh: Text::Why(w.clone(), Lang::Zh),
                    why: whys.clone(),
                    provisional: false,
                })
                .collect(),
            open_questions: vec![OpenQuestionNote {
                id: q("m1/theory-exam"),
                held: vec![q("a"), q("b")].into(),
                text_zh: q("问题"),
                text_en: q(odd),
                provisional: true,
            }],
        };
        let expected = serde_json::to_string(&advice).unwrap();
        assert_eq!(String::from_utf8(advice.to_json()).unwrap(), expected);
        // And with the other arm of each choice.
        let mut other = advice.clone();
        other.region = None;
        other.deemed_levels[0].held_level = None;
        other.deemed_levels[0].grounds[0].number = None;
        other.applications[0].exceptions.clear();
        other.applications[0].regional_exceptions.clear();
        other.applications[0].grounds[0].narrowed.clear();
        other.next_levels[0].basis = Basis::Deemed;
        other.next_levels[0].standard = Some(q(odd));
        other.next_levels[0].eligible_from = Some(d("2029-01-01"));
        other.next_levels[0].rules = vec![q("r")].into();
        other.next_levels[0].assumptions = Texts::assumed(Assumed::default(), Lang::En);
        other.not_applied[0].rule_type = RuleType::Exemption;
        other.open_questions.clear();
        let expected = serde_json::to_string(&other).unwrap();
        assert_eq!(String::from_utf8(other.to_json()).unwrap(), expected);
    }
}
