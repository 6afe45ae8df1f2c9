//! The stream body writer (module docs in `mod.rs`), as `STREAM_LISTPACKS_3`.

use std::borrow::Cow;

use sluice_streams::{ConsumerState, GroupState, Stream, StreamEntry, StreamId};

use super::node::NodeWriter;
use crate::payload::rdb_type;
use crate::writer::{put_len, put_len_id, put_ms, put_string, raw_id};

/// Redis's default node limits (`stream-node-max-entries`, `stream-node-max-bytes`).
const NODE_MAX_ENTRIES: u64 = 100;
const NODE_MAX_BYTES: usize = 4096;

pub(crate) fn write(stream: &Stream, out: &mut Vec<u8>) {
    let state = stream.export();
    // STREAM_LISTPACKS_3 is the newest stream type Redis 7.2 reads, so a DUMP from Sluice
    // RESTOREs there. It has no room for Redis 8.6's idempotency state (XCFGSET window,
    // producers' iids): DUMP leaves it out, and a RESTOREd stream starts with an empty window.
    out.push(rdb_type::STREAM_LISTPACKS_3);

    let nodes = pack(&state.entries);
    put_len(out, nodes.len() as u64);
    for (master, lp) in &nodes {
        put_string(out, &raw_id(*master));
        put_string(out, lp);
    }
    put_len(out, state.entries.len() as u64);
    put_len_id(out, state.last_id);
    put_len_id(out, state.entries.first().map_or(StreamId::MIN, |e| e.id));
    put_len_id(out, state.max_deleted_entry_id);
    put_len(out, state.entries_added);

    put_len(out, state.groups.len() as u64);
    for group in &state.groups {
        put_string(out, &group.name);
        put_len_id(out, group.last_delivered_id);
        put_len(out, group.entries_read.unwrap_or(u64::MAX));
        put_len(out, group.pending.len() as u64);
        for p in &group.pending {
            out.extend_from_slice(&raw_id(p.id));
            put_ms(out, p.delivery_time_ms as i64);
            put_len(out, p.delivery_count);
        }
        let consumers = with_nacked_as_empty_name(group);
        put_len(out, consumers.len() as u64);
        for c in consumers.iter() {
            put_string(out, &c.name);
            put_ms(out, c.seen_time_ms as i64);
            put_ms(out, c.active_time_ms.map_or(-1, |t| t as i64));
            put_len(out, c.pending.len() as u64);
            for id in &c.pending {
                out.extend_from_slice(&raw_id(*id));
            }
        }
    }
}

/// `group`'s consumers, plus its NACKed entries as owned by a consumer named `""` (merged
/// into a real one of that name, first in name order either way; module docs in `mod.rs`).
/// Its seen time is the latest delivery of those entries; it was never active.
fn with_nacked_as_empty_name(group: &GroupState) -> Cow<'_, [ConsumerState]> {
    if group.nacked.is_empty() {
        return Cow::Borrowed(&group.consumers);
    }
    let mut consumers = group.consumers.clone();
    if consumers.first().is_none_or(|c| !c.name.is_empty()) {
        let seen = group
            .pending
            .iter()
            .filter(|p| group.nacked.contains(&p.id))
            .map(|p| p.delivery_time_ms)
            .max()
            .unwrap_or(0);
        consumers.insert(
            0,
            ConsumerState {
                seen_time_ms: seen,
                active_time_ms: None,
                ..ConsumerState::default()
            },
        );
    }
    if let Some(empty) = consumers.first_mut() {
        empty.pending.extend_from_slice(&group.nacked);
        empty.pending.sort_unstable();
    }
    Cow::Owned(consumers)
}

/// Entries packed into nodes by Redis's rule (`streamAppendItem`): a new node once the current
/// one holds `NODE_MAX_ENTRIES`, or its bytes plus the new entry's names and values reach
/// `NODE_MAX_BYTES`.
fn pack(entries: &[StreamEntry]) -> Vec<(StreamId, Vec<u8>)> {
    let mut nodes = Vec::new();
    let mut current: Option<NodeWriter> = None;
    for entry in entries {
        let entry_bytes: usize = entry.fields.iter().map(|(n, v)| n.len() + v.len()).sum();
        let full = current.as_ref().is_some_and(|node| {
            node.entries() >= NODE_MAX_ENTRIES || node.bytes() + entry_bytes >= NODE_MAX_BYTES
        });
        if full && let Some(node) = current.take() {
            nodes.push((node.master(), node.finish()));
        }
        current
            .get_or_insert_with(|| NodeWriter::new(entry))
            .push(entry);
    }
    if let Some(node) = current {
        nodes.push((node.master(), node.finish()));
    }
    nodes
}
