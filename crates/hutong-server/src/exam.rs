//! Importing an exam session's results (一试多证): what `hutong exam results` and
//! `POST /api/v1/exam-sessions/results` both do once the session and the results have been
//! read and checked. Every certificate of every passing candidate is issued in one
//! transaction, under the session's id as idempotency key, and the report is kept with it.

use std::collections::HashMap;

use serde::Serialize;

use hutong_core::exam::{self, Candidate, CandidateOutcome, Session};
use hutong_core::journal;
use hutong_core::number::{NumberScheme, display, mask_id_numbers};
use hutong_core::record::{RecordInput, check_record};
use hutong_core::{HolderSecret, Issuer, Level, Policy};
use hutong_store::{IdempotencyClaim, InsertMode, Issue, Store, StoreError};

/// The idempotency owner of results imports: the key is the session's id.
pub const OWNER: &str = "exam-session";

/// What a results import decided (and, unless a dry run, issued).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub session: String,
    pub date: hutong_core::Day,
    pub region: String,
    pub candidates: usize,
    /// Candidates who passed at least one output.
    pub passed: usize,
    pub issued: usize,
    pub outcomes: Vec<CandidateOutcome>,
}

/// How an import ended.
pub enum Imported {
    /// Issued (or, in a dry run, decided): the report and its JSON.
    Done { report: Report, json: String },
    /// These very results were imported before: the journal entries they made, and the report
    /// kept then.
    Already {
        seqs: Option<(u64, u64)>,
        report: Option<String>,
    },
}

