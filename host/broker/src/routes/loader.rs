//! Loading routes: compile each route's plugin, initialise it, and swap the new route set in.
//!
//! A reload (at start, on `SLUICE RELOAD`, or when the plugins folder or the config file
//! changes) re-reads the config file's routes, and for each route whose spec or plugin file
//! changed builds and initialises the new instance *first*. Only then is the old version
//! stopped — after the batch it is on, whose commit is atomic — and the new one started from
//! the route's committed position: nothing is lost or routed twice. A file that fails to
//! compile, link or initialise leaves the old version running; the failure is reported in
//! the log, in `SLUICE ROUTES` and `SLUICE PLUGINS`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use sluice_plugin_host::{CompiledPlugin, Limits, PluginHost};

use super::spec::RouteSpec;
use super::{Route, RouteState, runner, watch};
use crate::Broker;
use crate::config::PluginsConfig;
use crate::policies::Policy;
use crate::policies::runner as policy_runner;
use crate::policies::spec::PolicySpec;

/// A plugin file as last loaded.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// The file name in the plugins folder.
    pub file: String,
    /// Content hash.
    pub hash: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// The compiled component, if it compiled.
    pub compiled: Result<CompiledPlugin, String>,
    /// When it was (last) loaded, Unix ms.
    pub loaded_at_ms: u64,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("file", &self.file)
            .field("hash", &self.hash)
            .field("ok", &self.compiled.is_ok())
            .finish()
    }
}

/// The plugin engine, the compiled plugins and the route threads.
#[derive(Default)]
pub struct Loader {
    host: Option<PluginHost>,
    /// By file name.
    plugins: HashMap<String, LoadedPlugin>,
    threads: HashMap<String, (Arc<Route>, JoinHandle<()>)>,
    policy_threads: HashMap<String, (Arc<Policy>, JoinHandle<()>)>,
    watcher: Option<watch::Watcher>,
}

/// What the last reloads did, for `INFO` and `SLUICE PLUGINS`. Kept apart from the
/// [`Loader`], whose lock is held for a whole reload (which waits for route threads, which
/// wait for the keyspace gate that those commands hold).
#[derive(Debug, Default, Clone)]
pub struct ReloadStatus {
    /// Reloads that applied everything / that left something as it was.
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    /// The last reload's problems, if any.
    pub last_error: Option<String>,
    /// The plugin files loaded, by file name.
    pub plugins: Vec<LoadedPlugin>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("plugins", &self.plugins.len())
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Loader {
    /// The plugin files loaded, by name.
    fn plugins(&self) -> Vec<LoadedPlugin> {
        let mut list: Vec<_> = self.plugins.values().cloned().collect();
        list.sort_by(|a, b| a.file.cmp(&b.file));
        list
    }
}

/// Records how a reload went.
fn report(broker: &Broker, loader: &Loader, result: Result<(), String>) -> Result<(), String> {
    let mut status = broker.routes.status.lock();
    match &result {
        Ok(()) => {
            status.reloads_ok += 1;
            status.last_error = None;
        }
        Err(e) => {
            status.reloads_failed += 1;
            status.last_error = Some(e.clone());
        }
    }
    status.plugins = loader.plugins();
    result
}

/// Loads the configured routes and starts watching for changes. Problems with plugins are
/// reported, not fatal: the server serves, and the route shows as failed.
pub fn start(broker: &Arc<Broker>) {
    let config = &broker.config;
    if let Err(e) = apply(broker, &config.plugins) {
        tracing::warn!("routes: {e}");
    }
    let plugins_dir = config.plugins.plugins_dir.clone();
    let config_file = config.config_file.clone();
    if plugins_dir.is_none() && config_file.is_none() {
        return;
    }
    match watch::Watcher::start(Arc::downgrade(broker), plugins_dir, config_file) {
        Ok(w) => broker.routes.loader.lock().watcher = Some(w),
        Err(e) => tracing::warn!("hot reload is off: {e}"),
    }
}

/// Re-reads the config file's routes (or, without a file, the start-up ones) and the plugin
/// files, and applies what changed. `Err` lists what could not be applied (those routes keep
/// their previous version).
pub fn reload(broker: &Arc<Broker>) -> Result<(), String> {
    let config = match broker.plugins_config() {
        Ok(config) => config,
        Err(e) => return failed(broker, e),
    };
    if let Err(e) = config.validate() {
        let file = broker
            .config
            .config_file
            .as_deref()
            .unwrap_or(Path::new("-"));
        return failed(broker, format!("config file {}: {e}", file.display()));
    }
    apply(broker, &config)
}

fn failed(broker: &Broker, error: String) -> Result<(), String> {
    let loader = broker.routes.loader.lock();
    tracing::warn!("reload: {error}; routes left as they were");
    report(broker, &loader, Err(error))
}

/// Makes `config`'s routes and claim policies the ones running.
fn apply(broker: &Arc<Broker>, config: &PluginsConfig) -> Result<(), String> {
    let mut loader = broker.routes.loader.lock();
    let mut errors = apply_routes(broker, &mut loader, config.routes.clone(), config);
    errors.extend(apply_policies(
        broker,
        &mut loader,
        config.claim_policies.clone(),
        config,
    ));
    let result = if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    };
    report(broker, &loader, result)
}

