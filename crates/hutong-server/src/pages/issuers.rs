//! The register of issuers: department authorities and evaluation institutions, with what each
//! may issue and its registration status.

use std::sync::Arc;

use maud::{Markup, html};

use hutong_core::{Issuer, IssuerRole, IssuerStatus, Policy};

use crate::pages::{Lang, layout};

pub fn page(lang: Lang, demo: bool, policy: &Policy, issuers: &[Arc<Issuer>]) -> Markup {
    let authorities = issuers.iter().filter(|i| i.role == IssuerRole::Authority);
    let institutions = issuers.iter().filter(|i| i.role == IssuerRole::Institution);
    let body = html! {
        h1 { (lang.t("发证机构和评价机构", "Issuers and evaluation institutions")) }
        p.muted { (lang.t(
            "只有登记在册、并在颁发之日有权颁发该类证书（评价机构：在备案的职业和等级范围内）的机构所颁发的证书，才能通过核验。机构被暂停或移除后，此前颁发的证书除被单独撤销外仍然有效。",
            "A certificate passes verification only if its issuer is registered and was entitled, on the issue date, to issue its kind (an institution: within the occupations and levels it is registered for). Certificates issued before an issuer was suspended or removed stay valid unless revoked one by one."
        )) }
        h2 { (lang.t("发证机关", "Department authorities")) }
        div.scroll { table #authorities {
            thead { tr {
                th { (lang.t("机构", "Issuer")) }
                th { (lang.t("部门", "Department")) }
                th { (lang.t("地区", "Region")) }
                th { (lang.t("颁发证书", "Issues")) }
                th { (lang.t("登记状态", "Registration")) }
            } }
            tbody { @for i in authorities {
                tr data-issuer=(i.id) {
                    td { (name(lang, i)) br; span.muted { code { (i.id) } } }
                    td { (department(lang, policy, &i.department)) }
                    td { (region(lang, policy, i)) }
                    td { @for k in &i.kinds {
                        div { (policy.kind(k).map(|k| lang.t(&k.name_zh, &k.name_en)).unwrap_or(k)) }
                    } }
                    td { (status(lang, i)) }
                }
            } }
        } }
        h2 { (lang.t("职业技能等级评价机构", "Skill level evaluation institutions")) }
        div.scroll { table #institutions {
            thead { tr {
                th { (lang.t("机构", "Institution")) }
                th { (lang.t("地区", "Region")) }
                th { (lang.t("备案职业和等级", "Registered occupations and levels")) }
                th { (lang.t("登记状态", "Registration")) }
                th { (lang.t("联系方式", "Contact")) }
            } }
            tbody { @for i in institutions {
                tr data-issuer=(i.id) {
                    td { (name(lang, i)) br; span.muted { code { (i.id) } } }
                    td { (region(lang, policy, i)) }
                    td { @for s in &i.scope {
                        div {
                            (policy.occupation(&s.occupation).map(|o| lang.t(&o.name_zh, &o.name_en)).unwrap_or(&s.occupation))
                            " "
                            span.muted { @for (n, l) in s.levels.iter().enumerate() {
                                @if n > 0 { "、" }
                                (lang.t(l.name_zh(), l.id()))
                            } }
                        }
                    } }
                    td { (status(lang, i)) }
                    td.muted { (i.contact.as_deref().unwrap_or("")) }
                }
            } }
        } }
    };
    layout(lang, "/issuers", lang.t("发证机构", "Issuers"), demo, body)
}

fn name(lang: Lang, i: &Issuer) -> &str {
    lang.t(&i.name_zh, i.name_en.as_deref().unwrap_or(&i.name_zh))
}

fn department<'a>(lang: Lang, policy: &'a Policy, id: &'a str) -> &'a str {
    policy
        .department(id)
        .map(|d| lang.t(&d.short_zh, &d.name_en))
        .unwrap_or(id)
}

fn region<'a>(lang: Lang, policy: &'a Policy, i: &'a Issuer) -> &'a str {
    match i.region.as_deref() {
        None => lang.t("全国", "national"),
        Some(r) => policy
            .region(r)
            .map(|r| lang.t(&r.name_zh, &r.name_en))
            .unwrap_or(r),
    }
}

fn status(lang: Lang, i: &Issuer) -> Markup {
    html! {
        (lang.t(i.status.name_zh(), i.status.name_en()))
        @if i.status != IssuerStatus::Registered {
            @if let Some(since) = i.status_since { (lang.t("（自 ", " (since ")) (since) (lang.t("）", ")")) }
        } @else {
            span.muted { (lang.t("，", ", ")) (lang.t("登记于 ", "registered ")) (i.registered_on) }
        }
    }
}
