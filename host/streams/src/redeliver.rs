//! Reassignment with redelivery: a claim policy moves a stuck pending entry to another
//! consumer ([`ConsumerGroup::reassign`]), and that consumer's next `XREADGROUP … >` delivers
//! it again before any new entry, counting the delivery.
//!
//! Each consumer keeps `redeliver`, the subset of its pending IDs marked for redelivery
//! (`consumer.rs`). A mark lives until the entry is delivered again — by a `>` read, by a
//! history read that sends it, or by a claim (XCLAIM / XAUTOCLAIM, even by the same owner) —
//! or until the entry leaves the PEL (XACK, a claim finding it deleted, XGROUP DELCONSUMER or
//! DESTROY). `group.rs` clears marks on every PEL change, so the subset invariant holds
//! whichever command changes the PEL. Deleting an entry's data (XDEL, XTRIM) keeps the mark,
//! as it keeps the PEL entry; the next `>` read drops it unsent.
//!
//! Costs: marking, reassigning and checking are O(log n); a `>` read pays O(log n) per marked
//! entry it sends or drops, and nothing when the consumer has no marks.

use crate::group::ConsumerGroup;
use crate::nack::one_more_delivery;
use crate::sink::EntrySink;
use crate::{Stream, StreamError, StreamId};

impl ConsumerGroup {
    /// Moves pending entry `id` to `consumer` and marks it for redelivery there: the
    /// consumer's next `XREADGROUP … >` sends it before new entries. The consumer is created
    /// if missing (as XCLAIM creates it) and marked seen at `now_ms` (Unix ms); the entry's
    /// delivery time becomes `now_ms` (its idle time restarts) and its delivery count stays
    /// (the redelivery adds one). Reassigning to the current owner only marks it and restarts
    /// its idle time. Returns whether the consumer was created (the server then logs an
    /// `XGROUP CREATECONSUMER`). Error: [`StreamError::NotPending`] if the PEL does not hold
    /// `id`; nothing changes then. O(log n).
    pub fn reassign(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        now_ms: u64,
    ) -> Result<bool, StreamError> {
        if !self.pel.contains_key(&id) {
            return Err(StreamError::NotPending);
        }
        let (owner, created) = self.touch_consumer(consumer, now_ms);
        self.transfer(id, owner);
        if let Some(p) = self.pel.get_mut(&id) {
            p.delivery_time_ms = now_ms;
        }
        if let Some(c) = self.slot_mut(owner) {
            c.redeliver.insert(id);
        }
        Ok(created)
    }

    /// Marks the pending entries `ids` for redelivery to their current owners; IDs the PEL
    /// does not hold are ignored. Changes nothing else (owner, time, count): this is how the
    /// server replays marks from its log after the entries' pending state. O(log n) per ID.
    pub fn mark_redeliver(&mut self, ids: &[StreamId]) {
        for &id in ids {
            let Some(owner) = self.pel.get(&id).map(|p| p.owner) else {
                continue;
            };
            if let Some(c) = self.slot_mut(owner) {
                c.redeliver.insert(id);
            }
        }
    }

    /// Whether pending entry `id` is marked for redelivery to its owner (false if it is not
    /// pending). O(log n).
    pub fn is_marked_for_redelivery(&self, id: StreamId) -> bool {
        self.pel
            .get(&id)
            .and_then(|p| self.slot(p.owner))
            .is_some_and(|c| c.redeliver.contains(&id))
    }
}

impl Stream {
    /// Whether `XREADGROUP GROUP <group> <consumer> … >` has something to deliver now: an
    /// undelivered entry ([`Stream::has_undelivered`]) or an entry marked for redelivery to
    /// `consumer` whose data still exists. What a blocked `>` read should wait on. O(log n),
    /// plus O(log n) per marked entry whose data was deleted (the next read drops those).
    pub fn has_undelivered_for(&self, group: &ConsumerGroup, consumer: &[u8]) -> bool {
        self.has_undelivered(group)
            || group
                .consumer(consumer)
                .is_some_and(|c| c.redeliver.iter().any(|&id| self.contains(id)))
    }
}

/// What the redelivery step of a `>` read did.
#[derive(Debug, Default)]
pub(crate) struct Redelivered {
    /// Marked entries sent, ascending.
    pub(crate) sent: Vec<StreamId>,
    /// Marked entries whose data was deleted: unmarked, not sent, still pending.
    pub(crate) skipped_deleted: Vec<StreamId>,
}

/// The first step of `XREADGROUP … >` for consumer `owner`: sends its marked entries to
/// `sink`, ascending, at most `limit` of them; each sent one gets delivery count + 1 and
/// delivery time `now_ms`. Every mark examined is cleared. Deleted entries do not count
/// towards `limit`.
pub(crate) fn send_marked(
    stream: &Stream,
    group: &mut ConsumerGroup,
    owner: u32,
    limit: usize,
    now_ms: u64,
    sink: &mut dyn EntrySink,
) -> Redelivered {
    let mut out = Redelivered::default();
    while out.sent.len() < limit && !sink.full() {
        let Some(id) = group.slot_mut(owner).and_then(|c| c.redeliver.pop_first()) else {
            break;
        };
        if !stream.get(id, sink) {
            out.skipped_deleted.push(id);
            continue;
        }
        if let Some(p) = group.pel.get_mut(&id) {
            sink.delivery_meta(now_ms.saturating_sub(p.delivery_time_ms), p.delivery_count);
            p.delivery_time_ms = now_ms;
            p.delivery_count = one_more_delivery(p.delivery_count);
        }
        out.sent.push(id);
    }
    out
}
