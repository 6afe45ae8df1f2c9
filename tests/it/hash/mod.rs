//! The hash commands end to end: replies and error texts as redis-server 7.0.15 and Valkey 8.1
//! (Redis 7.2) both give them, encodings, expiry, transactions, RESP3, random picks, `HSCAN`,
//! restarts, and the server around them ([`features`]: ACL, `DUMP`,
//! `COMMAND INFO`).

pub(crate) use crate::replies::WRONGTYPE;

mod commands;
mod counters;
mod durability;
mod features;
mod random_scan;

/// An error reply.
fn err(text: &str) -> String {
    format!("-{text}\r\n")
}
