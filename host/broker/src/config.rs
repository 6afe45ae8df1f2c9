//! What the broker is opened with ([`BrokerConfig`]), the part of it a hot reload reads again
//! ([`PluginsConfig`]), and the data settings `CONFIG SET` may change while it runs
//! ([`BrokerSettings`]). The front end reads them from flags and its TOML file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sluice_storage::FsyncPolicy;

use crate::keyspace::Policy;
use crate::policies::spec::PolicySpec;
use crate::routes::spec::RouteSpec;

/// Everything the broker needs to open its data and start its routes and policies.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// The data folder.
    pub dir: PathBuf,
    /// Keep a write-ahead log (false: memory only).
    pub appendonly: bool,
    /// When the log is fsynced.
    pub appendfsync: FsyncPolicy,
    /// Tests only: while this file exists, writes of the log fail as on a full disk
    /// ([`sluice_storage::Wal::set_fault_file`]).
    pub log_fault_file: Option<PathBuf>,
    /// Logical databases (`SELECT`).
    pub databases: usize,
    /// Log size past which a snapshot is taken in the background, bytes.
    pub auto_snapshot_min_size: u64,
    /// Growth of the log over the last snapshot's size, %, also needed (0: never).
    pub auto_snapshot_percentage: u64,
    /// Entries per stream node.
    pub stream_node_max_entries: u64,
    /// Bytes per stream node.
    pub stream_node_max_bytes: u64,
    /// Default idempotency window of a stream, s (`stream-idmp-duration`, 1–86400).
    pub stream_idmp_duration: u64,
    /// Default iids kept per producer (`stream-idmp-maxsize`, 1–10000).
    pub stream_idmp_maxsize: u64,
    /// Memory limit, bytes (0: none).
    pub maxmemory: u64,
    /// What happens past `maxmemory`.
    pub maxmemory_policy: Policy,
    /// Keys sampled per eviction.
    pub maxmemory_samples: u64,
    /// How slowly the LFU counter grows.
    pub lfu_log_factor: u64,
    /// Minutes without access per point the LFU counter loses (0: never).
    pub lfu_decay_time: u64,
    /// Routes, claim policies and their plugins.
    pub plugins: PluginsConfig,
    /// The file the config was read from: watched, and read again on reload.
    pub config_file: Option<PathBuf>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./data"),
            appendonly: true,
            appendfsync: FsyncPolicy::default(),
            log_fault_file: None,
            databases: 16,
            auto_snapshot_min_size: 64 * 1024 * 1024,
            auto_snapshot_percentage: 100,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
            stream_idmp_duration: sluice_streams::IDMP_DURATION_DEFAULT,
            stream_idmp_maxsize: sluice_streams::IDMP_MAXSIZE_DEFAULT,
            maxmemory: 0,
            maxmemory_policy: Policy::NoEviction,
            maxmemory_samples: 5,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            plugins: PluginsConfig::default(),
            config_file: None,
        }
    }
}

/// Routes, claim policies and the limits of their plugins: what a reload reads again.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginsConfig {
    /// The folder plugin files are loaded from (watched).
    pub plugins_dir: Option<PathBuf>,
    /// Memory limit of each plugin instance, bytes.
    pub plugin_max_memory: u64,
    /// Time limit of one plugin call, ms.
    pub plugin_call_timeout_ms: u64,
    /// Largest plugin file loaded, bytes.
    pub plugin_max_size: u64,
    /// Most routes and claim policies together.
    pub max_plugins: usize,
    /// The routes.
    pub routes: Vec<RouteSpec>,
    /// The claim policies.
    pub claim_policies: Vec<PolicySpec>,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            plugins_dir: None,
            plugin_max_memory: 16 * 1024 * 1024,
            plugin_call_timeout_ms: 100,
            // A Python component is ~18 MB, a JavaScript one ~12 MB (plugins/README.md, limits).
            plugin_max_size: 64 * 1024 * 1024,
            max_plugins: 64,
            routes: Vec::new(),
            claim_policies: Vec::new(),
        }
    }
}

