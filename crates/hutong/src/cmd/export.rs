//! `hutong export`: certificates in the import format, never with an ID number.
//!
//! Each row gives the holder's keyed hash (`holder_key`) in place of `holder_id`, which the
//! registry does not have, and seals the numbers that are or embed an ID number; see
//! [`hutong_core::export`] for the format and for how another registry with the same holder key
//! file imports it (`hutong import`, as any file).

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use hutong_core::date::{Day, parse_day};
use hutong_core::export::{holder_key_field, number_field};
use hutong_core::{AdminState, Certificate, HolderSecret, Policy, Status};

use crate::cmd::import::Format;
use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::invalid;

#[derive(clap::Args)]
pub struct Args {
    /// The file to write: CSV or NDJSON (by its extension, or --format). It is replaced.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Only certificates of this kind (repeat for several).
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only certificates of this issuer (repeat for several).
    #[arg(long, value_name = "ID")]
    pub issuer: Vec<String>,
    /// Only certificates whose issuer is in this province (GB/T 2260 code; repeat for several).
    #[arg(long, value_name = "CODE")]
    pub region: Vec<String>,
    /// Only certificates with this status on --on (valid, review-due, expired, suspended,
    /// revoked; repeat for several).
    #[arg(long, value_name = "STATUS")]
    pub status: Vec<String>,
    /// The day --status is judged on (default: today in China).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "status")]
    pub on: Option<String>,
    /// Only certificates issued on or after this day.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub issued_from: Option<String>,
    /// Only certificates issued on or before this day.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub issued_to: Option<String>,
    /// Also write the issuers of the exported certificates, as an issuers file
    /// (`hutong issuers import`), for the registry that imports the export.
    #[arg(long, value_name = "FILE")]
    pub issuers: Option<PathBuf>,
}

/// The columns of an export, in order: the import format's, with `holder_key` for `holder_id`.
pub const COLUMNS: [&str; 14] = [
    "number",
    "kind",
    "holder_name",
    "holder_key",
    "occupation",
    "level",
    "issuer",
    "issued_on",
    "valid_until",
    "status",
    "status_on",
    "first_issued_on",
    "last_review_on",
    "status_reason",
];

struct Filter {
    kinds: HashSet<String>,
    issuers: HashSet<String>,
    regions: HashSet<String>,
    statuses: Vec<Status>,
    on: Day,
    from: Option<Day>,
    to: Option<Day>,
}

impl Filter {
    fn read(args: &Args, policy: &Policy) -> anyhow::Result<Filter> {
        let day = |flag: &str, s: &Option<String>| -> anyhow::Result<Option<Day>> {
            s.as_deref()
                .map(|s| parse_day(s).map_err(|e| invalid(format!("--{flag}: {e}"))))
                .transpose()
        };
        for k in &args.kind {
            if policy.kind(k).is_none() {
                return Err(invalid(format!(
                    "--kind {k}: not a certificate kind of the policy"
                )));
            }
        }
        for r in &args.region {
            if policy.region(r).is_none() {
                return Err(invalid(format!(
                    "--region {r}: not a province code of the policy (GB/T 2260, two digits)"
                )));
            }
        }
        let statuses = args
            .status
            .iter()
            .map(|s| {
                s.parse::<Status>()
                    .map_err(|e| invalid(format!("--status {s}: {e}")))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let from = day("issued-from", &args.issued_from)?;
        let to = day("issued-to", &args.issued_to)?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(invalid(format!(
                "--issued-from {f} is after --issued-to {t}"
            )));
        }
        Ok(Filter {
            kinds: args.kind.iter().cloned().collect(),
            issuers: args.issuer.iter().cloned().collect(),
            regions: args.region.iter().cloned().collect(),
            statuses,
            on: day("on", &args.on)?.unwrap_or_else(hutong_core::date::today_in_china),
            from,
            to,
        })
    }

    fn keeps(&self, c: &Certificate, policy: &Policy, regions: &HashMap<String, String>) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&c.kind))
            && (self.issuers.is_empty() || self.issuers.contains(&c.issuer))
            && (self.regions.is_empty()
                || regions
                    .get(&c.issuer)
                    .is_some_and(|r| self.regions.contains(r)))
            && self.from.is_none_or(|f| c.issued_on >= f)
            && self.to.is_none_or(|t| c.issued_on <= t)
            && (self.statuses.is_empty()
                || policy
                    .status_of(c, self.on)
                    .is_some_and(|r| self.statuses.contains(&r.status)))
    }
}

