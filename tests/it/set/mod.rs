//! The set commands end to end: replies and error texts as redis-server 7.0.15 and Valkey 8.1
//! (Redis 7.2) both give them, encodings (Redis 7.2's, with listpack sets), expiry,
//! transactions, RESP3, random picks and pops, combinations, `SSCAN`, restarts, and the server
//! around them ([`features`]: blocked readers, ACL, `DUMP`, `COMMAND INFO`).

pub(crate) use crate::replies::WRONGTYPE;

mod algebra;
mod commands;
mod durability;
mod features;
mod random_scan;

/// An error reply.
fn err(text: &str) -> String {
    format!("-{text}\r\n")
}
