//! [`List`]: a list value (`LPUSH`…): a double-ended queue of byte strings.
//!
//! Redis 7.2 keeps a list as one listpack while it stays under 8 KiB (`list-max-listpack-size
//! -2`), as a quicklist of such listpacks beyond, and back as a listpack once it shrinks to
//! half that. Sluice stores elements in a deque either way, but tracks the size the listpack
//! would have, so `OBJECT ENCODING` answers as Redis does.

use std::collections::VecDeque;

use super::string::parse_canonical_i64;

/// A listpack's size limit (`list-max-listpack-size -2`), bytes.
const LISTPACK_MAX_BYTES: usize = 8192;
/// A listpack's header and end byte.
const LISTPACK_OVERHEAD: usize = 7;

/// A list value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
    /// The bytes a listpack of these elements would take.
    packed_bytes: usize,
    /// Redis would hold it as a quicklist now.
    quicklist: bool,
}

impl Default for List {
    fn default() -> Self {
        List {
            items: VecDeque::new(),
            packed_bytes: LISTPACK_OVERHEAD,
            quicklist: false,
        }
    }
}

impl List {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True without elements (an empty list is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Element `i` from the head.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i).map(|e| &**e)
    }

    /// The elements from the head.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|e| &**e)
    }

    /// Adds `item` at the head (`left`) or the tail.
    pub fn push(&mut self, item: &[u8], left: bool) {
        self.grew(item);
        if left {
            self.items.push_front(item.into());
        } else {
            self.items.push_back(item.into());
        }
    }

    /// Takes the element at the head (`left`) or the tail.
    pub fn pop(&mut self, left: bool) -> Option<Box<[u8]>> {
        let item = if left {
            self.items.pop_front()
        } else {
            self.items.pop_back()
        }?;
        self.shrank(&item);
        Some(item)
    }

    /// Replaces element `i`; false if out of range.
    pub fn set(&mut self, i: usize, item: &[u8]) -> bool {
        let Some(slot) = self.items.get_mut(i) else {
            return false;
        };
        let old = std::mem::replace(slot, item.into());
        self.packed_bytes = self.packed_bytes.saturating_sub(entry_bytes(&old));
        self.grew(item);
        self.shrank_to_fit();
        true
    }

    /// Inserts `item` before position `i` (0..=len).
    pub fn insert(&mut self, i: usize, item: &[u8]) {
        self.grew(item);
        self.items.insert(i.min(self.items.len()), item.into());
    }

    /// Removes element `i`.
    pub fn remove(&mut self, i: usize) -> Option<Box<[u8]>> {
        let item = self.items.remove(i)?;
        self.shrank(&item);
        Some(item)
    }

    /// Keeps only elements `start..end`.
    pub fn keep(&mut self, start: usize, end: usize) {
        let end = end.min(self.items.len());
        self.items.truncate(end);
        let start = start.min(self.items.len());
        self.items.drain(..start);
        self.packed_bytes =
            LISTPACK_OVERHEAD + self.items.iter().map(|e| entry_bytes(e)).sum::<usize>();
        self.shrank_to_fit();
    }

    /// `OBJECT ENCODING`'s name for it.
    pub fn encoding(&self) -> &'static str {
        if self.quicklist {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Heap bytes the value takes.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * size_of::<Box<[u8]>>()
            + self.items.iter().map(|e| e.len()).sum::<usize>()
    }

    fn grew(&mut self, item: &[u8]) {
        self.packed_bytes += entry_bytes(item);
        if self.packed_bytes > LISTPACK_MAX_BYTES {
            self.quicklist = true;
        }
    }

    fn shrank(&mut self, item: &[u8]) {
        self.packed_bytes = self.packed_bytes.saturating_sub(entry_bytes(item));
        self.shrank_to_fit();
    }

    /// Back to a listpack once the list fits in half a listpack, as Redis converts it.
    fn shrank_to_fit(&mut self) {
        if self.quicklist && self.packed_bytes <= LISTPACK_MAX_BYTES / 2 {
            self.quicklist = false;
        }
    }
}

/// The bytes `item` takes in a listpack: encoding, data, back length (integers packed).
fn entry_bytes(item: &[u8]) -> usize {
    let data = match parse_canonical_i64(item) {
        Some(n) if (0..128).contains(&n) => 1,
        Some(n) if (-4096..4096).contains(&n) => 2,
        Some(n) if i16::try_from(n).is_ok() => 3,
        Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => 4,
        Some(n) if i32::try_from(n).is_ok() => 5,
        Some(_) => 9,
        None if item.len() < 64 => 1 + item.len(),
        None if item.len() < 4096 => 2 + item.len(),
        None => 5 + item.len(),
    };
    let back = match data {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    };
    data + back
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_until_8k_and_back_at_half() {
        let mut l = List::default();
        l.push(b"a", false);
        l.push(b"b", true);
        assert_eq!(l.iter().collect::<Vec<_>>(), [&b"b"[..], b"a"]);
        assert_eq!(l.encoding(), "listpack");
        let big = [b'x'; 1000];
        for _ in 0..9 {
            l.push(&big, false);
        }
        assert_eq!(l.encoding(), "quicklist");
        for _ in 0..6 {
            l.pop(false);
        }
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.pop(true).as_deref(), Some(&b"b"[..]));
    }
}
