//! `hutong import FILE`: certificates from CSV or NDJSON.
//!
//! Every row is checked (ID checksum, number format for the kind, known kind, occupation, level
//! and issuer, the issuer's right to issue it, consistent dates). Bad rows are reported with
//! their line and reason and never stored; the good ones are stored in batches, each batch one
//! transaction. With `--strict`, one bad row rejects the whole file. Importing the same file
//! again changes nothing. Exit code 0 when every row was stored or already present, 3 when any
//! row was rejected. A row may be at most [`rows::MAX_ROW_BYTES`] long; messages never repeat an ID
//! number whole.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use hutong_core::date::Day;
use hutong_core::number::{display, mask_id_numbers};
use hutong_core::record::check_record;
use hutong_core::rows::{self, Rows};
use hutong_core::{HolderSecret, Issuer, Policy, journal};
use hutong_store::{InsertMode, Issue, RowOutcome, StoreError};

use crate::config::{Config, GlobalArgs};
use crate::context::{self, Context, runtime};
use crate::exit::INVALID;

/// Rows per transaction by default: large enough that a commit's sync and the index pages it
/// rewrites are spread over many rows, small enough that a batch stays a few tens of megabytes.
pub const DEFAULT_BATCH: u32 = 50_000;

#[derive(clap::Args)]
pub struct Args {
    /// The file: CSV with the header
    /// number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status
    /// (optional extra columns: status_on, first_issued_on, last_review_on), or NDJSON with the
    /// same field names, one object per line. A row may be at most 65,536 bytes.
    pub file: PathBuf,
    /// The file's format; by default taken from its extension (.csv, .ndjson, .jsonl).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Reject the whole file if any row is bad: store all rows or none.
    #[arg(long)]
    pub strict: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = DEFAULT_BATCH, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
    /// Who the import is recorded as, in each certificate's history.
    #[arg(long, default_value = "import")]
    pub by: String,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Csv,
    Ndjson,
}

/// Counts for the summary line.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub stored: u64,
    pub unchanged: u64,
    pub invalid: u64,
    pub conflicting: u64,
}

impl Summary {
    fn rejected(&self) -> u64 {
        self.invalid + self.conflicting
    }
}

pub fn detect_format(path: &Path) -> anyhow::Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(Format::Csv),
        Some("ndjson") | Some("jsonl") => Ok(Format::Ndjson),
        _ => Err(crate::exit::invalid(format!(
            "{}: cannot tell the format from the extension; use --format csv or --format ndjson",
            path.display()
        ))),
    }
}

/// Reports a rejected row on standard error, with any ID number in the reason masked.
fn reject(shown: &str, line: u64, why: &str) {
    eprintln!("{shown}:{line}: rejected: {}", mask_id_numbers(why));
}

/// Opens the file and reads its header: done before the database is opened, so that a file that
/// cannot be imported makes nothing.
fn open_rows(args: &Args, progress: &ProgressBar) -> anyhow::Result<Rows> {
    let path = &args.file;
    let shown = path.display().to_string();
    let format = match args.format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    let file =
        File::open(path).map_err(|e| crate::exit::invalid(format!("cannot open {shown}: {e}")))?;
    let counting = CountingReader {
        inner: file,
        progress: progress.clone(),
    };
    let format = match format {
        Format::Csv => rows::Format::Csv,
        Format::Ndjson => rows::Format::Ndjson,
    };
    Rows::open(&shown, format, Box::new(counting)).map_err(crate::exit::invalid)
}

/// Checked rows on their way to the store: each record with its canonical form and hash, the
/// line it came from, and which of them gave a suspension or revocation without its date.
struct Chunk {
    /// Rows read since the previous chunk, good or bad.
    read: u64,
    /// The rows that were rejected, with their line and the reason.
    rejected: Vec<(u64, String)>,
    lines: Vec<u64>,
    issues: Vec<Issue>,
    /// Indexes into `issues` of the rows whose state's date was not given.
    unstated: Vec<usize>,
}

impl Chunk {
    fn new(batch: usize) -> Chunk {
        Chunk {
            read: 0,
            rejected: Vec::new(),
            lines: Vec::with_capacity(batch),
            issues: Vec::with_capacity(batch),
            unstated: Vec::new(),
        }
    }
}

/// What the checking thread sends the writer. The channel ends with [`Msg::End`]; a channel
/// that closes without it means the checking thread died, and the import fails.
enum Msg {
    Chunk(Chunk),
    End,
    Failed(anyhow::Error),
}

/// Chunks in flight between the checking thread and the writer: one being stored, one ready.
const CHUNKS_IN_FLIGHT: usize = 2;

/// What the checking thread needs, owned.
struct Checker {
    policy: Arc<Policy>,
    secret: HolderSecret,
    issuers: HashMap<String, Issuer>,
    today: Day,
    batch: usize,
}

