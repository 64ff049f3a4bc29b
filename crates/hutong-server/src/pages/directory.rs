//! The National Occupational Qualification Directory, as the policy in force has it.

use maud::{Markup, html};

use hutong_core::policy::{Personnel, Policy, Qualification, QualificationCategory};

use crate::pages::{Lang, layout};

/// The 2021 directory's own count of numbered entries (POLICY.md §2): 59 for professional and
/// technical personnel, 13 for skilled personnel.
const DIRECTORY_ENTRIES: usize = 72;

/// Whether `text` contains the filter (already lower-cased), ignoring case.
pub fn matches(filter: &str, texts: &[&str]) -> bool {
    filter.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(filter))
}

/// The filter as typed, trimmed, at most 40 characters, lower-cased for comparison.
pub fn filter_of(q: Option<&str>) -> (String, String) {
    let shown: String = q.unwrap_or("").trim().chars().take(40).collect();
    let cmp = shown.to_lowercase();
    (shown, cmp)
}

/// The confidence marks of the policy files' notes, as words.
pub fn confidence_words(lang: Lang, note: &str) -> String {
    note.replace("[V]", lang.t("（已核实）", "(verified)"))
        .replace("[S]", lang.t("（二手来源）", "(secondary sources)"))
        .replace("[U]", lang.t("（未确认）", "(unconfirmed)"))
}

/// A search box over a page's list: a GET form with `q`, filtered on the server (pages use
/// no script).
pub fn filter_form(lang: Lang, action: &str, shown: &str, hint: (&str, &str)) -> Markup {
    html! {
        form.filter method="get" action=(action) role="search" {
            label for="q" { (lang.t("筛选", "Filter")) }
            input #q type="search" name="q" value=(shown) maxlength="40" placeholder=(lang.t(hint.0, hint.1));
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            button type="submit" { (lang.t("筛选", "Filter")) }
        }
    }
}

