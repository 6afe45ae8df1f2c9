//! The Sluice broker: a Redis-protocol server for Redis Streams.
//!
//! The library runs the server ([`run`]) so that the `sluice` binary stays thin and tests start
//! the real server on `127.0.0.1:0` with their own shutdown signal.
//!
//! # Layout
//! - [`acl`]: users, `AUTH`, the permission check every command goes through, the ACL file
//!   and `ACL LOG`.
//! - [`cli`]: the `sluice` command line: flags, logging, signals.
//! - [`config`]: flags, the TOML file, run-time settings (`CONFIG GET|SET`).
//! - [`listener`]: the TCP and TLS listeners, the accept loop and background tasks.
//! - [`connection`]: one client: parse, run, reply; `MULTI`/`EXEC`; waiting when blocked;
//!   the log made durable before replies acknowledge writes.
//! - [`cmd`]: the commands by family (`conn`, `keys`, `stream`, `group`, `server`, `acl`,
//!   `sluice`), each with its metadata beside its handler; the table; dispatch.
//! - [`command_info`]: what access control knows of a command (name, flags, keys,
//!   categories), apart from the table.
//! - [`clients`]: the registry behind `CLIENT LIST`.
//! - [`shared`]: the state every connection shares: the broker, clients, counters.
//! - [`stats`]: per-command and per-error counters (`INFO commandstats`, `errorstats`).
//! - [`replay`]: the command layer replaying the log for the broker at start-up.
//! - [`visibility`]: the keys of a logged command, for hiding what a failed log has not
//!   written from readers.
//! - [`harness`]: the command layer without a socket, for fuzzing and replay tests.
//! - [`error`]: start-up errors and Redis's error reply texts.
//! - [`tls`]: the TLS listener's certificates, client certificates, handshake.
//! - [`protected`]: protected mode: only loopback clients while there is no password.
//! - [`limits`]: per-client limits: `maxclients`, query and output buffer limits.
//! - [`metrics`]: the Prometheus endpoint (`--metrics-port`, `GET /metrics`).
//! - [`attached`]: what an instance attached to a cluster (`--attach`) serves.

pub mod acl;
pub mod attached;
pub mod cli;
pub mod clients;
pub mod cmd;
pub mod command_info;
pub mod config;
pub mod connection;
pub mod error;
pub mod harness;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod protected;
pub mod replay;
pub mod shared;
pub mod stats;
pub mod tls;
pub mod visibility;

pub use config::Config;
pub use error::ServerError;
pub use listener::{Listeners, Server, TlsListener, run, run_with_clock};
pub use sluice_broker::{Broker, Clock, SystemClock};

/// The version reported by `--version`, `HELLO` and `INFO`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version whose stream command set Sluice matches (8.10: `XREAD`'s `MAXCOUNT` and
/// `MAXSIZE`, after 8.8's `XNACK` and 8.4's `XREADGROUP … CLAIM`), reported where clients
/// look for `redis_version` to enable those features.
pub const REDIS_COMPAT_VERSION: &str = "8.10.0";