/// One certificate as an export row, in [`COLUMNS`] order.
pub fn row(c: &Certificate, policy: &Policy, secret: &HolderSecret) -> [String; 14] {
    let number = number_field(policy, secret, c);
    let day = |d: Option<Day>| d.map(|d| d.to_string()).unwrap_or_default();
    let (status, status_on, reason) = match c.state {
        AdminState::Active => ("valid", None, None),
        AdminState::Suspended { since } => ("suspended", Some(since), None),
        AdminState::Revoked { on, reason } => ("revoked", Some(on), reason),
    };
    [
        number,
        c.kind.clone(),
        c.holder_name.clone(),
        holder_key_field(secret, &c.holder_key),
        c.occupation.clone().unwrap_or_default(),
        c.level.map(|l| l.id().to_string()).unwrap_or_default(),
        c.issuer.clone(),
        c.issued_on.to_string(),
        day(c.valid_until),
        status.to_string(),
        day(status_on),
        c.first_issued_on.to_string(),
        day(c.last_review_on),
        reason.map(|r| r.id().to_string()).unwrap_or_default(),
    ]
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let format = match args.format {
        Some(f) => f,
        None => crate::cmd::import::detect_format(&args.output)?,
    };
    if let Some(folder) = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        return Err(invalid(format!(
            "--output {}: the folder {} does not exist",
            args.output.display(),
            folder.display()
        )));
    }
    runtime()?.block_on(async move {
        let ctx = context::open(config, context::Reads::Replica).await?;
        let filter = Filter::read(&args, &ctx.policy)?;
        let regions: HashMap<String, String> = ctx
            .store
            .issuers()
            .await?
            .into_iter()
            .filter_map(|i| Some((i.id, i.region?)))
            .collect();
        let start = Instant::now();
        // Written to a file beside the output and renamed at the end, so that a failed export
        // never leaves half a file under the name asked for.
        let partial = PathBuf::from(format!("{}.partial", args.output.display()));
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let mut named = HashSet::new();
        let result = write_rows(&ctx, &filter, &regions, format, file, &mut named).await;
        let (read, written) = match result {
            Ok(counts) => counts,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, &args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
        if let Some(path) = &args.issuers {
            #[derive(serde::Serialize)]
            struct IssuersFile {
                issuer: Vec<hutong_core::Issuer>,
            }
            let file = IssuersFile {
                issuer: ctx
                    .store
                    .issuers()
                    .await?
                    .into_iter()
                    .filter(|i| named.contains(&i.id))
                    .collect(),
            };
            let text = format!(
                "# The issuers of the certificates in {}, for `hutong issuers import`.\n\n{}",
                args.output.display(),
                toml::to_string(&file).context("cannot write the issuers as TOML")?
            );
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote {} issuer(s) to {}", file.issuer.len(), path.display());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "exported {written} of {read} certificates to {} in {secs:.1} s ({:.0} certificates/s); holder key fingerprint {}",
            args.output.display(),
            read as f64 / secs.max(1e-9),
            ctx.secret.fingerprint()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes every certificate the filter keeps, in registry order; returns how many were read and
/// how many written.
async fn write_rows(
    ctx: &context::Context,
    filter: &Filter,
    regions: &HashMap<String, String>,
    format: Format,
    file: std::fs::File,
    named: &mut HashSet<String>,
) -> anyhow::Result<(u64, u64)> {
    let mut csv = (format == Format::Csv).then(|| csv::Writer::from_writer(&file));
    let mut ndjson = (format == Format::Ndjson).then(|| std::io::BufWriter::new(&file));
    if let Some(w) = csv.as_mut() {
        w.write_record(COLUMNS)?;
    }
    let total = ctx.store.certificate_count_estimate().await?;
    let progress = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} export {bar:30} {pos}/{len} {per_sec} eta {eta}")
    {
        progress.set_style(style);
    }
    let (mut read, mut written, mut after) = (0u64, 0u64, 0i64);
    loop {
        let page = ctx.store.audit_page(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            read += 1;
            let c = &r.certificate;
            if !filter.keeps(c, &ctx.policy, regions) {
                continue;
            }
            if !named.contains(&c.issuer) {
                named.insert(c.issuer.clone());
            }
            let fields = row(c, &ctx.policy, &ctx.secret);
            if let Some(w) = csv.as_mut() {
                w.write_record(&fields)?;
            }
            if let Some(out) = ndjson.as_mut() {
                let object: serde_json::Map<String, serde_json::Value> = COLUMNS
                    .iter()
                    .zip(fields)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                    .collect();
                serde_json::to_writer(&mut *out, &object)?;
                out.write_all(b"\n")?;
            }
            written += 1;
        }
        progress.set_position(read);
    }
    if let Some(mut w) = csv {
        w.flush()?;
    }
    if let Some(mut out) = ndjson {
        out.flush()?;
    }
    file.sync_all()?;
    progress.finish_and_clear();
    Ok((read, written))
}
