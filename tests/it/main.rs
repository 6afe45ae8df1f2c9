//! End-to-end tests: each starts the real server on `127.0.0.1:0` and talks to it through the
//! `redis` crate or raw RESP, asserting exact replies.
//!
//! # Layout
//! - [`streams`]: the stream commands, blocking reads and when blocked readers are served.
//! - [`string`]: string commands, their deadlines, restarts.
//! - [`list`]: list commands, the blocking pops and when they are served, encodings, restarts.
//! - [`groups`]: consumer groups: reads, blocking, pending lists, errors.
//! - [`hash`]: the hash commands: replies, errors, encodings, random picks, `HSCAN`, restarts.
//! - [`set`]: the set commands: replies, errors, encodings, pops, combinations, `SSCAN`,
//!   restarts.
//! - [`routes`]: routes end to end: outputs, failures, reloads, restarts, plugin limits.
//! - [`policies`]: claim policies: decisions, admin commands, failures, restarts.
//! - [`persistence`]: the log and snapshots across restarts; old data folders.
//! - [`server`]: connections, protocol, `INFO`, transactions, key commands, limits, the README.
//! - [`security`]: ACLs, TLS, protected mode, hostile and fuzzed input.
//! - [`attach`]: attached mode: routes and policies over a real Redis Cluster or server.
//! - [`replies`]: builders of exact RESP replies, shared by all.

mod attach;
mod groups;
mod hash;
mod list;
mod persistence;
mod plugins_lang;
mod policies;
mod replies;
mod routes;
mod security;
mod server;
mod set;
mod streams;
mod string;
