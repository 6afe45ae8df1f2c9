//! [`Packed`]: byte strings one after the other in one buffer, each after its length as a
//! varint — the small form of hashes and sets, as Redis keeps them in a listpack.
//!
//! A small collection costs one allocation and a few bytes per element instead of a table
//! slot and an allocation per element; lookups scan, which for the at most 128 elements the
//! small form holds is as fast as hashing.

use sluice_streams::varint;

/// Length-prefixed byte strings in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
    len: usize,
}

impl Packed {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the buffer (its heap size).
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The strings, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            pos: 0,
        }
    }

    /// Appends `item`. The buffer grows to the exact size, as a listpack is reallocated per
    /// insert: doubling would leave a small hash or set up to half empty, and millions of
    /// them are what this form is for.
    pub fn push(&mut self, item: &[u8]) {
        self.buf.reserve_exact(varint_len(item.len()) + item.len());
        varint::put(&mut self.buf, item.len() as u64);
        self.buf.extend_from_slice(item);
        self.len += 1;
    }

    /// The index of the first string equal to `item`, among those at even (`step` 2) or all
    /// (`step` 1) positions.
    pub fn position(&self, item: &[u8], step: usize) -> Option<usize> {
        self.iter()
            .enumerate()
            .step_by(step.max(1))
            .find(|(_, s)| *s == item)
            .map(|(i, _)| i)
    }

    /// The string at `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }

    /// Removes `count` strings from `index` on.
    pub fn remove(&mut self, index: usize, count: usize) {
        let Some((start, end)) = self.span(index, count) else {
            return;
        };
        self.buf.drain(start..end);
        self.len -= count;
        if self.buf.capacity() > 2 * self.buf.len() {
            self.buf.shrink_to_fit();
        }
    }

    /// Replaces the string at `index` with `item`.
    pub fn replace(&mut self, index: usize, item: &[u8]) {
        let Some((start, end)) = self.span(index, 1) else {
            return;
        };
        let mut with = Vec::with_capacity(item.len() + 5);
        varint::put(&mut with, item.len() as u64);
        with.extend_from_slice(item);
        self.buf
            .reserve_exact(with.len().saturating_sub(end - start));
        self.buf.splice(start..end, with);
    }

    /// The byte range of `count` strings from `index`.
    fn span(&self, index: usize, count: usize) -> Option<(usize, usize)> {
        let mut iter = self.iter();
        for _ in 0..index {
            iter.next()?;
        }
        let start = iter.pos;
        for _ in 0..count {
            iter.next()?;
        }
        Some((start, iter.pos))
    }
}

/// Bytes of `n`'s varint.
fn varint_len(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()).div_ceil(7).max(1) as usize
}

/// The strings of a [`Packed`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(varint::checked_get(self.buf, &mut self.pos)?).ok()?;
        let item = self.buf.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_find_replace_remove() {
        let mut p = Packed::default();
        for s in [&b"a"[..], b"bb", b"", &[b'x'; 300]] {
            p.push(s);
        }
        assert_eq!(p.len(), 4);
        assert_eq!(p.position(b"bb", 1), Some(1));
        assert_eq!(p.position(b"bb", 2), None);
        p.replace(1, b"ccc");
        assert_eq!(p.get(1), Some(&b"ccc"[..]));
        p.remove(0, 2);
        let left: Vec<&[u8]> = p.iter().collect();
        assert_eq!(left, [&b""[..], &[b'x'; 300][..]]);
    }
}
