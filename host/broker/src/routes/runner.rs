//! The route thread: waits for its sources to be written, reads what follows its position in
//! batches, calls the plugin without holding any lock, and commits.
//!
//! A batch the plugin fails as a whole (a trap, a timeout, memory exhaustion, an error for
//! the batch, an answer outside the contract) is routed again one event at a time, so that
//! only the event at fault is failed and the rest flow.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_plugin_host::{Batch, PluginError, RouterInstance};
use sluice_streams::StreamId;

use super::commit::{Answer, Applied, Commit};
use super::priority::Priority;
use super::{Route, Work};
use crate::plugins::PluginState;
use crate::store::Store;

/// Most events per plugin call.
pub const BATCH_EVENTS: usize = 1024;
/// How long a route whose plugin cannot start waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long an idle route sleeps between checks of its stop flag.
const IDLE_WAKE: Duration = Duration::from_secs(1);
/// Least time between two commits of a route under a steady stream of events. Each commit
/// locks the source and its destinations (or the whole keyspace, for several destinations),
/// which clients' commands on them then wait on, and its log record must reach the OS (one
/// write(2), unless a client's reply wrote it during the window): a route woken
/// by each XADD would pay that tens of thousands of times a second. Waiting lets the batch
/// fill instead (at most this much added latency).
const COALESCE: Duration = Duration::from_micros(250);
/// The wait once batches come in large (the sources take [`BUSY_BATCH`] events or more per
/// [`COALESCE`], some 500k a second): a commit's fixed cost is then what limits ingest, and a
/// millisecond more latency is worth a tenth more throughput (measured with 50 clients
/// pipelining XADDs on 2 cores: the route thread's CPU per event 450 → 360 ns).
const COALESCE_BUSY: Duration = Duration::from_micros(1000);
/// Events per batch from which a route counts as busy.
const BUSY_BATCH: usize = 128;

/// Starts the route's thread.
pub fn spawn(
    store: Arc<dyn Store>,
    route: Arc<Route>,
    plugin: RouterInstance,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("route-{}", route.deployed.spec.name))
        .spawn(move || {
            let group = route.deployed.spec.group_name();
            let watched = route.clone();
            let mut runner = Runner {
                store,
                route,
                plugin,
                group,
                batch: Batch::new(),
                single: Batch::new(),
                last_commit: Instant::now(),
                last_batch: BATCH_EVENTS,
                priority: Priority::new(),
                unwritten_since: None,
            };
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run()));
            if ran.is_err() {
                // A bug, not the plugin's doing (plugins cannot panic the host). Say so
                // instead of looking healthy; a reload starts the route again.
                watched.deployed.set_state(PluginState::Failed);
                watched.deployed.error(
                    "the route's thread panicked (a bug in Sluice); SLUICE RELOAD restarts it"
                        .into(),
                );
            }
        })
}

struct Runner {
    store: Arc<dyn Store>,
    route: Arc<Route>,
    plugin: RouterInstance,
    group: Vec<u8>,
    batch: Batch,
    single: Batch,
    /// When the last batch was committed, and how many events it had.
    last_commit: Instant,
    last_batch: usize,
    /// The thread's scheduling class: yields to clients while busy and keeping up.
    priority: Priority,
    /// When the first batch committed since the last [`Store::write_behind`] was.
    unwritten_since: Option<Instant>,
}

/// How one step on a source key went.
enum Step {
    /// A full batch was committed: there may be more.
    More,
    /// Caught up with the key.
    CaughtUp,
    /// The route halts (`on_error = "halt"`).
    Halt(String),
    /// The plugin cannot start; wait and try again.
    Retry,
}

impl Runner {
    fn run(&mut self) {
        self.work();
        self.store.write_behind();
        self.store.release(&self.route.deployed.spec);
        self.route.deployed.set_state(PluginState::Stopped);
    }

    /// Routes until asked to stop (or halted).
    fn work(&mut self) {
        loop {
            // Nothing of what was committed may wait in the log while the route idles.
            let (store, unwritten) = (&self.store, &mut self.unwritten_since);
            let before_wait = || {
                store.write_behind();
                *unwritten = None;
            };
            let keys = match self.route.next_work(IDLE_WAKE, before_wait) {
                Work::Stop => return,
                Work::Keys(keys) => keys.into_iter().map(Bytes::from).collect(),
                Work::Rescan => self.all_sources(),
            };
            for key in keys {
                if !self.drain(&key) {
                    return;
                }
            }
        }
    }

    /// Every source stream there is now. The route's set-up gave the ones that existed then a
    /// position; any without one appeared later, so all of it is new and `step` reads it from
    /// the start.
    fn all_sources(&self) -> Vec<Bytes> {
        self.store.route_sources(&self.route.deployed.spec)
    }

