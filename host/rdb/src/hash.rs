//! Hashes: read from `RDB_TYPE_HASH` (plain field/value pairs), `RDB_TYPE_HASH_ZIPLIST` and
//! `RDB_TYPE_HASH_LISTPACK`; written as a listpack when Redis would hold the hash in one with
//! its default limits — at most 512 fields (`hash-max-listpack-entries`), every field and
//! value at most 64 bytes (`hash-max-listpack-value`) — else plain.
//!
//! A hash with a repeated field, an unpaired field or no field at all is refused, as Redis
//! refuses it. Redis 7.4's hashes with field expiry (types 22-25) are not read.

use std::collections::HashSet;

use crate::listpack::{self, Element, ListpackWriter};
use crate::payload::rdb_type;
use crate::reader::Reader;
use crate::writer::{put_len, put_string};
use crate::ziplist;
use crate::{RdbError, RdbValue};

const MAX_LISTPACK_ENTRIES: usize = 512;
const MAX_LISTPACK_VALUE: usize = 64;

pub(crate) fn read(ty: u8, r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let start = r.pos();
    let pairs = match ty {
        rdb_type::HASH => {
            let n = r.count(2, "hash size exceeds the payload")?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let field = r.string("hash field truncated")?.into_owned();
                let value = r.string("hash value truncated")?.into_owned();
                pairs.push((field, value));
            }
            pairs
        }
        rdb_type::HASH_ZIPLIST => {
            let (blob, at) = r.blob("hash ziplist truncated")?;
            pair_up(ziplist::parse(&blob).map_err(|w| at.bad(w))?)
                .ok_or_else(|| at.bad("hash ziplist with an unpaired field"))?
        }
        _ => {
            let (blob, at) = r.blob("hash listpack truncated")?;
            pair_up(listpack::parse(&blob).map_err(|w| at.bad(w))?)
                .ok_or_else(|| at.bad("hash listpack with an unpaired field"))?
        }
    };
    if pairs.is_empty() {
        return Err(RdbError::bad(start, "empty hash"));
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    if !pairs.iter().all(|(f, _)| seen.insert(&f[..])) {
        return Err(RdbError::bad(start, "duplicate hash fields"));
    }
    Ok(RdbValue::Hash(pairs))
}

/// Alternating fields and values as pairs; `None` for an odd count.
fn pair_up(elements: Vec<Element<'_>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !elements.len().is_multiple_of(2) {
        return None;
    }
    Some(
        elements
            .chunks_exact(2)
            .map(|p| (p[0].to_bytes(), p[1].to_bytes()))
            .collect(),
    )
}

pub(crate) fn write(pairs: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
    let small = |s: &Vec<u8>| s.len() <= MAX_LISTPACK_VALUE;
    if pairs.len() <= MAX_LISTPACK_ENTRIES && pairs.iter().all(|(f, v)| small(f) && small(v)) {
        let mut lp = ListpackWriter::new();
        for (f, v) in pairs {
            lp.push(f);
            lp.push(v);
        }
        out.push(rdb_type::HASH_LISTPACK);
        put_string(out, &lp.finish());
        return;
    }
    out.push(rdb_type::HASH);
    put_len(out, pairs.len() as u64);
    for (f, v) in pairs {
        put_string(out, f);
        put_string(out, v);
    }
}
