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

use hutong_core::date::Day;
use hutong_core::{AdminState, Certificate, HolderKey, Issuer};

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

/// Whether a batch may be stored in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// Store what can be stored; report conflicts as outcomes.
    Each,
    /// Store everything or nothing.
    AllOrNothing,
}

/// A lifecycle event on a certificate, kept forever as its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub kind: EventKind,
    pub on: Day,
    /// Who did it (issuer id, `import`, `demo`, …).
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Issued,
    Reviewed,
    Renewed,
    Suspended,
    Reinstated,
    Revoked,
}

impl EventKind {
    pub fn id(self) -> &'static str {
        match self {
            EventKind::Issued => "issued",
            EventKind::Reviewed => "reviewed",
            EventKind::Renewed => "renewed",
            EventKind::Suspended => "suspended",
            EventKind::Reinstated => "reinstated",
            EventKind::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Issued,
            EventKind::Reviewed,
            EventKind::Renewed,
            EventKind::Suspended,
            EventKind::Reinstated,
            EventKind::Revoked,
        ]
        .into_iter()
        .find(|k| k.id() == s)
    }
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

    /// Registers issuers, replacing the record of any with the same id.
    async fn put_issuers(&self, issuers: &[Issuer]) -> Result<()>;
    async fn issuer(&self, id: &str) -> Result<Option<Issuer>>;
    /// All issuers, ordered by id.
    async fn issuers(&self) -> Result<Vec<Issuer>>;

    /// Stores a batch of new certificates in one transaction, each with an `issued` event by
    /// `by`. A certificate is identified by its (number, kind); one already stored with the same
    /// data is `Unchanged`, with other data a `Conflict`. Outcomes are in input order.
    ///
    /// With [`InsertMode::AllOrNothing`], a conflict rolls the whole batch back and the call fails
    /// with [`StoreError::Conflict`] naming every conflicting certificate.
    async fn insert_certificates(
        &self,
        batch: &[Certificate],
        by: &str,
        mode: InsertMode,
    ) -> Result<Vec<RowOutcome>>;

    /// The certificates with this (normalised) number, of any kind, ordered by kind.
    async fn certificates_by_number(&self, number: &str) -> Result<Vec<Certificate>>;
    /// One certificate by its identity.
    async fn certificate(&self, number: &str, kind: &str) -> Result<Option<Certificate>>;
    /// Every certificate of a holder, ordered by kind, then issue date, then number.
    async fn certificates_by_holder(&self, holder: &HolderKey) -> Result<Vec<Certificate>>;

    /// Records a lifecycle event and applies it to the certificate in one transaction:
    /// `Reviewed` sets `last_review_on`; `Renewed` sets `issued_on`/`valid_until` from `update`;
    /// `Suspended`, `Reinstated`, `Revoked` set the administrative state.
    async fn record_event(
        &self,
        number: &str,
        kind: &str,
        event: &Event,
        update: &CertificateUpdate,
    ) -> Result<Certificate>;
    /// A certificate's events, oldest first.
    async fn events(&self, number: &str, kind: &str) -> Result<Vec<Event>>;

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
}

/// The fields an event changes. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateUpdate {
    pub valid_until: Option<Option<Day>>,
    pub last_review_on: Option<Day>,
    pub issued_on: Option<Day>,
    pub state: Option<AdminState>,
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
