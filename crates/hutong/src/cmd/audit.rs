//! `hutong audit`: recomputes every certificate's canonical hash and compares it with the hash
//! its last journal entry recorded. A row changed behind the journal's back (by SQL, by another
//! program) shows; so does a number that does not belong to the holder's keyed hash.
//!
//! Then the transparency log: the tree is recomputed from the journal. Every stored leaf hash
//! must be the hash of the leaf bytes of the entry with its seq, every leaf entry the log has
//! read past must be in it, the stored tile hashes must be those of the stored leaves, and the
//! latest signed checkpoint must carry the recomputed root (and the log key's signature, when
//! the key file is here). Each entry changed, added or removed behind the log's back is
//! reported by its sequence number.

use std::process::ExitCode;

use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};

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
                let key_problem = policy
                    .kind(&c.kind)
                    .map(|k| k.number_scheme)
                    .filter(|s| s.embeds_resident_id())
                    .and_then(|s| match hutong_core::number::embedded_id(s, &c.number) {
                        Some(id) if ctx.secret.key_for(&id) == c.holder_key => None,
                        _ => Some("its number is not the holder's ID number".to_string()),
                    });
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
        let log_key = match std::fs::read_to_string(&ctx.config.log_key_file) {
            Ok(t) => Some(hutong_log::NoteSigner::from_skey(t.trim()).map_err(|e| {
                crate::exit::invalid(format!(
                    "{}: not a log key ({e})",
                    ctx.config.log_key_file.display()
                ))
            })?),
            Err(_) => None,
        };
        bad += audit_log(&*ctx.store, log_key.as_ref(), args.page.max(1)).await?;

        Ok(if bad == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    })
}

