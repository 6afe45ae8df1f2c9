//! [`List`]: a list value (`LPUSH`…): a double-ended queue of byte strings.
//!
//! Sluice stores the elements in a deque, and tracks beside them the listpack or quicklist
//! Redis 7.2 would hold them in ([`super::list_layout`]), so `OBJECT ENCODING` answers as
//! Redis does. Methods that add elements make room first, as Redis converts before it
//! adds; methods that remove leave the way back to a listpack to [`List::shrink`], which
//! commands call once they are done, as Redis does.

use std::collections::VecDeque;

use super::list_layout::{Items, Layout};

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: Items,
    layout: Layout,
}

impl List {
    /// A list of `items`, as Redis loads one whole (`RESTORE`, a snapshot): listpack nodes
    /// filled from the head, one listpack if they fit in 8 KiB.
    pub fn from_items<T: AsRef<[u8]>>(items: impl IntoIterator<Item = T>) -> List {
        let mut list = List {
            items: VecDeque::new(),
            layout: Layout::Quicklist(VecDeque::new()),
        };
        for item in items {
            let item = item.as_ref();
            list.layout.pushed(item, false);
            list.items.push_back(item.into());
        }
        list.layout.settle();
        list
    }

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
        self.push_all(&[item], left);
    }

    /// Adds `items` one by one at the head (`left`) or the tail, as one command (`RPUSH k a b
    /// c`) adds them: Redis decides the encoding once, before the first.
    pub fn push_all<T: AsRef<[u8]>>(&mut self, items: &[T], left: bool) {
        self.make_room(items.iter().map(|item| item.as_ref().len()).sum());
        for item in items {
            let item = item.as_ref();
            self.layout.pushed(item, left);
            if left {
                self.items.push_front(item.into());
            } else {
                self.items.push_back(item.into());
            }
        }
    }

    /// What Redis does before a command adds elements of `adding` bytes in all (their string
    /// lengths): a listpack that would pass 8 KiB becomes a quicklist, whether or not the
    /// command then adds them (`LINSERT` with a missing pivot, `LSET` out of range).
    pub fn make_room(&mut self, adding: usize) {
        self.layout.grow(self.items.len(), adding);
    }

    /// After a command removed elements: back to a listpack if Redis would go back now.
    pub fn shrink(&mut self) {
        self.layout.shrink();
    }

    /// Takes the element at the head (`left`) or the tail.
    pub fn pop(&mut self, left: bool) -> Option<Box<[u8]>> {
        let len = self.items.len();
        let (item, index) = if left {
            (self.items.pop_front()?, 0)
        } else {
            (self.items.pop_back()?, len - 1)
        };
        self.layout.removed(index, len, &item);
        Some(item)
    }

    /// Takes up to `n` elements from the head (`left`) or the tail, nearest the end first.
    pub fn pop_many(&mut self, n: usize, left: bool) -> Vec<Box<[u8]>> {
        let n = n.min(self.items.len());
        let start = if left { 0 } else { self.items.len() - n };
        let range = start..start + n;
        let len = self.items.len();
        self.layout
            .removed_range(start, len, self.items.range(range.clone()).map(|e| &**e));
        let mut taken: Vec<_> = self.items.drain(range).collect();
        if !left {
            taken.reverse();
        }
        taken
    }

    /// Replaces element `i`; false if out of range. Call [`List::make_room`] first, as Redis
    /// checks the encoding before it looks for the index.
    pub fn set(&mut self, i: usize, item: &[u8]) -> bool {
        if i >= self.items.len() {
            return false;
        }
        self.layout.replace(&self.items, i, item);
        self.items[i] = item.into();
        true
    }

    /// Inserts `item` before (or, `after`, after) element `pivot`. Call [`List::make_room`]
    /// first, as Redis checks the encoding before it looks for the pivot.
    pub fn insert(&mut self, pivot: usize, item: &[u8], after: bool) {
        if pivot >= self.items.len() {
            return;
        }
        self.layout.insert(&self.items, pivot, item, after);
        self.items.insert(pivot + usize::from(after), item.into());
    }

    /// Keeps only elements `start..end`, as `LTRIM` does: the head, then the tail removed.
    pub fn keep(&mut self, start: usize, end: usize) {
        let end = end.min(self.items.len());
        let start = start.min(end);
        let len = self.items.len();
        self.layout
            .removed_range(0, len, self.items.range(..start).map(|e| &**e));
        self.items.drain(..start);
        let (len, end) = (len - start, end - start);
        self.layout
            .removed_range(end, len, self.items.range(end..).map(|e| &**e));
        self.items.truncate(end);
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
        let mut doomed: Vec<usize> = Vec::new();
        let matches = |(i, e): (usize, &[u8])| (e == item).then_some(i);
        let elements = self.items.iter().map(|e| &**e).enumerate();
        if count < 0 {
            doomed.extend(elements.rev().filter_map(matches).take(limit));
            doomed.reverse();
        } else {
            doomed.extend(elements.filter_map(matches).take(limit));
        }
        // Which nodes empty does not depend on the order Redis deletes them in.
        self.layout.removed_each(&doomed, self.items.len(), item);
        let mut next = doomed.iter().peekable();
        let mut i = 0;
        self.items.retain(|_| {
            let gone = next.next_if(|&&d| d == i).is_some();
            i += 1;
            !gone
        });
        doomed.len()
    }

    /// `OBJECT ENCODING`'s name for it.
    pub fn encoding(&self) -> &'static str {
        self.layout.encoding()
    }

    /// Heap bytes the value takes.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * size_of::<Box<[u8]>>()
            + self.items.iter().map(|e| e.len()).sum::<usize>()
    }
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
        l.shrink();
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
        assert_eq!(l.encoding(), "quicklist");
        l.shrink();
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.iter().collect::<Vec<_>>(), [&big[..], b"small"]);
    }

    /// Each case checked on Valkey 8.1 (Redis 7.2's lists) with `DEBUG OBJECT`'s `ql_nodes`.
    #[test]
    fn a_shrunk_list_with_two_nodes_stays_a_quicklist() {
        let big = [b'x'; 1000];
        // RPUSH of ten: a quicklist of 8 + 2 elements.
        let mut l = List::default();
        l.push_all(&[&big[..]; 10], false);
        assert_eq!(l.encoding(), "quicklist");
        // Six from the head leave 2 + 2 elements in two nodes: 4 KiB, but two nodes.
        assert_eq!(l.pop_many(6, true).len(), 6);
        l.shrink();
        assert_eq!(l.encoding(), "quicklist");
        // From the tail, the second node goes first: one node of four is a listpack again.
        let mut l = List::default();
        l.push_all(&[&big[..]; 10], false);
        l.pop_many(6, false);
        l.shrink();
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.len(), 4);
    }

    #[test]
    fn an_element_over_8k_gets_a_node_of_its_own() {
        let huge = vec![b'y'; 9000];
        let mut l = List::default();
        l.push(&huge, false);
        l.push(b"a", false);
        l.shrink();
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.pop(true).as_deref(), Some(&huge[..]));
        l.shrink();
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn a_large_element_set_in_the_middle_splits_its_node() {
        let big = [b'x'; 1000];
        let huge = vec![b'y'; 9000];
        let mut l = List::default();
        l.push_all(&[&big[..]; 10], false);
        // Small enough: replaced in place, whatever the node's size becomes.
        l.make_room(1200);
        assert!(l.set(0, &[b'z'; 1200]));
        assert!(l.set(0, &big));
        // Large: [3] [plain] [4 + 2 merged].
        assert!(l.set(3, &huge));
        assert_eq!(l.get(3), Some(&huge[..]));
        assert_eq!(l.len(), 10);
        assert_eq!(l.pop_many(6, true).len(), 6);
        l.shrink();
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn removals_on_both_sides_of_a_plain_node_leave_it() {
        let huge = vec![b'y'; 9000];
        let mut l = List::default();
        l.push_all(&[b"a", b"a"], false);
        l.push(&huge, false);
        l.push_all(&[b"a", b"b"], false);
        assert_eq!(l.remove_equal(b"a", 0), 3);
        l.shrink();
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.pop(true).as_deref(), Some(&huge[..]));
        l.shrink();
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.iter().collect::<Vec<_>>(), [b"b"]);
    }

    #[test]
    fn from_items_is_a_listpack_when_it_fits() {
        assert_eq!(List::from_items([b"a", b"b"]).encoding(), "listpack");
        let big = [b'x'; 1000];
        let l = List::from_items([&big[..]; 9]);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.len(), 9);
    }
}
