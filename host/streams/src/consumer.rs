//! Consumers of a group: [`Consumer`] (name, seen and active times, owned pending IDs, the
//! ones marked for redelivery) and
//! the group operations that create, find and delete them (XGROUP CREATECONSUMER /
//! DELCONSUMER, and the implicit creation by XREADGROUP, XCLAIM and XAUTOCLAIM).
//!
//! Times follow Redis 7.2: `seen_time` is set whenever a command names the consumer
//! (XREADGROUP, XCLAIM, XAUTOCLAIM, creation); `active_time` only when it actually gets
//! entries (a delivery or a successful claim), and is unset (-1 in XINFO) until then.

use std::collections::BTreeSet;

use crate::StreamId;
use crate::group::{ConsumerGroup, PendingEntry};

/// One consumer of a group.
#[derive(Clone, Debug)]
pub struct Consumer {
    pub(crate) name: Box<[u8]>,
    pub(crate) seen_time_ms: u64,
    pub(crate) active_time_ms: Option<u64>,
    /// IDs of the group PEL this consumer owns.
    pub(crate) pending: BTreeSet<StreamId>,
    /// The subset of `pending` marked for redelivery on its next `XREADGROUP … >`
    /// (`redeliver.rs`). Always a subset: every PEL change in `group.rs` clears marks.
    pub(crate) redeliver: BTreeSet<StreamId>,
}

impl Consumer {
    /// The consumer's name (any bytes).
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Entries it owns in the PEL (XINFO CONSUMERS `pending`, XPENDING summary). O(1).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Unix ms of the last command that named it (XINFO STREAM FULL `seen-time`).
    pub fn seen_time_ms(&self) -> u64 {
        self.seen_time_ms
    }

    /// Unix ms of its last successful read or claim; `None` if never (XINFO STREAM FULL
    /// `active-time` -1).
    pub fn active_time_ms(&self) -> Option<u64> {
        self.active_time_ms
    }

    /// XINFO CONSUMERS `idle`: ms since it was last seen, 0 if that lies in the future.
    pub fn idle_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.seen_time_ms)
    }

    /// XINFO CONSUMERS `inactive`: ms since it was last active, or -1 if never. Not clamped
    /// (Redis does not clamp it either).
    pub fn inactive_ms(&self, now_ms: u64) -> i64 {
        match self.active_time_ms {
            Some(t) => (i128::from(now_ms) - i128::from(t)) as i64,
            None => -1,
        }
    }

    /// IDs it owns, ascending.
    pub fn pending_ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.pending.iter().copied()
    }

    /// Pending entries it owns that are marked for redelivery on its next `XREADGROUP … >`.
    /// O(1).
    pub fn redeliver_count(&self) -> usize {
        self.redeliver.len()
    }

    /// The IDs marked for redelivery, ascending (the order `>` sends them in).
    pub fn redeliver_ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.redeliver.iter().copied()
    }
}

impl ConsumerGroup {
    /// Consumer `name`.
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        let slot = *self.by_name.get(name)?;
        self.slot(slot)
    }

    /// Consumers in name byte order (XINFO CONSUMERS, XINFO STREAM FULL, XPENDING summary).
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> {
        self.by_name.values().filter_map(|&slot| self.slot(slot))
    }

    /// Number of consumers (XINFO GROUPS `consumers`).
    pub fn consumer_count(&self) -> usize {
        self.by_name.len()
    }

    /// A consumer's pending entries in ID order with their delivery data (XINFO STREAM FULL
    /// per-consumer `pending`; take COUNT of them). O(log n) per entry.
    pub fn consumer_pending<'a>(
        &'a self,
        consumer: &'a Consumer,
    ) -> impl Iterator<Item = PendingEntry<'a>> + 'a {
        consumer
            .pending
            .iter()
            .filter_map(|id| self.pel.get(id).map(|p| self.view(*id, p)))
    }

    /// XGROUP CREATECONSUMER: creates consumer `name` (seen now, never active); false if it
    /// exists (the reply is 1 or 0).
    pub fn create_consumer(&mut self, name: &[u8], now_ms: u64) -> bool {
        if self.by_name.contains_key(name) {
            return false;
        }
        self.insert_consumer(name, now_ms);
        true
    }

    /// XGROUP DELCONSUMER: deletes consumer `name` and drops its pending entries (marked or
    /// not) from the group PEL. Returns how many it had (the reply), or `None` if there is no such
    /// consumer (the reply is then 0). O(k log n) for k pending entries.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<u64> {
        let slot = self.by_name.remove(name)?;
        let consumer = self.slots.get_mut(slot as usize)?.take()?;
        self.free_slots.push(slot);
        for id in &consumer.pending {
            self.pel.remove(id);
        }
        Some(consumer.pending.len() as u64)
    }

    /// The slot of consumer `name`, created if missing, marked seen at `now_ms`; and whether
    /// it was created (Redis then fires `xgroup-createconsumer`).
    pub(crate) fn touch_consumer(&mut self, name: &[u8], now_ms: u64) -> (u32, bool) {
        let (slot, created) = match self.by_name.get(name) {
            Some(&slot) => (slot, false),
            None => (self.insert_consumer(name, now_ms), true),
        };
        if let Some(consumer) = self.slot_mut(slot) {
            consumer.seen_time_ms = now_ms;
        }
        (slot, created)
    }

    pub(crate) fn insert_consumer(&mut self, name: &[u8], now_ms: u64) -> u32 {
        let consumer = Consumer {
            name: name.into(),
            seen_time_ms: now_ms,
            active_time_ms: None,
            pending: BTreeSet::new(),
            redeliver: BTreeSet::new(),
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(consumer);
                slot
            }
            None => {
                // u32 slots: four billion consumers in one group is far beyond any memory.
                let slot = self.slots.len() as u32;
                self.slots.push(Some(consumer));
                slot
            }
        };
        self.by_name.insert(name.into(), slot);
        slot
    }

    pub(crate) fn slot(&self, slot: u32) -> Option<&Consumer> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub(crate) fn slot_mut(&mut self, slot: u32) -> Option<&mut Consumer> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }
}
