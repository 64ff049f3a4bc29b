//! The registry's storage contract. Backends (`hutong-store-sqlite`, `hutong-store-postgres`)
//! implement [`Store`] and must pass the conformance suite (module `conformance`, built with
//! the `testing` feature, for tests only).
//!
//! The store holds records; it holds no policy. Whether a certificate is valid today is computed
//! by the core from the record and the policy, never stored.

#[cfg(feature = "testing")]
pub mod conformance;
pub mod migration;

use async_trait::async_trait;
use serde::Serialize;

use hutong_core::journal::{self, CertChange, Entry, Subject};
use hutong_core::keys::KeyRecord;
use hutong_core::share::ShareRecord;
use hutong_core::token::TokenRecord;
use hutong_core::{Certificate, HolderKey, Issuer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or path is wrong; nothing was created.
    #[error("{0}")]
    Config(String),
    /// The database was made with another holder secret, or by a newer version.
    #[error("{0}")]
    Incompatible(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A write that contradicts what is stored (a number registered with other data, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed; the message is for operators' logs, not for the public.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A stored record cannot be read: a state or event this code does not know, a malformed
    /// date, key or level. It is never guessed at (an unreadable record must not read as a
    /// valid certificate); the message is for operators' logs, not for the public.
    #[error("unreadable record: {0}")]
    Corrupt(String),
    /// The record changed between the read a change was applied to and the write; nothing was
    /// written, and the caller may read again and retry.
    #[error("the record changed meanwhile: {0}")]
    Stale(String),
    /// The idempotency key was already used (by a request that committed).
    #[error("the idempotency key was already used")]
    KeyUsed,
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What happened to one certificate of an import batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum RowOutcome {
    /// Newly stored.
    Stored,
    /// Already stored with exactly this data; nothing changed.
    Unchanged,
    /// The number is registered for this kind with different data; nothing changed.
    Conflict { reason: String },
}

/// Why `new` is a conflict with `stored`, the certificate of the same identity: the fields that
/// differ, the number masked.
pub fn conflict_reason(stored: &Certificate, new: &Certificate) -> String {
    format!(
        "{} of kind {} is already registered with different data: {}",
        hutong_core::number::mask_id_numbers(&new.number),
        new.kind,
        stored.differences(new)
    )
}

/// Whether a batch may be stored in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// Store what can be stored; report conflicts as outcomes.
    Each,
    /// Store everything or nothing.
    AllOrNothing,
}

/// A certificate to store as issued, with its canonical form and the hash of it, made by the
/// core ([`hutong_core::journal::certificate_digest`]). Its journal entry's change is
/// `{"change":"issued","record":<canonical>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub certificate: Certificate,
    pub canonical: String,
    pub sha256: String,
    /// For a card that a renewal re-issued: the number of the card it replaces.
    pub renews: Option<String>,
}

impl Issue {
    pub fn new(certificate: Certificate) -> Issue {
        let (canonical, sha256) = journal::certificate_digest(&certificate);
        Issue {
            certificate,
            canonical,
            sha256,
            renews: None,
        }
    }

    /// The card that re-issues the card numbered `renews` ([`Store::renew_as`]).
    pub fn renewing(certificate: Certificate, renews: &str) -> Issue {
        Issue {
            renews: Some(renews.to_string()),
            ..Issue::new(certificate)
        }
    }

    /// The change of its journal entry.
    pub fn change(&self) -> String {
        match &self.renews {
            Some(old) => CertChange::issued_renewing(&self.canonical, old),
            None => CertChange::Issued.to_json(Some(&self.canonical)),
        }
    }
}

/// A change to a stored certificate: the record before (as read), the record after (as the
/// core's [`CertChange::apply`] made it) with its hash, and the change's canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateWrite {
    pub id: i64,
    /// The record the change was applied to. If the stored row differs, someone changed it
    /// meanwhile, and the write fails with [`StoreError::Stale`] without changing anything.
    pub before: Certificate,
    pub after: Certificate,
    pub after_sha256: String,
    pub change: String,
}

