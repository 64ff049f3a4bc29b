//! The pages: query, results, directory, issuers; Chinese first, English on `?lang=en`.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::fixture::{self, enc};
use super::{get, send, state_with, states};
use hutong_server::{DemoSample, Settings};

#[tokio::test]
async fn the_query_page_has_both_forms_and_a_demo_offers_samples() {
    for (plain, _keep) in
        states("pages::the_query_page_has_both_forms_and_a_demo_offers_samples").await
    {
        eprintln!(
            "the_query_page_has_both_forms_and_a_demo_offers_samples: on {}",
            plain.store.backend()
        );
        let (_, _, body) = get(&plain, "/verify").await;
        assert!(
            body.contains("action=\"/verify/result\"")
                && body.contains("action=\"/holder/result\""),
            "{body}"
        );
        assert!(!body.contains("id=\"samples\""), "no samples configured");

        let (s, _d2) = state_with(Settings {
            demo: true,
            demo_samples: vec![DemoSample {
                number: "NOSUCH0001".into(),
                kind: "mem.electrical.low-voltage".into(),
                name: "x".into(),
            }],
            ..Settings::default()
        })
        .await;
        let f = fixture::fill(&s).await;
        let (_, _, body) = get(&s, "/verify").await;
        assert!(
            !body.contains("NOSUCH0001"),
            "a sample not in the registry is not offered"
        );
        let (s, _d3) = state_with(Settings {
            demo: true,
            demo_samples: vec![DemoSample {
                number: f.review_due.number.clone(),
                kind: f.review_due.kind.into(),
                name: f.review_due.name.into(),
            }],
            ..Settings::default()
        })
        .await;
        fixture::fill(&s).await;
        let (_, _, body) = get(&s, "/verify").await;
        assert!(body.contains("id=\"samples\""), "{body}");
        assert!(
            body.contains("有效（待复审/换证）"),
            "the sample's status today: {body}"
        );
        // Tried by a posted form, so that the sample's number and name stay out of addresses.
        assert!(
            body.contains(&format!(
                "<input type=\"hidden\" name=\"number\" value=\"{}\">",
                f.review_due.number
            )),
            "{body}"
        );
        assert!(!body.contains("/verify/result?"), "{body}");
    }
}

