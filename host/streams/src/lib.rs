//! The stream log of Sluice: Redis 7.2 Streams as pure data.
//!
//! A [`Stream`] stores entries the way Redis does — packed nodes of up to
//! `stream-node-max-entries` entries, field names stored once per node, deletion by flag — so a
//! small entry costs a handful of bytes. Nothing here does I/O or reads a clock: XADD takes
//! `now_ms`, and reads stream entries into an [`EntrySink`] instead of building values.
//! Errors are [`StreamError`], whose texts are Redis's.
//!
//! # Layout
//! - `error.rs`: [`StreamError`], Redis's exact error texts.
//! - `id.rs`: [`StreamId`] (`"<ms>-<seq>"`): ordering, stepping, Redis-exact parsing, formatting.
//! - `bounds.rs`: range bounds (`-`, `+`, `(` exclusive) and the XADD ID argument [`AddId`].
//! - `varint.rs`: LEB128 integers and length-prefixed bytes, the node encoding's primitives.
//! - `node.rs`: one packed node: layout, append, decoding cursor, deletion flag.
//! - `sink.rs`: [`EntrySink`], plus [`CountSink`] and [`CollectSink`].
//! - `stream.rs`: [`Stream`]: the node tree, counters, ID generation, XADD, XSETID, memory.
//! - `read.rs`: XRANGE / XREVRANGE, single-entry lookup, first and last entry.
//! - `trim.rs`: XDEL and XTRIM ([`TrimSpec`], [`TrimStrategy`]).

mod bounds;
mod error;
mod id;
mod node;
mod read;
mod sink;
mod stream;
mod trim;
mod varint;

#[cfg(test)]
mod tests;

pub use bounds::{AddId, parse_range_end, parse_range_start};
pub use error::StreamError;
pub use id::StreamId;
pub use sink::{CollectSink, CountSink, EntrySink};
pub use stream::{NodeLimits, Stream};
pub use trim::{TrimSpec, TrimStrategy};
