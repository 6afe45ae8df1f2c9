//! Redis's `DUMP` payload format, both ways, so values move between Redis and Sluice with
//! `DUMP` / `RESTORE` (and `MIGRATE`-style tools that use them).
//!
//! A pure codec: [`dump`] turns an [`RdbValue`] into the payload Redis 7.2 would produce for
//! it, [`restore`] turns a payload from Redis up to 8.0 (older encodings included, from
//! ziplists to the first stream type) or Valkey up to 9.2 back into one,
//! refusing with [`RdbError`] — whose `Display` is Redis's exact reply — what Redis would
//! refuse, and anything it cannot read in full. No I/O. Payloads are treated as hostile: no
//! input makes this crate panic, and no length is trusted for an allocation before the bytes
//! behind it are there (only LZF strings grow past their payload, at most 88-fold, as the
//! format allows; the model then holds every element as its own `Vec`).
//!
//! ```
//! use sluice_rdb::{RdbValue, dump, restore};
//!
//! let value = RdbValue::Hash(vec![(b"region".to_vec(), b"eu".to_vec())]);
//! let payload = dump(&value);
//! assert_eq!(restore(&payload)?, value);
//!
//! let mut corrupt = payload.clone();
//! let last = corrupt.len() - 1;
//! corrupt[last] ^= 1;
//! let err = restore(&corrupt).expect_err("the CRC no longer matches");
//! assert_eq!(err.to_string(), "ERR DUMP payload version or checksum are wrong");
//! # Ok::<(), sluice_rdb::RdbError>(())
//! ```
//!
//! What each type reads and writes:
//!
//! | type   | read (RDB type)                                              | written        |
//! |--------|--------------------------------------------------------------|----------------|
//! | string | plain, INT8/16/32, LZF (0)                                   | plain or INT   |
//! | list   | plain (1), ziplist (10), quicklist (14), quicklist 2 (18)    | quicklist 2    |
//! | set    | plain (2), intset (11), listpack (20)                        | as Redis picks |
//! | hash   | plain (4), ziplist (13), listpack (16)                       | as Redis picks |
//! | stream | listpacks (15), listpacks 2 (19), listpacks 3 (21)           | listpacks 3    |
//!
//! Any string inside may be LZF-compressed or integer-encoded, node blobs included. Sluice's
//! redelivery marks on pending stream entries have no place in Redis's format and are not
//! written; neither are deleted stream entries (Redis keeps them flagged inside nodes, the
//! counters are what is kept of them).
//!
//! # Layout
//! - `error.rs`: [`RdbError`] and Redis's two reply texts.
//! - `payload.rs`: the frame (type byte, body, version, CRC), [`RDB_VERSION`],
//!   [`READ_VERSIONS`], the RDB type bytes.
//! - `crc64.rs`: Redis's CRC-64 (on the `crc` crate).
//! - `lzf.rs`: LZF decompression.
//! - `reader.rs` / `writer.rs`: RDB lengths, strings, times and IDs, read (checked) and written.
//! - `listpack.rs`, `intset.rs`, `ziplist.rs`: the packed encodings (ziplists read only).
//! - `value.rs`: [`RdbValue`], the neutral model.
//! - `string.rs`, `list.rs`, `set.rs`, `hash.rs`, `stream/`: one file per value type.

mod crc64;
mod error;
mod hash;
mod intset;
mod list;
mod listpack;
mod lzf;
mod payload;
mod reader;
mod set;
mod stream;
mod string;
mod value;
mod writer;
mod ziplist;

pub use error::{BAD_DATA_FORMAT, FooterError, RdbError, VERSION_OR_CHECKSUM};
pub use payload::{RDB_VERSION, READ_VERSIONS};
pub use value::RdbValue;

use payload::rdb_type;
use reader::Reader;
use sluice_streams::NodeLimits;

/// The whole `DUMP` payload of `value`: RDB type byte, body, RDB version [`RDB_VERSION`],
/// CRC-64. Each type takes the encoding Redis 7.2 would hold it in with default settings (see
/// the crate docs), so Redis 7.2 and later, and Valkey, `RESTORE` it.
///
/// The value should be one Redis could hold: set members and hash fields distinct, lists,
/// sets and hashes not empty. Anything else is written as given, and a server refuses it.
pub fn dump(value: &RdbValue) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        RdbValue::String(s) => string::write(s, &mut out),
        RdbValue::List(items) => list::write(items, &mut out),
        RdbValue::Set(members) => set::write(members, &mut out),
        RdbValue::Hash(pairs) => hash::write(pairs, &mut out),
        RdbValue::Stream(s) => stream::write(s, &mut out),
    }
    payload::seal(&mut out);
    out
}

/// The value in a `DUMP` payload. Checks the footer first, as Redis does (an RDB version
/// outside [`READ_VERSIONS`] or a CRC mismatch is [`RdbError::Footer`]), then reads the body
/// in full (anything malformed, of a type this crate does not read, empty, with duplicate
/// set members or hash fields, or followed by extra bytes is [`RdbError::BadData`]). Streams
/// get Sluice's default node limits; see [`restore_with_limits`].
pub fn restore(payload: &[u8]) -> Result<RdbValue, RdbError> {
    restore_with_limits(payload, NodeLimits::default())
}

/// [`restore`], packing a stream's entries into nodes under `limits` (the server's
/// `stream-node-max-entries` / `-bytes`).
pub fn restore_with_limits(payload: &[u8], limits: NodeLimits) -> Result<RdbValue, RdbError> {
    let body = payload::open(payload)?;
    let mut r = Reader::new(body);
    let ty = r.u8("missing type")?;
    let value = match ty {
        rdb_type::STRING => string::read(&mut r)?,
        rdb_type::LIST
        | rdb_type::LIST_ZIPLIST
        | rdb_type::LIST_QUICKLIST
        | rdb_type::LIST_QUICKLIST_2 => list::read(ty, &mut r)?,
        rdb_type::SET | rdb_type::SET_INTSET | rdb_type::SET_LISTPACK => set::read(ty, &mut r)?,
        rdb_type::HASH | rdb_type::HASH_ZIPLIST | rdb_type::HASH_LISTPACK => {
            hash::read(ty, &mut r)?
        }
        rdb_type::STREAM_LISTPACKS
        | rdb_type::STREAM_LISTPACKS_2
        | rdb_type::STREAM_LISTPACKS_3 => stream::read(ty, &mut r, limits)?,
        _ => return Err(RdbError::bad(0, "value type not supported")),
    };
    r.finish()?;
    Ok(value)
}
