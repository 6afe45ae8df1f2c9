//! The hash commands end to end: replies and error texts as Valkey 8.1 (Redis 7.2) gives
//! them, encodings, expiry, transactions, RESP3, random picks, `HSCAN`, restarts.

mod commands;
mod durability;
mod random_scan;

/// An error reply.
fn err(text: &str) -> String {
    format!("-{text}\r\n")
}

/// Redis's `WRONGTYPE` reply.
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