impl CertificateWrite {
    /// Refuses a write that changes a field the backends do not update (the identity, the
    /// holder's key, the occupation, level, issuer, first issue date): the journal's hash would
    /// then describe a record that is not the stored one. The core's changes never do.
    pub fn check(&self) -> Result<()> {
        let (b, a) = (&self.before, &self.after);
        let fixed = (
            &b.number,
            &b.kind,
            &b.holder_key,
            &b.occupation,
            b.level,
            &b.issuer,
            b.first_issued_on,
        ) == (
            &a.number,
            &a.kind,
            &a.holder_key,
            &a.occupation,
            a.level,
            &a.issuer,
            a.first_issued_on,
        );
        if fixed {
            Ok(())
        } else {
            Err(StoreError::Conflict(
                "a change may alter the holder's name, the dates and the state only".into(),
            ))
        }
    }
}

/// An issuer record to store, with the change that made it (registered, scope granted, …) and
/// the hash of the record's canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerWrite {
    /// The stored record this change was applied to: none for a registration. If the stored
    /// record differs, the write fails with [`StoreError::Stale`].
    pub before: Option<Issuer>,
    pub after: Issuer,
    pub after_sha256: String,
    pub change: String,
}

/// One write of a mirrored transaction ([`Store::apply_mirrored`]): a change that another
/// registry journaled, as that registry's change feed gave it, to be stored here with an entry of
/// the same change and record hash. Certificates are named by their identity (number and kind),
/// since registry ids differ between registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirrored {
    /// A certificate issued at the source. One stored here with the same data is left alone and
    /// gets no entry (as [`Store::insert_certificates`] does); one with other data fails the
    /// transaction with [`StoreError::Conflict`].
    Issue(Issue),
    /// A change to a stored certificate: `before` must be the stored record
    /// ([`StoreError::Stale`] otherwise), `after` what the change made of it (as the core's
    /// [`CertChange::replay`] gives it, checked against the source's hash by the caller).
    Update(MirroredUpdate),
    /// A change to the issuer register, as [`Store::put_issuers`] stores it.
    Issuer(IssuerWrite),
    /// An entry that changes no record (a refusal), about a certificate (by its identity) or
    /// an issuer.
    Note {
        about: MirroredSubject,
        change: String,
    },
}

/// A mirrored change to a stored certificate ([`Mirrored::Update`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredUpdate {
    pub before: Certificate,
    pub after: Certificate,
    pub after_sha256: String,
    pub change: String,
}

impl MirroredUpdate {
    /// The write, once the backend has found the record's id by its identity.
    pub fn write(&self, id: i64) -> Result<CertificateWrite> {
        let w = CertificateWrite {
            id,
            before: self.before.clone(),
            after: self.after.clone(),
            after_sha256: self.after_sha256.clone(),
            change: self.change.clone(),
        };
        w.check()?;
        Ok(w)
    }
}

/// An employer's webhook (docs/watch.md): where the changes to the certificates its share codes
/// cover are posted, signed with its secret, and how far they have been delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: String,
    pub url: String,
    /// The SHA-256 of each share code, in the order given (never the codes).
    pub code_hashes: Vec<[u8; 32]>,
    /// The key its deliveries are signed with (HMAC-SHA-256), given to the employer once.
    pub secret: [u8; 32],
    /// The last journal sequence number delivered (or looked past).
    pub after: u64,
    pub created_at_micros: i64,
    pub revoked_at_micros: Option<i64>,
}

/// The `LIKE` pattern of the changes of `kind` (canonical JSON starts with its `change`); a
/// kind of other characters than lower-case letters and hyphens is refused.
pub fn change_kind_pattern(kind: &str) -> Result<String> {
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(StoreError::Config(format!(
            "\"{kind}\" is not a kind of change"
        )));
    }
    Ok(format!("{{\"change\":\"{kind}\"%"))
}

/// A webhook's code hashes as stored: lower-case hex, comma-separated.
pub fn webhook_hashes_text(hashes: &[[u8; 32]]) -> String {
    hashes.iter().map(hex::encode).collect::<Vec<_>>().join(",")
}

