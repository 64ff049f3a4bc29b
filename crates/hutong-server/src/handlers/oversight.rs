//! The regulators' view: `GET /api/v1/oversight` and the page `/oversight`.
//!
//! The figures ([`hutong_core::oversight`]) come from one pass over the registry, the journal's
//! refusals and the exam sessions' reports, made on the first request and again every
//! `oversight_refresh` (10 minutes) while anyone asks; each answer says when they were computed.
//! A regulator sees its province (the national regulator the country, or any province it names);
//! other tokens are refused, and the refusal is journaled.

use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use hutong_core::journal::{Subject, now_micros};
use hutong_core::oversight::{Builder, Figures, Overview, SessionFigures};
use hutong_core::rights::{self, Action};

use crate::error::{ApiError, Problem};
use crate::handlers::write::{Caller, authenticate, authenticate_secret, json_response, refuse};
use crate::pages::{self, Lang};
use crate::state::{AppState, freshness};

/// Rows read from the store at a time.
const PAGE: usize = 10_000;

/// One pass over the registry, the journal's refusals and departments' recognition checks, and
/// the exam sessions' reports.
pub async fn compute(state: &AppState) -> hutong_store::Result<Overview> {
    let policy = state.policy();
    let today = hutong_core::date::today_in_china();
    let register = state.issuers();
    let regions: HashMap<&str, Option<&str>> = register
        .all()
        .iter()
        .map(|i| (i.id.as_str(), i.region.as_deref()))
        .collect();
    let region = |issuer: &str| regions.get(issuer).copied().flatten();
    let mut b = Builder::new(&policy, today, freshness(now_micros()));
    let mut after = 0;
    loop {
        let page = state.store.certificates_page(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, c) in &page {
            b.certificate(c, region(&c.issuer));
        }
    }
    let mut seq = 0;
    loop {
        let page = state.store.entries_of_kind("refused", seq, PAGE).await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for e in &page {
            // A request to issue refused: journaled about the issuer record it named.
            if let Subject::Issuer(id) = &e.subject
                && e.change.contains("\"right\":\"issue\"")
            {
                b.refused(id, region(id));
            }
        }
    }
    let mut seq = 0;
    loop {
        let page = state
            .store
            .entries_of_kind("recognition-checked", seq, PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for e in &page {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.change)
                && let Some(d) = v["department"].as_str()
            {
                b.recognition_check(d, v["region"].as_str());
            }
        }
    }
    #[derive(Deserialize)]
    struct Report {
        session: String,
        date: hutong_core::Day,
        #[serde(default)]
        region: Option<String>,
        candidates: u64,
        passed: u64,
        issued: u64,
    }
    for (_, record) in state.store.answers_of("exam-session").await? {
        if let Some((_, body)) = record.answer
            && let Ok(r) = serde_json::from_str::<Report>(&body)
        {
            b.session(SessionFigures {
                id: r.session,
                date: r.date,
                region: r.region,
                candidates: r.candidates,
                passed: r.passed,
                issued: r.issued,
            });
        }
    }
    Ok(b.finish())
}

/// The query of `GET /api/v1/oversight`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OversightParams {
    /// The province (GB/T 2260 code); by default the token's own, or the whole country for the
    /// national regulator.
    pub region: Option<String>,
}

/// The regulators' figures for one scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct OversightAnswer<'a> {
    /// The day statuses are computed for: today in China.
    #[schema(value_type = String, format = Date)]
    pub as_of: hutong_core::Day,
    /// When the figures were computed (RFC 3339, UTC); they are computed again every 10 minutes.
    pub computed_at: &'a str,
    /// The province; null for the whole country.
    pub region: Option<&'a str>,
    #[schema(value_type = FiguresSchema)]
    pub figures: Figures,
    /// The exam sessions whose results were imported, newest first.
    #[schema(value_type = Vec<SessionFiguresSchema>)]
    pub exam_sessions: Vec<&'a SessionFigures>,
}

/// The figures of one scope (`hutong_core::oversight::Figures`).
#[derive(ToSchema)]
#[schema(as = OversightFigures)]
#[allow(dead_code)]
pub struct FiguresSchema {
    /// Certificates in the registry.
    certificates: u64,
    /// Month (`YYYY-MM`, the last 12) → department → certificates issued.
    issued_by_month: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Kind → certificates.
    by_kind: std::collections::BTreeMap<String, u64>,
    /// The issuer's province (`none` for national issuers) → certificates.
    by_province: std::collections::BTreeMap<String, u64>,
    /// Status today → certificates.
    status: std::collections::BTreeMap<String, u64>,
    /// Certificates in force whose review or last day of validity falls in week 0 to 12 from
    /// today.
    due_by_week: Vec<u64>,
    /// Issuer id → certificates issued and requests to issue refused as outside its rights.
    issuers: std::collections::BTreeMap<String, IssuerFiguresSchema>,
    /// Checking department → recognition checks made with its tokens.
    recognition_checks: std::collections::BTreeMap<String, u64>,
}

