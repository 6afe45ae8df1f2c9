//! Routes: WebAssembly plugins that see the events appended to their source streams and
//! answer with outputs to other streams (filter, transform, route).
//!
//! Each route runs on a thread of its own. After an `XADD` to one of its sources the route
//! wakes, reads the entries after its position in batches, calls its plugin with each batch
//! (no lock held), and commits the batch's outputs, its dead-letter entries and its new
//! position as one step: under the keyspace gate held exclusively, and as one write-ahead log
//! record. A crash or a reload therefore never loses or repeats an output.
//!
//! A route's position in a source stream is an ordinary consumer group named
//! `sluice:route:<name>` (`XINFO GROUPS` shows its lag), so snapshots, the log and recovery
//! keep it with nothing new on disk.
//!
//! # Layout
//! - [`spec`]: the `[[route]]` config table and its checks.
//! - [`runner`]: the route thread: wait, read, call, commit.
//! - [`commit`]: applying a batch's outputs and position atomically.
//! - [`loader`]: compiling plugins, (re)loading the route set, hot reload.
//! - [`watch`]: watching the plugins folder and the config file.

pub mod commit;
pub mod loader;
pub mod runner;
pub mod spec;
pub mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex, RwLock};

pub use loader::{Loader, ReloadStatus};
use spec::RouteSpec;

/// What a route is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RouteState {
    /// Routing (or waiting for events).
    Running = 0,
    /// Stopped before an event that failed, with `on_error = "halt"`; a reload restarts it.
    Halted = 1,
    /// Its plugin could not be loaded; it has never run in this configuration.
    Failed = 2,
    /// The plugin cannot start (its `init` fails after a restart); retried every second.
    Retrying = 3,
    /// Stopped (being replaced or removed, or the server is shutting down).
    Stopped = 4,
}

impl RouteState {
    pub(crate) fn from_u8(n: u8) -> Self {
        match n {
            0 => RouteState::Running,
            1 => RouteState::Halted,
            2 => RouteState::Failed,
            3 => RouteState::Retrying,
            _ => RouteState::Stopped,
        }
    }

    /// The name `SLUICE ROUTES` and `INFO` show.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteState::Running => "running",
            RouteState::Halted => "halted",
            RouteState::Failed => "failed",
            RouteState::Retrying => "retrying",
            RouteState::Stopped => "stopped",
        }
    }
}

/// A route's counters. They survive reloads of the route (the new version continues them).
#[derive(Debug, Default)]
pub struct RouteStats {
    /// Source events handed to the plugin and committed.
    pub events_in: AtomicU64,
    /// Entries appended to destination streams.
    pub events_out: AtomicU64,
    /// Events that produced no output (filtered out).
    pub dropped: AtomicU64,
    /// Events appended to the dead-letter stream.
    pub dead_lettered: AtomicU64,
    /// Failed events dropped (`on_error = "skip"`).
    pub skipped: AtomicU64,
    /// Outputs refused because they would feed back into the route.
    pub loops_refused: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Time spent inside the plugin, ns.
    pub plugin_ns: AtomicU64,
    /// Times the plugin instance was re-created after a trap, timeout or memory exhaustion.
    pub restarts: AtomicU64,
    /// Successful reloads of this route.
    pub reloads: AtomicU64,
    /// The last error (a failed event, a failed reload), for operators.
    pub last_error: Mutex<Option<String>>,
}

impl RouteStats {
    /// Records `error` as the last one and logs it.
    pub fn error(&self, route: &str, error: String) {
        tracing::warn!(route, "{error}");
        *self.last_error.lock() = Some(error);
    }
}

/// One configured route: its spec, plugin, counters, and the wake-up its runner waits on.
#[derive(Debug)]
pub struct Route {
    /// As configured.
    pub spec: RouteSpec,
    /// The plugin file's content hash (what a reload compares).
    pub plugin_hash: u64,
    /// What the plugin says it is (`name`, `version`), once loaded.
    pub plugin_info: Option<sluice_plugin_host::PluginInfo>,
    /// Counters, shared with the route's earlier and later versions.
    pub stats: Arc<RouteStats>,
    state: AtomicU8,
    wake: Wake,
}

/// Whether the runner should rescan or stop, and whether it sleeps.
#[derive(Debug, Default)]
struct WakeState {
    rescan: bool,
    stop: bool,
}

/// How writers wake the runner. On the `XADD` path it costs a set lookup and an atomic load:
/// the mutex and the condition variable are touched only when the runner sleeps.
#[derive(Debug, Default)]
struct Wake {
    /// Source keys written since the runner last looked.
    keys: dashmap::DashSet<Vec<u8>>,
    /// Set by the runner (under `state`) before it waits.
    sleeping: AtomicBool,
    state: Mutex<WakeState>,
    cond: Condvar,
}

/// What the runner should do next.
pub(crate) enum Work {
    /// Look at these source keys.
    Keys(Vec<Vec<u8>>),
    /// Look at every source key.
    Rescan,
    /// Stop.
    Stop,
}

