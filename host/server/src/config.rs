//! The broker's configuration: command-line flags, the TOML file, and the settings `CONFIG
//! SET` may change at run time.
//!
//! Every flag has a key of the same name in the file (`--appendfsync` ↔ `appendfsync`); a flag
//! given on the command line wins over the file. Names follow redis-server's so operators find
//! what they know.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use serde::Deserialize;

use sluice_broker::evict::MAX_SAMPLES;
use sluice_broker::keyspace::Policy;
use sluice_broker::policies::spec::PolicySpec;
use sluice_broker::routes::spec::RouteSpec;
use sluice_broker::{BrokerConfig, PluginsConfig};

use crate::error::ServerError;

/// Settings read at start-up (from the file, then overridden by flags).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// TCP port (`--port`, default 6379; 0 picks a free port).
    pub port: u16,
    /// Address to listen on (`--bind`, default `127.0.0.1`).
    pub bind: String,
    /// Data folder (`--dir`, default `./data`).
    pub dir: PathBuf,
    /// Log level: `debug`, `verbose`, `notice`, `warning` (Redis names) or a `tracing` filter.
    pub loglevel: Option<String>,
    /// Number of logical databases (`SELECT 0..n-1`), default 16.
    pub databases: usize,
    /// Largest bulk string a client may send, bytes (default 512 MB).
    pub proto_max_bulk_len: u64,
    /// Most entries in one stream node (0 = no limit), default 100.
    pub stream_node_max_entries: u64,
    /// Most bytes in one stream node (0 = no limit), default 4096.
    pub stream_node_max_bytes: u64,
    /// Default idempotency window of a stream, s (1–86400, default 100).
    pub stream_idmp_duration: u64,
    /// Default iids kept per producer of a stream (1–10000, default 100).
    pub stream_idmp_maxsize: u64,
    /// Keep a write-ahead log in `dir` (`yes`, the default) or keep data in memory only (`no`).
    pub appendonly: bool,
    /// When the log is fsynced: `always`, `everysec` (default) or `no`, as in Redis.
    pub appendfsync: String,
    /// Log size, bytes, past which a snapshot is taken in the background (default 64mb).
    pub auto_snapshot_min_size: u64,
    /// A snapshot is also taken only once the log has grown by this percentage of the last
    /// snapshot's size (default 100; 0: no automatic snapshots), as Redis's
    /// `auto-aof-rewrite-percentage`: each snapshot writes the whole data set, so a large one is
    /// taken less often.
    pub auto_snapshot_percentage: u64,
    /// The folder routes load their `.wasm` plugins from (`--plugins`, `plugins_dir`), watched
    /// for changes.
    #[serde(alias = "plugins_dir")]
    pub plugins_dir: Option<PathBuf>,
    /// Memory limit of each plugin instance, bytes (default 16 MiB).
    #[serde(alias = "plugin_max_memory")]
    pub plugin_max_memory: u64,
    /// Time limit of one plugin call, ms (default 100).
    #[serde(alias = "plugin_call_timeout_ms")]
    pub plugin_call_timeout_ms: u64,
    /// Largest plugin file loaded, bytes (default 64 MiB); a bigger one is refused, with the
    /// reason in `SLUICE PLUGINS`.
    #[serde(alias = "plugin_max_size")]
    pub plugin_max_size: u64,
    /// Most routes and claim policies together (default 64): each runs a plugin instance of up
    /// to `plugin-max-memory`, so this bounds the memory plugins can take.
    #[serde(alias = "max_plugins")]
    pub max_plugins: usize,
    /// The routes (`[[route]]` tables).
    #[serde(rename = "route")]
    pub routes: Vec<RouteSpec>,
    /// The claim policies (`[[claim_policy]]` tables).
    #[serde(rename = "claim_policy")]
    pub claim_policies: Vec<PolicySpec>,
    /// Memory limit, bytes (0 = none, the default): past it, commands that add data are
    /// refused with Redis's `OOM` error while reads, acks and deletes go on.
    pub maxmemory: u64,
    /// What happens at `maxmemory`: `noeviction` (the default: writes get `OOM`), or one of
    /// Redis's eviction policies (`allkeys-lru`, `volatile-lru`, `allkeys-lfu`,
    /// `volatile-lfu`, `allkeys-random`, `volatile-random`, `volatile-ttl`). Streams are never
    /// evicted, whatever the policy: a broker does not drop events it acknowledged.
    pub maxmemory_policy: String,
    /// Keys sampled per eviction, 1 to 64 (default 5).
    pub maxmemory_samples: u64,
    /// How slowly the LFU counter grows with accesses (default 10).
    pub lfu_log_factor: u64,
    /// Minutes without access per point the LFU counter loses (default 1; 0: never).
    pub lfu_decay_time: u64,
    /// The file this config was read from, watched for route changes (not a key of the file).
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// Tests only (not a key of the file, not a flag): while this file exists, writes of the
    /// log fail as on a full disk.
    #[serde(skip)]
    pub log_fault_file: Option<PathBuf>,
    /// TLS port (`--tls-port`; 0 picks a free port), served beside `port`. Unset: no TLS.
    /// Needs `tls-cert-file` and `tls-key-file`.
    pub tls_port: Option<u16>,
    /// Port of the Prometheus endpoint, `GET /metrics` over HTTP on `bind` (`--metrics-port`;
    /// 0 picks a free port). Unset: none.
    #[serde(alias = "metrics_port")]
    pub metrics_port: Option<u16>,
    /// Attached mode (`--attach`, repeatable): seed nodes of a Redis Cluster or Valkey
    /// cluster, or one standalone server (`redis://[user:password@]host:port`). Routes and
    /// claim policies then run against it, and this server stores nothing itself.
    pub attach: Vec<String>,
    /// This instance's name among those attached to one cluster (`--instance-id`): its
    /// consumer name in the routes' groups. Default: host name and process ID.
    #[serde(alias = "instance_id")]
    pub instance_id: Option<String>,
    /// With `--attach rediss://…`: CA certificates (PEM) the servers' certificates must be
    /// signed by (`--attach-tls-ca-file`). Default: the system's roots.
    #[serde(alias = "attach_tls_ca_file")]
    pub attach_tls_ca_file: Option<PathBuf>,
    /// The server's certificate chain, PEM (`--tls-cert-file`).
    pub tls_cert_file: Option<PathBuf>,
    /// The server's private key, PEM: PKCS#8, PKCS#1 or SEC1 (`--tls-key-file`).
    pub tls_key_file: Option<PathBuf>,
    /// CA certificates, PEM, that client certificates must be signed by
    /// (`--tls-ca-cert-file`). Unset: clients are asked for no certificate.
    pub tls_ca_cert_file: Option<PathBuf>,
    /// With `tls-ca-cert-file`: `yes` (default, as in Redis) refuses clients without a valid
    /// certificate, `optional` accepts those without one, `no` asks for none.
    pub tls_auth_clients: crate::tls::TlsAuthClients,
    /// Threads that serve connections: read requests, run commands, write replies
    /// (`--io-threads`). Default: half the cores, at least one. The log's fsync, routes, claim
    /// policies and snapshots have threads of their own, and a second connection thread on two
    /// cores costs more in cross-core traffic (one hot stream, the log's append buffer) and
    /// wake-ups than it adds: measured on 2 cores, see the README.
    pub io_threads: usize,
    /// Most clients connected at once, plain and TLS together (default 10000, as in Redis).
    /// One more is told `-ERR max number of clients reached` and closed.
    pub maxclients: u64,
    /// Most bytes of requests a client may have sent and not completed, bytes (default
    /// 1gb, at least 1mb, as in Redis); past it the client is closed without a reply.
    pub client_query_buffer_limit: u64,
    /// Replies waiting for a slow client, as Redis writes it: `normal <hard> <soft>
    /// <soft-seconds>` (sizes with units; 0 disables). Closed at once at `hard` bytes, or
    /// after `soft-seconds` at or above `soft`. Default `normal 256mb 64mb 60`, not Redis's
    /// `0 0 0`: a broker's range replies can be huge (see [`crate::limits`]). The `slave`
    /// and `pubsub` classes are accepted and reported but apply to no Sluice client.
    pub client_output_buffer_limit: String,
    /// Protected mode, as in Redis (default on): while the `default` user has no password,
    /// only clients on the loopback interface are served; others are told why and closed.
    pub protected_mode: bool,
    /// The `default` user's password (`--requirepass`), as redis.conf's `requirepass`:
    /// clients must `AUTH <password>` before anything else. Unset or empty: no password.
    pub requirepass: Option<Secret>,
    /// ACL users (`--user`, repeatable), each `"<name> <rule> …"` in Redis's `ACL SETUSER`
    /// syntax, e.g. `users = ["alice on >secret ~orders.* +@read +xadd -@admin"]`. A
    /// `default` entry resets and redefines the default user (`requirepass` included).
    /// Rules are split on spaces: give a password containing spaces as `#<sha256 hex>`.
    /// Changes made with `ACL SETUSER` last until the server stops, unless `aclfile` is
    /// used instead.
    pub users: Vec<Secret>,
    /// The ACL file (`--aclfile`), Redis's `users.acl` format: one `user <name> <rule> …`
    /// line per user. Read at start-up (a missing or bad file stops the start) and by `ACL
    /// LOAD`; `ACL SAVE` writes the users to it, so changes made at run time last. As in
    /// Redis, it cannot be combined with `users`; nor, in Sluice, with `requirepass`.
    pub aclfile: Option<PathBuf>,
    /// Most entries `ACL LOG` keeps (default 128; also `CONFIG SET`).
    pub acllog_max_len: u64,
}

