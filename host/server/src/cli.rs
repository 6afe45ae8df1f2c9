//! The command line of the `sluice` binary: flags in redis-server's style, logging, signals;
//! then the server. In the library so that the tests' child-process binary runs exactly the
//! same start-up as `sluice`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::Config;
use crate::config::Secret;
use crate::listener::{Listeners, Server, TlsListener};
use crate::tls::TlsAuthClients;

/// Sluice: an event broker speaking the Redis protocol, with Redis Streams.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    /// TOML config file; every flag below can be set there (same name), flags win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// TCP port to listen on [default: 6379; 0 picks a free one].
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long)]
    bind: Option<String>,
    /// Data folder [default: ./data].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Log level: debug, verbose, notice, warning (or a RUST_LOG-style filter) [default: notice,
    /// or RUST_LOG when set].
    #[arg(long)]
    loglevel: Option<String>,
    /// Number of databases [default: 16].
    #[arg(long)]
    databases: Option<usize>,
    /// Largest bulk string a client may send, e.g. 512mb.
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    proto_max_bulk_len: Option<u64>,
    /// Most entries per stream node (0 = no limit) [default: 100].
    #[arg(long)]
    stream_node_max_entries: Option<u64>,
    /// Most bytes per stream node (0 = no limit) [default: 4096].
    #[arg(long, value_parser = parse_memory_arg)]
    stream_node_max_bytes: Option<u64>,
    /// Keep a write-ahead log in --dir: yes or no [default: yes].
    #[arg(long, value_parser = parse_yes_no)]
    appendonly: Option<bool>,
    /// When the log is fsynced: always, everysec or no [default: everysec].
    #[arg(long)]
    appendfsync: Option<String>,
    /// Log size past which a snapshot is taken in the background, e.g. 64mb.
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    auto_snapshot_min_size: Option<u64>,
    /// Log growth, as a percentage of the last snapshot's size, a snapshot also waits for
    /// (0: no automatic snapshots) [default: 100].
    #[arg(long, value_name = "PERCENT")]
    auto_snapshot_percentage: Option<u64>,
    /// Folder the routes' .wasm plugins are loaded from (watched for changes).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
    /// Memory limit of each plugin instance, e.g. 16mb.
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    plugin_max_memory: Option<u64>,
    /// Time limit of one plugin call, ms [default: 100].
    #[arg(long, value_name = "MS")]
    plugin_call_timeout_ms: Option<u64>,
    /// Largest plugin file loaded, e.g. 16mb [default: 64mb].
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    plugin_max_size: Option<u64>,
    /// Most routes and claim policies (each runs its own plugin instance) [default: 64].
    #[arg(long, value_name = "N")]
    max_plugins: Option<usize>,
    /// Memory limit, e.g. 2gb; past it, commands that add data get an OOM error [default: 0,
    /// no limit].
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    maxmemory: Option<u64>,
    /// What happens at maxmemory: noeviction (writes get OOM), allkeys-lru, volatile-lru,
    /// allkeys-lfu, volatile-lfu, allkeys-random, volatile-random or volatile-ttl. Streams are
    /// never evicted [default: noeviction].
    #[arg(long, value_name = "POLICY")]
    maxmemory_policy: Option<String>,
    /// Keys sampled per eviction, 1 to 64 [default: 5].
    #[arg(long, value_name = "N")]
    maxmemory_samples: Option<u64>,
    /// How slowly the LFU access counter grows [default: 10].
    #[arg(long, value_name = "N")]
    lfu_log_factor: Option<u64>,
    /// Minutes without access per point the LFU counter loses; 0: never [default: 1].
    #[arg(long, value_name = "MINUTES")]
    lfu_decay_time: Option<u64>,
    /// Refuse clients not on the loopback interface while the default user has no password:
    /// yes or no [default: yes].
    #[arg(long, value_parser = parse_yes_no)]
    protected_mode: Option<bool>,
    /// Password of the default user: clients must AUTH before anything else (redis.conf's
    /// requirepass).
    #[arg(long, value_name = "PASSWORD")]
    requirepass: Option<String>,
    /// An ACL user: "<name> <rule> ..." in ACL SETUSER syntax, e.g. "alice on >secret
    /// ~orders.* +@read +xadd -@admin". Repeatable; replaces the file's users.
    #[arg(long = "user", value_name = "RULES")]
    users: Vec<String>,
    /// ACL file in Redis's users.acl format ("user <name> <rule> ..." lines): read at start,
    /// by ACL LOAD, written by ACL SAVE. Not with --user or --requirepass.
    #[arg(long, value_name = "FILE")]
    aclfile: Option<PathBuf>,
    /// Most entries ACL LOG keeps [default: 128].
    #[arg(long, value_name = "N")]
    acllog_max_len: Option<u64>,
    /// Port of the Prometheus endpoint (HTTP, GET /metrics) on --bind [default: none; 0
    /// picks a free one].
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Attach to a Redis Cluster, Valkey cluster or standalone server
    /// (redis://[user:password@]host:port; repeat for a cluster's seed nodes): routes and
    /// claim policies run against it, and this instance stores nothing itself.
    #[arg(long, value_name = "URL")]
    attach: Vec<String>,
    /// This instance's consumer name in attached routes' groups [default: host name and
    /// process ID].
    #[arg(long, value_name = "NAME")]
    instance_id: Option<String>,
    /// With --attach rediss://...: CA certificates (PEM) the servers' certificates must be
    /// signed by [default: the system's roots].
    #[arg(long, value_name = "FILE")]
    attach_tls_ca_file: Option<PathBuf>,
    /// TLS port, served beside --port [default: none; 0 picks a free one]. Needs
    /// --tls-cert-file and --tls-key-file.
    #[arg(long)]
    tls_port: Option<u16>,
    /// The server's certificate chain (PEM).
    #[arg(long, value_name = "FILE")]
    tls_cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long, value_name = "FILE")]
    tls_key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates must be signed by [default: none, no
    /// client certificates asked for].
    #[arg(long, value_name = "FILE")]
    tls_ca_cert_file: Option<PathBuf>,
    /// With --tls-ca-cert-file: yes refuses clients without a valid certificate, optional
    /// accepts those without one, no asks for none [default: yes].
    #[arg(long, value_name = "yes|no|optional")]
    tls_auth_clients: Option<TlsAuthClients>,
    /// Threads that serve connections [default: half the cores, at least 1].
    #[arg(long, value_name = "N")]
    io_threads: Option<usize>,
    /// Most clients connected at once, plain and TLS together [default: 10000].
    #[arg(long, value_name = "N")]
    maxclients: Option<u64>,
    /// Most bytes a client may have sent that do not yet make a request; past it the client is
    /// closed [default: 1gb; at least 1mb].
    #[arg(long, value_name = "BYTES", value_parser = parse_memory_arg)]
    client_query_buffer_limit: Option<u64>,
    /// Replies pending for a slow client: "normal <hard> <soft> <soft-seconds>"; closed at
    /// hard bytes, or above soft for soft-seconds; 0 disables [default: "normal 256mb 64mb
    /// 60"; Redis has no limit, a broker's range replies need one].
    #[arg(long, value_name = "LIMITS")]
    client_output_buffer_limit: Option<String>,
}

fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected yes or no, got {text}")),
    }
}

fn parse_memory_arg(text: &str) -> Result<u64, String> {
    crate::config::parse_memory(text)
        .ok_or_else(|| format!("not a size: {text} (examples: 4096, 64kb, 512mb)"))
}

impl Cli {
    fn into_config(self) -> anyhow::Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        macro_rules! apply {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { config.$field = v; } )* };
        }
        apply!(
            port,
            bind,
            dir,
            databases,
            proto_max_bulk_len,
            stream_node_max_entries,
            stream_node_max_bytes,
            appendonly,
            appendfsync,
            auto_snapshot_min_size,
            auto_snapshot_percentage,
            plugin_max_memory,
            plugin_call_timeout_ms,
            plugin_max_size,
            max_plugins,
            maxmemory,
            maxmemory_policy,
            maxmemory_samples,
            lfu_log_factor,
            lfu_decay_time,
            protected_mode
        );
        apply!(
            tls_auth_clients,
            io_threads,
            maxclients,
            client_query_buffer_limit,
            client_output_buffer_limit
        );
        if self.tls_port.is_some() {
            config.tls_port = self.tls_port;
        }
        if self.metrics_port.is_some() {
            config.metrics_port = self.metrics_port;
        }
        if !self.attach.is_empty() {
            config.attach = self.attach;
        }
        if self.instance_id.is_some() {
            config.instance_id = self.instance_id;
        }
        if self.attach_tls_ca_file.is_some() {
            config.attach_tls_ca_file = self.attach_tls_ca_file;
        }
        for (flag, value) in [
            (self.tls_cert_file, &mut config.tls_cert_file),
            (self.tls_key_file, &mut config.tls_key_file),
            (self.tls_ca_cert_file, &mut config.tls_ca_cert_file),
        ] {
            if flag.is_some() {
                *value = flag;
            }
        }
        if self.plugins_dir.is_some() {
            config.plugins_dir = self.plugins_dir;
        }
        if self.loglevel.is_some() {
            config.loglevel = self.loglevel;
        }
        if let Some(password) = self.requirepass {
            config.requirepass = Some(Secret(password));
        }
        if !self.users.is_empty() {
            config.users = self.users.into_iter().map(Secret).collect();
        }
        if self.aclfile.is_some() {
            config.aclfile = self.aclfile;
        }
        if let Some(n) = self.acllog_max_len {
            config.acllog_max_len = n;
        }
        config.validate()?;
        Ok(config)
    }
}

