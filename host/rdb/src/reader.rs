//! A bounds-checked cursor over a payload body, reading RDB's primitives as `rdb.c` writes
//! them: lengths (`rdbLoadLen`), strings with their integer and LZF encodings
//! (`rdbGenericLoadStringObject`), millisecond times, raw stream IDs.
//!
//! Every read checks the bytes left first, so a hostile payload yields
//! [`RdbError::BadData`] with the offset of the item it broke, never a panic; a length is
//! never trusted for an allocation larger than the bytes that could back it.

use std::borrow::Cow;

use sluice_streams::StreamId;

use crate::RdbError;
use crate::lzf;

/// `00xxxxxx`: a 6-bit length; `01xxxxxx xxxxxxxx`: 14 bits, big-endian.
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
/// `11xxxxxx`: a special string encoding follows (the low 6 bits say which).
const LEN_ENCODED: u8 = 3;
/// `10000000` + 4 bytes big-endian; `10000001` + 8 bytes big-endian.
pub(crate) const LEN_32BIT: u8 = 0x80;
pub(crate) const LEN_64BIT: u8 = 0x81;

/// String encodings after `11`: integers of 8, 16 and 32 bits (little-endian), LZF.
pub(crate) const ENC_INT8: u8 = 0;
pub(crate) const ENC_INT16: u8 = 1;
pub(crate) const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// The cursor. Offsets in errors count from the start of the payload.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// An error at the current position.
    pub(crate) fn bad(&self, what: &'static str) -> RdbError {
        RdbError::bad(self.pos, what)
    }

    /// Fails unless every byte was read: Redis would ignore trailing bytes, but they mean the
    /// payload is not what its writer meant, so it is refused.
    pub(crate) fn finish(&self) -> Result<(), RdbError> {
        if self.remaining() != 0 {
            return Err(self.bad("trailing bytes after the value"));
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, RdbError> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.bad(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], RdbError> {
        if n > self.remaining() as u64 {
            return Err(self.bad(what));
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.data[start..self.pos])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RdbError> {
        let bytes = self.take(N as u64, what)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A length, or the special-encoding marker: `Ok((value, encoded))`.
    fn len_or_encoding(&mut self, what: &'static str) -> Result<(u64, bool), RdbError> {
        let first = self.u8(what)?;
        match first >> 6 {
            LEN_6BIT => Ok((u64::from(first & 0x3f), false)),
            LEN_14BIT => {
                let second = self.u8(what)?;
                Ok(((u64::from(first & 0x3f) << 8) | u64::from(second), false))
            }
            LEN_ENCODED => Ok((u64::from(first & 0x3f), true)),
            _ => match first {
                LEN_32BIT => Ok((u64::from(u32::from_be_bytes(self.array(what)?)), false)),
                LEN_64BIT => Ok((u64::from_be_bytes(self.array(what)?), false)),
                _ => Err(RdbError::bad(self.pos - 1, "unknown length encoding")),
            },
        }
    }

    /// A plain length (`rdbLoadLen`); the special string encodings are an error here.
    pub(crate) fn len(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.len_or_encoding(what)? {
            (n, false) => Ok(n),
            (_, true) => Err(RdbError::bad(at, what)),
        }
    }

    /// A count of items, each at least `min_bytes` long: refused if the bytes left could not
    /// hold that many, so callers may preallocate it.
    pub(crate) fn count(
        &mut self,
        min_bytes: usize,
        what: &'static str,
    ) -> Result<usize, RdbError> {
        let at = self.pos;
        let n = self.len(what)?;
        if n > (self.remaining() / min_bytes.max(1)) as u64 {
            return Err(RdbError::bad(at, what));
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings: plain, integer (returned as its decimal text, as
    /// Redis does) or LZF-compressed.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<Cow<'a, [u8]>, RdbError> {
        let at = self.pos;
        let (n, encoded) = self.len_or_encoding(what)?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(n, what)?));
        }
        let int = match n as u8 {
            ENC_INT8 => i64::from(i8::from_le_bytes(self.array(what)?)),
            ENC_INT16 => i64::from(i16::from_le_bytes(self.array(what)?)),
            ENC_INT32 => i64::from(i32::from_le_bytes(self.array(what)?)),
            ENC_LZF => {
                let compressed_len = self.len(what)?;
                let len = self.len(what)?;
                let compressed = self.take(compressed_len, what)?;
                let len = usize::try_from(len).map_err(|_| RdbError::bad(at, what))?;
                return lzf::decompress(compressed, len)
                    .map(Cow::Owned)
                    .ok_or(RdbError::bad(at, "invalid LZF-compressed string"));
            }
            _ => return Err(RdbError::bad(at, "unknown string encoding")),
        };
        Ok(Cow::Owned(int.to_string().into_bytes()))
    }

    /// A packed blob (listpack, intset, ziplist) stored as a string, with where it starts so
    /// what its parser finds wrong can be reported there ([`BlobAt::bad`]).
    pub(crate) fn blob(&mut self, what: &'static str) -> Result<(Cow<'a, [u8]>, BlobAt), RdbError> {
        let at = BlobAt(self.pos);
        Ok((self.string(what)?, at))
    }

    /// A millisecond time: 8 bytes, little-endian, signed (`rdbLoadMillisecondTime`).
    pub(crate) fn ms(&mut self, what: &'static str) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A stream ID as Redis keys its radix trees: 16 bytes, ms then seq, both big-endian.
    pub(crate) fn raw_id(&mut self, what: &'static str) -> Result<StreamId, RdbError> {
        let raw: [u8; 16] = self.array(what)?;
        Ok(id_from_raw(&raw))
    }

    /// An ID stored as two lengths, ms then seq.
    pub(crate) fn len_id(&mut self, what: &'static str) -> Result<StreamId, RdbError> {
        let ms = self.len(what)?;
        let seq = self.len(what)?;
        Ok(StreamId::new(ms, seq))
    }
}

/// Where a packed blob starts in the payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlobAt(usize);

impl BlobAt {
    /// `problem`, found by a blob's parser, as an error at the blob.
    pub(crate) fn bad(self, problem: &'static str) -> RdbError {
        RdbError::bad(self.0, problem)
    }
}

/// The 16-byte big-endian form of an ID (radix-tree keys, PEL entries).
pub(crate) fn id_from_raw(raw: &[u8; 16]) -> StreamId {
    let mut ms = [0; 8];
    let mut seq = [0; 8];
    ms.copy_from_slice(&raw[..8]);
    seq.copy_from_slice(&raw[8..]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_every_width() {
        let bytes = [
            0x05, 0x41, 0x02, 0x80, 0, 1, 0, 0, 0x81, 0, 0, 0, 1, 0, 0, 0, 0,
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.len("len"), Ok(5));
        assert_eq!(r.len("len"), Ok(0x102));
        assert_eq!(r.len("len"), Ok(0x1_0000));
        assert_eq!(r.len("len"), Ok(1 << 32));
        assert!(r.finish().is_ok());
        assert!(
            Reader::new(&[0x82]).len("len").is_err(),
            "unknown 10xxxxxx form"
        );
        assert!(
            Reader::new(&[0xc0, 1]).len("len").is_err(),
            "string encoding as length"
        );
        assert!(Reader::new(&[0x80, 0]).len("len").is_err(), "truncated");
    }

    #[test]
    fn strings_in_every_encoding() {
        let bytes = [
            0x02,
            b'h',
            b'i', // plain
            0xc0,
            0x80, // INT8 -128
            0xc1,
            0x39,
            0x30, // INT16 12345
            0xc2,
            0x00,
            0x6c,
            0xca,
            0x88, // INT32 -2000000000
            0xc3,
            0x04,
            0x06,
            0x00,
            b'a',
            (3 << 5),
            0, // LZF, 4 bytes in, 6 out
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.string("s").as_deref(), Ok(&b"hi"[..]));
        assert_eq!(r.string("s").as_deref(), Ok(&b"-128"[..]));
        assert_eq!(r.string("s").as_deref(), Ok(&b"12345"[..]));
        assert_eq!(r.string("s").as_deref(), Ok(&b"-2000000000"[..]));
        // LZF: 4 compressed bytes, 6 out: literal "a", then 5 copies from 1 back.
        assert_eq!(r.string("s").as_deref(), Ok(&b"aaaaaa"[..]));
        assert!(r.finish().is_ok());
        assert!(
            Reader::new(&[0xc4]).string("s").is_err(),
            "unknown encoding"
        );
        assert!(Reader::new(&[0x05, b'a']).string("s").is_err(), "truncated");
    }

    #[test]
    fn counts_are_bounded_by_the_bytes_left() {
        assert_eq!(Reader::new(&[0x03, 1, 2, 3]).count(1, "n"), Ok(3));
        assert!(Reader::new(&[0x03, 1, 2, 3]).count(2, "n").is_err());
        let huge = [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(Reader::new(&huge).count(1, "n").is_err());
    }
}
