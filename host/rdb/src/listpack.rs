//! Listpacks (`listpack.c`), the packed encoding of small hashes, sets, list nodes and stream
//! nodes in Redis 7: parsed from untrusted blobs and written as Redis writes them.
//!
//! ```text
//! listpack := total-bytes:u32le  count:u16le (65535 = "count them")  element*  0xff
//! element  := encoding+data  backlen
//!   0xxxxxxx                     7-bit unsigned integer
//!   10xxxxxx <bytes>             string of up to 63 bytes
//!   110xxxxx yyyyyyyy            13-bit signed integer
//!   1110xxxx yyyyyyyy <bytes>    string of up to 4095 bytes (length big-endian)
//!   0xf0 <len:u32le> <bytes>     longer string
//!   0xf1 / 0xf2 / 0xf3 / 0xf4    16 / 24 / 32 / 64-bit signed integer, little-endian
//! backlen  := the size of encoding+data, 7 bits per byte, written so it reads right to left
//! ```
//!
//! The parser walks every element once with checked reads, as Redis's deep sanitization does:
//! lengths inside the blob, a backlen that matches its element in Redis's own encoding, the
//! terminator exactly at the end, and the element count when the header states one.

use sluice_resp::request::parse_i64 as canonical_i64;

const HEADER: usize = 6;
const EOF: u8 = 0xff;
/// Header count meaning "more than 65534: walk to count".
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One element: listpacks store integers natively when a string is a canonical integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Element<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Element<'_> {
    /// The element as Redis returns it: strings as they are, integers in decimal.
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        match self {
            Element::Int(v) => v.to_string().into_bytes(),
            Element::Str(s) => s.to_vec(),
        }
    }

    /// The element as an integer, also when stored as a canonical decimal string (Redis's
    /// `lpGetIntegerIfValid`).
    pub(crate) fn as_int(self) -> Option<i64> {
        match self {
            Element::Int(v) => Some(v),
            Element::Str(s) => canonical_i64(s),
        }
    }
}

/// All elements of `blob`, or what is wrong with it.
pub(crate) fn parse(blob: &[u8]) -> Result<Vec<Element<'_>>, &'static str> {
    if blob.len() < HEADER + 1 {
        return Err("listpack shorter than its header");
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]);
    if total as usize != blob.len() {
        return Err("listpack size header does not match its length");
    }
    let count = u16::from_le_bytes([blob[4], blob[5]]);
    let end = blob.len() - 1;
    if blob[end] != EOF {
        return Err("listpack does not end with its terminator");
    }
    // Each element takes at least 2 bytes (encoding and backlen).
    let mut elements = Vec::with_capacity(usize::from(count).min(blob.len() / 2));
    let mut pos = HEADER;
    while pos < end {
        let (element, size) = element_at(blob, pos, end)?;
        let backlen = backlen_size(size);
        let next = pos + size + backlen;
        if next > end {
            return Err("listpack element runs past the end");
        }
        if decode_backlen(&blob[pos + size..next]) != Some(size as u64) {
            return Err("listpack element has a wrong back length");
        }
        elements.push(element);
        pos = next;
    }
    let stated_ok = if elements.len() >= usize::from(COUNT_UNKNOWN) {
        count == COUNT_UNKNOWN
    } else {
        count == COUNT_UNKNOWN || usize::from(count) == elements.len()
    };
    if !stated_ok {
        return Err("listpack element count does not match its header");
    }
    Ok(elements)
}

