//! Attached mode (`sluice --attach redis://…`): the routes and claim policies run against an
//! existing Redis Cluster, Valkey cluster or standalone server, which stores everything; any
//! number of Sluice instances share the work.
//!
//! [`AttachedStore`] is the broker's [`Store`] over that server:
//!
//! - A route's position in a source stream is its consumer group `sluice:route:<name>` there,
//!   and each instance is a consumer in it (`--instance-id`). A batch is what `XREADGROUP …
//!   >` delivers to this instance (first what it was delivered and did not commit, then
//!   entries another instance has held longer than the route's `claim_idle_ms`, claimed with
//!   `XAUTOCLAIM`).
//! - A batch commits through one server-side function per source entry group: each entry is
//!   acknowledged, and its outputs appended only if the `XACK` returned 1. With the outputs
//!   in the source's hash slot that is exactly once: an entry another instance claimed
//!   meanwhile is acknowledged by whoever commits first, and only that commit appends.
//!   Outputs in another slot are appended first, each once per window (`SET … NX PX` beside
//!   the destination), then the source entry is acknowledged: effectively once.
//! - Blocking readers on connections of their own watch the source streams and wake the
//!   route; every second the routes look at all their sources again (new streams matching a
//!   glob, entries to claim).
//! - A claim policy runs on one instance at a time, the holder of a lease key.
//!
//! # Layout
//! - [`conn`]: the cluster or standalone connection.
//! - [`script`]: the function library (or scripts) commits run as.
//! - `route`: a route's sources, the batches this instance reads, releasing them at a stop.
//! - `commit`: a batch's outputs and acknowledgements, gated per source entry.
//! - `policy`: a group's pending entries and a policy's decisions.
//! - `watch`: the blocking readers and the periodic rescan.
//! - `caps`: what the server can do, probed at start.
//! - `reply`: reading the server's stream entry replies.

pub mod conn;
pub mod script;

mod caps;
mod commit;
mod policy;
mod reply;
mod route;
mod watch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use sluice_broker::Broker;
use sluice_broker::routes::Route;
use sluice_broker::routes::spec::RouteSpec;
use sluice_broker::store::{BatchCommit, Committed, GroupView, PolicyApplied, PolicyCommit, Store};
use sluice_plugin_host::Batch;
use sluice_streams::StreamId;

pub use caps::Caps;
use conn::{Client, Conn};
use script::Scripts;

/// How long one operation of a route or policy (a read, a commit, a view, a lease) may take
/// before it is abandoned and the shared connection replaced.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// What `--attach` and `--instance-id` give.
#[derive(Debug, Clone)]
pub struct AttachConfig {
    /// Seed nodes of a cluster, or one standalone server (`redis://[user:pass@]host:port`).
    pub urls: Vec<String>,
    /// This instance's consumer name in the routes' groups.
    pub instance: String,
    /// CA certificates (PEM) that `rediss://` servers must present a certificate signed by;
    /// default: the system's roots.
    pub tls_ca_file: Option<std::path::PathBuf>,
}

/// The [`Store`] over an attached cluster or server.
pub struct AttachedStore {
    shared: Arc<Shared>,
    /// Runs the client's connections; the route and policy threads block on it.
    runtime: Option<tokio::runtime::Runtime>,
}

/// What the store's threads and tasks share.
struct Shared {
    client: Client,
    /// The connection commands share; replaced when an operation hangs ([`OPERATION_TIMEOUT`]).
    conn: Mutex<Conn>,
    /// Attached to a cluster (not one standalone server).
    cluster: bool,
    scripts: Scripts,
    caps: Caps,
    instance: String,
    /// Wakes routes when a source is written.
    broker: Weak<Broker>,
    /// Per source stream and group: what this instance knows of its position there.
    sources: Mutex<HashMap<SourceGroup, SourceState>>,
    /// Source streams a blocking reader watches.
    watched: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// Set when the store is dropped: the tasks end.
    closed: AtomicBool,
    /// Where commits stop for the tests (`SLUICE_ATTACH_TEST_PAUSE`).
    pause: Option<commit::PausePoint>,
}

