//! The server as clients meet it: connecting and connection commands, the protocol, `INFO`,
//! transactions, key commands, limits, memory and eviction, connection threads, and the README's
//! quickstart run as written.

pub mod connection;
pub mod dump;
mod eviction;
mod info;
mod io_threads;
mod keys;
mod limits;
mod maxmemory;
mod metrics;
mod protocol;
mod readme;
mod redis_cli_tools;
mod transactions;
