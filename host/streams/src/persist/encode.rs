//! The snapshot writer: [`encode`] appends one stream in the current format (module docs in
//! `mod.rs`).
//!
//! Cost: node buffers are appended whole (one `extend_from_slice` each), and each pending
//! entry takes a handful of bytes thanks to the ID and time deltas. The output is reserved
//! up front so the buffer grows once.

use crate::group::{ConsumerGroup, Pending, UNOWNED};
use crate::varint::{put, put_bytes};
use crate::{Stream, StreamId};

/// Bytes reserved per pending entry and per node header: a generous average, not a bound.
const PENDING_ESTIMATE: usize = 8;
const NODE_HEADER_ESTIMATE: usize = 24;

pub(super) fn encode(stream: &Stream, out: &mut Vec<u8>) {
    let node_bytes: usize = stream.nodes.values().map(|n| n.bytes().len()).sum();
    let pending: usize = stream.groups.values().map(|g| g.pel.len()).sum();
    out.reserve(
        64 + node_bytes + stream.nodes.len() * NODE_HEADER_ESTIMATE + pending * PENDING_ESTIMATE,
    );

    put(out, Stream::SNAPSHOT_VERSION);
    put_id(out, stream.last_id);
    put(out, stream.entries_added);
    put_id(out, stream.max_deleted);
    put(out, stream.len);

    put(out, stream.nodes.len() as u64);
    let mut prev_key = StreamId::MIN;
    for (&key, node) in &stream.nodes {
        put_delta(out, prev_key, key);
        put_delta(out, key, node.last);
        put(out, u64::from(node.live));
        put(out, u64::from(node.deleted));
        put_bytes(out, node.bytes());
        prev_key = key;
    }

    put(out, stream.groups.len() as u64);
    for (name, group) in &stream.groups {
        put_bytes(out, name);
        encode_group(group, out);
    }
    super::idmp::encode(stream, out);
}

fn encode_group(group: &ConsumerGroup, out: &mut Vec<u8>) {
    put_id(out, group.last_delivered_id);
    put_opt(out, group.entries_read);

    // Consumers in name order; `index[slot]` is the position written, which PEL owners use.
    let mut index = vec![None; group.slots.len()];
    let consumers: Vec<_> = group
        .by_name
        .values()
        .filter_map(|&slot| group.slot(slot).map(|c| (slot, c)))
        .collect();
    put(out, consumers.len() as u64);
    for (i, (slot, consumer)) in consumers.iter().enumerate() {
        index[*slot as usize] = Some(i as u64);
        put_bytes(out, &consumer.name);
        put(out, consumer.seen_time_ms);
        put_opt(out, consumer.active_time_ms);
    }

    // `group.rs` keeps every PEL owner a live consumer; an entry breaking that could not be
    // shown or claimed correctly anyway, and writing it would make the snapshot unloadable.
    // A NACKed entry has no owner: it is written as owner `consumers.len()` (version 3).
    let unowned = consumers.len() as u64;
    let owner = |p: &Pending| {
        if p.owner == UNOWNED {
            return Some(unowned);
        }
        index.get(p.owner as usize).copied().flatten()
    };
    let kept = group.pel.values().filter(|p| owner(p).is_some()).count();
    debug_assert_eq!(kept, group.pel.len(), "PEL entry without a consumer");
    put(out, kept as u64);
    let mut prev_id = StreamId::MIN;
    let mut prev_time = 0u64;
    for (&id, p) in &group.pel {
        let Some(owner) = owner(p) else { continue };
        put_delta(out, prev_id, id);
        put(out, owner);
        put(
            out,
            zigzag(p.delivery_time_ms.wrapping_sub(prev_time) as i64),
        );
        put(out, p.delivery_count);
        prev_id = id;
        prev_time = p.delivery_time_ms;
    }

    // Redelivery marks of all consumers merged into one ascending list; each is a PEL ID
    // (`group.rs` keeps every consumer's marks a subset of its pending IDs), so the reader
    // finds its owner in the PEL.
    let mut marks: Vec<StreamId> = consumers
        .iter()
        .flat_map(|(_, c)| c.redeliver.iter().copied())
        .collect();
    marks.sort_unstable();
    debug_assert!(marks.iter().all(|id| group.pel.contains_key(id)));
    put(out, marks.len() as u64);
    let mut prev = StreamId::MIN;
    for id in marks {
        put_delta(out, prev, id);
        prev = id;
    }

    // NACKed entries (version 3): exactly the PEL entries written as unowned.
    put(out, group.nacked.len() as u64);
    let mut prev = StreamId::MIN;
    for id in group.nacked.ids_ascending() {
        put_delta(out, prev, id);
        prev = id;
    }
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put(out, id.ms);
    put(out, id.seq);
}

/// `id` as a delta from `prev` (`prev <= id`, as map order guarantees).
fn put_delta(out: &mut Vec<u8>, prev: StreamId, id: StreamId) {
    debug_assert!(prev <= id);
    let ms_delta = id.ms.wrapping_sub(prev.ms);
    put(out, ms_delta);
    put(
        out,
        if ms_delta == 0 {
            id.seq.wrapping_sub(prev.seq)
        } else {
            id.seq
        },
    );
}

fn put_opt(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => put(out, 0),
        Some(v) => {
            put(out, 1);
            put(out, v);
        }
    }
}

/// Maps small signed deltas to small unsigned numbers: 0, -1, 1, -2, ... → 0, 1, 2, 3, ...
pub(super) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}
