//! The data side of Sluice, without sockets, TLS, ACL or client state: one [`Broker`] holds
//! the keyspace, the readers blocked on it, the log and snapshots, memory accounting, and the
//! routes and claim policies with their plugins. The front end (`sluice-server`) parses
//! requests and runs commands against it; route and policy threads get a `Broker` and nothing
//! else.
//!
//! # Layout
//! - [`broker`]: the [`Broker`] type; what happens after a write (ready keys → routes and
//!   blocked readers).
//! - [`keyspace`]: databases of keys, expiry, the gate for multi-key steps.
//! - [`ready`]: the ready-key list and the registry of blocked readers.
//! - [`persist`]: what the log and snapshots hold; replay at start; snapshots.
//! - [`plugins`]: loading, watching and deploying plugins; dead-lettering.
//! - [`routes`]: routes: a plugin reading source streams, writing outputs, exactly once.
//! - [`policies`]: claim policies: a plugin deciding on a group's pending entries.
//! - [`store`]: the seam between the runtimes and the data; the embedded store.
//! - [`memory`]: the used-memory estimate behind `maxmemory`.
//! - [`evict`]: removing keys under `maxmemory-policy` when memory is over the limit.
//! - [`config`]: what the broker is opened with; the data settings `CONFIG SET` changes.
//! - [`background`]: active expiry and automatic snapshots.
//! - [`clock`]: the injected time source.
//! - [`glob`]: Redis's glob patterns (route sources, `KEYS`, `SCAN MATCH`).
//! - [`error`]: why the broker could not open.

mod background;
pub mod broker;
pub mod clock;
pub mod config;
pub mod error;
pub mod evict;
pub mod glob;
pub mod keyspace;
pub mod memory;
pub mod persist;
pub mod plugins;
pub mod policies;
pub mod ready;
pub mod routes;
pub mod store;

pub use broker::Broker;
pub use clock::{Clock, SystemClock};
pub use config::{BrokerConfig, BrokerSettings, ConfigReader, PluginsConfig};
pub use error::BrokerError;
