//! Regression tests for the advice page (我的证书能做什么), one per defect of issue 12, item 4
//! (`r12_4_…`): a page fit for workers on a phone, with every input the API takes, answers in
//! short grouped sentences without rule ids, a printable summary, a plain word about what the
//! tick mode trusts, and the way from the holder's one-stop result.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::fixture;
use super::{Answer, send, states};

fn post_form(uri: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

async fn get(s: &hutong_server::AppState, uri: &str) -> Answer {
    send(s, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn enc(s: &str) -> String {
    fixture::enc(s)
}

/// The text a reader sees: the page without its tags, attributes and style sheet.
fn text_of(html: &str) -> String {
    let html = match (html.find("<style>"), html.find("</style>")) {
        (Some(a), Some(b)) => format!("{}{}", &html[..a], &html[b..]),
        _ => html.to_string(),
    };
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"").replace("&amp;", "&")
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// A page in English has no Chinese in what it shows, but for the name of the other language and
/// the service's brand.
fn assert_english(what: &str, html: &str) {
    let text = text_of(html).replace("互通", "").replace("中文", "");
    let chinese: String = text.chars().filter(|c| is_cjk(*c)).collect();
    assert!(
        chinese.is_empty(),
        "{what} shows Chinese ({chinese}): {text}"
    );
}

/// The `<form>` element of `html` that contains `marker`.
fn form_with<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker}: {html}"));
    let start = html[..at].rfind("<form").unwrap();
    let end = at + html[at..].find("</form>").unwrap();
    &html[start..end]
}

const TICKED: &str = "mode=ticked&hold=mem.electrical.low-voltage&status%3Amem.electrical.low-voltage=valid&issued%3Amem.electrical.low-voltage=2023-05-10&exp%3A6-31-01-03=3";

#[tokio::test]
async fn r12_4_the_tick_form_is_no_table_of_narrow_columns_on_a_phone() {
    for (s, _keep) in states("regression_advice::r12_4_form_table").await {
        for uri in ["/advice", "/advice?lang=en"] {
            let a = get(&s, uri).await;
            assert_eq!(a.status, StatusCode::OK);
            let form = form_with(&a.body, "name=\"mode\" value=\"ticked\"");
            // Each certificate is a block of its own: the tick and name on one line, its status
            // and issue date below, side by side only when there is room.
            assert!(!form.contains("<table"), "{form}");
            assert!(form.contains("class=\"cert\""), "{form}");
            assert!(a.body.contains(".pair{display:grid"), "the fields wrap");
        }
    }
}

#[tokio::test]
async fn r12_4_several_skill_level_certificates_can_be_entered() {
    for (s, _keep) in states("regression_advice::r12_4_skills").await {
        let form = get(&s, "/advice").await;
        for n in 1..=3 {
            assert!(
                form.body
                    .contains(&format!("name=\"skill_occupation_{n}\"")),
                "{}",
                form.body
            );
        }
        let two = "mode=ticked&skill_occupation_1=6-31-01-03&skill_level_1=4&skill_status_1=valid&skill_issued_1=2020-01-02\
                   &skill_occupation_2=6-18-02-04&skill_level_2=5&skill_status_2=valid&skill_issued_2=2024-01-02";
        let a = send(&s, post_form("/advice/result", two)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let next = a.body.matches("data-occupation=").count();
        assert!(
            a.body
                .contains("data-occupation=\"6-31-01-03\" data-level=\"3\"")
                && a.body
                    .contains("data-occupation=\"6-18-02-04\" data-level=\"4\""),
            "a next level for each occupation ({next}): {}",
            a.body
        );
        assert_eq!(
            a.body.matches("data-kind=\"mohrss.skill-level\"").count(),
            2,
            "both certificates are considered: {}",
            a.body
        );
    }
}

#[tokio::test]
async fn r12_4_diplomas_and_apprenticeship_reach_the_advice() {
    for (s, _keep) in states("regression_advice::r12_4_diplomas").await {
        let form = get(&s, "/advice").await;
        assert!(
            form.body
                .contains("name=\"diploma\" value=\"technical-school\"")
                && form.body.contains("name=\"apprenticeship\""),
            "{}",
            form.body
        );
        let welder = "mode=ticked&skill_occupation_1=6-18-02-04&skill_level_1=5&skill_status_1=valid&skill_issued_1=2026-01-02";
        let without = send(&s, post_form("/advice/result", welder)).await;
        let with = send(
            &s,
            post_form(
                "/advice/result",
                &format!("{welder}&diploma=technical-school&apprenticeship=yes"),
            ),
        )
        .await;
        assert_eq!(with.status, StatusCode::OK, "{}", with.body);
        let met = |a: &Answer| a.body.matches("data-met=\"true\"").count();
        assert!(
            met(&with) > met(&without),
            "the diploma meets a condition: {}",
            with.body
        );
        assert!(
            with.body.contains("现在可以申报中级工（四级）"),
            "{}",
            with.body
        );
    }
}

#[tokio::test]
async fn r12_4_the_registered_mode_takes_years_of_experience() {
    for (s, _keep) in states("regression_advice::r12_4_registered_years").await {
        let f = fixture::fill(&s).await;
        let form = get(&s, "/advice").await;
        let registered = form_with(&form.body, "name=\"mode\" value=\"registered\"");
        assert!(
            registered.contains("name=\"exp:6-31-01-03\""),
            "{registered}"
        );
        let base = format!(
            "mode=registered&id={}&name={}",
            f.valid.id,
            enc(f.valid.name)
        );
        let none = send(&s, post_form("/advice/result", &base)).await;
        let ten = send(
            &s,
            post_form("/advice/result", &format!("{base}&exp%3A6-31-01-03=10")),
        )
        .await;
        assert_eq!(ten.status, StatusCode::OK, "{}", ten.body);
        assert!(
            !none.body.contains("电工：现在可以申报") && ten.body.contains("电工：现在可以申报"),
            "ten years as an electrician open the next level: {}",
            ten.body
        );
        // The answer offers to add experience without typing the ID number again.
        let refine = form_with(&ten.body, "id=\"refine\"");
        assert!(refine.contains("name=\"ticket\""), "{refine}");
        assert!(refine.contains("value=\"10\""), "{refine}");
    }
}

#[tokio::test]
async fn r12_4_answers_are_grouped_and_say_no_rule_ids() {
    for (s, _keep) in states("regression_advice::r12_4_no_rule_ids").await {
        for uri in ["/advice/result", "/advice/result?lang=en"] {
            let a = send(&s, post_form(uri, TICKED)).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            for group in ["id=\"apply\"", "id=\"next-levels\"", "id=\"deemed\""] {
                assert!(a.body.contains(group), "{group}: {}", a.body);
            }
            assert!(a.body.contains("<details"), "details are folded away");
            let text = text_of(&a.body);
            for id in ["m1/", "m2/", "6-31-01-03/", "规则 ", "rule m"] {
                assert!(!text.contains(id), "{id:?} in the sentences: {text}");
            }
            // The ids stay in attributes, for systems.
            assert!(
                a.body.contains(
                    "data-rules=\"m1/mem.electrical.low-voltage/mohurd.construction.electrician\""
                ),
                "{}",
                a.body
            );
        }
    }
}

#[tokio::test]
async fn r12_4_english_answers_are_english_throughout() {
    for (s, _keep) in states("regression_advice::r12_4_english").await {
        let f = fixture::fill(&s).await;
        assert_english("the form", &get(&s, "/advice?lang=en").await.body);
        let a = send(&s, post_form("/advice/result?lang=en", TICKED)).await;
        // The conditions of the standard were shown in Chinese.
        assert!(a.body.contains("years"), "{}", a.body);
        assert_english("the tick answer", &a.body);
        let reg = format!(
            "mode=registered&id={}&name={}",
            f.valid.id,
            enc(f.valid.name)
        );
        let a = send(&s, post_form("/advice/result?lang=en", &reg)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        // The masked name is the holder's own.
        assert_english("the registered answer", &a.body.replace("张*明", ""));
        let bad = send(
            &s,
            post_form(
                "/advice/result?lang=en",
                "mode=ticked&hold=mem.electrical.low-voltage&issued%3Amem.electrical.low-voltage=2024-13-01",
            ),
        )
        .await;
        assert_english("the form with a problem", &bad.body);
    }
}

#[tokio::test]
async fn r12_4_the_answer_prints_as_a_summary_with_the_date_and_policy_version() {
    for (s, _keep) in states("regression_advice::r12_4_print").await {
        let a = send(&s, post_form("/advice/result", TICKED)).await;
        let policy = s.policy();
        assert!(a.body.contains(&policy.digest), "{}", a.body);
        assert!(a.body.contains("政策版本"), "{}", a.body);
        let today = hutong_core::date::today_in_china().to_string();
        assert!(a.body.contains(&format!("截至 {today}")), "{}", a.body);
        assert!(a.body.contains("@media print"), "a print style sheet");
        assert!(
            a.body.contains("供受理部门参考") && a.body.contains("class=\"print-only print-head\""),
            "{}",
            a.body
        );
        let en = send(&s, post_form("/advice/result?lang=en", TICKED)).await;
        assert!(en.body.contains("Policy version"), "{}", en.body);
    }
}

#[tokio::test]
async fn r12_4_the_tick_mode_says_it_trusts_the_ticked_statuses() {
    for (s, _keep) in states("regression_advice::r12_4_trust").await {
        let a = send(&s, post_form("/advice/result", TICKED)).await;
        assert!(
            a.body.contains("data-basis=\"ticked\"")
                && a.body
                    .contains("本结果按您勾选的证书和状态计算，本站未核对登记记录"),
            "{}",
            a.body
        );
        let en = send(&s, post_form("/advice/result?lang=en", TICKED)).await;
        assert!(
            en.body
                .contains("This answer trusts the certificates and statuses you ticked"),
            "{}",
            en.body
        );
        let form = get(&s, "/advice").await;
        assert!(form.body.contains("不核对登记记录"), "{}", form.body);
    }
}

#[tokio::test]
async fn r12_4_the_one_stop_result_leads_to_the_advice_for_its_certificates() {
    for (s, _keep) in states("regression_advice::r12_4_from_holder").await {
        let f = fixture::fill(&s).await;
        let one_stop = send(
            &s,
            post_form(
                "/holder/result",
                &format!("id={}&name={}", f.valid.id, enc(f.valid.name)),
            ),
        )
        .await;
        assert_eq!(one_stop.status, StatusCode::OK, "{}", one_stop.body);
        let link = form_with(&one_stop.body, "id=\"advice-from-holder\"");
        assert!(link.contains("这些证书能做什么"), "{link}");
        assert!(link.contains("action=\"/advice/result\""), "{link}");
        let ticket = link
            .split("name=\"ticket\" value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .unwrap();
        let a = send(
            &s,
            post_form(
                "/advice/result",
                &format!("mode=registered&ticket={ticket}"),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(
            a.body.contains("data-basis=\"registered\"")
                && a.body.contains("张*明")
                && a.body
                    .contains("data-target=\"mohurd.construction.electrician\""),
            "{}",
            a.body
        );
        // A ticket the registry did not make: the page says so in its language.
        let a = send(
            &s,
            post_form(
                "/advice/result?lang=en",
                "mode=registered&ticket=bm90IGEgdGlja2V0",
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.contains("This page has expired"), "{}", a.body);
    }
}

#[tokio::test]
async fn r12_4_bad_input_names_the_field_in_the_page_language_and_fills_the_form_back() {
    for (s, _keep) in states("regression_advice::r12_4_bad_input").await {
        let bad = "mode=ticked&hold=mem.electrical.low-voltage&status%3Amem.electrical.low-voltage=review-due\
                   &issued%3Amem.electrical.low-voltage=2026-02-30&exp%3A6-31-01-03=abc&skill_occupation_2=6-18-02-04";
        let a = send(&s, post_form("/advice/result", bad)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        for problem in [
            "低压电工作业：发证日期：“2026-02-30”不是有效日期",
            "从业年限（电工）：请填写 0 到 60 之间的整数年数",
            "职业技能等级证书 2：等级：请选择",
        ] {
            assert!(a.body.contains(problem), "{problem}: {}", a.body);
        }
        // Filled back in: the tick, the status, the date and the years as typed.
        assert!(
            a.body
                .contains("id=\"hold-mem.electrical.low-voltage\" checked"),
            "{}",
            a.body
        );
        assert!(a.body.contains("value=\"2026-02-30\""), "{}", a.body);
        assert!(a.body.contains("value=\"abc\""), "{}", a.body);
        assert!(
            a.body.contains("<option value=\"review-due\" selected>"),
            "{}",
            a.body
        );
        assert!(
            a.body.contains("<option value=\"6-18-02-04\" selected>"),
            "{}",
            a.body
        );
        let en = send(&s, post_form("/advice/result?lang=en", bad)).await;
        for problem in [
            "Low-voltage electrical work: issued on: \"2026-02-30\" is not a real date",
            "Years of work (Electrician): enter whole years from 0 to 60",
            "Skill level certificate 2: level: choose one",
        ] {
            assert!(
                en.body.contains(&problem.replace('"', "&quot;")) || en.body.contains(problem),
                "{problem}: {}",
                en.body
            );
        }
        // The registered mode: the field named, the ID number never repeated.
        let a = send(
            &s,
            post_form(
                "/advice/result",
                &format!("mode=registered&id=110105194912310021&name={}", enc("王五")),
            ),
        )
        .await;
        assert!(
            a.body.contains("公民身份号码：不是有效的18位公民身份号码"),
            "{}",
            a.body
        );
        assert!(!a.body.contains("110105194912310021"), "{}", a.body);
        assert!(
            a.body.contains("value=\"王五\""),
            "the name comes back: {}",
            a.body
        );
    }
}