#[tokio::test]
async fn the_result_page_shows_status_checks_and_no_address_with_number_or_name() {
    for (s, _keep) in
        states("pages::the_result_page_shows_status_checks_and_no_address_with_number_or_name")
            .await
    {
        eprintln!(
            "the_result_page_shows_status_checks_and_no_address_with_number_or_name: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let uri = format!(
            "/verify/result?number={}&name={}",
            enc(&f.suspended.number),
            enc(f.suspended.name)
        );
        let a = send(
            &s,
            Request::get(&uri)
                .header("host", "hutong.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.ctype.starts_with("text/html"));
        assert_eq!(a.headers["cache-control"], "no-store");
        assert!(a.body.contains("data-status=\"suspended\""), "{}", a.body);
        assert!(a.body.contains("已暂停"));
        assert!(a.body.contains("data-check=\"state-recognised\""));
        // A result is shared by a share code its holder mints, never by an address or a QR
        // code carrying the number and the name (as this page's did).
        assert!(!a.body.contains("<svg"), "no QR code of number and name");
        assert!(
            !a.body
                .contains(&format!("number={}", enc(&f.suspended.number))),
            "no link carries the number"
        );
        assert!(
            a.body.contains("欧**娜") && !a.body.contains("欧阳娜娜"),
            "the name is masked"
        );
        // The language switch keeps the result.
        assert!(a.body.contains("lang=en"), "{}", a.body);

        let (_, _, en) = get(&s, &format!("{uri}&lang=en")).await;
        assert!(en.contains("Suspended") && en.contains("Checks"), "{en}");

        // The samr number is the holder's ID number: never in the page's text, not even in the
        // language switch (`send` checks every answer for the fixture's ID numbers).
        let (_, _, body) = get(
            &s,
            &format!(
                "/verify/result?number={}&name={}",
                enc(&f.revoked.number),
                enc(f.revoked.name)
            ),
        )
        .await;
        assert!(body.contains("data-status=\"revoked\""), "{body}");
        assert!(body.contains("href=\"/verify?lang=en\""), "{body}");

        // Opened by ID number alone: the result, but no QR code (there is no name to share).
        let (_, _, body) = get(
            &s,
            &format!(
                "/verify/result?number={}&id={}",
                enc(&f.expired.number),
                f.expired.id
            ),
        )
        .await;
        assert!(
            body.contains("data-status=\"expired\"") && !body.contains("<svg"),
            "{body}"
        );

        // The mem number embeds the holder's ID number: shown masked.
        let (_, _, body) = get(
            &s,
            &format!(
                "/verify/result?number={}&name={}",
                enc(&f.valid.number),
                enc(f.valid.name)
            ),
        )
        .await;
        assert!(body.contains("data-status=\"valid\""), "{body}");
        assert_eq!(
            body.matches("<section").count(),
            2,
            "two kinds share the number"
        );
    }
}

#[tokio::test]
async fn not_found_and_bad_input_pages() {
    for (s, _keep) in states("pages::not_found_and_bad_input_pages").await {
        eprintln!("not_found_and_bad_input_pages: on {}", s.store.backend());
        let f = fixture::fill(&s).await;
        let wrong = format!(
            "/verify/result?number={}&name={}",
            enc(&f.expired.number),
            enc("王二")
        );
        let unknown = format!(
            "/verify/result?number={}&name={}",
            enc("粤A012020999999"),
            enc("王二")
        );
        let (c1, _, a) = get(&s, &wrong).await;
        let (_, _, b) = get(&s, &unknown).await;
        assert_eq!(c1, StatusCode::OK);
        assert!(a.contains("data-status=\"not-found\""), "{a}");
        // The page repeats the number searched for (issue 12): apart from it, the two are
        // the same.
        assert_eq!(
            a.replace(&f.expired.number, "N"),
            b.replace("粤A012020999999", "N"),
            "a wrong name and an unknown number look the same"
        );

        let (code, _, body) = get(&s, "/verify/result?number=&name=").await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("the certificate number is required") || body.contains("输入有误"),
            "{body}"
        );
        assert!(body.contains("role=\"alert\""));
    }
}

#[tokio::test]
async fn the_one_stop_query_is_posted_and_lists_every_certificate() {
    for (s, _keep) in
        states("pages::the_one_stop_query_is_posted_and_lists_every_certificate").await
    {
        eprintln!(
            "the_one_stop_query_is_posted_and_lists_every_certificate: on {}",
            s.store.backend()
        );
        let f = fixture::fill(&s).await;
        let form = format!("id={}&name={}", f.review_due.id, enc(f.review_due.name));
        let a = send(
            &s,
            Request::post("/holder/result")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(
            a.body.contains("data-status=\"review-due\"")
                && a.body.contains("data-status=\"expired\""),
            "{}",
            a.body
        );
        let bad = send(
            &s,
            Request::post("/holder/result?lang=en")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("id=440305198506151012&name=x"))
                .unwrap(),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.body.contains("check character is wrong"),
            "{}",
            bad.body
        );
        assert!(!bad.body.contains("440305198506151012"));
    }
}

#[tokio::test]
async fn the_directory_and_the_issuers() {
    for (s, _keep) in states("pages::the_directory_and_the_issuers").await {
        eprintln!("the_directory_and_the_issuers: on {}", s.store.backend());
        fixture::fill(&s).await;
        let (code, _, body) = get(&s, "/directory").await;
        assert_eq!(code, StatusCode::OK);
        assert!(
            body.contains("特种作业人员") && body.contains("待确认"),
            "{body}"
        );
        assert!(body.contains("低压电工作业"), "kinds under their entry");
        let (_, _, en) = get(&s, "/directory?lang=en").await;
        assert!(en.contains("Special operations personnel") && en.contains("provisional"));

        let (code, _, body) = get(&s, "/issuers").await;
        assert_eq!(code, StatusCode::OK);
        assert!(
            body.contains("广东省应急管理厅") && body.contains("广东省职业技能服务指导中心"),
            "{body}"
        );
        assert!(
            body.contains("电工") && body.contains("中级工"),
            "an institution's scope: {body}"
        );
        for nav in [
            "href=\"/verify\"",
            "href=\"/directory\"",
            "href=\"/issuers\"",
        ] {
            assert!(body.contains(nav), "the header links {nav}");
        }
    }
}
