//! The stream log of Sluice: Redis 7.2 Streams as pure data.
//!
//! A [`Stream`] stores entries the way Redis does — packed nodes of up to
//! `stream-node-max-entries` entries, field names stored once per node, deletion by flag — so a
//! small entry costs a handful of bytes. It also holds the stream's consumer groups
//! ([`ConsumerGroup`]): their positions, pending entries lists and consumers. Nothing here
//! does I/O or reads a clock: commands take `now_ms`, and reads stream entries into an
//! [`EntrySink`] instead of building values. Errors are [`StreamError`], whose texts are
//! Redis's.
//!
//! # Example: a consumer group round trip
//!
//! ```
//! use sluice_streams::{
//!     AddId, CollectSink, GroupRead, GroupReadStart, NodeLimits, PendingQuery, Stream, StreamId,
//! };
//!
//! let mut s = Stream::new();
//! let now_ms = 1_700_000_000_000;
//! s.add(AddId::Auto, &[b"order", b"42"], now_ms, NodeLimits::default())?;
//! // XGROUP CREATE orders workers 0
//! s.create_group(b"workers", StreamId::MIN, None)?;
//! // XREADGROUP GROUP workers alice COUNT 10 STREAMS orders >
//! let read = GroupRead { start: GroupReadStart::New, count: Some(10), noack: false };
//! let mut sink = CollectSink::default();
//! s.read_group(b"workers", b"alice", read, now_ms, &mut sink)?;
//! let delivered = sink.ids();
//! // XPENDING orders workers  →  1, first, last, [["alice", 1]]
//! let group = s.group(b"workers").expect("created above");
//! assert_eq!(group.pending_summary().consumers, vec![(&b"alice"[..], 1)]);
//! // XPENDING orders workers IDLE 5000 - + 10  →  nothing idle yet
//! let query = PendingQuery {
//!     start: StreamId::MIN, end: StreamId::MAX, count: 10, consumer: None, min_idle_ms: 5000,
//! };
//! assert!(group.pending_range(&query, now_ms + 100).is_empty());
//! // XACK orders workers <id>
//! let group = s.group_mut(b"workers").expect("created above");
//! assert_eq!(group.ack(&delivered), 1);
//! // XINFO GROUPS orders  →  lag 0
//! assert_eq!(s.group_info(b"workers").and_then(|g| g.lag), Some(0));
//! # Ok::<(), sluice_streams::StreamError>(())
//! ```
//!
//! # Layout
//! - `error.rs`: [`StreamError`], Redis's exact error texts; [`no_group_text`] for NOGROUP.
//! - `id.rs`: [`StreamId`] (`"<ms>-<seq>"`): ordering, stepping, Redis-exact parsing, formatting.
//! - `idmp.rs`: idempotent production (XADD IDMP / IDMPAUTO, XCFGSET; [`IdmpConfig`],
//!   [`IdmpInfo`], [`IdmpState`]).
//! - `bounds.rs`: range bounds (`-`, `+`, `(` exclusive) and the XADD ID argument [`AddId`].
//! - `varint.rs`: LEB128 integers and length-prefixed bytes, the node encoding's primitives.
//! - `node.rs`: one packed node: layout, append, decoding cursor, deletion flag.
//! - `sink.rs`: [`EntrySink`], plus [`CountSink`] and [`CollectSink`].
//! - `stream.rs`: [`Stream`]: the node tree, counters, ID generation, XADD, XSETID, memory.
//! - `read.rs`: XRANGE / XREVRANGE, single-entry lookup, first and last entry.
//! - `copy.rs`: [`NodeCopy`]: entries copied out as packed nodes, to read with no lock held.
//! - `trim.rs`: XDEL and XTRIM ([`TrimSpec`], [`TrimStrategy`]).
//! - `refs.rs`: Redis 8.2's reference modes ([`RefMode`]): XDELEX, XACKDEL, trimming with
//!   KEEPREF / DELREF / ACKED ([`DeleteResult`]).
//! - `group.rs`: [`ConsumerGroup`] and its PEL ([`PendingEntry`]); XGROUP CREATE / SETID /
//!   DESTROY.
//! - `consumer.rs`: [`Consumer`]; XGROUP CREATECONSUMER / DELCONSUMER.
//! - `deliver.rs`: XREADGROUP, `>` and history ([`GroupRead`]).
//! - `redeliver.rs`: reassignment with redelivery ([`ConsumerGroup::reassign`]): marked
//!   pending entries that a consumer's next `>` read sends before new ones.
//! - `pending.rs`: XPENDING ([`PendingSummary`], [`PendingQuery`]) and XACK.
//! - `claim.rs`: XCLAIM ([`ClaimOptions`]) and XAUTOCLAIM ([`AutoClaimOptions`]).
//! - `claim_idle.rs`: the claim phase of `XREADGROUP … CLAIM` (Redis 8.4).
//! - `nack.rs`: XNACK (Redis 8.8, [`NackMode`]): pending entries handed back to the group.
//! - `lag.rs`: group read counters and lag (`entries-read`, `lag`), Redis's estimates.
//! - `info.rs`: XINFO GROUPS / CONSUMERS / STREAM FULL views ([`GroupInfo`]).
//! - `withhold.rs`: [`Withheld`]: the newest entries taken off while their log record is not
//!   written (a full disk), and put back byte for byte.
//! - `state.rs`: a stream's whole state as plain values, both ways ([`Stream::export`],
//!   [`Stream::from_state`], [`StreamState`], [`StateError`]), for format converters.
//! - `persist/`: snapshot payload of one stream, [`Stream::encode`] / [`Stream::decode`]
//!   ([`DecodeError`]); versioned format, fixture in `tests/fixtures/`.

mod bounds;
mod claim;
mod claim_idle;
mod consumer;
mod copy;
mod deliver;
mod error;
mod group;
mod id;
mod idmp;
mod info;
mod lag;
mod nack;
mod node;
mod pending;
mod persist;
mod read;
mod redeliver;
mod refs;
mod sink;
mod state;
mod stream;
mod trim;
pub mod varint;
mod withhold;

#[cfg(test)]
mod tests;

pub use bounds::{AddId, parse_range_end, parse_range_start};
pub use claim::{AutoClaimOptions, AutoClaimOutcome, ClaimOptions, ClaimOutcome, ClaimTime};
pub use consumer::Consumer;
pub use copy::NodeCopy;
pub use deliver::{GroupRead, GroupReadOutcome, GroupReadStart};
pub use error::{NoGroupWording, StreamError, no_group_text};
pub use group::{ConsumerGroup, PendingEntry};
pub use id::StreamId;
pub use idmp::{
    IDMP_DURATION_DEFAULT, IDMP_DURATION_MAX, IDMP_DURATION_MIN, IDMP_MAXSIZE_DEFAULT,
    IDMP_MAXSIZE_MAX, IDMP_MAXSIZE_MIN, IdmpConfig, IdmpInfo, IdmpRecord, IdmpState,
};
pub use info::GroupInfo;
pub use nack::{FATAL_DELIVERY_COUNT, NackMode, NackOptions};
pub use pending::{PendingQuery, PendingSummary};
pub use persist::DecodeError;
pub use refs::{DeleteResult, RefMode};
pub use sink::{CollectSink, CountSink, EntrySink};
pub use state::{ConsumerState, GroupState, PendingState, StateError, StreamEntry, StreamState};
pub use stream::{NodeLimits, Stream};
pub use trim::{TrimSpec, TrimStrategy};
pub use withhold::Withheld;
