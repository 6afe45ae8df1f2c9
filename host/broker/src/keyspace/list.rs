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
        self.make_room(item.len());
        self.push_packed(item, left);
    }

    /// Adds `items` one by one at the head (`left`) or the tail, as one command (`RPUSH k a b
    /// c`) adds them: Redis decides the encoding once, before the first.
    pub fn push_all<T: AsRef<[u8]>>(&mut self, items: &[T], left: bool) {
        self.make_room(items.iter().map(|item| item.as_ref().len()).sum());
        for item in items {
            self.push_packed(item.as_ref(), left);
        }
    }

    /// What Redis does before a command adds elements of `adding` bytes in all (their string
    /// lengths): a listpack that would pass 8 KiB becomes a quicklist, whether or not the
    /// command then adds them (`LINSERT` with a missing pivot, `LSET` out of range).
    pub fn make_room(&mut self, adding: usize) {
        if self.packed_bytes.saturating_add(adding) > LISTPACK_MAX_BYTES {
            self.quicklist = true;
        }
    }

    fn push_packed(&mut self, item: &[u8], left: bool) {
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
        self.make_room(item.len());
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
        self.make_room(item.len());
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

    /// The index `LINDEX`/`LSET` mean by `index` (negative counts from the tail: -1 is the
    /// last element), if it is inside the list.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = i64::try_from(self.items.len()).ok()?;
        let index = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        usize::try_from(index)
            .ok()
            .filter(|&i| i < self.items.len())
    }

    /// The positions `start..end` that `LRANGE`/`LTRIM`'s inclusive `start stop` name, as
    /// Redis resolves them: negative indexes count from the tail, a start before the head is
    /// the head, a stop past the tail is the tail; `None` when the range is empty.
    pub fn resolve_range(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = i64::try_from(self.items.len()).ok()?;
        // `len + i` cannot overflow: `len` is positive and `i` negative.
        let start = if start < 0 { len + start } else { start }.max(0);
        let stop = if stop < 0 { len + stop } else { stop };
        if start > stop || start >= len {
            return None;
        }
        let stop = stop.min(len - 1);
        Some((
            usize::try_from(start).ok()?,
            usize::try_from(stop).ok()? + 1,
        ))
    }

    /// Position of the first element equal to `item` from the head (`LINSERT`'s pivot).
    pub fn position(&self, item: &[u8]) -> Option<usize> {
        self.items.iter().position(|e| **e == *item)
    }

    /// `LPOS`: positions of elements equal to `item`, skipping the first `rank - 1` matches
    /// (`rank` < 0 searches from the tail), at most `count` of them (0: all), looking at no
    /// more than `maxlen` elements (0: all). `rank` must not be 0.
    pub fn positions(&self, item: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        let len = self.items.len();
        let skip = usize::try_from(rank.unsigned_abs().saturating_sub(1)).unwrap_or(usize::MAX);
        let wanted = if count == 0 { usize::MAX } else { count };
        let scanned = if maxlen == 0 { len } else { maxlen.min(len) };
        let mut found = Vec::new();
        let mut matches = 0;
        for step in 0..scanned {
            let i = if rank < 0 { len - 1 - step } else { step };
            if self.items.get(i).is_some_and(|e| **e == *item) {
                matches += 1;
                if matches > skip {
                    found.push(i);
                    if found.len() == wanted {
                        break;
                    }
                }
            }
        }
        found
    }

    /// `LREM`: removes up to `count` elements equal to `item` from the head (`count` < 0:
    /// from the tail; 0: all of them); returns how many it removed.
    pub fn remove_equal(&mut self, item: &[u8], count: i64) -> usize {
        let limit = match count {
            0 => usize::MAX,
            n => usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX),
        };
        let mut doomed = vec![false; self.items.len()];
        let mut removed = 0;
        let mut mark = |i: usize, e: &[u8]| {
            if removed < limit && e == item {
                doomed[i] = true;
                removed += 1;
            }
        };
        if count < 0 {
            for (i, e) in self.items.iter().enumerate().rev() {
                mark(i, e);
            }
        } else {
            for (i, e) in self.items.iter().enumerate() {
                mark(i, e);
            }
        }
        if removed > 0 {
            let mut i = 0;
            self.items.retain(|_| {
                i += 1;
                !doomed[i - 1]
            });
            self.packed_bytes = self
                .packed_bytes
                .saturating_sub(removed * entry_bytes(item));
            self.shrank_to_fit();
        }
        removed
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

    fn list(items: &[&str]) -> List {
        let mut l = List::default();
        for item in items {
            l.push(item.as_bytes(), false);
        }
        l
    }

    #[test]
    fn indexes_resolve_as_redis_resolves_them() {
        let l = list(&["a", "b", "c"]);
        assert_eq!(l.resolve_index(0), Some(0));
        assert_eq!(l.resolve_index(-1), Some(2));
        assert_eq!(l.resolve_index(-3), Some(0));
        assert_eq!(l.resolve_index(-4), None);
        assert_eq!(l.resolve_index(3), None);
        assert_eq!(l.resolve_index(i64::MIN), None);
        assert_eq!(l.resolve_range(0, -1), Some((0, 3)));
        assert_eq!(l.resolve_range(-100, 100), Some((0, 3)));
        assert_eq!(l.resolve_range(1, 1), Some((1, 2)));
        assert_eq!(l.resolve_range(2, 1), None);
        assert_eq!(l.resolve_range(3, 5), None);
        assert_eq!(l.resolve_range(-1, -2), None);
        assert_eq!(l.resolve_range(i64::MIN, i64::MAX), Some((0, 3)));
        assert_eq!(l.resolve_range(i64::MAX, i64::MIN), None);
        assert_eq!(List::default().resolve_range(0, -1), None);
    }

    #[test]
    fn positions_follow_rank_count_and_maxlen() {
        let l = list(&["a", "b", "c", "a", "b", "c", "a"]);
        assert_eq!(l.positions(b"a", 1, 1, 0), [0]);
        assert_eq!(l.positions(b"a", 2, 1, 0), [3]);
        assert_eq!(l.positions(b"a", -1, 1, 0), [6]);
        assert_eq!(l.positions(b"a", -2, 0, 0), [3, 0]);
        assert_eq!(l.positions(b"a", 1, 0, 0), [0, 3, 6]);
        assert_eq!(l.positions(b"a", 1, 2, 0), [0, 3]);
        assert_eq!(l.positions(b"a", 1, 0, 3), [0]);
        assert_eq!(l.positions(b"a", -1, 0, 2), [6]);
        assert_eq!(l.positions(b"a", 5, 1, 0), Vec::<usize>::new());
        assert_eq!(l.positions(b"a", i64::MAX, 1, 0), Vec::<usize>::new());
        assert_eq!(l.positions(b"z", 1, 0, 0), Vec::<usize>::new());
        assert_eq!(l.position(b"c"), Some(2));
    }

    #[test]
    fn remove_equal_from_either_end() {
        let mut l = list(&["a", "b", "a", "c", "a", "d", "a"]);
        assert_eq!(l.remove_equal(b"a", 2), 2);
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            [&b"b"[..], b"c", b"a", b"d", b"a"]
        );
        assert_eq!(l.remove_equal(b"a", -1), 1);
        assert_eq!(l.iter().collect::<Vec<_>>(), [&b"b"[..], b"c", b"a", b"d"]);
        assert_eq!(l.remove_equal(b"a", 0), 1);
        assert_eq!(l.remove_equal(b"z", 0), 0);
        assert_eq!(l.remove_equal(b"b", i64::MIN), 1);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn removing_big_elements_converts_back_to_a_listpack() {
        let big = [b'x'; 3000];
        let mut l = List::default();
        for _ in 0..3 {
            l.push(&big, false);
        }
        l.push(b"small", false);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.remove_equal(&big, 2), 2);
        assert_eq!(l.encoding(), "listpack");
    }
}
