//! Share codes (用证码): minted by the holder, opened by whoever has the code, revoked by the
//! holder; addresses and QR codes carry the code, never a number, name or ID number.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::share::{ShareCode, SharePurpose, ShareRecord};

use super::fixture::{self, enc};
use super::{AppState, send, states};

async fn post_json(s: &AppState, uri: &str, body: Value) -> (StatusCode, Value, String) {
    let a = send(
        s,
        Request::post(uri)
            .header("content-type", "application/json")
            .header("host", "hutong.test")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    let v = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    (a.status, v, a.body)
}

async fn get_json(s: &AppState, uri: &str) -> (StatusCode, Value) {
    let a = send(s, Request::get(uri).body(Body::empty()).unwrap()).await;
    (
        a.status,
        serde_json::from_str(&a.body).unwrap_or(Value::Null),
    )
}

async fn post_form(s: &AppState, uri: &str, form: &str) -> super::Answer {
    send(
        s,
        Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("host", "hutong.test")
            .body(Body::from(form.to_string()))
            .unwrap(),
    )
    .await
}

fn numbers(answer: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = answer["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["certificate"]["kind"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_holder_shares_one_certificate_or_all_and_revokes() {
    for (s, _keep) in states("shares::a_holder_shares_one_certificate_or_all_and_revokes").await {
        eprintln!("on {}", s.store.backend());
        let f = fixture::fill(&s).await;
        // One certificate: the expired one, of a holder who also has a review-due one.
        let (code, made, body) = post_json(
            &s,
            "/api/v1/shares",
            json!({"id_number": f.expired.id, "name": f.expired.name,
                   "number": f.expired.number, "kind": f.expired.kind,
                   "purpose": "employment", "days": 7}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        let text = made["code"].as_str().unwrap().to_string();
        assert_eq!(text.len(), 24);
        assert_eq!(made["url"], format!("http://hutong.test/s/{text}"));
        assert_eq!(made["share"]["purpose"], "employment");
        assert_eq!(made["share"]["state"], "active");
        // Typed with hyphens in lower case, it opens the same.
        let typed = made["code_grouped"].as_str().unwrap().to_lowercase();
        let (code, one) = get_json(&s, &format!("/api/v1/shares/{typed}")).await;
        assert_eq!(code, StatusCode::OK, "{one}");
        assert_eq!(one["found"], true);
        assert_eq!(one["share"]["purpose"], "employment");
        assert_eq!(one["share"]["all_certificates"], false);
        assert_eq!(
            numbers(&one),
            vec![(f.expired.kind.to_string(), "expired".to_string())]
        );

        // All of a holder's: both of the review-due holder's certificates.
        let (code, all, _) = post_json(
            &s,
            "/api/v1/shares",
            json!({"id_number": f.review_due.id, "name": f.review_due.name}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
        assert_eq!(all["share"]["purpose"], "other", "the default purpose");
        let all_code = all["code"].as_str().unwrap().to_string();
        let (_, opened) = get_json(&s, &format!("/api/v1/shares/{all_code}")).await;
        assert_eq!(opened["certificates"].as_array().unwrap().len(), 2);
        assert_eq!(opened["share"]["all_certificates"], true);

        // The holder's list: both codes, never a code.
        let (code, list, body) = post_json(
            &s,
            "/api/v1/shares/list",
            json!({"id_number": f.review_due.id, "name": f.review_due.name}),
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(list["shares"].as_array().unwrap().len(), 2, "{body}");
        assert!(!body.contains(&text) && !body.contains(&all_code));

        // Revoking: at once, for good, and only by the holder.
        let id = made["share"]["id"].as_str().unwrap();
        let (code, _, _) = post_json(
            &s,
            "/api/v1/shares/revoke",
            json!({"id_number": f.valid.id, "name": f.valid.name, "id": id}),
        )
        .await;
        assert_eq!(
            code,
            StatusCode::NOT_FOUND,
            "another holder cannot revoke it"
        );
        let (code, revoked, _) = post_json(
            &s,
            "/api/v1/shares/revoke",
            json!({"id_number": f.expired.id, "name": f.expired.name, "id": id}),
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(revoked["share"]["state"], "revoked");
        let (code, gone) = get_json(&s, &format!("/api/v1/shares/{text}")).await;
        assert_eq!(code, StatusCode::GONE);
        assert_eq!(gone["code"], "share-revoked");

        // Journaled, without the codes.
        let journal = s.store.journal(0, 10_000).await.unwrap();
        let kinds: Vec<&str> = journal
            .iter()
            .filter(|e| e.subject.to_string().starts_with("share:"))
            .map(|e| e.kind())
            .collect();
        assert_eq!(kinds, ["share-created", "share-created", "share-revoked"]);
        for e in &journal {
            assert!(!e.change.contains(&text) && !e.change.contains(&all_code));
            assert_eq!(
                e.subject.to_string().starts_with("share:"),
                e.actor == "holder"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_name_and_an_unknown_holder_answer_alike_and_bad_input_is_named() {
    let (s, _keep) = states("shares::a_wrong_name").await.remove(0);
    let f = fixture::fill(&s).await;
    let (c1, _, b1) = post_json(
        &s,
        "/api/v1/shares",
        json!({"id_number": f.valid.id, "name": "李四"}),
    )
    .await;
    let other = hutong_core::ResidentId::synthesize(
        110101,
        chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        7,
    );
    let (c2, _, b2) = post_json(
        &s,
        "/api/v1/shares",
        json!({"id_number": other.as_str(), "name": "李四"}),
    )
    .await;
    assert_eq!((c1, c2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(b1, b2, "byte for byte");
    // Another holder's certificate cannot be shared.
    let (c, _, _) = post_json(
        &s,
        "/api/v1/shares",
        json!({"id_number": f.valid.id, "name": f.valid.name,
               "number": f.revoked.number, "kind": f.revoked.kind}),
    )
    .await;
    assert_eq!(c, StatusCode::NOT_FOUND);
    for (body, field) in [
        (
            json!({"id_number": f.valid.id, "name": f.valid.name, "days": 0}),
            "days",
        ),
        (
            json!({"id_number": f.valid.id, "name": f.valid.name, "days": 400}),
            "days",
        ),
        (
            json!({"id_number": f.valid.id, "name": f.valid.name, "purpose": "fun"}),
            "purpose",
        ),
        (
            json!({"id_number": f.valid.id, "name": f.valid.name, "number": "X"}),
            "number",
        ),
        (
            json!({"id_number": "123", "name": f.valid.name}),
            "id_number",
        ),
        (
            json!({"id_number": f.valid.id, "name": f.valid.name, "extra": 1}),
            "extra",
        ),
    ] {
        let (c, v, b) = post_json(&s, "/api/v1/shares", body).await;
        assert_eq!(c, StatusCode::BAD_REQUEST, "{b}");
        assert!(v["detail"].as_str().unwrap().contains(field), "{b}");
    }
    for (uri, want) in [
        ("/api/v1/shares/not-a-code", StatusCode::BAD_REQUEST),
        (
            "/api/v1/shares/0000-0000-0000-0000-0000-0000",
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(get_json(&s, uri).await.0, want, "{uri}");
    }
}

#[tokio::test]
async fn an_expired_code_says_so() {
    let (s, _keep) = states("shares::an_expired_code_says_so").await.remove(0);
    let f = fixture::fill(&s).await;
    let id = hutong_core::ResidentId::parse(&f.valid.id).unwrap();
    let holder = s.secret.key_for(&id);
    let long_ago = hutong_core::journal::now_micros() - 10 * hutong_core::share::DAY_MICROS;
    let (code, record) = ShareRecord::create(
        holder,
        None,
        SharePurpose::Tender,
        long_ago,
        2,
        Default::default(),
    )
    .unwrap();
    s.store
        .create_share(&record, "holder", long_ago)
        .await
        .unwrap();
    let (c, v) = get_json(&s, &format!("/api/v1/shares/{}", code.expose())).await;
    assert_eq!(c, StatusCode::GONE);
    assert_eq!(v["code"], "share-expired");
    let page = send(
        &s,
        Request::get(format!("/s/{}", code.expose()))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("用证码已失效"), "{}", page.body);
}

/// The value of the hidden `ticket` input of a page.
fn ticket_of(page: &str) -> String {
    let at = page.find("name=\"ticket\" value=\"").expect("a ticket");
    let rest = &page[at + "name=\"ticket\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn pages_mint_open_and_revoke_a_code_whose_qr_carries_only_the_code() {
    for (s, _keep) in states("shares::pages_mint_open_and_revoke").await {
        let f = fixture::fill(&s).await;
        // The query page's form by number is a POST: nothing typed goes into the address.
        let (_, _, query) = super::get(&s, "/verify").await;
        assert!(
            query.contains("method=\"post\" action=\"/verify/result\""),
            "{query}"
        );
        let posted = post_form(
            &s,
            "/verify/result",
            &format!(
                "number={}&name={}",
                enc(&f.suspended.number),
                enc(f.suspended.name)
            ),
        )
        .await;
        assert_eq!(posted.status, StatusCode::OK);
        assert!(posted.body.contains("data-status=\"suspended\""));

        // The holder's own result offers the share form, with a ticket, not the ID number.
        let mine = post_form(
            &s,
            "/holder/result",
            &format!("id={}&name={}", enc(&f.valid.id), enc(f.valid.name)),
        )
        .await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("id=\"share-form\""), "{}", mine.body);
        let ticket = ticket_of(&mine.body);
        assert!(!ticket.contains(&f.valid.id));

        let made = post_form(
            &s,
            "/share/new",
            &format!("ticket={ticket}&certificate=all&purpose=application&days=3"),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let at = made
            .body
            .find("http://hutong.test/s/")
            .expect("the address");
        let url = &made.body[at..at + "http://hutong.test/s/".len() + 24];
        let code = ShareCode::parse(&url[url.len() - 24..]).unwrap();
        // The QR code is of the address, which holds the code only.
        let qr = hutong_server::pages::lookup::qr_svg(
            url,
            hutong_server::handlers::share::SHARE_QR_LABEL.0,
        )
        .unwrap();
        assert!(qr.contains("aria-label="), "a text alternative: {qr}");
        assert!(made.body.contains(&qr), "the QR code is of {url}");

        let opened = send(
            &s,
            Request::get(format!("/s/{}?lang=en", code.expose()))
                .header("host", "hutong.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("data-purpose=\"application\""));
        assert!(
            opened.body.contains("For an application only"),
            "{}",
            opened.body
        );
        let qr_en = hutong_server::pages::lookup::qr_svg(
            url,
            hutong_server::handlers::share::SHARE_QR_LABEL.1,
        )
        .unwrap();
        assert!(
            opened.body.contains(&qr_en),
            "the share page's QR code is its own address"
        );
        assert!(!opened.body.contains(f.valid.name), "the name only masked");
        assert!(opened.body.contains("data-status=\"valid\""));

        // The holder's result now lists the code, with a revoke button.
        let mine = post_form(
            &s,
            "/holder/result",
            &format!("id={}&name={}", enc(&f.valid.id), enc(f.valid.name)),
        )
        .await;
        let share_id = {
            let at = mine.body.find("data-share=\"").expect("the code is listed");
            let rest = &mine.body[at + "data-share=\"".len()..];
            rest[..rest.find('"').unwrap()].to_string()
        };
        let ticket = ticket_of(&mine.body);
        let forged = post_form(
            &s,
            "/share/revoke",
            &format!("ticket=AAAA{}&id={share_id}", &ticket[4..]),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let done = post_form(
            &s,
            "/share/revoke",
            &format!("ticket={ticket}&id={share_id}"),
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let gone = send(
            &s,
            Request::get(format!("/s/{}", code.expose()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(gone.status, StatusCode::GONE);
    }
}

#[tokio::test]
async fn a_share_code_hands_out_the_signed_credentials_it_covered_when_minted() {
    for (s, _keep, f) in super::print::with_keys("shares::credentials").await {
        // Both of the review-due holder's certificates, the code minted over the API.
        let (code, made, body) = post_json(
            &s,
            "/api/v1/shares",
            json!({"id_number": f.review_due.id, "name": f.review_due.name}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        let text = made["code"].as_str().unwrap().to_string();
        let (code, v) = get_json(&s, &format!("/api/v1/shares/{text}/credentials")).await;
        assert_eq!(code, StatusCode::OK, "{v}");
        let creds = v["credentials"].as_array().unwrap();
        assert_eq!(creds.len(), 2, "{v}");
        // The same commitment as the holder's own credential of the certificate.
        let (_, own, _) = post_json(
            &s,
            "/api/v1/certificates/credential",
            json!({"number": f.review_due.number, "kind": f.review_due.kind,
                   "id_number": f.review_due.id, "name": f.review_due.name}),
        )
        .await;
        let commitment = |c: &Value| c["credentialSubject"]["holder"].clone();
        assert!(
            creds
                .iter()
                .any(|c| commitment(c) == commitment(&own["credential"])),
            "{own}"
        );
        let keys = get_json(&s, "/api/v1/keys").await.1;
        let ring = hutong_credential::keyring::Keyring::open(&keys, None).unwrap();
        for c in creds {
            let r = hutong_credential::keyring::verify_certificate_credential(
                c,
                &ring,
                &[],
                chrono::Utc::now(),
            );
            assert!(r.verified(), "{r:?}");
            assert!(
                r.checks
                    .iter()
                    .any(|k| k.check == "signature" && k.outcome == "pass"),
                "{r:?}"
            );
        }
        // No salt: the bearer verifies, but cannot prove to be the holder.
        assert!(v.get("holder_salt").is_none() && !v.to_string().contains("holder_salt"));

        // A code minted from the holder's page covers what the page showed.
        let mine = post_form(
            &s,
            "/holder/result",
            &format!("id={}&name={}", enc(&f.valid.id), enc(f.valid.name)),
        )
        .await;
        let ticket = ticket_of(&mine.body);
        let made = post_form(
            &s,
            "/share/new",
            &format!("ticket={ticket}&certificate=all&purpose=employment&days=1"),
        )
        .await;
        let at = made.body.find("/s/").unwrap() + 3;
        let page_code = &made.body[at..at + 24];
        let (code, v) = get_json(&s, &format!("/api/v1/shares/{page_code}/credentials")).await;
        assert_eq!(code, StatusCode::OK, "{v}");
        assert_eq!(v["credentials"].as_array().unwrap().len(), 2, "{v}");
        assert!(v["without"].as_array().unwrap().is_empty());

        // The share page links a printable certificate per certificate it covers, whose QR
        // code is a credential that verifies.
        let page = send(
            &s,
            Request::get(format!("/s/{page_code}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let at = page
            .body
            .find("class=\"print\" href=\"")
            .expect("a print link")
            + "class=\"print\" href=\"".len();
        let link = &page.body[at..at + page.body[at..].find('"').unwrap()];
        let printed = send(&s, Request::get(link).body(Body::empty()).unwrap()).await;
        assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
        let start = printed.body.find("data-barcode=\"").unwrap() + "data-barcode=\"".len();
        let text = &printed.body[start..start + printed.body[start..].find('"').unwrap()];
        let credential = hutong_credential::barcode::decode(text).unwrap();
        let r = hutong_credential::keyring::verify_certificate_credential(
            &credential,
            &ring,
            &[],
            chrono::Utc::now(),
        );
        assert!(r.verified(), "{r:?}");
        // Another holder's certificate, by id, through this code: not found.
        let other = s
            .store
            .certificate_with_id(&f.revoked.number, f.revoked.kind)
            .await
            .unwrap()
            .unwrap()
            .0;
        let refused = send(
            &s,
            Request::get(format!("/s/{page_code}/print/{other}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
    }
}
