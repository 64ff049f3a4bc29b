//! `hutong exam`: exam sessions (一试多证), whose pass yields several certificates.
//!
//! `check SESSION` validates a session file: its outputs, each issuer's right on the exam day
//! and today, the agreement of every issuer of a joint evaluation. `results SESSION FILE`
//! imports its results (CSV or NDJSON: `holder_id`, `name`, `theory`, `practical`): any bad row
//! rejects the file; each candidate's exemptions are judged by the recognition engine from their
//! registered certificates on the exam day; every certificate of every passing candidate is
//! issued in one transaction, through the journal, with the session's id as idempotency key,
//! so that importing the same results again issues nothing, and a killed import leaves no
//! certificate of the session. The report (on standard output, and kept with the key) names
//! who passed, who failed which part, who was exempted from what and why, and the numbers
//! issued, never an ID number. See `docs/exam-sessions.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use hutong_core::exam::{self, CandidateOutcome, Part, Session};
use hutong_core::journal;
use hutong_core::number::{NumberScheme, display, mask_id_numbers};
use hutong_core::record::{RecordInput, check_record};
use hutong_core::{Issuer, Level};
use hutong_store::{IdempotencyClaim, InsertMode, Issue, StoreError};

use crate::cmd::import::{Format, detect_format};
use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(Subcommand)]
pub enum Command {
    /// Check a session file (TOML or JSON): exit 0 when it may issue what it declares, 3 with
    /// every problem named when not.
    Check { session: PathBuf },
    /// Import a session's results and issue the certificates of every passing candidate, all in
    /// one transaction.
    Results(ResultsArgs),
}

#[derive(clap::Args)]
pub struct ResultsArgs {
    /// The session file.
    pub session: PathBuf,
    /// The results: CSV with the header holder_id,name,theory,practical (scores 0 to 100,
    /// empty when a part was not sat), or NDJSON with those keys.
    pub results: PathBuf,
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Decide and report, issue nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The idempotency owner of results imports: the key is the session's id.
const OWNER: &str = "exam-session";

pub fn run(global: &GlobalArgs, c: Command) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    match c {
        Command::Check { session } => runtime()?.block_on(async move {
            let ctx = context::open(config, context::Reads::Primary).await?;
            let (s, _) = read_session(&session)?;
            let issuers = ctx.store.issuers().await?;
            checked(&session, &s, &ctx.policy, &issuers)?;
            println!(
                "{}: session {} may issue {} certificate kind(s) per passing candidate",
                session.display(),
                s.id,
                s.outputs.len()
            );
            Ok(ExitCode::SUCCESS)
        }),
        Command::Results(a) => results(config, a),
    }
}

fn read_session(path: &Path) -> anyhow::Result<(Session, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the session file {}", path.display()))?;
    let s = Session::parse(&text).map_err(|e| {
        invalid(format!(
            "{}: not a session: {}",
            path.display(),
            mask_id_numbers(&e)
        ))
    })?;
    Ok((s, text))
}

fn checked(
    path: &Path,
    s: &Session,
    policy: &hutong_core::Policy,
    issuers: &[Issuer],
) -> anyhow::Result<()> {
    let by_id: HashMap<&str, &Issuer> = issuers.iter().map(|i| (i.id.as_str(), i)).collect();
    let problems = s.check(
        policy,
        |id| by_id.get(id).copied(),
        hutong_core::date::today_in_china(),
    );
    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        eprintln!("{}: {}", path.display(), mask_id_numbers(p));
    }
    Err(invalid(format!(
        "{}: {} problem(s); nothing was issued",
        path.display(),
        problems.len()
    )))
}

