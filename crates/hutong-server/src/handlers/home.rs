use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use maud::{Markup, html};

use crate::pages::{Lang, layout};
use crate::state::AppState;

/// What the service is, and what the registry holds.
pub async fn page(State(state): State<AppState>, lang: Lang) -> Markup {
    let policy = state.policy();
    let stats = state.stats();
    // Certificates per department, from the cached counts per kind.
    let mut by_dept: BTreeMap<&str, u64> = BTreeMap::new();
    if let Some(s) = &stats {
        for (kind, n) in &s.by_kind {
            let dept = policy
                .kind(kind)
                .map(|k| k.department.as_str())
                .unwrap_or("?");
            *by_dept.entry(dept).or_default() += n;
        }
    }
    let body = html! {
        h1 { (lang.t("职业技能证书 一网通查、互通互认", "One place to check vocational skill certificates")) }
        div.card {
            p { (lang.t(
                "互通汇集应急管理、住房城乡建设、市场监管和人力资源社会保障四个部门的职业技能证书：查询证书是否真实、今天是否有效、是否由备案机构颁发，并依据《关于推进职业技能证书互通互认的通知》说明持证人在其他部门可获得的免培训、免考和等级认定。",
                "hutong brings together the vocational certificates of four departments (Emergency Management, Housing and Construction, Market Regulation, Human Resources and Social Security): whether a certificate is genuine, valid today and from a registered issuer, and, under the January 2026 notice on mutual recognition, what it is worth to the other departments."
            )) }
            p { a href=(lang.link("/verify")) { strong { (lang.t("查询证书 →", "Verify a certificate →")) } } }
        }
        h2 { (lang.t("登记的证书", "Certificates registered")) }
        @match &stats {
            None => p.muted { (lang.t("正在统计……", "Counting…")) },
            Some(s) => {
                div.scroll { table {
                    thead { tr { th { (lang.t("部门", "Department")) } th.num { (lang.t("证书数", "Certificates")) } } }
                    tbody {
                        @for (dept, n) in &by_dept {
                            tr {
                                td { (policy.department(dept).map(|d| if lang == Lang::Zh { d.name_zh.as_str() } else { d.name_en.as_str() }).unwrap_or(dept)) }
                                td.num { (n) }
                            }
                        }
                        tr { th { (lang.t("合计", "Total")) } th.num { (s.certificates) } }
                    }
                } }
                p.muted { (s.holders) (lang.t(" 位持证人 · ", " holders · ")) (s.issuers) (lang.t(" 个发证机关和评价机构", " issuers and evaluation institutions")) }
            }
        }
        h2 { (lang.t("政策数据", "Policy data")) }
        p.muted {
            (policy.kinds.len()) (lang.t(" 种证书 · ", " certificate kinds · "))
            (policy.qualifications.len()) (lang.t(" 项国家职业资格目录条目 · ", " directory entries · "))
            (policy.occupations.len()) (lang.t(" 个职业 · 版本 ", " occupations · version "))
            code { (&policy.digest[..12]) }
        }
    };
    layout(lang, "/", lang.t("首页", "Home"), state.settings.demo, body)
}

pub async fn not_found(State(state): State<AppState>, lang: Lang) -> (StatusCode, Markup) {
    let body = html! {
        h1 { (lang.t("页面不存在", "Page not found")) }
        p { a href=(lang.link("/")) { (lang.t("返回首页", "Back to the home page")) } }
    };
    (
        StatusCode::NOT_FOUND,
        layout(
            lang,
            "/",
            lang.t("页面不存在", "Not found"),
            state.settings.demo,
            body,
        ),
    )
}
