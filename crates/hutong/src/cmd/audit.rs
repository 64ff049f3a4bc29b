//! `hutong audit`: recomputes every certificate's canonical hash and compares it with the hash
//! its last journal entry recorded. A row changed behind the journal's back (by SQL, by another
//! program) shows; so does a number that does not belong to the holder's keyed hash.

use std::process::ExitCode;

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};

use hutong_core::ResidentId;
use hutong_core::journal::certificate_digest;
use hutong_core::number::mask_id_numbers;

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};

#[derive(ClapArgs)]
pub struct Args {
    /// Certificates read per query.
    #[arg(long, default_value_t = 10_000)]
    pub page: usize,
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let policy = context::load_policy(&config.policy)?;
    runtime()?.block_on(async move {
        let ctx = context::open(config, context::Reads::Primary).await?;
        let total = ctx.store.certificate_count_estimate().await?;
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} certificates ({per_sec})")
                .expect("a valid template"),
        );
        let (mut after, mut seen, mut bad) = (0i64, 0u64, 0u64);
        loop {
            let rows = ctx.store.audit_page(after, args.page.max(1)).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            for r in &rows {
                seen += 1;
                let c = &r.certificate;
                let shown = mask_id_numbers(&c.number);
                let (_, hash) = certificate_digest(c);
                let problem = match &r.journal_sha256 {
                    None => Some("has no journal entry with a record hash".to_string()),
                    Some(h) if *h != hash => Some(format!(
                        "differs from its last journal entry (journal {}…, record {}…)",
                        &h[..12],
                        &hash[..12]
                    )),
                    _ => None,
                };
                // Where the number is the holder's ID number, it must be the one the keyed
                // hash was made of.
                let embeds = policy
                    .kind(&c.kind)
                    .is_some_and(|k| k.number_scheme.embeds_resident_id());
                let key_problem = embeds
                    .then(|| {
                        let id = c.number.strip_prefix('T').unwrap_or(&c.number);
                        match ResidentId::parse(id) {
                            Ok(id) if ctx.secret.key_for(&id) == c.holder_key => None,
                            _ => Some("its number is not the holder's ID number".to_string()),
                        }
                    })
                    .flatten();
                for p in problem.into_iter().chain(key_problem) {
                    bad += 1;
                    bar.suspend(|| println!("cert:{} {shown} {} {p}", r.id, c.kind));
                }
            }
            bar.set_position(seen);
        }
        bar.finish_and_clear();
        let head = ctx.store.journal_head().await?;
        println!(
            "audited {seen} certificate(s) against a journal of {head} entries: {}",
            if bad == 0 {
                "every record matches its last entry".to_string()
            } else {
                format!("{bad} problem(s)")
            }
        );
        Ok(if bad == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    })
}