fn results(config: Config, a: ResultsArgs) -> anyhow::Result<ExitCode> {
    let format = match a.format {
        Some(f) => f,
        None => detect_format(&a.results)?,
    };
    let bytes = std::fs::read(&a.results)
        .with_context(|| format!("cannot read the results file {}", a.results.display()))?;
    runtime()?.block_on(async move {
        let ctx = context::open(config, context::Reads::Primary).await?;
        let (session, session_text) = read_session(&a.session)?;
        let issuers = ctx.store.issuers().await?;
        checked(&a.session, &session, &ctx.policy, &issuers)?;
        let rows_format = match format {
            Format::Csv => hutong_core::rows::Format::Csv,
            Format::Ndjson => hutong_core::rows::Format::Ndjson,
        };
        let candidates = exam::read_results(rows_format, &bytes).map_err(|problems| {
            for (line, p) in &problems {
                eprintln!("{}:{line}: {}", a.results.display(), mask_id_numbers(p));
            }
            invalid(format!(
                "{}: {} problem(s); an exam's results are one decision, so nothing was issued",
                a.results.display(),
                problems.len()
            ))
        })?;
        let request_sha256 = journal::sha256_hex(
            [session_text.as_bytes(), b"\n--\n", &bytes]
                .concat()
                .as_slice(),
        );
        if let Some(done) = ctx.store.idempotency(OWNER, &session.id).await? {
            if done.request_sha256 != request_sha256 {
                return Err(invalid(format!(
                    "the results of session {} were imported already (journal entries {}), from another session file or other results: a session's results are one decision",
                    session.id,
                    seqs(done.seqs)
                )));
            }
            println!(
                "session {}: these results were imported already (journal entries {}); nothing was issued now",
                session.id,
                seqs(done.seqs)
            );
            if let Some((_, report)) = done.answer {
                println!("{report}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let today = hutong_core::date::today_in_china();
        let mut outcomes = Vec::with_capacity(candidates.len());
        for c in &candidates {
            let key = ctx.secret.key_for(&c.id);
            let registered = ctx.store.certificates_by_holder(&key).await?;
            outcomes.push(exam::decide(&ctx.policy, &session, c, &registered, today));
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
                let kind = ctx
                    .policy
                    .kind(&out.kind)
                    .expect("a checked session's kinds are in the policy");
                let issuer = by_id[out.issuer.as_str()];
                let number = match kind.number_scheme {
                    NumberScheme::MemTId => format!("T{}", c.id.as_str()),
                    NumberScheme::ResidentId => c.id.as_str().to_string(),
                    _ => format!(
                        "{}000001",
                        session
                            .skill_level_prefix(issuer, today)
                            .expect("a checked session numbers skill levels")
                    ),
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
                let cert = check_record(&ctx.policy, Some(issuer), &ctx.secret, &input, today)
                    .map_err(|errs| {
                        let detail: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                        invalid(format!(
                            "{}:{}: the certificate of {} cannot be issued: {}; nothing was issued",
                            a.results.display(),
                            c.line,
                            out.kind,
                            mask_id_numbers(&detail.join("; "))
                        ))
                    })?
                    .certificate;
                issues.push((ci, oi, cert));
            }
        }
        if !a.dry_run {
            // Consecutive serials for each skill level prefix.
            let mut per_prefix: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, (_, _, cert)) in issues.iter().enumerate() {
                if ctx
                    .policy
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
                let first = ctx.store.reserve_serials(&prefix, at.len() as u64).await?;
                if first + at.len() as u64 - 1 > 999_999 {
                    return Err(invalid(format!(
                        "the serials of {prefix} are used up (999999); nothing was issued"
                    )));
                }
                for (n, i) in at.into_iter().enumerate() {
                    issues[i].2.number = format!("{prefix}{:06}", first + n as u64);
                }
            }
        }
        for (ci, oi, cert) in &issues {
            let kind = ctx.policy.kind(&cert.kind).expect("checked");
            outcomes[*ci].outputs[*oi].number =
                Some(display(kind.number_scheme, &cert.number).into_owned());
        }
        let report = Report {
            session: &session.id,
            date: session.date,
            region: &session.region,
            candidates: outcomes.len(),
            passed: outcomes
                .iter()
                .filter(|o| o.outputs.iter().any(|x| x.passed))
                .count(),
            issued: if a.dry_run { 0 } else { issues.len() },
            outcomes: &outcomes,
        };
        let report_json =
            serde_json::to_string(&report).map_err(|e| anyhow::anyhow!("the report: {e}"))?;
        if a.dry_run {
            print_report(&report);
            println!("dry run: {} certificate(s) would be issued", issues.len());
            return Ok(ExitCode::SUCCESS);
        }
        let batch: Vec<Issue> = issues.into_iter().map(|(_, _, c)| Issue::new(c)).collect();
        let claim = IdempotencyClaim {
            owner: OWNER.into(),
            key: session.id.clone(),
            request_sha256,
        };
        match ctx
            .store
            .insert_certificates(
                &batch,
                &context::local_actor(),
                journal::now_micros(),
                InsertMode::AllOrNothing,
                Some(&claim),
            )
            .await
        {
            Ok(_) => {}
            Err(StoreError::KeyUsed) => {
                return Err(anyhow::anyhow!(
                    "the results of session {} were imported meanwhile by another process; nothing was issued by this one",
                    session.id
                ));
            }
            Err(StoreError::Conflict(why)) => {
                return Err(invalid(format!(
                    "a certificate of the session is registered already with other data: {}; nothing was issued",
                    mask_id_numbers(&why)
                )));
            }
            Err(e) => return Err(e.into()),
        }
        // The report is kept with the key, for the organisers and for a repeated import.
        if let Err(e) = ctx
            .store
            .record_answer(OWNER, &session.id, 201, &report_json)
            .await
        {
            tracing::warn!(error = %e, "the certificates were issued, but the report was not kept");
        }
        print_report(&report);
        Ok(ExitCode::SUCCESS)
    })
}

fn seqs(s: Option<(u64, u64)>) -> String {
    match s {
        Some((a, b)) => format!("{a}..={b}"),
        None => "none".into(),
    }
}

#[derive(serde::Serialize)]
struct Report<'a> {
    session: &'a str,
    date: hutong_core::Day,
    region: &'a str,
    candidates: usize,
    /// Candidates who passed at least one output.
    passed: usize,
    issued: usize,
    outcomes: &'a [CandidateOutcome],
}

fn part(p: &Part) -> String {
    match p {
        Part::Passed { score } => format!("passed ({score})"),
        Part::Failed { score, pass } => format!("failed ({score}, pass mark {pass})"),
        Part::NotSat => "not sat".into(),
        Part::Waived { rules, .. } => format!("waived by {}", rules.join(", ")),
    }
}

fn print_report(r: &Report<'_>) {
    println!(
        "session {} of {}: {} candidate(s), {} passed, {} certificate(s) issued",
        r.session, r.date, r.candidates, r.passed, r.issued
    );
    for o in r.outcomes {
        println!("line {}: {} {}", o.line, o.name, o.id);
        for out in &o.outputs {
            let verdict = if out.passed { "passed" } else { "failed" };
            print!(
                "  {} ({}): {verdict}; theory {}; practical {}",
                out.kind,
                out.issuer,
                part(&out.theory),
                part(&out.practical)
            );
            for e in &out.exempted {
                print!("; exempted from {} by {}", e.exemption, e.rules.join(", "));
            }
            match &out.number {
                Some(n) => println!("; number {n}"),
                None => println!(),
            }
        }
    }
}
