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

use hutong_core::Issuer;
use hutong_core::exam::{self, Part, Session};
use hutong_core::journal;
use hutong_core::number::mask_id_numbers;
use hutong_server::exam::{ExamError, Imported, Report};

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
        let imported = hutong_server::exam::import_results(
            &*ctx.store,
            &ctx.policy,
            &ctx.secret,
            &issuers,
            &session,
            &candidates,
            request_sha256,
            &context::local_actor(),
            a.dry_run,
        )
        .await;
        match imported {
            Ok(Imported::Already { seqs: s, report }) => {
                println!(
                    "session {}: these results were imported already (journal entries {}); nothing was issued now",
                    session.id,
                    seqs(s)
                );
                if let Some(report) = report {
                    println!("{report}");
                }
            }
            Ok(Imported::Done { report, .. }) => {
                print_report(&report);
                if a.dry_run {
                    let would: usize = report
                        .outcomes
                        .iter()
                        .map(|o| o.outputs.iter().filter(|x| x.passed).count())
                        .sum();
                    println!("dry run: {would} certificate(s) would be issued");
                }
            }
            Err(e @ (ExamError::OtherResults { .. } | ExamError::Refused(_))) => {
                return Err(invalid(format!("{}: {e}", a.results.display())));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn seqs(s: Option<(u64, u64)>) -> String {
    match s {
        Some((a, b)) => format!("{a}..={b}"),
        None => "none".into(),
    }
}

fn part(p: &Part) -> String {
    match p {
        Part::Passed { score } => format!("passed ({score})"),
        Part::Failed { score, pass } => format!("failed ({score}, pass mark {pass})"),
        Part::NotSat => "not sat".into(),
        Part::Waived { rules, .. } => format!("waived by {}", rules.join(", ")),
    }
}

fn print_report(r: &Report) {
    println!(
        "session {} of {}: {} candidate(s), {} passed, {} certificate(s) issued",
        r.session, r.date, r.candidates, r.passed, r.issued
    );
    for o in &r.outcomes {
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
