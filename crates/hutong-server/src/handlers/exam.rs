//! Exam sessions over the API (docs/exam-sessions.md): each issuer of a joint evaluation agrees
//! with its own token (`POST /api/v1/exam-sessions/agreements`, journaled), and one of them
//! imports the results (`POST /api/v1/exam-sessions/results`), which issues every passing
//! candidate's certificates in one transaction, as `hutong exam results` does.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hyper::body::Bytes;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use hutong_core::exam::{self, Session};
use hutong_core::journal::{self, Subject, now_micros};
use hutong_core::number::mask_id_numbers;
use hutong_core::rights::{self, Action};
use hutong_core::{Issuer, Policy};

use crate::error::{ApiError, Problem};
use crate::exam::{ExamError, Imported, import_results};
use crate::handlers::api::private_json;
use crate::handlers::write::{Caller, authenticate, refuse};
use crate::state::AppState;

/// An exam session, as its file declares it (docs/exam-sessions.md).
#[derive(ToSchema)]
#[schema(as = ExamSession)]
#[allow(dead_code)]
pub struct SessionSchema {
    /// 1 to 64 letters, digits, `.`, `-`, `_`.
    id: String,
    /// The occupation examined (national directory code), for skill level outputs.
    occupation: Option<String>,
    /// The level examined (`5` … `1`), for skill level outputs.
    level: Option<String>,
    /// The exam day, not after today.
    #[schema(format = Date)]
    date: String,
    /// The evaluation site's 6-digit code.
    site: String,
    /// The province (GB/T 2260 code).
    region: String,
    theory_pass: u32,
    practical_pass: u32,
    /// For a joint evaluation: every issuer of an output.
    agreed_by: Option<Vec<String>>,
    /// What a pass yields: `kind` and `issuer` each.
    output: Vec<OutputSchema>,
}

#[derive(ToSchema)]
#[schema(as = ExamOutput)]
#[allow(dead_code)]
pub struct OutputSchema {
    kind: String,
    issuer: String,
}

/// What a results import decided (`hutong_server::exam::Report`).
#[derive(ToSchema)]
#[schema(as = ExamReport)]
#[allow(dead_code)]
pub struct ReportSchema {
    session: String,
    #[schema(format = Date)]
    date: String,
    region: String,
    candidates: u64,
    /// Candidates who passed at least one output.
    passed: u64,
    /// Certificates issued (0 in a dry run).
    issued: u64,
    outcomes: Vec<CandidateSchema>,
}

/// One candidate's outcome.
#[derive(ToSchema)]
#[schema(as = ExamCandidate)]
#[allow(dead_code)]
pub struct CandidateSchema {
    /// The line of the results.
    line: u64,
    /// The name as the results gave it.
    name: String,
    /// The ID number, masked.
    id: String,
    /// Registered certificates the exemptions were judged from.
    registered: u64,
    outputs: Vec<OutputOutcomeSchema>,
}

/// What a candidate gets of one output.
#[derive(ToSchema)]
#[schema(as = ExamOutputOutcome)]
#[allow(dead_code)]
pub struct OutputOutcomeSchema {
    kind: String,
    issuer: String,
    passed: bool,
    theory: PartSchema,
    practical: PartSchema,
    /// Every exemption earned for the output.
    exempted: Option<Vec<ExemptedSchema>>,
    /// The number issued, as public answers show it.
    number: Option<String>,
}

/// How one part went: `passed` (with `score`), `failed` (`score`, `pass`), `not-sat`, or
/// `waived` (`rules`, `held`).
#[derive(ToSchema)]
#[schema(as = ExamPart)]
#[allow(dead_code)]
pub struct PartSchema {
    outcome: String,
    score: Option<u32>,
    pass: Option<u32>,
    rules: Option<Vec<String>>,
    held: Option<Vec<String>>,
}

#[derive(ToSchema)]
#[schema(as = ExamExempted)]
#[allow(dead_code)]
pub struct ExemptedSchema {
    /// `safety-training` or `theory-exam`.
    exemption: String,
    rules: Vec<String>,
    held: Vec<String>,
}