/// A source stream's key and a route's group in it.
type SourceGroup = (Vec<u8>, Vec<u8>);

/// This instance's state in one source stream of one route.
#[derive(Debug)]
struct SourceState {
    /// Entries were delivered to this instance and may not be committed (at start, after a
    /// failed commit): read its own pending entries before new ones.
    own_pending: bool,
    /// When entries idle in other instances were last looked for, and where `XAUTOCLAIM`
    /// goes on from.
    last_claim: Option<Instant>,
    claim_cursor: String,
    /// Failures in a row (reads back off).
    failures: u32,
}

impl SourceState {
    /// A read or commit failed on the way: what it applied is unknown, so this instance
    /// reads its own pending entries next (the gate keeps them from being appended twice),
    /// after a backoff.
    fn failed(&mut self) {
        self.own_pending = true;
        self.failures = self.failures.saturating_add(1);
    }
}

impl Default for SourceState {
    fn default() -> Self {
        SourceState {
            own_pending: true,
            last_claim: None,
            claim_cursor: "0-0".into(),
            failures: 0,
        }
    }
}

impl Shared {
    /// The route whose position is consumer group `group`, as deployed now.
    fn route(&self, group: &[u8]) -> Option<Arc<Route>> {
        let broker = self.broker.upgrade()?;
        broker
            .routes
            .list()
            .into_iter()
            .find(|r| r.deployed.spec.group_name() == group)
    }

    /// Whether one function call may write both `a` and `b`: always on a standalone server,
    /// in one hash slot on a cluster.
    fn one_slot(&self, a: &[u8], b: &[u8]) -> bool {
        !self.cluster || conn::same_slot(a, b)
    }

    /// A handle on the shared connection.
    fn conn(&self) -> Conn {
        self.conn.lock().clone()
    }

    /// Replaces the shared connection with a new one: the old one hung. Operations still
    /// holding it end by their own timeout.
    async fn reconnect(&self) {
        match self.client.connect().await {
            Ok(fresh) => *self.conn.lock() = fresh,
            Err(e) => tracing::warn!("attached: reconnecting: {e}"),
        }
    }

    /// Runs `f` on what this instance knows of its position in `source` for `group`.
    fn source_state<R>(
        &self,
        source: &[u8],
        group: &[u8],
        f: impl FnOnce(&mut SourceState) -> R,
    ) -> R {
        f(self
            .sources
            .lock()
            .entry((source.to_vec(), group.to_vec()))
            .or_default())
    }
}

impl AttachedStore {
    /// Connects to the servers `config` names, probes what they can do and loads the commit
    /// functions; then watches sources for `broker`'s routes.
    pub fn connect(config: &AttachConfig, broker: Weak<Broker>) -> anyhow::Result<AttachedStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("attach")
            .enable_all()
            .build()?;
        let shared = run_blocking(&runtime, async {
            let client = Client::open(&config.urls, config.tls_ca_file.as_deref()).await?;
            let mut conn = client.connect().await?;
            let caps = Caps::probe(&mut conn).await;
            let scripts = Scripts::load(&mut conn).await;
            anyhow::Ok(Shared {
                client,
                cluster: conn.is_cluster(),
                conn: Mutex::new(conn),
                caps: Caps {
                    functions: scripts.functions(),
                    ..caps
                },
                scripts,
                instance: config.instance.clone(),
                broker,
                sources: Mutex::default(),
                watched: Mutex::default(),
                closed: AtomicBool::new(false),
                pause: commit::PausePoint::from_env(),
            })
        })?;
        let shared = Arc::new(shared);
        tracing::info!(
            cluster = shared.cluster,
            instance = %shared.instance,
            "attached: {}",
            shared.caps.describe()
        );
        runtime.spawn(watch::rescan_every_second(shared.clone()));
        Ok(AttachedStore {
            shared,
            runtime: Some(runtime),
        })
    }

    /// What the attached server can do.
    pub fn caps(&self) -> &Caps {
        &self.shared.caps
    }

    /// Runs `future` on the store's runtime, blocking this thread until it is done, or for at
    /// most [`OPERATION_TIMEOUT`]: a cluster client can wait a long time, or for good, on a
    /// topology that changed under it (the redis crate's issues report such hangs around
    /// failovers), so an operation that takes longer is abandoned (`None`, as if it failed)
    /// and the shared connection replaced. Route and policy threads call it directly; a
    /// caller inside an async context (a reload run by a command) gets a thread of its own
    /// for it, as a runtime cannot be blocked on from one.
    fn block_on<T: Send>(&self, future: impl std::future::Future<Output = T> + Send) -> Option<T> {
        let rt = self.runtime.as_ref()?;
        let shared = &self.shared;
        run_blocking(rt, async {
            match tokio::time::timeout(OPERATION_TIMEOUT, future).await {
                Ok(value) => Some(value),
                Err(_) => {
                    tracing::warn!(
                        "attached: an operation took over {} s; reconnecting",
                        OPERATION_TIMEOUT.as_secs()
                    );
                    shared.reconnect().await;
                    None
                }
            }
        })
    }
}

