//! Regression tests of issue 12, item 3: certificate numbers and ID numbers as people type them
//! (full-width digits and letters, `川Ａ０７２…`; spaces around and inside, the ideographic one
//! too, `110101 19660101 004X`; lower-case letters) are read as their plain forms on every form
//! and API that takes one, and give the same answer as the plain form. Names keep what they
//! are, trimmed of spaces as `names_match` expects. Each test failed before the fix.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use hutong_core::rights::Actor;
use hutong_server::ratelimit::RateLimitSettings;
use hutong_server::{AppState, Settings};

use super::fixture::{self, Sample, enc};
use super::writes::token;
use super::{Answer, send};

/// `s` in full-width forms, letters in lower case, between ideographic spaces.
fn full_width(s: &str) -> String {
    let body: String = s
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    format!("\u{3000}{body}\u{3000}")
}

/// `s` in lower case with spaces inside: after six characters, then after every four.
fn spaced(s: &str) -> String {
    let mut out = String::from(" ");
    for (i, c) in s.chars().enumerate() {
        if i == 6 || (i > 6 && (i - 6) % 4 == 0) {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The ways a number or an ID number is typed here.
fn typings(s: &str) -> [String; 2] {
    [full_width(s), spaced(s)]
}

/// A name as typed with spaces around and inside (the ideographic one too), as the APIs
/// compare it ([`hutong_core::holder::names_match`]).
fn name_typed(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().map(String::from).unwrap_or_default();
    format!("\u{3000}{first}\u{3000}{} ", chars.as_str())
}

/// A name as typed with spaces around it. (Pages put the name given in the result's address
/// and QR code, trimmed but otherwise as given: a name stays what it is.)
fn name_around(name: &str) -> String {
    format!("\u{3000}{name} ")
}

/// A fresh service over each backend, without rate limits: these tests make many lookups.
async fn states(test: &str) -> Vec<(AppState, super::Keep)> {
    super::states_with(
        Settings {
            demo: true,
            rate_limits: RateLimitSettings {
                lookups_per_minute: 0,
                pages_per_minute: 0,
                ..RateLimitSettings::default()
            },
            ..Settings::default()
        },
        test,
    )
    .await
}

async fn get(s: &AppState, uri: &str) -> Answer {
    send(s, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_json(s: &AppState, path: &str, token: Option<&str>, body: &Value) -> Answer {
    let mut r = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    send(s, r.body(Body::from(body.to_string())).unwrap()).await
}

async fn post_form(s: &AppState, path: &str, fields: &[(&str, &str)]) -> Answer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    send(
        s,
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A page with its holder tickets blanked: a ticket is sealed with the instant it expires, so
/// two pages made a moment apart differ there and nowhere else.
fn without_tickets(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    let marker = "name=\"ticket\" value=\"";
    while let Some(at) = rest.find(marker) {
        let start = at + marker.len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The answer to a typed input is the answer to the plain one, byte for byte, and neither
/// carries an ID number in any form.
fn same(plain: &Answer, typed: &Answer, what: &str) {
    assert_eq!(plain.status, StatusCode::OK, "{what}: {}", plain.body);
    assert_eq!(
        (typed.status, without_tickets(&typed.body)),
        (plain.status, without_tickets(&plain.body)),
        "{what}"
    );
    no_id_number(typed);
}

/// No fixture ID number in the answer, whatever its width or spacing. (Folded here, not by the
/// normalisation under test.)
fn no_id_number(a: &Answer) {
    let text: String = a
        .body
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect();
    for id in fixture::IDS.iter() {
        assert!(!text.contains(id.as_str()), "an ID number: {}", a.body);
    }
}

fn samples(f: &fixture::Fixture) -> [&Sample; 4] {
    // A mem `T…` number, a construction number, a skill level number, a samr ID number.
    [&f.valid, &f.review_due, &f.suspended, &f.revoked]
}

fn verify_uri(number: &str, second: (&str, &str), kind: &str) -> String {
    format!(
        "/api/v1/verify?number={}&{}={}&kind={kind}",
        enc(number),
        second.0,
        enc(second.1)
    )
}

#[tokio::test]
async fn r12_3_verification_by_number_reads_numbers_and_id_numbers_as_typed() {
    for (s, _keep) in states("regression_input::verify").await {
        let f = fixture::fill(&s).await;
        for sample in samples(&f) {
            let name = name_typed(sample.name);
            for (field, plain_value, typed_value) in [
                ("name", sample.name.to_string(), name.clone()),
                ("id", sample.id.clone(), full_width(&sample.id)),
                ("id", sample.id.clone(), spaced(&sample.id)),
            ] {
                let plain = get(
                    &s,
                    &verify_uri(&sample.number, (field, &plain_value), sample.kind),
                )
                .await;
                assert!(plain.body.contains("\"found\":true"), "{}", plain.body);
                for number in typings(&sample.number) {
                    let what = format!("{sample:?}: {number:?} with {field} {typed_value:?}");
                    let typed =
                        get(&s, &verify_uri(&number, (field, &typed_value), sample.kind)).await;
                    same(&plain, &typed, &what);
                    // The same query as a body.
                    let body = |number: &str, second: &str| {
                        let mut b = json!({"number": number, "kind": sample.kind});
                        b[field] = json!(second);
                        b
                    };
                    let plain_post = post_json(
                        &s,
                        "/api/v1/verify",
                        None,
                        &body(&sample.number, &plain_value),
                    )
                    .await;
                    let typed_post =
                        post_json(&s, "/api/v1/verify", None, &body(&number, &typed_value)).await;
                    same(&plain_post, &typed_post, &what);
                }
            }
        }
    }
}

#[tokio::test]
async fn r12_3_the_result_page_reads_numbers_as_typed() {
    for (s, _keep) in states("regression_input::result_page").await {
        let f = fixture::fill(&s).await;
        for sample in samples(&f) {
            let page = |number: &str, name: &str| {
                format!(
                    "/verify/result?number={}&name={}&kind={}",
                    enc(number),
                    enc(name),
                    sample.kind
                )
            };
            let plain = get(&s, &page(&sample.number, sample.name)).await;
            assert!(plain.body.contains("data-verdict="), "{}", plain.body);
            for number in typings(&sample.number) {
                let typed = get(&s, &page(&number, &name_around(sample.name))).await;
                same(&plain, &typed, &format!("{sample:?}: {number:?}"));
            }
        }
    }
}

#[tokio::test]
async fn r12_3_the_one_stop_query_reads_id_numbers_as_typed() {
    for (s, _keep) in states("regression_input::one_stop").await {
        let f = fixture::fill(&s).await;
        let holder = &f.review_due;
        let plain_api = post_json(
            &s,
            "/api/v1/holders/certificates",
            None,
            &json!({"id": holder.id, "name": holder.name}),
        )
        .await;
        assert!(
            plain_api.body.contains("\"found\":true"),
            "{}",
            plain_api.body
        );
        let plain_get = get(
            &s,
            &format!(
                "/api/v1/holders/certificates?id={}&name={}",
                enc(&holder.id),
                enc(holder.name)
            ),
        )
        .await;
        let plain_page = post_form(
            &s,
            "/holder/result",
            &[("id", &holder.id), ("name", holder.name)],
        )
        .await;
        for id in typings(&holder.id) {
            let name = name_typed(holder.name);
            let what = format!("{id:?} {name:?}");
            let typed = post_json(
                &s,
                "/api/v1/holders/certificates",
                None,
                &json!({"id": id, "name": name}),
            )
            .await;
            same(&plain_api, &typed, &what);
            let typed = get(
                &s,
                &format!(
                    "/api/v1/holders/certificates?id={}&name={}",
                    enc(&id),
                    enc(&name)
                ),
            )
            .await;
            same(&plain_get, &typed, &what);
            let around = name_around(holder.name);
            let typed = post_form(&s, "/holder/result", &[("id", &id), ("name", &around)]).await;
            same(&plain_page, &typed, &what);
        }
    }
}

#[tokio::test]
async fn r12_3_the_credential_endpoint_reads_numbers_and_id_numbers_as_typed() {
    for (s, _keep) in states("regression_input::credential").await {
        let f = fixture::fill(&s).await;
        let issuer = s.store.issuer("mem.44").await.unwrap().unwrap();
        s.signer
            .create_key(&*s.store, &issuer, false, "test")
            .await
            .unwrap();
        let sample = &f.valid;
        let subject = |a: &Answer| {
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            no_id_number(a);
            let v: Value = serde_json::from_str(&a.body).unwrap();
            let mut subject = v["credential"]["credentialSubject"].clone();
            // Salted anew on every request.
            subject["holder"] = Value::Null;
            subject
        };
        let plain = post_json(
            &s,
            "/api/v1/certificates/credential",
            None,
            &json!({"number": sample.number, "kind": sample.kind,
                    "id_number": sample.id, "name": sample.name}),
        )
        .await;
        let plain = subject(&plain);
        for (number, id) in typings(&sample.number).into_iter().zip(typings(&sample.id)) {
            let typed = post_json(
                &s,
                "/api/v1/certificates/credential",
                None,
                &json!({"number": number, "kind": sample.kind,
                        "id_number": id, "name": name_typed(sample.name)}),
            )
            .await;
            assert_eq!(subject(&typed), plain, "{number:?} {id:?}");
        }
    }
}

#[tokio::test]
async fn r12_3_the_recognition_inputs_read_numbers_and_id_numbers_as_typed() {
    for (s, _keep) in states("regression_input::recognition").await {
        let f = fixture::fill(&s).await;
        // A stated holding's number: shown as the plain one is (masked: it embeds the ID
        // number).
        let advice = |number: &str| {
            json!({"as_of": "2026-06-01", "holdings": [{
                "kind": "mem.electrical.low-voltage", "status": "valid",
                "issued_on": "2024-01-01", "number": number,
            }]})
        };
        let plain = post_json(
            &s,
            "/api/v1/recognition/advice",
            None,
            &advice(&f.valid.number),
        )
        .await;
        assert!(plain.body.contains("T44************"), "{}", plain.body);
        for number in typings(&f.valid.number) {
            let typed = post_json(&s, "/api/v1/recognition/advice", None, &advice(&number)).await;
            same(&plain, &typed, &number);
        }

        // The registered holder: advice, the department's check, and the advice page.
        let holder = &f.valid;
        let plain_advice = post_json(
            &s,
            "/api/v1/holders/advice",
            None,
            &json!({"id": holder.id, "name": holder.name}),
        )
        .await;
        assert!(
            plain_advice.body.contains("\"found\":true"),
            "{}",
            plain_advice.body
        );
        let check = |id: &str, name: &str| json!({"id": id, "name": name, "target": "mohurd.construction.electrician"});
        let plain_check = post_json(
            &s,
            "/api/v1/recognition/check",
            None,
            &check(&holder.id, holder.name),
        )
        .await;
        let plain_page = post_form(
            &s,
            "/advice/result",
            &[
                ("mode", "registered"),
                ("id", &holder.id),
                ("name", holder.name),
            ],
        )
        .await;
        for id in typings(&holder.id) {
            // The advice echoes the name given (masked).
            let name = name_around(holder.name);
            let typed = post_json(
                &s,
                "/api/v1/holders/advice",
                None,
                &json!({"id": id, "name": name}),
            )
            .await;
            same(&plain_advice, &typed, &id);
            let typed = post_json(&s, "/api/v1/recognition/check", None, &check(&id, &name)).await;
            same(&plain_check, &typed, &id);
            let typed = post_form(
                &s,
                "/advice/result",
                &[("mode", "registered"), ("id", &id), ("name", &name)],
            )
            .await;
            same(&plain_page, &typed, &id);
        }
    }
}

#[tokio::test]
async fn r12_3_the_write_endpoints_read_numbers_and_id_numbers_as_typed() {
    for (s, _keep) in states("regression_input::writes").await {
        let f = fixture::fill(&s).await;
        let authority = |department: &str| Actor::Authority {
            department: department.into(),
            region: Some("44".into()),
        };
        let (mem, mohurd) = (
            token(&s, authority("mem")).await,
            token(&s, authority("mohurd")).await,
        );
        // Issuing: a mem certificate is numbered by the holder's ID number, typed; a
        // construction certificate's number is typed.
        let id = hutong_core::ResidentId::synthesize(
            440305,
            chrono::NaiveDate::from_ymd_opt(1988, 3, 4).unwrap(),
            77,
        );
        let a = post_json(
            &s,
            "/api/v1/certificates",
            Some(&mem),
            &json!({"kind": "mem.electrical.low-voltage", "holder_name": "王五",
                    "holder_id": full_width(id.as_str()), "issuer": "mem.44"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        no_id_number(&a);
        let number = format!("T{}", id.as_str());
        let stored = s.store.certificates_by_number(&number).await.unwrap();
        assert_eq!(stored.len(), 1, "stored under its plain number");
        assert_eq!(
            stored[0].holder_key,
            super::secret().key_for(&id),
            "the holder's key is the plain ID number's"
        );
        let a = post_json(
            &s,
            "/api/v1/certificates",
            Some(&mohurd),
            &json!({"number": full_width("粤A012025000123"),
                    "kind": "mohurd.construction.electrician", "holder_name": "王五",
                    "holder_id": spaced(id.as_str()), "issuer": "mohurd.44",
                    "issued_on": "2025-03-01", "valid_until": "2027-03-01"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        assert_eq!(
            s.store
                .certificates_by_number("粤A012025000123")
                .await
                .unwrap()
                .len(),
            1,
            "{}",
            a.body
        );

        // A change and a history, naming the certificate by its number typed.
        for (i, typed) in typings(&f.valid.number).into_iter().enumerate() {
            let change = if i == 0 { "suspend" } else { "reinstate" };
            let a = post_json(
                &s,
                "/api/v1/certificates/changes",
                Some(&mem),
                &json!({"number": typed, "kind": f.valid.kind, "change": change}),
            )
            .await;
            assert_eq!(a.status, StatusCode::OK, "{change} {typed:?}: {}", a.body);
            no_id_number(&a);
        }
        let history =
            |number: &str| json!({"number": number, "kind": f.valid.kind, "name": f.valid.name});
        let plain = post_json(
            &s,
            "/api/v1/certificates/history",
            None,
            &history(&f.valid.number),
        )
        .await;
        assert!(plain.body.contains("reinstated"), "{}", plain.body);
        for typed in typings(&f.valid.number) {
            let a = post_json(&s, "/api/v1/certificates/history", None, &history(&typed)).await;
            same(&plain, &a, &typed);
        }

        // A batch row with both typed.
        let row_id = hutong_core::ResidentId::synthesize(
            440305,
            chrono::NaiveDate::from_ymd_opt(1988, 3, 4).unwrap(),
            78,
        );
        let csv = format!(
            "number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status\n\"{}\",mem.electrical.low-voltage,王六,\"{}\",,,mem.44,2025-03-01,,valid\n",
            spaced(&format!("T{}", row_id.as_str())),
            full_width(row_id.as_str()),
        );
        let a = send(
            &s,
            Request::post("/api/v1/certificates/batch")
                .header("content-type", "text/csv")
                .header("authorization", format!("Bearer {mem}"))
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
        assert!(a.status.is_success(), "{}", a.body);
        no_id_number(&a);
        assert_eq!(
            s.store
                .certificates_by_number(&format!("T{}", row_id.as_str()))
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

/// An ID number typed in full-width digits, or with spaces, into a field that an error quotes
/// (an unknown field's name) is masked like a plain one.
#[tokio::test]
async fn r12_3_an_id_number_typed_so_is_masked_where_an_error_quotes_it() {
    for (s, _keep) in states("regression_input::masked").await {
        let f = fixture::fill(&s).await;
        for typed in typings(&f.valid.id) {
            let mut body = json!({"number": f.valid.number, "name": f.valid.name});
            body[typed.trim()] = json!(1);
            let a = post_json(&s, "/api/v1/verify", None, &body).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
            no_id_number(&a);
        }
    }
}

/// The forms take an ID number as typed: long enough for one with spaces inside, and a keyboard
/// with letters (an ID number may end in X).
#[tokio::test]
async fn r12_3_the_forms_take_an_id_number_with_spaces_and_an_x() {
    for (s, _keep) in states("regression_input::forms").await {
        let typed = "110101 19660101 004X".chars().count();
        for (page, input) in [("/verify", "id=\"hid\""), ("/advice", "id=\"aid\"")] {
            let a = get(&s, page).await;
            let at = a
                .body
                .find(input)
                .unwrap_or_else(|| panic!("{page}: {}", a.body));
            let tag = &a.body[a.body[..at].rfind('<').unwrap()..];
            let tag = &tag[..tag.find('>').unwrap()];
            let max: usize = tag
                .split("maxlength=\"")
                .nth(1)
                .and_then(|m| m.split('"').next())
                .and_then(|m| m.parse().ok())
                .unwrap_or(usize::MAX);
            assert!(max >= typed, "{page}: {tag}");
            assert!(!tag.contains("inputmode=\"numeric\""), "{page}: {tag}");
        }
    }
}
