//! [`Evaluation`]: what a claim policy is shown on each round — the stream, the group, its
//! pending entries ([`PendingEntry`], NACKed or not: [`Nack`]) and its consumers
//! ([`Consumer`]) — with friendly accessors.

use crate::EntryId;

/// One round of a claim policy: the pending entries of one consumer group and its consumers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    key: String,
    group: String,
    pending: Vec<PendingEntry>,
    consumers: Vec<Consumer>,
}

/// One pending entry: delivered to a consumer of the group and not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    index: u32,
    id: EntryId,
    owner: String,
    idle_ms: u64,
    deliveries: u64,
    nack: Option<Nack>,
}

/// How a pending entry was handed back to its group with `XNACK` (and not claimed since). A
/// NACKed entry belongs to no consumer (its owner is `""`); any consumer's claim takes it at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nack {
    /// `XNACK ... SILENT` or `FAIL`: the consumer could not process it now; retry it.
    Retry,
    /// `XNACK ... FATAL`: the consumer says it can never be processed (its delivery count is
    /// pinned to `i64::MAX`): a dead-letter candidate.
    Fatal,
}

/// One consumer of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    name: String,
    seen_idle_ms: u64,
    active_idle_ms: Option<u64>,
    pending: u64,
}

impl Evaluation {
    /// An evaluation of the group `group` of the stream `key` with no entries and no consumers
    /// yet: add them with [`Evaluation::with_pending`] and [`Evaluation::with_consumer`]. For
    /// unit tests of a policy; the SDK builds the real ones.
    pub fn new(key: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            group: group.into(),
            ..Self::default()
        }
    }

    /// Adds a pending entry (after the ones already added).
    pub fn with_pending(
        mut self,
        id: EntryId,
        owner: impl Into<String>,
        idle_ms: u64,
        deliveries: u64,
    ) -> Self {
        self.push_pending(id, owner.into(), idle_ms, deliveries, None);
        self
    }

    /// Adds a pending entry NACKed with `nack` (owned by no consumer: owner `""`).
    pub fn with_nacked(mut self, id: EntryId, idle_ms: u64, deliveries: u64, nack: Nack) -> Self {
        self.push_pending(id, String::new(), idle_ms, deliveries, Some(nack));
        self
    }

    /// Adds a consumer.
    pub fn with_consumer(
        mut self,
        name: impl Into<String>,
        seen_idle_ms: u64,
        active_idle_ms: Option<u64>,
        pending: u64,
    ) -> Self {
        self.consumers.push(Consumer {
            name: name.into(),
            seen_idle_ms,
            active_idle_ms,
            pending,
        });
        self
    }

    pub(crate) fn push_pending(
        &mut self,
        id: EntryId,
        owner: String,
        idle_ms: u64,
        deliveries: u64,
        nack: Option<Nack>,
    ) {
        // The host passes a bounded list, far below u32::MAX entries.
        let index = u32::try_from(self.pending.len()).unwrap_or(u32::MAX);
        self.pending.push(PendingEntry {
            index,
            id,
            owner,
            idle_ms,
            deliveries,
            nack,
        });
    }

    /// The stream's key (`"orders"`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The consumer group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The pending entries shown this round, oldest first. The broker shows a bounded number per
    /// round; the others come in a later one.
    pub fn pending(&self) -> std::slice::Iter<'_, PendingEntry> {
        self.pending.iter()
    }

    /// The pending entry at `index` (its position in [`Evaluation::pending`]).
    pub fn entry(&self, index: u32) -> Option<&PendingEntry> {
        self.pending.get(index as usize)
    }

    /// Every consumer of the group.
    pub fn consumers(&self) -> std::slice::Iter<'_, Consumer> {
        self.consumers.iter()
    }

    /// The consumer named `name`, if the group has it.
    pub fn consumer(&self, name: &str) -> Option<&Consumer> {
        self.consumers.iter().find(|c| c.name == name)
    }
}

impl PendingEntry {
    /// Position of the entry in [`Evaluation::pending`], from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The entry's ID in the stream.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// The consumer that owns it (it was last delivered to); `""` when it is NACKed.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Milliseconds since it was last delivered.
    pub fn idle_ms(&self) -> u64 {
        self.idle_ms
    }

    /// How many times it was delivered (1 after the first read).
    pub fn deliveries(&self) -> u64 {
        self.deliveries
    }

    /// Whether, and how, a consumer handed it back with `XNACK` (`None` on a broker older than
    /// WIT 0.1.1, which cannot tell).
    pub fn nack(&self) -> Option<Nack> {
        self.nack
    }
}

impl Consumer {
    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Milliseconds since it last tried to read or claim (Redis's `idle`): how alive it is.
    pub fn seen_idle_ms(&self) -> u64 {
        self.seen_idle_ms
    }

    /// Milliseconds since it last read or claimed an entry (Redis's `inactive`); `None` if it
    /// never did.
    pub fn active_idle_ms(&self) -> Option<u64> {
        self.active_idle_ms
    }

    /// How many pending entries it owns in the group (not only those shown this round).
    pub fn pending(&self) -> u64 {
        self.pending
    }
}
