//! The transparency log over the store (docs/transparency-log.md).
//!
//! - **Sequencing.** [`sequence`] reads the journal after the log head's `through_seq`, keeps
//!   the entries that [`Entry::is_log_leaf`], and appends their leaf hashes, with the tile
//!   hashes they complete, in one transaction guarded by the head it read. It resumes from what
//!   is stored, so a crash at any point neither loses nor repeats an entry; two servers on one
//!   database cannot both append (the second gets `Stale` and reads again).
//! - **Checkpoints.** [`Log::sync`] sequences and, when the tree grew, signs a C2SP checkpoint
//!   with the log's key and stores it. The server runs it every [`LogSettings::interval`] and
//!   before every log read that needs the latest tree.
//! - **Proofs and tiles** are computed from the stored hashes: leaf hashes at level 0 and the
//!   roots of full subtrees of `256^L` leaves at level `L ≥ 1` (the C2SP tile hashes). An
//!   inclusion or consistency proof reads a few tiles' worth of hashes, never the whole tree.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use hutong_core::journal::{Entry, now_micros};
use hutong_log::tile::{TILE_HEIGHT, fold};
use hutong_log::{
    Checkpoint, CosignatureVerifier, Ed25519NoteVerifier, Frontier, Hash, LeafSource, NoteSigner,
    SignedNote, TreeError, leaf_hash,
};
use hutong_store::{LogHead, LogLeaf, LogNode, Store, StoreError, StoredCheckpoint};

/// Journal entries read per sequencing transaction.
pub const SEQUENCE_BATCH: usize = 10_000;

/// How the log signs and whom it accepts cosignatures from.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The log's key, named by its origin (`hutong.example/log`). Its `Debug` shows the public
    /// key only.
    pub signer: NoteSigner,
    /// The witnesses whose cosignatures the log accepts and serves.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How often the server sequences new journal entries and signs a checkpoint.
    pub interval: Duration,
}

impl LogSettings {
    pub fn new(signer: NoteSigner, witnesses: Vec<CosignatureVerifier>) -> LogSettings {
        LogSettings {
            signer,
            witnesses,
            interval: Duration::from_secs(1),
        }
    }

    /// The origin: the checkpoints' first line and the key's name.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The log's verifier key (`<origin>+<key id>+<key>`), for witnesses and verifiers.
    pub fn vkey(&self) -> String {
        self.signer.verifier().to_vkey()
    }
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored hashes do not make a tree (a row changed or missing): for operators.
    #[error("the stored log is inconsistent: {0}")]
    Inconsistent(String),
}

impl From<TreeError> for LogError {
    fn from(e: TreeError) -> LogError {
        LogError::Inconsistent(e.to_string())
    }
}

impl From<LogError> for crate::ApiError {
    fn from(e: LogError) -> crate::ApiError {
        match e {
            LogError::Store(e) => e.into(),
            LogError::Inconsistent(m) => {
                tracing::error!(error = %m, "the transparency log cannot answer");
                crate::ApiError::internal()
            }
        }
    }
}

/// The log of a running server: its settings and the sequencer's state.
pub struct Log {
    settings: Option<LogSettings>,
    /// Held for a whole sequencing step; the frontier of the tree as this process last saw it.
    step: tokio::sync::Mutex<Option<Frontier>>,
}

impl Log {
    pub fn new(settings: Option<LogSettings>) -> Log {
        Log {
            settings,
            step: tokio::sync::Mutex::new(None),
        }
    }

    /// The settings, when this server publishes a log.
    pub fn settings(&self) -> Option<&LogSettings> {
        self.settings.as_ref()
    }