/// The answer of `POST /api/v1/exam-sessions/agreements`.
#[derive(ToSchema)]
#[schema(as = ExamAgreement)]
#[allow(dead_code)]
pub struct AgreementSchema {
    session: String,
    /// The SHA-256 of the session's canonical JSON (RFC 8785), which the agreement is to.
    session_sha256: String,
    /// The issuers whose agreement was recorded.
    agreed: Vec<String>,
}

/// The body of `POST /api/v1/exam-sessions/agreements`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    #[schema(value_type = SessionSchema)]
    pub session: Session,
}

/// The body of `POST /api/v1/exam-sessions/results`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsBody {
    #[schema(value_type = SessionSchema)]
    pub session: Session,
    /// The results: CSV with the header `holder_id,name,theory,practical`, or NDJSON with those
    /// keys (`format`).
    pub results: String,
    /// `csv` (default) or `ndjson`.
    #[serde(default)]
    pub format: Option<String>,
    /// Decide and report, issue nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn session_of<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("the body: {}", mask_id_numbers(&e.to_string())))
    })
}

/// The session's problems, as a 422 naming each field.
fn checked(state: &AppState, policy: &Policy, s: &Session) -> Result<Vec<Issuer>, ApiError> {
    let issuers: Vec<Issuer> = state
        .issuers()
        .all()
        .iter()
        .map(|i| (**i).clone())
        .collect();
    let problems = s.check(
        policy,
        |id| issuers.iter().find(|i| i.id == id),
        hutong_core::date::today_in_china(),
    );
    if problems.is_empty() {
        Ok(issuers)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-session",
            "The session cannot issue what it declares",
            problems.join("; "),
        ))
    }
}

/// The SHA-256 of the session's canonical JSON: what an agreement is to.
fn session_sha256(s: &Session) -> String {
    journal::sha256_hex(journal::canonical(s).as_bytes())
}

/// The outputs' issuers the caller may issue for on the exam day and today.
fn own_issuers<'a>(
    caller: &Caller,
    policy: &Policy,
    s: &'a Session,
    issuers: &[Issuer],
) -> Result<Vec<&'a str>, rights::Forbidden> {
    let today = hutong_core::date::today_in_china();
    let mut own = Vec::new();
    let mut refusal = None;
    for o in &s.outputs {
        let Some(issuer) = issuers.iter().find(|i| i.id == o.issuer) else {
            continue;
        };
        let skill = policy.kind(&o.kind).is_some_and(|k| k.skill_level);
        let (occupation, level) = if skill {
            (s.occupation.as_deref(), s.level)
        } else {
            (None, None)
        };
        let allowed = [s.date, today].into_iter().try_for_each(|day| {
            rights::authorize(
                &caller.actor,
                &Action::Issue {
                    kind: &o.kind,
                    issuer,
                    occupation,
                    level,
                    day,
                },
                policy,
            )
        });
        match allowed {
            Ok(()) => own.push(o.issuer.as_str()),
            Err(f) => refusal = Some(f),
        }
    }
    match (own.is_empty(), refusal) {
        (true, Some(f)) => Err(f),
        _ => Ok(own),
    }
}

/// The register, and the outputs' issuers the caller may issue for, of a session that may issue
/// what it declares; a caller that may issue none of them is refused (journaled).
async fn organiser<'s>(
    state: &AppState,
    policy: &Policy,
    caller: &Caller,
    session: &'s Session,
) -> Result<(Vec<Issuer>, Vec<&'s str>), ApiError> {
    let issuers = checked(state, policy, session)?;
    match own_issuers(caller, policy, session, &issuers) {
        Ok(own) => Ok((issuers, own)),
        Err(f) => Err(refuse(state, caller, Subject::Nothing, f).await),
    }
}