/// A setting that may hold a password: `Debug` does not show it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<hidden>\"")
    }
}

impl Default for Config {
    fn default() -> Self {
        // The data and plugin settings default as the broker's: one place says what they are.
        let broker = BrokerConfig::default();
        let plugins = broker.plugins;
        Self {
            port: 6379,
            bind: "127.0.0.1".into(),
            dir: broker.dir,
            loglevel: None,
            databases: broker.databases,
            proto_max_bulk_len: 512 * 1024 * 1024,
            stream_node_max_entries: broker.stream_node_max_entries,
            stream_node_max_bytes: broker.stream_node_max_bytes,
            stream_idmp_duration: broker.stream_idmp_duration,
            stream_idmp_maxsize: broker.stream_idmp_maxsize,
            appendonly: broker.appendonly,
            appendfsync: broker.appendfsync.as_str().into(),
            auto_snapshot_min_size: broker.auto_snapshot_min_size,
            auto_snapshot_percentage: broker.auto_snapshot_percentage,
            plugins_dir: plugins.plugins_dir,
            plugin_max_memory: plugins.plugin_max_memory,
            plugin_call_timeout_ms: plugins.plugin_call_timeout_ms,
            plugin_max_size: plugins.plugin_max_size,
            max_plugins: plugins.max_plugins,
            routes: plugins.routes,
            claim_policies: plugins.claim_policies,
            maxmemory: broker.maxmemory,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: broker.maxmemory_samples,
            lfu_log_factor: broker.lfu_log_factor,
            lfu_decay_time: broker.lfu_decay_time,
            config_file: broker.config_file,
            protected_mode: true,
            requirepass: None,
            users: Vec::new(),
            aclfile: None,
            acllog_max_len: crate::acl::log::DEFAULT_MAX_LEN,
            tls_port: None,
            metrics_port: None,
            attach: Vec::new(),
            instance_id: None,
            attach_tls_ca_file: None,
            log_fault_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_ca_cert_file: None,
            tls_auth_clients: crate::tls::TlsAuthClients::default(),
            io_threads: default_io_threads(),
            maxclients: crate::limits::DEFAULT_MAXCLIENTS,
            client_query_buffer_limit: crate::limits::DEFAULT_QUERY_BUFFER_LIMIT,
            client_output_buffer_limit: crate::limits::DEFAULT_OUTPUT_BUFFER_LIMIT.into(),
        }
    }
}

