//! Validation of one node's packed bytes read from a snapshot.
//!
//! `node.rs` decodes its buffer without checks (it only reads what it wrote). Before a
//! snapshot's buffer becomes a [`Node`], this walks it once with checked reads, mirroring
//! `Node::next_entry`: the master names and every entry must lie inside the buffer, flags must
//! be known, IDs must start at the node's key and strictly increase without overflow, and the
//! live / deleted counts and last ID must equal what the snapshot stored. After that, every
//! unchecked read `node.rs` can do on the buffer stays in bounds.

use super::reader::{checked_skip_bytes, id_after};
use crate::StreamId;
use crate::node::{FLAG_DELETED, FLAG_SAME_FIELDS, Node};
use crate::varint::checked_get;

/// What the snapshot says about a node besides its bytes.
pub(super) struct StoredNode {
    pub(super) key: StreamId,
    pub(super) last: StreamId,
    pub(super) live: u32,
    pub(super) deleted: u32,
}

/// A checked node and its greatest live ID.
pub(super) struct CheckedNode {
    pub(super) node: Node,
    pub(super) last_live: StreamId,
}

/// Builds the node after checking `data` against `stored`; on failure, the offset inside
/// `data` and what was wrong.
pub(super) fn check_node(
    data: Vec<u8>,
    stored: &StoredNode,
) -> Result<CheckedNode, (usize, &'static str)> {
    let bytes = &data[..];
    let mut pos = 0;
    let master_fields = checked_get(bytes, &mut pos).ok_or((0, "bad master field count"))?;
    if master_fields > bytes.len() as u64 {
        return Err((0, "bad master field count"));
    }
    let master_fields = master_fields as usize;
    for _ in 0..master_fields {
        let at = pos;
        checked_skip_bytes(bytes, &mut pos).ok_or((at, "master field name out of bounds"))?;
    }
    let entries_start = pos;

    let mut prev = stored.key;
    let mut last_live = None;
    let (mut live, mut deleted) = (0u64, 0u64);
    while pos < bytes.len() {
        let at = pos;
        let flags = bytes[pos];
        if flags & !(FLAG_DELETED | FLAG_SAME_FIELDS) != 0 {
            return Err((at, "unknown entry flags"));
        }
        pos += 1;
        let ms_delta = checked_get(bytes, &mut pos).ok_or((at, "entry ID out of bounds"))?;
        let seq = checked_get(bytes, &mut pos).ok_or((at, "entry ID out of bounds"))?;
        let id = id_after(prev, ms_delta, seq).ok_or((at, "entry ID overflows"))?;
        let first = live + deleted == 0;
        // The first entry is the node's key (deltas 0 0); later ones strictly increase.
        if (first && id != stored.key) || (!first && id <= prev) {
            return Err((at, "entry IDs out of order"));
        }
        let strings = if flags & FLAG_SAME_FIELDS != 0 {
            master_fields
        } else {
            let pairs = checked_get(bytes, &mut pos).ok_or((at, "field count out of bounds"))?;
            // Each string takes at least its length byte: more than the bytes left is corrupt
            // (and keeps `pairs * 2` from overflowing when the node emits the entry).
            if pairs > (bytes.len() - pos) as u64 {
                return Err((at, "field count out of bounds"));
            }
            pairs as usize * 2
        };
        for _ in 0..strings {
            checked_skip_bytes(bytes, &mut pos).ok_or((at, "field out of bounds"))?;
        }
        if flags & FLAG_DELETED != 0 {
            deleted += 1;
        } else {
            live += 1;
            last_live = Some(id);
        }
        prev = id;
    }

    let Some(last_live) = last_live else {
        return Err((entries_start, "node has no live entry"));
    };
    if live != u64::from(stored.live) || deleted != u64::from(stored.deleted) {
        return Err((entries_start, "node entry counts do not match its entries"));
    }
    if prev != stored.last {
        return Err((entries_start, "node last ID does not match its entries"));
    }
    let node = Node::from_parts(
        data,
        entries_start,
        master_fields,
        stored.live,
        stored.deleted,
        stored.last,
    );
    Ok(CheckedNode { node, last_live })
}