/// Maps redis-server's level names onto `tracing` filters.
fn log_filter(level: Option<&str>) -> EnvFilter {
    let directive = match level {
        Some("debug") => "debug",
        Some("verbose") => "info",
        Some("notice") => "info",
        Some("warning") => "warn",
        Some(other) => other,
        None => {
            return EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        }
    };
    EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Parses the command line and runs the server until SIGINT, SIGTERM or `SHUTDOWN`.
pub fn main() -> anyhow::Result<()> {
    main_with(|_| {})
}

/// [`main`] with `adjust` applied to the configuration the command line gave (the test build
/// of the binary sets what has no flag).
pub fn main_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<()> {
    // `sluice plugin ...`: the plugin author's tool, not the server.
    if std::env::args_os().nth(1).is_some_and(|a| a == "plugin") {
        return sluice_plugin_tool::main(std::env::args_os().skip(2));
    }
    let mut config = Cli::parse().into_config()?;
    adjust(&mut config);
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(config.loglevel.as_deref()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.io_threads)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        // Certificates are read before anything listens: a bad file stops the start.
        let tls = match config.tls_port {
            Some(port) => Some(TlsListener {
                acceptor: crate::tls::acceptor(&config)?,
                listener: bind(&config.bind, port, "--tls-port").await?,
            }),
            None => None,
        };
        let metrics = match config.metrics_port {
            Some(port) => Some(bind(&config.bind, port, "--metrics-port").await?),
            None => None,
        };
        let tcp = bind(&config.bind, config.port, "--port").await?;
        let local_addr = tcp.local_addr()?;
        let listeners = Listeners { tcp, tls, metrics };
        Server::open(config, Arc::new(crate::SystemClock), local_addr)?
            .serve_with(listeners, shutdown_signal())
            .await?;
        Ok(())
    })
}

