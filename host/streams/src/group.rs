//! Consumer groups: [`ConsumerGroup`], its pending entries list (PEL), and a stream's group
//! registry (XGROUP CREATE / SETID / DESTROY).
//!
//! A group keeps one PEL ordered by entry ID — what XPENDING, XCLAIM, XAUTOCLAIM, XACK and
//! XINFO search — and each consumer keeps the ordered set of IDs it owns (`consumer.rs`), so
//! per-consumer counts are set lengths and a consumer's history is a range query. A pending
//! entry names its owner by slot in the group's consumer slab: the PEL value stays 24 bytes
//! and moving an entry between consumers touches no strings. Every PEL change goes through
//! [`ConsumerGroup::assign`] / `transfer` / `remove_pending`, which keep both sides equal and
//! keep each consumer's redelivery marks (`redeliver.rs`) a subset of its pending IDs: any of
//! them clears the entry's mark, since each is a delivery, a claim or a removal.

use std::collections::{BTreeMap, BTreeSet};
use std::mem::size_of;

use crate::consumer::Consumer;
use crate::nack::NackQueue;
use crate::{Stream, StreamError, StreamId};

/// One pending (delivered, not yet acknowledged) entry as stored in the group PEL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Slot of the owning consumer in [`ConsumerGroup::slots`].
    pub(crate) owner: u32,
    /// Unix ms of the last delivery (or the time XCLAIM IDLE/TIME set).
    pub(crate) delivery_time_ms: u64,
    /// Times delivered (XPENDING's fourth column).
    pub(crate) delivery_count: u64,
}

/// A pending entry as the server sees it (XPENDING extended form, XINFO STREAM FULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingEntry<'a> {
    /// The entry's ID (`"<ms>-<seq>"`).
    pub id: StreamId,
    /// Name of the consumer that owns it.
    pub consumer: &'a [u8],
    /// Unix time of the last delivery, in ms.
    pub delivery_time_ms: u64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

impl PendingEntry<'_> {
    /// Milliseconds since the last delivery, 0 if that lies in the future (XPENDING's idle).
    pub fn idle_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.delivery_time_ms)
    }
}

/// A consumer group: its position in the stream, its pending entries and its consumers.
#[derive(Clone, Debug, Default)]
pub struct ConsumerGroup {
    /// Last ID delivered by `XREADGROUP ... >` (or set by CREATE / SETID / XCLAIM LASTID).
    pub(crate) last_delivered_id: StreamId,
    /// Logical read counter of `last_delivered_id`; `None` = unknown (Redis's -1).
    pub(crate) entries_read: Option<u64>,
    /// The group PEL: every delivered, unacknowledged entry, by ID.
    pub(crate) pel: BTreeMap<StreamId, Pending>,
    /// Consumers by slot; `None` marks a free slot (listed in `free_slots`).
    pub(crate) slots: Vec<Option<Consumer>>,
    pub(crate) free_slots: Vec<u32>,
    /// Consumer name → slot, in byte order (the order XINFO CONSUMERS lists them).
    pub(crate) by_name: BTreeMap<Box<[u8]>, u32>,
    /// PEL entries released by XNACK (`nack.rs`): owned by no consumer ([`UNOWNED`]) and
    /// claimable at once, in NACK order. Always a subset of the PEL; every PEL change below
    /// keeps it so.
    pub(crate) nacked: NackQueue,
}

/// The owner slot of a NACKed pending entry: no consumer (XPENDING shows `""`).
pub(crate) const UNOWNED: u32 = u32::MAX;

impl ConsumerGroup {
    /// A group positioned at `last_id` with read counter `entries_read`, no consumers.
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Self {
        ConsumerGroup {
            last_delivered_id: last_id,
            entries_read,
            ..ConsumerGroup::default()
        }
    }

    /// The last delivered ID (XINFO GROUPS `last-delivered-id`).
    pub fn last_delivered_id(&self) -> StreamId {
        self.last_delivered_id
    }

    /// The group's logical read counter (XINFO GROUPS `entries-read`); `None` = nil.
    pub fn entries_read(&self) -> Option<u64> {
        self.entries_read
    }

    /// XGROUP SETID: moves the group to `id` (the server resolves `$` to
    /// [`Stream::last_id`]) and sets the read counter (`ENTRIESREAD`, `None` when absent or
    /// -1). Pending entries are kept, as in Redis.
    pub fn set_id(&mut self, id: StreamId, entries_read: Option<u64>) {
        self.last_delivered_id = id;
        self.entries_read = entries_read;
    }

    /// Entries in the PEL (XINFO GROUPS `pending`, XPENDING's count). O(1).
    pub fn pending_count(&self) -> usize {
        self.pel.len()
    }

