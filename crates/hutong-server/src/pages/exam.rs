//! The organisers' page of an exam session: its outcome, candidate by candidate, from the report
//! kept with its results (`hutong_server::exam`). Names are the organisers' own; ID numbers are
//! masked.

use maud::{Markup, html};

use hutong_core::policy::Policy;

use super::{Lang, layout};

/// The form: an organiser's token, typed in and posted, and the session's id.
pub fn form(lang: Lang, demo: bool, error: Option<&str>) -> Markup {
    let title = lang.t("考试结果", "Exam session outcome");
    let body = html! {
        h1 { (title) }
        p { (lang.t("供一试多证考试的组织方（发证部门、评价机构）和监管部门查看考试结果。",
                    "For the organisers of an exam session (the issuing departments and institutions) and regulators.")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action=(lang.link("/exam-sessions")) {
            label for="token" { (lang.t("令牌", "Token")) }
            input #token type="password" name="token" autocomplete="off" required;
            label for="session" { (lang.t("考试编号", "Session id")) }
            input #session type="text" name="session" required maxlength="64";
            button type="submit" { (lang.t("查看", "Show")) }
        }
    };
    layout(lang, "/exam-sessions", title, demo, body)
}

fn part(lang: Lang, p: &serde_json::Value) -> String {
    match p["outcome"].as_str() {
        Some("passed") => format!("{} {}", lang.t("通过", "passed"), p["score"]),
        Some("failed") => match lang {
            Lang::Zh => format!("未通过 {}（合格线 {}）", p["score"], p["pass"]),
            Lang::En => format!("failed {} (pass mark {})", p["score"], p["pass"]),
        },
        Some("waived") => format!(
            "{} {}",
            lang.t("免考", "waived by"),
            p["rules"]
                .as_array()
                .map(|r| r
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        _ => lang.t("缺考", "not sat").to_string(),
    }
}

/// A session's outcome.
pub fn outcome(lang: Lang, demo: bool, policy: &Policy, r: &serde_json::Value) -> Markup {
    let title = lang.t("考试结果", "Exam session outcome");
    let kind = |id: &str| {
        policy.kind(id).map_or(id.to_string(), |k| {
            lang.t(&k.title_zh, &k.title_en).to_string()
        })
    };
    let empty = Vec::new();
    let outcomes = r["outcomes"].as_array().unwrap_or(&empty);
    let body = html! {
        h1 { (title) " · " (r["session"].as_str().unwrap_or("")) }
        dl.kv {
            dt { (lang.t("考试日期", "Date")) } dd { (r["date"].as_str().unwrap_or("")) }
            dt { (lang.t("考生", "Candidates")) } dd #candidates { (r["candidates"]) }
            dt { (lang.t("通过（至少一证）", "Passed (at least one output)")) } dd #passed { (r["passed"]) }
            dt { (lang.t("发证", "Certificates issued")) } dd #issued { (r["issued"]) }
        }
        table.figures.stack #outcomes {
            thead { tr {
                th { (lang.t("行", "Line")) } th { (lang.t("考生", "Candidate")) }
                th { (lang.t("证书", "Certificate")) } th { (lang.t("结果", "Outcome")) }
                th { (lang.t("理论", "Theory")) } th { (lang.t("实操", "Practical")) }
                th { (lang.t("证书编号", "Number")) }
            } }
            tbody {
                @for c in outcomes {
                    @for o in c["outputs"].as_array().unwrap_or(&empty) {
                        tr data-line=(c["line"]) data-passed=(o["passed"]) {
                            td data-label=(lang.t("行", "Line")) { (c["line"]) }
                            td data-label=(lang.t("考生", "Candidate")) { (c["name"].as_str().unwrap_or("")) " " span.muted { (c["id"].as_str().unwrap_or("")) } }
                            td data-label=(lang.t("证书", "Certificate")) { (kind(o["kind"].as_str().unwrap_or(""))) }
                            td data-label=(lang.t("结果", "Outcome")) {
                                (if o["passed"] == true { lang.t("通过", "passed") } else { lang.t("未通过", "failed") })
                                @for e in o["exempted"].as_array().unwrap_or(&empty) {
                                    br;
                                    span.muted data-exempted=(e["exemption"].as_str().unwrap_or("")) {
                                        (match e["exemption"].as_str() {
                                            Some("theory-exam") => lang.t("免予理论考试", "exempted from the theory exam"),
                                            _ => lang.t("免予安全作业培训", "exempted from the safety training"),
                                        })
                                    }
                                }
                            }
                            td data-label=(lang.t("理论", "Theory")) { (part(lang, &o["theory"])) }
                            td data-label=(lang.t("实操", "Practical")) { (part(lang, &o["practical"])) }
                            td data-label=(lang.t("证书编号", "Number")) { code { (o["number"].as_str().unwrap_or("—")) } }
                        }
                    }
                }
            }
        }
    };
    layout(lang, "/exam-sessions", title, demo, body)
}
