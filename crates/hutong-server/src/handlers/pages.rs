//! The public pages: the query page and the lookups' results, the directory, the issuers.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use hutong_core::Status;

use crate::error::ApiError;
use crate::handlers::lookup::{self, HolderParams, VerifyParams};
use crate::pages::{self, Lang};
use crate::state::AppState;
use crate::views::{LookupAnswer, Verified};

/// The query page; a demo installation offers sample certificates with their status today.
pub async fn query(State(state): State<AppState>, lang: Lang) -> Markup {
    let samples = demo_samples(&state).await;
    pages::lookup::query_page(lang, state.settings.demo, &samples, None)
}

async fn demo_samples(state: &AppState) -> Vec<(crate::state::DemoSample, Option<Status>)> {
    if !state.settings.demo {
        return Vec::new();
    }
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let mut out = Vec::new();
    for s in &state.settings.demo_samples {
        let status = match state.store.certificate(&s.number, &s.kind).await {
            Ok(Some(c)) => policy.status_of(&c, today).map(|r| r.status),
            _ => continue,
        };
        out.push((s.clone(), status));
    }
    out
}

/// The result of a verification: `GET /verify/result?number=…&name=…[&kind=…]`.
pub async fn verify_result(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    params: Result<Query<VerifyParams>, QueryRejection>,
) -> Response {
    let policy = state.policy();
    let q = match params
        .map_err(|e| ApiError::rejected(e.status(), e.body_text()))
        .and_then(|Query(p)| p.check(&policy))
    {
        Ok(q) => q,
        Err(e) => return invalid(&state, lang, e).await,
    };
    let today = hutong_core::date::today_in_china();
    let found = match lookup::find_by_number(&state, &policy, &q, today).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    // A result opened by ID number alone has no address to share: no QR code then.
    let name = q.name.clone().unwrap_or_default();
    let links = if name.is_empty() {
        Vec::new()
    } else {
        qr_links(&state, &headers, &found, &name, lang)
    };
    let answer = LookupAnswer::new(&policy, today, &found);
    let histories = match histories(&state, &found).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    // The language switch keeps the result (the address already carries number and name),
    // unless the number embeds the holder's ID number: page text never shows one.
    let path = match found.as_slice() {
        [one] if !name.is_empty() && !embeds_id(&policy, &one.cert.kind) => {
            pages::lookup::result_link("", &one.cert.number, &name, Some(&one.cert.kind), Lang::Zh)
        }
        _ => "/verify".to_string(),
    };
    private_html(
        StatusCode::OK,
        pages::lookup::result_page(
            lang,
            state.settings.demo,
            &path,
            &answer,
            &links,
            &histories,
        ),
    )
}

/// The result of a one-stop query, posted from the query page so that the ID number is never
/// part of an address.
pub async fn holder_result(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    form: Result<Form<HolderParams>, FormRejection>,
) -> Response {
    let q = match form
        .map_err(|e| ApiError::rejected(e.status(), e.body_text()))
        .and_then(|Form(p)| p.check())
    {
        Ok(q) => q,
        Err(e) => return invalid(&state, lang, e).await,
    };
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let found = match lookup::find_by_holder(&state, &policy, &q, today).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let links = qr_links(&state, &headers, &found, &q.name, lang);
    let answer = LookupAnswer::new(&policy, today, &found);
    let histories = match histories(&state, &found).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    private_html(
        StatusCode::OK,
        pages::lookup::result_page(
            lang,
            state.settings.demo,
            "/verify",
            &answer,
            &links,
            &histories,
        ),
    )
}

/// The public history of each certificate found, in the same order.
async fn histories(
    state: &AppState,
    found: &[crate::views::Verified],
) -> Result<Vec<Vec<crate::views::PublicEntry>>, ApiError> {
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        out.push(
            crate::handlers::write::public_history(state, &f.cert.number, &f.cert.kind).await?,
        );
    }
    Ok(out)
}

fn embeds_id(policy: &hutong_core::Policy, kind: &str) -> bool {
    policy
        .kind(kind)
        .is_none_or(|k| k.number_scheme.embeds_resident_id())
}

/// Bad input on a page: the query page again, with what is wrong, as a 400.
async fn invalid(state: &AppState, lang: Lang, e: ApiError) -> Response {
    if e.status != StatusCode::BAD_REQUEST {
        return e.into_response();
    }
    let samples = demo_samples(state).await;
    let message = format!("{}{}", lang.t("输入有误：", "Please check: "), e.detail);
    private_html(
        StatusCode::BAD_REQUEST,
        pages::lookup::query_page(lang, state.settings.demo, &samples, Some(&message)),
    )
}

/// The verification address of each certificate found, for its QR code.
fn qr_links(
    state: &AppState,
    headers: &HeaderMap,
    found: &[Verified],
    name: &str,
    lang: Lang,
) -> Vec<String> {
    let base = match &state.settings.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
                })
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    found
        .iter()
        .map(|v| pages::lookup::result_link(&base, &v.cert.number, name, Some(&v.cert.kind), lang))
        .collect()
}

/// A page about a person: never cached, and its address (which carries the query) never sent
/// on as a referrer.
pub(crate) fn private_html(status: StatusCode, page: Markup) -> Response {
    let mut resp = (status, page).into_response();
    crate::handlers::mark_private(&mut resp);
    resp
}

pub async fn directory(State(state): State<AppState>, lang: Lang) -> Markup {
    pages::directory::page(lang, state.settings.demo, &state.policy())
}

pub async fn issuers(State(state): State<AppState>, lang: Lang) -> Markup {
    let register = state.issuers();
    pages::issuers::page(
        lang,
        state.settings.demo,
        &state.policy(),
        register.all(),
        hutong_core::date::today_in_china(),
    )
}
