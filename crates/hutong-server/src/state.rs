//! The state every handler shares. Cloning is cheap: it is one `Arc`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hutong_core::Policy;
use hutong_store::{Stats, Store};

use crate::metrics::Metrics;

/// Operator settings the handlers need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Shown on pages when the database holds demo data.
    pub demo: bool,
    /// How often the registry counts on the home page are refreshed.
    pub stats_refresh: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            demo: false,
            stats_refresh: Duration::from_secs(300),
        }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    policy: RwLock<Arc<Policy>>,
    pub metrics: Metrics,
    pub settings: Settings,
    pub started: Instant,
    /// Counting a national registry takes seconds, so counts are cached and refreshed.
    stats: RwLock<Option<Stats>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, policy: Arc<Policy>, settings: Settings) -> AppState {
        AppState(Arc::new(Inner {
            store,
            policy: RwLock::new(policy),
            metrics: Metrics::default(),
            settings,
            started: Instant::now(),
            stats: RwLock::new(None),
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

    /// The last registry counts, if they have been computed.
    pub fn stats(&self) -> Option<Stats> {
        self.stats.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn refresh_stats(&self) {
        match self.store.stats().await {
            Ok(s) => *self.stats.write().unwrap_or_else(|p| p.into_inner()) = Some(s),
            Err(e) => tracing::warn!(error = %e, "could not count the registry"),
        }
    }

    /// Starts the periodic work of a running server (the registry counts).
    pub fn spawn_background_tasks(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                state.refresh_stats().await;
                tokio::time::sleep(state.settings.stats_refresh).await;
            }
        });
    }
}
