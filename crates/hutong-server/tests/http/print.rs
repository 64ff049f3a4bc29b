//! The printable certificate: the holder proves who they are with the form and gets one A4
//! page in Chinese and English whose QR code is the signed credential (`HTVC1:` barcode); the
//! code decodes, verifies offline, and a changed character fails; a wrong name or ID number
//! reads as an unknown number; bad input is the form again, naming the field; no ID number on
//! the page or in the code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use hutong_core::Certificate;
use hutong_credential::barcode;
use hutong_credential::keyring::{Keyring, verify_certificate_credential};
use hutong_server::{AppState, Settings};
use hutong_store::InsertMode;

use crate::fixture::{self, Sample, enc};
use crate::{Answer, assert_no_id_number, send, states_with};

const PRINT: &str = "/certificates/print";

async fn post_form(s: &AppState, path: &str, form: &str) -> Answer {
    send(
        s,
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap(),
    )
    .await
}

async fn get(s: &AppState, path: &str) -> Answer {
    send(s, Request::get(path).body(Body::empty()).unwrap()).await
}

fn form_of(s: &Sample) -> String {
    format!(
        "number={}&kind={}&id_number={}&name={}",
        enc(&s.number),
        enc(s.kind),
        enc(&s.id),
        enc(s.name)
    )
}

/// A fresh service (over each backend) with the fixture, a public address and a signing key
/// for every issuer of the fixture.
pub async fn with_keys(test: &str) -> Vec<(AppState, crate::Keep, fixture::Fixture)> {
    let settings = Settings {
        public_url: Some("https://hutong.example".into()),
        ..Settings::default()
    };
    let mut out = Vec::new();
    for (s, keep) in states_with(settings, test).await {
        let f = fixture::fill(&s).await;
        for id in ["mem.44", "mohurd.44", "samr.44", "inst.s0000-44-000123"] {
            let issuer = s.store.issuer(id).await.unwrap().unwrap();
            s.signer
                .create_key(&*s.store, &issuer, false, "test")
                .await
                .unwrap();
        }
        out.push((s, keep, f));
    }
    out
}

/// The text of the QR code on a printable page.
fn barcode_text(page: &str) -> String {
    let start = page
        .find("data-barcode=\"")
        .unwrap_or_else(|| panic!("no barcode: {page}"))
        + "data-barcode=\"".len();
    let len = page[start..].find('"').unwrap();
    page[start..start + len].to_string()
}

async fn keyring(s: &AppState) -> Keyring {
    let keys = get(s, "/api/v1/keys").await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    Keyring::open(&serde_json::from_str(&keys.body).unwrap(), None).unwrap()
}

#[tokio::test]
async fn the_holder_gets_one_a4_page_whose_qr_code_is_the_signed_credential() {
    for (s, _keep, f) in with_keys("print holder").await {
        let ring = keyring(&s).await;
        let today = hutong_core::date::today_in_china().to_string();
        for (sample, status) in [
            (&f.valid, "valid"),
            (&f.review_due, "review-due"),
            (&f.suspended, "suspended"),
            (&f.revoked, "revoked"),
        ] {
            let masked = hutong_core::number::mask_id_numbers(&sample.number);
            let a = post_form(&s, PRINT, &form_of(sample)).await;
            assert_eq!(a.status, StatusCode::OK, "{}: {}", sample.kind, a.body);
            assert!(a.ctype.starts_with("text/html"), "{}", a.ctype);
            assert_eq!(a.headers["cache-control"], "no-store");
            assert_eq!(a.headers["referrer-policy"], "no-referrer");
            let page = &a.body;
            assert!(page.contains("@page{size:A4;"), "{page}");
            assert!(
                page.contains(&format!("data-status=\"{status}\"")),
                "{page}"
            );
            assert!(page.contains("扫码可离线核验"), "{page}");
            assert!(page.contains("scan to verify offline with"), "{page}");
            assert!(
                page.contains(&format!("<dd id=\"printed\">{today}</dd>")),
                "{page}"
            );
            // The number as the result page shows it: masked where it is an ID number.
            assert!(
                page.contains(&format!("<code id=\"number\">{masked}</code>")),
                "{masked}: {page}"
            );
            // Chinese with English beside it.
            let policy = s.policy();
            let kind = policy.kind(sample.kind).unwrap();
            assert!(page.contains(&kind.title_zh) && page.contains(&kind.title_en));
            assert!(page.contains("发证部门") && page.contains("Department"));

            // The code is the signed credential: it decodes, holds no ID number and verifies
            // offline against the public keys file.
            let text = barcode_text(page);
            assert!(text.starts_with(barcode::PREFIX), "{text}");
            let credential = barcode::decode(&text).unwrap();
            assert_no_id_number("the decoded QR code", &credential.to_string());
            assert_eq!(credential["credentialSubject"]["name"], sample.name);
            let report = verify_certificate_credential(&credential, &ring, &[], chrono::Utc::now());
            assert!(report.verified(), "{}: {report:#?}", sample.kind);
            // And the SVG on the page is the QR code of that text.
            let svg =
                hutong_server::pages::lookup::qr_svg(&text, hutong_server::pages::print::QR_LABEL)
                    .unwrap();
            assert!(
                page.contains(&svg),
                "the SVG is not the QR code of the text"
            );
        }
        // A skill level certificate names its evaluation institution and its occupation.
        let a = post_form(&s, PRINT, &form_of(&f.suspended)).await;
        assert!(a.body.contains("评价机构") && a.body.contains("Evaluation institution"));
        assert!(a.body.contains("6-31-01-03"), "{}", a.body);
        // No e-licence identifier without the issuer's credit code.
        assert!(!a.body.contains("电子证照标识"), "{}", a.body);
    }
}

