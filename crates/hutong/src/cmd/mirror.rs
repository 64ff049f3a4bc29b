//! `hutong mirror`: keeps this registry a copy of another one, from its change feed.
//!
//! Each feed answer is applied in transactions of the source's own (consecutive entries with
//! one actor and instant), each stored with the feed cursor it reaches
//! ([`Store::apply_mirrored`]): stopped at any point, the mirror resumes from the cursor it
//! stored, and applies every entry exactly once. Nothing is judged again (the source judged
//! it, under its policy): each change is replayed ([`CertChange::replay`],
//! [`IssuerChange::apply`]) and the record it makes must have the hash the source's entry
//! recorded, or the mirror stops at that entry, having stored nothing of its transaction. The
//! mirror's records are therefore the source's, hash for hash, and its journal holds the same
//! changes, by the same actors, at the same instants, under its own sequence numbers.
//!
//! Numbers that are or embed an ID number arrive sealed (see [`hutong_core::export`]): the
//! mirror opens them with the holder key file, which must be the source's; the keyed hashes of
//! holders are then the same too, and the mirror answers the one-stop query as the source does.
//! See `docs/feed.md`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Deserialize;

use hutong_core::export::unseal_number;
use hutong_core::journal::{self, CertChange, Subject};
use hutong_core::{Certificate, HolderSecret, Issuer, IssuerChange};
use hutong_store::{
    Issue, IssuerWrite, MirrorCursor, Mirrored, MirroredSubject, MirroredUpdate, Store,
};

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};
use crate::exit::{failed, invalid};
use crate::http::{Client, Refused};

#[derive(clap::Args)]
pub struct Args {
    /// The source registry's address, `http://host:port` (behind a TLS proxy across networks).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// A token of the source with the right to read its feed (a regulator's, an authority's or
    /// an institution's); better given in the environment than on the command line.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "HUTONG_MIRROR_TOKEN",
        hide_env_values = true
    )]
    pub token: String,
    /// Only this department's certificates and issuers (the feed's `department`).
    #[arg(long, value_name = "ID")]
    pub department: Option<String>,
    /// Only this province's (the feed's `region`, a GB/T 2260 code).
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// Only this issuer's certificates and record (the feed's `issuer`).
    #[arg(long, value_name = "ID")]
    pub issuer: Option<String>,
    /// Stop once up to date with the source, instead of following it.
    #[arg(long)]
    pub once: bool,
}

/// The most entries asked for in one answer.
const LIMIT: usize = 1_000;
/// How long one request waits at the source for new entries.
const WAIT: Duration = Duration::from_secs(25);
/// The largest answer read: 1,000 entries of a few kilobytes at most.
const MAX_ANSWER: usize = 64 << 20;

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let base = args.from.trim().trim_end_matches('/').to_string();
    if !base.starts_with("http://") {
        return Err(invalid(format!(
            "--from {base}: give the source as http://host:port (https is reached through a local TLS proxy)"
        )));
    }
    let mut scope = String::new();
    for (name, v) in [
        ("department", &args.department),
        ("region", &args.region),
        ("issuer", &args.issuer),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return Err(invalid(format!("--{name} {v}: not an id")));
            }
            scope.push_str(&format!("&{name}={v}"));
        }
    }
    let token = args.token.trim().to_string();
    runtime()?.block_on(async move {
        let ctx = context::open(config, context::Reads::Primary).await?;
        // The cursor is kept per source and scope: another scope is another mirror.
        let source = match scope.strip_prefix('&') {
            Some(q) => format!("{base}/api/v1/feed?{q}"),
            None => format!("{base}/api/v1/feed"),
        };
        let mut mirror = Mirror {
            store: &*ctx.store,
            secret: &ctx.secret,
            source: source.clone(),
            after: ctx.store.mirror_cursor(&source).await?.unwrap_or(0),
        };
        if mirror.after == 0 && !(ctx.store.is_empty().await? && ctx.store.issuers().await?.is_empty()) {
            return Err(invalid(format!(
                "this registry holds data and is no mirror of {source}: mirror into an empty registry (a new --data-dir or --database)"
            )));
        }
        let client = Client::new(MAX_ANSWER);
        let started = Instant::now();
        let (mut applied, mut retries) = (0u64, 0u32);
        let mut last_report = Instant::now();
        eprintln!(
            "mirroring {source} from entry {} into {}",
            mirror.after,
            ctx.store.backend()
        );
        loop {
            let wait = if args.once { Duration::ZERO } else { WAIT };
            let url = format!(
                "{base}/api/v1/feed?after={}&limit={LIMIT}&wait={}{scope}",
                mirror.after,
                wait.as_secs()
            );
            let answer = match client.get_with_token(&url, &token, wait).await {
                Ok(body) => {
                    retries = 0;
                    serde_json::from_str::<Answer>(&body)
                        .with_context(|| format!("{url}: the answer is not a feed answer"))?
                }
                Err(e) => {
                    if let Some(r) = e.downcast_ref::<Refused>()
                        && r.status.is_client_error()
                        && r.status != hyper::StatusCode::TOO_MANY_REQUESTS
                    {
                        return Err(failed(format!("the source refused the feed: {r}")));
                    }
                    // The source is down or busy: try again, waiting longer each time.
                    retries += 1;
                    let pause = Duration::from_secs(1 << retries.min(5));
                    tracing::warn!(error = %e, "the source did not answer; trying again in {} s", pause.as_secs());
                    tokio::time::sleep(pause).await;
                    continue;
                }
            };
            let caught_up = answer.next >= answer.head;
            applied += mirror.apply(answer).await?;
            if last_report.elapsed() >= Duration::from_secs(5) || (args.once && caught_up) {
                eprintln!(
                    "{applied} entries applied in {:.1} s; at entry {} of the source",
                    started.elapsed().as_secs_f64(),
                    mirror.after
                );
                last_report = Instant::now();
            }
            if args.once && caught_up {
                return Ok(ExitCode::SUCCESS);
            }
        }
    })
}

