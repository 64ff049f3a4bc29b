//! 我的证书能做什么 / What can my certificates do for me: a worker either looks up their
//! registered certificates (ID number and name, posted, never in an address) or ticks the
//! certificates they hold; the answer is the recognition advice in sentences.

use maud::{Markup, html};

use hutong_core::Policy;
use hutong_core::ids::Status;
use hutong_core::recognition::explain::Section;

use super::{Lang, layout};

/// The form. `problem` is shown above it when the last submission was wrong.
pub fn form_page(lang: Lang, demo: bool, policy: &Policy, problem: Option<&str>) -> Markup {
    let kinds: Vec<_> = policy.kinds.values().filter(|k| !k.skill_level).collect();
    // The levels the occupations' standards define, lowest first.
    let mut levels: Vec<hutong_core::Level> = policy
        .occupations
        .values()
        .flat_map(|o| o.levels.iter().copied())
        .collect();
    levels.sort();
    levels.dedup();
    let body = html! {
        h1 { (lang.t("我的证书能做什么", "What can my certificates do for me")) }
        p { (lang.t(
            "依据《关于推进职业技能证书互通互认的通知》：持有有效的电工、焊工类证书，向其他部门申请相应证书时可以免予安全培训或理论考试，并视同取得相应的职业技能等级。下面可查询您已登记的证书，或勾选您持有的证书。",
            "Under the January 2026 notice on mutual recognition, a valid electrician or welder certificate may exempt you from safety training or the theory exam when you apply to another department, and counts as a skill level. Look up your registered certificates, or tick the ones you hold."
        )) }
        @if let Some(p) = problem {
            p.banner role="alert" { (p) }
        }
        div.forms {
            form.card method="post" action=(lang.link("/advice/result")) {
                h2 { (lang.t("按身份证号查询我已登记的证书", "From my registered certificates")) }
                input type="hidden" name="mode" value="registered";
                label for="aid" { (lang.t("公民身份号码", "Resident ID number")) }
                input #aid name="id" required autocomplete="off" maxlength="30";
                label for="aname" { (lang.t("姓名", "Name")) }
                input #aname name="name" required autocomplete="off" maxlength="60";
                (region_select(lang, policy))
                button #advice-registered type="submit" { (lang.t("查看", "Show")) }
                p.muted { (lang.t(
                    "身份证号仅用于本次查询，不保存、不记录、不显示在网址中。",
                    "The ID number is used for this query only: it is not stored, logged or put in any address."
                )) }
            }
            form.card method="post" action=(lang.link("/advice/result")) {
                h2 { (lang.t("勾选我持有的证书", "Tick the certificates I hold")) }
                input type="hidden" name="mode" value="ticked";
                div.scroll { table {
                    thead { tr {
                        th { (lang.t("持有", "Held")) }
                        th { (lang.t("证书", "Certificate")) }
                        th { (lang.t("状态", "Status")) }
                        th { (lang.t("发证日期", "Issued on")) }
                    } }
                    tbody {
                        @for k in &kinds {
                            tr {
                                td { input type="checkbox" name="hold" value=(k.id) id=(format!("hold-{}", k.id)); }
                                td { label for=(format!("hold-{}", k.id)) {
                                    (if lang == Lang::Zh { &k.name_zh } else { &k.name_en })
                                    br;
                                    span.muted {
                                        (policy.department(&k.department).map(|d| if lang == Lang::Zh { d.short_zh.as_str() } else { d.name_en.as_str() }).unwrap_or(&k.department))
                                    }
                                } }
                                td { (status_select(lang, &format!("status:{}", k.id))) }
                                td { input type="date" name=(format!("issued:{}", k.id)); }
                            }
                        }
                        tr {
                            td { input type="checkbox" name="hold" value="mohrss.skill-level" id="hold-skill"; }
                            td {
                                label for="hold-skill" { (lang.t("职业技能等级证书", "Skill level certificate")) }
                                " "
                                select name="skill_occupation" aria-label=(lang.t("职业", "Occupation")) {
                                    @for o in policy.occupations.values() {
                                        option value=(o.code) { (if lang == Lang::Zh { &o.name_zh } else { &o.name_en }) }
                                    }
                                }
                                select name="skill_level" aria-label=(lang.t("等级", "Level")) {
                                    @for l in &levels { option value=(l.id()) { (if lang == Lang::Zh { l.name_zh() } else { l.name_en() }) } }
                                }
                            }
                            td { (status_select(lang, "status:mohrss.skill-level")) }
                            td { input type="date" name="issued:mohrss.skill-level"; }
                        }
                    }
                } }
                h2 { (lang.t("从业年限", "Years of work")) }
                @for o in policy.occupations.values() {
                    label for=(format!("exp-{}", o.code)) { (if lang == Lang::Zh { &o.name_zh } else { &o.name_en }) }
                    input id=(format!("exp-{}", o.code)) type="number" min="0" max="60" name=(format!("exp:{}", o.code));
                }
                (region_select(lang, policy))
                button #advice-ticked type="submit" { (lang.t("查看", "Show")) }
            }
        }
    };
    layout(
        lang,
        "/advice",
        lang.t("我的证书能做什么", "What can my certificates do"),
        demo,
        body,
    )
}

