//! XNACK (Redis 8.8): a consumer hands pending entries back to its group without
//! acknowledging them ([`ConsumerGroup::nack`]).
//!
//! A NACKed entry stays in the PEL but belongs to no consumer (owner [`UNOWNED`], shown as
//! `""` by XPENDING) and sits in the group's `nacked` set: XCLAIM, XAUTOCLAIM and
//! `XREADGROUP … CLAIM` take it whatever its idle time, before any merely idle entry. The
//! mode adjusts its delivery count: `SILENT` takes back the last delivery (not below 0),
//! `FAIL` keeps it, `FATAL` pins it to `i64::MAX` so claim policies and clients can tell a
//! poison entry apart. `RETRYCOUNT` sets the count outright; `FORCE` creates the NACKed PEL
//! entry for an ID that exists in the stream but is not pending (what Redis's AOF rewrite
//! and Sluice's log replay rely on).
//!
//! NACKed entries are claimed in the order they were NACKed (a FIFO, [`NackQueue`]), as
//! Redis 8.8 does; NACKing a NACKed entry again moves it to the back. Snapshots keep the set,
//! not the order: after a restart from a snapshot they are claimed in ID order (a restart
//! replaying the log keeps the order, the XNACKs being replayed in turn).
//!
//! Costs: O(log n) per ID. Any claim of the entry (`transfer`, `assign`) or its removal
//! clears the NACK (`group.rs`).

use std::collections::BTreeMap;

use crate::group::{ConsumerGroup, Pending, UNOWNED};
use crate::{Stream, StreamError, StreamId};

/// The delivery count a `FATAL` NACK sets (Redis's `LLONG_MAX`).
pub const FATAL_DELIVERY_COUNT: u64 = i64::MAX as u64;

/// `count` after one more delivery: a `FATAL` count stays pinned, whoever delivers the entry
/// again (XCLAIM, XAUTOCLAIM, `XREADGROUP … CLAIM`, a redelivery), as in Redis 8.8.
pub(crate) fn one_more_delivery(count: u64) -> u64 {
    if count >= FATAL_DELIVERY_COUNT {
        FATAL_DELIVERY_COUNT
    } else {
        count + 1
    }
}

/// How XNACK adjusts the delivery count of each entry it releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NackMode {
    /// `SILENT`: the delivery did not count; count − 1, not below 0.
    Silent,
    /// `FAIL`: the consumer failed it; count unchanged.
    Fail,
    /// `FATAL`: never deliverable; count = [`FATAL_DELIVERY_COUNT`].
    Fatal,
}

/// XNACK's options after the IDs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NackOptions {
    /// `RETRYCOUNT`: the delivery count to set instead of the mode's adjustment.
    pub retry_count: Option<u64>,
    /// `FORCE`: NACK IDs that exist in the stream but are not pending (new PEL entries).
    pub force: bool,
}

impl ConsumerGroup {
    /// XNACK `ids` with `mode` at `now_ms`: each pending one (NACKed already or not) leaves
    /// its owner and becomes NACKed with its count adjusted; with FORCE, an ID of a live
    /// entry (`exists`) that is not pending becomes a NACKed PEL entry (count 0 before the
    /// adjustment, delivery time `now_ms`). Other IDs are skipped. Returns how many were
    /// released (the reply); duplicates count each time.
    pub fn nack(
        &mut self,
        ids: &[StreamId],
        mode: NackMode,
        opts: NackOptions,
        now_ms: u64,
        exists: impl Fn(StreamId) -> bool,
    ) -> u64 {
        let mut released = 0;
        for &id in ids {
            let count = match self.pel.get(&id) {
                Some(p) => p.delivery_count,
                None if opts.force && exists(id) => {
                    self.pel.insert(
                        id,
                        Pending {
                            owner: UNOWNED,
                            delivery_time_ms: now_ms,
                            delivery_count: 0,
                        },
                    );
                    0
                }
                None => continue,
            };
            self.release(id);
            let count = opts.retry_count.unwrap_or(match mode {
                NackMode::Silent => count.saturating_sub(1),
                NackMode::Fail => count,
                NackMode::Fatal => FATAL_DELIVERY_COUNT,
            });
            if let Some(p) = self.pel.get_mut(&id) {
                p.delivery_count = count;
            }
            self.nacked.push(id);
            released += 1;
        }
        released
    }

    /// Takes pending entry `id` from its owner (its redelivery mark with it): it becomes
    /// [`UNOWNED`].
    fn release(&mut self, id: StreamId) {
        let Some(p) = self.pel.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut p.owner, UNOWNED);
        if let Some(prev) = self.slot_mut(old) {
            prev.pending.remove(&id);
            prev.redeliver.remove(&id);
        }
    }

    /// Pending entries NACKed and not claimed since (XINFO STREAM FULL `nacked-count`). O(1).
    pub fn nacked_count(&self) -> usize {
        self.nacked.len()
    }

    /// Whether pending entry `id` is NACKed. O(log n).
    pub fn is_nacked(&self, id: StreamId) -> bool {
        self.nacked.contains(id)
    }

    /// The NACKed IDs, in the order they were NACKed (the order claims take them in).
    pub fn nacked_ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.nacked.iter()
    }
}

/// A group's NACKed IDs in NACK order: a FIFO with O(log n) removal from anywhere (a claim
/// or an ack takes an entry out of the middle).
#[derive(Clone, Debug, Default)]
pub(crate) struct NackQueue {
    /// Turn → ID, oldest NACK first.
    by_turn: BTreeMap<u64, StreamId>,
    /// ID → its turn.
    turn_of: BTreeMap<StreamId, u64>,
    next_turn: u64,
}

impl NackQueue {
    /// Puts `id` at the back (moving it there if it was queued already).
    pub(crate) fn push(&mut self, id: StreamId) {
        self.remove(id);
        self.by_turn.insert(self.next_turn, id);
        self.turn_of.insert(id, self.next_turn);
        self.next_turn += 1;
    }

    /// Takes `id` out; whether it was there.
    pub(crate) fn remove(&mut self, id: StreamId) -> bool {
        match self.turn_of.remove(&id) {
            Some(turn) => {
                self.by_turn.remove(&turn);
                true
            }
            None => false,
        }
    }

    pub(crate) fn contains(&self, id: StreamId) -> bool {
        self.turn_of.contains_key(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.turn_of.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.turn_of.is_empty()
    }

    /// Oldest NACK first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.by_turn.values().copied()
    }

    /// Ascending IDs (what snapshots write).
    pub(crate) fn ids_ascending(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.turn_of.keys().copied()
    }
}

impl Stream {
    /// XNACK on group `group`; see [`ConsumerGroup::nack`].
    /// Error: [`StreamError::NoGroup`].
    pub fn nack(
        &mut self,
        group: &[u8],
        ids: &[StreamId],
        mode: NackMode,
        opts: NackOptions,
        now_ms: u64,
    ) -> Result<u64, StreamError> {
        self.with_group(group, |stream, group| {
            group.nack(ids, mode, opts, now_ms, |id| stream.contains(id))
        })
    }
}
