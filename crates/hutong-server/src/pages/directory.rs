//! The National Occupational Qualification Directory, as the policy in force has it.

use maud::{Markup, html};

use hutong_core::policy::{Personnel, Policy, QualificationCategory};

use crate::pages::{Lang, layout};

pub fn page(lang: Lang, demo: bool, policy: &Policy) -> Markup {
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
    let provisional = policy
        .qualifications
        .values()
        .filter(|q| q.provisional)
        .count();
    let body = html! {
        h1 { (lang.t("国家职业资格目录", "National Occupational Qualification Directory")) }
        p.muted { (lang.t(
            "职业资格证书只有列入现行《国家职业资格目录》才属国家认可；职业技能等级证书须由备案的评价机构颁发并可在全国查询。",
            "A qualification certificate is state-recognised only if its qualification is in the current directory; a skill level certificate, if a registered evaluation institution issued it and it can be found in the national query system."
        )) }
        p.muted {
            (policy.qualifications.len()) (lang.t(" 个条目，其中 ", " entries, of which "))
            (provisional) (lang.t(" 个标注", " are marked "))
            span.tag { (lang.t("待确认", "provisional")) }
            (lang.t("：尚未与官方文本核对，请向实施部门核实。", ": not yet checked against the official text; confirm with the implementing department."))
        }
        @for (personnel, heading) in groups {
            h2 { (heading) }
            div.scroll { table {
                thead { tr {
                    th { (lang.t("职业资格", "Qualification")) }
                    th { (lang.t("类别", "Category")) }
                    th { (lang.t("实施部门", "Departments")) }
                    th { (lang.t("设定依据", "Legal basis")) }
                    th { (lang.t("本系统登记的证书", "Certificates registered here")) }
                } }
                tbody {
                    @for q in policy.qualifications.values().filter(|q| q.personnel == personnel) {
                        tr data-qualification=(q.id) {
                            td {
                                (lang.t(&q.name_zh, q.name_en.as_deref().unwrap_or(&q.name_zh)))
                                @if q.provisional { span.tag { (lang.t("待确认", "provisional")) } }
                            }
                            td { (match q.category {
                                QualificationCategory::Licensing => lang.t("准入类", "licensing"),
                                QualificationCategory::LevelAssessment => lang.t("水平评价类", "level assessment"),
                            }) }
                            td { @for (i, d) in q.departments.iter().enumerate() {
                                @if i > 0 { "、" }
                                (policy.department(d).map(|d| lang.t(&d.short_zh, &d.name_en)).unwrap_or(d))
                            } }
                            td.muted { (q.legal_basis.as_deref().unwrap_or("")) }
                            td { @for k in policy.kinds.values().filter(|k| k.qualification.as_deref() == Some(q.id.as_str())) {
                                div { (lang.t(&k.name_zh, &k.name_en)) @if k.provisional { span.tag { (lang.t("待确认", "provisional")) } } }
                            } }
                        }
                    }
                }
            } }
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