/// Most `io-threads` (Redis's limit for its own `io-threads`).
pub const MAX_IO_THREADS: usize = 128;

/// Half the cores this process may run on, at least one.
pub fn default_io_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Config {
    /// Reads a TOML file; unknown keys are an error naming the key.
    pub fn from_file(path: &Path) -> Result<Config, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServerError::Config {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ServerError::Config {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        config.config_file = Some(path.to_owned());
        Ok(config)
    }

    /// Checks values that would make the server misbehave.
    pub fn validate(&self) -> Result<(), ServerError> {
        if self.databases == 0 || self.databases > 1 << 16 {
            return Err(ServerError::Invalid(
                "databases must be between 1 and 65536".into(),
            ));
        }
        if self.fsync_policy().is_none() {
            return Err(ServerError::Invalid(format!(
                "appendfsync must be always, everysec or no (got {:?})",
                self.appendfsync
            )));
        }
        if Policy::parse(&self.maxmemory_policy).is_none() {
            return Err(ServerError::Invalid(format!(
                "maxmemory-policy must be one of {} (got {:?})",
                Policy::names(),
                self.maxmemory_policy
            )));
        }
        if !(1..=MAX_SAMPLES).contains(&self.maxmemory_samples) {
            return Err(ServerError::Invalid(format!(
                "maxmemory-samples must be between 1 and {MAX_SAMPLES}"
            )));
        }
        for (name, value) in [
            ("lfu-log-factor", self.lfu_log_factor),
            ("lfu-decay-time", self.lfu_decay_time),
        ] {
            if value > i32::MAX as u64 {
                return Err(ServerError::Invalid(format!(
                    "{name} must be between 0 and {}",
                    i32::MAX
                )));
            }
        }
        if self.proto_max_bulk_len < 1024 * 1024 {
            return Err(ServerError::Invalid(
                "proto-max-bulk-len must be at least 1mb".into(),
            ));
        }
        if self.acllog_max_len > i64::MAX as u64 {
            return Err(ServerError::Invalid(format!(
                "acllog-max-len must be between 0 and {}",
                i64::MAX
            )));
        }
        self.acl().map_err(ServerError::Invalid)?;
        self.validate_limits()?;
        self.validate_routes().map_err(ServerError::Invalid)
    }

    /// The users of the ACL file (`aclfile`), or those `requirepass` and `users` declare;
    /// the error names the file and its lines, or the user and the rule.
    pub fn acl(&self) -> Result<crate::acl::Acl, String> {
        if let Some(path) = &self.aclfile {
            if !self.users.is_empty() {
                return Err(crate::error::ACL_FILE_AND_USERS.to_owned());
            }
            if self.requirepass.is_some() {
                // Redis starts, then its ACL file silently replaces the password: refuse
                // rather than run without the password the operator asked for.
                return Err(
                    "requirepass cannot be combined with aclfile: the file's 'default' user \
                     decides the default password (add '>password' to its line, or use \
                     CONFIG SET requirepass, then ACL SAVE)"
                        .to_owned(),
                );
            }
            return crate::acl::Acl::from_file(crate::cmd::catalog(), path);
        }
        let users: Vec<String> = self.users.iter().map(|u| u.0.clone()).collect();
        crate::acl::Acl::from_config(
            crate::cmd::catalog(),
            self.requirepass.as_ref().map(|p| p.0.as_str()),
            &users,
        )
    }

    /// Checks the TLS and per-client limit settings.
    fn validate_limits(&self) -> Result<(), ServerError> {
        use crate::limits;
        if self.tls_port.is_some() && (self.tls_cert_file.is_none() || self.tls_key_file.is_none())
        {
            return Err(ServerError::Invalid(
                "tls-port needs tls-cert-file and tls-key-file".into(),
            ));
        }
        if !(1..=MAX_IO_THREADS).contains(&self.io_threads) {
            return Err(ServerError::Invalid(format!(
                "io-threads must be between 1 and {MAX_IO_THREADS}"
            )));
        }
        use sluice_streams::{IDMP_DURATION_MAX, IDMP_MAXSIZE_MAX};
        if !(1..=IDMP_DURATION_MAX).contains(&self.stream_idmp_duration) {
            return Err(ServerError::Invalid(format!(
                "stream-idmp-duration must be between 1 and {IDMP_DURATION_MAX}"
            )));
        }
        if !(1..=IDMP_MAXSIZE_MAX).contains(&self.stream_idmp_maxsize) {
            return Err(ServerError::Invalid(format!(
                "stream-idmp-maxsize must be between 1 and {IDMP_MAXSIZE_MAX}"
            )));
        }
        if !(1..=limits::MAX_MAXCLIENTS).contains(&self.maxclients) {
            return Err(ServerError::Invalid(format!(
                "maxclients must be between 1 and {}",
                limits::MAX_MAXCLIENTS
            )));
        }
        if self.client_query_buffer_limit < limits::MIN_QUERY_BUFFER_LIMIT {
            return Err(ServerError::Invalid(
                "client-query-buffer-limit must be at least 1mb".into(),
            ));
        }
        limits::parse_output_limits(&self.client_output_buffer_limit)
            .map(|_| ())
            .map_err(|e| ServerError::Invalid(format!("client-output-buffer-limit: {e}")))
    }

    /// Checks the plugin settings and the routes (also before a hot reload applies them).
    pub fn validate_routes(&self) -> Result<(), String> {
        self.plugins_config().validate()
    }

    /// The routes, claim policies and plugin limits.
    pub fn plugins_config(&self) -> PluginsConfig {
        PluginsConfig {
            plugins_dir: self.plugins_dir.clone(),
            plugin_max_memory: self.plugin_max_memory,
            plugin_call_timeout_ms: self.plugin_call_timeout_ms,
            plugin_max_size: self.plugin_max_size,
            max_plugins: self.max_plugins,
            routes: self.routes.clone(),
            claim_policies: self.claim_policies.clone(),
        }
    }

    /// What the broker is opened with.
    pub fn broker_config(&self) -> BrokerConfig {
        BrokerConfig {
            dir: self.dir.clone(),
            appendonly: self.appendonly,
            appendfsync: self.fsync_policy().unwrap_or_default(),
            log_fault_file: self.log_fault_file.clone(),
            databases: self.databases,
            auto_snapshot_min_size: self.auto_snapshot_min_size,
            auto_snapshot_percentage: self.auto_snapshot_percentage,
            stream_node_max_entries: self.stream_node_max_entries,
            stream_node_max_bytes: self.stream_node_max_bytes,
            stream_idmp_duration: self.stream_idmp_duration,
            stream_idmp_maxsize: self.stream_idmp_maxsize,
            maxmemory: self.maxmemory,
            maxmemory_policy: Policy::parse(&self.maxmemory_policy).unwrap_or_default(),
            maxmemory_samples: self.maxmemory_samples,
            lfu_log_factor: self.lfu_log_factor,
            lfu_decay_time: self.lfu_decay_time,
            plugins: self.plugins_config(),
            config_file: self.config_file.clone(),
        }
    }

    /// Reads the config file's routes and policies again, for a hot reload: the flags given
    /// at start still win over the file, as they did then.
    pub fn plugins_reader(&self) -> Option<sluice_broker::ConfigReader> {
        let path = self.config_file.clone()?;
        let flag_plugins_dir = self.plugins_dir.clone();
        Some(Box::new(move || {
            let mut file = Config::from_file(&path).map_err(|e| e.to_string())?;
            if flag_plugins_dir.is_some() {
                file.plugins_dir.clone_from(&flag_plugins_dir);
            }
            Ok(file.plugins_config())
        }))
    }
}

impl Config {
    /// The `appendfsync` setting, if valid.
    pub fn fsync_policy(&self) -> Option<sluice_storage::FsyncPolicy> {
        self.appendfsync.parse().ok()
    }
}

/// The front end's settings that may change while the server runs (`CONFIG SET`), shared by
/// all connections; the data's are [`sluice_broker::BrokerSettings`]. Plain atomics: read on
/// hot paths, written rarely.
#[derive(Debug)]
pub struct Settings {
    /// See [`Config::proto_max_bulk_len`].
    pub proto_max_bulk_len: AtomicU64,
    /// See [`Config::protected_mode`]: 1 on, 0 off.
    pub protected_mode: AtomicU64,
    /// See [`Config::maxclients`].
    pub maxclients: AtomicU64,
    /// See [`Config::client_query_buffer_limit`].
    pub client_query_buffer_limit: AtomicU64,
    /// See [`Config::client_output_buffer_limit`].
    pub client_output_buffer_limit: crate::limits::OutputLimits,
    /// `requirepass` as `CONFIG GET` shows it: the configured value, then the last `CONFIG
    /// SET` (as in Redis, `ACL SETUSER default …` does not change it).
    pub requirepass: parking_lot::Mutex<Vec<u8>>,
}

impl Settings {
    /// Run-time settings starting from `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            proto_max_bulk_len: AtomicU64::new(config.proto_max_bulk_len),
            protected_mode: AtomicU64::new(u64::from(config.protected_mode)),
            maxclients: AtomicU64::new(config.maxclients),
            client_query_buffer_limit: AtomicU64::new(config.client_query_buffer_limit),
            client_output_buffer_limit: crate::limits::OutputLimits::new(
                &config.client_output_buffer_limit,
            ),
            requirepass: parking_lot::Mutex::new(
                config
                    .requirepass
                    .as_ref()
                    .map(|p| p.0.as_bytes().to_vec())
                    .unwrap_or_default(),
            ),
        }
    }
}

