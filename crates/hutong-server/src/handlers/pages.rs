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
use crate::views::LookupAnswer;

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

/// The result of a verification by number and name (or ID number): `POST /verify/result`
/// from the query page, so that neither sits in an address; `GET /verify/result?number=…`
/// still answers, for addresses made before. Either way the page carries no QR code and its
/// language switch no query: a result is shared by a share code (`/s/{code}`), minted by the
/// holder.
pub async fn verify_result(
    State(state): State<AppState>,
    lang: Lang,
    params: Result<Query<VerifyParams>, QueryRejection>,
) -> Response {
    let params = params.map_err(|e| ApiError::rejected(e.status(), e.body_text()));
    verify_page(&state, lang, params.map(|Query(p)| p)).await
}

/// `POST /verify/result`: the query page's form.
pub async fn verify_result_post(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<VerifyParams>, FormRejection>,
) -> Response {
    let params = form.map_err(|e| ApiError::rejected(e.status(), e.body_text()));
    verify_page(&state, lang, params.map(|Form(p)| p)).await
}

async fn verify_page(
    state: &AppState,
    lang: Lang,
    params: Result<VerifyParams, ApiError>,
) -> Response {
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let mut params = match params {
        Ok(p) => p,
        Err(e) => return invalid(state, lang, e).await,
    };
    let named = match lookup::resolve_e_licence(state, &policy, &mut params).await {
        Ok(named) => named,
        Err(e) => return invalid(state, lang, e).await,
    };
    // An e-licence identifier that names no certificate here is "not found", as an unknown
    // number is.
    let found = if named {
        let q = match params.check(&policy) {
            Ok(q) => q,
            Err(e) => return invalid(state, lang, e).await,
        };
        match lookup::find_by_number(state, &policy, &q, today).await {
            Ok(f) => f,
            Err(e) => return e.into_response(),
        }
    } else {
        Vec::new()
    };
    let answer = LookupAnswer::new(&policy, today, &found);
    let histories = match histories(state, &found).await {
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
            &pages::lookup::Extras::default(),
            &histories,
        ),
    )
}

/// The result of a one-stop query, posted from the query page so that the ID number is never
/// part of an address. Below the certificates, the holder may mint share codes.
pub async fn holder_result(
    State(state): State<AppState>,
    lang: Lang,
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
    let answer = LookupAnswer::new(&policy, today, &found);
    let histories = match histories(&state, &found).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let bottom = if found.is_empty() {
        None
    } else {
        match crate::handlers::share::holder_section(&state, lang, &q.holder, &found).await {
            Ok(m) => Some(m),
            Err(e) => return e.into_response(),
        }
    };
    private_html(
        StatusCode::OK,
        pages::lookup::result_page(
            lang,
            state.settings.demo,
            "/verify",
            &answer,
            &pages::lookup::Extras { top: None, bottom },
            &histories,
        ),
    )
}

/// The public history of each certificate found, in the same order.
pub(crate) async fn histories(
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

/// The public origin of the service, for addresses in QR codes: `public_url` when set, else
/// the request's `Host` (when it is a plain host name) over http.
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    match &state.settings.public_url {
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
    }
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
