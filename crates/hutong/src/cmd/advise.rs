//! `hutong advise --holdings FILE`: what held certificates entitle their holder to, under the
//! mutual-recognition rules of the policy, with the reasons.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use hutong_core::recognition::explain::explain;
use hutong_core::recognition::{AdviceInput, Lang, advise};

use crate::config::{Config, GlobalArgs};
use crate::exit::invalid;

#[derive(clap::Args)]
pub struct Args {
    /// JSON file: {"holdings": [{"kind": "...", "status": "valid", "issued_on": "...",
    /// "valid_until": "...", "occupation": "...", "level": "..."}], "experience_years":
    /// {"6-18-02-04": 3}}; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub holdings: PathBuf,
    /// The day the advice is for (default: the file's as_of, else today in China).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// The province (two-digit GB/T 2260 code) where the holder will apply.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// Print the advice as JSON (the structure other systems consume).
    #[arg(long)]
    pub json: bool,
    /// Language of the sentences.
    #[arg(long, value_enum, default_value_t = AdviceLang::Zh)]
    pub lang: AdviceLang,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AdviceLang {
    Zh,
    En,
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let policy = crate::context::load_policy(&config.policy)?;
    let shown = args.holdings.display().to_string();
    let text = if shown == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| invalid(format!("cannot read standard input: {e}")))?
    } else {
        std::fs::read_to_string(&args.holdings)
            .map_err(|e| invalid(format!("cannot read {shown}: {e}")))?
    };
    let mut input = AdviceInput::from_json(&text).map_err(|errs| report(&shown, &errs))?;
    if let Some(d) = &args.as_of {
        input.as_of =
            Some(hutong_core::date::parse_day(d).map_err(|e| invalid(format!("--as-of: {e}")))?);
    }
    if args.region.is_some() {
        input.region = args.region.clone();
    }
    let advice = advise(&policy, &input).map_err(|errs| report(&shown, &errs))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::exit::print_line(&mut out, &serde_json::to_string_pretty(&advice)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let lang = match args.lang {
        AdviceLang::Zh => Lang::Zh,
        AdviceLang::En => Lang::En,
    };
    let head = match lang {
        Lang::Zh => format!(
            "截至{}{}：",
            advice.as_of,
            input
                .region
                .as_deref()
                .map(|r| format!("（地区 {r}）"))
                .unwrap_or_default()
        ),
        Lang::En => format!(
            "As of {}{}:",
            advice.as_of,
            input
                .region
                .as_deref()
                .map(|r| format!(" (region {r})"))
                .unwrap_or_default()
        ),
    };
    crate::exit::print_line(&mut out, &head)?;
    for section in explain(&policy, &advice, lang) {
        crate::exit::print_line(&mut out, &format!("\n{}", section.title))?;
        for line in &section.lines {
            if !crate::exit::print_line(&mut out, &format!("  {line}"))? {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report(file: &str, errs: &hutong_core::recognition::InputErrors) -> anyhow::Error {
    for e in &errs.0 {
        eprintln!("{file}: {e}");
    }
    invalid(format!(
        "{} problem(s) in {file}; no advice was given",
        errs.0.len()
    ))
}