/// The element at `pos` (before `end`, the terminator) and the size of its encoding and data.
fn element_at(blob: &[u8], pos: usize, end: usize) -> Result<(Element<'_>, usize), &'static str> {
    const SHORT: &str = "listpack element runs past the end";
    let bytes = |from: usize, n: usize| blob.get(from..from + n).filter(|_| from + n <= end);
    let b = blob[pos];
    let fixed = |n: usize| bytes(pos + 1, n).ok_or(SHORT);
    let string = |header: usize, len: usize| {
        bytes(pos + header, len)
            .map(|s| (Element::Str(s), header + len))
            .ok_or(SHORT)
    };
    match b {
        0x00..=0x7f => Ok((Element::Int(i64::from(b)), 1)),
        0x80..=0xbf => string(1, usize::from(b & 0x3f)),
        0xc0..=0xdf => {
            let lo = fixed(1)?[0];
            let v = (i64::from(b & 0x1f) << 8) | i64::from(lo);
            // Two's complement in 13 bits.
            let v = if v >= 1 << 12 { v - (1 << 13) } else { v };
            Ok((Element::Int(v), 2))
        }
        0xe0..=0xef => {
            let lo = fixed(1)?[0];
            string(2, (usize::from(b & 0x0f) << 8) | usize::from(lo))
        }
        0xf0 => {
            let len = fixed(4)?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
            string(5, len as usize)
        }
        0xf1 => {
            let d = fixed(2)?;
            Ok((Element::Int(i64::from(i16::from_le_bytes([d[0], d[1]]))), 3))
        }
        0xf2 => {
            let d = fixed(3)?;
            // Sign-extend 24 bits through the top of an i32.
            let v = i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8;
            Ok((Element::Int(i64::from(v)), 4))
        }
        0xf3 => {
            let d = fixed(4)?;
            Ok((
                Element::Int(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
                5,
            ))
        }
        0xf4 => {
            let d = fixed(8)?;
            let mut v = [0; 8];
            v.copy_from_slice(d);
            Ok((Element::Int(i64::from_le_bytes(v)), 9))
        }
        _ => Err("unknown listpack element encoding"),
    }
}

/// Bytes `lpEncodeBacklen` uses for an element of `size` bytes.
fn backlen_size(size: usize) -> usize {
    match size {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    }
}

/// Reads a backlen written by [`put_backlen`] from its bytes (read right to left); `None`
/// unless it uses exactly these bytes.
fn decode_backlen(bytes: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().rev().enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        let last = i + 1 == bytes.len();
        // Every byte but the leftmost has the continuation bit; the leftmost has none.
        if (b & 0x80 == 0) != last {
            return None;
        }
    }
    Some(v)
}

/// `lpEncodeBacklen`: `size` in 7-bit groups, most significant first; all but the first byte
/// carry the high bit, so a reader going right to left knows where it stops.
fn put_backlen(out: &mut Vec<u8>, size: usize) {
    let n = backlen_size(size);
    for i in (0..n).rev() {
        let group = ((size >> (7 * i)) & 0x7f) as u8;
        out.push(if i + 1 == n { group } else { group | 0x80 });
    }
}

/// Builds a listpack as Redis's `lpAppend` would: canonical integers stored as integers.
#[derive(Debug)]
pub(crate) struct ListpackWriter {
    buf: Vec<u8>,
    count: usize,
}

impl ListpackWriter {
    pub(crate) fn new() -> Self {
        ListpackWriter {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Size of the finished listpack so far, terminator included (Redis's `lpBytes`).
    pub(crate) fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a string, as an integer when it is a canonical one (`lpAppend`).
    pub(crate) fn push(&mut self, s: &[u8]) {
        match canonical_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Appends an integer in the smallest encoding that holds it (`lpAppendInteger`).
    pub(crate) fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let buf = &mut self.buf;
        match v {
            0..=127 => buf.push(v as u8),
            -4096..=4095 => {
                let u = (v & 0x1fff) as u16;
                buf.push(0xc0 | (u >> 8) as u8);
                buf.push(u as u8);
            }
            -32768..=32767 => {
                buf.push(0xf1);
                buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8388608..=8388607 => {
                buf.push(0xf2);
                buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2147483648..=2147483647 => {
                buf.push(0xf3);
                buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                buf.push(0xf4);
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.finish_element(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let buf = &mut self.buf;
        let len = s.len();
        if len < 64 {
            buf.push(0x80 | len as u8);
        } else if len < 4096 {
            buf.push(0xe0 | (len >> 8) as u8);
            buf.push(len as u8);
        } else {
            buf.push(0xf0);
            buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        buf.extend_from_slice(s);
        self.finish_element(start);
    }

    fn finish_element(&mut self, start: usize) {
        let size = self.buf.len() - start;
        put_backlen(&mut self.buf, size);
        self.count += 1;
    }

    /// Appends every element of `other`: elements are self-contained, so a listpack can be
    /// assembled from parts (a stream node's master entry goes first but is known last).
    pub(crate) fn append(&mut self, other: &ListpackWriter) {
        self.buf.extend_from_slice(&other.buf[HEADER..]);
        self.count += other.count;
    }

    /// The finished listpack. Its size must fit the 32-bit header: callers keep listpacks
    /// far smaller (Redis caps them at 1 GiB).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = self.count.min(usize::from(COUNT_UNKNOWN)) as u16;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..HEADER].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn integers_use_the_smallest_encoding() {
        for (v, size) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (-1, 2),
            (-4096, 2),
            (4095, 2),
            (4096, 3),
            (-32768, 3),
            (32768, 4),
            (-8388608, 4),
            (8388608, 5),
            (i64::from(i32::MIN), 5),
            (i64::from(i32::MAX) + 1, 9),
            (i64::MIN, 9),
        ] {
            let mut w = ListpackWriter::new();
            w.push_int(v);
            let lp = w.finish();
            assert_eq!(lp.len(), HEADER + size + 1 + 1, "{v}");
            assert_eq!(parse(&lp), Ok(vec![Element::Int(v)]), "{v}");
        }
    }

    #[test]
    fn a_known_listpack_parses() {
        // As Redis 7 writes ["a", "1024", "-1"]: 6 + 3 + 3 + 3 + 1 bytes.
        let lp = [
            15, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0xc4, 0, 2, 0xdf, 0xff, 2, 0xff,
        ];
        assert_eq!(lp.len(), 16);
        let mut fixed = lp;
        fixed[0] = 16;
        assert_eq!(
            parse(&fixed),
            Ok(vec![
                Element::Str(b"a"),
                Element::Int(1024),
                Element::Int(-1)
            ])
        );
        assert!(parse(&lp).is_err(), "size header off by one");
    }

    #[test]
    fn damaged_listpacks_are_refused() {
        let mut w = ListpackWriter::new();
        w.push(b"hello");
        w.push(b"42");
        let lp = w.finish();
        assert!(parse(&lp).is_ok());
        let mut wrong_count = lp.clone();
        wrong_count[4] = 3;
        assert!(parse(&wrong_count).is_err());
        let mut unknown_count = lp.clone();
        unknown_count[4] = 0xff;
        unknown_count[5] = 0xff;
        assert_eq!(parse(&unknown_count).map(|e| e.len()), Ok(2));
        let mut wrong_backlen = lp.clone();
        wrong_backlen[HEADER + 6] = 5;
        assert!(parse(&wrong_backlen).is_err());
        let mut no_eof = lp.clone();
        *no_eof.last_mut().expect("non-empty") = 0;
        assert!(parse(&no_eof).is_err());
        let mut long_string = lp;
        long_string[HEADER] = 0x80 | 60;
        assert!(parse(&long_string).is_err());
    }

    #[test]
    fn backlens_in_every_width() {
        for size in [
            1, 127, 128, 16382, 16383, 2097150, 2097151, 268435454, 268435455,
        ] {
            let mut out = Vec::new();
            put_backlen(&mut out, size);
            assert_eq!(out.len(), backlen_size(size), "{size}");
            assert_eq!(decode_backlen(&out), Some(size as u64), "{size}");
        }
    }

    proptest! {
        #[test]
        fn strings_round_trip(items in prop::collection::vec(
            prop::collection::vec(any::<u8>(), 0..5000), 0..20)) {
            let mut w = ListpackWriter::new();
            for s in &items {
                w.push(s);
            }
            let lp = w.finish();
            let back: Vec<Vec<u8>> =
                parse(&lp).expect("parses").into_iter().map(Element::to_bytes).collect();
            prop_assert_eq!(back, items);
        }

        #[test]
        fn integers_round_trip(items in prop::collection::vec(any::<i64>(), 0..50)) {
            let mut w = ListpackWriter::new();
            for v in &items {
                w.push(v.to_string().as_bytes());
            }
            let lp = w.finish();
            let back: Vec<Option<i64>> = parse(&lp).expect("parses").into_iter().map(|e| match e {
                Element::Int(v) => Some(v),
                Element::Str(_) => None,
            }).collect();
            prop_assert_eq!(back, items.into_iter().map(Some).collect::<Vec<_>>());
        }
    }
}
