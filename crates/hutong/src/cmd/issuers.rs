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
    /// if any is wrong, none is stored. What would change is printed first: each issuer's
    /// gained and lost rights, dates and fields, and how many registered certificates would get
    /// another outcome of their issuer check; when there are any, nothing is stored without
    /// `--yes`.
    Import {
        file: PathBuf,
        /// Store the changes even though registered certificates would change their issuer check.
        #[arg(long)]
        yes: bool,
        /// Print what would change and store nothing.
        #[arg(long, conflicts_with = "yes")]
        dry_run: bool,
    },
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

/// What an issuers import would change, worked out before anything is stored.
#[derive(Debug, Default)]
pub struct ImportPlan {
    /// Per issuer that is new or amended: its id, name and the lines that say what changes.
    pub changes: Vec<(String, String, Vec<String>)>,
    pub unchanged: usize,
    /// Registered certificates whose issuer check (outcome or reason) would change today.
    pub affected: u64,
    /// Of those, how many pass today and would not: the ones a person should look at first.
    pub newly_failing: u64,
}

impl ImportPlan {
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (id, name, lines) in &self.changes {
            match lines.as_slice() {
                [one] => {
                    let _ = writeln!(out, "{id} ({name}): {one}");
                }
                _ => {
                    let _ = writeln!(out, "{id} ({name}):");
                    for l in lines {
                        let _ = writeln!(out, "  {l}");
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "{} issuer(s) change, {} unchanged; {} registered certificate(s) would change their \
             issuer check today ({} of them from pass to fail)",
            self.changes.len(),
            self.unchanged,
            self.affected,
            self.newly_failing
        );
        out
    }
}

/// Compares the file's issuers with the register and counts the registered certificates whose
/// issuer check would change. Certificates are read a page at a time, in id order.
pub async fn plan_import(
    store: &dyn hutong_store::Store,
    policy: &hutong_core::Policy,
    issuers: &[Issuer],
    today: hutong_core::Day,
) -> anyhow::Result<ImportPlan> {
    use hutong_core::verify::{CheckId, Outcome};
    let mut plan = ImportPlan::default();
    let mut changed: std::collections::HashMap<&str, (Option<Issuer>, &Issuer)> =
        std::collections::HashMap::new();
    for i in issuers {
        let before = store.issuer(&i.id).await?;
        match &before {
            Some(b) if b == i => plan.unchanged += 1,
            Some(b) => {
                plan.changes
                    .push((i.id.clone(), i.name_zh.clone(), differences(b, i)));
                changed.insert(&i.id, (before, i));
            }
            None => {
                plan.changes.push((
                    i.id.clone(),
                    i.name_zh.clone(),
                    vec![format!("new issuer, {} right(s)", i.grants.len())],
                ));
                changed.insert(&i.id, (None, i));
            }
        }
    }
    if changed.is_empty() {
        return Ok(plan);
    }
    let issuer_check = |cert: &hutong_core::Certificate, issuer: Option<&Issuer>| {
        hutong_core::verify::verify(policy, cert, issuer, today)
            .checks
            .into_iter()
            .find(|c| c.id == CheckId::Issuer)
            .map(|c| (c.outcome, c.why))
    };
    let mut after = 0i64;
    loop {
        let page = store.audit_page(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            let Some((before, new)) = changed.get(row.certificate.issuer.as_str()) else {
                continue;
            };
            let was = issuer_check(&row.certificate, before.as_ref());
            let will = issuer_check(&row.certificate, Some(new));
            if was != will {
                plan.affected += 1;
                let passes = |c: &Option<(Outcome, _)>| matches!(c, Some((Outcome::Pass, _)));
                if passes(&was) && !passes(&will) {
                    plan.newly_failing += 1;
                }
            }
        }
    }
    Ok(plan)
}

/// What differs between two records of one issuer, one line per right or field.
fn differences(before: &Issuer, after: &Issuer) -> Vec<String> {
    let mut out = Vec::new();
    let right = |g: &hutong_core::issuer::Grant| {
        let mut s = g.kind.clone();
        if let Some(o) = &g.occupation {
            s.push(' ');
            s.push_str(o);
        }
        if !g.levels.is_empty() {
            let levels: Vec<String> = g.levels.iter().map(|l| l.to_string()).collect();
            s.push_str(&format!(" levels {}", levels.join(",")));
        }
        s
    };
    let dates = |g: &hutong_core::issuer::Grant| match g.valid_until {
        Some(u) => format!("{} to {u}", g.valid_from),
        None => format!("from {}", g.valid_from),
    };
    for g in &after.grants {
        if before.grants.contains(g) {
            continue;
        }
        match before
            .grants
            .iter()
            .find(|b| right(b) == right(g) && !after.grants.contains(b))
        {
            Some(b) => out.push(format!("right {}: {} -> {}", right(g), dates(b), dates(g))),
            None => out.push(format!("gains right {} {}", right(g), dates(g))),
        }
    }
    for b in &before.grants {
        if !after.grants.contains(b) && !after.grants.iter().any(|g| right(g) == right(b)) {
            out.push(format!("loses right {} {}", right(b), dates(b)));
        }
    }
    let period = |s: &hutong_core::issuer::Suspension| match s.until {
        Some(u) => format!("{} until {u}", s.from),
        None => format!("from {}", s.from),
    };
    for s in &after.suspensions {
        if !before.suspensions.contains(s) {
            out.push(format!("suspension {}", period(s)));
        }
    }
    for s in &before.suspensions {
        if !after.suspensions.contains(s) {
            out.push(format!("suspension {} removed", period(s)));
        }
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "(none)".to_string());
    let mut field = |name: &str, b: Option<String>, a: Option<String>| {
        if b != a {
            out.push(format!("{name}: {} -> {}", show(b), show(a)));
        }
    };
    field(
        "name_zh",
        Some(before.name_zh.clone()),
        Some(after.name_zh.clone()),
    );
    field("name_en", before.name_en.clone(), after.name_en.clone());
    field(
        "department",
        Some(before.department.clone()),
        Some(after.department.clone()),
    );
    field(
        "role",
        Some(before.role.id().to_string()),
        Some(after.role.id().to_string()),
    );
    field("region", before.region.clone(), after.region.clone());
    field(
        "institution_type",
        before.institution_type.clone(),
        after.institution_type.clone(),
    );
    field(
        "institution_code",
        before.institution_code.clone(),
        after.institution_code.clone(),
    );
    field(
        "registered_on",
        Some(before.registered_on.to_string()),
        Some(after.registered_on.to_string()),
    );
    field(
        "removed_on",
        before.removed_on.map(|d| d.to_string()),
        after.removed_on.map(|d| d.to_string()),
    );
    field("contact", before.contact.clone(), after.contact.clone());
    field(
        "credit_code",
        before.credit_code.as_ref().map(|c| c.as_str().to_string()),
        after.credit_code.as_ref().map(|c| c.as_str().to_string()),
    );
    out
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
            Command::Import { file, .. } => {
                let policy = context::load_policy(&config.policy)?;
                read_file(file, &policy)?
            }
            Command::List { .. } => Vec::new(),
        };
        let ctx = context::open(config, reads).await?;
        match cmd {
            Command::Import { file, yes, dry_run } => {
                let today = hutong_core::date::today_in_china();
                let plan = plan_import(&*ctx.store, &ctx.policy, &issuers, today).await?;
                print!("{}", plan.describe());
                if dry_run {
                    println!("--dry-run: nothing was stored");
                    return Ok(ExitCode::SUCCESS);
                }
                if plan.affected > 0 && !yes {
                    return Err(invalid(format!(
                        "{} registered certificate(s) would change their issuer check; nothing \
                         was stored: run again with --yes to store these changes",
                        plan.affected
                    )));
                }
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
