//! Deploying a new set of routes or claim policies: one generic step for both.
//!
//! For each configured worker: an unchanged one (same spec, same plugin file, running) keeps
//! running; a new or changed one is built — plugin loaded, instantiated and initialised —
//! before anything stops. Then the replaced workers are stopped (each after the batch or
//! round it is on), the new set is published, and the new workers' threads start. A worker
//! whose plugin fails to load keeps its previous version running, or shows as failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use sluice_plugin_host::{CompiledPlugin, Limits, PluginError, PluginHost, PluginInfo};

use super::PluginState;
use super::deployed::{Deployed, WorkerStats};
use super::loader::{Loader, load_plugin};
use crate::Broker;
use crate::config::PluginsConfig;

/// The threads of running workers, by name.
pub(crate) type Threads<W> = HashMap<String, (Arc<W>, JoinHandle<()>)>;

/// A route or claim policy as the loader deploys it.
pub(crate) trait Deployable: Send + Sync + Sized + 'static {
    /// One `[[route]]` or `[[claim_policy]]` table.
    type Spec: Clone + PartialEq;
    /// Its counters, continued by each new version.
    type Stats: WorkerStats;
    /// The plugin instance the worker's thread runs.
    type Instance;
    /// `route` or `claim policy`, for messages.
    const KIND: &'static str;

    /// The name a spec gives its worker.
    fn spec_name(spec: &Self::Spec) -> String;
    /// The plugin file a spec names.
    fn spec_plugin(spec: &Self::Spec) -> &str;
    /// The spec's own memory (bytes) and time-per-call (ms) limits, if any.
    fn spec_limits(spec: &Self::Spec) -> (Option<u64>, Option<u64>);
    /// Instantiates and initialises the plugin for `spec`.
    fn instantiate(
        host: &PluginHost,
        compiled: &CompiledPlugin,
        spec: &Self::Spec,
        limits: Limits,
    ) -> Result<Self::Instance, PluginError>;
    /// What the instance says it is.
    fn instance_info(instance: &Self::Instance) -> &PluginInfo;
    /// The worker around `deployed`, which the deploy step built.
    fn build(deployed: Deployed<Self::Spec, Self::Stats>) -> Self;
    /// Its spec, plugin, counters and state.
    fn deployed(&self) -> &Deployed<Self::Spec, Self::Stats>;
    /// Asks its thread to stop after the batch or round it is on.
    fn stop(&self);

    /// The workers of this kind running now.
    fn running(broker: &Broker) -> Vec<Arc<Self>>;
    /// Makes `table` the workers of this kind.
    fn publish(broker: &Broker, table: Vec<Arc<Self>>);
    /// The loader's threads of this kind.
    fn threads(loader: &mut Loader) -> &mut Threads<Self>;
    /// Done for a worker about to start, before the new set is published.
    fn prepare(_broker: &Arc<Broker>, _worker: &Arc<Self>, _previous: Option<&Arc<Self>>) {}
    /// Starts the worker's thread.
    fn spawn(
        broker: Arc<Broker>,
        worker: Arc<Self>,
        instance: Self::Instance,
    ) -> std::io::Result<JoinHandle<()>>;
}

/// Makes `specs` the running workers of kind `W`; returns what could not be applied.
pub(crate) fn apply<W: Deployable>(
    broker: &Arc<Broker>,
    loader: &mut Loader,
    specs: Vec<W::Spec>,
    config: &PluginsConfig,
) -> Vec<String> {
    let current: HashMap<String, Arc<W>> = W::running(broker)
        .into_iter()
        .map(|w| (w.deployed().name.clone(), w))
        .collect();
    let mut errors = Vec::new();
    let mut table = Vec::new();
    let mut start = Vec::new();
    for spec in specs {
        let old = current.get(&W::spec_name(&spec));
        match build::<W>(broker, loader, spec, old, config) {
            Built::Unchanged(worker) => table.push(worker),
            Built::New(worker, instance) => {
                table.push(worker.clone());
                start.push((worker, instance, old.cloned()));
            }
            Built::Failed(worker, error) => {
                table.push(worker);
                errors.push(error);
            }
        }
    }
    stop_replaced(W::threads(loader), &table);
    for (worker, _, previous) in &start {
        W::prepare(broker, worker, previous.as_ref());
    }
    // `SLUICE PLUGINS` shows the files loaded before any worker is seen running them.
    broker.plugins.status.lock().plugins = loader.plugins();
    W::publish(broker, table);
    for (worker, instance, _) in start {
        let spawned = W::spawn(broker.clone(), worker.clone(), instance);
        if let Some(e) = started(W::threads(loader), worker, spawned) {
            errors.push(e);
        }
    }
    errors
}

/// What became of one configured worker.
enum Built<W: Deployable> {
    /// Spec and plugin as before, and running: kept.
    Unchanged(Arc<W>),
    /// A new version, instantiated, to start.
    New(Arc<W>, W::Instance),
    /// Its plugin could not be loaded: the previous version (kept running) or a failed
    /// worker, with the error.
    Failed(Arc<W>, String),
}

