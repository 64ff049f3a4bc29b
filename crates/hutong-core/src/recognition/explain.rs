//! The advice in sentences, for people: the command line prints them and the web page shows
//! them. The JSON advice stays the contract for systems; this is its reading.

use super::advice::{Advice, Basis, Lang};
use crate::ids::Level;
use crate::policy::Policy;

/// A titled group of sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub lines: Vec<String>,
}

fn level_name(level: Level, lang: Lang) -> String {
    match lang {
        Lang::Zh => match level.digit() {
            Some(d) => format!("{}（{}级）", level.name_zh(), zh_digit(d)),
            None => level.name_zh().to_string(),
        },
        Lang::En => level.name_en().to_string(),
    }
}

fn zh_digit(d: char) -> &'static str {
    match d {
        '1' => "一",
        '2' => "二",
        '3' => "三",
        '4' => "四",
        _ => "五",
    }
}

fn kind_name(policy: &Policy, id: &str, lang: Lang) -> String {
    match (policy.kind(id), lang) {
        (Some(k), Lang::Zh) => k.full_name_zh(),
        (Some(k), Lang::En) => k.full_name_en(),
        (None, _) => id.to_string(),
    }
}

fn department_name(policy: &Policy, id: &str, lang: Lang) -> String {
    match (policy.department(id), lang) {
        (Some(d), Lang::Zh) => d.short_zh.clone(),
        (Some(d), Lang::En) => d.name_en.clone(),
        (None, _) => id.to_string(),
    }
}

fn provisional_mark(provisional: bool, lang: Lang) -> &'static str {
    match (provisional, lang) {
        (false, _) => "",
        (true, Lang::Zh) => "（暂定：依据尚未经官方文本确认，请向受理部门核实）",
        (true, Lang::En) => {
            " (provisional: not yet confirmed by an official text; confirm with the department)"
        }
    }
}

