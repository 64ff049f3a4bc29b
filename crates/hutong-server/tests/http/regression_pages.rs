//! Regression tests of the pages for issue 12, items 2 (reasons a person understands) and 5
//! (pages behave like pages), one per defect and named after it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Days;

use hutong_core::date::{Period, today_in_china};
use hutong_core::{AdminState, Certificate, Level, ResidentId, RevocationReason};
use hutong_server::Settings;
use hutong_server::ratelimit::RateLimitSettings;
use hutong_store::InsertMode;

use super::fixture::{self, enc};
use super::{Answer, get, send, state, state_with};

async fn post(s: &hutong_server::AppState, uri: &str, form: &str) -> Answer {
    send(
        s,
        Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap(),
    )
    .await
}

async fn store(s: &hutong_server::AppState, certs: &[Certificate]) {
    hutong_store::write::issue(&*s.store, certs, "test", InsertMode::AllOrNothing)
        .await
        .unwrap();
}

fn cert(number: &str, kind: &str, id: usize, name: &str, issuer: &str) -> Certificate {
    let id = ResidentId::parse(&fixture::IDS[id]).unwrap();
    let issued = today_in_china() - Days::new(200);
    Certificate {
        number: number.into(),
        kind: kind.into(),
        holder_key: super::secret().key_for(&id),
        holder_name: name.into(),
        occupation: None,
        level: None,
        issuer: issuer.into(),
        issued_on: issued,
        first_issued_on: issued,
        valid_until: None,
        last_review_on: None,
        state: AdminState::Active,
    }
}

/// The text of the first element with `marker` in its opening tag, up to its closing tag.
fn element<'a>(html: &'a str, marker: &str, close: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let end = html[at..].find(close).map_or(html.len(), |e| at + e);
    &html[at..end]
}

