//! Sets: read from `RDB_TYPE_SET` (plain members), `RDB_TYPE_SET_INTSET` and Redis 7.2's
//! `RDB_TYPE_SET_LISTPACK`; written in the encoding Redis 7.2 would hold the set in with its
//! default limits: an intset when every member is an integer and there are at most 512
//! (`set-max-intset-entries`), else a listpack for at most 128 members of at most 64 bytes
//! (`set-max-listpack-entries`, `-value`), else plain.
//!
//! A set with repeated members or none at all is refused, as Redis refuses it.

use std::collections::HashSet;

use crate::listpack::{self, Element, ListpackWriter};
use crate::payload::rdb_type;
use crate::reader::Reader;
use crate::writer::{put_len, put_string};
use crate::{RdbError, RdbValue, intset};

const MAX_INTSET_ENTRIES: usize = 512;
const MAX_LISTPACK_ENTRIES: usize = 128;
const MAX_LISTPACK_VALUE: usize = 64;

pub(crate) fn read(ty: u8, r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let start = r.pos();
    let members = match ty {
        rdb_type::SET => {
            let n = r.count(1, "set size exceeds the payload")?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(r.string("set member truncated")?.into_owned());
            }
            members
        }
        rdb_type::SET_INTSET => {
            let (blob, at) = r.blob("intset truncated")?;
            let ints = intset::parse(&blob).map_err(|w| at.bad(w))?;
            ints.into_iter()
                .map(|v| v.to_string().into_bytes())
                .collect()
        }
        _ => {
            let (blob, at) = r.blob("set listpack truncated")?;
            let elements = listpack::parse(&blob).map_err(|w| at.bad(w))?;
            elements.into_iter().map(Element::to_bytes).collect()
        }
    };
    if members.is_empty() {
        return Err(RdbError::bad(start, "empty set"));
    }
    let mut seen = HashSet::with_capacity(members.len());
    if !members.iter().all(|m| seen.insert(&m[..])) {
        return Err(RdbError::bad(start, "duplicate set members"));
    }
    Ok(RdbValue::Set(members))
}

pub(crate) fn write(members: &[Vec<u8>], out: &mut Vec<u8>) {
    if members.len() <= MAX_INTSET_ENTRIES
        && let Some(ints) = intset::integers(members)
    {
        out.push(rdb_type::SET_INTSET);
        put_string(out, &intset::build(ints));
        return;
    }
    if members.len() <= MAX_LISTPACK_ENTRIES
        && members.iter().all(|m| m.len() <= MAX_LISTPACK_VALUE)
    {
        let mut lp = ListpackWriter::new();
        for m in members {
            lp.push(m);
        }
        out.push(rdb_type::SET_LISTPACK);
        put_string(out, &lp.finish());
        return;
    }
    out.push(rdb_type::SET);
    put_len(out, members.len() as u64);
    for m in members {
        put_string(out, m);
    }
}
