//! Entries copied out of a stream as their packed nodes, to be read with no lock held.
//!
//! A reader that must not hold up the stream's writers (a route reading its batch while
//! clients append to the source) copies the few nodes it needs, one `memcpy` each, and
//! decodes them after letting the stream go: the decoding, most of a read's time, no longer
//! happens under the stream's lock.

use std::ops::Bound::{Excluded, Unbounded};

use crate::node::Node;
use crate::sink::EntrySink;
use crate::{Stream, StreamId};

/// Nodes copied from a stream by [`Stream::copy_after`]; the buffers are kept for the next
/// copy.
#[derive(Debug, Default)]
pub struct NodeCopy {
    /// Each copied node with its key (master ID); only the first `used` are this copy's.
    nodes: Vec<(StreamId, Node)>,
    used: usize,
}

impl Stream {
    /// Copies into `into` the nodes holding the live entries after `after` (exclusive), until
    /// they hold at least `count` of them (whole nodes, so possibly more): what
    /// [`NodeCopy::range`] then reads.
    pub fn copy_after(&self, after: StreamId, count: usize, into: &mut NodeCopy) {
        into.used = 0;
        let Some(start) = after.incr() else {
            return;
        };
        // The node holding `start` is the last one keyed at or below it; later nodes follow.
        let holder = self.nodes.range(..=start).next_back();
        let later = self.nodes.range((Excluded(start), Unbounded));
        let mut live = 0usize;
        for (key, node) in holder.into_iter().chain(later) {
            if node.last < start {
                continue;
            }
            match into.nodes.get_mut(into.used) {
                Some((k, copy)) => {
                    *k = *key;
                    copy.copy_from(node);
                }
                None => into.nodes.push((*key, node.clone())),
            }
            into.used += 1;
            live += if *key < start {
                // The node holding `start`: only its entries from `start` on count.
                node.cursor(*key)
                    .filter(|e| e.id >= start && !e.is_deleted())
                    .count()
            } else {
                node.live as usize
            };
            if live >= count {
                break;
            }
        }
    }
}

impl NodeCopy {
    /// Sends to `sink` up to `count` live entries after `after` (exclusive), in ID order, as
    /// [`Stream::range`] would have when the copy was made; returns how many.
    pub fn range(&self, after: StreamId, count: usize, sink: &mut dyn EntrySink) -> usize {
        let Some(start) = after.incr() else {
            return 0;
        };
        let mut emitted = 0;
        for (key, node) in self.nodes.iter().take(self.used) {
            for entry in node.cursor(*key) {
                if entry.id < start || entry.is_deleted() {
                    continue;
                }
                if emitted == count || sink.full() {
                    return emitted;
                }
                node.emit(&entry, sink);
                emitted += 1;
            }
        }
        emitted
    }
}