/// Why an import was refused; nothing was issued.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    /// The results of this session were imported from other results (or another session).
    #[error(
        "the results of session {session} were imported already (journal entries {seqs}), from another session or other results: a session's results are one decision"
    )]
    OtherResults { session: String, seqs: String },
    /// A passing candidate's certificate does not make a valid record, or the serials ran out,
    /// or a certificate is registered already with other data.
    #[error("{0}")]
    Refused(String),
    /// Another import of the session committed meanwhile.
    #[error(
        "the results of session {0} were imported meanwhile by another request; nothing was issued by this one"
    )]
    Raced(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn seqs(s: Option<(u64, u64)>) -> String {
    match s {
        Some((a, b)) => format!("{a}..={b}"),
        None => "none".into(),
    }
}

/// Decides every candidate and, unless `dry_run`, issues every passing candidate's
/// certificates in one transaction by `actor`. `request_sha256` identifies the session and
/// results: the same again is [`Imported::Already`], other ones [`ExamError::OtherResults`].
/// The session must have passed [`Session::check`].
#[allow(clippy::too_many_arguments)]
pub async fn import_results(
    store: &dyn Store,
    policy: &Policy,
    secret: &HolderSecret,
    issuers: &[Issuer],
    session: &Session,
    candidates: &[Candidate],
    request_sha256: String,
    actor: &str,
    dry_run: bool,
) -> Result<Imported, ExamError> {
    if let Some(done) = store.idempotency(OWNER, &session.id).await? {
        if done.request_sha256 != request_sha256 {
            return Err(ExamError::OtherResults {
                session: session.id.clone(),
                seqs: seqs(done.seqs),
            });
        }
        return Ok(Imported::Already {
            seqs: done.seqs,
            report: done.answer.map(|(_, r)| r),
        });
    }
    let today = hutong_core::date::today_in_china();
    let mut outcomes = Vec::with_capacity(candidates.len());
    for c in candidates {
        let registered = store.certificates_by_holder(&secret.key_for(&c.id)).await?;
        outcomes.push(exam::decide(policy, session, c, &registered, today));
    }
    let by_id: HashMap<&str, &Issuer> = issuers.iter().map(|i| (i.id.as_str(), i)).collect();
    // The records of every pass, numbered by their kinds' schemes; skill level serials are
    // reserved only when the records are issued for real.
    let mut issues: Vec<(usize, usize, hutong_core::Certificate)> = Vec::new();
    for (ci, (c, o)) in candidates.iter().zip(&outcomes).enumerate() {
        for (oi, out) in o.outputs.iter().enumerate() {
            if !out.passed {
                continue;
            }
            let (Some(kind), Some(issuer)) =
                (policy.kind(&out.kind), by_id.get(out.issuer.as_str()))
            else {
                return Err(ExamError::Refused(format!(
                    "the session's output {} of {} is not in the policy or the register",
                    out.kind, out.issuer
                )));
            };
            let number = match kind.number_scheme.holder_number(c.id.as_str()) {
                Some(n) => n,
                None => match session.skill_level_prefix(issuer, today) {
                    Some(prefix) => format!("{prefix}000001"),
                    None => {
                        return Err(ExamError::Refused(format!(
                            "{} cannot number a skill level certificate",
                            out.issuer
                        )));
                    }
                },
            };
            let skill = kind.skill_level;
            let input = RecordInput {
                number,
                kind: out.kind.clone(),
                holder_name: c.name.clone(),
                holder_id: c.id.as_str().to_string(),
                occupation: if skill {
                    session.occupation.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                level: if skill {
                    session.level.map(Level::id).unwrap_or_default().to_string()
                } else {
                    String::new()
                },
                issuer: out.issuer.clone(),
                issued_on: today.to_string(),
                ..RecordInput::default()
            };
            let cert = check_record(policy, Some(issuer), secret, &input, today)
                .map_err(|errs| {
                    let detail: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                    ExamError::Refused(format!(
                        "line {}: the certificate of {} cannot be issued: {}; nothing was issued",
                        c.line,
                        out.kind,
                        mask_id_numbers(&detail.join("; "))
                    ))
                })?
                .certificate;
            issues.push((ci, oi, cert));
        }
    }
    if !dry_run {
        // Consecutive serials for each skill level prefix.
        let mut per_prefix: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (_, _, cert)) in issues.iter().enumerate() {
            if policy
                .kind(&cert.kind)
                .is_some_and(|k| k.number_scheme == NumberScheme::SkillLevel22)
            {
                per_prefix
                    .entry(cert.number[..cert.number.len() - 6].to_string())
                    .or_default()
                    .push(i);
            }
        }
        for (prefix, at) in per_prefix {
            let first = store.reserve_serials(&prefix, at.len() as u64).await?;
            if first + at.len() as u64 - 1 > 999_999 {
                return Err(ExamError::Refused(format!(
                    "the serials of {prefix} are used up (999999); nothing was issued"
                )));
            }
            for (n, i) in at.into_iter().enumerate() {
                issues[i].2.number = format!("{prefix}{:06}", first + n as u64);
            }
        }
    }
    for (ci, oi, cert) in &issues {
        if let Some(kind) = policy.kind(&cert.kind) {
            outcomes[*ci].outputs[*oi].number =
                Some(display(kind.number_scheme, &cert.number).into_owned());
        }
    }
    let report = Report {
        session: session.id.clone(),
        date: session.date,
        region: session.region.clone(),
        candidates: outcomes.len(),
        passed: outcomes
            .iter()
            .filter(|o| o.outputs.iter().any(|x| x.passed))
            .count(),
        issued: if dry_run { 0 } else { issues.len() },
        outcomes,
    };
    let json = serde_json::to_string(&report)
        .map_err(|e| StoreError::Backend(format!("the report: {e}")))?;
    if dry_run {
        return Ok(Imported::Done { report, json });
    }
    let batch: Vec<Issue> = issues.into_iter().map(|(_, _, c)| Issue::new(c)).collect();
    let claim = IdempotencyClaim {
        owner: OWNER.into(),
        key: session.id.clone(),
        request_sha256,
    };
    match store
        .insert_certificates(
            &batch,
            actor,
            journal::now_micros(),
            InsertMode::AllOrNothing,
            Some(&claim),
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::KeyUsed) => return Err(ExamError::Raced(session.id.clone())),
        Err(StoreError::Conflict(why)) => {
            return Err(ExamError::Refused(format!(
                "a certificate of the session is registered already with other data: {}; nothing was issued",
                mask_id_numbers(&why)
            )));
        }
        Err(e) => return Err(e.into()),
    }
    // The report is kept with the key, for the organisers and for a repeated import.
    if let Err(e) = store.record_answer(OWNER, &session.id, 201, &json).await {
        tracing::warn!(error = %e, "the certificates were issued, but the report was not kept");
    }
    Ok(Imported::Done { report, json })
}
