//! Withholding a stream's newest entries ([`Stream::withhold_from`]) and putting them back
//! ([`Stream::restore`]): how the broker keeps entries whose log record could not be written (a
//! full disk) from readers until a retry writes them.
//!
//! Entries are added in ID order, so the entries of the records not yet written are the
//! stream's end: every entry at or above the first such entry's ID. They are cut off whole —
//! the tail of the node that holds that ID, as bytes, and the nodes after it — and put back
//! byte for byte, so the stream is afterwards exactly what it would have been. Meanwhile every
//! read (length, ranges, `$`, a group's new entries, lag) sees the stream as the log has it.

use std::collections::BTreeMap;

use crate::node::Node;
use crate::{CollectSink, NodeLimits, Stream, StreamEntry, StreamId};

/// Entries taken off a stream's end by [`Stream::withhold_from`], for [`Stream::restore`].
#[derive(Debug, Clone, Default)]
pub struct Withheld {
    /// The first withheld ID.
    from: StreamId,
    /// The end of the node that holds the first withheld ID, if it keeps earlier entries.
    cut: Option<Cut>,
    /// Whole nodes taken out, by key.
    nodes: BTreeMap<StreamId, Node>,
    /// Live entries withheld.
    live: u64,
    /// Entries withheld, live or deleted: each was added after the first withheld ID.
    added: u64,
    /// The stream's last ID before.
    last_id: StreamId,
}

/// Bytes cut off the end of the node keyed `key`, and what they held.
#[derive(Debug, Clone)]
struct Cut {
    key: StreamId,
    bytes: Vec<u8>,
    live: u32,
    deleted: u32,
    /// The node's last ID before the cut.
    last: StreamId,
    /// The node as it was, should it have changed by the time the entries go back.
    whole: Node,
}

impl Withheld {
    /// Live entries withheld.
    pub fn len(&self) -> u64 {
        self.live
    }

    /// True if no entry, live or deleted, was withheld.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.nodes.is_empty() && self.cut.is_none()
    }
}

impl Stream {
    /// Takes every entry with an ID at or above `from` off the stream, live or deleted, and
    /// the counters they moved: the length, `entries-added`, and the last ID (lowered to the
    /// last stored ID, or the greatest deleted one below `from`). Consumer groups are left as
    /// they are: the caller withholds only entries no group has been handed.
    pub fn withhold_from(&mut self, from: StreamId) -> Withheld {
        let mut withheld = Withheld {
            from,
            nodes: self.nodes.split_off(&from),
            last_id: self.last_id,
            ..Withheld::default()
        };
        for node in withheld.nodes.values() {
            withheld.live += u64::from(node.live);
            withheld.added += node.entry_count() as u64;
        }
        if let Some(mut boundary) = self.nodes.last_entry()
            && boundary.get().last >= from
        {
            let key = *boundary.key();
            let node = boundary.get_mut();
            let (mut at, mut before, mut live, mut deleted) = (None, key, 0u32, 0u32);
            for entry in node.cursor(key) {
                if entry.id < from {
                    before = entry.id;
                    continue;
                }
                at.get_or_insert(entry.flags_at);
                if entry.is_deleted() {
                    deleted += 1;
                } else {
                    live += 1;
                }
            }
            withheld.live += u64::from(live);
            withheld.added += u64::from(live + deleted);
            if let Some(at) = at {
                if node.live == live {
                    // Only deleted entries would stay, and a node always holds a live one: the
                    // whole node goes, and comes back whole.
                    let (key, node) = boundary.remove_entry();
                    withheld.nodes.insert(key, node);
                } else {
                    let whole = node.clone();
                    let cut = Cut {
                        whole,
                        key,
                        bytes: node.cut_at(at),
                        live,
                        deleted,
                        last: node.last,
                    };
                    node.live -= live;
                    node.deleted -= deleted;
                    node.last = before;
                    withheld.cut = Some(cut);
                }
            }
        }
        self.len -= withheld.live.min(self.len);
        self.entries_added = self.entries_added.saturating_sub(withheld.added);
        if self.last_id >= from {
            let top = self
                .nodes
                .last_key_value()
                .map_or(StreamId::MIN, |(_, node)| node.last);
            let deleted = Some(self.max_deleted)
                .filter(|max| *max < from)
                .unwrap_or(StreamId::MIN);
            self.last_id = top.max(deleted);
        }
        withheld
    }

    /// Puts back what [`Stream::withhold_from`] took, as it was. Withholdings of one stream
    /// are restored in the reverse order they were made. Should the node the withheld entries
    /// continue have changed meanwhile (nothing writes a stream while it withholds entries, so
    /// this is a safety net), the stream is rebuilt with them in ID order under `limits`.
    pub fn restore(&mut self, withheld: Withheld, limits: NodeLimits) {
        if let Some(cut) = &withheld.cut {
            let ends_here = self
                .nodes
                .last_key_value()
                .is_some_and(|(key, node)| *key == cut.key && node.last < withheld.from);
            if !ends_here {
                self.rebuild_with(withheld, limits);
                return;
            }
            if let Some(node) = self.nodes.get_mut(&cut.key) {
                node.rejoin(&cut.bytes);
                node.live += cut.live;
                node.deleted += cut.deleted;
                node.last = cut.last;
            }
        }
        let mut nodes = withheld.nodes;
        if self
            .nodes
            .last_key_value()
            .is_some_and(|(_, n)| n.last >= withheld.from)
        {
            let rest = Withheld {
                nodes,
                cut: None,
                ..withheld
            };
            self.rebuild_with(rest, limits);
            return;
        }
        self.nodes.append(&mut nodes);
        self.len += withheld.live;
        self.entries_added = self.entries_added.saturating_add(withheld.added);
        self.last_id = self.last_id.max(withheld.last_id);
    }

    /// [`Stream::restore`]'s safety net: the stream's state with the withheld live entries
    /// merged in by ID, packed anew.
    fn rebuild_with(&mut self, withheld: Withheld, limits: NodeLimits) {
        let mut sink = CollectSink::default();
        let from = withheld.from;
        let cut = withheld.cut.iter().map(|c| (c.key, &c.whole));
        for (key, node) in cut.chain(withheld.nodes.iter().map(|(k, n)| (*k, n))) {
            for entry in node.cursor(key) {
                if entry.id >= from && !entry.is_deleted() {
                    node.emit(&entry, &mut sink);
                }
            }
        }
        let mut state = self.export();
        state
            .entries
            .extend(sink.entries.into_iter().map(|(id, fields)| {
                StreamEntry {
                    id,
                    fields: fields
                        .chunks_exact(2)
                        .map(|pair| (pair[0].clone(), pair[1].clone()))
                        .collect(),
                }
            }));
        state.entries.sort_by_key(|e| e.id);
        state.entries.dedup_by_key(|e| e.id);
        state.last_id = state.last_id.max(withheld.last_id);
        state.entries_added = state.entries_added.saturating_add(withheld.added);
        // Always valid: a valid stream's entries merged in ID order.
        if let Ok(mut rebuilt) = Stream::from_state(state, limits) {
            rebuilt.idmp = self.idmp.take();
            *self = rebuilt;
        }
    }
}
