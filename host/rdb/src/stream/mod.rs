//! Streams: read from all three encodings Redis has written — `RDB_TYPE_STREAM_LISTPACKS`
//! (Redis 5-6.2), `_2` (7.0: adds the first ID, max deleted ID, entries added and the groups'
//! entries read) and `_3` (7.2: adds each consumer's active time) — and written as `_3`, what
//! Redis 7.2 writes, so consumer active times survive.
//!
//! ```text
//! stream   := node-count (node-key:string[16] node:string[listpack])*
//!             length  last-id:(len len)
//!             [_2: first-id:(len len)  max-deleted-id:(len len)  entries-added:len]
//!             group-count group*
//! group    := name:string  last-delivered-id:(len len)  [_2: entries-read:len, 2^64-1 = -1]
//!             pel-count (id:raw16 delivery-time:ms delivery-count:len)*
//!             consumer-count consumer*
//! consumer := name:string  seen-time:ms  [_3: active-time:ms, -1 = never]
//!             pending-count id:raw16*
//! ```
//!
//! `raw16` is an ID as 16 bytes, ms then seq, big-endian; `ms` an 8-byte little-endian time.
//! The node layout is in `node.rs`. On read, the entries go through
//! [`Stream::from_state`](sluice_streams::Stream::from_state), which checks what the engine
//! needs (ordered entries, one consumer per pending entry, ...); the stored length must
//! equal the live entries found. Older encodings get what Redis 7.2 gives them on load:
//! `_1` streams count `entries_added` as their length, no deleted ID, and group read counters
//! estimated from the stream; before `_3`, a consumer's active time is its seen time.
//!
//! NACKed entries (Redis 8.8's `XNACK`) belong to no consumer, which these encodings cannot
//! say: Redis 7.x refuses a PEL entry without a consumer (`sanitize-dump-payload yes`) or
//! keeps one it later dereferences. So they are written as owned by a consumer named `""`
//! (what `XPENDING` shows as the owner of a NACKed entry on Redis 8.8 and on Sluice), and on
//! read a consumer named `""` is taken as that: its entries become NACKed again, in ID order,
//! and the consumer is not created. A real consumer named `""` round-trips as NACKs.
//!
//! # Layout
//! - `node.rs`: one listpack node: master entry, per-entry flags, ID deltas, decode / encode.
//! - `read.rs`: the body reader.
//! - `write.rs`: the body writer.

mod node;
mod read;
mod write;

pub(crate) use read::read;
pub(crate) use write::write;