async fn bind(host: &str, port: u16, flag: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = format!("{host}:{port}");
    tokio::net::TcpListener::bind(&addr).await.with_context(|| {
        format!("cannot listen on {addr} (is another server using the port? try {flag})")
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => tracing::info!("Received SIGINT scheduling shutdown..."),
            _ = term.recv() => tracing::info!("Received SIGTERM scheduling shutdown..."),
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_reaches_the_config() -> anyhow::Result<()> {
        let config = Cli::try_parse_from([
            "sluice",
            "--port",
            "7001",
            "--bind",
            "0.0.0.0",
            "--dir",
            "/tmp/x",
            "--loglevel",
            "debug",
            "--databases",
            "4",
            "--proto-max-bulk-len",
            "2mb",
            "--stream-node-max-entries",
            "7",
            "--stream-node-max-bytes",
            "1kb",
            "--appendonly",
            "no",
            "--appendfsync",
            "always",
            "--auto-snapshot-min-size",
            "1mb",
            "--plugins",
            "/tmp/p",
            "--plugin-max-memory",
            "2mb",
            "--plugin-call-timeout-ms",
            "50",
            "--tls-port",
            "7002",
            "--tls-cert-file",
            "/tmp/c.crt",
            "--tls-key-file",
            "/tmp/c.key",
            "--tls-ca-cert-file",
            "/tmp/ca.crt",
            "--tls-auth-clients",
            "optional",
            "--io-threads",
            "3",
            "--maxclients",
            "5",
            "--client-query-buffer-limit",
            "2mb",
            "--client-output-buffer-limit",
            "normal 1mb 512kb 5",
        ])?
        .into_config()?;
        assert_eq!(
            (config.port, config.bind.as_str(), config.dir.to_str()),
            (7001, "0.0.0.0", Some("/tmp/x"))
        );
        assert_eq!(
            (config.loglevel.as_deref(), config.databases),
            (Some("debug"), 4)
        );
        assert_eq!(config.proto_max_bulk_len, 2 * 1024 * 1024);
        assert_eq!(
            (config.stream_node_max_entries, config.stream_node_max_bytes),
            (7, 1024)
        );
        assert_eq!(
            (config.appendonly, config.appendfsync.as_str()),
            (false, "always")
        );
        assert_eq!(config.auto_snapshot_min_size, 1024 * 1024);
        assert_eq!(
            config.plugins_dir.as_deref(),
            Some(std::path::Path::new("/tmp/p"))
        );
        assert_eq!(
            (config.plugin_max_memory, config.plugin_call_timeout_ms),
            (2 * 1024 * 1024, 50)
        );
        assert_eq!(config.tls_port, Some(7002));
        assert_eq!(
            (
                config.tls_cert_file.as_deref(),
                config.tls_key_file.as_deref(),
                config.tls_ca_cert_file.as_deref()
            ),
            (
                Some(std::path::Path::new("/tmp/c.crt")),
                Some(std::path::Path::new("/tmp/c.key")),
                Some(std::path::Path::new("/tmp/ca.crt"))
            )
        );
        assert_eq!(config.tls_auth_clients, TlsAuthClients::Optional);
        assert_eq!((config.io_threads, config.maxclients), (3, 5));
        assert_eq!(config.client_query_buffer_limit, 2 * 1024 * 1024);
        assert_eq!(config.client_output_buffer_limit, "normal 1mb 512kb 5");
        Ok(())
    }

    #[test]
    fn users_and_password_flags() -> anyhow::Result<()> {
        let config = Cli::try_parse_from([
            "sluice",
            "--requirepass",
            "pw",
            "--user",
            "alice on >secret ~orders.* +@read",
            "--user",
            "bob on nopass",
        ])?
        .into_config()?;
        assert_eq!(config.requirepass, Some(Secret("pw".into())));
        assert_eq!(
            config.users,
            [
                Secret("alice on >secret ~orders.* +@read".into()),
                Secret("bob on nopass".into())
            ]
        );
        let bad = Cli::try_parse_from(["sluice", "--user", "alice +nosuch"]).map(Cli::into_config);
        assert!(matches!(bad, Ok(Err(_))));
        Ok(())
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["sluice", "--appendonly", "maybe"]).is_err());
        let bad_policy =
            Cli::try_parse_from(["sluice", "--appendfsync", "sometimes"]).map(Cli::into_config);
        assert!(matches!(bad_policy, Ok(Err(_))));
        assert!(Cli::try_parse_from(["sluice", "--tls-auth-clients", "maybe"]).is_err());
        for bad in [
            &["--maxclients", "0"][..],
            &["--client-query-buffer-limit", "1kb"],
            &["--client-output-buffer-limit", "normal 1 2"],
            &["--tls-port", "0"],
        ] {
            let parsed = Cli::try_parse_from(std::iter::once("sluice").chain(bad.iter().copied()))
                .map(Cli::into_config);
            assert!(matches!(parsed, Ok(Err(_))), "{bad:?}");
        }
    }
}
