//! A quicklist's nodes as Redis's `quicklist.c` makes them: one node's element count and
//! size, whether it has room for one more, and finding, splitting and merging nodes. What
//! [`super::list_layout`] builds a list's layout from.

use std::collections::VecDeque;

use super::list_layout::Items;
use super::string::parse_canonical_i64;

/// A listpack's (and a quicklist node's) size limit, bytes (`list-max-listpack-size -2`).
pub(super) const NODE_MAX_BYTES: usize = 8192;
/// A listpack's header and end byte.
pub(super) const LISTPACK_OVERHEAD: usize = 7;
/// What Redis adds to an element's length when checking a node has room for it
/// (`SIZE_ESTIMATE_OVERHEAD`).
const INSERT_ESTIMATE: usize = 8;

/// One quicklist node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Node {
    /// Elements in it.
    pub(super) count: usize,
    /// Its listpack's bytes, or a plain node's element length.
    pub(super) bytes: usize,
    /// A plain node: one element too large for a listpack.
    pub(super) plain: bool,
}

impl Node {
    /// A listpack node of one element.
    pub(super) fn packed(element: &[u8]) -> Node {
        Node {
            count: 1,
            bytes: LISTPACK_OVERHEAD + entry_bytes(element),
            plain: false,
        }
    }

    /// A plain node: one element kept as it is.
    pub(super) fn plain(element: &[u8]) -> Node {
        Node {
            count: 1,
            bytes: element.len(),
            plain: true,
        }
    }

    /// A new node of its own for `element`: a plain one if it is large.
    pub(super) fn for_element(element: &[u8]) -> Node {
        if is_large(element.len()) {
            Node::plain(element)
        } else {
            Node::packed(element)
        }
    }

    /// Redis's `_quicklistNodeAllowInsert`: room for an element of `len` bytes.
    pub(super) fn has_room(&self, len: usize) -> bool {
        !self.plain && !is_large(len) && self.bytes + len + INSERT_ESTIMATE <= NODE_MAX_BYTES
    }

    /// `element` went into it.
    pub(super) fn add(&mut self, element: &[u8]) {
        self.count += 1;
        self.bytes += entry_bytes(element);
    }

    /// `element` left it.
    pub(super) fn take(&mut self, element: &[u8]) {
        self.count -= 1;
        self.bytes = self.bytes.saturating_sub(entry_bytes(element));
    }
}

/// An element Redis stores in a plain node of its own.
pub(super) fn is_large(len: usize) -> bool {
    len > NODE_MAX_BYTES
}

/// Two nodes Redis would merge into one (`_quicklistNodeAllowMerge`).
pub(super) fn can_merge(a: &Node, b: &Node) -> bool {
    !a.plain && !b.plain && a.bytes + b.bytes - LISTPACK_OVERHEAD <= NODE_MAX_BYTES
}

/// The node holding element `index` of `len`: its position, the element's offset in it, and
/// the index of its first element. Walks from the nearer end, so pops at either end are quick.
pub(super) fn locate(
    nodes: &VecDeque<Node>,
    index: usize,
    len: usize,
) -> Option<(usize, usize, usize)> {
    if index >= len {
        return None;
    }
    if index < len / 2 {
        let mut first = 0;
        for (at, node) in nodes.iter().enumerate() {
            if index < first + node.count {
                return Some((at, index - first, first));
            }
            first += node.count;
        }
    } else {
        let mut end = len;
        for (at, node) in nodes.iter().enumerate().rev() {
            let first = end.checked_sub(node.count)?;
            if index >= first {
                return Some((at, index - first, first));
            }
            end = first;
        }
    }
    None
}

/// Splits `node`, whose first element is `items[first]`, at `offset` (Redis's
/// `_quicklistSplitNode`): with `after`, `node` keeps `0..=offset` and the returned node
/// holds the rest; without, `node` keeps `offset..` and the returned node holds `0..offset`.
pub(super) fn split(
    node: &mut Node,
    items: &Items,
    first: usize,
    offset: usize,
    after: bool,
) -> Node {
    let moved = if after {
        first + offset + 1..first + node.count
    } else {
        first..first + offset
    };
    let moved_bytes: usize = items.range(moved.clone()).map(|e| entry_bytes(e)).sum();
    node.count -= moved.len();
    node.bytes = node.bytes.saturating_sub(moved_bytes);
    Node {
        count: moved.len(),
        bytes: LISTPACK_OVERHEAD + moved_bytes,
        plain: false,
    }
}

/// Redis's `_quicklistMergeNodes` around node `center`: merges the two nodes before it, the
/// two after it, then `center` with its neighbours, each pair that fits in one node.
pub(super) fn merge_around(nodes: &mut VecDeque<Node>, mut center: usize) {
    let merge = |nodes: &mut VecDeque<Node>, a: usize| {
        if let Some(b) = nodes.remove(a + 1) {
            let into = &mut nodes[a];
            into.count += b.count;
            into.bytes = into.bytes + b.bytes - LISTPACK_OVERHEAD;
        }
    };
    if center >= 2 && can_merge(&nodes[center - 2], &nodes[center - 1]) {
        merge(nodes, center - 2);
        center -= 1;
    }
    if center + 2 < nodes.len() && can_merge(&nodes[center + 1], &nodes[center + 2]) {
        merge(nodes, center + 1);
    }
    if center >= 1 && can_merge(&nodes[center - 1], &nodes[center]) {
        merge(nodes, center - 1);
        center -= 1;
    }
    if center + 1 < nodes.len() && can_merge(&nodes[center], &nodes[center + 1]) {
        merge(nodes, center);
    }
}

/// The bytes `element` takes in a listpack: encoding, data, back length (integers packed).
pub(super) fn entry_bytes(element: &[u8]) -> usize {
    let data = match parse_canonical_i64(element) {
        Some(n) if (0..128).contains(&n) => 1,
        Some(n) if (-4096..4096).contains(&n) => 2,
        Some(n) if i16::try_from(n).is_ok() => 3,
        Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => 4,
        Some(n) if i32::try_from(n).is_ok() => 5,
        Some(_) => 9,
        None if element.len() < 64 => 1 + element.len(),
        None if element.len() < 4096 => 2 + element.len(),
        None => 5 + element.len(),
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