impl Checker {
    /// Reads and checks every row, and makes each good one's canonical form and hash, sending
    /// them in chunks of `batch` good rows. Runs on its own thread while the writer stores the
    /// previous chunk. Stops early if the writer has gone.
    fn run(self, mut rows: Rows, tx: mpsc::Sender<Msg>) {
        let mut chunk = Chunk::new(self.batch);
        loop {
            let row = match rows.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Msg::Failed(
                        anyhow::Error::new(e).context("cannot read the file"),
                    ));
                    return;
                }
            };
            chunk.read += 1;
            match row {
                Err((line, msg)) => chunk.rejected.push((line, format!("the row {msg}"))),
                Ok(row) => {
                    let issuer = self.issuers.get(row.input.issuer.trim());
                    match check_record(&self.policy, issuer, &self.secret, &row.input, self.today) {
                        Err(errors) => {
                            let why: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                            chunk.rejected.push((row.line, why.join("; ")));
                        }
                        Ok(checked) => {
                            if checked.state_date_unstated {
                                chunk.unstated.push(chunk.issues.len());
                            }
                            chunk.lines.push(row.line);
                            chunk.issues.push(Issue::new(checked.certificate));
                        }
                    }
                }
            }
            if chunk.issues.len() >= self.batch || chunk.rejected.len() >= self.batch {
                let full = std::mem::replace(&mut chunk, Chunk::new(self.batch));
                if tx.blocking_send(Msg::Chunk(full)).is_err() {
                    return;
                }
            }
        }
        if chunk.read > 0 && tx.blocking_send(Msg::Chunk(chunk)).is_err() {
            return;
        }
        let _ = tx.blocking_send(Msg::End);
    }
}