/// The limits of a plugin instance: its own, or the broker-wide ones.
fn limits(
    host: &PluginHost,
    max_memory: Option<u64>,
    timeout_ms: Option<u64>,
    config: &PluginsConfig,
) -> Limits {
    Limits {
        memory_bytes: usize::try_from(max_memory.unwrap_or(config.plugin_max_memory))
            .unwrap_or(usize::MAX),
        call_deadline: Duration::from_millis(timeout_ms.unwrap_or(config.plugin_call_timeout_ms)),
        ..host.limits()
    }
}

/// Makes `specs` the route set; returns what could not be applied.
fn apply_routes(
    broker: &Arc<Broker>,
    loader: &mut Loader,
    specs: Vec<RouteSpec>,
    config: &PluginsConfig,
) -> Vec<String> {
    let current: HashMap<String, Arc<Route>> = broker
        .routes
        .list()
        .into_iter()
        .map(|r| (r.spec.name.clone(), r))
        .collect();
    let mut errors = Vec::new();
    let mut table = Vec::new();
    let mut start = Vec::new();
    for spec in specs {
        let old = current.get(&spec.name);
        let loaded = load_plugin(loader, broker, config.plugins_dir.as_deref(), &spec.plugin);
        let unchanged = old.is_some_and(|old| {
            old.spec == spec
                && loaded.as_ref().is_ok_and(|p| p.hash == old.plugin_hash)
                && matches!(old.state(), RouteState::Running | RouteState::Retrying)
        });
        if let (true, Some(old)) = (unchanged, old) {
            table.push(old.clone());
            continue;
        }
        let file_hash = loaded.as_ref().map_or(0, |p| p.hash);
        let made = loaded.and_then(|plugin| {
            let compiled = plugin.compiled.clone()?;
            let host = loader.host.as_ref().ok_or("no plugin engine")?;
            let limits = limits(host, spec.max_memory, spec.timeout_ms, config);
            let instance = host
                .instantiate_router_with_limits(
                    &compiled,
                    &spec.name,
                    &spec.plugin_config(),
                    limits,
                )
                .map_err(|e| e.to_string())?;
            Ok((plugin.hash, instance))
        });
        match (made, old) {
            (Ok((hash, instance)), old) => {
                let stats = old.map_or_else(Arc::default, |o| o.stats.clone());
                if old.is_some() {
                    stats
                        .reloads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let info = Some(instance.info().clone());
                let route = Arc::new(Route::new(spec, hash, info, stats, RouteState::Running));
                tracing::info!(
                    route = %route.spec.name,
                    plugin = %route.spec.plugin,
                    version = %instance.info().version,
                    "route {}",
                    if old.is_some() { "reloaded" } else { "loaded" }
                );
                table.push(route.clone());
                // Only a route new to these sources sets positions (see below).
                let new_sources = old.is_none_or(|o| o.spec.source != route.spec.source);
                start.push((route, instance, new_sources));
            }
            (Err(e), Some(old)) if old.state() != RouteState::Failed => {
                let error = format!(
                    "route {}: cannot load {}: {e}; the previous version keeps running",
                    spec.name, spec.plugin
                );
                old.stats.error(&spec.name, error.clone());
                errors.push(error);
                table.push(old.clone());
            }
            (Err(e), old) => {
                let error = format!("route {}: cannot load {}: {e}", spec.name, spec.plugin);
                let stats = old.map_or_else(Arc::default, |o| o.stats.clone());
                stats.error(&spec.name, error.clone());
                errors.push(error);
                table.push(Arc::new(Route::new(
                    spec,
                    file_hash,
                    None,
                    stats,
                    RouteState::Failed,
                )));
            }
        }
    }
    // Stop what is replaced or removed (each after its current batch), then start the new.
    stop_replaced(&mut loader.threads, &table);
    // A new route's position in the sources there are now is set before any client can add
    // to them unseen (`start = "$"` means: after what is there when the route is set up). A
    // new version of a route keeps its positions; a source without one appeared since the
    // route was set up, so all of it is new and the runner reads it from the start.
    for (route, _, new_sources) in &start {
        if *new_sources {
            runner::create_all_positions(broker, &route.spec);
        }
    }
    // `SLUICE PLUGINS` shows the files loaded before any route is seen running them.
    broker.routes.status.lock().plugins = loader.plugins();
    broker.routes.set(table);
    for (route, instance, _) in start {
        let spawned = runner::spawn(broker.clone(), route.clone(), instance);
        if let Some(e) = started(&mut loader.threads, route, spawned) {
            errors.push(e);
        }
    }
    errors
}

/// Makes `specs` the claim policies running; returns what could not be applied. As for
/// routes: an unchanged policy keeps running, a changed one is built first and swapped in
/// after its current evaluation, a failure keeps the previous version.
fn apply_policies(
    broker: &Arc<Broker>,
    loader: &mut Loader,
    specs: Vec<PolicySpec>,
    config: &PluginsConfig,
) -> Vec<String> {
    let current: HashMap<String, Arc<Policy>> = broker
        .policies
        .list()
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    let mut errors = Vec::new();
    let mut table = Vec::new();
    let mut start = Vec::new();
    for spec in specs {
        let name = spec.name();
        let old = current.get(&name);
        let loaded = load_plugin(loader, broker, config.plugins_dir.as_deref(), &spec.plugin);
        let unchanged = old.is_some_and(|old| {
            old.spec == spec
                && loaded.as_ref().is_ok_and(|p| p.hash == old.plugin_hash)
                && matches!(old.state(), RouteState::Running | RouteState::Retrying)
        });
        if let (true, Some(old)) = (unchanged, old) {
            table.push(old.clone());
            continue;
        }
        let file_hash = loaded.as_ref().map_or(0, |p| p.hash);
        let made = loaded.and_then(|plugin| {
            let compiled = plugin.compiled.clone()?;
            let host = loader.host.as_ref().ok_or("no plugin engine")?;
            let limits = limits(host, spec.max_memory, spec.timeout_ms, config);
            let instance = host
                .instantiate_policy_with_limits(&compiled, &name, &spec.plugin_config(), limits)
                .map_err(|e| e.to_string())?;
            Ok((plugin.hash, instance))
        });
        match (made, old) {
            (Ok((hash, instance)), old) => {
                let stats = old.map_or_else(Arc::default, |o| o.stats.clone());
                if old.is_some() {
                    stats
                        .reloads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let info = Some(instance.info().clone());
                let policy = Arc::new(Policy::new(spec, hash, info, stats, RouteState::Running));
                tracing::info!(policy = %name, plugin = %policy.spec.plugin, "claim policy loaded");
                table.push(policy.clone());
                start.push((policy, instance));
            }
            (Err(e), Some(old)) if old.state() != RouteState::Failed => {
                let error = format!(
                    "claim policy {name}: cannot load {}: {e}; the previous version keeps running",
                    spec.plugin
                );
                old.stats.error(&name, error.clone());
                errors.push(error);
                table.push(old.clone());
            }
            (Err(e), old) => {
                let error = format!("claim policy {name}: cannot load {}: {e}", spec.plugin);
                let stats = old.map_or_else(Arc::default, |o| o.stats.clone());
                stats.error(&name, error.clone());
                errors.push(error);
                table.push(Arc::new(Policy::new(
                    spec,
                    file_hash,
                    None,
                    stats,
                    RouteState::Failed,
                )));
            }
        }
    }
    stop_replaced(&mut loader.policy_threads, &table);
    broker.routes.status.lock().plugins = loader.plugins();
    broker.policies.set(table);
    for (policy, instance) in start {
        let spawned = policy_runner::spawn(broker.clone(), policy.clone(), instance);
        if let Some(e) = started(&mut loader.policy_threads, policy, spawned) {
            errors.push(e);
        }
    }
    errors
}

/// What the loader needs of a running route or claim policy.
trait Worker {
    fn name(&self) -> &str;
    fn stop(&self);
    fn set_state(&self, state: RouteState);
    fn error(&self, error: String);
}

impl Worker for Route {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn stop(&self) {
        Route::stop(self);
    }
    fn set_state(&self, state: RouteState) {
        Route::set_state(self, state);
    }
    fn error(&self, error: String) {
        self.stats.error(&self.spec.name, error);
    }
}

impl Worker for Policy {
    fn name(&self) -> &str {
        &self.name
    }
    fn stop(&self) {
        Policy::stop(self);
    }
    fn set_state(&self, state: RouteState) {
        Policy::set_state(self, state);
    }
    fn error(&self, error: String) {
        self.stats.error(&self.name, error);
    }
}

type Threads<W> = HashMap<String, (Arc<W>, JoinHandle<()>)>;

/// Stops the threads of workers no longer in `table` (all first, then waits for each: each
/// finishes the batch or round it is on).
fn stop_replaced<W: Worker>(threads: &mut Threads<W>, table: &[Arc<W>]) {
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
            w.set_state(RouteState::Stopped);
        }
    }
}