/// A feed answer, as much of it as the mirror reads.
#[derive(Deserialize)]
struct Answer {
    entries: Vec<FeedEntry>,
    next: u64,
    head: u64,
}

#[derive(Deserialize)]
struct FeedEntry {
    seq: u64,
    at: String,
    actor: String,
    subject: String,
    change: Box<serde_json::value::RawValue>,
    record_sha256: Option<String>,
    certificate: Option<FeedCertificate>,
}

#[derive(Deserialize)]
struct FeedCertificate {
    number: String,
    kind: String,
}

struct Mirror<'a> {
    store: &'a dyn Store,
    secret: &'a HolderSecret,
    source: String,
    /// The cursor stored.
    after: u64,
}

impl Mirror<'_> {
    /// Applies an answer's entries, one source transaction at a time, and moves the cursor to
    /// the answer's `next`. Returns how many entries were applied.
    async fn apply(&mut self, answer: Answer) -> anyhow::Result<u64> {
        let mut applied = 0;
        let mut entries = answer.entries.into_iter().peekable();
        while let Some(first) = entries.next() {
            let mut group = vec![first];
            while let Some(e) = entries.peek()
                && (e.actor.as_str(), e.at.as_str())
                    == (group[0].actor.as_str(), group[0].at.as_str())
            {
                group.extend(entries.next());
            }
            let through = group.last().map(|e| e.seq).unwrap_or(self.after);
            let writes = self.writes(&group).await?;
            let at = chrono::DateTime::parse_from_rfc3339(&group[0].at)
                .map_err(|e| {
                    failed(format!(
                        "entry {}: the instant {:?}: {e}",
                        group[0].seq, group[0].at
                    ))
                })?
                .timestamp_micros();
            self.store
                .apply_mirrored(&writes, &group[0].actor, at, self.cursor(through))
                .await
                .with_context(|| {
                    format!(
                        "entries {}..={through} of the source could not be stored; nothing of them was",
                        group[0].seq
                    )
                })?;
            self.after = through;
            applied += group.len() as u64;
        }
        if answer.next > self.after {
            // Entries outside the scope were skipped: the cursor moves past them alone.
            self.store
                .apply_mirrored(
                    &[],
                    "mirror",
                    journal::now_micros(),
                    self.cursor(answer.next),
                )
                .await?;
            self.after = answer.next;
        }
        Ok(applied)
    }

    fn cursor(&self, through: u64) -> MirrorCursor<'_> {
        MirrorCursor {
            source: &self.source,
            after: self.after,
            through,
        }
    }

    /// The writes of one source transaction, each record rebuilt or replayed and checked
    /// against the source's hash. Records changed earlier in the same transaction are taken
    /// as changed.
    async fn writes(&self, group: &[FeedEntry]) -> anyhow::Result<Vec<Mirrored>> {
        let mut certs: HashMap<(String, String), Certificate> = HashMap::new();
        let mut issuers: HashMap<String, Option<Issuer>> = HashMap::new();
        let mut out = Vec::with_capacity(group.len());
        for e in group {
            let at_entry =
                |what: String| failed(format!("entry {} ({}): {what}", e.seq, e.subject));
            let change = e.change.get();
            let kind = journal::change_kind(change).unwrap_or("unknown");
            let subject: Subject = e.subject.parse().map_err(at_entry)?;
            let hash_checked = |made: &str| -> anyhow::Result<String> {
                let made = journal::sha256_hex(made.as_bytes());
                match &e.record_sha256 {
                    Some(h) if *h == made => Ok(made),
                    h => Err(at_entry(format!(
                        "the record replayed here has the hash {made}, the source's {}: the registries differ",
                        h.as_deref().unwrap_or("none")
                    ))),
                }
            };
            match subject {
                Subject::Certificate(_) => {
                    let c = e.certificate.as_ref().ok_or_else(|| {
                        at_entry(
                            "the source gives no certificate identity (an older hutong?)".into(),
                        )
                    })?;
                    let number = match unseal_number(self.secret, &c.kind, &c.number) {
                        Some(opened) => opened.map_err(|why| {
                            at_entry(format!(
                                "{why}; a mirror needs the source's holder key file"
                            ))
                        })?,
                        None => c.number.clone(),
                    };
                    let identity = (number.clone(), c.kind.clone());
                    if kind == "refused" {
                        out.push(Mirrored::Note {
                            about: MirroredSubject::Certificate {
                                number,
                                kind: c.kind.clone(),
                            },
                            change: change.to_string(),
                        });
                        continue;
                    }
                    if kind == "issued" {
                        #[derive(Deserialize)]
                        struct Issued<'a> {
                            #[serde(borrow)]
                            record: &'a serde_json::value::RawValue,
                            renews: Option<String>,
                        }
                        let issued: Issued = serde_json::from_str(change)
                            .map_err(|err| at_entry(format!("the issue does not read: {err}")))?;
                        let cert =
                            journal::certificate_from_canonical(issued.record.get(), &number)
                                .map_err(at_entry)?;
                        let issue = match &issued.renews {
                            Some(old) => Issue::renewing(cert.clone(), old),
                            None => Issue::new(cert.clone()),
                        };
                        hash_checked(&issue.canonical)?;
                        if issue.change() != change {
                            return Err(at_entry(
                                "the issue rebuilt here is not the source's change".into(),
                            ));
                        }
                        certs.insert(identity, cert);
                        out.push(Mirrored::Issue(issue));
                        continue;
                    }
                    let ch: CertChange = serde_json::from_str(change)
                        .map_err(|err| at_entry(format!("the change does not read: {err}")))?;
                    let before = match certs.get(&identity) {
                        Some(c) => c.clone(),
                        None => self
                            .store
                            .certificate(&number, &c.kind)
                            .await?
                            .ok_or_else(|| at_entry("the certificate is not here".into()))?,
                    };
                    let after = ch.replay(&before);
                    let sha = hash_checked(&journal::certificate_canonical(&after))?;
                    certs.insert(identity, after.clone());
                    out.push(Mirrored::Update(MirroredUpdate {
                        before,
                        after,
                        after_sha256: sha,
                        change: change.to_string(),
                    }));
                }
                Subject::Issuer(id) => {
                    if kind == "refused" {
                        out.push(Mirrored::Note {
                            about: MirroredSubject::Issuer(id),
                            change: change.to_string(),
                        });
                        continue;
                    }
                    let before = match issuers.get(&id) {
                        Some(i) => i.clone(),
                        None => self.store.issuer(&id).await?,
                    };
                    #[derive(Deserialize)]
                    struct WithRecord {
                        record: Option<Issuer>,
                    }
                    let with_record: WithRecord = serde_json::from_str(change)
                        .map_err(|err| at_entry(format!("the change does not read: {err}")))?;
                    let after = match with_record.record {
                        // A register file's registration or amendment holds the whole record.
                        Some(record) => record,
                        None => {
                            let ch: IssuerChange = serde_json::from_str(change).map_err(|err| {
                                at_entry(format!("the change does not read: {err}"))
                            })?;
                            ch.apply(before.as_ref()).map_err(|r| {
                                at_entry(format!("the change does not apply here: {r}"))
                            })?
                        }
                    };
                    if after.id != id {
                        return Err(at_entry(format!("the record is issuer {}", after.id)));
                    }
                    let sha = hash_checked(&journal::canonical(&after))?;
                    issuers.insert(id, Some(after.clone()));
                    out.push(Mirrored::Issuer(IssuerWrite {
                        before,
                        after,
                        after_sha256: sha,
                        change: change.to_string(),
                    }));
                }
                _ => return Err(at_entry("the feed holds no such entry".into())),
            }
        }
        Ok(out)
    }
}