    /// The pending entry `id`, if any.
    pub fn pending_entry(&self, id: StreamId) -> Option<PendingEntry<'_>> {
        self.pel.get(&id).map(|p| self.view(id, p))
    }

    /// All pending entries in ID order (XINFO STREAM FULL `pending`; take COUNT of them).
    pub fn pending_entries(&self) -> impl Iterator<Item = PendingEntry<'_>> {
        self.pel_from(StreamId::MIN).map(|(id, p)| self.view(id, p))
    }

    /// The public view of a stored PEL value.
    pub(crate) fn view(&self, id: StreamId, p: &Pending) -> PendingEntry<'_> {
        PendingEntry {
            id,
            consumer: self.slot(p.owner).map_or(&[][..], Consumer::name),
            delivery_time_ms: p.delivery_time_ms,
            delivery_count: p.delivery_count,
        }
    }

    /// PEL entries with ID `>= start`, in order. Every walk over the PEL goes through here so
    /// tests can count the steps (see `tests::groups_scale`).
    pub(crate) fn pel_from(&self, start: StreamId) -> impl Iterator<Item = (StreamId, &Pending)> {
        self.pel.range(start..).map(|(id, p)| {
            #[cfg(test)]
            crate::tests::pel_step();
            (*id, p)
        })
    }

    /// Gives entry `id` to consumer `owner` as a fresh delivery (count 1, time `now_ms`),
    /// taking it from its previous owner if it was pending already — what XREADGROUP does
    /// when it delivers an ID the PEL holds (possible after XGROUP SETID moved back). A
    /// redelivery mark or NACK on it is dropped: this is its delivery.
    pub(crate) fn assign(&mut self, id: StreamId, owner: u32, now_ms: u64) {
        let fresh = Pending {
            owner,
            delivery_time_ms: now_ms,
            delivery_count: 1,
        };
        let old = self.pel.insert(id, fresh);
        if old.is_some() {
            self.nacked.remove(id);
        }
        if let Some(old) = old
            && let Some(prev) = self.slot_mut(old.owner)
        {
            prev.redeliver.remove(&id);
            if old.owner != owner {
                prev.pending.remove(&id);
            }
        }
        if let Some(consumer) = self.slot_mut(owner) {
            consumer.pending.insert(id);
        }
    }

    /// Moves pending entry `id` to consumer `owner`, keeping its delivery data. Its
    /// redelivery mark is dropped even when the owner stays: a transfer is a claim, which
    /// hands the entry over (`reassign` marks it again afterwards). O(log n).
    pub(crate) fn transfer(&mut self, id: StreamId, owner: u32) {
        let Some(p) = self.pel.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut p.owner, owner);
        self.nacked.remove(id);
        if let Some(prev) = self.slot_mut(old) {
            prev.redeliver.remove(&id);
            if old == owner {
                return;
            }
            prev.pending.remove(&id);
        }
        if let Some(consumer) = self.slot_mut(owner) {
            consumer.pending.insert(id);
        }
    }

    /// Removes `id` from the PEL and from its owner's sets. O(log n).
    pub(crate) fn remove_pending(&mut self, id: StreamId) -> Option<Pending> {
        let p = self.pel.remove(&id)?;
        self.nacked.remove(id);
        if let Some(owner) = self.slot_mut(p.owner) {
            owner.pending.remove(&id);
            owner.redeliver.remove(&id);
        }
        Some(p)
    }

    /// Approximate heap bytes: PEL and consumer sets, redelivery marks included (B-tree
    /// slots counted about twice, as for the stream's nodes), plus names.
    pub(crate) fn memory_usage(&self) -> usize {
        let pel = 2 * self.pel.len() * (size_of::<StreamId>() + size_of::<Pending>())
            + 4 * self.nacked.len() * (size_of::<StreamId>() + size_of::<u64>());
        let consumers: usize = self
            .consumers()
            .map(|c| {
                2 * (c.pending.len() + c.redeliver.len()) * size_of::<StreamId>()
                    + 2 * c.name().len()
                    + size_of::<Consumer>()
                    + 2 * size_of::<BTreeSet<StreamId>>()
            })
            .sum();
        size_of::<ConsumerGroup>() + pel + consumers
    }
}

impl Stream {
    /// XGROUP CREATE: adds group `name` positioned at `last_id` (the server resolves `$` to
    /// [`Stream::last_id`], or `0-0` for a stream MKSTREAM just made) with read counter
    /// `entries_read` (`ENTRIESREAD`; `None` when absent or -1).
    /// Error: [`StreamError::BusyGroup`] if the name is taken.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> Result<(), StreamError> {
        if self.groups.contains_key(name) {
            return Err(StreamError::BusyGroup);
        }
        self.groups
            .insert(name.into(), ConsumerGroup::new(last_id, entries_read));
        Ok(())
    }

    /// XGROUP DESTROY: removes group `name` with its consumers, PEL and redelivery marks;
    /// whether it existed (the reply is 1 or 0; blocked XREADGROUP clients should then get
    /// NOGROUP).
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Group `name` (XINFO CONSUMERS, XPENDING, XACK look it up here).
    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.get(name)
    }

    /// Group `name`, mutable (XGROUP SETID / CREATECONSUMER / DELCONSUMER, XACK).
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.get_mut(name)
    }

    /// All groups with their names, in name byte order (XINFO GROUPS, XINFO STREAM FULL).
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &ConsumerGroup)> {
        self.groups.iter().map(|(name, g)| (&name[..], g))
    }

    /// Number of groups (XINFO STREAM `groups`).
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Runs `f` with group `name` borrowed mutably next to the stream's entries.
    /// The group map is moved out for the call (moving an empty `BTreeMap` in is free), so
    /// inside `f` the stream looks groupless; `f` must only read entries.
    pub(crate) fn with_group<R>(
        &mut self,
        name: &[u8],
        f: impl FnOnce(&Stream, &mut ConsumerGroup) -> R,
    ) -> Result<R, StreamError> {
        let mut groups = std::mem::take(&mut self.groups);
        let result = match groups.get_mut(name) {
            Some(group) => Ok(f(self, group)),
            None => Err(StreamError::NoGroup),
        };
        self.groups = groups;
        result
    }
}
