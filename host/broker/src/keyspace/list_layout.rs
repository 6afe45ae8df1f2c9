//! [`Layout`]: the shape Redis 7.2 would give a list's elements, so `OBJECT ENCODING` answers
//! as Redis does without Sluice storing them that way.
//!
//! Redis keeps a small list as one listpack, and converts it to a quicklist (a chain of
//! listpack nodes of up to 8 KiB each, `list-max-listpack-size -2`, and "plain" nodes holding
//! one element over 8 KiB) before a command would take it past 8 KiB. It converts back only
//! when a command removed elements and the quicklist is down to one listpack node of at most
//! half that (4 KiB). Whether a shrinking quicklist has one node or several depends on where
//! elements went in and came out, so this module tracks each node's element count and size
//! as Redis's quicklist code would make them: pushes fill the end node while it has room,
//! inserts split full nodes and merge small neighbours, deletions drop emptied nodes.
//!
//! The sizes are those of the listpack bytes (`lpBytes`): a 7-byte header and end marker,
//! and each element's entry (see [`entry_bytes`]).

use std::collections::VecDeque;

use super::list_node::{
    LISTPACK_OVERHEAD, NODE_MAX_BYTES, Node, entry_bytes, is_large, locate, merge_around, split,
};

/// A list's elements, from the head.
pub(super) type Items = VecDeque<Box<[u8]>>;

/// Where a list's elements would live in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Layout {
    /// One listpack of this many bytes.
    Listpack { bytes: usize },
    /// A quicklist: its nodes from the head.
    Quicklist(VecDeque<Node>),
}

impl Default for Layout {
    fn default() -> Self {
        Layout::Listpack {
            bytes: LISTPACK_OVERHEAD,
        }
    }
}