/// A webhook from its stored columns.
pub fn webhook_record(
    id: String,
    url: String,
    hashes: &str,
    secret: &[u8],
    after: i64,
    created_at_micros: i64,
    revoked_at_micros: Option<i64>,
) -> Result<WebhookRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("webhook {id}: {what}"));
    let code_hashes = hashes
        .split(',')
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| corrupt("a code hash is not 32 bytes of hex"))
        })
        .collect::<Result<Vec<_>>>()?;
    let secret = <[u8; 32]>::try_from(secret).map_err(|_| corrupt("the secret is not 32 bytes"))?;
    Ok(WebhookRecord {
        after: u64::try_from(after).map_err(|_| corrupt("the cursor is negative"))?,
        id,
        url,
        code_hashes,
        secret,
        created_at_micros,
        revoked_at_micros,
    })
}

/// The feed cursor a mirrored transaction moves: of `source`, from `after` to `through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorCursor<'a> {
    pub source: &'a str,
    pub after: u64,
    pub through: u64,
}

impl MirrorCursor<'_> {
    /// The meta key the cursor is stored under.
    pub fn key(source: &str) -> String {
        format!("mirror:{source}")
    }

    /// Reads a stored cursor.
    pub fn parse(stored: &str) -> Result<u64> {
        stored
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("a mirror cursor is {stored:?}")))
    }

    /// Refuses a cursor that does not move on from the stored one.
    pub fn check(&self, stored: Option<u64>) -> Result<()> {
        let stored = stored.unwrap_or(0);
        if stored != self.after || self.through < self.after {
            return Err(StoreError::Stale(format!(
                "the mirror of {} is at {stored}, not at {} (is another mirror of it running?)",
                self.source, self.after
            )));
        }
        Ok(())
    }
}

/// What a mirrored entry that changes no record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirroredSubject {
    Certificate { number: String, kind: String },
    Issuer(String),
}

/// A request's `Idempotency-Key`, stored with the write it made, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// Who asked: the token id.
    pub owner: String,
    pub key: String,
    /// SHA-256 of the request (method, path and body): the same key with another request is
    /// refused.
    pub request_sha256: String,
}

/// A stored idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_sha256: String,
    /// The journal entries the first request made, `first..=last`; none if it made none.
    pub seqs: Option<(u64, u64)>,
    /// The first answer, once recorded: HTTP status and body.
    pub answer: Option<(u16, String)>,
}

/// A policy as published: its digest and its files (name, text), in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPolicy {
    pub digest: String,
    pub files: Vec<(String, String)>,
    pub seq: u64,
}

/// One certificate for an audit: its id, record and the record hash of its last journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub certificate: Certificate,
    pub journal_sha256: Option<String>,
}

/// Counts for the home page and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub certificates: u64,
    pub holders: u64,
    pub issuers: u64,
    /// Certificates by kind id.
    pub by_kind: Vec<(String, u64)>,
}

/// The transparency log's head: how many leaves it holds, and the last journal entry its
/// sequencer has read (leaf or not), from which the next step goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogHead {
    pub size: u64,
    pub through_seq: u64,
}

/// One leaf of the transparency log: its index, the journal entry it is, and its hash
/// (`SHA-256(0x00 || leaf bytes)`, RFC 9162).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLeaf {
    pub index: u64,
    pub seq: u64,
    pub hash: [u8; 32],
}

/// The root of a full subtree of `256^level` leaves from leaf `index · 256^level` (a hash of a
/// C2SP tile at `level`, `level >= 1`): stored so that proofs need no pass over the leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogNode {
    pub level: u8,
    pub index: u64,
    pub hash: [u8; 32],
}

/// A checkpoint the log signed, with the witnesses' cosignature lines it has received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The signed note as the log signed it (text, blank line, the log's signature line).
    pub note: String,
    /// Cosignature lines (`— <witness> <base64>`), in the order received, one per witness key.
    pub cosignatures: Vec<String>,
    pub at_micros: i64,
}

/// One change to a signing key, as [`Store::put_keys`] persists it: the record the change was
/// applied to, the record after it, and the change's canonical JSON.
#[derive(Debug, Clone)]
pub struct KeyWrite {
    pub before: Option<KeyRecord>,
    pub after: KeyRecord,
    pub change: String,
}