#[derive(ToSchema)]
#[schema(as = OversightIssuer)]
#[allow(dead_code)]
pub struct IssuerFiguresSchema {
    issued: u64,
    refused: u64,
}

/// An exam session's outcome.
#[derive(ToSchema)]
#[schema(as = OversightSession)]
#[allow(dead_code)]
pub struct SessionFiguresSchema {
    id: String,
    #[schema(format = Date)]
    date: String,
    region: Option<String>,
    candidates: u64,
    /// Candidates who passed at least one output.
    passed: u64,
    issued: u64,
}

/// The scope a caller asks for, if its rights allow it; a refusal is journaled.
async fn scope(
    state: &AppState,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let policy = state.policy();
    let asked = asked.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = asked
        && policy.region(r).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "region: \"{r}\" is not a province code of the policy"
        )));
    }
    let own = match &caller.actor {
        rights::Actor::Regulator { region, .. } => region.as_deref(),
        _ => None,
    };
    let region = asked.or(own);
    if let Err(f) = rights::authorize(&caller.actor, &Action::ReadOversight { region }, &policy) {
        return Err(refuse(state, caller, Subject::Nothing, f).await);
    }
    Ok(region.map(str::to_string))
}

async fn overview(state: &AppState) -> Result<std::sync::Arc<Overview>, ApiError> {
    match state.oversight() {
        Some(o) => Ok(o),
        None => Ok(state.refresh_oversight().await?),
    }
}

/// The regulators' figures within the token's region: issuing per month by department, kind
/// and province, the status mix today, reviews falling due, issuers by volume with the issuing
/// refused as outside their rights, and exam sessions with their pass rates.
#[utoipa::path(
    get,
    path = "/api/v1/oversight",
    tag = "writes",
    security(("bearer" = [])),
    params(OversightParams),
    responses(
        (status = 200, description = "The figures, and when they were computed", body = OversightAnswer),
        (status = 400, description = "A parameter is malformed; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator's token, or a province outside its region; the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<OversightParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let Query(p) = params.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    let region = scope(&state, &caller, p.region.as_deref()).await?;
    let o = overview(&state).await?;
    let answer = OversightAnswer {
        as_of: o.as_of,
        computed_at: &o.computed_at,
        region: region.as_deref(),
        figures: o.figures(region.as_deref()),
        exam_sessions: o.sessions(region.as_deref()),
    };
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_string(&answer).map_err(|_| ApiError::internal())?,
    ))
}

/// The page's form: the token, typed in (never in the address), and a province.
#[derive(Debug, Default, Deserialize)]
pub struct OversightForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub region: String,
}

/// `GET /oversight`: the form.
pub async fn page(State(state): State<AppState>, lang: Lang) -> Markup {
    pages::oversight::form(lang, state.settings.demo, None)
}

/// `POST /oversight`: the figures, for the token typed into the form.
pub async fn page_post(
    State(state): State<AppState>,
    lang: Lang,
    form: Result<Form<OversightForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let demo = state.settings.demo;
    let Ok(Form(f)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            pages::oversight::form(
                lang,
                demo,
                Some(lang.t("表单无法读取。", "The form could not be read.")),
            ),
        )
            .into_response();
    };
    let shown = async {
        let caller = authenticate_secret(&state, &f.token).await?;
        let region = scope(&state, &caller, Some(&f.region)).await?;
        let o = overview(&state).await?;
        Ok::<_, ApiError>((region, o))
    };
    match shown.await {
        Ok((region, o)) => {
            pages::oversight::page(lang, demo, &state.policy(), &o, region.as_deref())
                .into_response()
        }
        Err(e) => {
            let status = e.status;
            let why = match status {
                StatusCode::UNAUTHORIZED => lang.t(
                    "令牌无效、已过期或已撤销。",
                    "The token is not valid, has expired or was revoked.",
                ),
                StatusCode::FORBIDDEN => lang.t(
                    "该令牌无权查看所选范围的监管统计。",
                    "This token may not see the figures of that scope.",
                ),
                StatusCode::BAD_REQUEST => lang.t("所选省份无效。", "The province is not valid."),
                _ => lang.t("暂时无法计算统计。", "The figures cannot be computed now."),
            };
            (status, pages::oversight::form(lang, demo, Some(why))).into_response()
        }
    }
}
