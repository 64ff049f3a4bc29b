//! The state every handler shares. Cloning is cheap: it is one `Arc`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hutong_core::{HolderSecret, Issuer, Policy};
use hutong_store::{Stats, Store};

use crate::metrics::Metrics;
use crate::ratelimit::{RateLimitSettings, RateLimits};

/// Operator settings the handlers need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Shown on pages when the database holds demo data.
    pub demo: bool,
    /// How often the registry counts on the home page are refreshed.
    pub stats_refresh: Duration,
    /// How often the in-memory copy of the issuer register is compared with the store.
    pub issuer_refresh: Duration,
    /// How often the regulators' figures are computed again (a pass over the registry).
    pub oversight_refresh: Duration,
    /// How often webhooks are looked at for changes to deliver; a failed delivery waits twice
    /// as long each time, up to a minute.
    pub webhook_interval: Duration,
    /// Whether a webhook may point at a loopback or private address (tests, closed networks).
    pub webhook_private_targets: bool,
    /// The address the public reaches this service at (`https://hutong.example.cn`), for the
    /// links in QR codes; when absent, the request's `Host` is used.
    pub public_url: Option<String>,
    pub rate_limits: RateLimitSettings,
    /// Demo certificates the query page offers to try (only with `demo`).
    pub demo_samples: Vec<DemoSample>,
    /// A demo holder to try the ID number and name form with.
    pub demo_holder: Option<DemoHolder>,
    /// Timeouts and the cap on open connections, enforced by [`crate::serve`].
    pub connections: ConnectionSettings,
    /// The transparency log's key and witnesses; `None`: no log is published.
    pub log: Option<crate::tlog::LogSettings>,
    /// The folder of issuers' private key files (see [`crate::credentials`]).
    pub keys_dir: std::path::PathBuf,
}

/// How long a client may take, and how many connections may be open at once. A connection that
/// overstays is closed and the closing logged (never with what the client sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// To send a request's headers, counted from when the connection opens or the previous
    /// answer has been sent: so it also bounds how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// To send a request's whole body, counted from when its headers have arrived.
    pub body_timeout: Duration,
    /// The longest a connection may go without a byte received or sent while no handler is
    /// working on it: a client that stops reading an answer, or pauses in the middle of a body.
    pub idle_timeout: Duration,
    /// Connections open at once; past it, new connections wait in the listen queue until one
    /// closes. Keep it below the open-file limit (`ulimit -n`) less the database's needs.
    pub max_connections: u32,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// A synthetic certificate to try on a demo installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSample {
    pub number: String,
    pub kind: String,
    pub name: String,
}

/// A synthetic holder, whose ID number and name the query page offers on a demo installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoHolder {
    pub id: String,
    pub name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            demo: false,
            stats_refresh: Duration::from_secs(300),
            issuer_refresh: Duration::from_secs(5),
            oversight_refresh: Duration::from_secs(600),
            webhook_interval: Duration::from_secs(1),
            webhook_private_targets: false,
            public_url: None,
            rate_limits: RateLimitSettings::default(),
            demo_samples: Vec::new(),
            demo_holder: None,
            connections: ConnectionSettings::default(),
            log: None,
            keys_dir: std::path::PathBuf::from("data/keys"),
        }
    }
}

/// The issuer register, held in memory: issuers are few and every verification needs one.
#[derive(Debug, Default, PartialEq)]
pub struct IssuerRegister {
    by_id: HashMap<String, Arc<Issuer>>,
    /// Ordered by id.
    all: Vec<Arc<Issuer>>,
}