/// `runtime.block_on(future)`, on a scoped thread when this one is inside an async context.
fn run_blocking<T: Send>(
    runtime: &tokio::runtime::Runtime,
    future: impl std::future::Future<Output = T> + Send,
) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(|scope| {
        let ran = scope.spawn(|| runtime.block_on(future)).join();
        match ran {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

impl Drop for AttachedStore {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        // Not `drop`: that panics when the last reference goes inside an async context.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for AttachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedStore")
            .field("instance", &self.shared.instance)
            .field("caps", &self.shared.caps)
            .finish_non_exhaustive()
    }
}

impl Store for AttachedStore {
    fn route_sources(&self, spec: &RouteSpec) -> Vec<Bytes> {
        let shared = &self.shared;
        let keys = self
            .block_on(route::sources(shared, spec))
            .unwrap_or_default();
        if let Some(rt) = &self.runtime {
            for key in &keys {
                watch::ensure(shared, rt.handle(), key);
            }
        }
        keys
    }

    fn create_positions(&self, spec: &RouteSpec) {
        let keys = self.route_sources(spec);
        self.block_on(route::create_positions(&self.shared, spec, &keys));
    }

    fn read_batch(
        &self,
        source: &[u8],
        group: &[u8],
        max: usize,
        batch: &mut Batch,
    ) -> Option<Option<StreamId>> {
        batch.clear();
        self.block_on(route::read(&self.shared, source, group, max, batch))
            .flatten()
            .map(|()| None)
    }

    fn commit_batch(&self, commit: &BatchCommit<'_>) -> Committed {
        match self.block_on(commit::commit(&self.shared, commit)) {
            Some(committed) => committed,
            None => {
                // Abandoned on the way: what it applied is unknown, so this instance reads
                // its own pending entries again (the gate keeps them from being appended
                // twice).
                self.shared
                    .source_state(commit.source, commit.group, SourceState::failed);
                Committed::Stale
            }
        }
    }

    fn group_view(&self, stream: &[u8], group: &[u8]) -> Option<GroupView> {
        self.block_on(policy::view(&self.shared, stream, group))
            .flatten()
    }

    fn apply_decisions(&self, commit: &PolicyCommit<'_>) -> PolicyApplied {
        self.block_on(policy::apply(&self.shared, commit))
            .unwrap_or_default()
    }

    fn route_mode(&self, spec: &RouteSpec) -> Option<String> {
        Some(route::mode(&self.shared, spec))
    }

    fn release(&self, spec: &RouteSpec) {
        self.block_on(route::release(&self.shared, spec));
    }

    fn hold_lease(&self, name: &str, ttl_ms: u64) -> bool {
        self.block_on(policy::lease(&self.shared, name, ttl_ms))
            .unwrap_or(false)
    }

    fn info(&self) -> Vec<(String, String)> {
        let s = &self.shared;
        let mut lines = vec![
            ("attached".to_owned(), "1".to_owned()),
            (
                "attached_mode".to_owned(),
                if s.cluster { "cluster" } else { "standalone" }.to_owned(),
            ),
            ("attached_instance".to_owned(), s.instance.clone()),
        ];
        lines.extend(s.caps.lines());
        lines
    }
}