fn status_select(lang: Lang, name: &str) -> Markup {
    html! {
        select name=(name) aria-label=(lang.t("状态", "Status")) style="min-width:7em" {
            @for s in Status::ALL {
                option value=(s.id()) { (if lang == Lang::Zh { s.name_zh() } else { s.name_en() }) }
            }
        }
    }
}

fn region_select(lang: Lang, policy: &Policy) -> Markup {
    html! {
        label { (lang.t("申请地区（可选）", "Where you will apply (optional)"))
            select name="region" {
                option value="" { (lang.t("不限", "Any")) }
                @for r in policy.regions.values() {
                    option value=(r.code) { (if lang == Lang::Zh { &r.name_zh } else { &r.name_en }) }
                }
            }
        }
    }
}

/// The answer: who it is for (a masked name, for registered holders), then the sentences.
pub fn result_page(
    lang: Lang,
    demo: bool,
    as_of: &str,
    holder: Option<(&str, usize)>,
    sections: &[Section],
) -> Markup {
    let body = html! {
        h1 { (lang.t("我的证书能做什么", "What can my certificates do for me")) }
        p.muted {
            (lang.t("截至 ", "As of ")) (as_of)
            @if let Some((name, n)) = holder {
                " · " (name) " · " (n) (lang.t(" 本已登记证书", " registered certificates"))
            }
        }
        @for s in sections {
            section.card {
                h2 { (s.title) }
                @for line in &s.lines {
                    @if let Some(detail) = line.strip_prefix("  ") {
                        p.muted { (detail) }
                    } @else {
                        p { (line) }
                    }
                }
            }
        }
        p.muted { (lang.t(
            "“可以免予”表示受理部门可以准予，具体以受理部门决定为准；标注“暂定”的规则尚未经官方文本确认。",
            "\"May be exempted\" means the department may grant it and decides; rules marked provisional are not yet confirmed by an official text."
        )) }
        p { a href=(lang.link("/advice")) { (lang.t("重新查询", "Ask again")) } }
    };
    layout(
        lang,
        "/advice",
        lang.t("我的证书能做什么", "What can my certificates do"),
        demo,
        body,
    )
}

/// The page shown when a registered holder is not found (the same whatever the reason).
pub fn not_found_page(lang: Lang, demo: bool, policy: &Policy) -> Markup {
    form_page(
        lang,
        demo,
        policy,
        Some(lang.t(
            "未找到与该身份证号和姓名相符的已登记证书。",
            "No registered certificate matches this ID number and name.",
        )),
    )
}
