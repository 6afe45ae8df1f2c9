//! Reads: XRANGE / XREVRANGE ([`Stream::range`]), single-entry lookup and the edge entries.
//!
//! The start node comes from a `BTreeMap` range query on the bound; within a node entries are
//! decoded sequentially. Reverse reads decode each node forward once into a small list of
//! positions and walk that backwards, so a reverse scan costs the same as a forward one.

use std::ops::Bound::{Excluded, Unbounded};

use crate::node::{EntryPos, Node};
use crate::sink::EntrySink;
use crate::{Stream, StreamId};

impl Stream {
    /// Entries with `start <= id <= end` (both inclusive), ascending, or descending from `end`
    /// when `rev`. At most `count` entries (`None` = all, `Some(0)` = none; Redis's "COUNT 0
    /// means all" is the caller's to translate). Returns how many entries went to `sink`.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        count: Option<usize>,
        rev: bool,
        sink: &mut dyn EntrySink,
    ) -> usize {
        let limit = count.unwrap_or(usize::MAX);
        if start > end || limit == 0 {
            return 0;
        }
        if rev {
            self.range_rev(start, end, limit, sink)
        } else {
            self.range_fwd(start, end, limit, sink)
        }
    }

    fn range_fwd(
        &self,
        start: StreamId,
        end: StreamId,
        limit: usize,
        sink: &mut dyn EntrySink,
    ) -> usize {
        // The node holding `start` is the last one keyed at or below it; later nodes follow.
        let holder = self.nodes.range(..=start).next_back();
        let after = self.nodes.range((Excluded(start), Unbounded));
        let mut emitted = 0;
        for (key, node) in holder.into_iter().chain(after) {
            if *key > end {
                break;
            }
            if node.last < start {
                continue;
            }
            for entry in node.cursor(*key) {
                if entry.id > end {
                    return emitted;
                }
                if entry.id < start || entry.is_deleted() {
                    continue;
                }
                if sink.full() {
                    return emitted;
                }
                node.emit(&entry, sink);
                emitted += 1;
                if emitted == limit {
                    return emitted;
                }
            }
        }
        emitted
    }

    fn range_rev(
        &self,
        start: StreamId,
        end: StreamId,
        limit: usize,
        sink: &mut dyn EntrySink,
    ) -> usize {
        let mut emitted = 0;
        let mut positions: Vec<EntryPos> = Vec::new();
        for (key, node) in self.nodes.range(..=end).rev() {
            if node.last >= start {
                positions.clear();
                positions.extend(
                    node.cursor(*key)
                        .take_while(|e| e.id <= end)
                        .filter(|e| e.id >= start && !e.is_deleted()),
                );
                for entry in positions.iter().rev() {
                    if sink.full() {
                        return emitted;
                    }
                    node.emit(entry, sink);
                    emitted += 1;
                    if emitted == limit {
                        return emitted;
                    }
                }
            }
            // Every earlier node holds only IDs below this node's key.
            if *key <= start {
                break;
            }
        }
        emitted
    }

    /// Sends entry `id` to `sink` if it exists and is not deleted; returns whether it did.
    pub fn get(&self, id: StreamId, sink: &mut dyn EntrySink) -> bool {
        let Some((key, node)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        if node.last < id {
            return false;
        }
        match node.find(*key, id) {
            Some(entry) if !entry.is_deleted() => {
                node.emit(&entry, sink);
                true
            }
            _ => false,
        }
    }

    /// Whether live entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        self.locate(id).is_some()
    }

    /// The node key and position of live entry `id`.
    pub(crate) fn locate(&self, id: StreamId) -> Option<(StreamId, EntryPos)> {
        let (key, node) = self.nodes.range(..=id).next_back()?;
        if node.last < id {
            return None;
        }
        node.find(*key, id)
            .filter(|e| !e.is_deleted())
            .map(|e| (*key, e))
    }

    /// Sends the first live entry to `sink`; false when the stream is empty.
    pub fn first_entry(&self, sink: &mut dyn EntrySink) -> bool {
        self.edge_entry(self.nodes.first_key_value(), Node::first_live, sink)
    }

    /// Sends the last live entry to `sink`; false when the stream is empty.
    pub fn last_entry(&self, sink: &mut dyn EntrySink) -> bool {
        self.edge_entry(self.nodes.last_key_value(), Node::last_live, sink)
    }

    fn edge_entry(
        &self,
        node: Option<(&StreamId, &Node)>,
        pick: fn(&Node, StreamId) -> Option<EntryPos>,
        sink: &mut dyn EntrySink,
    ) -> bool {
        let Some((key, node)) = node else {
            return false;
        };
        match pick(node, *key) {
            Some(entry) => {
                node.emit(&entry, sink);
                true
            }
            None => false,
        }
    }
}