    /// Routes `key` until caught up. False when the runner must stop.
    fn drain(&mut self, key: &Bytes) -> bool {
        loop {
            if self.route.stopping() {
                return false;
            }
            // Only between small batches: a route catching up commits full ones back to back.
            let since = self.last_commit.elapsed();
            let window = match self.last_batch {
                n if n >= BATCH_EVENTS => Duration::ZERO,
                n if n >= BUSY_BATCH => COALESCE_BUSY,
                _ => COALESCE,
            };
            if since < window {
                std::thread::sleep(window - since);
            }
            // Clients' replies have usually written the batches' records meanwhile.
            if self
                .unwritten_since
                .is_some_and(|since| since.elapsed() >= COALESCE_BUSY)
            {
                self.store.write_behind();
                self.unwritten_since = None;
            }
            // The log cannot be written (a full disk): wait, position kept, until it can.
            if !self.store.writable() {
                if self.route.sleep_unless_stopped(RETRY_AFTER) {
                    return false;
                }
                continue;
            }
            match self.step(key) {
                Step::More => {}
                Step::CaughtUp => {
                    if self.route.deployed.state() == PluginState::Retrying {
                        self.route.deployed.set_state(PluginState::Running);
                    }
                    return true;
                }
                Step::Retry => {
                    self.store.write_behind();
                    self.route.deployed.set_state(PluginState::Retrying);
                    if self.route.sleep_unless_stopped(RETRY_AFTER) {
                        return false;
                    }
                }
                Step::Halt(reason) => {
                    self.store.write_behind();
                    self.route.deployed.error(reason);
                    self.route.deployed.set_state(PluginState::Halted);
                    while !self.route.sleep_unless_stopped(IDLE_WAKE) {}
                    return false;
                }
            }
        }
    }

    /// Reads, routes and commits one batch of `key`.
    fn step(&mut self, key: &Bytes) -> Step {
        let Some(read_after) = self.read(key) else {
            return Step::CaughtUp;
        };
        if self.batch.is_empty() {
            return Step::CaughtUp;
        }
        let full = self.batch.len() >= BATCH_EVENTS;
        let Some(answer) = self.call(key) else {
            return Step::Retry;
        };
        let commit = Commit {
            spec: &self.route.deployed.spec,
            group: &self.group,
            stats: &self.route.deployed.stats,
            key,
            read_after,
            batch: &self.batch,
            answer: &answer,
        };
        match commit.apply(&*self.store) {
            Applied::Stale => Step::More,
            Applied::Done { halted } => {
                self.last_commit = Instant::now();
                self.last_batch = self.batch.len();
                self.unwritten_since.get_or_insert(self.last_commit);
                self.priority
                    .after_batch(self.last_batch >= BUSY_BATCH, full);
                match halted {
                    Some(reason) => Step::Halt(reason),
                    None if full => Step::More,
                    None => Step::CaughtUp,
                }
            }
        }
    }

    /// Fills the batch with the entries after the route's position in `key`; returns that
    /// position (`Some(None)`: the route has none there yet), or `None` if the key is gone.
    fn read(&mut self, key: &[u8]) -> Option<Option<StreamId>> {
        self.store
            .read_batch(key, &self.group, BATCH_EVENTS, &mut self.batch)
    }

    /// Calls the plugin with the batch; on a failure of the whole batch, with each event
    /// alone. `None` when the plugin cannot start at all.
    fn call(&mut self, key: &[u8]) -> Option<Answer> {
        let key = String::from_utf8_lossy(key);
        let started = Instant::now();
        let whole = self.plugin.route_batch(&key, &self.batch);
        let answer = match whole {
            Ok(routed) => Some(Answer::Whole(routed)),
            Err(e) => self.failed_batch(&key, e),
        };
        let elapsed = started.elapsed();
        let stats = &self.route.deployed.stats;
        stats.plugin_ns.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            RELAXED,
        );
        stats.plugin_calls.record(elapsed);
        answer
    }

    fn failed_batch(&mut self, key: &str, error: PluginError) -> Option<Answer> {
        if !self.usable(&error) {
            return None;
        }
        if self.batch.len() == 1 {
            return Some(Answer::PerEvent(vec![Err(error.to_string())]));
        }
        tracing::debug!(
            route = %self.route.deployed.spec.name,
            "batch failed ({error}); routing its events one at a time"
        );
        let mut each = Vec::with_capacity(self.batch.len());
        for i in 0..self.batch.len() {
            let Some((id, fields)) = self.batch.get(i) else {
                break;
            };
            self.single.clear();
            if let Err(e) = self.single.push(id, &fields.to_flat()) {
                each.push(Err(e.to_string()));
                continue;
            }
            match self.plugin.route_batch(key, &self.single) {
                Ok(routed) => each.push(Ok(routed)),
                Err(e) => {
                    if !self.usable(&e) {
                        return None;
                    }
                    each.push(Err(e.to_string()));
                }
            }
        }
        Some(Answer::PerEvent(each))
    }

    /// Counts a restart, records the error; false when the plugin cannot even start (its
    /// `init` fails), which is no event's fault.
    fn usable(&self, error: &PluginError) -> bool {
        if error.restarts_instance() {
            self.route.deployed.stats.restarts.fetch_add(1, RELAXED);
        }
        if let PluginError::Init { .. } = error {
            self.route.deployed.error(format!("{error}; retrying"));
            return false;
        }
        true
    }
}

const RELAXED: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;
