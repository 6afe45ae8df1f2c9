//! State shared by every connection: the [`Broker`] (the data), the front end's settings,
//! clients, counters and ACL users.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sluice_broker::Broker;
use sluice_broker::ready::ReadyKeys;

use crate::acl::Acl;
use crate::acl::log::{AclLog, Reason, Refused};
use crate::clients::{ClientInfo, Clients};
use crate::config::{Config, Settings};
use crate::stats::CommandStats;

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
    /// Clients closed for passing `client-query-buffer-limit`.
    pub query_buffer_limit_disconnections: AtomicU64,
    /// Clients closed for passing `client-output-buffer-limit`.
    pub output_buffer_limit_disconnections: AtomicU64,
}

/// Everything connections share.
#[derive(Debug)]
pub struct Shared {
    /// The data: keyspace, blocked readers, log, routes and policies.
    pub broker: Arc<Broker>,
    /// The configuration the server started with.
    pub config: Config,
    /// The front end's settings `CONFIG SET` may change (the data's are the broker's).
    pub settings: Settings,
    /// Connected clients (`CLIENT LIST`).
    pub clients: Clients,
    /// `INFO stats` counters.
    pub stats: Stats,
    /// `INFO commandstats` and `errorstats` counters.
    pub command_stats: CommandStats,
    /// When the server started (for uptime).
    pub started: Instant,
    /// The address the listener is bound to.
    pub local_addr: SocketAddr,
    /// Asks the server to shut down (`SHUTDOWN`).
    pub shutdown: tokio::sync::Notify,
    /// ACL users (`AUTH`, `ACL SETUSER`).
    pub acl: Acl,
    /// Recent refusals (`ACL LOG`).
    pub acl_log: AclLog,
    /// The address the TLS listener is bound to, once it listens.
    pub tls_addr: OnceLock<SocketAddr>,
    /// Where `/metrics` is served, once listening (`metrics-port`).
    pub metrics_addr: OnceLock<SocketAddr>,
    /// 40 hex characters, new at every start (`INFO`'s `run_id`).
    pub run_id: String,
    /// The replication ID `INFO` reports (`master_replid`): Sluice has no replicas, but
    /// clients compare it across restarts as they do Redis's.
    pub repl_id: String,
}

impl Shared {
    /// Front-end state for a server listening on `local_addr`, serving `broker`'s data.
    pub fn new(config: Config, broker: Arc<Broker>, local_addr: SocketAddr) -> Self {
        // `Config::validate` has checked the users; should they fail anyway, nobody gets in.
        let acl = config.acl().unwrap_or_else(|e| {
            tracing::error!("ACL users: {e}; refusing every client");
            Acl::locked(crate::cmd::catalog())
        });
        acl.warn_disabled_users();
        Self {
            broker,
            settings: Settings::new(&config),
            clients: Clients::default(),
            stats: Stats::default(),
            command_stats: CommandStats::default(),
            started: Instant::now(),
            local_addr,
            shutdown: tokio::sync::Notify::new(),
            acl,
            acl_log: AclLog::new(config.acllog_max_len),
            tls_addr: OnceLock::new(),
            metrics_addr: OnceLock::new(),
            run_id: crate::cmd::server::info::random_run_id(),
            repl_id: crate::cmd::server::info::random_run_id(),
            config,
        }
    }

    /// See [`Broker::serve_ready`].
    pub fn serve_ready(&self, ready: &mut ReadyKeys) {
        self.broker.serve_ready(ready);
    }

    /// True if `maxmemory` is set and used memory (the data, and each client's buffers) is
    /// over it even after evicting what `maxmemory-policy` allows: commands that add data
    /// are then refused. Called before such a command (or an `EXEC` holding one), without
    /// the keyspace gate, as Redis evicts before running it.
    pub fn over_memory_limit(&self) -> bool {
        let over = || {
            self.broker
                .memory
                .over_limit(&self.broker, || self.clients.len())
        };
        over() && self.broker.evict_while(over)
    }

    /// Records a refusal the way Redis's `addACLLogEntry` does: counted for `INFO stats`
    /// (`acl_access_denied_*`) and kept in `ACL LOG`, with `client`'s `CLIENT INFO`.
    pub fn note_acl_refusal(&self, refused: &Refused<'_>, client: &ClientInfo) {
        let counter = match refused.reason {
            Reason::Command => &self.stats.acl_denied_cmd,
            Reason::Key => &self.stats.acl_denied_key,
            Reason::Auth => &self.stats.acl_denied_auth,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now_ms = self.now_ms();
        self.acl_log.add(refused, client.describe(now_ms), now_ms);
    }

    /// The current time, Unix ms.
    pub fn now_ms(&self) -> u64 {
        self.broker.now_ms()
    }
}
