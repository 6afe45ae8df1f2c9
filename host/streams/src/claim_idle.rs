//! The claim phase of `XREADGROUP … CLAIM <min-idle-time> … >` (Redis 8.4): before new
//! entries, the reader takes over the group's pending entries that wait for a consumer —
//! NACKed ones first (`nack.rs`, in NACK order), then those idle at least min-idle-time,
//! longest idle first (ties by ID) — within what is left of COUNT.
//!
//! Each claimed entry moves to the reader with delivery time now and delivery count + 1, and
//! the sink gets its previous idle time and count ([`EntrySink::delivery_meta`]); NOACK does
//! not apply (it is pending already). An entry whose data was deleted is dropped from the
//! PEL, as XAUTOCLAIM does, and does not count. An entry a claim policy reassigned (marked
//! for redelivery, `redeliver.rs`) is its new owner's to receive: this phase skips it.
//!
//! Costs: the NACKed entries are a queue walk; idle entries need the PEL ordered by delivery
//! time, which the group does not index, so the phase scans the PEL once and selects the k it
//! can send, O(n + k log k) for n pending entries (`next_claimable_at` likewise, O(n)). An
//! index by delivery time would make it O(k) at the price of a second tree per group updated
//! on every delivery and ack, the hot path; the benchmark's `xreadgroup claim` row measures
//! the scan against Redis 7's XAUTOCLAIM + XREADGROUP pair.

use crate::group::{ConsumerGroup, Pending};
use crate::nack::one_more_delivery;
use crate::sink::EntrySink;
use crate::{Stream, StreamId};

/// What the claim phase did.
#[derive(Debug, Default)]
pub(crate) struct ClaimedIdle {
    /// Entries claimed and sent, in reply order.
    pub(crate) sent: Vec<StreamId>,
    /// Pending entries found deleted: dropped from the PEL.
    pub(crate) dropped: Vec<StreamId>,
}

/// Whether `p` (entry `id`) waits for any consumer at `now_ms`: NACKed, or idle at least
/// `min_idle_ms` and not marked for redelivery to its owner.
fn waiting(
    group: &ConsumerGroup,
    id: StreamId,
    p: &Pending,
    min_idle_ms: u64,
    now_ms: u64,
) -> bool {
    group.nacked.contains(id) || idle_and_unmarked(group, id, p, min_idle_ms, now_ms)
}

/// Whether `p` (entry `id`) is idle at least `min_idle_ms` at `now_ms` and not marked for
/// redelivery to its owner; the cheap test first, as the claim phase runs it on every
/// pending entry.
fn idle_and_unmarked(
    group: &ConsumerGroup,
    id: StreamId,
    p: &Pending,
    min_idle_ms: u64,
    now_ms: u64,
) -> bool {
    now_ms.saturating_sub(p.delivery_time_ms) >= min_idle_ms
        && !group
            .slot(p.owner)
            .is_some_and(|c| !c.redeliver.is_empty() && c.redeliver.contains(&id))
}

/// The claim phase for consumer slot `owner`: at most `limit` entries to `sink`, none of
/// `already_sent` (the redeliveries this read made first, ascending).
#[allow(clippy::too_many_arguments)]
pub(crate) fn claim_idle(
    stream: &Stream,
    group: &mut ConsumerGroup,
    owner: u32,
    min_idle_ms: u64,
    limit: usize,
    already_sent: &[StreamId],
    now_ms: u64,
    sink: &mut dyn EntrySink,
) -> ClaimedIdle {
    let mut out = ClaimedIdle::default();
    if limit == 0 {
        return out;
    }
    let mut idle: Vec<(u64, StreamId)> = group
        .pel_from(StreamId::MIN)
        .filter(|&(id, p)| {
            idle_and_unmarked(group, id, p, min_idle_ms, now_ms)
                && (group.nacked.is_empty() || !group.nacked.contains(id))
                && (already_sent.is_empty() || already_sent.binary_search(&id).is_err())
        })
        .map(|(id, p)| (p.delivery_time_ms, id))
        .collect();
    // Only the `limit` longest idle can be sent: select them (O(n)), then order those.
    if idle.len() > limit {
        idle.select_nth_unstable(limit);
        idle.truncate(limit);
    }
    idle.sort_unstable();
    let nacked: Vec<StreamId> = group.nacked.iter().collect();
    let candidates = nacked.into_iter().chain(idle.into_iter().map(|(_, id)| id));
    for id in candidates {
        if out.sent.len() >= limit || sink.full() {
            break;
        }
        if !stream.contains(id) {
            group.remove_pending(id);
            out.dropped.push(id);
            continue;
        }
        let Some(p) = group.pel.get(&id).copied() else {
            continue;
        };
        group.transfer(id, owner);
        if let Some(p) = group.pel.get_mut(&id) {
            p.delivery_time_ms = now_ms;
            p.delivery_count = one_more_delivery(p.delivery_count);
        }
        stream.get(id, sink);
        sink.delivery_meta(now_ms.saturating_sub(p.delivery_time_ms), p.delivery_count);
        out.sent.push(id);
    }
    out
}

impl Stream {
    /// Whether `XREADGROUP … CLAIM <min_idle_ms> … >` on `group` would claim something at
    /// `now_ms`: a NACKed entry, or one idle long enough (see the module docs). What a
    /// blocked CLAIM reader waits on besides new entries. O(n).
    pub fn has_claimable(&self, group: &ConsumerGroup, min_idle_ms: u64, now_ms: u64) -> bool {
        group
            .pel_from(StreamId::MIN)
            .any(|(id, p)| waiting(group, id, p, min_idle_ms, now_ms) && self.contains(id))
    }
}

impl ConsumerGroup {
    /// When, in Unix ms, the first pending entry not yet claimable by `XREADGROUP … CLAIM
    /// <min_idle_ms>` becomes idle enough; `None` if there is none. A blocked CLAIM reader
    /// sets its wake-up timer from it, since no write marks the key ready then. O(n).
    pub fn next_claimable_at(&self, min_idle_ms: u64) -> Option<u64> {
        self.pel_from(StreamId::MIN)
            .filter(|(id, p)| {
                !self.nacked.contains(*id)
                    && !self.slot(p.owner).is_some_and(|c| c.redeliver.contains(id))
            })
            .map(|(_, p)| p.delivery_time_ms.saturating_add(min_idle_ms))
            .min()
    }
}