/// Builds the worker `spec` configures, `old` being the version running now.
fn build<W: Deployable>(
    broker: &Broker,
    loader: &mut Loader,
    spec: W::Spec,
    old: Option<&Arc<W>>,
    config: &PluginsConfig,
) -> Built<W> {
    let name = W::spec_name(&spec);
    let plugin = W::spec_plugin(&spec).to_owned();
    let loaded = load_plugin(loader, broker, config.plugins_dir.as_deref(), &plugin);
    let unchanged = old.map(|old| old.deployed()).is_some_and(|old| {
        old.spec == spec
            && loaded.as_ref().is_ok_and(|p| p.hash == old.plugin_hash)
            && matches!(old.state(), PluginState::Running | PluginState::Retrying)
    });
    if let (true, Some(old)) = (unchanged, old) {
        return Built::Unchanged(old.clone());
    }
    let file_hash = loaded.as_ref().map_or(0, |p| p.hash);
    let made = loaded.and_then(|loaded| {
        let compiled = loaded.compiled.clone()?;
        let host = loader.host().ok_or("no plugin engine")?;
        let (memory, timeout) = W::spec_limits(&spec);
        let instance = W::instantiate(
            host,
            &compiled,
            &spec,
            limits(host, memory, timeout, config, loaded.bytes),
        )
        .map_err(|e| e.to_string())?;
        Ok((loaded.hash, instance))
    });
    match (made, old) {
        (Ok((hash, instance)), old) => {
            let info = W::instance_info(&instance).clone();
            tracing::info!(
                name = %name,
                plugin = %plugin,
                version = %info.version,
                "{} {}",
                W::KIND,
                if old.is_some() { "reloaded" } else { "loaded" }
            );
            let worker = version(name, spec, hash, Some(info), old, PluginState::Running);
            if old.is_some() {
                worker.deployed().stats.count_reload();
            }
            Built::New(worker, instance)
        }
        (Err(e), Some(old)) if old.deployed().state() != PluginState::Failed => {
            let error = format!(
                "{} {name}: cannot load {plugin}: {e}; the previous version keeps running",
                W::KIND
            );
            old.deployed().error(error.clone());
            Built::Failed(old.clone(), error)
        }
        (Err(e), old) => {
            let error = format!("{} {name}: cannot load {plugin}: {e}", W::KIND);
            let worker = version(name, spec, file_hash, None, old, PluginState::Failed);
            worker.deployed().error(error.clone());
            Built::Failed(worker, error)
        }
    }
}

/// A new version of the worker named `name`, in `state`; it continues `previous`'s counters.
fn version<W: Deployable>(
    name: String,
    spec: W::Spec,
    plugin_hash: u64,
    info: Option<PluginInfo>,
    previous: Option<&Arc<W>>,
    state: PluginState,
) -> Arc<W> {
    let stats = previous.map_or_else(Arc::default, |p| p.deployed().stats.clone());
    let deployed = Deployed::new(name, spec, plugin_hash, info, stats, state);
    Arc::new(W::build(deployed))
}

/// A component this large carries a language runtime (Python's interpreter is ~18 MB,
/// JavaScript's engine ~12 MB; a Rust plugin is ~0.1 MB).
pub const RUNTIME_COMPONENT_BYTES: u64 = 4 << 20;
/// The memory limit such a component gets unless its spec says otherwise: the JavaScript
/// engine collects garbage lazily and ran out of 48 MiB under sustained load (within 256 MiB).
pub const RUNTIME_COMPONENT_MEMORY: u64 = 256 << 20;

/// The limits of a plugin instance: its own, or the broker-wide ones (raised to
/// [`RUNTIME_COMPONENT_MEMORY`] for a component of `component_bytes` that carries a runtime).
fn limits(
    host: &PluginHost,
    max_memory: Option<u64>,
    timeout_ms: Option<u64>,
    config: &PluginsConfig,
    component_bytes: u64,
) -> Limits {
    let default_memory = if component_bytes >= RUNTIME_COMPONENT_BYTES {
        config.plugin_max_memory.max(RUNTIME_COMPONENT_MEMORY)
    } else {
        config.plugin_max_memory
    };
    Limits {
        memory_bytes: usize::try_from(max_memory.unwrap_or(default_memory)).unwrap_or(usize::MAX),
        call_deadline: std::time::Duration::from_millis(
            timeout_ms.unwrap_or(config.plugin_call_timeout_ms),
        ),
        ..host.limits()
    }
}

/// Stops the threads of workers no longer in `table` (all first, then waits for each: each
/// finishes the batch or round it is on).
pub(crate) fn stop_replaced<W: Deployable>(threads: &mut Threads<W>, table: &[Arc<W>]) {
    let stopping: Vec<String> = threads
        .iter()
        .filter(|(_, (w, _))| !table.iter().any(|t| Arc::ptr_eq(t, w)))
        .map(|(name, _)| name.clone())
        .collect();
    for name in &stopping {
        if let Some((w, _)) = threads.get(name) {
            w.stop();
        }
    }
    for name in stopping {
        if let Some((w, thread)) = threads.remove(&name) {
            if thread.join().is_err() {
                tracing::error!(name = %name, "worker thread panicked");
            }
            w.deployed().set_state(PluginState::Stopped);
        }
    }
}

/// Records a started worker's thread; the error when it could not start.
fn started<W: Deployable>(
    threads: &mut Threads<W>,
    worker: Arc<W>,
    spawned: std::io::Result<JoinHandle<()>>,
) -> Option<String> {
    match spawned {
        Ok(thread) => {
            threads.insert(worker.deployed().name.clone(), (worker, thread));
            None
        }
        Err(e) => {
            let deployed = worker.deployed();
            let error = format!("{}: cannot start its thread: {e}", deployed.name);
            deployed.error(error.clone());
            deployed.set_state(PluginState::Failed);
            Some(error)
        }
    }
}
