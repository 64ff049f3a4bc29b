//! The public pages: the query page and the lookups' results, the directory, the issuers.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use hutong_core::Status;

use hutong_core::verify::{HolderQuery, VerifyQuery, describe_errors, describe_errors_zh};

use crate::error::ApiError;
use crate::handlers::lookup::{self, HolderParams, VerifyParams};
use crate::pages::lookup::{FormProblem, Searched, Typed, Which};
use crate::pages::{self, Lang};
use crate::state::AppState;
use crate::views::LookupAnswer;

/// The query page; a demo installation offers sample certificates with their status today.
pub async fn query(State(state): State<AppState>, lang: Lang) -> Markup {
    let samples = demo_samples(&state).await;
    pages::lookup::query_page(
        lang,
        state.settings.demo,
        &samples,
        state.settings.demo_holder.as_ref(),
        None,
        &pages::lookup::Typed::default(),
    )
}

/// `GET /holder/result`: the result is only ever posted (the ID number stays out of
/// addresses), so a reload, a bookmark or a typed address goes back to the query page.
pub async fn holder_result_get(lang: Lang) -> Response {
    back_to(lang, "/verify")
}

/// `GET /advice/result`: posted only, like the one-stop query; back to the advice form.
pub async fn advice_result_get(lang: Lang) -> Response {
    back_to(lang, "/advice")
}

/// A `303 See Other` to a page, in the language asked for.
fn back_to(lang: Lang, path: &str) -> Response {
    axum::response::Redirect::to(&lang.link(path)).into_response()
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
        Err(e) => {
            return invalid(state, lang, unreadable(e, Which::Number), Typed::default()).await;
        }
    };
    let typed = Typed::number_form(params.number.as_deref(), params.name.as_deref());
    let searched = Searched::number(
        params.number.as_deref().unwrap_or(""),
        params.name.as_deref(),
    );
    let named = match lookup::resolve_e_licence(state, &policy, &mut params).await {
        Ok(named) => named,
        Err(e) => {
            let problem = Problem {
                which: Which::Number,
                zh: "电子证照标识有误。电子证照标识的格式为 1.2.156.3005.2.<证照类型代码>.<颁发机构代码>.<流水号>.<版本号>.<校验位>，请按证书上印的标识逐位核对。".to_string(),
                en: e.detail,
            };
            return invalid(state, lang, Ok(problem), typed).await;
        }
    };
    // An e-licence identifier that names no certificate here is "not found", as an unknown
    // number is.
    let found = if named {
        let q = match VerifyQuery::parse(
            &policy,
            params.number.as_deref(),
            params.name.as_deref(),
            params.id.as_deref(),
            params.kind.as_deref(),
        ) {
            Ok(q) => q,
            Err(errs) => {
                return invalid(state, lang, Ok(Problem::of(Which::Number, &errs)), typed).await;
            }
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
            &pages::lookup::Extras {
                searched: Some(searched),
                ..Default::default()
            },
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
    let params = match form {
        Ok(Form(p)) => p,
        Err(e) => {
            let e = ApiError::rejected(e.status(), e.body_text());
            return invalid(&state, lang, unreadable(e, Which::Holder), Typed::default()).await;
        }
    };
    let typed = Typed::holder_form(
        params.name.as_deref(),
        params.id.as_deref().is_some_and(|i| !i.trim().is_empty()),
    );
    let q = match HolderQuery::parse(params.id.as_deref(), params.name.as_deref()) {
        Ok(q) => q,
        Err(errs) => {
            return invalid(&state, lang, Ok(Problem::of(Which::Holder, &errs)), typed).await;
        }
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
            &pages::lookup::Extras {
                top: None,
                bottom,
                searched: Some(Searched::holder(&q.holder, &q.name)),
            },
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

/// What is wrong with a form, in both languages, masked like every error text.
struct Problem {
    which: Which,
    zh: String,
    en: String,
}

impl Problem {
    fn of(which: Which, errs: &[hutong_core::verify::QueryError]) -> Problem {
        let mut en = describe_errors(errs);
        if errs.iter().any(|e| e.field == "number") {
            en.push_str(". Note: ");
            en.push_str(hutong_core::verify::VALID_NUMBER_EN);
        }
        Problem {
            which,
            zh: describe_errors_zh(errs),
            en,
        }
    }
}

/// A form the extractor could not read: its own error when it is not bad input (a body over
/// the limit, a wrong content type), else a problem to show on the form.
fn unreadable(e: ApiError, which: Which) -> Result<Problem, ApiError> {
    if e.status != StatusCode::BAD_REQUEST {
        return Err(e);
    }
    Ok(Problem {
        which,
        zh: "表单内容无法读取（某项填写了不止一次，或含有无法识别的字符），请重新填写。".into(),
        en: e.detail,
    })
}

/// Bad input on a page: the query page again, as a 400, with what is wrong in the page's
/// language beside the form it concerns, and the form filled with what was typed (never an ID
/// number).
async fn invalid(
    state: &AppState,
    lang: Lang,
    problem: Result<Problem, ApiError>,
    typed: Typed,
) -> Response {
    let problem = match problem {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let samples = demo_samples(state).await;
    let text = lang.t(&problem.zh, &problem.en);
    let form_problem = FormProblem {
        which: problem.which,
        text: crate::error::mask_id_numbers(text).into_owned(),
    };
    private_html(
        StatusCode::BAD_REQUEST,
        pages::lookup::query_page(
            lang,
            state.settings.demo,
            &samples,
            state.settings.demo_holder.as_ref(),
            Some(&form_problem),
            &typed,
        ),
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

/// The filter of a list page: `?q=…` (a GET form, filtered on the server).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListFilter {
    pub q: Option<String>,
}

fn filter(q: Result<Query<ListFilter>, QueryRejection>) -> Option<String> {
    // A query that cannot be read (`q` twice) filters nothing rather than failing the page.
    q.ok().and_then(|Query(f)| f.q)
}

pub async fn directory(
    State(state): State<AppState>,
    lang: Lang,
    q: Result<Query<ListFilter>, QueryRejection>,
) -> Markup {
    let q = filter(q);
    pages::directory::page(lang, state.settings.demo, &state.policy(), q.as_deref())
}

pub async fn issuers(
    State(state): State<AppState>,
    lang: Lang,
    q: Result<Query<ListFilter>, QueryRejection>,
) -> Markup {
    let q = filter(q);
    let register = state.issuers();
    pages::issuers::page(
        lang,
        state.settings.demo,
        &state.policy(),
        register.all(),
        hutong_core::date::today_in_china(),
        q.as_deref(),
    )
}
