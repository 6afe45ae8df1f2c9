//! Snapshot serialization of one [`Stream`]: [`Stream::encode`] and [`Stream::decode`].
//!
//! This crate owns the stream payload; the server frames many of them (with their keys) into
//! one snapshot file and checksums it. Decoding treats the bytes as untrusted anyway: every
//! length is bounded by the input, every node is walked once to prove its entries are in
//! bounds and match the stored counts, and the cross-structure invariants the engine relies
//! on (ordered node keys, `len` = live entries, PEL owners that exist, redelivery marks on
//! pending IDs) are checked, so a decoded stream can never panic on a later read. A decode
//! failure is a [`DecodeError`].
//!
//! # Format, version 3 (written), versions 2 and 1 (read)
//!
//! All integers are LEB128 varints (`varint.rs`); `bytes` is a varint length then the bytes;
//! `opt` is `0` (none) or `1` and a varint; an `id` is `ms seq`; a `Δid` from `prev` is
//! `(ms - prev.ms) (seq - prev.seq)` when the ms is unchanged, else `(ms - prev.ms) seq` —
//! the same delta scheme the nodes use.
//!
//! ```text
//! stream   := version=3  last_id:id  entries_added  max_deleted:id  len
//!             node_count node*  group_count group*  idmp
//! idmp     := (0 | 1 duration_s maxsize)  iids_added  iids_duplicates
//!             producer_count producer*           the idempotency state (idmp.rs)
//! producer := pid:bytes  record_count record*     in pid byte order
//! record   := iid:bytes  id  added_ms             oldest first
//! node     := key:Δid(previous node key, 0-0 first)  last:Δid(key)  live  deleted
//!             data:bytes                            the packed node, copied whole (node.rs)
//! group    := name:bytes  last_delivered:id  entries_read:opt
//!             consumer_count consumer*  pel_count pending*  mark_count mark*
//!             nacked_count nacked*                  (version 3)
//! consumer := name:bytes  seen_ms  active_ms:opt        in name byte order
//! pending  := id:Δid(previous pending id, 0-0 first)  owner  time  delivery_count
//!             owner = index of the consumer in the list above;
//!             time  = zigzag(delivery_ms - previous delivery_ms, wrapping; 0 first)
//! mark     := id:Δid(previous mark, 0-0 first)       a pending ID marked for redelivery
//!                                                     to its owner (redeliver.rs)
//! ```
//!
//! Groups are in name byte order, pending entries and marks in ID order, each strictly
//! increasing. A consumer's pending set is not stored: it is the PEL entries it owns, which is
//! exactly the invariant `group.rs` keeps; likewise its redelivery marks are the marks whose
//! PEL entry it owns, and a mark on an ID the PEL does not hold is refused. Consumer slots are
//! renumbered densely in name order on decode (slot numbers are internal and never visible).
//!
//! Version 3 (written) adds NACKed entries (`nack.rs`) and the idempotency state: a pending
//! entry's `owner` may be the consumer count, meaning no consumer, each group ends with
//! `nacked_count nacked*`, the IDs of exactly those unowned entries (`Δid` from the previous
//! one, 0-0 first), and the stream ends with `idmp`. Version 2 is version 3 without them
//! (nothing is NACKed, no idempotency state).
//!
//! Version 1 is version 2 without `mark_count mark*` (nothing is marked): it predates
//! redelivery marks. It is read, never written.
//!
//! # Compatibility
//!
//! The leading version is a varint. A change to this layout gets a new version number, a new
//! branch in [`Stream::decode`] that keeps reading every older version, and a new committed
//! fixture beside `tests/fixtures/stream-v1.bin` and `stream-v2.bin` (see
//! `src/tests/persist_fixture.rs` and `persist_fixture_v2.rs`).
//!
//! # Layout
//! - `mod.rs`: the API, [`DecodeError`], this format description.
//! - `encode.rs`: the writer.
//! - `idmp.rs`: the idempotency section of version 3.
//! - `decode.rs`: the reader for versions 1 to 3 and the stream-level checks.
//! - `reader.rs`: a bounds-checked cursor over untrusted bytes.
//! - `check_node.rs`: the one-pass validation of a node's packed bytes.

mod check_node;
mod decode;
mod encode;
mod idmp;
mod reader;

use thiserror::Error;

use crate::Stream;

/// Why [`Stream::decode`] refused a payload. Not a Redis reply: it is for the operator who
/// restarts the server, so it says where the payload went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The payload starts with a format version this build does not read.
    #[error(
        "stream snapshot format version {found} is not supported (this build reads versions \
         1 to {supported}): start a Sluice version that wrote it, or restore another snapshot"
    )]
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// The payload is truncated or inconsistent.
    #[error(
        "stream snapshot is corrupt at byte {offset} of the stream payload: {what}; restore \
         another snapshot"
    )]
    Corrupt {
        /// Offset in the stream payload where the problem was found.
        offset: usize,
        /// What was wrong, e.g. `"ends inside a node"`.
        what: &'static str,
    },
}

impl Stream {
    /// The payload format version [`Stream::encode`] writes (the leading varint).
    pub const SNAPSHOT_VERSION: u64 = 3;

    /// Appends this stream's complete state (entries, counters, groups, consumers, PELs,
    /// redelivery marks) to `out` in the current snapshot format (see the module docs). Node
    /// buffers are copied whole, so the cost is about one `memcpy` of the entries plus a few
    /// bytes per pending entry and per mark.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode::encode(self, out);
    }

    /// Rebuilds a stream from exactly one payload written by [`Stream::encode`] (any version
    /// up to [`Stream::SNAPSHOT_VERSION`]). The bytes are untrusted: anything truncated,
    /// inconsistent or followed by trailing bytes is a [`DecodeError`], never a panic now or
    /// on a later read.
    pub fn decode(bytes: &[u8]) -> Result<Stream, DecodeError> {
        decode::decode(bytes)
    }
}
