//! The pending entries list seen from the commands that read and shrink it: XPENDING (summary
//! and extended forms) and XACK.
//!
//! Costs stay flat as the PEL grows: the summary reads the PEL's two ends and each
//! consumer's set length, O(consumers + log n); the extended form is a range query,
//! O(log n + entries scanned); XACK is O(log n) per ID.

use crate::StreamId;
use crate::group::{ConsumerGroup, PendingEntry};

/// XPENDING's summary form: `[count, first, last, [[consumer, count], ...]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSummary<'a> {
    /// Entries in the PEL.
    pub count: usize,
    /// Smallest pending ID; `None` (nil) when the PEL is empty.
    pub first: Option<StreamId>,
    /// Greatest pending ID; `None` (nil) when the PEL is empty.
    pub last: Option<StreamId>,
    /// Consumers owning at least one entry, in name byte order, with their counts. Redis
    /// replies a nil array instead when the PEL is empty (this is then empty).
    pub consumers: Vec<(&'a [u8], usize)>,
}

/// XPENDING's extended form: `[IDLE min-idle] start end count [consumer]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingQuery<'a> {
    /// First ID, inclusive (the server applies `(` and `-`).
    pub start: StreamId,
    /// Last ID, inclusive.
    pub end: StreamId,
    /// At most this many entries (negative counts are 0 in Redis: the server clamps).
    pub count: usize,
    /// Only this consumer's entries; a consumer that does not exist matches nothing.
    pub consumer: Option<&'a [u8]>,
    /// `IDLE`: only entries idle at least this many ms; 0 = no filter. Signed as in Redis,
    /// which does not reject negative values.
    pub min_idle_ms: i64,
}

impl ConsumerGroup {
    /// XACK: removes the given IDs from the PEL and their owners' sets; returns how many were
    /// pending (duplicates count once). O(log n) per ID.
    pub fn ack(&mut self, ids: &[StreamId]) -> u64 {
        ids.iter()
            .filter(|&&id| self.remove_pending(id).is_some())
            .count() as u64
    }

    /// XPENDING `<key> <group>`: count, first and last IDs, and per-consumer counts, in
    /// O(consumers + log n) whatever the PEL size.
    pub fn pending_summary(&self) -> PendingSummary<'_> {
        PendingSummary {
            count: self.pel.len(),
            first: self.pel.first_key_value().map(|(id, _)| *id),
            last: self.pel.last_key_value().map(|(id, _)| *id),
            consumers: self
                .consumers()
                .filter(|c| c.pending_count() > 0)
                .map(|c| (c.name(), c.pending_count()))
                .collect(),
        }
    }

    /// XPENDING extended form: pending entries in `start..=end`, ascending, at most `count`,
    /// filtered by consumer and idle time (measured at `now_ms`, Unix ms). The reply shows
    /// each with [`PendingEntry::idle_ms`] and its delivery count.
    pub fn pending_range(&self, query: &PendingQuery<'_>, now_ms: u64) -> Vec<PendingEntry<'_>> {
        if query.count == 0 || query.start > query.end {
            return Vec::new();
        }
        let idle_ok = |e: &PendingEntry<'_>| {
            query.min_idle_ms == 0
                || i128::from(now_ms) - i128::from(e.delivery_time_ms)
                    >= i128::from(query.min_idle_ms)
        };
        let mut out = Vec::with_capacity(query.count.min(1024));
        match query.consumer {
            None => out.extend(
                self.pel_from(query.start)
                    .take_while(|(id, _)| *id <= query.end)
                    .map(|(id, p)| self.view(id, p))
                    .filter(idle_ok)
                    .take(query.count),
            ),
            Some(name) => {
                let Some(consumer) = self.consumer(name) else {
                    return out;
                };
                out.extend(
                    consumer
                        .pending
                        .range(query.start..=query.end)
                        .filter_map(|id| self.pel.get(id).map(|p| self.view(*id, p)))
                        .filter(idle_ok)
                        .take(query.count),
                );
            }
        }
        out
    }
}