impl Route {
    /// A route in `state`, continuing `stats`.
    pub fn new(
        spec: RouteSpec,
        plugin_hash: u64,
        plugin_info: Option<sluice_plugin_host::PluginInfo>,
        stats: Arc<RouteStats>,
        state: RouteState,
    ) -> Self {
        let wake = Wake::default();
        wake.state.lock().rescan = true;
        Self {
            spec,
            plugin_hash,
            plugin_info,
            stats,
            state: AtomicU8::new(state as u8),
            wake,
        }
    }

    /// What the route is doing.
    pub fn state(&self) -> RouteState {
        RouteState::from_u8(self.state.load(Ordering::Relaxed))
    }

    pub(crate) fn set_state(&self, state: RouteState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// `key` (a source) was appended to.
    fn key_written(&self, key: &[u8]) {
        let wake = &self.wake;
        if !wake.keys.contains(key) {
            wake.keys.insert(key.to_vec());
        }
        // SeqCst pairs with `next_work`: either it sees the key, or this sees it asleep.
        if wake.sleeping.load(Ordering::SeqCst) {
            let _state = wake.state.lock();
            wake.sleeping.store(false, Ordering::SeqCst);
            wake.cond.notify_one();
        }
    }

    /// Asks the runner to look at every source again.
    fn rescan(&self) {
        let mut state = self.wake.state.lock();
        state.rescan = true;
        self.wake.cond.notify_one();
    }

    /// Asks the runner to stop after the batch it is on.
    pub(crate) fn stop(&self) {
        let mut state = self.wake.state.lock();
        state.stop = true;
        self.wake.cond.notify_one();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.wake.state.lock().stop
    }

    /// Waits for something to do, at most `timeout` (then `Keys` may be empty).
    pub(crate) fn next_work(&self, timeout: std::time::Duration) -> Work {
        let wake = &self.wake;
        let mut state = wake.state.lock();
        loop {
            if state.stop {
                return Work::Stop;
            }
            if state.rescan {
                state.rescan = false;
                wake.keys.clear();
                return Work::Rescan;
            }
            let keys = self.take_keys();
            if !keys.is_empty() {
                return Work::Keys(keys);
            }
            wake.sleeping.store(true, Ordering::SeqCst);
            // A writer that added a key before seeing `sleeping` is found here.
            if !wake.keys.is_empty() {
                wake.sleeping.store(false, Ordering::SeqCst);
                continue;
            }
            let timed_out = wake.cond.wait_for(&mut state, timeout).timed_out();
            wake.sleeping.store(false, Ordering::SeqCst);
            if timed_out {
                return Work::Keys(self.take_keys());
            }
        }
    }

    /// The keys written since the last call.
    fn take_keys(&self) -> Vec<Vec<u8>> {
        let keys: Vec<Vec<u8>> = self.wake.keys.iter().map(|k| k.key().clone()).collect();
        for key in &keys {
            self.wake.keys.remove(key);
        }
        keys
    }

    /// Sleeps up to `timeout`, returning early (true) when asked to stop.
    pub(crate) fn sleep_unless_stopped(&self, timeout: std::time::Duration) -> bool {
        let mut state = self.wake.state.lock();
        if !state.stop {
            let _ = self.wake.cond.wait_for(&mut state, timeout);
        }
        state.stop
    }
}

/// The server's routes: the current set, what `XADD` consults, and the loader.
#[derive(Debug, Default)]
pub struct Routes {
    /// The current routes. Read on every `XADD` (when any route exists).
    table: RwLock<Vec<Arc<Route>>>,
    /// Whether `table` is non-empty: lets `XADD` skip the lock entirely without routes.
    any: AtomicBool,
    /// Compiles plugins and applies route sets; one reload at a time. Held for a whole
    /// reload: commands read [`Routes::status`] instead.
    pub loader: Mutex<Loader>,
    /// What the reloads did.
    pub status: Mutex<ReloadStatus>,
}

impl Routes {
    /// An entry was appended to `key` in database `db`: wake the routes it is a source of.
    pub fn key_written(&self, db: usize, key: &[u8]) {
        if db != 0 || !self.any.load(Ordering::Relaxed) {
            return;
        }
        for route in self.table.read().iter() {
            if route.spec.is_source(key) {
                route.key_written(key);
            }
        }
    }

    /// Makes every route look at all its sources again (`SWAPDB` replaced database 0).
    pub fn rescan_all(&self) {
        for route in self.table.read().iter() {
            route.rescan();
        }
    }

    /// The current routes, in config order.
    pub fn list(&self) -> Vec<Arc<Route>> {
        self.table.read().clone()
    }

    /// Replaces the route set.
    pub(crate) fn set(&self, routes: Vec<Arc<Route>>) {
        let mut table = self.table.write();
        self.any.store(!routes.is_empty(), Ordering::Relaxed);
        *table = routes;
    }
}