impl IssuerRegister {
    pub fn new(issuers: Vec<Issuer>) -> IssuerRegister {
        let all: Vec<Arc<Issuer>> = issuers.into_iter().map(Arc::new).collect();
        IssuerRegister {
            by_id: all.iter().map(|i| (i.id.clone(), i.clone())).collect(),
            all,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Issuer>> {
        self.by_id.get(id)
    }

    pub fn all(&self) -> &[Arc<Issuer>] {
        &self.all
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    policy: RwLock<Arc<Policy>>,
    /// Keys holder lookups (the one-stop query, verification by ID number).
    pub secret: HolderSecret,
    issuers: RwLock<Arc<IssuerRegister>>,
    /// When the registry last received a change to each issuer's certificates, as RFC 3339
    /// (UTC, seconds): read with the issuer register.
    activity: RwLock<Arc<HashMap<String, Arc<str>>>>,
    pub rate_limits: RateLimits,
    pub metrics: Metrics,
    pub settings: Settings,
    pub started: Instant,
    /// Signs credentials and the public keys file.
    pub signer: crate::credentials::Signer,
    /// Counting a national registry takes seconds, so counts are cached and refreshed.
    stats: RwLock<Option<Stats>>,
    /// The regulators' figures, last computed (`handlers::oversight`).
    oversight: RwLock<Option<Arc<hutong_core::oversight::Overview>>>,
    /// The transparency log: its key and the sequencer.
    pub log: crate::tlog::Log,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The state of a service. The issuer register starts empty: call
    /// [`AppState::refresh_issuers`] before serving (as [`crate::serve`] does).
    pub fn new(
        store: Arc<dyn Store>,
        policy: Arc<Policy>,
        secret: HolderSecret,
        settings: Settings,
    ) -> AppState {
        AppState(Arc::new(Inner {
            store,
            policy: RwLock::new(policy),
            secret,
            issuers: RwLock::new(Arc::new(IssuerRegister::default())),
            activity: RwLock::new(Arc::new(HashMap::new())),
            rate_limits: RateLimits::new(settings.rate_limits.clone()),
            metrics: Metrics::default(),
            log: crate::tlog::Log::new(settings.log.clone()),
            signer: crate::credentials::Signer::new(
                settings.keys_dir.clone(),
                settings.public_url.as_deref(),
            ),
            settings,
            started: Instant::now(),
            stats: RwLock::new(None),
            oversight: RwLock::new(None),
        }))
    }

    /// The policy in force. A regulator may replace it at run time; handlers take it once per
    /// request so that one answer is made under one policy.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn replace_policy(&self, policy: Arc<Policy>) {
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Switches to the policy last published in the registry (`hutong policy publish`, or
    /// `POST /api/v1/policy`) when it is not the one in force. A published policy that no
    /// longer validates (a newer build's rules) is logged and left aside: the one in force stays.
    pub async fn refresh_policy(&self) -> hutong_store::Result<()> {
        let Some(published) = self.store.published_policy().await? else {
            return Ok(());
        };
        if published.digest == self.policy().digest {
            return Ok(());
        }
        let sources: Vec<hutong_core::policy::Source> = published
            .files
            .into_iter()
            .map(|(name, text)| hutong_core::policy::Source { name, text })
            .collect();
        match Policy::from_sources(&sources) {
            Ok(p) => {
                tracing::info!(digest = %p.digest, seq = published.seq, "switched to the published policy");
                self.replace_policy(Arc::new(p));
            }
            Err(e) => tracing::error!(
                digest = %published.digest,
                problems = e.0.len(),
                "the published policy does not validate here; the policy in force stays"
            ),
        }
        Ok(())
    }

    /// The issuer register as last read from the store.
    pub fn issuers(&self) -> Arc<IssuerRegister> {
        self.issuers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the issuer register from the store, replacing the copy in memory if it changed,
    /// and each issuer's last change.
    pub async fn refresh_issuers(&self) -> hutong_store::Result<()> {
        let fresh = IssuerRegister::new(self.store.issuers().await?);
        if *self.issuers() != fresh {
            tracing::info!(issuers = fresh.all().len(), "issuer register loaded");
            *self.issuers.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        }
        let activity: HashMap<String, Arc<str>> = self
            .store
            .issuer_activity()
            .await?
            .into_iter()
            .map(|(issuer, at)| (issuer, freshness(at).into()))
            .collect();
        *self.activity.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(activity);
        Ok(())
    }

    /// When the registry last received a change to one of `issuer`'s certificates, as of the
    /// last read of the register (every `issuer_refresh`): the freshness of an answer about
    /// one of its certificates.
    pub fn data_as_of(&self, issuer: &str) -> Option<Arc<str>> {
        self.activity
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(issuer)
            .cloned()
    }

    /// The issuer with this id: from memory, or, when registered since the last refresh, from
    /// the store (which then refreshes the copy).
    pub async fn issuer(&self, id: &str) -> hutong_store::Result<Option<Arc<Issuer>>> {
        if let Some(i) = self.issuers().get(id) {
            return Ok(Some(i.clone()));
        }
        match self.store.issuer(id).await? {
            None => Ok(None),
            Some(i) => {
                self.refresh_issuers().await?;
                Ok(Some(Arc::new(i)))
            }
        }
    }

    /// The regulators' figures, if they have been computed.
    pub fn oversight(&self) -> Option<Arc<hutong_core::oversight::Overview>> {
        self.oversight
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Computes the regulators' figures again (a pass over the registry and the journal's
    /// refusals) and keeps them.
    pub async fn refresh_oversight(
        &self,
    ) -> hutong_store::Result<Arc<hutong_core::oversight::Overview>> {
        let fresh = Arc::new(crate::handlers::oversight::compute(self).await?);
        *self.oversight.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }

    /// The last registry counts, if they have been computed.
    pub fn stats(&self) -> Option<Stats> {
        self.stats.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn refresh_stats(&self) {
        // Counting a registry of millions takes seconds of one core, and an embedded store
        // counts on the calling thread: on the blocking pool, the request threads keep
        // answering meanwhile.
        let store = self.store.clone();
        let handle = tokio::runtime::Handle::current();
        match tokio::task::spawn_blocking(move || handle.block_on(store.stats())).await {
            Ok(Ok(s)) => *self.stats.write().unwrap_or_else(|p| p.into_inner()) = Some(s),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not count the registry"),
            Err(e) => tracing::warn!(error = %e, "the registry count failed"),
        }
    }

    /// Starts the periodic work of a running server: the registry counts, the issuer register,
    /// and forgetting idle clients of the rate limiter.
    pub fn spawn_background_tasks(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                state.refresh_stats().await;
                tokio::time::sleep(state.settings.stats_refresh).await;
            }
        });
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(state.settings.issuer_refresh).await;
                if let Err(e) = state.refresh_issuers().await {
                    tracing::warn!(error = %e, "could not read the issuer register");
                }
                if let Err(e) = state.refresh_policy().await {
                    tracing::warn!(error = %e, "could not read the published policy");
                }
            }
        });
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                state.rate_limits.forget_idle_clients();
            }
        });
        tokio::spawn(crate::handlers::watch::deliver_forever(self.clone()));
        let state = self.clone();
        tokio::spawn(async move {
            // Not at start: the first request computes them, and a server that no regulator
            // asks pays for no pass over the registry but one per interval after.
            loop {
                tokio::time::sleep(state.settings.oversight_refresh).await;
                if state.oversight().is_some()
                    && let Err(e) = state.refresh_oversight().await
                {
                    tracing::warn!(error = %e, "could not compute the regulators' figures");
                }
            }
        });
        // The transparency log: new journal entries become leaves, and a grown tree gets a
        // checkpoint, within one interval (and before any log read that needs them).
        if let Some(interval) = self.log.settings().map(|s| s.interval) {
            let state = self.clone();
            tokio::spawn(async move {
                loop {
                    if let Err(e) = state.log.sync(&*state.store).await {
                        tracing::warn!(error = %e, "could not sequence the transparency log");
                    }
                    tokio::time::sleep(interval).await;
                }
            });
        }
    }
}

/// An instant in microseconds as answers give freshness: RFC 3339, UTC, to the second.
pub fn freshness(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => hutong_core::journal::instant_rfc3339(micros),
    }
}
