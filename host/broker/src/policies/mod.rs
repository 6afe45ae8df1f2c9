//! Claim policies: WebAssembly plugins that decide, for a consumer group's pending entries,
//! who gets a stuck entry and when it is given up on.
//!
//! Each policy runs on a thread of its own. Every `interval_ms` it copies the group's pending
//! entries and consumers (under the stream's lock, briefly), hands them to the plugin in
//! pages (no lock held), and applies the answers: reassignments (delivered on the new owner's
//! next `XREADGROUP … >` before new entries), acknowledgements, and dead-letters (appended to
//! the dead-letter stream with their history and acknowledged in one step). An entry that
//! changed since it was copied (acknowledged or claimed by a client meanwhile) is left alone.
//! A plugin that traps, times out, or answers outside the contract (an unknown consumer)
//! changes nothing that evaluation; the error is reported.
//!
//! # Layout
//! - [`spec`]: the `[[claim_policy]]` config table.
//! - [`runner`]: the policy thread: copy, evaluate, apply.

pub mod runner;
pub mod spec;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::Broker;
use crate::plugins::PluginState;
use crate::plugins::deploy::{Deployable, Threads};
use crate::plugins::loader::Loader;
use spec::PolicySpec;

/// A policy's counters; they survive reloads of the policy.
#[derive(Debug, Default)]
pub struct PolicyStats {
    /// Evaluations that ran to the end (applied, even if there was nothing to do).
    pub evaluations: AtomicU64,
    /// Evaluations that failed (plugin error): nothing applied.
    pub failed: AtomicU64,
    /// Entries moved to another consumer.
    pub reassigned: AtomicU64,
    /// Entries appended to a dead-letter stream and acknowledged.
    pub dead_lettered: AtomicU64,
    /// Entries acknowledged.
    pub acked: AtomicU64,
    /// Decisions not applied because the entry changed since it was read.
    pub stale: AtomicU64,
    /// Pending entries seen by the last evaluation.
    pub last_pending: AtomicU64,
    /// Duration of the last evaluation, µs.
    pub last_duration_us: AtomicU64,
    /// Successful reloads.
    pub reloads: AtomicU64,
    /// The last error.
    pub last_error: Mutex<Option<String>>,
}

impl PolicyStats {
    /// Records `error` as the last one and logs it.
    pub fn error(&self, policy: &str, error: String) {
        tracing::warn!(policy, "{error}");
        *self.last_error.lock() = Some(error);
    }
}

/// One configured claim policy.
#[derive(Debug)]
pub struct Policy {
    /// As configured.
    pub spec: PolicySpec,
    /// Its name (`name`, or `<stream>/<group>`).
    pub name: String,
    /// The plugin file's content hash.
    pub plugin_hash: u64,
    /// What the plugin says it is, once loaded.
    pub plugin_info: Option<sluice_plugin_host::PluginInfo>,
    /// Counters, shared with earlier and later versions.
    pub stats: Arc<PolicyStats>,
    state: AtomicU8,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Policy {
    /// A policy in `state`, continuing `stats`.
    pub fn new(
        spec: PolicySpec,
        plugin_hash: u64,
        plugin_info: Option<sluice_plugin_host::PluginInfo>,
        stats: Arc<PolicyStats>,
        state: PluginState,
    ) -> Self {
        Self {
            name: spec.name(),
            spec,
            plugin_hash,
            plugin_info,
            stats,
            state: AtomicU8::new(state as u8),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    /// What the policy is doing.
    pub fn state(&self) -> PluginState {
        PluginState::from_u8(self.state.load(Ordering::Relaxed))
    }

    pub(crate) fn set_state(&self, state: PluginState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// Asks the thread to stop after the evaluation it is on.
    pub(crate) fn stop(&self) {
        *self.stop.lock() = true;
        self.wake.notify_one();
    }

    /// Sleeps up to `timeout`; true when asked to stop.
    pub(crate) fn sleep_unless_stopped(&self, timeout: std::time::Duration) -> bool {
        let mut stop = self.stop.lock();
        if !*stop {
            let _ = self.wake.wait_for(&mut stop, timeout);
        }
        *stop
    }
}

/// The server's claim policies.
#[derive(Debug, Default)]
pub struct Policies {
    table: RwLock<Vec<Arc<Policy>>>,
}

impl Policies {
    /// The current policies, in config order.
    pub fn list(&self) -> Vec<Arc<Policy>> {
        self.table.read().clone()
    }

    pub(crate) fn set(&self, policies: Vec<Arc<Policy>>) {
        *self.table.write() = policies;
    }
}

impl Deployable for Policy {
    type Spec = PolicySpec;
    type Instance = sluice_plugin_host::PolicyInstance;
    const KIND: &'static str = "claim policy";

    fn spec_name(spec: &PolicySpec) -> String {
        spec.name()
    }

    fn spec_plugin(spec: &PolicySpec) -> &str {
        &spec.plugin
    }

    fn spec_limits(spec: &PolicySpec) -> (Option<u64>, Option<u64>) {
        (spec.max_memory, spec.timeout_ms)
    }

    fn instantiate(
        host: &sluice_plugin_host::PluginHost,
        compiled: &sluice_plugin_host::CompiledPlugin,
        spec: &PolicySpec,
        limits: sluice_plugin_host::Limits,
    ) -> Result<Self::Instance, sluice_plugin_host::PluginError> {
        host.instantiate_policy_with_limits(compiled, &spec.name(), &spec.plugin_config(), limits)
    }

    fn instance_info(instance: &Self::Instance) -> &sluice_plugin_host::PluginInfo {
        instance.info()
    }

    fn build(
        spec: PolicySpec,
        plugin_hash: u64,
        info: Option<sluice_plugin_host::PluginInfo>,
        previous: Option<&Arc<Self>>,
        state: PluginState,
    ) -> Self {
        let stats = previous.map_or_else(Arc::default, |p| p.stats.clone());
        Policy::new(spec, plugin_hash, info, stats, state)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    fn plugin_hash(&self) -> u64 {
        self.plugin_hash
    }

    fn state(&self) -> PluginState {
        Policy::state(self)
    }

    fn set_state(&self, state: PluginState) {
        Policy::set_state(self, state);
    }

    fn stop(&self) {
        Policy::stop(self);
    }

    fn error(&self, error: String) {
        self.stats.error(&self.name, error);
    }

    fn count_reload(&self) {
        self.stats.reloads.fetch_add(1, Ordering::Relaxed);
    }

    fn running(broker: &Broker) -> Vec<Arc<Self>> {
        broker.policies.list()
    }

    fn publish(broker: &Broker, table: Vec<Arc<Self>>) {
        broker.policies.set(table);
    }

    fn threads(loader: &mut Loader) -> &mut Threads<Self> {
        &mut loader.policy_threads
    }

    fn spawn(
        broker: Arc<Broker>,
        policy: Arc<Self>,
        instance: Self::Instance,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        runner::spawn(broker.store(), policy, instance)
    }
}