    /// Sequences the journal's new leaves and, when the tree grew (or has no checkpoint yet),
    /// signs and stores a checkpoint. Returns the latest checkpoint, or `None` when this server
    /// has no log key.
    pub async fn sync(&self, store: &dyn Store) -> Result<Option<StoredCheckpoint>, LogError> {
        let Some(settings) = &self.settings else {
            return Ok(None);
        };
        let mut frontier = self.step.lock().await;
        let head = sequence(store, &mut frontier, SEQUENCE_BATCH).await?;
        let latest = store.checkpoint(None).await?;
        if latest.as_ref().is_some_and(|c| c.size >= head.size) {
            return Ok(latest);
        }
        let f = match &*frontier {
            Some(f) if f.size() == head.size => f.clone(),
            _ => load_frontier(store, head.size).await?,
        };
        let note = Checkpoint::new(settings.origin(), head.size, f.root())
            .and_then(|c| c.sign(&settings.signer))
            .map_err(|e| LogError::Inconsistent(format!("cannot sign a checkpoint: {e}")))?
            .to_string();
        match store.put_checkpoint(head.size, &note, now_micros()).await {
            Ok(()) => {}
            // Another server signed this size first; with the same key the notes are equal, so
            // a different one means two keys sign for one log.
            Err(StoreError::Conflict(m)) => {
                return Err(LogError::Inconsistent(format!(
                    "{m}: another server signs for this log with another key or origin"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(store.checkpoint(Some(head.size)).await?)
    }

    /// Refuses to serve a log whose stored checkpoints this key did not sign: a log's key and
    /// origin never change.
    pub async fn check_identity(&self, store: &dyn Store) -> Result<(), String> {
        let Some(settings) = &self.settings else {
            return Ok(());
        };
        let latest = store.checkpoint(None).await.map_err(|e| e.to_string())?;
        let Some(latest) = latest else {
            return Ok(());
        };
        let verifier = settings.signer.verifier();
        if let Err(e) = Checkpoint::open(&latest.note, settings.origin(), &verifier) {
            let found = latest.note.lines().next().unwrap_or("").to_string();
            return Err(format!(
                "the log's latest checkpoint (size {}, origin \"{found}\") was not signed by the \
                 configured log key for origin \"{}\" ({e}); a log's key and origin never change: \
                 use the key file that signed it, and its origin",
                latest.size,
                settings.origin()
            ));
        }
        Ok(())
    }
}

/// The checkpoint as served: the log's signed note with the witnesses' cosignature lines.
pub fn served_note(c: &StoredCheckpoint) -> String {
    let mut s = c.note.clone();
    for line in &c.cosignatures {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// One sequencing step: appends the leaves of the journal entries after the head, in batches of
/// `batch` entries, until the journal is read to its end. `frontier` caches the tree's right
/// edge between steps; it is rebuilt from the store whenever it is not the head's.
pub async fn sequence(
    store: &dyn Store,
    frontier: &mut Option<Frontier>,
    batch: usize,
) -> Result<LogHead, LogError> {
    let batch = batch.max(1);
    loop {
        let head = store.log_head().await?;
        let entries = store.journal(head.through_seq, batch).await?;
        let Some(last) = entries.last() else {
            return Ok(head);
        };
        let through = last.seq;
        let mut f = match frontier.take() {
            Some(f) if f.size() == head.size => f,
            _ => load_frontier(store, head.size).await?,
        };
        let (leaves, nodes) = append_entries(&mut f, &entries);
        match store.append_log(head, through, &leaves, &nodes).await {
            Ok(_) => *frontier = Some(f),
            // Another sequencer moved the head meanwhile: read it again.
            Err(StoreError::Stale(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        if entries.len() < batch {
            return Ok(store.log_head().await?);
        }
    }
}

/// Pushes the leaf entries onto `f`: their leaves, and the tile hashes they complete.
fn append_entries(f: &mut Frontier, entries: &[Entry]) -> (Vec<LogLeaf>, Vec<LogNode>) {
    let mut leaves = Vec::new();
    let mut nodes = Vec::new();
    for e in entries.iter().filter(|e| e.is_log_leaf()) {
        let hash = leaf_hash(&e.leaf_bytes());
        let index = f.size();
        for s in f.push(hash) {
            if s.height % TILE_HEIGHT == 0 {
                nodes.push(LogNode {
                    level: (s.height / TILE_HEIGHT) as u8,
                    index: s.index,
                    hash: s.hash,
                });
            }
        }
        leaves.push(LogLeaf {
            index,
            seq: e.seq,
            hash,
        });
    }
    (leaves, nodes)
}

/// The frontier of the stored tree of `size` leaves.
pub async fn load_frontier(store: &dyn Store, size: u64) -> Result<Frontier, LogError> {
    let shape = Frontier::subtrees_of(size);
    let got = subtree_hashes(store, shape.iter().copied()).await?;
    let roots: Vec<Hash> = shape.iter().map(|k| got[k]).collect();
    Ok(Frontier::from_subtrees(size, &roots)?)
}

/// The roots of full subtrees `(height, index)` (height 0: a leaf), each folded from the stored
/// hashes of the tile level below it: at most 128 hashes each, read a range per level.
pub async fn subtree_hashes(
    store: &dyn Store,
    wanted: impl IntoIterator<Item = (u32, u64)>,
) -> Result<HashMap<(u32, u64), Hash>, LogError> {
    let wanted: BTreeSet<(u32, u64)> = wanted.into_iter().collect();
    // The stored hashes each needs: level, first and end index.
    let span = |&(h, i): &(u32, u64)| {
        let level = h / TILE_HEIGHT;
        let rest = h % TILE_HEIGHT;
        (level as u8, i << rest, (i + 1) << rest)
    };
    let mut ranges: BTreeMap<u8, Vec<(u64, u64)>> = BTreeMap::new();
    for w in &wanted {
        let (level, a, b) = span(w);
        ranges.entry(level).or_default().push((a, b));
    }
    let mut stored: HashMap<(u8, u64), Hash> = HashMap::new();
    for (level, mut rs) in ranges {
        rs.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (a, b) in rs {
            match merged.last_mut() {
                // Ranges within a tile of each other are read as one.
                Some((_, end)) if a <= *end + 256 => *end = (*end).max(b),
                _ => merged.push((a, b)),
            }
        }
        for (a, b) in merged {
            let hashes: Vec<Hash> = if level == 0 {
                store
                    .log_leaves(a, b)
                    .await?
                    .into_iter()
                    .map(|l| l.hash)
                    .collect()
            } else {
                store.log_nodes(level, a, b).await?
            };
            for (k, h) in hashes.into_iter().enumerate() {
                stored.insert((level, a + k as u64), h);
            }
        }
    }
    let mut out = HashMap::with_capacity(wanted.len());
    for w in wanted {
        let (level, a, b) = span(&w);
        let hashes = (a..b)
            .map(|i| {
                stored.get(&(level, i)).copied().ok_or_else(|| {
                    LogError::Inconsistent(format!(
                        "the hash {i} of level {level} is not stored (the log holds fewer leaves than its head says)"
                    ))
                })
            })
            .collect::<Result<Vec<Hash>, LogError>>()?;
        out.insert(w, fold(&hashes));
    }
    Ok(out)
}

/// A leaf source that records which subtrees an algorithm asks for (and answers zeros): the
/// algorithms' shape depends on the sizes only, so a first pass tells what to read.
struct Recorder {
    size: u64,
    asked: RefCell<BTreeSet<(u32, u64)>>,
}

impl LeafSource for Recorder {
    fn size(&self) -> u64 {
        self.size
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        self.asked.borrow_mut().insert((0, index));
        Ok([0; 32])
    }
    fn subtree_hash(&self, height: u32, index: u64) -> Result<Hash, TreeError> {
        self.asked.borrow_mut().insert((height, index));
        Ok([0; 32])
    }
}

/// The subtrees read, as a source for the second pass.
struct Known {
    size: u64,
    hashes: HashMap<(u32, u64), Hash>,
}

impl LeafSource for Known {
    fn size(&self) -> u64 {
        self.size
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        self.subtree_hash(0, index)
    }
    fn subtree_hash(&self, height: u32, index: u64) -> Result<Hash, TreeError> {
        self.hashes
            .get(&(height, index))
            .copied()
            .ok_or(TreeError::Source {
                index,
                reason: "not read".into(),
            })
    }
}

/// Runs `f` on the stored tree of `size` leaves: once to learn what it reads, then on what was
/// read.
async fn on_tree<T>(
    store: &dyn Store,
    size: u64,
    f: impl Fn(&dyn LeafSource) -> Result<T, TreeError>,
) -> Result<T, LogError> {
    let asked = {
        let r = Recorder {
            size,
            asked: RefCell::new(BTreeSet::new()),
        };
        f(&r)?;
        r.asked.into_inner()
    };
    let hashes = subtree_hashes(store, asked).await?;
    Ok(f(&Known { size, hashes })?)
}

/// The tree head of the first `size` leaves.
pub async fn root(store: &dyn Store, size: u64) -> Result<Hash, LogError> {
    on_tree(store, size, |s| hutong_log::tree_head(s, size)).await
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub async fn inclusion_proof(
    store: &dyn Store,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    on_tree(store, size, |s| hutong_log::inclusion_proof(s, index, size)).await
}

/// The consistency proof between the trees of `from` and `to` leaves.
pub async fn consistency_proof(
    store: &dyn Store,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, LogError> {
    on_tree(store, to, |s| hutong_log::consistency_proof(s, from, to)).await
}

/// Which leaf an inclusion proof is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafRef {
    /// By the journal sequence number of its entry.
    Seq(u64),
    /// By its leaf index, from 0.
    Index(u64),
}

/// The inclusion proof of one leaf, with what an offline verifier needs besides the log's key:
/// the leaf's bytes and the signed checkpoint of the tree the proof is for. A log proof of a
/// credential (docs/credentials.md, "Log inclusion").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    pub seq: u64,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The stored leaf hash.
    pub leaf_hash: Hash,
    /// The leaf's bytes (`Entry::leaf_bytes`), from the journal: they hash to `leaf_hash`
    /// unless the entry was changed behind the log's back, which a verifier then sees.
    pub leaf: Vec<u8>,
    pub root: Hash,
    pub proof: Vec<Hash>,
    /// The checkpoint of `tree_size` as served, with its cosignatures; `None` if the log
    /// signed none of that size.
    pub checkpoint: Option<String>,
}

/// Why there is no inclusion proof.
#[derive(Debug, thiserror::Error)]
pub enum InclusionError {
    /// No such leaf in that tree: for the asker.
    #[error("{0}")]
    NoProof(String),
    #[error(transparent)]
    Log(#[from] LogError),
}

impl From<StoreError> for InclusionError {
    fn from(e: StoreError) -> InclusionError {
        InclusionError::Log(e.into())
    }
}

/// The inclusion proof of `leaf` in the tree of `tree_size` leaves (the latest checkpoint's by
/// default), which must be at most the latest checkpoint's. For `GET /api/v1/log/inclusion`
/// and `hutong credential --log-proof`.
pub async fn inclusion(
    store: &dyn Store,
    latest: &StoredCheckpoint,
    leaf: LeafRef,
    tree_size: Option<u64>,
) -> Result<Inclusion, InclusionError> {
    let no_proof = |m: String| InclusionError::NoProof(m);
    let found = match leaf {
        LeafRef::Seq(seq) => store.log_leaf_by_seq(seq).await?.ok_or_else(|| {
            no_proof(format!(
                "journal entry {seq} is not a leaf of the log (it is not a change to a \
                 certificate, an issuer's rights or a key, or not yet sequenced)"
            ))
        })?,
        LeafRef::Index(index) => store
            .log_leaves(index, index.saturating_add(1))
            .await?
            .pop()
            .ok_or_else(|| no_proof(format!("the log has no leaf {index}")))?,
    };
    let size = tree_size.unwrap_or(latest.size);
    if size > latest.size {
        return Err(no_proof(format!(
            "the log's latest checkpoint is of {} leaves, not {size}",
            latest.size
        )));
    }
    if found.index >= size {
        return Err(no_proof(format!(
            "leaf {} (entry {}) is not in the tree of {size} leaves",
            found.index, found.seq
        )));
    }
    let entry = store
        .log_entries(found.index, found.index + 1)
        .await?
        .pop()
        .ok_or_else(|| {
            LogError::Inconsistent(format!("the entry of leaf {} is not stored", found.index))
        })?;
    let leaf_bytes = entry.leaf_bytes();
    if leaf_hash(&leaf_bytes) != found.hash {
        // Served as it is: the proof then fails for the verifier, as it should.
        tracing::error!(
            seq = entry.seq,
            "a journal entry is not the leaf the log holds: it was changed behind the log's back (run hutong audit)"
        );
    }
    let proof = inclusion_proof(store, found.index, size).await?;
    let root = root(store, size).await?;
    let checkpoint = store.checkpoint(Some(size)).await?.map(|c| served_note(&c));
    Ok(Inclusion {
        seq: found.seq,
        leaf_index: found.index,
        tree_size: size,
        leaf_hash: found.hash,
        leaf: leaf_bytes,
        root,
        proof,
        checkpoint,
    })
}

/// Verifies a posted cosigned checkpoint and stores the cosignatures of the configured witnesses
/// it carries. `Ok` names the witnesses stored.
pub async fn accept_cosignatures(
    store: &dyn Store,
    settings: &LogSettings,
    posted: &str,
) -> Result<Vec<String>, CosignatureRefusal> {
    let note =
        SignedNote::parse(posted).map_err(|e| CosignatureRefusal::Malformed(e.to_string()))?;
    let cp = Checkpoint::parse_body(note.text())
        .map_err(|e| CosignatureRefusal::Malformed(e.to_string()))?;
    if cp.origin != settings.origin() {
        return Err(CosignatureRefusal::Malformed(format!(
            "the checkpoint is of log \"{}\", this log is \"{}\"",
            cp.origin.chars().take(100).collect::<String>(),
            settings.origin()
        )));
    }
    let stored = store
        .checkpoint(Some(cp.size))
        .await
        .map_err(CosignatureRefusal::Store)?
        .ok_or(CosignatureRefusal::Unknown(cp.size))?;
    let signed = SignedNote::parse(&stored.note)
        .map_err(|e| CosignatureRefusal::Store(StoreError::Corrupt(e.to_string())))?;
    if signed.text() != note.text() {
        return Err(CosignatureRefusal::NotOurs(cp.size));
    }
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for w in &settings.witnesses {
        if note.signatures_by(w.name(), w.key_id()).next().is_none() {
            continue;
        }
        match w.verify(&note) {
            Ok(_) => {
                for line in note.signatures_by(w.name(), w.key_id()) {
                    store
                        .put_cosignature(
                            cp.size,
                            w.name(),
                            w.key_id(),
                            &line.to_line(),
                            now_micros(),
                        )
                        .await
                        .map_err(CosignatureRefusal::Store)?;
                }
                accepted.push(w.name().to_string());
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    if !failed.is_empty() {
        return Err(CosignatureRefusal::Bad(failed.join("; ")));
    }
    if accepted.is_empty() {
        let known: Vec<&str> = settings.witnesses.iter().map(|w| w.name()).collect();
        return Err(CosignatureRefusal::NoWitness(if known.is_empty() {
            "this log accepts no witness (log_witnesses is empty)".to_string()
        } else {
            format!(
                "no cosignature by a witness this log accepts ({})",
                known.join(", ")
            )
        }));
    }
    Ok(accepted)
}

/// Why a posted cosignature was not stored.
#[derive(Debug)]
pub enum CosignatureRefusal {
    /// Not a checkpoint note of this log.
    Malformed(String),
    /// No checkpoint of that size was signed.
    Unknown(u64),
    /// The text is not the checkpoint the log signed for that size.
    NotOurs(u64),
    /// A configured witness's cosignature does not verify.
    Bad(String),
    /// No configured witness cosigned.
    NoWitness(String),
    Store(StoreError),
}

/// Whether `note` is signed by `vkey` for `origin`: for callers that hold a vkey string.
pub fn open_checkpoint(
    note: &str,
    vkey: &str,
) -> Result<(Checkpoint, SignedNote), hutong_log::CheckpointError> {
    let v = Ed25519NoteVerifier::from_vkey(vkey)?;
    let origin = v.name().to_string();
    Checkpoint::open(note, &origin, &v)
}
