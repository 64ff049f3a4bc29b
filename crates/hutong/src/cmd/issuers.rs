//! `hutong issuers import FILE` and `hutong issuers list`.
//!
//! An issuers file is TOML with one `[[issuer]]` table per issuer; see `docs/issuers.md`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde::Deserialize;

use hutong_core::Issuer;

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(Subcommand)]
pub enum Command {
    /// Register or update the issuers of a TOML file. All are checked against the policy first;
    /// if any is wrong, none is stored.
    Import { file: PathBuf },
    /// List registered issuers.
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuersFile {
    #[serde(default)]
    issuer: Vec<toml::Spanned<Issuer>>,
}

/// Reads and checks an issuers file; errors name the file, line and issuer.
pub fn read_file(
    path: &std::path::Path,
    policy: &hutong_core::Policy,
) -> anyhow::Result<Vec<Issuer>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let file: IssuersFile = toml::from_str(&text).map_err(|e| {
        let line_at = |pos: usize| text[..pos].matches('\n').count() + 1;
        let mut line = e.span().map(|s| line_at(s.start)).unwrap_or(0);
        // An entry refused as a whole (mixing the older and newer forms, …) is reported at the
        // first `[[issuer]]`: name the entry's own line instead.
        if let Some((first, failing)) = failing_entry(&text)
            && e.span().is_none_or(|s| s.start == first)
        {
            line = line_at(failing);
        }
        invalid(format!("{}:{line}: {}", path.display(), e.message().trim()))
    })?;
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in &file.issuer {
        let line = text[..s.span().start].matches('\n').count() + 1;
        let i = s.get_ref();
        if !seen.insert(i.id.clone()) {
            problems.push(format!(
                "{}:{line}: issuer \"{}\": listed twice",
                path.display(),
                i.id
            ));
        }
        for p in i.check(policy) {
            problems.push(format!(
                "{}:{line}: issuer \"{}\": {p}",
                path.display(),
                i.id
            ));
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return Err(invalid(format!(
            "{} problem(s) in {}; no issuer was stored",
            problems.len(),
            path.display()
        )));
    }
    Ok(file.issuer.into_iter().map(|s| s.into_inner()).collect())
}

/// Where the first `[[issuer]]` entry starts, and where the first entry that does not read as an
/// issuer (each read on its own) starts.
fn failing_entry(text: &str) -> Option<(usize, usize)> {
    #[derive(Deserialize)]
    struct Entries {
        #[serde(default)]
        issuer: Vec<toml::Spanned<toml::Table>>,
    }
    let entries: Entries = toml::from_str(text).ok()?;
    let first = entries.issuer.first()?.span().start;
    entries
        .issuer
        .iter()
        .find(|t| {
            toml::Value::Table(t.get_ref().clone())
                .try_into::<Issuer>()
                .is_err()
        })
        .map(|t| (first, t.span().start))
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    runtime()?.block_on(async move {
        let reads = match cmd {
            Command::Import { .. } => context::Reads::Primary,
            Command::List { .. } => context::Reads::Replica,
        };
        // The file is checked before the database is opened, so that a bad file makes nothing.
        let issuers = match &cmd {
            Command::Import { file } => {
                let policy = context::load_policy(&config.policy)?;
                read_file(file, &policy)?
            }
            Command::List { .. } => Vec::new(),
        };
        let ctx = context::open(config, reads).await?;
        match cmd {
            Command::Import { file } => {
                let actor = crate::context::local_actor();
                let r =
                    hutong_store::write::register_issuers(&*ctx.store, &issuers, &actor).await?;
                println!(
                    "{} issuer(s) from {}: {} registered, {} amended, {} unchanged",
                    issuers.len(),
                    file.display(),
                    r.registered,
                    r.amended,
                    r.unchanged
                );
            }
            Command::List { json } => {
                let today = hutong_core::date::today_in_china();
                let mut out = std::io::stdout().lock();
                for i in ctx.store.issuers().await? {
                    let line = if json {
                        serde_json::to_string(&i)?
                    } else {
                        format!(
                            "{:<28} {:<7} {:<11} {:<3} {:<10} {}",
                            i.id,
                            i.department,
                            format!("{:?}", i.role).to_lowercase(),
                            i.region.as_deref().unwrap_or("--"),
                            i.status_on(today).0.id(),
                            i.name_zh
                        )
                    };
                    if !crate::exit::print_line(&mut out, &line)? {
                        break;
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> hutong_core::Policy {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        hutong_core::Policy::load_dir(&dir).unwrap()
    }

    fn example_with(extra: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/issuers.toml");
        let text = std::fs::read_to_string(path).unwrap().replacen(
            "contact = \"020-12345\"\n",
            &format!("contact = \"020-12345\"\n{extra}"),
            1,
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuers.toml");
        std::fs::write(&file, &text).unwrap();
        (dir, file, text)
    }

    /// An issuer's unified social credit code is read and checked; a wrong one is named with
    /// the file and the line it is on, and nothing is read.
    #[test]
    fn a_credit_code_in_an_issuers_file_is_checked_with_its_line() {
        let (_dir, file, _) = example_with("credit_code = \"11220000013544541J\"\n");
        let issuers = read_file(&file, &policy()).unwrap();
        assert_eq!(
            issuers[0].credit_code.as_ref().map(|c| c.as_str()),
            Some("11220000013544541J")
        );
        assert!(issuers[1..].iter().all(|i| i.credit_code.is_none()));

        let (_dir, file, text) = example_with("credit_code = \"11220000013544541K\"\n");
        let e = read_file(&file, &policy()).unwrap_err().to_string();
        let line = text
            .lines()
            .position(|l| l == "credit_code = \"11220000013544541K\"")
            .unwrap()
            + 1;
        assert!(
            e.starts_with(&format!(
                "{}:{line}: credit_code \"11220000013544541K\": ",
                file.display()
            )),
            "{e}"
        );
        assert!(
            e.contains("check character (GB 32100) is K, but its first 17 characters give J"),
            "{e}"
        );
    }
}
