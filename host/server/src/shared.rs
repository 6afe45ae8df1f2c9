//! State shared by every connection: the keyspace, settings, blocked readers, clients,
//! counters, ACL users and the clock.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::acl::Acl;
use crate::blocking::{Blocking, ReadyKeys};
use crate::clients::Clients;
use crate::config::{Config, Settings};
use crate::keyspace::Keyspace;
use crate::persist::Journal;
use crate::persist::replay::ReplayReport;
use crate::persist::snapshot::Saver;
use crate::policies::Policies;
use crate::routes::Routes;
use crate::stats::CommandStats;

/// Where the server reads the time. Injected so tests can make IDs and expiry deterministic.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Counters reported by `INFO stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Socket reads that brought bytes (`total_reads_processed`).
    pub reads_processed: AtomicU64,
    /// Flushes of pending replies to a socket (`total_writes_processed`).
    pub writes_processed: AtomicU64,
    pub error_replies: AtomicU64,
    /// Failed `AUTH`s (`acl_access_denied_auth`).
    pub acl_denied_auth: AtomicU64,
    /// Commands refused by a user's command rules (`acl_access_denied_cmd`).
    pub acl_denied_cmd: AtomicU64,
    /// Commands refused by a user's key patterns (`acl_access_denied_key`).
    pub acl_denied_key: AtomicU64,
    /// Time the active expiry cycle ran, µs (`expire_cycle_cpu_milliseconds`).
    pub expire_cycle_us: AtomicU64,
    /// Clients closed for passing `client-query-buffer-limit`.
    pub query_buffer_limit_disconnections: AtomicU64,
    /// Clients closed for passing `client-output-buffer-limit`.
    pub output_buffer_limit_disconnections: AtomicU64,
}

/// Everything connections share.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the server started with.
    pub config: Config,
    /// Settings `CONFIG SET` may change.
    pub settings: Settings,
    /// The databases.
    pub keyspace: Keyspace,
    /// Clients waiting in `XREAD … BLOCK`.
    pub blocking: Blocking,
    /// Connected clients (`CLIENT LIST`).
    pub clients: Clients,
    /// `INFO stats` counters.
    pub stats: Stats,
    /// `INFO commandstats` and `errorstats` counters.
    pub command_stats: CommandStats,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// When the server started (for uptime).
    pub started: Instant,
    /// The address the listener is bound to.
    pub local_addr: SocketAddr,
    /// Where changes are logged (empty with `appendonly no`).
    pub journal: Journal,
    /// Background snapshot state.
    pub saver: Saver,
    /// What start-up loaded.
    pub recovery: parking_lot::Mutex<ReplayReport>,
    /// Asks the server to shut down (`SHUTDOWN`).
    pub shutdown: tokio::sync::Notify,
    /// The routes and their plugins.
    pub routes: Routes,
    /// The claim policies.
    pub policies: Policies,
    /// The used-memory estimate (`maxmemory`).
    pub memory: crate::memory::Memory,
    /// This value's own `Arc`, for commands that start threads (`SLUICE RELOAD`).
    this: OnceLock<Weak<Shared>>,
    /// ACL users (`AUTH`, `ACL SETUSER`).
    pub acl: Acl,
    /// The address the TLS listener is bound to, once it listens.
    pub tls_addr: OnceLock<SocketAddr>,
    /// 40 hex characters, new at every start (`INFO`'s `run_id`).
    pub run_id: String,
    /// The replication ID `INFO` reports (`master_replid`): Sluice has no replicas, but
    /// clients compare it across restarts as they do Redis's.
    pub repl_id: String,
}

impl Shared {
    /// Fresh state for a server listening on `local_addr`.
    pub fn new(config: Config, clock: Arc<dyn Clock>, local_addr: SocketAddr) -> Self {
        // `Config::validate` has checked the users; should they fail anyway, nobody gets in.
        let acl = config.acl().unwrap_or_else(|e| {
            tracing::error!("ACL users: {e}; refusing every client");
            Acl::locked()
        });
        acl.warn_disabled_users();
        Self {
            settings: Settings::new(&config),
            keyspace: Keyspace::new(config.databases),
            blocking: Blocking::default(),
            clients: Clients::default(),
            stats: Stats::default(),
            command_stats: CommandStats::default(),
            clock,
            started: Instant::now(),
            local_addr,
            journal: Journal::default(),
            saver: Saver::default(),
            recovery: parking_lot::Mutex::new(ReplayReport::default()),
            shutdown: tokio::sync::Notify::new(),
            routes: Routes::default(),
            policies: Policies::default(),
            memory: crate::memory::Memory::default(),
            this: OnceLock::new(),
            acl,
            tls_addr: OnceLock::new(),
            run_id: crate::cmd::info::random_run_id(),
            repl_id: crate::cmd::info::random_run_id(),
            config,
        }
    }

    /// Wraps `self` in an `Arc` that [`Shared::arc`] can hand out again.
    pub fn into_arc(self) -> Arc<Shared> {
        let shared = Arc::new(self);
        let _ = shared.this.set(Arc::downgrade(&shared));
        shared
    }

    /// This value's `Arc`, when it was made by [`Shared::into_arc`].
    pub fn arc(&self) -> Option<Arc<Shared>> {
        self.this.get().and_then(Weak::upgrade)
    }

    /// What happens once a command, an `EXEC`, or a route's or policy's commit has finished:
    /// the routes reading the keys it made ready are woken, and the clients blocked on them
    /// are served against the state at this point. Empties `ready`. Call with the keyspace
    /// gate held, so no other command runs in between.
    pub fn serve_ready(&self, ready: &mut ReadyKeys) {
        if ready.is_empty() {
            return;
        }
        for (db, key) in ready.iter() {
            self.routes.key_written(db, key);
        }
        self.blocking.serve_ready(self, ready);
    }

    /// The current time, Unix ms.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}