/// Checks rows and stores the good ones. Reports each rejected row on standard error.
///
/// Reading, checking (ID number, number, rights, holder key) and the canonical form and hash of
/// each record run on one thread; storing runs on this one, a chunk at a time, so that the two
/// overlap. Each chunk is one transaction.
async fn import(ctx: &Context, args: &Args, rows: Rows) -> anyhow::Result<Summary> {
    let shown = args.file.display().to_string();
    let issuers: HashMap<String, Issuer> = ctx
        .store
        .issuers()
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let checker = Checker {
        policy: ctx.policy.clone(),
        secret: ctx.secret.clone(),
        issuers,
        today: hutong_core::date::today_in_china(),
        batch: args.batch as usize,
    };
    let (tx, mut rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let thread = std::thread::Builder::new()
        .name("import-check".into())
        .spawn(move || checker.run(rows, tx))
        .context("cannot start the thread that checks the rows")?;
    let result = store_chunks(ctx, args, &shown, &mut rx).await;
    // If storing failed, the checking thread stops at its next send.
    drop(rx);
    let joined = thread.join();
    let summary = result?;
    if joined.is_err() {
        anyhow::bail!("the thread checking the rows failed");
    }
    Ok(summary)
}

async fn store_chunks(
    ctx: &Context,
    args: &Args,
    shown: &str,
    rx: &mut mpsc::Receiver<Msg>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut held_back = Chunk::new(0);
    loop {
        let mut chunk = match rx.recv().await {
            Some(Msg::Chunk(c)) => c,
            Some(Msg::End) => break,
            Some(Msg::Failed(e)) => return Err(e),
            None => anyhow::bail!(
                "the rows stopped before the end of {shown}: the thread checking them failed"
            ),
        };
        summary.read += chunk.read;
        summary.invalid += chunk.rejected.len() as u64;
        // A chunk's rows precede the next chunk's: its rejections, invalid and conflicting
        // alike, are printed in line order.
        let mut rejections = std::mem::take(&mut chunk.rejected);
        if args.strict {
            print_in_line_order(shown, rejections);
            let offset = held_back.issues.len();
            held_back
                .unstated
                .extend(chunk.unstated.iter().map(|i| i + offset));
            held_back.lines.append(&mut chunk.lines);
            held_back.issues.append(&mut chunk.issues);
        } else {
            store_batch(ctx, args, &mut chunk, &mut summary, &mut rejections).await?;
            print_in_line_order(shown, rejections);
        }
    }
    if !args.strict {
        return Ok(summary);
    }
    if summary.rejected() > 0 {
        return Ok(summary);
    }
    // A number and kind twice in the file with different data: the later row is the one
    // rejected, naming the line of the first. (The same data twice is harmless: unchanged.)
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, issue) in held_back.issues.iter().enumerate() {
        let c = &issue.certificate;
        match first.entry((c.number.as_str(), c.kind.as_str())) {
            Entry::Vacant(v) => {
                v.insert(i);
            }
            Entry::Occupied(o) => {
                let first_cert = &held_back.issues[*o.get()].certificate;
                if first_cert != c {
                    let number = match ctx.policy.kind(&c.kind) {
                        Some(k) => display(k.number_scheme, &c.number),
                        None => std::borrow::Cow::Borrowed(c.number.as_str()),
                    };
                    reject(
                        shown,
                        held_back.lines[i],
                        &format!(
                            "{number} of kind {} is also on line {} of this file, with different data",
                            c.kind,
                            held_back.lines[*o.get()]
                        ),
                    );
                    summary.conflicting += 1;
                }
            }
        }
    }
    if summary.rejected() > 0 {
        return Ok(summary);
    }
    keep_stored_dates(ctx, &mut held_back).await?;
    match ctx
        .store
        .insert_certificates(
            &held_back.issues,
            &args.by,
            journal::now_micros(),
            InsertMode::AllOrNothing,
            None,
        )
        .await
    {
        Ok(outcomes) => {
            let mut rejections = Vec::new();
            count(&outcomes, &held_back.lines, &mut summary, &mut rejections);
            print_in_line_order(shown, rejections);
        }
        Err(StoreError::Conflict(msg)) => {
            for part in msg.split("; ") {
                let line = held_back
                    .issues
                    .iter()
                    .position(|i| {
                        let c = &i.certificate;
                        part.starts_with(&format!(
                            "{} of kind {} ",
                            hutong_core::number::mask_id_numbers(&c.number),
                            c.kind
                        ))
                    })
                    .map(|p| held_back.lines[p]);
                reject(shown, line.unwrap_or(0), part);
                summary.conflicting += 1;
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(summary)
}

/// Keeps re-imports idempotent: a suspension or revocation already recorded keeps the date it
/// was first recorded with, when the row gave none. Done just before the chunk is stored, so
/// the chunks stored before it are seen, as when rows were stored one chunk at a time.
async fn keep_stored_dates(ctx: &Context, chunk: &mut Chunk) -> anyhow::Result<()> {
    for &i in &chunk.unstated {
        let cert = &chunk.issues[i].certificate;
        if let Some(existing) = ctx.store.certificate(&cert.number, &cert.kind).await?
            && existing.state.id() == cert.state.id()
            && existing.state != cert.state
        {
            let mut cert = cert.clone();
            cert.state = existing.state;
            chunk.issues[i] = Issue::new(cert);
        }
    }
    Ok(())
}

async fn store_batch(
    ctx: &Context,
    args: &Args,
    chunk: &mut Chunk,
    summary: &mut Summary,
    rejections: &mut Vec<(u64, String)>,
) -> anyhow::Result<()> {
    if chunk.issues.is_empty() {
        return Ok(());
    }
    keep_stored_dates(ctx, chunk).await?;
    let outcomes = ctx
        .store
        .insert_certificates(
            &chunk.issues,
            &args.by,
            journal::now_micros(),
            InsertMode::Each,
            None,
        )
        .await?;
    count(&outcomes, &chunk.lines, summary, rejections);
    Ok(())
}

fn count(
    outcomes: &[RowOutcome],
    lines: &[u64],
    summary: &mut Summary,
    rejections: &mut Vec<(u64, String)>,
) {
    for (o, line) in outcomes.iter().zip(lines) {
        match o {
            RowOutcome::Stored => summary.stored += 1,
            RowOutcome::Unchanged => summary.unchanged += 1,
            RowOutcome::Conflict { reason } => {
                summary.conflicting += 1;
                rejections.push((*line, reason.clone()));
            }
        }
    }
}

fn print_in_line_order(shown: &str, mut rejections: Vec<(u64, String)>) {
    rejections.sort_by_key(|(line, _)| *line);
    for (line, why) in &rejections {
        reject(shown, *line, why);
    }
}

/// Advances the progress bar by the bytes read.
struct CountingReader {
    inner: File,
    progress: ProgressBar,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    runtime()?.block_on(async move {
        let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
        let progress = ProgressBar::new(size);
        progress.set_style(
            ProgressStyle::with_template("{spinner} importing {bar:30} {bytes}/{total_bytes} {elapsed_precise} eta {eta}")
                .context("progress template")?,
        );
        let rows = open_rows(&args, &progress)?;
        let ctx = context::open(config, context::Reads::Primary).await?;
        let start = Instant::now();
        // A large page cache for the load (the store's bulk settings), and fresh planner
        // statistics after it.
        ctx.store.begin_bulk_load().await?;
        let summary = import(&ctx, &args, rows).await?;
        if summary.stored > 0 {
            ctx.store.end_bulk_load().await?;
        }
        progress.finish_and_clear();
        let secs = start.elapsed().as_secs_f64();
        let strict_note = if args.strict && summary.rejected() > 0 { " (strict: nothing was stored)" } else { "" };
        println!(
            "{}: read {} rows: {} stored, {} unchanged, {} rejected ({} invalid, {} conflicting){strict_note} in {:.2} s ({:.0} rows/s)",
            args.file.display(),
            summary.read,
            summary.stored,
            summary.unchanged,
            summary.rejected(),
            summary.invalid,
            summary.conflicting,
            secs,
            summary.read as f64 / secs.max(1e-9)
        );
        Ok(if summary.rejected() > 0 { ExitCode::from(INVALID) } else { ExitCode::SUCCESS })
    })
}
