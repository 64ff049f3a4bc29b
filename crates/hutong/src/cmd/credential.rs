//! `hutong credential NUMBER [--kind K] [-o FILE]`: a certificate's signed credential, for an
//! operator: the same document as `POST /api/v1/certificates/credential`, signed the same way;
//! optionally the status lists it points at and the log proof of the journal entry it names.

use std::io::BufRead as _;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use hutong_core::idcard::ResidentId;
use hutong_core::number::{self, mask_id_numbers};
use hutong_server::credentials::Signer;
use hutong_server::handlers::log::InclusionAnswer;
use hutong_server::tlog::{self, InclusionError, LeafRef, Log, LogSettings};

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
    /// Also write the status lists the credential points at (revocation and suspension, as
    /// `GET /status/…` serves them now) into this existing folder, for `hutong verify
    /// --status-list`.
    #[arg(long, value_name = "DIR")]
    pub status_lists: Option<std::path::PathBuf>,
    /// Also write the log proof of the journal entry the credential names (what `GET
    /// /api/v1/log/inclusion?seq=…` answers: the leaf, its inclusion proof and the latest
    /// checkpoint), for `hutong verify --log-proof`. Sequences the journal into the log and
    /// signs a checkpoint with the log key first, as the server does (making `log.key` if this
    /// registry has none yet).
    #[arg(long, value_name = "FILE")]
    pub log_proof: Option<std::path::PathBuf>,
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
    // The log key is read (or checked that it can be made) before anything is made.
    let log_key = match &args.log_proof {
        Some(_) => Some((
            crate::tlog::plan_key(&config)?,
            crate::tlog::witnesses(&config)?,
        )),
        None => None,
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
        if let Some(dir) = &args.status_lists {
            if !dir.is_dir() {
                return Err(invalid(format!(
                    "--status-lists: {} is not a folder",
                    dir.display()
                )));
            }
            let issuer = ctx
                .store
                .issuer(&cert.issuer)
                .await?
                .ok_or_else(|| invalid(format!("issuer {} is not registered", cert.issuer)))?;
            for entry in signer.status_entries(&ctx.secret, &cert.issuer, registry_id) {
                let list_no: i64 = entry
                    .list_credential
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let list = signer
                    .status_list(
                        ctx.store.as_ref(),
                        &ctx.secret,
                        &issuer,
                        entry.purpose,
                        list_no,
                    )
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                let path = dir.join(format!(
                    "{}-{}-{list_no}.json",
                    cert.issuer,
                    entry.purpose.as_str()
                ));
                std::fs::write(&path, serde_json::to_string(&list)? + "\n")
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
        }
        if let (Some(path), Some((key, witnesses))) = (&args.log_proof, log_key) {
            let log = Log::new(Some(LogSettings::new(
                crate::tlog::make_key(key)?,
                witnesses,
            )));
            log.check_identity(ctx.store.as_ref())
                .await
                .map_err(invalid)?;
            let latest = log
                .sync(ctx.store.as_ref())
                .await?
                .ok_or_else(|| anyhow::anyhow!("the log signed no checkpoint"))?;
            let proof = tlog::inclusion(
                ctx.store.as_ref(),
                &latest,
                LeafRef::Seq(exported.journal_seq),
                None,
            )
            .await
            .map_err(|e| match e {
                InclusionError::NoProof(m) => invalid(m),
                InclusionError::Log(e) => e.into(),
            })?;
            let (leaf, size) = (proof.leaf_index, proof.tree_size);
            let text = serde_json::to_string_pretty(&InclusionAnswer::from(proof))? + "\n";
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            let vkey = log.settings().map(LogSettings::vkey).unwrap_or_default();
            eprintln!(
                "the log proof of journal entry {} (leaf {leaf} of the tree of {size} leaves) is in {}; the log's verifier key: {vkey}",
                exported.journal_seq,
                path.display()
            );
        }
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
