//! What a route and a claim policy have in common once deployed: the spec it was configured
//! with, the plugin file it runs and what that says it is, counters carried from one version
//! to the next, and what it is doing. Both embed one [`Deployed`], so the deploy step and the
//! `SLUICE` commands read these the same way for either.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use sluice_plugin_host::PluginInfo;

use super::PluginState;

/// The counters a route or claim policy keeps across its versions: what the deploy step
/// records in them.
pub trait WorkerStats: Default + Send + Sync + 'static {
    /// Counts a successful reload.
    fn count_reload(&self);
    /// Records `error` as the last error of the worker `name`, and logs it.
    fn record_error(&self, name: &str, error: String);
}

/// One deployed version of a route or claim policy: spec, plugin, counters and state.
#[derive(Debug)]
pub struct Deployed<Spec, Stats> {
    /// As configured.
    pub spec: Spec,
    /// Its name: a route's `name`; a policy's `name`, or `<stream>/<group>`.
    pub name: String,
    /// The plugin file's content hash (what a reload compares).
    pub plugin_hash: u64,
    /// What the plugin says it is (`name`, `version`), once loaded.
    pub plugin_info: Option<PluginInfo>,
    /// Counters, shared with the earlier and later versions.
    pub stats: Arc<Stats>,
    state: AtomicU8,
}

impl<Spec, Stats> Deployed<Spec, Stats> {
    /// A version named `name` in `state`, continuing `stats`.
    pub fn new(
        name: String,
        spec: Spec,
        plugin_hash: u64,
        plugin_info: Option<PluginInfo>,
        stats: Arc<Stats>,
        state: PluginState,
    ) -> Self {
        Self {
            spec,
            name,
            plugin_hash,
            plugin_info,
            stats,
            state: AtomicU8::new(state as u8),
        }
    }

    /// What it is doing.
    pub fn state(&self) -> PluginState {
        PluginState::from_u8(self.state.load(Ordering::Relaxed))
    }

    pub(crate) fn set_state(&self, state: PluginState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }
}

impl<Spec, Stats: WorkerStats> Deployed<Spec, Stats> {
    /// Records `error` as its last error, and logs it.
    pub fn error(&self, error: String) {
        self.stats.record_error(&self.name, error);
    }
}