/// The registry.
///
/// Every method is atomic: a batch is stored whole or not at all. Implementations must be cheap
/// to share between request handlers (`Arc<dyn Store>`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<()>;

    /// Binds the store to a holder secret: the first call records its fingerprint; later calls
    /// with a different fingerprint fail with [`StoreError::Incompatible`], because hashes made
    /// with another secret would silently find nobody.
    async fn bind_holder_secret(&self, fingerprint: &str) -> Result<()>;

    /// Records that this registry holds demo data (`hutong demo` fills it): `record` is JSON
    /// that says how it was made and which certificates to offer as samples. Replaces an
    /// earlier record. A registry with such a record shows the demo banner on every page,
    /// however it is served.
    async fn mark_demo(&self, record: &str) -> Result<()>;
    /// The demo record, `None` for a registry that was never filled with demo data.
    async fn demo_record(&self) -> Result<Option<String>>;

    /// Stores issuer records, each with its journal entry, in one transaction (subject
    /// `issuer:<id>`). Fails with [`StoreError::Stale`] if a stored record is not the `before`
    /// the change was applied to, and with [`StoreError::Conflict`] if a registration's id exists.
    async fn put_issuers(
        &self,
        writes: &[IssuerWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>>;
    async fn issuer(&self, id: &str) -> Result<Option<Issuer>>;
    /// All issuers, ordered by id.
    async fn issuers(&self) -> Result<Vec<Issuer>>;

    /// Stores a batch of new certificates in one transaction, each with its `issued` journal
    /// entry by `actor` at `at_micros`. A certificate is identified by its (number, kind); one
    /// already stored with the same data is `Unchanged` (and gets no entry), with other data a
    /// `Conflict`. Outcomes are in input order.
    ///
    /// With [`InsertMode::AllOrNothing`], a conflict rolls the whole batch back and the call fails
    /// with [`StoreError::Conflict`] naming every conflicting certificate. With an idempotency
    /// claim, the claim is stored in the same transaction; a claim already stored fails the
    /// batch with [`StoreError::KeyUsed`] and stores nothing.
    async fn insert_certificates(
        &self,
        batch: &[Issue],
        actor: &str,
        at_micros: i64,
        mode: InsertMode,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Vec<RowOutcome>>;

    /// The certificates with this (normalised) number, of any kind, ordered by kind.
    async fn certificates_by_number(&self, number: &str) -> Result<Vec<Certificate>>;
    /// One certificate by its identity.
    async fn certificate(&self, number: &str, kind: &str) -> Result<Option<Certificate>>;
    /// One certificate by its registry id (the serial of its e-licence identifier, the subject
    /// `cert:<id>` of its journal entries).
    async fn certificate_by_id(&self, id: i64) -> Result<Option<Certificate>>;
    /// One certificate with its registry id, the subject of its journal entries.
    async fn certificate_with_id(
        &self,
        number: &str,
        kind: &str,
    ) -> Result<Option<(i64, Certificate)>>;
    /// Every certificate of a holder, ordered by kind, then issue date, then number.
    async fn certificates_by_holder(&self, holder: &HolderKey) -> Result<Vec<Certificate>>;

    /// Applies a change to a stored certificate and appends its journal entry, in one
    /// transaction, with the idempotency claim if any.
    async fn update_certificate(
        &self,
        write: &CertificateWrite,
        actor: &str,
        at_micros: i64,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Entry>;

    /// A renewal that re-issues a card: applies `old` (the old card's `renewed-as` change) and
    /// stores `new`, the card that replaces it, with its `issued` entry naming the old one, in
    /// one transaction with the idempotency claim if any. Fails with [`StoreError::Stale`] as
    /// [`Store::update_certificate`] does, and with [`StoreError::Conflict`] if the new card's
    /// number is registered for its kind; either way nothing changes.
    async fn renew_as(
        &self,
        old: &CertificateWrite,
        new: &Issue,
        actor: &str,
        at_micros: i64,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<(Entry, Entry)>;

    /// Appends entries that change no record, such as refusals (with the subject of what was
    /// refused), each `(subject, change)`, in one transaction.
    async fn journal_only(
        &self,
        entries: &[(Subject, String)],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>>;

    /// Stores a transaction received from another registry's change feed (`hutong mirror`):
    /// every write with its journal entry by `actor` at `at_micros` (the source's), and the
    /// feed cursor of `source` moved from `after` to `through` (the last source sequence number
    /// this transaction covers), all in one transaction, so that a mirror that stops at any
    /// point resumes from [`Store::mirror_cursor`] with every entry applied exactly once. The
    /// stored cursor must be `after` (none counts as 0): otherwise another process mirrors the
    /// same source meanwhile, and the call fails with [`StoreError::Stale`], changing nothing.
    /// An empty `writes` moves the cursor only (past entries outside the mirror's scope).
    async fn apply_mirrored(
        &self,
        writes: &[Mirrored],
        actor: &str,
        at_micros: i64,
        cursor: MirrorCursor<'_>,
    ) -> Result<Vec<Entry>>;
    /// For each issuer with certificates, the instant (microseconds) the registry last received
    /// a change to one of them: an issue, a review, a suspension, … (refused requests apart),
    /// kept by every write in its transaction. Ordered by issuer.
    async fn issuer_activity(&self) -> Result<Vec<(String, i64)>>;
    /// Stores a new webhook.
    async fn put_webhook(&self, w: &WebhookRecord) -> Result<()>;
    /// The webhooks not revoked, by id.
    async fn webhooks(&self) -> Result<Vec<WebhookRecord>>;
    /// Moves a webhook's delivery cursor from `from` to `to`; [`StoreError::Stale`] if it is
    /// not at `from` (another server delivered meanwhile), and nothing changes.
    async fn advance_webhook(&self, id: &str, from: u64, to: u64) -> Result<()>;
    /// Revokes a webhook; false when there is no such webhook not yet revoked.
    async fn revoke_webhook(&self, id: &str, at_micros: i64) -> Result<bool>;
    /// The last source sequence number stored by [`Store::apply_mirrored`] for `source`.
    async fn mirror_cursor(&self, source: &str) -> Result<Option<u64>>;

    /// Journal entries with `seq > after`, in order, at most `limit`.
    async fn journal(&self, after: u64, limit: usize) -> Result<Vec<Entry>>;
    /// The entries of one subject, oldest first.
    async fn history(&self, subject: &Subject) -> Result<Vec<Entry>>;
    /// The last sequence number (0 for an empty journal).
    async fn journal_head(&self) -> Result<u64>;
    /// Up to `limit` certificates with `id > after`, in id order, each with the record hash of
    /// its last journal entry: for `hutong audit`.
    async fn audit_page(&self, after: i64, limit: usize) -> Result<Vec<AuditRow>>;
    /// Certificates with registry ids above `after`, in id order, at most `limit`: a scan of
    /// the registry (the regulators' figures), without the journal.
    async fn certificates_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, Certificate)>>;
    /// Journal entries with `seq > after` that change no record and whose change is of `kind`
    /// (`refused`, `recognition-checked`: lower-case letters and hyphens), in order, at most
    /// `limit`.
    async fn entries_of_kind(&self, kind: &str, after: u64, limit: usize) -> Result<Vec<Entry>>;
    /// Every idempotency record of `owner`, by key, with its answer if recorded (exam
    /// sessions' reports).
    async fn answers_of(&self, owner: &str) -> Result<Vec<(String, IdempotencyRecord)>>;
    /// The certificates of `issuer` with registry ids in `[from_id, to_id)` that are suspended
    /// or revoked, as (id, revoked, suspended), with the journal's head in the same snapshot:
    /// the state a status list reflects.
    async fn status_page(
        &self,
        issuer: &str,
        from_id: i64,
        to_id: i64,
    ) -> Result<(u64, Vec<(i64, bool, bool)>)>;

    /// Reserves `n` serials of a numbering prefix and returns the first; committed at once, so
    /// a serial is never handed out twice, even if the issue that asked for it fails. A prefix
    /// reserved for the first time starts after the largest serial already used by a stored
    /// number that is the prefix followed by digits (numbers imported before hutong numbered).
    async fn reserve_serials(&self, prefix: &str, n: u64) -> Result<u64>;
    /// The stored idempotency record of `owner`'s `key`.
    async fn idempotency(&self, owner: &str, key: &str) -> Result<Option<IdempotencyRecord>>;
    /// Records the first answer of an idempotency claim made by a committed write.
    async fn record_answer(&self, owner: &str, key: &str, status: u16, body: &str) -> Result<()>;

    /// Stores a new token with its `token-created` entry (subject `token:<id>`). The change names
    /// the actor, label and expiry, never the secret or its hash.
    async fn create_token(
        &self,
        token: &TokenRecord,
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry>;
    /// Marks a token revoked at `at_micros`, with its `token-revoked` entry. A token already
    /// revoked or unknown is [`StoreError::NotFound`].
    async fn revoke_token(
        &self,
        id: &str,
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry>;
    /// The token with this hash, whatever its state (the caller checks expiry and revocation).
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>>;
    /// Every token, ordered by creation.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Stores a new share code with its `share-created` entry (subject `share:<id>`). The change
    /// names what it covers and until when, never the code or its hash.
    async fn create_share(&self, share: &ShareRecord, actor: &str, at_micros: i64)
    -> Result<Entry>;
    /// Marks a share code of `holder` revoked at `at_micros`, with its `share-revoked` entry. A
    /// code already revoked, unknown, or another holder's is [`StoreError::NotFound`].
    async fn revoke_share(
        &self,
        id: &str,
        holder: &HolderKey,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry>;
    /// The share code with this hash, whatever its state (the caller checks it).
    async fn share_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ShareRecord>>;
    /// A holder's share codes, newest first, whatever their state.
    async fn shares_of(&self, holder: &HolderKey) -> Result<Vec<ShareRecord>>;

    /// Stores key records with their journal entries (subject `key:<id>`), all or nothing, in
    /// order. A write whose `before` is `None` creates the key ([`StoreError::Conflict`] if its
    /// id exists); otherwise the stored record must equal `before` ([`StoreError::Stale`]).
    async fn put_keys(
        &self,
        writes: &[KeyWrite],
        actor: &str,
        at_micros: i64,
    ) -> Result<Vec<Entry>>;
    /// Every signing key, in the order they were created.
    async fn keys(&self) -> Result<Vec<KeyRecord>>;

    /// Stores a policy's files with its `policy-published` entry (subject `policy:<digest>`).
    async fn publish_policy(
        &self,
        digest: &str,
        files: &[(String, String)],
        change: &str,
        actor: &str,
        at_micros: i64,
    ) -> Result<Entry>;
    /// The last published policy, if any.
    async fn published_policy(&self) -> Result<Option<PublishedPolicy>>;

    async fn stats(&self) -> Result<Stats>;

    /// Whether the registry holds no certificate (cheap, unlike [`Store::stats`]).
    async fn is_empty(&self) -> Result<bool>;

    /// About how many certificates the registry holds, cheaply (an upper bound is fine): for
    /// benchmarks deciding whether a dataset is big enough. Backends without a cheap way count.
    async fn certificate_count_estimate(&self) -> Result<u64> {
        Ok(self.stats().await?.certificates)
    }

    /// Up to `n` certificates picked at random (the same `seed`, the same picks on the same
    /// data), for benchmarks that need real numbers to look up.
    async fn random_certificates(&self, n: usize, seed: u64) -> Result<Vec<Certificate>> {
        let _ = (n, seed);
        Err(StoreError::Backend(format!(
            "the {} backend cannot pick random certificates",
            self.backend()
        )))
    }

    /// Tunes the backend for a large load that follows (bigger caches); optional.
    async fn begin_bulk_load(&self) -> Result<()> {
        Ok(())
    }

    /// Restores normal settings and refreshes planner statistics after a large load; optional.
    async fn end_bulk_load(&self) -> Result<()> {
        Ok(())
    }

    // The transparency log (docs/transparency-log.md). Its leaves are the journal entries that
    // `Entry::is_log_leaf`, in seq order; the sequencer (in the server) appends them.

    /// The log's head. Read from the primary: the sequencer depends on it.
    async fn log_head(&self) -> Result<LogHead>;

    /// Appends `leaves` (indexes from `expected.size` on, seqs increasing and above
    /// `expected.through_seq`, up to `through_seq`) and the full-subtree hashes they complete,
    /// and moves the head to `(expected.size + leaves.len(), through_seq)`, in one transaction.
    /// If the stored head is not `expected` (another sequencer moved it), nothing is written
    /// and the call fails with [`StoreError::Stale`]; malformed input is a
    /// [`StoreError::Conflict`].
    async fn append_log(
        &self,
        expected: LogHead,
        through_seq: u64,
        leaves: &[LogLeaf],
        nodes: &[LogNode],
    ) -> Result<LogHead>;

    /// The leaves with index in `start..end` that exist, in index order.
    async fn log_leaves(&self, start: u64, end: u64) -> Result<Vec<LogLeaf>>;

    /// The stored subtree hashes of `level` with index in `start..end`, in index order.
    async fn log_nodes(&self, level: u8, start: u64, end: u64) -> Result<Vec<[u8; 32]>>;

    /// The leaf that journal entry `seq` is, if it is one.
    async fn log_leaf_by_seq(&self, seq: u64) -> Result<Option<LogLeaf>>;

    /// The journal entries of the leaves with index in `start..end`, in index order. A leaf
    /// whose entry is gone from the journal is [`StoreError::Corrupt`], naming its seq.
    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<Entry>>;

    /// Stores the checkpoint the log signed for a tree of `size` leaves. The same note again
    /// changes nothing; another note for the same size is a [`StoreError::Conflict`]: a log
    /// never signs two tree heads of one size.
    async fn put_checkpoint(&self, size: u64, note: &str, at_micros: i64) -> Result<()>;

    /// The checkpoint of `size`, or the latest (the largest size) when `size` is `None`, with
    /// its cosignatures.
    async fn checkpoint(&self, size: Option<u64>) -> Result<Option<StoredCheckpoint>>;

    /// Stores a witness's cosignature line of the checkpoint of `size`, replacing the one that
    /// witness key (name and key id) gave it before. A checkpoint not stored is
    /// [`StoreError::NotFound`].
    async fn put_cosignature(
        &self,
        size: u64,
        witness: &str,
        key_id: u32,
        line: &str,
        at_micros: i64,
    ) -> Result<()>;
}

/// Checks what [`Store::append_log`] is given, for the backends: leaf indexes continue from the
/// head's size, seqs increase above the head's `through_seq` up to `through_seq`, and node
/// levels are tile levels. A violation is a [`StoreError::Conflict`], and nothing is written.
pub fn check_log_append(
    expected: LogHead,
    through_seq: u64,
    leaves: &[LogLeaf],
    nodes: &[LogNode],
) -> Result<()> {
    let bad = |m: String| Err(StoreError::Conflict(m));
    if through_seq < expected.through_seq {
        return bad(format!(
            "the log cannot go back from entry {} to {through_seq}",
            expected.through_seq
        ));
    }
    let mut last_seq = expected.through_seq;
    for (i, l) in leaves.iter().enumerate() {
        if l.index != expected.size + i as u64 {
            return bad(format!(
                "leaf {} given where leaf {} comes next",
                l.index,
                expected.size + i as u64
            ));
        }
        if l.seq <= last_seq || l.seq > through_seq {
            return bad(format!(
                "leaf {} is entry {}, not after entry {last_seq} and up to {through_seq}",
                l.index, l.seq
            ));
        }
        last_seq = l.seq;
    }
    if let Some(n) = nodes.iter().find(|n| n.level == 0 || n.level > 63) {
        return bad(format!("a tile hash of level {} cannot be stored", n.level));
    }
    Ok(())
}

/// Where the registry lives, parsed from `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path.
    Sqlite(std::path::PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to the driver as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a database URL. An unknown scheme is an error, and so is a SQLite path whose folder
    /// does not exist: a typo must never become a new, empty registry.
    pub fn parse(s: &str) -> Result<DatabaseUrl> {
        let s = s.trim();
        if s.is_empty() {
            return Err(StoreError::Config("the database URL is empty".into()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_string()));
        }
        let path = if let Some(rest) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            rest
        } else if let Some((scheme, _)) = s.split_once("://") {
            return Err(StoreError::Config(format!(
                "unknown database scheme \"{scheme}://\": use sqlite://PATH (or a bare path) or postgres://…"
            )));
        } else {
            s
        };
        if path.is_empty() {
            return Err(StoreError::Config("the SQLite URL names no file".into()));
        }
        let path = std::path::PathBuf::from(path);
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(StoreError::Config(format!(
                "the folder {} does not exist; create it first (hutong never creates a database in a mistyped place)",
                parent.display()
            )));
        }
        if path.is_dir() {
            return Err(StoreError::Config(format!(
                "{} is a folder, not a database file",
                path.display()
            )));
        }
        Ok(DatabaseUrl::Sqlite(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let dir = std::env::temp_dir();
        let file = dir.join("x.db");
        assert_eq!(
            DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap(),
            DatabaseUrl::Sqlite(file.clone())
        );
        assert_eq!(
            DatabaseUrl::parse(&file.display().to_string()).unwrap(),
            DatabaseUrl::Sqlite(file)
        );
        assert_eq!(
            DatabaseUrl::parse("hutong.db").unwrap(),
            DatabaseUrl::Sqlite("hutong.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        let e = DatabaseUrl::parse("mysql://h/db").unwrap_err().to_string();
        assert!(e.contains("unknown database scheme \"mysql://\""), "{e}");
        let e = DatabaseUrl::parse("/no/such/folder/x.db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/no/such/folder does not exist"), "{e}");
        assert!(DatabaseUrl::parse(&dir.display().to_string()).is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}

/// Writes that every caller makes the same way: through the journal, with the core's canonical
/// forms and hashes.
pub mod write {
    use super::*;

    /// The canonical form of an issuer record and its hash.
    pub fn issuer_digest(i: &Issuer) -> (String, String) {
        let canonical = journal::canonical(i);
        let hash = journal::sha256_hex(canonical.as_bytes());
        (canonical, hash)
    }

    /// What [`register_issuers`] did.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Registered {
        pub registered: usize,
        pub amended: usize,
        pub unchanged: usize,
    }

    /// Stores issuer records from a register file, in one transaction: a new id is
    /// `registered`, a stored one with another record `amended`, each entry holding the whole
    /// record so that the journal keeps every version; an identical one changes nothing.
    pub async fn register_issuers(
        store: &dyn Store,
        issuers: &[Issuer],
        actor: &str,
    ) -> Result<Registered> {
        let mut out = Registered::default();
        let mut writes = Vec::new();
        for i in issuers {
            let before = store.issuer(&i.id).await?;
            let kind = match &before {
                None => "registered",
                Some(b) if b == i => {
                    out.unchanged += 1;
                    continue;
                }
                Some(_) => "amended",
            };
            if before.is_none() {
                out.registered += 1;
            } else {
                out.amended += 1;
            }
            let (canonical, sha) = issuer_digest(i);
            writes.push(IssuerWrite {
                before,
                after: i.clone(),
                after_sha256: sha,
                change: format!("{{\"change\":\"{kind}\",\"record\":{canonical}}}"),
            });
        }
        if !writes.is_empty() {
            store
                .put_issuers(&writes, actor, journal::now_micros())
                .await?;
        }
        Ok(out)
    }

    /// Stores certificates as issued by `actor`, now.
    pub async fn issue(
        store: &dyn Store,
        certs: &[Certificate],
        actor: &str,
        mode: InsertMode,
    ) -> Result<Vec<RowOutcome>> {
        let issues: Vec<Issue> = certs.iter().cloned().map(Issue::new).collect();
        store
            .insert_certificates(&issues, actor, journal::now_micros(), mode, None)
            .await
    }
}
