//! `hutong credential NUMBER [--kind K] [-o FILE]`: a certificate's signed credential, for an
//! operator: the same document as `POST /api/v1/certificates/credential`, signed the same way.

use std::io::BufRead as _;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use hutong_core::idcard::ResidentId;
use hutong_core::number::{self, mask_id_numbers};
use hutong_server::credentials::Signer;

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(ClapArgs)]
pub struct Args {
    /// The certificate number.
    pub number: String,
    /// The kind, when the number serves several.
    #[arg(long)]
    pub kind: Option<String>,
    /// Write the credential here; standard output when absent.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Read the holder's ID number from the first line of standard input (never from an
    /// argument, which shell histories and process lists keep). Needed when the certificate's
    /// number does not contain it.
    #[arg(long)]
    pub id_number_stdin: bool,
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let id = if args.id_number_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Some(
            ResidentId::parse(&number::normalize(line.trim()))
                .map_err(|e| invalid(format!("the ID number on standard input: {e}")))?,
        )
    } else {
        None
    };
    runtime()?.block_on(async move {
        let signer = Signer::new(config.keys_dir.clone(), config.public_url.as_deref());
        let ctx = context::open(config, context::Reads::Primary).await?;
        let n = number::normalize(&args.number);
        let shown = mask_id_numbers(&n).into_owned();
        let found = ctx.store.certificates_by_number(&n).await?;
        let cert = match (&args.kind, found.as_slice()) {
            (_, []) => return Err(invalid(format!("no certificate {shown}"))),
            (Some(k), all) => all
                .iter()
                .find(|c| c.kind == k.trim())
                .ok_or_else(|| invalid(format!("certificate {shown} is not of kind {k}")))?,
            (None, [one]) => one,
            (None, many) => {
                return Err(invalid(format!(
                    "certificate {shown} exists as {} kinds ({}); say which with --kind",
                    many.len(),
                    many.iter()
                        .map(|c| c.kind.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let (registry_id, cert) = ctx
            .store
            .certificate_with_id(&cert.number, &cert.kind)
            .await?
            .ok_or_else(|| invalid(format!("certificate {shown} changed meanwhile")))?;
        let exported = signer
            .credential(
                ctx.store.as_ref(),
                &ctx.policy,
                &ctx.secret,
                &cert,
                registry_id,
                id.as_ref(),
            )
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let text = serde_json::to_string_pretty(&exported.credential)? + "\n";
        match &args.output {
            Some(path) => std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
            None => print!("{text}"),
        }
        eprintln!(
            "signed {shown} ({}); the holder's salt, for the holder only: {}",
            cert.kind, exported.holder_salt
        );
        Ok(ExitCode::SUCCESS)
    })
}
