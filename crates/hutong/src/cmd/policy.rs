//! `hutong policy check [DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, GlobalArgs};

#[derive(Subcommand)]
pub enum Command {
    /// Validate a policy folder as the server does at start; print every problem with its file,
    /// line and entry. Exit code 3 when there is any.
    Check {
        /// The folder (default: the configured policy folder, ./policy).
        dir: Option<PathBuf>,
    },
    /// Publish a policy folder to the registry: validated exactly as `check` does (nothing
    /// changes if it is invalid), journaled with its digest, and taken up by every running
    /// server within its refresh interval, without a restart.
    Publish {
        /// The folder to publish.
        dir: PathBuf,
    },
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Publish { dir } => {
            let config = Config::load(global)?;
            crate::config::init_logging(&config.log);
            // Validated first, with the folder's own errors (file and line), before anything
            // is opened.
            crate::context::load_policy(&dir)?;
            let mut files = std::collections::BTreeMap::new();
            for e in std::fs::read_dir(&dir)? {
                let p = e?.path();
                if p.extension().is_some_and(|x| x == "toml") && p.is_file() {
                    let name = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .ok_or_else(|| {
                            crate::exit::invalid(format!(
                                "{}: a file name that is not UTF-8",
                                p.display()
                            ))
                        })?
                        .to_string();
                    files.insert(name, std::fs::read_to_string(&p)?);
                }
            }
            let (policy, files) = hutong_server::handlers::write::checked_policy(files)
                .map_err(|problems| crate::exit::invalid(problems.join("\n")))?;
            crate::context::runtime()?.block_on(async move {
                let ctx = crate::context::open(config, crate::context::Reads::Primary).await?;
                if ctx
                    .store
                    .published_policy()
                    .await?
                    .is_some_and(|p| p.digest == policy.digest)
                {
                    println!("{}: already the published policy (digest {})", dir.display(), policy.digest);
                    return Ok(ExitCode::SUCCESS);
                }
                let entry = ctx
                    .store
                    .publish_policy(
                        &policy.digest,
                        &files,
                        &hutong_server::handlers::write::policy_change(&policy.digest),
                        &crate::context::local_actor(),
                        hutong_core::journal::now_micros(),
                    )
                    .await?;
                println!(
                    "{}: published as digest {} (journal entry {}); running servers switch to it within their refresh interval",
                    dir.display(),
                    policy.digest,
                    entry.seq
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Check { dir } => {
            let dir = match dir {
                Some(d) => d,
                None => {
                    let config = Config::load(global)?;
                    crate::config::init_logging(&config.log);
                    config.policy
                }
            };
            let p = crate::context::load_policy(&dir)?;
            println!(
                "{}: valid: {} departments, {} regions, {} directory entries, {} lifecycles, {} kinds, {} occupations (digest {})",
                dir.display(),
                p.departments.len(),
                p.regions.len(),
                p.qualifications.len(),
                p.lifecycles.len(),
                p.kinds.len(),
                p.occupations.len(),
                p.digest
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