impl PluginsConfig {
    /// Checks the plugin settings, the routes and the policies (also before a hot reload
    /// applies them).
    pub fn validate(&self) -> Result<(), String> {
        if self.plugin_max_memory < 64 * 1024 {
            return Err("plugin-max-memory must be at least 64kb".into());
        }
        if self.plugin_call_timeout_ms == 0 {
            return Err("plugin-call-timeout-ms must be at least 1".into());
        }
        let plugins = self.routes.len() + self.claim_policies.len();
        if plugins > self.max_plugins {
            return Err(format!(
                "{plugins} routes and claim policies are configured, over max-plugins {}",
                self.max_plugins
            ));
        }
        if self.plugins_dir.is_none() {
            let what = if !self.routes.is_empty() {
                "routes need"
            } else if !self.claim_policies.is_empty() {
                "claim policies need"
            } else {
                ""
            };
            if !what.is_empty() {
                return Err(format!(
                    "{what} a plugins folder: set plugins_dir in the config or pass --plugins"
                ));
            }
        }
        crate::routes::spec::validate_all(&self.routes)?;
        crate::policies::spec::validate_all(&self.claim_policies)
    }
}

/// Reads the plugins part of the config file again, for a reload: given by the front end,
/// which owns the file's format.
pub type ConfigReader = Box<dyn Fn() -> Result<PluginsConfig, String> + Send + Sync>;

/// The data settings that may change while the broker runs (`CONFIG SET`). Plain atomics:
/// read on hot paths, written rarely.
#[derive(Debug)]
pub struct BrokerSettings {
    /// See [`BrokerConfig::stream_node_max_entries`].
    pub stream_node_max_entries: AtomicU64,
    /// See [`BrokerConfig::stream_node_max_bytes`].
    pub stream_node_max_bytes: AtomicU64,
    /// See [`BrokerConfig::stream_idmp_duration`].
    pub stream_idmp_duration: AtomicU64,
    /// See [`BrokerConfig::stream_idmp_maxsize`].
    pub stream_idmp_maxsize: AtomicU64,
    /// See [`BrokerConfig::maxmemory`].
    pub maxmemory: AtomicU64,
    /// See [`BrokerConfig::auto_snapshot_percentage`].
    pub auto_snapshot_percentage: AtomicU64,
}

impl BrokerSettings {
    /// Run-time settings starting from `config`.
    pub fn new(config: &BrokerConfig) -> Self {
        Self {
            stream_node_max_entries: AtomicU64::new(config.stream_node_max_entries),
            stream_node_max_bytes: AtomicU64::new(config.stream_node_max_bytes),
            stream_idmp_duration: AtomicU64::new(config.stream_idmp_duration),
            stream_idmp_maxsize: AtomicU64::new(config.stream_idmp_maxsize),
            maxmemory: AtomicU64::new(config.maxmemory),
            auto_snapshot_percentage: AtomicU64::new(config.auto_snapshot_percentage),
        }
    }

    /// The node limits new stream entries are packed with.
    pub fn node_limits(&self) -> sluice_streams::NodeLimits {
        sluice_streams::NodeLimits {
            max_entries: to_usize(self.stream_node_max_entries.load(Ordering::Relaxed)),
            max_bytes: to_usize(self.stream_node_max_bytes.load(Ordering::Relaxed)),
        }
    }
}

impl BrokerSettings {
    /// The idempotency window of streams that have none of their own (`XCFGSET`).
    pub fn idmp_defaults(&self) -> sluice_streams::IdmpConfig {
        sluice_streams::IdmpConfig {
            duration_s: self.stream_idmp_duration.load(Ordering::Relaxed),
            maxsize: self.stream_idmp_maxsize.load(Ordering::Relaxed),
        }
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
