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
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
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
