//! Ziplists (`ziplist.c`), the packed encoding Redis used before listpacks (up to 6.2): still
//! read, for payloads of the older list (`RDB_TYPE_LIST_ZIPLIST`, `RDB_TYPE_LIST_QUICKLIST`)
//! and hash (`RDB_TYPE_HASH_ZIPLIST`) types. Never written.
//!
//! ```text
//! ziplist := total-bytes:u32le  tail-offset:u32le  count:u16le (65535 = "count them")
//!            entry*  0xff
//! entry   := prevlen  encoding  data
//!   prevlen: the previous entry's size; 1 byte below 254, else 0xfe and a u32le
//!   00xxxxxx / 01xxxxxx yyyyyyyy / 0x80 <u32be>   string of a 6, 14 or 32-bit length
//!   0xc0 / 0xd0 / 0xe0 / 0xf0 / 0xfe             int16 / int32 / int64 / int24 / int8 (le)
//!   0xf1 ..= 0xfd                                the integer (low 4 bits) - 1, i.e. 0..=12
//! ```
//!
//! Checked as Redis's deep sanitization checks it: every entry inside the blob, each prevlen
//! equal to the entry before it, the tail offset at the last entry, the terminator at the end,
//! and the count when the header states one.

use crate::listpack::Element;

const HEADER: usize = 10;
const END: u8 = 0xff;
const COUNT_UNKNOWN: u16 = u16::MAX;

/// All entries of `blob`, or what is wrong with it.
pub(crate) fn parse(blob: &[u8]) -> Result<Vec<Element<'_>>, &'static str> {
    if blob.len() < HEADER + 1 {
        return Err("ziplist shorter than its header");
    }
    let u32_at =
        |at: usize| u32::from_le_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]]);
    if u32_at(0) as usize != blob.len() {
        return Err("ziplist size header does not match its length");
    }
    let tail = u32_at(4) as usize;
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    let end = blob.len() - 1;
    if blob[end] != END {
        return Err("ziplist does not end with its terminator");
    }
    let mut entries = Vec::new();
    let mut pos = HEADER;
    let mut prev_size = 0;
    let mut last_start = HEADER;
    while pos < end {
        let (prevlen, header) = prevlen_at(blob, pos, end)?;
        if prevlen != prev_size {
            return Err("ziplist entry has a wrong previous length");
        }
        let (element, size) = entry_at(blob, pos + header, end)?;
        last_start = pos;
        prev_size = header + size;
        pos += prev_size;
        entries.push(element);
    }
    if pos != end {
        return Err("ziplist entry runs past the end");
    }
    if tail != last_start {
        return Err("ziplist tail offset does not point at its last entry");
    }
    if count != COUNT_UNKNOWN && usize::from(count) != entries.len() {
        return Err("ziplist entry count does not match its header");
    }
    Ok(entries)
}

/// The previous-entry length at `pos` and how many bytes it takes.
fn prevlen_at(blob: &[u8], pos: usize, end: usize) -> Result<(usize, usize), &'static str> {
    match blob[pos] {
        0xfe => {
            let b = blob.get(pos + 1..pos + 5).filter(|_| pos + 5 <= end);
            let b = b.ok_or("ziplist entry runs past the end")?;
            Ok((u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5))
        }
        END => Err("ziplist entry runs past the end"),
        small => Ok((usize::from(small), 1)),
    }
}

/// The entry whose encoding byte is at `pos`, and the size of its encoding and data.
fn entry_at(blob: &[u8], pos: usize, end: usize) -> Result<(Element<'_>, usize), &'static str> {
    const SHORT: &str = "ziplist entry runs past the end";
    let bytes = |from: usize, n: usize| blob.get(from..from + n).filter(|_| from + n <= end);
    let b = *blob.get(pos).filter(|_| pos < end).ok_or(SHORT)?;
    let string = |header: usize, len: usize| {
        bytes(pos + header, len)
            .map(|s| (Element::Str(s), header + len))
            .ok_or(SHORT)
    };
    let int = |n: usize| -> Result<(Element<'_>, usize), &'static str> {
        let d = bytes(pos + 1, n).ok_or(SHORT)?;
        let mut raw = [0; 8];
        raw[..n].copy_from_slice(d);
        let shift = 64 - 8 * n as u32;
        Ok((
            Element::Int((i64::from_le_bytes(raw) << shift) >> shift),
            1 + n,
        ))
    };
    match b {
        0x00..=0x3f => string(1, usize::from(b)),
        0x40..=0x7f => {
            let lo = bytes(pos + 1, 1).ok_or(SHORT)?[0];
            string(2, (usize::from(b & 0x3f) << 8) | usize::from(lo))
        }
        0x80 => {
            let d = bytes(pos + 1, 4).ok_or(SHORT)?;
            string(5, u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        }
        0xc0 => int(2),
        0xd0 => int(4),
        0xe0 => int(8),
        0xf0 => int(3),
        0xfe => int(1),
        0xf1..=0xfd => Ok((Element::Int(i64::from(b & 0x0f) - 1), 1)),
        _ => Err("unknown ziplist entry encoding"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in `ziplist.c`'s header comment: the ziplist of "2" and "5", then the same
    /// with "Hello World" appended.
    #[test]
    fn the_documented_examples_parse() {
        let two = [
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        assert_eq!(parse(&two), Ok(vec![Element::Int(2), Element::Int(5)]));
        let mut three = vec![0x1c, 0, 0, 0, 0x0e, 0, 0, 0, 0x03, 0];
        three.extend_from_slice(&[0x00, 0xf3, 0x02, 0xf6, 0x02, 0x0b]);
        three.extend_from_slice(b"Hello World");
        three.push(0xff);
        assert_eq!(
            parse(&three),
            Ok(vec![
                Element::Int(2),
                Element::Int(5),
                Element::Str(b"Hello World")
            ])
        );
    }

    #[test]
    fn every_integer_encoding() {
        let mut zl = vec![0; HEADER];
        let entries: [&[u8]; 5] = [
            &[0x00, 0xfe, 0x80],                                           // int8 -128
            &[0x03, 0xc0, 0x39, 0x30],                                     // int16 12345
            &[0x04, 0xf0, 0xff, 0xff, 0x7f],                               // int24 8388607
            &[0x05, 0xd0, 0x00, 0x6c, 0xca, 0x88],                         // int32 -2000000000
            &[0x06, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // int64 -1
        ];
        let mut tail = 0;
        for e in entries {
            tail = zl.len();
            zl.extend_from_slice(e);
        }
        zl.push(0xff);
        let len = zl.len() as u32;
        zl[..4].copy_from_slice(&len.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&5u16.to_le_bytes());
        let want = [-128, 12345, 8388607, -2000000000, -1].map(Element::Int);
        assert_eq!(parse(&zl), Ok(want.to_vec()));
        let mut bad_prevlen = zl.clone();
        bad_prevlen[HEADER + 3] = 2;
        assert!(parse(&bad_prevlen).is_err());
        let mut bad_tail = zl;
        bad_tail[4] = 0;
        assert!(parse(&bad_tail).is_err());
    }
}