/// Records a started worker's thread; the error when it could not start.
fn started<W: Worker>(
    threads: &mut Threads<W>,
    worker: Arc<W>,
    spawned: std::io::Result<JoinHandle<()>>,
) -> Option<String> {
    match spawned {
        Ok(thread) => {
            threads.insert(worker.name().to_owned(), (worker, thread));
            None
        }
        Err(e) => {
            let error = format!("{}: cannot start its thread: {e}", worker.name());
            worker.error(error.clone());
            worker.set_state(RouteState::Failed);
            Some(error)
        }
    }
}

/// Stops every worker in `threads`.
fn stop_all<W: Worker>(threads: &mut Threads<W>) {
    stop_replaced(threads, &[]);
}

/// Reads and compiles `file` from the plugins folder, unless it is unchanged since last time.
fn load_plugin(
    loader: &mut Loader,
    broker: &Broker,
    dir: Option<&Path>,
    file: &str,
) -> Result<LoadedPlugin, String> {
    let dir = dir.ok_or("no plugins folder is set (plugins_dir or --plugins)")?;
    let path: PathBuf = dir.join(file);
    let bytes = read_plugin(&path, broker.config.plugins.plugin_max_size)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let hash = hasher.finish();
    if let Some(loaded) = loader.plugins.get(file)
        && loaded.hash == hash
    {
        return Ok(loaded.clone());
    }
    if loader.host.is_none() {
        let host = PluginHost::new(Limits::default()).map_err(|e| e.to_string())?;
        loader.host = Some(host);
    }
    let host = loader.host.as_ref().ok_or("no plugin engine")?;
    let compiled = host.compile(&bytes).map_err(|e| e.to_string());
    if let Err(e) = &compiled {
        tracing::warn!(plugin = file, "{e}");
    }
    let loaded = LoadedPlugin {
        file: file.to_owned(),
        hash,
        bytes: bytes.len() as u64,
        compiled,
        loaded_at_ms: broker.now_ms(),
    };
    loader.plugins.insert(file.to_owned(), loaded.clone());
    Ok(loaded)
}

fn read_plugin(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > max_bytes {
        return Err(format!(
            "{} is {size} bytes, over plugin-max-size ({max_bytes} bytes)",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Stops the watcher and every route (each after its current batch). Called at shutdown.
pub fn shutdown(broker: &Broker) {
    // Outside the lock: the watcher's thread may be waiting for it to reload.
    let watcher = broker.routes.loader.lock().watcher.take();
    drop(watcher);
    let mut loader = broker.routes.loader.lock();
    stop_all(&mut loader.threads);
    broker.routes.set(Vec::new());
    stop_all(&mut loader.policy_threads);
    broker.policies.set(Vec::new());
}
