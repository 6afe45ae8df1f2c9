//! Hand-building payloads from their parts, per the format (never through the crate's own
//! writer), for encodings no server here writes and for inconsistencies no server produces.

use crc::{CRC_64_REDIS, Crc};

/// Appends the footer (version, CRC-64) to `body` (type byte and object).
pub fn seal_with(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// [`seal_with`] RDB version 11.
pub fn seal(body: Vec<u8>) -> Vec<u8> {
    seal_with(body, 11)
}

/// A payload's type byte and object, without its footer.
pub fn body(payload: &[u8]) -> Vec<u8> {
    payload[..payload.len() - 10].to_vec()
}

/// An RDB length.
pub fn len(out: &mut Vec<u8>, n: u64) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A plain RDB string.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A stream ID as two lengths.
pub fn len_id(out: &mut Vec<u8>, ms: u64, seq: u64) {
    len(out, ms);
    len(out, seq);
}

/// A stream ID as 16 big-endian bytes.
pub fn raw_id(out: &mut Vec<u8>, ms: u64, seq: u64) {
    out.extend_from_slice(&ms.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
}

/// A listpack or ziplist element: a small integer or a short string.
#[derive(Clone, Copy)]
pub enum El<'a> {
    I(i64),
    S(&'a [u8]),
}

/// A listpack of small elements: integers in -4096..=4095, strings under 64 bytes.
pub fn listpack(elements: &[El<'_>]) -> Vec<u8> {
    let mut out = vec![0; 6];
    for e in elements {
        let start = out.len();
        match *e {
            El::I(v @ 0..=127) => out.push(v as u8),
            El::I(v) => {
                let u = (v & 0x1fff) as u16;
                out.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            }
            El::S(s) => {
                out.push(0x80 | s.len() as u8);
                out.extend_from_slice(s);
            }
        }
        out.push((out.len() - start) as u8);
    }
    out.push(0xff);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    out[4..6].copy_from_slice(&(elements.len() as u16).to_le_bytes());
    out
}

/// A ziplist of small elements: integers in 0..=12, strings under 64 bytes.
pub fn ziplist(elements: &[El<'_>]) -> Vec<u8> {
    let mut out = vec![0; 10];
    let mut prev = 0;
    let mut tail = 10;
    for e in elements {
        tail = out.len();
        out.push(prev as u8);
        match *e {
            El::I(v) => out.push(0xf1 + v as u8),
            El::S(s) => {
                out.push(s.len() as u8);
                out.extend_from_slice(s);
            }
        }
        prev = out.len() - tail;
    }
    out.push(0xff);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    out[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    out[8..10].copy_from_slice(&(elements.len() as u16).to_le_bytes());
    out
}
