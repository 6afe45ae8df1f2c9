//! A bounds-checked cursor over an untrusted snapshot payload.
//!
//! Unlike `varint::get`, which reads nodes this crate wrote itself, every read here checks the
//! input's end, refuses varints that do not fit a `u64`, and bounds each length and count by
//! the bytes left, so a hostile length can neither panic nor make us allocate more than a
//! small multiple of the input.

use super::DecodeError;
use crate::StreamId;
use crate::varint::checked_get;

/// Skips a length-prefixed byte string at `*pos`; `None` if it runs past the end.
#[inline]
pub(super) fn checked_skip_bytes(data: &[u8], pos: &mut usize) -> Option<()> {
    let len = checked_get(data, pos)?;
    let left = data.len() - *pos;
    if len > left as u64 {
        return None;
    }
    *pos += len as usize;
    Some(())
}

/// Forward reader over a payload; errors carry the offset of the field that failed.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Current offset in the payload.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// A [`DecodeError::Corrupt`] at `offset`.
    pub(super) fn corrupt_at(offset: usize, what: &'static str) -> DecodeError {
        DecodeError::Corrupt { offset, what }
    }

    /// A varint; `what` names the field in the error.
    pub(super) fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        checked_get(self.data, &mut self.pos).ok_or(Self::corrupt_at(start, what))
    }

    /// A varint that must fit a `u32`.
    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| Self::corrupt_at(start, what))
    }

    /// A count of items that take at least `min_bytes` each: bounded by the bytes left, so it
    /// is safe to preallocate.
    pub(super) fn count(
        &mut self,
        min_bytes: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let start = self.pos;
        let n = self.varint(what)?;
        let max = self.remaining() / min_bytes.max(1);
        if n > max as u64 {
            return Err(Self::corrupt_at(start, what));
        }
        Ok(n as usize)
    }

    /// A length-prefixed byte string, borrowed from the input.
    pub(super) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.varint(what)?;
        if len > self.remaining() as u64 {
            return Err(Self::corrupt_at(start, what));
        }
        let bytes = &self.data[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(bytes)
    }

    /// `0` = `None`, `1 <varint>` = `Some`.
    pub(super) fn opt(&mut self, what: &'static str) -> Result<Option<u64>, DecodeError> {
        let start = self.pos;
        match self.varint(what)? {
            0 => Ok(None),
            1 => self.varint(what).map(Some),
            _ => Err(Self::corrupt_at(start, what)),
        }
    }

    /// An absolute ID: `ms seq`.
    pub(super) fn id(&mut self, what: &'static str) -> Result<StreamId, DecodeError> {
        Ok(StreamId::new(self.varint(what)?, self.varint(what)?))
    }

    /// An ID stored as a delta from `prev` (see the module docs); never below `prev`.
    pub(super) fn id_from(
        &mut self,
        prev: StreamId,
        what: &'static str,
    ) -> Result<StreamId, DecodeError> {
        let start = self.pos;
        let ms_delta = self.varint(what)?;
        let seq = self.varint(what)?;
        id_after(prev, ms_delta, seq).ok_or(Self::corrupt_at(start, what))
    }
}

/// `prev` advanced by a stored delta; `None` on overflow.
#[inline]
pub(super) fn id_after(prev: StreamId, ms_delta: u64, seq: u64) -> Option<StreamId> {
    if ms_delta == 0 {
        Some(StreamId::new(prev.ms, prev.seq.checked_add(seq)?))
    } else {
        Some(StreamId::new(prev.ms.checked_add(ms_delta)?, seq))
    }
}

/// Zigzag-decodes a signed delta stored as a varint.
pub(super) fn unzigzag(u: u64) -> u64 {
    (u >> 1) ^ (u & 1).wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::varint;

    #[test]
    fn checked_varint_agrees_with_varint_get() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            varint::put(&mut buf, v);
            let (mut a, mut b) = (0, 0);
            assert_eq!(checked_get(&buf, &mut a), Some(varint::get(&buf, &mut b)));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn checked_varint_refuses_overlong_and_truncated() {
        let mut pos = 0;
        assert_eq!(checked_get(&[0x80, 0x80], &mut pos), None);
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        pos = 0;
        assert_eq!(checked_get(&too_big, &mut pos), None);
        let eleven = [0x80u8; 11];
        pos = 0;
        assert_eq!(checked_get(&eleven, &mut pos), None);
    }

    #[test]
    fn zigzag_round_trips() {
        for d in [0i64, 1, -1, i64::MAX, i64::MIN] {
            let z = ((d << 1) ^ (d >> 63)) as u64;
            assert_eq!(unzigzag(z) as i64, d);
        }
    }
}