/// Parses a memory amount as redis.conf writes it: `512mb`, `1gb`, `4096`, `64k`.
pub fn parse_memory(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis_conf() {
        assert_eq!(parse_memory("512mb"), Some(512 * 1024 * 1024));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("77"), Some(77));
        assert_eq!(parse_memory("1tb"), None);
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn file_keys_match_flags() {
        let config: Config =
            toml::from_str("port = 7000\ndir = \"/tmp/x\"\nstream-node-max-entries = 5\n")
                .expect("valid");
        assert_eq!((config.port, config.stream_node_max_entries), (7000, 5));
        assert!(toml::from_str::<Config>("prot = 1").is_err());
        let attached: Config = toml::from_str(
            "attach = [\"redis://127.0.0.1:7001\", \"redis://127.0.0.1:7002\"]\n\
             instance-id = \"a\"\n",
        )
        .expect("valid");
        assert_eq!(attached.attach.len(), 2);
        assert_eq!(attached.instance_id.as_deref(), Some("a"));
    }

    #[test]
    fn users_are_validated_and_hidden_from_debug() {
        let config: Config = toml::from_str(
            "requirepass = \"pw\"\nusers = [\"alice on >secret ~orders.* +@read\"]\n",
        )
        .expect("valid");
        assert!(config.validate().is_ok());
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("pw"),
            "{shown}"
        );
        let bad: Config = toml::from_str("users = [\"alice on +nosuch\"]").expect("toml");
        let err = bad.validate().expect_err("bad rule").to_string();
        assert_eq!(
            err,
            "invalid setting: users: user 'alice', rule '+nosuch': Unknown command or category name in ACL"
        );
    }
}
