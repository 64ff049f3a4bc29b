//! `hutong serve`: the HTTP service.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use hutong_server::{AppState, Settings};

use crate::cmd::demo;
use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", env = "HUTONG_LISTEN")]
    pub listen: Option<String>,
    /// Serve demo data: when the database is empty, fill it first with synthetic certificates
    /// (see `hutong demo`), and mark every page as demo data.
    #[arg(long)]
    pub demo: bool,
    /// How many certificates `--demo` creates in an empty database.
    #[arg(long, default_value_t = 20_000, requires = "demo")]
    pub demo_certificates: u64,
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let mut env: std::collections::BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("HUTONG_"))
        .collect();
    // --listen already read HUTONG_LISTEN through clap; the layering below must not see it twice.
    if args.listen.is_some() {
        env.remove("HUTONG_LISTEN");
    }
    let config = Config::resolve(global, &env, args.listen.as_deref())?;
    config.defer_warnings();
    crate::config::init_logging(&config.log);
    runtime()?.block_on(async move {
        // The address is taken first: a server that cannot listen makes no database.
        let listener = hutong_server::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let metrics = match &config.metrics_listen {
            None => None,
            Some(addr) => {
                let l = hutong_server::bind(addr).await.with_context(|| {
                    format!("cannot listen on {addr} (metrics_listen) for the metrics")
                })?;
                tracing::info!("metrics on http://{}/metrics", l.local_addr()?);
                Some(l)
            }
        };
        // The log key is read (or checked that it can be made) before anything is made.
        let log_key = crate::tlog::plan_key(&config)?;
        let witnesses = crate::tlog::witnesses(&config)?;
        let ctx = context::open(config, context::Reads::Replica).await?;
        let log = hutong_server::LogSettings::new(crate::tlog::make_key(log_key)?, witnesses);
        if args.demo && ctx.store.is_empty().await? {
            let start = Instant::now();
            tracing::info!(
                "the database is empty: creating {} demo certificates",
                args.demo_certificates
            );
            let today = hutong_core::date::today_in_china();
            let demo_args = demo::Args {
                certificates: args.demo_certificates,
                seed: 2026,
                samples: None,
                today: None,
            };
            let bar = demo::progress_bar(args.demo_certificates);
            demo::fill(
                &*ctx.store,
                &ctx.policy,
                &ctx.secret,
                &demo_args,
                today,
                &bar,
            )
            .await?;
            bar.finish_and_clear();
            demo::demo_keys(&*ctx.store, &ctx.config).await?;
            tracing::info!("demo data ready in {:.1} s", start.elapsed().as_secs_f64());
        }
        // A demo registry says so on every page, with or without --demo.
        let demo_record = demo::DemoRecord::of(&*ctx.store).await?;
        if demo_record.is_some() && !args.demo {
            tracing::info!(
                "this registry holds demo data (made by `hutong demo`): every page says so"
            );
        }
        let (demo_samples, demo_holder) = demo_record
            .as_ref()
            .map(|r| r.for_serve())
            .unwrap_or_default();
        tracing::info!("rate limits: {}", ctx.config.rate_limits.describe());
        let settings = Settings {
            demo: args.demo || demo_record.is_some(),
            public_url: ctx.config.public_url.clone(),
            rate_limits: ctx.config.rate_limits.clone(),
            connections: ctx.config.connections.clone(),
            demo_samples,
            demo_holder,
            log: Some(log),
            keys_dir: ctx.config.keys_dir.clone(),
            webhook_private_targets: ctx.config.webhook_private_targets,
            ..Settings::default()
        };
        let state = AppState::new(
            ctx.store.clone(),
            ctx.policy.clone(),
            ctx.secret.clone(),
            settings,
        );
        state
            .log
            .check_identity(&*ctx.store)
            .await
            .map_err(crate::exit::invalid)?;
        if let Some(l) = state.log.settings() {
            tracing::info!(
                "transparency log {} (verifier key {}), {} witness(es) accepted",
                l.origin(),
                l.vkey(),
                l.witnesses.len()
            );
        }
        let c = &ctx.config.connections;
        tracing::info!(
            "connections: at most {}; header-read timeout {}, body timeout {}, idle timeout {}",
            c.max_connections,
            humantime::format_duration(c.header_read_timeout),
            humantime::format_duration(c.body_timeout),
            humantime::format_duration(c.idle_timeout)
        );
        tracing::info!(
            "hutong serving on http://{} ({} backend, policy {}, {} kinds)",
            listener.local_addr()?,
            ctx.store.backend(),
            &ctx.policy.digest[..12],
            ctx.policy.kinds.len()
        );
        hutong_server::serve_with_metrics(listener, metrics, state, shutdown_signal())
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