#[tokio::test]
async fn r12_02_bad_input_on_a_chinese_page_is_in_chinese_says_what_is_valid_and_refills_the_form()
{
    let (s, _d) = state().await;
    fixture::fill(&s).await;
    let a = post(
        &s,
        "/verify/result",
        "number=ABC-12&name=%E5%BC%A0%E4%B8%89",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let alert = element(&a.body, "role=\"alert\"", "</p>");
    assert!(
        alert.contains("证书编号应为 22 位职业技能等级证书编号"),
        "{alert}"
    );
    assert!(!alert.contains("has the form of"), "Chinese only: {alert}");
    assert!(a.body.contains("value=\"ABC-12\""), "{}", a.body);
    assert!(a.body.contains("value=\"张三\""), "{}", a.body);
    // The alert sits in the form it concerns.
    let form = element(&a.body, "id=\"by-number\"", "</form>");
    assert!(form.contains("role=\"alert\""), "{form}");

    let a = post(&s, "/verify/result?lang=en", "number=ABC-12&name=x").await;
    let alert = element(&a.body, "role=\"alert\"", "</p>");
    assert!(
        alert.contains("a certificate number is a 22-character"),
        "{alert}"
    );

    // A number that embeds an ID number is not filled in again (`send` checks that no page
    // carries one), and the page says so.
    let number = format!("T{}9", fixture::IDS[0]);
    let a = post(&s, "/verify/result", &format!("number={number}&name=x")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("未回填"), "{}", a.body);

    // The one-stop form: the name comes back, the ID number never.
    let a = post(
        &s,
        "/holder/result",
        "id=440305198506151012&name=%E6%9D%8E%E5%9B%9B",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let form = element(&a.body, "id=\"by-holder\"", "</form>");
    assert!(
        form.contains("校验码") && form.contains("value=\"李四\""),
        "{form}"
    );
    assert!(!a.body.contains("440305198506151012"));
}

#[tokio::test]
async fn r12_02_suspended_and_revoked_results_say_why_with_the_legal_basis_and_the_contact() {
    let (s, _d) = state().await;
    let f = fixture::fill(&s).await;
    // Suspended: held, with its basis, and the institution's contact.
    let (_, _, page) = get(
        &s,
        &format!(
            "/verify/result?number={}&name={}",
            enc(&f.suspended.number),
            enc(f.suspended.name)
        ),
    )
    .await;
    let reason = element(&page, "data-reason=", "</p>");
    assert!(reason.contains("data-reason=\"held\""), "{reason}");
    assert!(reason.contains("发证机关依法暂扣证书"), "{reason}");
    assert!(
        reason.contains("020-87654321"),
        "the issuer's contact: {reason}"
    );
    // Revoked without a recorded reason: said so, not left out.
    let (_, _, page) = get(
        &s,
        &format!(
            "/verify/result?number={}&name={}",
            enc(&f.revoked.number),
            enc(f.revoked.name)
        ),
    )
    .await;
    let reason = element(&page, "data-reason=", "</p>");
    assert!(reason.contains("data-reason=\"unrecorded\""), "{reason}");
    // Revoked with a reason: its name and basis, in English on the English page.
    let mut c = cert(
        "粤A012024000077",
        "mohurd.construction.electrician",
        1,
        "李四",
        "mohurd.44",
    );
    c.state = AdminState::Revoked {
        on: today_in_china() - Days::new(3),
        reason: Some(RevocationReason::Withdrawn),
    };
    store(&s, &[c]).await;
    let (_, _, page) = get(
        &s,
        &format!(
            "/verify/result?number={}&name={}&lang=en",
            enc("粤A012024000077"),
            enc("李四")
        ),
    )
    .await;
    let reason = element(&page, "data-reason=", "</p>");
    assert!(
        reason.contains("data-reason=\"withdrawn\"") && reason.contains("administrative penalty"),
        "{reason}"
    );
    // And its validity is no longer valid.
    let until = element(&page, "id=\"valid-until\"", "</dd>");
    assert!(until.contains("revoked"), "{until}");
}

#[tokio::test]
async fn r12_02_a_revoked_certificate_never_reads_no_expiry() {
    let (s, _d) = state().await;
    fixture::fill(&s).await;
    let mut c = cert(
        "S000044000123254000077",
        "mohrss.skill-level",
        2,
        "欧阳娜娜",
        "inst.s0000-44-000123",
    );
    c.occupation = Some("6-31-01-03".into());
    c.level = Some(Level::L4);
    c.state = AdminState::Revoked {
        on: today_in_china() - Days::new(3),
        reason: Some(RevocationReason::Annulled),
    };
    store(&s, &[c]).await;
    for lang in ["", "&lang=en"] {
        let (_, _, page) = get(
            &s,
            &format!(
                "/verify/result?number=S000044000123254000077&name={}{lang}",
                enc("欧阳娜娜")
            ),
        )
        .await;
        assert!(page.contains("data-status=\"revoked\""), "{page}");
        assert!(
            !page.contains("长期有效") && !page.contains("no expiry"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn r12_02_an_expired_mem_certificate_says_it_lapsed_for_a_missed_review() {
    let (s, _d) = state().await;
    fixture::fill(&s).await;
    // Issued four years ago, valid for six: the three-year review was missed.
    let issued = Period::Years(4).before(today_in_china());
    let mut c = cert(
        &format!("T{}", fixture::IDS[3]),
        "mem.electrical.low-voltage",
        3,
        "赵六",
        "mem.44",
    );
    c.issued_on = issued;
    c.first_issued_on = issued;
    c.valid_until = Some(Period::Years(6).after(issued));
    store(&s, std::slice::from_ref(&c)).await;
    let due = Period::Years(3).after(issued);
    let form = format!(
        "number={}&name={}&kind=mem.electrical.low-voltage",
        enc(&c.number),
        enc("赵六")
    );
    let a = post(&s, "/verify/result", &form).await;
    assert!(a.body.contains("data-status=\"expired\""), "{}", a.body);
    let until = element(&a.body, "id=\"valid-until\"", "</dd>");
    let valid_until = c.valid_until.unwrap().to_string();
    assert!(
        until.contains(&valid_until)
            && until.contains("未按期复审")
            && until.contains(&due.to_string()),
        "the later date is explained: {until}"
    );
    let reason = element(&a.body, "data-reason=", "</p>");
    assert!(reason.contains("data-reason=\"review-missed\""), "{reason}");
    let a = post(&s, "/verify/result?lang=en", &form).await;
    let until = element(&a.body, "id=\"valid-until\"", "</dd>");
    assert!(until.contains("a review was missed"), "{until}");
}

#[tokio::test]
async fn r12_02_a_provisional_legend_stands_beside_what_it_marks_and_never_alone() {
    let (s, _d) = state().await;
    let f = fixture::fill(&s).await;
    // A construction certificate whose checks all rest on confirmed facts, though its kind's
    // naming is provisional: nothing on its page is marked, so no legend appears.
    let issued = today_in_china() - Days::new(100);
    let mut c = cert(
        &format!("粤B02{}000009", chrono::Datelike::year(&issued)),
        "mohurd.construction.scaffolder",
        1,
        "李四",
        "mohurd.44",
    );
    c.issued_on = issued;
    c.first_issued_on = issued;
    c.valid_until = Some(Period::Years(2).after(issued));
    store(&s, std::slice::from_ref(&c)).await;
    let (_, _, page) = get(
        &s,
        &format!(
            "/verify/result?number={}&name={}",
            enc(&c.number),
            enc("李四")
        ),
    )
    .await;
    assert!(page.contains("data-verdict=\"verified\""), "{page}");
    assert!(
        !page.contains("待确认"),
        "a legend with nothing marked: {page}"
    );
    // A mem certificate: its status check is marked, and the legend is in that check.
    let (_, _, page) = get(
        &s,
        &format!(
            "/verify/result?number={}&name={}&kind={}",
            enc(&f.valid.number),
            enc(f.valid.name),
            f.valid.kind
        ),
    )
    .await;
    let status = element(&page, "data-check=\"status\"", "</li>");
    assert!(
        status.contains("class=\"tag\"") && status.contains("class=\"legend\""),
        "{status}"
    );
    // Every legend is beside a mark.
    for (at, _) in page.match_indices("class=\"legend\"") {
        let mark = page[..at]
            .rfind("class=\"tag\"")
            .expect("a mark before the legend");
        assert!(at - mark < 2000, "a legend far from its mark");
    }
}

#[tokio::test]
async fn r12_05_a_429_on_a_page_is_a_page_with_the_wait() {
    let (s, _d) = state_with(Settings {
        demo: true,
        rate_limits: RateLimitSettings {
            lookups_per_minute: 1,
            lookup_burst: 1,
            ..RateLimitSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let uri = "/verify/result?number=x&name=y";
    get(&s, uri).await;
    let a = send(&s, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.ctype.starts_with("text/html"), "{}", a.ctype);
    let wait: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        a.body.contains(&format!("{wait} 秒")) && a.body.contains("lang=\"zh-CN\""),
        "{}",
        a.body
    );
    let a = post(&s, "/holder/result?lang=en", "id=x&name=y").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.body.contains("Try again in"), "{}", a.body);
    // The API keeps its problem document.
    let a = get(&s, "/api/v1/verify?number=x&name=y").await;
    assert_eq!(a.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.1, "application/problem+json");
}

#[tokio::test]
async fn r12_05_get_on_a_posted_result_address_goes_back_to_its_form() {
    let (s, _d) = state().await;
    for (uri, to) in [
        ("/holder/result", "/verify"),
        ("/holder/result?lang=en", "/verify?lang=en"),
        ("/advice/result", "/advice"),
        ("/advice/result?lang=en", "/advice?lang=en"),
    ] {
        let a = send(&s, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}: {}", a.body);
        assert_eq!(a.headers["location"], to, "{uri}");
    }
}

#[tokio::test]
async fn r12_05_not_found_repeats_what_was_searched_masked_and_offers_the_form() {
    let (s, _d) = state().await;
    let f = fixture::fill(&s).await;
    let a = post(
        &s,
        "/verify/result",
        &format!("number={}&name={}", enc("粤A012020999999"), enc("王小二")),
    )
    .await;
    let searched = element(&a.body, "id=\"searched\"", "</p>");
    assert!(
        searched.contains("粤A012020999999") && searched.contains("王*二"),
        "{searched}"
    );
    assert!(!a.body.contains("王小二"), "the name is masked");
    assert!(
        a.body.contains("id=\"by-number\""),
        "the form again: {}",
        a.body
    );
    // By ID number: masked (`send` checks that the page carries no ID number).
    let a = post(
        &s,
        "/holder/result",
        &format!("id={}&name={}", f.valid.id, enc("王小二")),
    )
    .await;
    let searched = element(&a.body, "id=\"searched\"", "</p>");
    assert!(searched.contains("************"), "{searched}");
    assert!(a.body.contains("id=\"by-holder\""), "{}", a.body);
}

#[tokio::test]
async fn r12_05_check_marks_have_text_alternatives() {
    let (s, _d) = state().await;
    let f = fixture::fill(&s).await;
    for (lang, pass, fail) in [("", "通过", "未通过"), ("&lang=en", "passed", "failed")] {
        let (_, _, page) = get(
            &s,
            &format!(
                "/verify/result?number={}&name={}{lang}",
                enc(&f.suspended.number),
                enc(f.suspended.name)
            ),
        )
        .await;
        assert!(
            page.contains(&format!("role=\"img\" aria-label=\"{pass}\"")),
            "{page}"
        );
        assert!(page.contains(&format!("aria-label=\"{fail}\"")), "{page}");
    }
}

#[tokio::test]
async fn r12_05_the_directory_explains_its_count_shows_sources_and_notes_and_filters() {
    let (s, _d) = state().await;
    fixture::fill(&s).await;
    let entries = super::policy().qualifications.len();
    let (_, _, page) = get(&s, "/directory").await;
    let why = element(&page, "id=\"why-count\"", "</p>");
    assert!(
        why.contains("72") && why.contains(&entries.to_string()) && why.contains("单列"),
        "{why}"
    );
    assert!(page.contains("class=\"source\"") && page.contains("class=\"note\""));
    assert!(
        !page.contains("[U]") && !page.contains("[S]"),
        "marks as words"
    );
    assert!(page.contains("name=\"q\""), "a filter box");
    let all = page.matches("data-qualification=").count();
    assert_eq!(all, entries);
    let (_, _, page) = get(&s, &format!("/directory?q={}", enc("电工"))).await;
    let some = page.matches("data-qualification=").count();
    assert!(some >= 1 && some < all, "{some} of {all}");
    assert!(page.contains("data-qualification=\"special-operations\""));
    let (_, _, en) = get(&s, "/directory?q=electric&lang=en").await;
    assert!(
        en.contains("data-qualification=\"special-operations\""),
        "{en}"
    );
    assert!(en.contains("This page lists"), "{en}");

    let (_, _, page) = get(&s, &format!("/issuers?q={}", enc("职业技能"))).await;
    assert!(page.contains("name=\"q\""));
    assert!(
        page.contains("data-issuer=\"inst.s0000-44-000123\"")
            && !page.contains("data-issuer=\"mem.44\""),
        "{page}"
    );
    // Readable on a phone: the tables stack.
    assert!(page.contains("class=\"stack\"") && page.contains("data-label="));
}