/// The advice as sections of sentences, in `lang`.
pub fn explain(policy: &Policy, advice: &Advice<'_>, lang: Lang) -> Vec<Section> {
    let zh = lang == Lang::Zh;
    let mut out = Vec::new();

    let mut lines = Vec::new();
    for a in &advice.applications {
        let exemptions: Vec<&str> = a
            .exemptions
            .iter()
            .map(|e| if zh { e.name_zh() } else { e.name_en() })
            .collect();
        let from: Vec<String> = a
            .grounds
            .iter()
            .map(|g| kind_name(policy, &g.held, lang))
            .collect();
        let rules = a.rules.join(", ");
        let line = if zh {
            format!(
                "凭您持有的{}，向{}申请{}时，可以{}（规则 {rules}）。{}{}",
                from.join("、"),
                department_name(policy, &a.department, lang),
                kind_name(policy, &a.target, lang),
                exemptions.join("、"),
                if a.already_held {
                    "您已持有该证书。"
                } else {
                    "是否准予由受理部门决定。"
                },
                provisional_mark(a.provisional, lang)
            )
        } else {
            format!(
                "With your {}, you may be {} when you apply to {} for {} (rule {rules}).{}{}",
                from.join(" and "),
                exemptions.join(" and "),
                department_name(policy, &a.department, lang),
                kind_name(policy, &a.target, lang),
                if a.already_held {
                    " You already hold it."
                } else {
                    " The department decides whether to grant it."
                },
                provisional_mark(a.provisional, lang)
            )
            .trim_end()
            .to_string()
        };
        lines.push(line);
        for n in &a.regional_exceptions {
            lines.push(if zh {
                format!(
                    "  注意：地区{}另有特别规定（{}），在该地区申请时可能不适用。",
                    n.region, n.exception
                )
            } else {
                format!(
                    "  Note: region {} has an exception ({}) that changes this there.",
                    n.region, n.exception
                )
            });
        }
    }
    if lines.is_empty() {
        lines.push(if zh {
            "您持有的证书目前不能在其他部门获得免予培训或考试。".into()
        } else {
            "Your certificates do not currently exempt you from training or exams elsewhere.".into()
        });
    }
    out.push(Section {
        title: if zh {
            "可申请的证书与免予事项".into()
        } else {
            "What you may apply for, with exemptions".into()
        },
        lines,
    });

    let mut lines = Vec::new();
    for d in &advice.deemed_levels {
        let occ = if zh {
            &d.occupation_zh
        } else {
            &d.occupation_en
        };
        let from: Vec<String> = d
            .grounds
            .iter()
            .map(|g| kind_name(policy, &g.held, lang))
            .collect();
        let line = match (zh, d.counts) {
            (true, true) => format!(
                "凭{}，您视同取得{}职业{}（规则 {}）。{}",
                from.join("、"),
                occ,
                level_name(d.level, lang),
                d.rules.join(", "),
                provisional_mark(d.provisional, lang)
            ),
            (true, false) => format!(
                "凭{}可视同取得{}职业{}，但您已持有更高或相同等级的职业技能等级证书（{}），以所持等级为准。",
                from.join("、"),
                occ,
                level_name(d.level, lang),
                d.held_level
                    .map(|l| level_name(l, lang))
                    .unwrap_or_default()
            ),
            (false, true) => format!(
                "With your {}, you are deemed to have reached {} in the occupation {} (rule {}).{}",
                from.join(" and "),
                level_name(d.level, lang),
                occ,
                d.rules.join(", "),
                provisional_mark(d.provisional, lang)
            ),
            (false, false) => format!(
                "Your {} would deem you {} in {}, but you hold a skill level certificate at {} or higher, which counts instead.",
                from.join(" and "),
                level_name(d.level, lang),
                occ,
                d.held_level
                    .map(|l| level_name(l, lang))
                    .unwrap_or_default()
            ),
        };
        lines.push(line.trim_end().to_string());
    }
    if !lines.is_empty() {
        out.push(Section {
            title: if zh {
                "视同取得的技能等级".into()
            } else {
                "Skill levels you are deemed to have".into()
            },
            lines,
        });
    }

    let mut lines = Vec::new();
    for n in &advice.next_levels {
        let occ = if zh {
            &n.occupation_zh
        } else {
            &n.occupation_en
        };
        let basis = match (n.basis, zh) {
            (Basis::Held, true) => "所持",
            (Basis::Deemed, true) => "视同取得的",
            (Basis::Held, false) => "held",
            (Basis::Deemed, false) => "deemed",
        };
        let line = match (zh, n.eligible, n.eligible_from) {
            (true, true, _) => format!(
                "{occ}：您可以申报{}（依据{}{}）。",
                level_name(n.level, lang),
                basis,
                level_name(n.current_level, lang)
            ),
            (true, false, Some(from)) => format!(
                "{occ}：申报{}的条件预计自{from}起满足（依据{}{}）。",
                level_name(n.level, lang),
                basis,
                level_name(n.current_level, lang)
            ),
            (true, false, None) => format!(
                "{occ}：目前不满足申报{}的条件，按所填经历无法推算满足日期。",
                level_name(n.level, lang)
            ),
            (false, true, _) => format!(
                "{occ}: you may apply for {} (from your {basis} {}).",
                level_name(n.level, lang),
                level_name(n.current_level, lang)
            ),
            (false, false, Some(from)) => format!(
                "{occ}: you will meet a condition for {} on {from} (from your {basis} {}).",
                level_name(n.level, lang),
                level_name(n.current_level, lang)
            ),
            (false, false, None) => format!(
                "{occ}: you do not yet meet a condition for {}, and no date can be foreseen from the experience given.",
                level_name(n.level, lang)
            ),
        };
        lines.push(format!("{line}{}", provisional_mark(n.provisional, lang)));
        for c in &n.details {
            let mark = match (c.met, c.met_from) {
                (true, _) => if zh { "已满足" } else { "met" }.to_string(),
                (false, Some(d)) => {
                    if zh {
                        format!("{d}起满足")
                    } else {
                        format!("met from {d}")
                    }
                }
                (false, None) => if zh { "未满足" } else { "not met" }.to_string(),
            };
            lines.push(format!("  · {}：{mark}", c.text_zh.trim_end_matches('。')));
        }
        let assumptions = if zh {
            &n.assumptions_zh
        } else {
            &n.assumptions
        };
        for a in assumptions.to_vec() {
            lines.push(format!("  {}{a}", if zh { "说明：" } else { "Assumed: " }));
        }
    }
    if !lines.is_empty() {
        out.push(Section {
            title: if zh {
                "下一个技能等级".into()
            } else {
                "Your next skill level".into()
            },
            lines,
        });
    }

    let mut lines = Vec::new();
    for n in &advice.not_applied {
        let held = kind_name(policy, &n.held, lang);
        lines.push(if zh {
            format!("规则 {} 未适用于您的{}：{}。", n.rule, held, n.reason_zh)
        } else {
            format!(
                "Rule {} did not apply to your {}: {}.",
                n.rule, held, n.reason
            )
        });
    }
    if !lines.is_empty() {
        out.push(Section {
            title: if zh {
                "未适用的规则及原因".into()
            } else {
                "Rules that did not apply, and why".into()
            },
            lines,
        });
    }

    let lines: Vec<String> = advice
        .open_questions
        .iter()
        .map(|q| {
            if zh {
                q.text_zh.to_string()
            } else {
                q.text_en.to_string()
            }
        })
        .collect();
    if !lines.is_empty() {
        out.push(Section {
            title: if zh {
                "政策尚未明确的事项".into()
            } else {
                "What the policy does not yet say".into()
            },
            lines,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognition::{AdviceInput, advise_at};

    fn policy() -> Policy {
        Policy::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
            .unwrap()
    }

    #[test]
    fn a_low_voltage_electrician_reads_what_they_may_do() {
        let p = policy();
        let input = AdviceInput::from_json(
            r#"{"as_of": "2026-11-26", "holdings": [{"kind": "mem.electrical.low-voltage", "status": "valid", "issued_on": "2024-05-10"}],
                "experience_years": {"6-31-01-03": 3}}"#,
        )
        .unwrap();
        let advice = advise_at(&p, &input, "2026-11-26".parse().unwrap()).unwrap();
        let zh = explain(&p, &advice, Lang::Zh);
        let all: String = zh
            .iter()
            .flat_map(|s| s.lines.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("建筑电工"), "{all}");
        assert!(all.contains("可以免予安全作业培训"), "{all}");
        assert!(all.contains("视同取得电工职业初级工（五级）"), "{all}");
        assert!(all.contains("暂定"), "{all}");
        let en = explain(&p, &advice, Lang::En);
        let all: String = en
            .iter()
            .flat_map(|s| s.lines.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            all.contains("you may be exempt from safety training"),
            "{all}"
        );
        assert!(
            en.iter().any(|s| s.title == "Your next skill level"),
            "{en:?}"
        );
    }

    #[test]
    fn nothing_held_in_force_says_so() {
        let p = policy();
        let input = AdviceInput::from_json(
            r#"{"holdings": [{"kind": "mem.electrical.low-voltage", "status": "revoked", "issued_on": "2024-05-10"}]}"#,
        )
        .unwrap();
        let advice = advise_at(&p, &input, "2026-11-26".parse().unwrap()).unwrap();
        let zh = explain(&p, &advice, Lang::Zh);
        assert_eq!(
            zh[0].lines,
            ["您持有的证书目前不能在其他部门获得免予培训或考试。"]
        );
        assert!(
            zh.iter()
                .any(|s| s.title == "未适用的规则及原因"
                    && s.lines.iter().any(|l| l.contains("撤销"))),
            "{zh:?}"
        );
    }
}
