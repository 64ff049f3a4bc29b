//! The register of issuers: department authorities and evaluation institutions, with what each
//! may issue and since when (rights that ended stay listed, with their dates), and its
//! registration status with its history of suspensions.

use std::sync::Arc;

use maud::{Markup, html};

use hutong_core::{Day, Grant, Issuer, IssuerRole, IssuerStatus, Policy};

use crate::pages::{Lang, layout};

/// The register as it stands on `today`.
pub fn page(
    lang: Lang,
    demo: bool,
    policy: &Policy,
    issuers: &[Arc<Issuer>],
    today: Day,
    q: Option<&str>,
) -> Markup {
    let (shown, filter) = crate::pages::directory::filter_of(q);
    let selected = |i: &&Arc<Issuer>| {
        let mut texts: Vec<&str> = vec![
            i.id.as_str(),
            i.name_zh.as_str(),
            i.name_en.as_deref().unwrap_or(""),
        ];
        texts.push(department(lang, policy, &i.department));
        texts.push(region(lang, policy, i));
        for g in &i.grants {
            if let Some(k) = policy.kind(&g.kind) {
                texts.push(&k.name_zh);
                texts.push(&k.name_en);
            }
            if let Some(o) = g.occupation.as_deref().and_then(|o| policy.occupation(o)) {
                texts.push(&o.name_zh);
                texts.push(&o.name_en);
            }
        }
        crate::pages::directory::matches(&filter, &texts)
    };
    let authorities: Vec<_> = issuers
        .iter()
        .filter(|i| i.role == IssuerRole::Authority)
        .filter(selected)
        .collect();
    let institutions: Vec<_> = issuers
        .iter()
        .filter(|i| i.role == IssuerRole::Institution)
        .filter(selected)
        .collect();
    let body = html! {
        h1 { (lang.t("发证机构和评价机构", "Issuers and evaluation institutions")) }
        p.muted { (lang.t(
            "只有登记在册、并在颁发之日有权颁发该类证书（评价机构：在备案的职业和等级范围内）的机构所颁发的证书，才能通过核验。机构被暂停或移除后，此前颁发的证书除被单独撤销外仍然有效。",
            "A certificate passes verification only if its issuer is registered and was entitled, on the issue date, to issue its kind (an institution: within the occupations and levels it is registered for). Certificates issued before an issuer was suspended or removed stay valid unless revoked one by one."
        )) }
        (crate::pages::directory::filter_form(lang, "/issuers", &shown, ("机构名称、地区、证书或职业，如 广东", "name, region, certificate or occupation, e.g. Guangdong")))
        @if !filter.is_empty() {
            p.muted #filtered data-count=(authorities.len() + institutions.len()) {
                (lang.t("筛选结果：", "Matching: ")) (authorities.len() + institutions.len()) (lang.t(" 个机构。", " issuers."))
                " " a href=(lang.link("/issuers")) { (lang.t("显示全部", "Show all")) }
            }
        }
        h2 { (lang.t("发证机关", "Department authorities")) }
        div.scroll { table.stack #authorities {
            thead { tr {
                th { (lang.t("机构", "Issuer")) }
                th { (lang.t("部门", "Department")) }
                th { (lang.t("地区", "Region")) }
                th { (lang.t("颁发证书", "Issues")) }
                th { (lang.t("登记状态", "Registration")) }
            } }
            tbody { @for i in authorities {
                tr data-issuer=(i.id) {
                    td data-label=(lang.t("机构", "Issuer")) { (name(lang, i)) br; span.muted { code { (i.id) } } }
                    td data-label=(lang.t("部门", "Department")) { (department(lang, policy, &i.department)) }
                    td data-label=(lang.t("地区", "Region")) { (region(lang, policy, i)) }
                    td data-label=(lang.t("颁发证书", "Issues")) { @for g in &i.grants {
                        div.grant.ended[ended(g, today)] {
                            (policy.kind(&g.kind).map(|k| lang.t(&k.name_zh, &k.name_en)).unwrap_or(&g.kind))
                            " " span.muted { (period(lang, g, today)) }
                        }
                    } }
                    td data-label=(lang.t("登记状态", "Registration")) { (status(lang, i, today)) }
                }
            } }
        } }
        h2 { (lang.t("职业技能等级评价机构", "Skill level evaluation institutions")) }
        div.scroll { table.stack #institutions {
            thead { tr {
                th { (lang.t("机构", "Institution")) }
                th { (lang.t("地区", "Region")) }
                th { (lang.t("备案职业和等级", "Registered occupations and levels")) }
                th { (lang.t("登记状态", "Registration")) }
                th { (lang.t("联系方式", "Contact")) }
            } }
            tbody { @for i in institutions {
                tr data-issuer=(i.id) {
                    td data-label=(lang.t("机构", "Institution")) { (name(lang, i)) br; span.muted { code { (i.id) } } }
                    td data-label=(lang.t("地区", "Region")) { (region(lang, policy, i)) }
                    td data-label=(lang.t("备案职业和等级", "Registered occupations and levels")) { @for g in &i.grants {
                        @let occupation = g.occupation.as_deref().unwrap_or("");
                        div.grant.ended[ended(g, today)] {
                            (policy.occupation(occupation).map(|o| lang.t(&o.name_zh, &o.name_en)).unwrap_or(occupation))
                            " "
                            span.muted { @for (n, l) in g.levels.iter().enumerate() {
                                @if n > 0 { "、" }
                                (lang.t(l.name_zh(), l.id()))
                            } }
                            " " span.muted { (period(lang, g, today)) }
                        }
                    } }
                    td data-label=(lang.t("登记状态", "Registration")) { (status(lang, i, today)) }
                    td.muted data-label=(lang.t("联系方式", "Contact")) { (i.contact.as_deref().unwrap_or("")) }
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

/// Whether the grant ended before `today`.
fn ended(g: &Grant, today: Day) -> bool {
    g.valid_until.is_some_and(|u| u < today)
}

/// When a grant is in force: `自 2019-09-01 起`, `2019-09-01 至 2023-12-31（已终止）`, …
fn period(lang: Lang, g: &Grant, today: Day) -> String {
    let from = g.valid_from;
    match g.valid_until {
        None if from > today => match lang {
            Lang::Zh => format!("（自 {from} 起生效）"),
            Lang::En => format!("(from {from})"),
        },
        None => match lang {
            Lang::Zh => format!("（自 {from} 起）"),
            Lang::En => format!("(since {from})"),
        },
        Some(until) if until < today => match lang {
            Lang::Zh => format!("（{from} 至 {until}，已终止）"),
            Lang::En => format!("({from} to {until}, ended)"),
        },
        Some(until) => match lang {
            Lang::Zh => format!("（{from} 至 {until}）"),
            Lang::En => format!("({from} to {until})"),
        },
    }
}

fn status(lang: Lang, i: &Issuer, today: Day) -> Markup {
    let (status, since) = i.status_on(today);
    html! {
        (lang.t(status.name_zh(), status.name_en()))
        @if status != IssuerStatus::Registered {
            @if let Some(since) = since { (lang.t("（自 ", " (since ")) (since) (lang.t("）", ")")) }
        } @else {
            span.muted { (lang.t("，", ", ")) (lang.t("登记于 ", "registered ")) (i.registered_on) }
        }
        @for s in &i.suspensions {
            div.muted.suspension {
                @match s.until {
                    Some(until) => {
                        (lang.t("曾暂停：", "suspended ")) (s.from)
                        (lang.t(" 至 ", " until ")) (until)
                        (lang.t("（已恢复）", " (reinstated)"))
                    }
                    None => { (lang.t("暂停自 ", "suspended since ")) (s.from) }
                }
                @if let Some(reason) = &s.reason { (lang.t("：", ": ")) (reason) }
            }
        }
        @if let Some(on) = i.removed_on.filter(|on| *on > today) {
            div.muted { (lang.t("将于 ", "to be removed on ")) (on) (lang.t(" 移出名录", "")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grant that ended and a suspension that was lifted are shown, with their dates, in
    /// both languages.
    #[test]
    fn ended_grants_and_past_suspensions_are_shown_with_their_dates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        let policy = Policy::load_dir(&dir).unwrap();
        let inst: Issuer = toml::from_str(
            r#"
            id = "inst.s0000-44-000001"
            name_zh = "广东某职业技能等级认定中心"
            department = "mohrss"
            role = "institution"
            region = "44"
            institution_type = "S"
            institution_code = "0000"
            registered_on = 2019-09-01
            grants = [
              { kind = "mohrss.skill-level", occupation = "6-31-01-03", levels = ["5", "4"], valid_from = 2019-09-01 },
              { kind = "mohrss.skill-level", occupation = "6-18-02-04", levels = ["5"], valid_from = 2019-09-01, valid_until = 2023-12-31 },
            ]
            suspensions = [{ from = 2022-03-01, until = 2022-09-01, reason = "限期整改" }]
            "#,
        )
        .unwrap();
        let today = "2026-01-10".parse().unwrap();
        let issuers = [Arc::new(inst)];
        let zh = page(Lang::Zh, false, &policy, &issuers, today, None).into_string();
        assert!(zh.contains("（自 2019-09-01 起）"), "{zh}");
        assert!(zh.contains("焊工"), "{zh}");
        assert!(zh.contains("（2019-09-01 至 2023-12-31，已终止）"), "{zh}");
        assert!(zh.contains("class=\"grant ended\""), "{zh}");
        assert!(
            zh.contains("曾暂停：2022-03-01 至 2022-09-01（已恢复）：限期整改"),
            "{zh}"
        );
        assert!(zh.contains("已登记"), "{zh}");
        let en = page(Lang::En, false, &policy, &issuers, today, None).into_string();
        assert!(en.contains("(2019-09-01 to 2023-12-31, ended)"), "{en}");
        assert!(
            en.contains("suspended 2022-03-01 until 2022-09-01 (reinstated)"),
            "{en}"
        );
        // On a day inside the suspension, the status says so.
        let then = "2022-05-01".parse().unwrap();
        let en = page(Lang::En, false, &policy, &issuers, then, None).into_string();
        assert!(en.contains("suspended (since 2022-03-01)"), "{en}");
    }
}