pub fn page(lang: Lang, demo: bool, policy: &Policy, q: Option<&str>) -> Markup {
    let groups = [
        (
            Personnel::Skilled,
            lang.t("技能人员职业资格", "Skilled personnel"),
        ),
        (
            Personnel::Professional,
            lang.t(
                "专业技术人员职业资格",
                "Professional and technical personnel",
            ),
        ),
    ];
    let (shown, filter) = filter_of(q);
    let department_names = |q: &Qualification| -> Vec<String> {
        q.departments
            .iter()
            .map(|d| {
                policy
                    .department(d)
                    .map(|d| lang.t(&d.short_zh, &d.name_en).to_string())
                    .unwrap_or_else(|| lang.t("其他部门", "another department").to_string())
            })
            .collect()
    };
    let kinds_of = |q: &Qualification| {
        policy
            .kinds
            .values()
            .filter(|k| k.qualification.as_deref() == Some(q.id.as_str()))
            .collect::<Vec<_>>()
    };
    let selected = |q: &Qualification| {
        let depts = department_names(q);
        let kinds = kinds_of(q);
        let mut texts: Vec<&str> = vec![q.name_zh.as_str(), q.name_en.as_deref().unwrap_or("")];
        texts.extend(q.legal_basis.as_deref());
        texts.extend(depts.iter().map(String::as_str));
        texts.extend(
            kinds
                .iter()
                .flat_map(|k| [k.name_zh.as_str(), k.name_en.as_str()]),
        );
        matches(&filter, &texts)
    };
    let entries = policy.qualifications.len();
    let provisional = policy
        .qualifications
        .values()
        .filter(|q| q.provisional)
        .count();
    let shown_count = policy
        .qualifications
        .values()
        .filter(|q| selected(q))
        .count();
    let body = html! {
        h1 { (lang.t("国家职业资格目录", "National Occupational Qualification Directory")) }
        p.muted { (lang.t(
            "职业资格证书只有列入现行《国家职业资格目录》才属国家认可；职业技能等级证书须由备案的评价机构颁发并可在全国查询。",
            "A qualification certificate is state-recognised only if its qualification is in the current directory; a skill level certificate, if a registered evaluation institution issued it and it can be found in the national query system."
        )) }
        p #why-count {
            @match lang {
                Lang::Zh => {
                    "《国家职业资格目录（2021年版）》共 " (DIRECTORY_ENTRIES) " 项（专业技术人员 59 项、技能人员 13 项）。本页列出 "
                    strong { (entries) } " 个条目："
                    "目录的一些编号下含有多个子项（如消防员、森林消防员、应急救援员），而尚未见到官方文本说明它们如何归并到一个编号之下，"
                    "因此每个子项在这里单列为一个条目，并在各条目的说明中注明；条目多于 " (DIRECTORY_ENTRIES) " 项并不表示多出了国家职业资格。"
                }
                Lang::En => {
                    "The 2021 directory has " (DIRECTORY_ENTRIES) " numbered entries (59 for professional and technical personnel, 13 for skilled personnel). This page lists "
                    strong { (entries) } " entries: some numbers of the directory cover several items (such as firefighter, forest firefighter and emergency rescuer), "
                    "and no official text seen yet says how they are grouped under one number, so each item is an entry of its own here, and its note says so. "
                    "More entries than " (DIRECTORY_ENTRIES) " does not mean more state qualifications."
                }
            }
        }
        @if provisional > 0 {
            p.muted {
                (provisional) (lang.t(" 个条目标注", " entries are marked "))
                span.tag { (lang.t("待确认", "provisional")) }
                (lang.t("：尚未与官方文本核对，请向实施部门核实。", ": not yet checked against the official text; confirm with the implementing department."))
            }
        }
        (filter_form(lang, "/directory", &shown, ("名称、部门或依据，如 电工", "name, department or basis, e.g. electrician")))
        @if !filter.is_empty() {
            p.muted #filtered data-count=(shown_count) {
                (lang.t("筛选“", "Showing ")) @if lang == Lang::Zh { (shown) "”：" } (shown_count) (lang.t(" 个条目。", " entries matching “")) @if lang == Lang::En { (shown) "”." }
                " " a href=(lang.link("/directory")) { (lang.t("显示全部", "Show all")) }
            }
        }
        @for (personnel, heading) in groups {
            @let rows: Vec<&Qualification> = policy.qualifications.values().filter(|q| q.personnel == personnel && selected(q)).collect();
            @if !rows.is_empty() {
            h2 { (heading) }
            div.scroll { table.stack {
                thead { tr {
                    th { (lang.t("职业资格", "Qualification")) }
                    th { (lang.t("类别", "Category")) }
                    th { (lang.t("实施部门", "Departments")) }
                    th { (lang.t("设定依据", "Legal basis")) }
                    th { (lang.t("本系统登记的证书", "Certificates registered here")) }
                } }
                tbody {
                    @for q in rows {
                        tr data-qualification=(q.id) {
                            td data-label=(lang.t("职业资格", "Qualification")) {
                                (lang.t(&q.name_zh, q.name_en.as_deref().unwrap_or(&q.name_zh)))
                                @if q.provisional { span.tag { (lang.t("待确认", "provisional")) } }
                                span.source { (lang.t("来源：", "Source: ")) (confidence_words(lang, &q.source)) }
                                @if let Some(note) = &q.note {
                                    span.note { (lang.t("说明（英文）：", "Note: ")) (confidence_words(lang, note)) }
                                }
                            }
                            td data-label=(lang.t("类别", "Category")) { (match q.category {
                                QualificationCategory::Licensing => lang.t("准入类", "licensing"),
                                QualificationCategory::LevelAssessment => lang.t("水平评价类", "level assessment"),
                            }) }
                            td data-label=(lang.t("实施部门", "Departments")) { (department_names(q).join(lang.t("、", ", "))) }
                            td.muted data-label=(lang.t("设定依据", "Legal basis")) { (q.legal_basis.as_deref().unwrap_or("")) }
                            td data-label=(lang.t("本系统登记的证书", "Certificates registered here")) { @for k in kinds_of(q) {
                                div { (lang.t(&k.name_zh, &k.name_en)) @if k.provisional { span.tag { (lang.t("待确认", "provisional")) } } }
                            } }
                        }
                    }
                }
            } }
            }
        }
        p.muted { (lang.t("政策数据版本 ", "Policy version ")) code { (&policy.digest[..12]) } }
    };
    layout(
        lang,
        "/directory",
        lang.t("国家职业资格目录", "Qualification directory"),
        demo,
        body,
    )
}