/// An issuer of a joint evaluation agrees to the session: one journal entry about each output
/// issuer the token may issue for, naming the session and the SHA-256 of its canonical JSON.
#[utoipa::path(
    post,
    path = "/api/v1/exam-sessions/agreements",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = AgreementBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Agreed: the session, its SHA-256 and the issuers whose agreement was recorded", body = AgreementSchema),
        (status = 400, description = "The body is malformed; the detail names the field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may issue none of the session's outputs; the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The session cannot issue what it declares; the detail names each field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn agree(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let b: AgreementBody = session_of(&bytes)?;
    let policy = state.policy();
    let (_, own) = organiser(&state, &policy, &caller, &b.session).await?;
    let sha = session_sha256(&b.session);
    let change = journal::canonical(&json!({
        "change": "exam-session-agreed",
        "session": b.session.id,
        "session_sha256": sha,
    }));
    let entries: Vec<(Subject, String)> = own
        .iter()
        .map(|i| (Subject::Issuer((*i).to_string()), change.clone()))
        .collect();
    state
        .store
        .journal_only(&entries, &caller.token, now_micros())
        .await?;
    let mut resp = private_json(&json!({
        "session": b.session.id,
        "session_sha256": sha,
        "agreed": own,
    }));
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Whether `issuer` has agreed to this very session (its journal holds the agreement).
async fn has_agreed(
    state: &AppState,
    issuer: &str,
    s: &Session,
    sha: &str,
) -> Result<bool, ApiError> {
    let history = state
        .store
        .history(&Subject::Issuer(issuer.to_string()))
        .await?;
    Ok(history.iter().any(|e| {
        e.kind() == "exam-session-agreed"
            && serde_json::from_str::<serde_json::Value>(&e.change)
                .is_ok_and(|v| v["session"] == s.id.as_str() && v["session_sha256"] == sha)
    }))
}

/// Imports a session's results and issues every passing candidate's certificates in one
/// transaction (docs/exam-sessions.md). The token must be one of the outputs' issuers; the
/// other issuers of a joint evaluation must have agreed to this very session
/// (`/api/v1/exam-sessions/agreements`). The same results again issue nothing.
#[utoipa::path(
    post,
    path = "/api/v1/exam-sessions/results",
    tag = "writes",
    security(("bearer" = [])),
    request_body(content = ResultsBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Issued: the report (who passed, who failed which part, who was exempted from what and by which rule, the numbers issued)", body = ReportSchema),
        (status = 200, description = "A dry run's report; or these results were imported before: nothing issued now, the report kept then", body = ReportSchema),
        (status = 400, description = "The body or a results row is malformed; the detail names the line and field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or one that is malformed, unknown, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may issue none of the session's outputs; the refusal is journaled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Other results of the session were imported, or another issuer has not agreed, or an import ran meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 32 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The session cannot issue what it declares, or a passing candidate's certificate is refused by the rules", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn results(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let b: ResultsBody = session_of(&bytes)?;
    let format = match b.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => hutong_core::rows::Format::Csv,
        Some("ndjson") => hutong_core::rows::Format::Ndjson,
        Some(f) => {
            return Err(ApiError::bad_request(format!(
                "format: \"{}\" is not csv or ndjson",
                mask_id_numbers(f)
            )));
        }
    };
    let policy = state.policy();
    let (issuers, own) = organiser(&state, &policy, &caller, &b.session).await?;
    let sha = session_sha256(&b.session);
    for o in &b.session.outputs {
        if !own.contains(&o.issuer.as_str())
            && !has_agreed(&state, &o.issuer, &b.session, &sha).await?
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not-agreed",
                "An issuer of the session has not agreed",
                format!(
                    "issuer {} has not agreed to session {} (POST /api/v1/exam-sessions/agreements with its token)",
                    o.issuer, b.session.id
                ),
            ));
        }
    }
    let candidates = exam::read_results(format, b.results.as_bytes()).map_err(|problems| {
        let detail: Vec<String> = problems
            .iter()
            .map(|(line, p)| format!("results line {line}: {p}"))
            .collect();
        ApiError::bad_request(detail.join("; "))
    })?;
    let request_sha256 = journal::sha256_hex(format!("{sha}\n--\n{}", b.results).as_bytes());
    match import_results(
        &*state.store,
        &policy,
        &state.secret,
        &issuers,
        &b.session,
        &candidates,
        request_sha256,
        &caller.token,
        b.dry_run,
    )
    .await
    {
        Ok(Imported::Done { json, .. }) => {
            let mut resp = crate::handlers::api::private_bytes_json(json);
            if !b.dry_run {
                *resp.status_mut() = StatusCode::CREATED;
            }
            Ok(resp)
        }
        Ok(Imported::Already { report, .. }) => Ok(crate::handlers::api::private_bytes_json(
            report.unwrap_or_else(|| "{}".into()),
        )),
        Err(ExamError::OtherResults { session, seqs }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "other-results",
            "Other results of the session were imported",
            format!(
                "the results of session {session} were imported already (journal entries {seqs}): a session's results are one decision"
            ),
        )),
        Err(e @ ExamError::Raced(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            "The session's results were imported meanwhile",
            e.to_string(),
        )),
        Err(ExamError::Refused(why)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "exam-refused",
            "A certificate of the session is refused",
            why,
        )),
        Err(ExamError::Store(e)) => Err(e.into()),
    }
}

