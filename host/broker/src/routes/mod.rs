//! Routes: WebAssembly plugins that see the events appended to their source streams and
//! answer with outputs to other streams (filter, transform, route).
//!
//! Each route runs on a thread of its own. After an `XADD` to one of its sources the route
//! wakes, reads the entries after its position in batches, calls its plugin with each batch
//! (no lock held), and commits the batch's outputs, its dead-letter entries and its new
//! position as one step and one write-ahead log record. A crash or a reload therefore never
//! loses or repeats an output. A batch whose outputs go to one stream is committed beside the
//! clients' commands, one key's lock at a time (clients appending to the source wait only for
//! a position check); outputs to several streams hold the keyspace gate exclusively (see
//! `store::embedded`).
//!
//! A route's position in a source stream is an ordinary consumer group named
//! `sluice:route:<name>` (`XINFO GROUPS` shows its lag), so snapshots, the log and recovery
//! keep it with nothing new on disk.
//!
//! # Layout
//! - [`spec`]: the `[[route]]` config table and its checks.
//! - [`runner`]: the route thread: wait, read, call, commit.
//! - [`commit`]: applying a batch's outputs and position atomically.
//! - [`priority`]: a busy route that keeps up yields the CPU to clients (`SCHED_IDLE`).

pub mod commit;
pub mod priority;
pub mod runner;
pub mod spec;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex, MutexGuard};
use sluice_storage::Timings;

use crate::Broker;
use crate::plugins::deploy::{Deployable, Threads};
use crate::plugins::loader::Loader;
use crate::plugins::{Deployed, WorkerStats};
use spec::RouteSpec;

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
    /// How long each call of the plugin took (a batch, with its retries event by event).
    pub plugin_calls: Timings,
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

impl WorkerStats for RouteStats {
    fn count_reload(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    fn record_error(&self, name: &str, error: String) {
        self.error(name, error);
    }
}

/// One configured route: its spec, plugin, counters, and the wake-up its runner waits on.
#[derive(Debug)]
pub struct Route {
    /// Its spec, plugin, counters (shared with its earlier and later versions) and state.
    pub deployed: Deployed<RouteSpec, RouteStats>,
    wake: Wake,
}

/// Whether the runner should rescan or stop, and whether it sleeps.
#[derive(Debug, Default)]
struct WakeState {
    rescan: bool,
    stop: bool,
}

/// How writers wake the runner. On the `XADD` path it costs one atomic load while the runner
/// has not yet taken the last wake-up (a set lookup first, for a glob source); the mutex and
/// the condition variable are touched only when the runner sleeps.
#[derive(Debug, Default)]
struct Wake {
    /// The source key, when the source is one key rather than a glob.
    literal: Option<Vec<u8>>,
    /// With a literal source: it was written since the runner last looked.
    pending: AtomicBool,
    /// With a glob source: the source keys written since the runner last looked. Looked up
    /// on every append to a key while it waits (foldhash, as the keyspace: SipHash showed in
    /// the profile of routed `XADD`s).
    keys: dashmap::DashSet<Vec<u8>, foldhash::quality::RandomState>,
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
    /// The route `deployed` describes; its runner starts by looking at every source.
    pub fn new(deployed: Deployed<RouteSpec, RouteStats>) -> Self {
        let wake = Wake {
            literal: deployed
                .spec
                .source
                .literal()
                .map(|key| key.as_bytes().to_vec()),
            ..Wake::default()
        };
        wake.state.lock().rescan = true;
        Self { deployed, wake }
    }

    /// Whether `key` is one of the route's sources (see [`RouteSpec::is_source`]), quickly
    /// for a literal source.
    fn reads(&self, key: &[u8]) -> bool {
        match &self.wake.literal {
            Some(source) => source.as_slice() == key,
            None => self.deployed.spec.is_source(key),
        }
    }

    /// True if `key` was written, and found a source, since the runner last looked (a glob
    /// source: the set lookup spares matching the glob again on every append to it).
    fn waking_on(&self, key: &[u8]) -> bool {
        self.wake.literal.is_none() && self.wake.keys.contains(key)
    }

