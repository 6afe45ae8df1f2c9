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
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex, RwLock};
use sluice_storage::Timings;

use crate::Broker;
use crate::plugins::deploy::{Deployable, Threads};
use crate::plugins::loader::Loader;
use crate::plugins::{Deployed, WorkerStats};
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
    /// How long each evaluation took (read, plugin call, applying the decisions).
    pub evaluation_times: Timings,
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

impl WorkerStats for PolicyStats {
    fn count_reload(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    fn record_error(&self, name: &str, error: String) {
        self.error(name, error);
    }
}

/// One configured claim policy.
#[derive(Debug)]
pub struct Policy {
    /// Its spec, plugin, counters (shared with its earlier and later versions) and state.
    pub deployed: Deployed<PolicySpec, PolicyStats>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Policy {
    /// The policy `deployed` describes.
    pub fn new(deployed: Deployed<PolicySpec, PolicyStats>) -> Self {
        Self {
            deployed,
            stop: Mutex::new(false),
            wake: Condvar::new(),
        }
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
    type Stats = PolicyStats;
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

    fn build(deployed: Deployed<PolicySpec, PolicyStats>) -> Self {
        Policy::new(deployed)
    }

    fn deployed(&self) -> &Deployed<PolicySpec, PolicyStats> {
        &self.deployed
    }

    fn stop(&self) {
        Policy::stop(self);
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
