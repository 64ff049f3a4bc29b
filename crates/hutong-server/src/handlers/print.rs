//! The printable certificate for its holder: `GET /certificates/print` is the form,
//! `POST /certificates/print` (an HTML form) the page, once the holder has proved who they are
//! exactly as for the credential itself ([`credential::sign_for`]).
//!
//! Bad input is the form again with a 400 and what is wrong, by field, in the page's language;
//! an unknown number, a wrong ID number and a wrong name are all the same 404 form. Nothing the
//! holder typed is echoed back.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use hutong_core::idcard::{IdCardError, ResidentId};
use hutong_core::number;
use hutong_core::verify::{MAX_NAME_CHARS, MAX_NUMBER_CHARS};

use crate::error::{ApiError, mask_id_numbers};
use crate::handlers::credential::{Requester, sign_for};
use crate::handlers::pages::private_html;
use crate::pages::{self, Lang};
use crate::state::AppState;
use crate::views::{LookupAnswer, Verified};

/// The fields of the form. All optional, so that a missing one is named rather than refused
/// by the extractor.
#[derive(Debug, Default, Deserialize)]
pub struct PrintForm {
    pub number: Option<String>,
    pub kind: Option<String>,
    pub id_number: Option<String>,
    pub name: Option<String>,
}

/// The form, checked.
struct Checked {
    number: String,
    kind: String,
    id: ResidentId,
    name: String,
}

/// The form page.
pub async fn form(State(state): State<AppState>, lang: Lang) -> Response {
    let policy = state.policy();
    private_html(
        StatusCode::OK,
        pages::print::form_page(lang, state.settings.demo, &policy, None),
    )
}

/// The printable page of the certificate, for its holder.
pub async fn print(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<PrintForm>, FormRejection>,
) -> Response {
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => {
            let status = match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let text = mask_id_numbers(&e.body_text()).into_owned();
            let message = format!(
                "{}{text}",
                lang.t("表单无法读取：", "The form cannot be read: ")
            );
            return again(&state, lang, status, &message);
        }
    };
    let policy = state.policy();
    let q = match check(&policy, &f, lang) {
        Ok(q) => q,
        Err(message) => return again(&state, lang, StatusCode::BAD_REQUEST, &message),
    };
    let who = Requester::Holder {
        id: &q.id,
        name: &q.name,
    };
    let signed = match sign_for(&state, &q.number, &q.kind, who).await {
        Ok(s) => s,
        Err(e) => return refused(&state, lang, e),
    };
    let today = hutong_core::date::today_in_china();
    let issuer = match state.issuer(&signed.certificate.issuer).await {
        Ok(i) => i,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let verification =
        hutong_core::verify::verify(&policy, &signed.certificate, issuer.as_deref(), today);
    let e_licence_id = signed
        .exported
        .credential
        .pointer("/credentialSubject/certificate/eLicenceId")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let found = [Verified {
        data_as_of: state.data_as_of(&signed.certificate.issuer),
        cert: signed.certificate,
        issuer,
        verification,
        e_licence_id,
    }];
    let answer = LookupAnswer::new(&policy, today, &found);
    let page = answer.certificates.first().map(|r| {
        pages::print::certificate_page(state.settings.demo, today, r, &signed.exported.credential)
    });
    match page {
        Some(Ok(page)) => private_html(StatusCode::OK, page),
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot make a printable certificate");
            ApiError::internal().into_response()
        }
        None => ApiError::internal().into_response(),
    }
}

/// The form again, with `message`.
fn again(state: &AppState, lang: Lang, status: StatusCode, message: &str) -> Response {
    let policy = state.policy();
    private_html(
        status,
        pages::print::form_page(lang, state.settings.demo, &policy, Some(message)),
    )
}

/// A refusal of the holder proof or of the signing step, as the form again.
fn refused(state: &AppState, lang: Lang, e: ApiError) -> Response {
    let message = match (e.status, e.kind) {
        (StatusCode::NOT_FOUND, _) => lang.t(
            "没有与该证书编号、种类、身份证号和姓名相符的证书。请核对输入。",
            "No certificate matches this number, kind, ID number and name. Check what you typed.",
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, "no-signing-key") => lang.t(
            "该证书的发证机构尚未启用签名密钥，暂时无法生成可离线核验的打印件。",
            "The certificate's issuer has no signing key in force yet, so no printout that verifies offline can be made now.",
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, _) => lang.t(
            "该证书的发证机构不在登记册中，无法生成可离线核验的打印件。",
            "The certificate's issuer is not in the register, so no printout that verifies offline can be made.",
        ),
        _ => return e.into_response(),
    };
    again(state, lang, e.status, message)
}

/// Every field's problem, named, in the page's language; joined.
fn check(policy: &hutong_core::Policy, f: &PrintForm, lang: Lang) -> Result<Checked, String> {
    let mut problems: Vec<String> = Vec::new();
    let mut problem = |zh: String, en: String| problems.push(lang.t(&zh, &en).to_string());
    let field = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();

    let number = number::normalize(&field(&f.number));
    if number.is_empty() {
        problem("证书编号：请填写。".into(), "number: required.".into());
    } else if number.chars().count() > MAX_NUMBER_CHARS {
        problem(
            format!("证书编号：不超过 {MAX_NUMBER_CHARS} 个字符。"),
            format!("number: at most {MAX_NUMBER_CHARS} characters."),
        );
    }
    let kind = field(&f.kind);
    if kind.is_empty() {
        problem("证书种类：请选择。".into(), "kind: required.".into());
    } else if policy.kind(&kind).is_none() {
        problem(
            "证书种类：不是已知的证书种类，请从列表中选择。".into(),
            "kind: not a certificate kind of the policy; choose one from the list.".into(),
        );
    }
    let id_text = number::normalize(&field(&f.id_number));
    let id = if id_text.is_empty() {
        problem(
            "公民身份号码：请填写。".into(),
            "id_number (resident ID number): required.".into(),
        );
        None
    } else {
        match ResidentId::parse(&id_text) {
            Ok(id) => Some(id),
            Err(e) => {
                problem(
                    format!("公民身份号码：{}。", id_error_zh(&e)),
                    format!("id_number (resident ID number): {e}."),
                );
                None
            }
        }
    };
    let name = field(&f.name);
    if name.is_empty() {
        problem("持证人姓名：请填写。".into(), "name: required.".into());
    } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        problem(
            format!("持证人姓名：不超过 {MAX_NAME_CHARS} 个字符，不含控制字符。"),
            format!("name: at most {MAX_NAME_CHARS} characters and no control characters."),
        );
    }
    match id {
        Some(id) if problems.is_empty() => Ok(Checked {
            number,
            kind,
            id,
            name,
        }),
        _ => Err(problems.join(lang.t("", " "))),
    }
}

/// What is wrong with an ID number, in Chinese; like the English messages, it never repeats
/// the number.
fn id_error_zh(e: &IdCardError) -> String {
    match e {
        IdCardError::WrongLength(n) => format!("应为 18 位，输入的是 {n} 位"),
        IdCardError::BadCharacter { position: 18 } => "第 18 位应为数字或 X".into(),
        IdCardError::BadCharacter { position } => format!("第 {position} 位应为数字"),
        IdCardError::BadRegion => "地址码首位应为 1–8".into(),
        IdCardError::BadDate => "出生日期（第 7–14 位）不是有效日期".into(),
        IdCardError::ImplausibleDate => "出生日期晚于今天或早于 1900 年".into(),
        IdCardError::BadChecksum { .. } => "校验码不符，可能有数字输错".into(),
    }
}
