//! `hutong tokens create|list|revoke`: bearer tokens for the write API, made locally. On a
//! fresh installation this is how the first regulator token is made; from then on regulators
//! make tokens over the API (`POST /api/v1/tokens`).

use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};

use hutong_core::journal::{instant_rfc3339, now_micros};
use hutong_core::rights::Actor;
use hutong_core::token::{TokenId, TokenRecord};

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(Subcommand)]
pub enum Command {
    /// Create a token and print it once; only its hash is stored.
    Create(CreateArgs),
    /// List tokens: id, actor, label, creation, expiry and revocation (never the secret).
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (`tok_…`).
    Revoke { id: String },
}

#[derive(ClapArgs)]
pub struct CreateArgs {
    /// A regulator of this department (`mohrss`).
    #[arg(long, value_name = "DEPARTMENT", conflicts_with_all = ["authority", "institution"])]
    pub regulator: Option<String>,
    /// A department authority (`mem`, `mohurd`, `samr`).
    #[arg(long, value_name = "DEPARTMENT", conflicts_with = "institution")]
    pub authority: Option<String>,
    /// A registered evaluation institution, by issuer id.
    #[arg(long, value_name = "ISSUER")]
    pub institution: Option<String>,
    /// The province (GB/T 2260 code) of a regulator or authority; national when absent.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// A note for `tokens list`.
    #[arg(long)]
    pub label: Option<String>,
    /// Days until the token expires; it does not expire when absent.
    #[arg(long, value_name = "DAYS")]
    pub expires_in_days: Option<u32>,
}

impl CreateArgs {
    fn actor(&self) -> anyhow::Result<Actor> {
        Ok(
            match (&self.regulator, &self.authority, &self.institution) {
                (Some(d), None, None) => Actor::Regulator {
                    department: d.clone(),
                    region: self.region.clone(),
                },
                (None, Some(d), None) => Actor::Authority {
                    department: d.clone(),
                    region: self.region.clone(),
                },
                (None, None, Some(i)) => {
                    if self.region.is_some() {
                        return Err(invalid(
                            "--region: an institution's region is its registration's",
                        ));
                    }
                    Actor::Institution { issuer: i.clone() }
                }
                _ => {
                    return Err(invalid(
                        "say whom the token is for: --regulator DEPT, --authority DEPT or --institution ISSUER",
                    ));
                }
            },
        )
    }
}

pub fn run(global: &GlobalArgs, cmd: Command) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let policy = context::load_policy(&config.policy)?;
    // The arguments are checked before the database is opened, so that a mistake makes nothing.
    let actor = match &cmd {
        Command::Create(a) => Some(a.actor()?),
        _ => None,
    };
    if let Command::Create(a) = &cmd
        && let Some(d) = a.expires_in_days
        && !(1..=hutong_server::handlers::write::MAX_TOKEN_DAYS).contains(&d)
    {
        return Err(invalid(format!(
            "--expires-in-days: from 1 to {}, or leave it out for a token that does not expire",
            hutong_server::handlers::write::MAX_TOKEN_DAYS
        )));
    }
    if let Command::Revoke { id } = &cmd {
        TokenId::parse(id.trim()).map_err(|_| invalid(format!("{id}: not a token id (tok_…)")))?;
    }
    runtime()?.block_on(async move {
        let reads = match cmd {
            Command::List { .. } => context::Reads::Replica,
            _ => context::Reads::Primary,
        };
        let ctx = context::open(config, reads).await?;
        let me = context::local_actor();
        match cmd {
            Command::Create(a) => {
                let actor = actor.expect("checked above");
                let institution = match actor.issuer_id() {
                    Some(id) => ctx.store.issuer(id).await?,
                    None => None,
                };
                let problems = actor.check(&policy, institution.as_ref());
                if !problems.is_empty() {
                    return Err(invalid(format!(
                        "the token's actor: {}",
                        problems.join("; ")
                    )));
                }
                let now = now_micros();
                let expires = a
                    .expires_in_days
                    .map(|d| now + i64::from(d) * 86_400_000_000);
                let (secret, record) = TokenRecord::create(actor, a.label, now, expires);
                ctx.store
                    .create_token(&record, &record.created_change(), &me, now)
                    .await?;
                eprintln!(
                    "created {} for {}{}; it is shown once, keep it safe:",
                    record.id.as_str(),
                    record.actor.describe(),
                    record
                        .expires_at_micros
                        .map(|e| format!(", expires {}", instant_rfc3339(e)))
                        .unwrap_or_default()
                );
                println!("{}", secret.expose());
            }
            Command::List { json } => {
                for t in ctx.store.tokens().await? {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "id": t.id.as_str(),
                                "actor": t.actor,
                                "label": t.label,
                                "created_at": instant_rfc3339(t.created_at_micros),
                                "expires_at": t.expires_at_micros.map(instant_rfc3339),
                                "revoked_at": t.revoked_at_micros.map(instant_rfc3339),
                            })
                        );
                    } else {
                        let state = match (t.revoked_at_micros, t.usable_at(now_micros())) {
                            (Some(r), _) => format!("revoked {}", &instant_rfc3339(r)[..10]),
                            (None, Err(_)) => "expired".to_string(),
                            (None, Ok(())) => "usable".to_string(),
                        };
                        println!(
                            "{}  {:<40}  {:<10}  {}",
                            t.id.as_str(),
                            t.actor.describe(),
                            state,
                            t.label.as_deref().unwrap_or("")
                        );
                    }
                }
            }
            Command::Revoke { id } => {
                ctx.store
                    .revoke_token(
                        id.trim(),
                        "{\"change\":\"token-revoked\"}",
                        &me,
                        now_micros(),
                    )
                    .await?;
                println!("revoked {}", id.trim());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