impl Layout {
    /// `OBJECT ENCODING`'s name for it.
    pub(super) fn encoding(&self) -> &'static str {
        match self {
            Layout::Listpack { .. } => "listpack",
            Layout::Quicklist(_) => "quicklist",
        }
    }

    /// Before a command adds elements of `adding` bytes in all (their lengths) to a list of
    /// `len` elements: a listpack they would take past 8 KiB becomes a quicklist of one node,
    /// whether or not the command then adds them.
    pub(super) fn grow(&mut self, len: usize, adding: usize) {
        if let Layout::Listpack { bytes } = *self
            && bytes.saturating_add(adding) > NODE_MAX_BYTES
        {
            let mut nodes = VecDeque::new();
            if len > 0 {
                nodes.push_back(Node {
                    count: len,
                    bytes,
                    plain: false,
                });
            }
            *self = Layout::Quicklist(nodes);
        }
    }

    /// After a command removed elements: a quicklist down to one listpack node of at most
    /// 4 KiB becomes that listpack again.
    pub(super) fn shrink(&mut self) {
        self.back_to_listpack_within(NODE_MAX_BYTES / 2);
    }

    /// After a list is loaded whole (`RESTORE`, a snapshot): one listpack node of at most
    /// 8 KiB is a listpack.
    pub(super) fn settle(&mut self) {
        self.back_to_listpack_within(NODE_MAX_BYTES);
    }

    fn back_to_listpack_within(&mut self, limit: usize) {
        if let Layout::Quicklist(nodes) = self
            && let [node] = nodes.as_slices().0
            && nodes.len() == 1
            && !node.plain
            && node.bytes <= limit
        {
            *self = Layout::Listpack { bytes: node.bytes };
        }
    }

    /// `element` was added at the head (`left`) or the tail.
    pub(super) fn pushed(&mut self, element: &[u8], left: bool) {
        let nodes = match self {
            Layout::Listpack { bytes } => {
                *bytes += entry_bytes(element);
                return;
            }
            Layout::Quicklist(nodes) => nodes,
        };
        let end = if left {
            nodes.front_mut()
        } else {
            nodes.back_mut()
        };
        match end {
            Some(node) if node.has_room(element.len()) => node.add(element),
            _ if left => nodes.push_front(Node::for_element(element)),
            _ => nodes.push_back(Node::for_element(element)),
        }
    }

    /// Element `index` of `len`, `element`, was removed (a pop).
    pub(super) fn removed(&mut self, index: usize, len: usize, element: &[u8]) {
        self.removed_each(&[index], len, element);
    }

    /// The elements at `indexes` (ascending) of `len`, each equal to `element`, were removed,
    /// as `LREM` removes them one by one: emptied nodes go. One pass over the nodes.
    pub(super) fn removed_each(&mut self, indexes: &[usize], len: usize, element: &[u8]) {
        let nodes = match self {
            Layout::Listpack { bytes } => {
                let gone = indexes.len() * entry_bytes(element);
                *bytes = bytes.saturating_sub(gone);
                return;
            }
            Layout::Quicklist(nodes) => nodes,
        };
        let Some(&first_index) = indexes.first() else {
            return;
        };
        let Some((mut at, _, mut first)) = locate(nodes, first_index, len) else {
            return;
        };
        let mut pending = indexes.iter().peekable();
        while at < nodes.len() && pending.peek().is_some() {
            let end = first + nodes[at].count;
            let node = &mut nodes[at];
            let mut took = false;
            while pending.next_if(|&&i| i < end).is_some() {
                node.take(element);
                took = true;
            }
            first = end;
            if took && (node.count == 0 || node.plain) {
                nodes.remove(at);
            } else {
                at += 1;
            }
        }
    }

    /// Elements from `start` of `len` (`removed`, in order) were removed, as `LTRIM` and
    /// `LPOP key count` remove them: emptied nodes go, the others shrink.
    pub(super) fn removed_range<'a>(
        &mut self,
        start: usize,
        len: usize,
        removed: impl ExactSizeIterator<Item = &'a [u8]>,
    ) {
        let nodes = match self {
            Layout::Listpack { bytes } => {
                let gone: usize = removed.map(entry_bytes).sum();
                *bytes = bytes.saturating_sub(gone);
                return;
            }
            Layout::Quicklist(nodes) => nodes,
        };
        let Some((mut at, mut offset, _)) = locate(nodes, start, len) else {
            return;
        };
        let mut removed = removed.peekable();
        while removed.peek().is_some() && at < nodes.len() {
            let node = &mut nodes[at];
            let here = node.count - offset;
            for element in removed.by_ref().take(here) {
                node.take(element);
            }
            if node.count == 0 || node.plain {
                nodes.remove(at);
            } else {
                at += 1;
            }
            offset = 0;
        }
    }

    /// `element` is about to be inserted before (or, `after`, after) element `pivot` of
    /// `items`, as `LINSERT` inserts it (Redis's `_quicklistInsert`).
    pub(super) fn insert(&mut self, items: &Items, pivot: usize, element: &[u8], after: bool) {
        let nodes = match self {
            Layout::Listpack { bytes } => {
                *bytes += entry_bytes(element);
                return;
            }
            Layout::Quicklist(nodes) => nodes,
        };
        let Some((at, offset, first)) = locate(nodes, pivot, items.len()) else {
            return;
        };
        let node = nodes[at];
        let len = element.len();
        let at_tail = after && offset + 1 == node.count;
        let at_head = !after && offset == 0;
        let next_room = at_tail && nodes.get(at + 1).is_some_and(|n| n.has_room(len));
        let prev_room = at_head && at > 0 && nodes[at - 1].has_room(len);
        let beside = if after { at + 1 } else { at };
        if is_large(len) {
            if node.plain || at_tail || at_head {
                nodes.insert(beside, Node::plain(element));
            } else {
                let rest = split(&mut nodes[at], items, first, offset, after);
                nodes.insert(beside, Node::plain(element));
                nodes.insert(if after { beside + 1 } else { at }, rest);
            }
        } else if node.has_room(len) {
            nodes[at].add(element);
        } else if next_room {
            nodes[at + 1].add(element);
        } else if prev_room {
            nodes[at - 1].add(element);
        } else if at_tail || at_head {
            nodes.insert(beside, Node::packed(element));
        } else {
            let mut rest = split(&mut nodes[at], items, first, offset, after);
            rest.add(element);
            nodes.insert(beside, rest);
            // The split-off part went after `at`, or before it (then `at` moved on by one).
            merge_around(nodes, if after { at } else { at + 1 });
        }
    }

    /// Element `index` of `items` is about to be replaced by `new`, as `LSET` replaces it
    /// (Redis's `quicklistReplaceEntry`).
    pub(super) fn replace(&mut self, items: &Items, index: usize, new: &[u8]) {
        let Some(old) = items.get(index) else {
            return;
        };
        let nodes = match self {
            Layout::Listpack { bytes } => {
                *bytes = bytes.saturating_sub(entry_bytes(old)) + entry_bytes(new);
                return;
            }
            Layout::Quicklist(nodes) => nodes,
        };
        let Some((at, offset, first)) = locate(nodes, index, items.len()) else {
            return;
        };
        let node = nodes[at];
        if !node.plain && !is_large(new.len()) {
            nodes[at].take(old);
            nodes[at].add(new);
        } else if node.plain && is_large(new.len()) {
            nodes[at] = Node::plain(new);
        } else if node.plain {
            // Inserted after the plain node (into the next node if it has room), which then
            // goes.
            match nodes.get_mut(at + 1) {
                Some(next) if next.has_room(new.len()) => next.add(new),
                _ => nodes.insert(at + 1, Node::packed(new)),
            }
            nodes.remove(at);
        } else {
            // A large element into a listpack node: the node is split after the old element,
            // the new one gets a plain node in between, and the old element goes.
            if offset + 1 != node.count {
                let rest = split(&mut nodes[at], items, first, offset, true);
                nodes.insert(at + 1, rest);
            }
            nodes.insert(at + 1, Node::plain(new));
            if nodes[at].count == 1 {
                nodes.remove(at);
            } else {
                nodes[at].take(old);
                merge_around(nodes, at + 1);
            }
        }
    }
}
