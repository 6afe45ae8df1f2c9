//! RDB's primitives, written as `rdb.c` writes them: lengths (`rdbSaveLen`), strings
//! (`rdbSaveRawString`: integer-encoded when short and canonical, else length-prefixed),
//! millisecond times and raw stream IDs. The counterpart of `reader.rs`.
//!
//! Strings are never LZF-compressed: Redis reads plain ones just as well, and a DUMP payload
//! is short-lived.

use sluice_streams::StreamId;

use crate::reader::{ENC_INT8, ENC_INT16, ENC_INT32, LEN_32BIT, LEN_64BIT};
use sluice_resp::request::parse_i64 as canonical_i64;

/// Longest string `rdbSaveRawString` tries as an integer (`"-2147483648"`).
const MAX_INT_STRING: usize = 11;

/// `rdbSaveLen`: the shortest of the 6-bit, 14-bit, 32-bit and 64-bit forms.
pub(crate) fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbSaveRawString` without compression: a canonical decimal integer of up to 11 bytes that
/// fits 32 bits as `11000000`-`11000010` plus 1, 2 or 4 little-endian bytes; anything else as
/// its length and bytes.
pub(crate) fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= MAX_INT_STRING
        && let Some(v) = canonical_i64(s)
    {
        if let Ok(v) = i8::try_from(v) {
            out.push(0xc0 | ENC_INT8);
            out.extend_from_slice(&v.to_le_bytes());
            return;
        }
        if let Ok(v) = i16::try_from(v) {
            out.push(0xc0 | ENC_INT16);
            out.extend_from_slice(&v.to_le_bytes());
            return;
        }
        if let Ok(v) = i32::try_from(v) {
            out.push(0xc0 | ENC_INT32);
            out.extend_from_slice(&v.to_le_bytes());
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbSaveMillisecondTime`: 8 bytes, little-endian, signed.
pub(crate) fn put_ms(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

/// An ID as Redis keys its radix trees: ms then seq, both big-endian.
pub(crate) fn raw_id(id: StreamId) -> [u8; 16] {
    let mut raw = [0; 16];
    raw[..8].copy_from_slice(&id.ms.to_be_bytes());
    raw[8..].copy_from_slice(&id.seq.to_be_bytes());
    raw
}

/// An ID as two lengths, ms then seq.
pub(crate) fn put_len_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::reader::Reader;

    #[test]
    fn strings_take_redis_encodings() {
        let enc = |s: &[u8]| {
            let mut out = Vec::new();
            put_string(&mut out, s);
            out
        };
        assert_eq!(enc(b"-100"), [0xc0, 0x9c]);
        assert_eq!(enc(b"12345"), [0xc1, 0x39, 0x30]);
        assert_eq!(enc(b"-2147483648"), [0xc2, 0, 0, 0, 0x80]);
        assert_eq!(enc(b"2147483648"), b"\x0a2147483648");
        assert_eq!(enc(b"007"), b"\x03007");
        assert_eq!(enc(b""), [0]);
    }

    proptest! {
        #[test]
        fn lengths_round_trip(n in any::<u64>()) {
            let mut out = Vec::new();
            put_len(&mut out, n);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.len("len"), Ok(n));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn strings_round_trip(s in prop::collection::vec(any::<u8>(), 0..80)) {
            let mut out = Vec::new();
            put_string(&mut out, &s);
            let mut r = Reader::new(&out);
            let got = r.string("s").map(|c| c.into_owned());
            prop_assert_eq!(got, Ok(s));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn integer_strings_round_trip(v in any::<i64>()) {
            let s = v.to_string();
            let mut out = Vec::new();
            put_string(&mut out, s.as_bytes());
            let mut r = Reader::new(&out);
            let got = r.string("s").map(|c| c.into_owned());
            prop_assert_eq!(got, Ok(s.into_bytes()));
        }
    }
}
