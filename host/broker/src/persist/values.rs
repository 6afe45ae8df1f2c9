//! How a snapshot (payload version 2 on) holds each value: a type byte, then the value's own
//! encoding — a stream's (`sluice_streams::Stream::encode`), or for the other types their
//! elements as varint-length byte strings. Loading rebuilds each value through its ordinary
//! inserts, so small hashes, lists and sets come back in the compact form, as Redis's RDB
//! loading converts them.

use sluice_streams::{Stream, varint};

use crate::keyspace::Value;
use crate::keyspace::hash::Hash;
use crate::keyspace::list::List;
use crate::keyspace::set::Set;
use crate::keyspace::string::Str;

/// A stream value.
const TYPE_STREAM: u8 = 0;
/// A string value.
const TYPE_STRING: u8 = 1;
/// A hash value: field, value, field, value…
const TYPE_HASH: u8 = 2;
/// A list value, head first.
const TYPE_LIST: u8 = 3;
/// A set value.
const TYPE_SET: u8 = 4;

/// Appends `value`'s type byte and encoding to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Stream(stream) => {
            out.push(TYPE_STREAM);
            stream.encode(out);
        }
        Value::Str(s) => {
            out.push(TYPE_STRING);
            out.extend_from_slice(&s.as_bytes());
        }
        Value::Hash(hash) => {
            out.push(TYPE_HASH);
            put_items(out, hash.len() * 2, hash.iter().flat_map(|(f, v)| [f, v]));
        }
        Value::List(list) => {
            out.push(TYPE_LIST);
            put_items(out, list.len(), list.iter());
        }
        Value::Set(set) => {
            out.push(TYPE_SET);
            let members = set.members();
            put_items(out, members.len(), members.iter().map(Vec::as_slice));
        }
    }
}

fn put_items<'a>(out: &mut Vec<u8>, count: usize, items: impl Iterator<Item = &'a [u8]>) {
    varint::put(out, count as u64);
    for item in items {
        varint::put(out, item.len() as u64);
        out.extend_from_slice(item);
    }
}

/// The value `bytes` encodes (as [`encode`] wrote it).
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let (&kind, body) = bytes.split_first().ok_or("empty value")?;
    match kind {
        TYPE_STREAM => Stream::decode(body)
            .map(|s| Value::Stream(Box::new(s)))
            .map_err(|e| e.to_string()),
        TYPE_STRING => Ok(Value::Str(Str::new(body))),
        TYPE_HASH => {
            let items = items(body)?;
            if !items.len().is_multiple_of(2) {
                return Err("a hash with a field and no value".into());
            }
            let mut hash = Hash::default();
            for pair in items.chunks_exact(2) {
                hash.set(pair[0], pair[1]);
            }
            Ok(Value::Hash(Box::new(hash)))
        }
        TYPE_LIST => Ok(Value::List(Box::new(List::from_items(items(body)?)))),
        TYPE_SET => {
            let items = items(body)?;
            let mut set = items
                .first()
                .map_or_else(Set::default, |m| Set::for_first(m));
            for item in items {
                set.insert(item);
            }
            Ok(Value::Set(Box::new(set)))
        }
        other => Err(format!("unknown value type {other}")),
    }
}

fn items(body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut pos = 0;
    let count = varint::checked_get(body, &mut pos).ok_or("truncated count")?;
    // Each item takes at least one byte: a count larger than the body is corrupt.
    if count > body.len() as u64 {
        return Err(format!("{count} items in {} bytes", body.len()));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = varint::checked_get(body, &mut pos).ok_or("truncated length")?;
        let len = usize::try_from(len).map_err(|_| "item too long")?;
        let item = pos
            .checked_add(len)
            .and_then(|end| body.get(pos..end))
            .ok_or("truncated item")?;
        pos += len;
        out.push(item);
    }
    if pos != body.len() {
        return Err(format!("{} bytes after the last item", body.len() - pos));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_and_corruption_is_refused() {
        let mut hash = Hash::default();
        hash.set(b"f", b"v");
        let mut list = List::default();
        list.push(b"a", false);
        list.push(b"b", false);
        let mut set = Set::for_first(b"x");
        set.insert(b"x");
        set.insert(b"y");
        for value in [
            Value::Str(Str::new(b"hello")),
            Value::Str(Str::new(b"42")),
            Value::Hash(Box::new(hash)),
            Value::List(Box::new(list)),
            Value::Set(Box::new(set)),
        ] {
            let mut out = Vec::new();
            encode(&value, &mut out);
            let back = decode(&out).expect("decodes");
            assert_eq!(back.type_name(), value.type_name());
            let mut again = Vec::new();
            encode(&back, &mut again);
            assert_eq!(again, out);
            if value.type_name() != "string" {
                for cut in 1..out.len() {
                    assert!(decode(&out[..cut]).is_err(), "{cut} of {out:?}");
                }
            }
        }
        assert!(decode(&[9]).is_err());
    }
}