#[tokio::test]
async fn the_page_carries_the_national_e_licence_identifier_where_the_credential_has_one() {
    for (s, _keep, f) in with_keys("print elicence").await {
        // An issuer with a unified social credit code, and a construction certificate of a kind
        // whose licence type code the policy confirms.
        let issuers: toml::Table = toml::from_str(
            r#"
            [[issuer]]
            id = "mohurd.43"
            name_zh = "湖南省住房和城乡建设厅"
            department = "mohurd"
            role = "authority"
            region = "43"
            kinds = ["mohurd.construction.electrician"]
            registered_on = 2008-01-01
            credit_code = "11430000006122244L"
            "#,
        )
        .unwrap();
        let issuers: Vec<hutong_core::Issuer> = issuers["issuer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.clone().try_into().unwrap())
            .collect();
        hutong_store::write::register_issuers(&*s.store, &issuers, "test")
            .await
            .unwrap();
        s.refresh_issuers().await.unwrap();
        s.signer
            .create_key(&*s.store, &issuers[0], false, "test")
            .await
            .unwrap();
        let secret = crate::secret();
        let id = hutong_core::ResidentId::parse(&f.review_due.id).unwrap();
        let issued = hutong_core::date::today_in_china() - chrono::Days::new(30);
        let number = format!("湘A01{}000007", chrono::Datelike::year(&issued));
        let cert = Certificate {
            number: number.clone(),
            kind: "mohurd.construction.electrician".into(),
            holder_key: secret.key_for(&id),
            holder_name: "李四".into(),
            occupation: None,
            level: None,
            issuer: "mohurd.43".into(),
            issued_on: issued,
            first_issued_on: issued,
            valid_until: Some(hutong_core::date::Period::Years(2).after(issued)),
            last_review_on: None,
            state: hutong_core::AdminState::Active,
        };
        hutong_store::write::issue(&*s.store, &[cert], "test", InsertMode::AllOrNothing)
            .await
            .unwrap();
        let sample = Sample {
            number,
            kind: "mohurd.construction.electrician",
            name: "李四",
            id: f.review_due.id.clone(),
        };
        let a = post_form(&s, PRINT, &form_of(&sample)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let credential = barcode::decode(&barcode_text(&a.body)).unwrap();
        let e_licence = credential["credentialSubject"]["certificate"]["eLicenceId"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(e_licence.starts_with("1.2.156.3005.2."), "{e_licence}");
        assert!(
            a.body
                .contains(&format!("<code id=\"elicence\">{e_licence}</code>")),
            "{}",
            a.body
        );
        assert!(a.body.contains("电子证照标识") && a.body.contains("National e-licence ID"));
        // The result page and the API show the same identifier as the credential.
        let page = post_form(
            &s,
            "/verify/result",
            &format!("number={}&name={}", enc(&sample.number), enc(sample.name)),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(&format!(
                "<code class=\"elicence\" id=\"elicence\">{e_licence}</code>"
            )),
            "{}",
            page.body
        );
        let api = send(
            &s,
            Request::get(format!(
                "/api/v1/verify?number={}&name={}",
                enc(&sample.number),
                enc(sample.name)
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(
            v["certificates"][0]["certificate"]["e_licence_id"],
            e_licence.as_str()
        );
        // Verified by the identifier in place of the number: the same certificate.
        let by_id = |number: String, name: &'static str| {
            let s = s.clone();
            async move {
                send(
                    &s,
                    Request::get(format!(
                        "/api/v1/verify?number={}&name={}",
                        enc(&number),
                        enc(name)
                    ))
                    .body(Body::empty())
                    .unwrap(),
                )
                .await
            }
        };
        let a = by_id(e_licence.clone(), sample.name).await;
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["found"], true, "{}", a.body);
        assert_eq!(v["certificates"][0]["certificate"]["number"], sample.number);
        // A wrong name reads as an unknown number, byte for byte.
        let wrong = by_id(e_licence.clone(), "王五").await;
        let unknown = by_id("湘A012024999999".into(), "王五").await;
        assert_eq!(wrong.body, unknown.body);
        // An identifier of this form naming no certificate here: not found.
        let parsed = hutong_core::elicence::ELicenceId::parse(&e_licence).unwrap();
        let elsewhere = hutong_core::elicence::ELicenceId::new(
            parsed.type_code().clone(),
            parsed.authority().clone(),
            "987654321",
            1,
        )
        .unwrap()
        .to_string();
        let a = by_id(elsewhere, sample.name).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("\"found\":false"), "{}", a.body);
        // A wrong check character is named.
        let mut bad = e_licence.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == 'A' { 'B' } else { 'A' });
        let a = by_id(bad, sample.name).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        assert!(
            a.body.contains("e-licence") && a.body.contains("check"),
            "{}",
            a.body
        );
        // Kinds without a licence type code have none.
        let api = send(
            &s,
            Request::get(format!(
                "/api/v1/verify?number={}&name={}",
                enc(&f.suspended.number),
                enc(f.suspended.name)
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
        assert!(!api.body.contains("e_licence_id"), "{}", api.body);
    }
}

#[tokio::test]
async fn a_wrong_name_or_id_number_reads_as_an_unknown_number() {
    for (s, _keep, f) in with_keys("print refusals").await {
        let wrong_name = Sample {
            name: "李四",
            ..f.valid.clone()
        };
        let wrong_id = Sample {
            id: f.suspended.id.clone(),
            ..f.valid.clone()
        };
        let unknown = Sample {
            number: "T440101199001010000".into(),
            ..f.valid.clone()
        };
        // A skill level number does not contain the ID number: the signer's check refuses it.
        let wrong_id_skill = Sample {
            id: f.valid.id.clone(),
            ..f.suspended.clone()
        };
        let unknown_skill = Sample {
            number: "S00004400012399400000".into(),
            id: f.valid.id.clone(),
            ..f.suspended.clone()
        };
        let mut answers = Vec::new();
        for sample in [
            &wrong_name,
            &wrong_id,
            &unknown,
            &wrong_id_skill,
            &unknown_skill,
        ] {
            let a = post_form(&s, PRINT, &form_of(sample)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
            assert!(!a.body.contains("data-barcode"), "{}", a.body);
            answers.push(a.body);
        }
        for (i, other) in answers.iter().enumerate() {
            assert_eq!(&answers[0], other, "answer {i} differs from a wrong name's");
        }
        assert!(answers[0].contains("没有与该证书编号"), "{}", answers[0]);
        let en = post_form(&s, &format!("{PRINT}?lang=en"), &form_of(&wrong_name)).await;
        assert_eq!(en.status, StatusCode::NOT_FOUND);
        assert!(en.body.contains("No certificate matches"), "{}", en.body);
        // What was typed is not echoed back.
        assert!(!answers[0].contains("张小明") && !answers[0].contains("李四"));
    }
}

#[tokio::test]
async fn bad_input_is_the_form_again_naming_the_field_in_the_page_language() {
    for (s, _keep, f) in with_keys("print input").await {
        let v = &f.valid;
        let cases: Vec<(String, &str, &str)> = vec![
            (
                format!(
                    "number={}&kind={}&name={}",
                    enc(&v.number),
                    v.kind,
                    enc(v.name)
                ),
                "公民身份号码：请填写",
                "id_number (resident ID number): required",
            ),
            (
                format!(
                    "number={}&kind={}&id_number=123&name={}",
                    enc(&v.number),
                    v.kind,
                    enc(v.name)
                ),
                "公民身份号码：应为 18 位，输入的是 3 位",
                "id_number (resident ID number): a resident ID number has 18 characters",
            ),
            (
                format!(
                    "number={}&kind=no.such.kind&id_number={}&name={}",
                    enc(&v.number),
                    v.id,
                    enc(v.name)
                ),
                "证书种类：不是已知的证书种类",
                "kind: not a certificate kind",
            ),
            (
                format!("number=&kind={}&id_number={}&name=", v.kind, v.id),
                "证书编号：请填写",
                "number: required",
            ),
            (
                format!(
                    "number={}&kind={}&id_number={}&name=",
                    enc(&v.number),
                    v.kind,
                    v.id
                ),
                "持证人姓名：请填写",
                "name: required",
            ),
            (String::new(), "证书种类：请选择", "kind: required"),
            // Not a form the extractor can read: a field twice.
            (
                format!("{}&number=X", form_of(v)),
                "表单无法读取",
                "The form cannot be read",
            ),
        ];
        for (form, zh, en) in &cases {
            let a = post_form(&s, PRINT, form).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form}: {}", a.body);
            assert!(a.ctype.starts_with("text/html"), "{}", a.ctype);
            assert!(a.body.contains(zh), "{form}: {}", a.body);
            assert!(a.body.contains("id=\"problem\""), "{}", a.body);
            assert_eq!(a.headers["cache-control"], "no-store");
            let a = post_form(&s, &format!("{PRINT}?lang=en"), form).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form}: {}", a.body);
            assert!(a.body.contains(en), "{form}: {}", a.body);
        }
        // Another content type is not a 500 either.
        let a = send(
            &s,
            Request::post(PRINT)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
        assert!(a.body.contains("表单无法读取"), "{}", a.body);
    }
}

#[tokio::test]
async fn an_issuer_without_a_key_is_said_so_on_the_form() {
    let settings = Settings::default();
    for (s, _keep) in states_with(settings, "print no key").await {
        let f = fixture::fill(&s).await;
        let a = post_form(&s, PRINT, &form_of(&f.valid)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert!(a.body.contains("尚未启用签名密钥"), "{}", a.body);
        // And the wrong name still reads as not found, not as "no key".
        let wrong = Sample {
            name: "李四",
            ..f.valid.clone()
        };
        let a = post_form(&s, PRINT, &form_of(&wrong)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    }
}

#[tokio::test]
async fn the_form_lists_the_kinds_and_takes_the_id_number_as_a_password() {
    for (s, _keep, _f) in with_keys("print form").await {
        let a = get(&s, PRINT).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers["cache-control"], "no-store");
        assert!(
            a.body
                .contains("<form class=\"card\" method=\"post\" action=\"/certificates/print\">"),
            "{}",
            a.body
        );
        assert!(
            a.body
                .contains("<input id=\"id_number\" type=\"password\" name=\"id_number\""),
            "{}",
            a.body
        );
        let policy = s.policy();
        for k in policy.kinds.values() {
            assert!(
                a.body.contains(&format!("<option value=\"{}\">", k.id)),
                "{}",
                k.id
            );
        }
        let en = get(&s, &format!("{PRINT}?lang=en")).await;
        assert!(en.body.contains("action=\"/certificates/print?lang=en\""));
        assert!(en.body.contains("Resident ID number"));
    }
}

/// Every character of the printed code matters: changed, the code is refused, or decodes to
/// a credential that fails verification, or (when the change only flips the unused bits that
/// pad the deflate stream's last byte) to the very same signed credential.
#[tokio::test]
async fn a_changed_character_of_the_code_fails_verification() {
    let (s, _keep, f) = with_keys("print changed").await.remove(0);
    let ring = keyring(&s).await;
    let a = post_form(&s, PRINT, &form_of(&f.suspended)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let text = barcode_text(&a.body);
    let original: Value = barcode::decode(&text).unwrap();
    let now = chrono::Utc::now();
    let table = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let (mut refused, mut failed, mut same) = (0, 0, 0);
    for pos in 0..text.len() {
        let mut bytes = text.clone().into_bytes();
        let i = table.iter().position(|&c| c == bytes[pos]).unwrap();
        bytes[pos] = table[(i + 1 + pos % 44) % 45];
        let changed = String::from_utf8(bytes).unwrap();
        match barcode::decode(&changed) {
            Err(_) => refused += 1,
            Ok(doc) if doc == original => same += 1,
            Ok(doc) => {
                let r = verify_certificate_credential(&doc, &ring, &[], now);
                assert!(!r.verified(), "position {pos} verified: {changed}");
                failed += 1;
            }
        }
    }
    // Zlib's Adler-32 refuses nearly every change before the signature is reached.
    assert!(refused > text.len() * 9 / 10, "{refused} {failed} {same}");
    assert!(same <= 2, "{refused} {failed} {same}");

    // A forger who changes a character of the credential and makes a new, well-formed code of
    // it is caught by the signature.
    assert!(verify_certificate_credential(&original, &ring, &[], now).verified());
    for (pointer, from, to) in [
        ("/credentialSubject/name", "欧阳娜娜", "欧阳娜妮"),
        ("/validFrom", "T00", "T01"),
        ("/credentialSubject/certificate/level/code", "4", "3"),
    ] {
        let mut forged = original.clone();
        let field = forged.pointer_mut(pointer).unwrap();
        let changed = field.as_str().unwrap().replacen(from, to, 1);
        assert_ne!(field.as_str().unwrap(), changed, "{pointer}");
        *field = changed.into();
        let code = barcode::encode(&forged).unwrap();
        let decoded = barcode::decode(&code).unwrap();
        assert_eq!(decoded, forged);
        let r = verify_certificate_credential(&decoded, &ring, &[], now);
        assert!(!r.verified(), "{pointer}: {r:#?}");
        let signature = r.checks.iter().find(|c| c.check == "signature").unwrap();
        assert_eq!(signature.outcome, "fail", "{pointer}: {r:#?}");
    }
}

/// The holder proof shared with the credential endpoint checks the input before it looks the
/// number up: a malformed ID number is the same 400 whether the number exists or not, so the
/// answer tells nothing about the number.
#[tokio::test]
async fn a_malformed_id_number_answers_the_same_for_a_known_and_an_unknown_number() {
    for (s, _keep, f) in with_keys("print id oracle").await {
        let known = f.valid.number.clone();
        let unknown = "T440101199001010000".to_string();
        let mut api = Vec::new();
        let mut page = Vec::new();
        for number in [&known, &unknown] {
            let body = serde_json::json!({
                "number": number, "kind": f.valid.kind, "id_number": "12345", "name": f.valid.name,
            });
            let a = send(
                &s,
                Request::post("/api/v1/certificates/credential")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
            api.push(a.body);
            let form = format!(
                "number={}&kind={}&id_number=12345&name={}",
                enc(number),
                f.valid.kind,
                enc(f.valid.name)
            );
            let a = post_form(&s, PRINT, &form).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
            page.push(a.body);
        }
        assert_eq!(api[0], api[1]);
        assert_eq!(page[0], page[1]);
    }
}

/// The printout's box showed the day's status in its colour: a valid certificate whose issuer
/// check fails printed a green 有效 over the failed check. It shows the verdict first now.
#[tokio::test]
async fn r12_1_a_printout_never_shows_green_over_a_failed_check() {
    for (s, _keep, f) in with_keys("print verdict").await {
        let a = post_form(&s, PRINT, &form_of(&f.review_due)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.contains("data-verdict=\"attention\""), "{}", a.body);
        // The issuer registered only from today, after the certificate was issued.
        let today = hutong_core::date::today_in_china();
        let mut issuer = s.store.issuer("mohurd.44").await.unwrap().unwrap();
        issuer.registered_on = today;
        for g in &mut issuer.grants {
            g.valid_from = today;
        }
        hutong_store::write::register_issuers(&*s.store, &[issuer], "test")
            .await
            .unwrap();
        s.refresh_issuers().await.unwrap();
        let a = post_form(&s, PRINT, &form_of(&f.review_due)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(
            a.body.contains("class=\"status not-verified\""),
            "{}",
            a.body
        );
        assert!(a.body.contains("核验未通过") && a.body.contains("Not verified"));
        assert!(a.body.contains("今日状态："), "the status comes second");
    }
}