/// Recomputes the transparency log from the journal and compares it with what is stored;
/// prints one line per problem and returns how many there were.
async fn audit_log(
    store: &dyn hutong_store::Store,
    key: Option<&hutong_log::NoteSigner>,
    page: usize,
) -> anyhow::Result<u64> {
    use hutong_log::{Checkpoint, Frontier, leaf_hash};

    let head = store.log_head().await?;
    let latest = store.checkpoint(None).await?;
    let mut problems = 0u64;
    let mut report = |line: String| {
        problems += 1;
        println!("{line}");
    };
    // The journal's leaves (recomputed) against the stored ones, merged by seq.
    let mut recomputed = Frontier::new();
    let mut root_at_checkpoint = None;
    let checkpoint_size = latest.as_ref().map(|c| c.size);
    if checkpoint_size == Some(0) {
        root_at_checkpoint = Some(recomputed.root());
    }
    let mut stored = StoredLeaves {
        size: head.size,
        ..Default::default()
    };
    let mut unsequenced = 0u64;
    let mut after = 0u64;
    loop {
        let entries = store.journal(after, page).await?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        for e in &entries {
            if e.seq > head.through_seq {
                unsequenced += u64::from(e.is_log_leaf());
                continue;
            }
            // Stored leaves of seqs before this entry: entries removed from the journal.
            loop {
                stored.refill(store, page).await?;
                match stored.leaves.front() {
                    Some(l) if l.seq < e.seq => {
                        report(format!(
                            "seq {}: removed behind the log's back: leaf {} of the log is no longer in the journal",
                            l.seq, l.index
                        ));
                        stored.leaves.pop_front();
                    }
                    _ => break,
                }
            }
            let leaf = stored.leaves.front().filter(|l| l.seq == e.seq).copied();
            if leaf.is_some() {
                stored.leaves.pop_front();
            }
            if e.is_log_leaf() {
                let h = leaf_hash(&e.leaf_bytes());
                recomputed.push(h);
                if checkpoint_size == Some(recomputed.size()) {
                    root_at_checkpoint = Some(recomputed.root());
                }
                match leaf {
                    Some(l) if l.hash != h => report(format!(
                        "seq {}: changed behind the log's back: leaf {} of the log is {}…, the entry hashes to {}…",
                        e.seq,
                        l.index,
                        &hex(&l.hash)[..12],
                        &hex(&h)[..12]
                    )),
                    Some(_) => {}
                    None => report(format!(
                        "seq {}: added behind the log's back: a {} entry the log read past (it read the journal through entry {}) but does not hold",
                        e.seq, e.subject, head.through_seq
                    )),
                }
            } else if let Some(l) = leaf {
                report(format!(
                    "seq {}: changed behind the log's back: leaf {} of the log, the entry is now a {} {} entry, which is no leaf",
                    e.seq,
                    l.index,
                    e.subject,
                    e.kind()
                ));
            }
        }
        if entries.len() < page {
            break;
        }
    }
    // Stored leaves after the journal's last entry.
    loop {
        stored.refill(store, page).await?;
        let Some(l) = stored.leaves.pop_front() else {
            break;
        };
        report(format!(
            "seq {}: removed behind the log's back: leaf {} of the log is no longer in the journal",
            l.seq, l.index
        ));
    }
    if stored.frontier.size() != head.size {
        report(format!(
            "the log's head says {} leaves, {} are stored",
            head.size,
            stored.frontier.size()
        ));
    }
    // The tile hashes, against the stored leaves they are made of.
    let mut by_level: std::collections::BTreeMap<u8, Vec<&hutong_store::LogNode>> =
        Default::default();
    for n in &stored.nodes {
        by_level.entry(n.level).or_default().push(n);
    }
    for (level, want) in by_level {
        let first = want[0].index;
        let got = store
            .log_nodes(level, first, first + want.len() as u64)
            .await?;
        for (i, n) in want.iter().enumerate() {
            if got.get(i) != Some(&n.hash) {
                report(format!(
                    "tile hash {} of level {level} is not the hash of the stored leaves it covers",
                    n.index
                ));
            }
        }
    }
    // The latest checkpoint: the log's signature, and the root recomputed from the journal.
    match &latest {
        None => println!(
            "the transparency log has no checkpoint yet ({} leaf entries to sequence; the server does it)",
            unsequenced
        ),
        Some(c) => {
            if let Some(k) = key
                && let Err(e) = Checkpoint::open(&c.note, k.name(), &k.verifier())
            {
                report(format!(
                    "the latest checkpoint (size {}) is not signed by the log key: {e}",
                    c.size
                ));
            }
            let text = hutong_log::SignedNote::parse(&c.note)
                .ok()
                .and_then(|n| Checkpoint::parse_body(n.text()).ok());
            match (text, root_at_checkpoint) {
                (None, _) => report(format!(
                    "the latest checkpoint (size {}) cannot be read",
                    c.size
                )),
                (Some(_), None) => report(format!(
                    "the latest checkpoint is of {} leaves, the journal has {} leaf entries",
                    c.size,
                    recomputed.size() + unsequenced
                )),
                (Some(cp), Some(root)) if cp.root != root => report(format!(
                    "the latest checkpoint (size {}) has root {}…, the journal gives {}…",
                    c.size,
                    &hex(&cp.root)[..12],
                    &hex(&root)[..12]
                )),
                _ => {}
            }
        }
    }
    println!(
        "audited the transparency log: {} leaves through journal entry {}, latest checkpoint {}{}: {}",
        head.size,
        head.through_seq,
        latest
            .as_ref()
            .map_or("none".to_string(), |c| format!("of {} leaves", c.size)),
        if unsequenced > 0 {
            format!(", {unsequenced} leaf entries after it not yet sequenced")
        } else {
            String::new()
        },
        if problems == 0 {
            "every leaf is its journal entry and the root is the journal's".to_string()
        } else {
            format!("{problems} problem(s)")
        }
    );
    Ok(problems)
}

/// The stored leaves, read a page at a time, with the tile hashes they make.
#[derive(Default)]
struct StoredLeaves {
    size: u64,
    next: u64,
    leaves: std::collections::VecDeque<hutong_store::LogLeaf>,
    frontier: hutong_log::Frontier,
    nodes: Vec<hutong_store::LogNode>,
}

impl StoredLeaves {
    /// Reads the next page when the leaves read are used up.
    async fn refill(&mut self, store: &dyn hutong_store::Store, page: usize) -> anyhow::Result<()> {
        use hutong_log::tile::TILE_HEIGHT;
        if !self.leaves.is_empty() || self.next >= self.size {
            return Ok(());
        }
        let got = store.log_leaves(self.next, self.next + page as u64).await?;
        self.next += page as u64;
        for l in &got {
            for s in self.frontier.push(l.hash) {
                if s.height % TILE_HEIGHT == 0 {
                    self.nodes.push(hutong_store::LogNode {
                        level: (s.height / TILE_HEIGHT) as u8,
                        index: s.index,
                        hash: s.hash,
                    });
                }
            }
        }
        self.leaves.extend(got);
        Ok(())
    }
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