    /// `key` (a source) was appended to.
    fn key_written(&self, key: &[u8]) {
        let wake = &self.wake;
        if wake.literal.is_some() {
            // Still pending: the runner has yet to look, and will see this write too.
            if wake.pending.load(Ordering::SeqCst) {
                return;
            }
            wake.pending.store(true, Ordering::SeqCst);
        } else if !wake.keys.contains(key) {
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

    /// Waits for something to do, at most `timeout` (then `Keys` may be empty). Calls
    /// `before_wait` (without the lock) once before it would wait: not at all while work is
    /// waiting already.
    pub(crate) fn next_work(
        &self,
        timeout: std::time::Duration,
        mut before_wait: impl FnMut(),
    ) -> Work {
        let wake = &self.wake;
        let mut state = wake.state.lock();
        let mut readied = false;
        loop {
            if state.stop {
                return Work::Stop;
            }
            if state.rescan {
                state.rescan = false;
                wake.keys.clear();
                wake.pending.store(false, Ordering::SeqCst);
                return Work::Rescan;
            }
            let keys = self.take_keys();
            if !keys.is_empty() {
                return Work::Keys(keys);
            }
            if !readied {
                readied = true;
                // Keys written meanwhile are found on the next pass.
                MutexGuard::unlocked(&mut state, &mut before_wait);
                continue;
            }
            wake.sleeping.store(true, Ordering::SeqCst);
            // A writer that added a key before seeing `sleeping` is found here.
            if !wake.keys.is_empty() || wake.pending.load(Ordering::SeqCst) {
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
        if let Some(source) = &self.wake.literal {
            return match self.wake.pending.swap(false, Ordering::SeqCst) {
                true => vec![source.clone()],
                false => Vec::new(),
            };
        }
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

/// The broker's routes: the current set, what a write's ready keys consult.
#[derive(Debug, Default)]
pub struct Routes {
    /// The current routes. Read after every write (when any route exists); replaced whole.
    table: ArcSwap<Vec<Arc<Route>>>,
    /// Whether `table` is non-empty: lets a write skip the lock entirely without routes.
    any: AtomicBool,
    /// Taken by a route's commit, by its source and group: one route's commits of one source
    /// never overlap (a replaced runner may still be finishing its batch when the new one
    /// starts), without a lock shared by every route.
    commits: [Mutex<()>; COMMIT_LOCKS],
}

/// How many locks [`Routes::commit_turn`] spreads commits over.
const COMMIT_LOCKS: usize = 16;

impl Routes {
    /// An entry was appended to `key` in database `db`: wake the routes it is a source of.
    pub fn key_written(&self, db: usize, key: &[u8]) {
        if db != 0 || !self.any.load(Ordering::Relaxed) {
            return;
        }
        for route in self.table.load().iter() {
            if !route.waking_on(key) && route.reads(key) {
                route.key_written(key);
            }
        }
    }

    /// The turn of the route whose position is `group` in `source` to commit a batch there.
    pub(crate) fn commit_turn(
        &self,
        source: &[u8],
        group: &[u8],
    ) -> parking_lot::MutexGuard<'_, ()> {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::default().hash_one((source, group));
        // The remainder is below COMMIT_LOCKS, so it fits a usize.
        #[allow(clippy::cast_possible_truncation)]
        let index = (hash % COMMIT_LOCKS as u64) as usize;
        self.commits[index].lock()
    }

    /// True if any route is deployed.
    pub fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Makes every route look at all its sources again (`SWAPDB` replaced database 0).
    pub fn rescan_all(&self) {
        for route in self.table.load().iter() {
            route.rescan();
        }
    }

    /// The current routes, in config order.
    pub fn list(&self) -> Vec<Arc<Route>> {
        self.table.load().to_vec()
    }

    /// Replaces the route set.
    pub(crate) fn set(&self, routes: Vec<Arc<Route>>) {
        self.any.store(!routes.is_empty(), Ordering::Relaxed);
        self.table.store(Arc::new(routes));
    }
}

impl Deployable for Route {
    type Spec = RouteSpec;
    type Stats = RouteStats;
    type Instance = sluice_plugin_host::RouterInstance;
    const KIND: &'static str = "route";

    fn spec_name(spec: &RouteSpec) -> String {
        spec.name.clone()
    }

    fn spec_plugin(spec: &RouteSpec) -> &str {
        &spec.plugin
    }

    fn spec_limits(spec: &RouteSpec) -> (Option<u64>, Option<u64>) {
        (spec.max_memory, spec.timeout_ms)
    }

    fn instantiate(
        host: &sluice_plugin_host::PluginHost,
        compiled: &sluice_plugin_host::CompiledPlugin,
        spec: &RouteSpec,
        limits: sluice_plugin_host::Limits,
    ) -> Result<Self::Instance, sluice_plugin_host::PluginError> {
        host.instantiate_router_with_limits(compiled, &spec.name, &spec.plugin_config(), limits)
    }

    fn instance_info(instance: &Self::Instance) -> &sluice_plugin_host::PluginInfo {
        instance.info()
    }

    fn build(deployed: Deployed<RouteSpec, RouteStats>) -> Self {
        Route::new(deployed)
    }

    fn deployed(&self) -> &Deployed<RouteSpec, RouteStats> {
        &self.deployed
    }

    fn stop(&self) {
        Route::stop(self);
    }

    fn running(broker: &Broker) -> Vec<Arc<Self>> {
        broker.routes.list()
    }

    fn publish(broker: &Broker, table: Vec<Arc<Self>>) {
        broker.routes.set(table);
    }

    fn threads(loader: &mut Loader) -> &mut Threads<Self> {
        &mut loader.route_threads
    }

    /// A route new to its sources gets its position in the sources there are now before any
    /// client can add to them unseen (`start = "$"` means: after what is there when the route
    /// is set up). A new version of a route keeps its positions; a source without one
    /// appeared since the route was set up, so all of it is new and the runner reads it from
    /// the start.
    fn prepare(broker: &Arc<Broker>, route: &Arc<Self>, previous: Option<&Arc<Self>>) {
        let spec = &route.deployed.spec;
        if previous.is_none_or(|p| p.deployed.spec.source != spec.source) {
            broker.store().create_positions(spec);
        }
    }

    fn spawn(
        broker: Arc<Broker>,
        route: Arc<Self>,
        instance: Self::Instance,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        runner::spawn(broker.store(), route, instance)
    }
}
