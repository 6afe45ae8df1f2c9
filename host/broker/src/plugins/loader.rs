//! The plugin engine and the compiled plugin files; starting, reloading and stopping the
//! routes and claim policies (see the module documentation of [`crate::plugins`]).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use sluice_plugin_host::{CompiledPlugin, Limits, PluginHost};

use super::deploy::{self, Threads};
use super::watch;
use crate::Broker;
use crate::config::PluginsConfig;
use crate::policies::Policy;
use crate::routes::Route;

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

/// The broker's plugins: the loader, and what its reloads did.
#[derive(Debug, Default)]
pub struct Plugins {
    /// Compiles plugins and applies route and policy sets; one reload at a time. Held for a
    /// whole reload: commands read [`Plugins::status`] instead.
    pub loader: Mutex<Loader>,
    /// What the reloads did.
    pub status: Mutex<ReloadStatus>,
}

/// The plugin engine, the compiled plugins and the route and policy threads.
#[derive(Default)]
pub struct Loader {
    host: Option<PluginHost>,
    /// By file name.
    plugins: HashMap<String, LoadedPlugin>,
    pub(crate) route_threads: Threads<Route>,
    pub(crate) policy_threads: Threads<Policy>,
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
            .field("routes", &self.route_threads.len())
            .field("policies", &self.policy_threads.len())
            .finish()
    }
}

impl Loader {
    /// The plugin engine, once a plugin was loaded.
    pub(crate) fn host(&self) -> Option<&PluginHost> {
        self.host.as_ref()
    }

    /// The plugin files loaded, by name.
    pub(crate) fn plugins(&self) -> Vec<LoadedPlugin> {
        let mut list: Vec<_> = self.plugins.values().cloned().collect();
        list.sort_by(|a, b| a.file.cmp(&b.file));
        list
    }
}

/// Records how a reload went.
fn report(broker: &Broker, loader: &Loader, result: Result<(), String>) -> Result<(), String> {
    let mut status = broker.plugins.status.lock();
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
        Ok(w) => broker.plugins.loader.lock().watcher = Some(w),
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
    let loader = broker.plugins.loader.lock();
    tracing::warn!("reload: {error}; routes left as they were");
    report(broker, &loader, Err(error))
}

/// Makes `config`'s routes and claim policies the ones running.
fn apply(broker: &Arc<Broker>, config: &PluginsConfig) -> Result<(), String> {
    let mut loader = broker.plugins.loader.lock();
    let mut errors = deploy::apply::<Route>(broker, &mut loader, config.routes.clone(), config);
    errors.extend(deploy::apply::<Policy>(
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

/// Reads and compiles `file` from the plugins folder, unless it is unchanged since last time.
pub(crate) fn load_plugin(
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
        loader.host = Some(new_host(&broker.config.dir)?);
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

/// The plugin engine, keeping compiled plugins in `<dir>/plugin-cache` (or
/// `$SLUICE_PLUGIN_CACHE_DIR`, which servers may share) so that a restart loads them instead of
/// compiling them again (seconds for a Python or JavaScript plugin). Without a usable cache
/// folder it runs without one.
fn new_host(data_dir: &Path) -> Result<PluginHost, String> {
    let cache = std::env::var_os("SLUICE_PLUGIN_CACHE_DIR")
        .map_or_else(|| data_dir.join("plugin-cache"), PathBuf::from);
    match PluginHost::with_cache(Limits::default(), Some(&cache)) {
        Ok(host) => Ok(host),
        Err(e) => {
            tracing::warn!("{e}; plugins are compiled at every start");
            PluginHost::new(Limits::default()).map_err(|e| e.to_string())
        }
    }
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
    let watcher = broker.plugins.loader.lock().watcher.take();
    drop(watcher);
    let mut loader = broker.plugins.loader.lock();
    deploy::stop_replaced(&mut loader.route_threads, &[]);
    broker.routes.set(Vec::new());
    deploy::stop_replaced(&mut loader.policy_threads, &[]);
    broker.policies.set(Vec::new());
}