/// The organisers' page form: a token, typed in and posted, and the session's id.
#[derive(Debug, Default, Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub session: String,
}

/// Whether `caller` organises the session of `report` (issues one of its outputs' kinds through
/// its issuer, or is the department of one) or oversees its province.
fn organises(caller: &Caller, policy: &Policy, report: &serde_json::Value) -> bool {
    let region = report["region"].as_str();
    let outputs: Vec<(&str, &str)> = report["outcomes"]
        .as_array()
        .and_then(|o| o.first())
        .and_then(|c| c["outputs"].as_array())
        .map(|outs| {
            outs.iter()
                .filter_map(|o| Some((o["kind"].as_str()?, o["issuer"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    match &caller.actor {
        rights::Actor::Institution { issuer } => outputs.iter().any(|(_, i)| i == issuer),
        rights::Actor::Authority {
            department,
            region: own,
        } => {
            outputs
                .iter()
                .any(|(k, _)| policy.kind(k).is_some_and(|k| &k.department == department))
                && own.as_deref().is_none_or(|r| Some(r) == region)
        }
        rights::Actor::Regulator { region: own, .. } => {
            own.as_deref().is_none_or(|r| Some(r) == region)
        }
    }
}

/// `GET /exam-sessions`: the form.
pub async fn outcome_form(State(state): State<AppState>, lang: crate::pages::Lang) -> maud::Markup {
    crate::pages::exam::form(lang, state.settings.demo, None)
}

/// `POST /exam-sessions`: a session's outcome, for its organisers.
pub async fn outcome_page(
    State(state): State<AppState>,
    lang: crate::pages::Lang,
    form: Result<axum::Form<OutcomeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    use axum::response::IntoResponse;
    let demo = state.settings.demo;
    let refused = |status: StatusCode, why: &str| {
        (status, crate::pages::exam::form(lang, demo, Some(why))).into_response()
    };
    let Ok(axum::Form(f)) = form else {
        return refused(
            StatusCode::BAD_REQUEST,
            lang.t("表单无法读取。", "The form could not be read."),
        );
    };
    let Ok(caller) = crate::handlers::write::authenticate_secret(&state, &f.token).await else {
        return refused(
            StatusCode::UNAUTHORIZED,
            lang.t(
                "令牌无效、已过期或已撤销。",
                "The token is not valid, has expired or was revoked.",
            ),
        );
    };
    let not_found = || {
        refused(
            StatusCode::NOT_FOUND,
            lang.t(
                "没有该考试的成绩，或该令牌不是其组织方。",
                "No results of that session, or the token is not one of its organisers'.",
            ),
        )
    };
    let record = match state
        .store
        .idempotency(crate::exam::OWNER, f.session.trim())
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(_) => {
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("暂时无法读取。", "Cannot be read now."),
            );
        }
    };
    let Some(report) = record
        .answer
        .and_then(|(_, r)| serde_json::from_str::<serde_json::Value>(&r).ok())
    else {
        return not_found();
    };
    let policy = state.policy();
    if !organises(&caller, &policy, &report) {
        return not_found();
    }
    crate::pages::exam::outcome(lang, demo, &policy, &report).into_response()
}
