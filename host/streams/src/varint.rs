//! LEB128 variable-length integers, the length and ID-delta encoding inside a node.
//!
//! Small numbers dominate (field lengths, ID deltas between neighbours), and they take one byte.
//! Nodes are written only by this crate, so [`get`] trusts its input: a malformed node is a bug
//! in this crate, not bad client data. Bytes read from disk go through [`checked_get`] instead
//! (node bytes from a snapshot are checked first, `persist/check_node.rs`).
//!
//! [`put`] and [`checked_get`] are public: the server's log records use the same encoding.

/// Appends `v` as LEB128 (7 bits per byte, high bit = more bytes follow).
#[inline]
pub fn put(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a LEB128 varint at `*pos` from untrusted bytes, advancing past what it read; `None` if
/// it runs past the end or does not fit a `u64` (more than 10 bytes, or a 10th byte above 1).
/// Every encoding it accepts decodes to the same value through [`get`].
#[inline]
pub fn checked_get(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *data.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Reads a LEB128 number at `*pos`, advancing `*pos` past it.
#[inline]
pub(crate) fn get(data: &[u8], pos: &mut usize) -> u64 {
    let first = data[*pos];
    *pos += 1;
    if first < 0x80 {
        return u64::from(first);
    }
    let mut v = u64::from(first & 0x7f);
    let mut shift = 7;
    loop {
        let b = data[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Appends a length-prefixed byte string.
#[inline]
pub(crate) fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    put(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Reads a length-prefixed byte string at `*pos`, advancing past it.
#[inline]
pub(crate) fn get_bytes<'a>(data: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = get(data, pos) as usize;
    let start = *pos;
    *pos += len;
    &data[start..start + len]
}

/// Skips a length-prefixed byte string at `*pos`.
#[inline]
pub(crate) fn skip_bytes(data: &[u8], pos: &mut usize) {
    let len = get(data, pos) as usize;
    *pos += len;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edges() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            put(&mut buf, v);
            let mut pos = 0;
            assert_eq!(get(&buf, &mut pos), v);
            assert_eq!(pos, buf.len());
        }
    }

    #[test]
    fn byte_strings() {
        let mut buf = Vec::new();
        put_bytes(&mut buf, b"hello");
        put_bytes(&mut buf, b"");
        let mut pos = 0;
        assert_eq!(get_bytes(&buf, &mut pos), b"hello");
        assert_eq!(get_bytes(&buf, &mut pos), b"");
        assert_eq!(pos, buf.len());
    }
}
