//! List commands: replies and errors ([`commands`], [`edits`]), the blocking pops and when
//! their clients are served ([`blocking`]), `OBJECT ENCODING`'s listpack and quicklist
//! ([`encoding`]), restarts ([`durability`]), and random commands beside a real Valkey
//! ([`interop`], run by `.ci/run`).
//!
//! Every expected reply was checked against Valkey 8.1 (Redis 7.2 semantics, which Sluice
//! follows) and redis-server 7.0.15 with the same commands; where they differ the comment
//! says so.

mod blocking;
mod commands;
mod durability;
mod edits;
mod encoding;
mod interop;
