//! The frame around every DUMP payload (`createDumpPayload` / `verifyDumpPayload` in Redis's
//! `cluster.c`), and the RDB type bytes this crate reads and writes.
//!
//! ```text
//! payload := type:u8  body  rdb-version:u16le  crc64:u64le
//! ```
//!
//! The CRC covers everything before it, version included. Redis refuses a payload whose
//! version is newer than its own `RDB_VERSION` or whose CRC does not match, before it looks at
//! the body.

use std::ops::RangeInclusive;

use crate::crc64::crc64;
use crate::{FooterError, RdbError};

/// The RDB version [`dump`](crate::dump) writes: Redis 7.2's (Valkey 7.2 and 8.x write it too).
pub const RDB_VERSION: u16 = 11;

/// RDB versions [`restore`](crate::restore) accepts: up to 12 (Redis 7.4 and 8.0), whose
/// encodings of strings, lists, sets, hashes and streams this crate reads in full, and 80-81
/// (Valkey 9.0 and 9.2, which kept those encodings and numbered theirs past Redis's). Redis
/// 8.2 and later write newer versions with stream encodings this crate does not know.
pub const READ_VERSIONS: [RangeInclusive<u16>; 2] = [0..=12, 80..=81];

/// Version and CRC.
const FOOTER: usize = 10;

/// RDB type bytes (`rdb.h`).
pub(crate) mod rdb_type {
    pub(crate) const STRING: u8 = 0;
    pub(crate) const LIST: u8 = 1;
    pub(crate) const SET: u8 = 2;
    pub(crate) const HASH: u8 = 4;
    pub(crate) const LIST_ZIPLIST: u8 = 10;
    pub(crate) const SET_INTSET: u8 = 11;
    pub(crate) const HASH_ZIPLIST: u8 = 13;
    pub(crate) const LIST_QUICKLIST: u8 = 14;
    pub(crate) const STREAM_LISTPACKS: u8 = 15;
    pub(crate) const HASH_LISTPACK: u8 = 16;
    pub(crate) const LIST_QUICKLIST_2: u8 = 18;
    pub(crate) const STREAM_LISTPACKS_2: u8 = 19;
    pub(crate) const SET_LISTPACK: u8 = 20;
    pub(crate) const STREAM_LISTPACKS_3: u8 = 21;
}

/// Appends the footer to `out`, which holds the type byte and body.
pub(crate) fn seal(out: &mut Vec<u8>) {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Checks the footer as Redis does (length, then version, then CRC) and returns what it
/// covers: the type byte and body.
pub(crate) fn open(payload: &[u8]) -> Result<&[u8], RdbError> {
    if payload.len() < FOOTER {
        return Err(RdbError::Footer(FooterError::TooShort {
            len: payload.len(),
        }));
    }
    let (body, footer) = payload.split_at(payload.len() - FOOTER);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if !READ_VERSIONS.iter().any(|r| r.contains(&version)) {
        return Err(RdbError::Footer(FooterError::Version { found: version }));
    }
    let mut stored = [0; 8];
    stored.copy_from_slice(&footer[2..]);
    if crc64(&payload[..payload.len() - 8]) != u64::from_le_bytes(stored) {
        return Err(RdbError::Footer(FooterError::Checksum));
    }
    Ok(body)
}
