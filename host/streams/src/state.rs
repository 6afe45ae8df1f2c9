//! A stream's whole state as plain owned values, both ways: [`Stream::export`] and
//! [`Stream::from_state`] ([`StreamState`], [`StateError`]).
//!
//! Converters to other formats (Redis's DUMP payload in `sluice-rdb`) go through this instead
//! of the engine's internals, which they must not depend on: the packed node layout, the
//! consumer slab, the PEL's owner slots. The shape follows what a stream is to a client —
//! entries, counters, groups, their pending entries and consumers — and what Redis stores:
//! the group lists its pending entries with their delivery data, and each consumer lists the
//! IDs it owns. Deleted entries are not part of the state (only the counters remember them).
//!
//! [`Stream::from_state`] treats its input as untrusted and checks everything the engine's
//! later reads rely on (ordered entries, a last ID no entry exceeds, one owner per pending
//! entry, ...); counters without structural meaning (`entries_added`,
//! `max_deleted_entry_id`, `entries_read`, times, delivery counts) are taken as given, as
//! `persist/` does for snapshots.

use std::collections::BTreeMap;

use thiserror::Error;

// `UNOWNED`: a pending entry no consumer has claimed yet while building a group, and a
// NACKed entry once built.
use crate::group::{ConsumerGroup, Pending, UNOWNED};
use crate::sink::EntrySink;
use crate::{AddId, NodeLimits, Stream, StreamError, StreamId};

/// Everything a [`Stream`] holds, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    /// Live entries, IDs strictly ascending.
    pub entries: Vec<StreamEntry>,
    /// Last ID generated or set (XINFO `last-generated-id`); at least every entry's ID.
    pub last_id: StreamId,
    /// Entries ever added (XINFO `entries-added`).
    pub entries_added: u64,
    /// Greatest ID deleted by XDEL or set by XSETID (XINFO `max-deleted-entry-id`).
    pub max_deleted_entry_id: StreamId,
    /// Consumer groups, names distinct ([`Stream::export`] lists them in name byte order).
    pub groups: Vec<GroupState>,
}

/// One live entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's ID (`"<ms>-<seq>"`).
    pub id: StreamId,
    /// `(name, value)` pairs in the order they were added; at least one.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One consumer group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupState {
    /// The group's name (any bytes).
    pub name: Vec<u8>,
    /// XINFO GROUPS `last-delivered-id`.
    pub last_delivered_id: StreamId,
    /// XINFO GROUPS `entries-read`; `None` = unknown (nil, Redis's -1).
    pub entries_read: Option<u64>,
    /// The group's pending entries list, IDs distinct ([`Stream::export`]: ascending).
    pub pending: Vec<PendingState>,
    /// Consumers, names distinct ([`Stream::export`]: name byte order). Every pending entry
    /// is owned by exactly one of them, unless NACKed.
    pub consumers: Vec<ConsumerState>,
    /// Pending entries released by XNACK (`nack.rs`), owned by no consumer; in NACK order
    /// ([`Stream::export`]), the order claims take them in.
    pub nacked: Vec<StreamId>,
}

/// One entry of a group's pending entries list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingState {
    /// The pending entry's ID (its data may have been deleted since).
    pub id: StreamId,
    /// Unix time of the last delivery, in ms.
    pub delivery_time_ms: u64,
    /// Times delivered.
    pub delivery_count: u64,
}

/// One consumer of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerState {
    /// The consumer's name (any bytes).
    pub name: Vec<u8>,
    /// Unix ms of the last command that named it (XINFO `seen-time`).
    pub seen_time_ms: u64,
    /// Unix ms of its last successful read or claim; `None` if never (XINFO `active-time` -1).
    pub active_time_ms: Option<u64>,
    /// IDs of the group's pending entries it owns ([`Stream::export`]: ascending).
    pub pending: Vec<StreamId>,
    /// The subset of `pending` marked for redelivery on its next `XREADGROUP … >` (a Sluice
    /// extension; Redis has none).
    pub redeliver: Vec<StreamId>,
}

/// Why [`Stream::from_state`] refused a state: what the state breaks, with the ID involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum StateError {
    /// An entry ID is `0-0` or not above the entry before it.
    #[error("stream entry {0} is not above the entry before it (or is 0-0)")]
    EntryOrder(StreamId),
    /// An entry has no fields.
    #[error("stream entry {0} has no fields")]
    EmptyEntry(StreamId),
    /// An entry's names and values total more than 1 GiB.
    #[error("stream entry {0} is larger than 1 GiB")]
    EntryTooLarge(StreamId),
    /// The last ID is below the last entry's ID.
    #[error("stream last ID {last} is below entry {entry}")]
    LastIdBelowEntry {
        /// The state's `last_id`.
        last: StreamId,
        /// The last entry's ID.
        entry: StreamId,
    },
    /// Two groups share a name.
    #[error("two consumer groups share a name")]
    DuplicateGroup,
    /// Two consumers of one group share a name.
    #[error("two consumers of a group share a name")]
    DuplicateConsumer,
    /// A group lists a pending entry twice, or a consumer owns one twice.
    #[error("pending entry {0} is listed twice")]
    DuplicatePending(StreamId),
    /// A consumer owns an ID its group's pending entries list does not hold.
    #[error("consumer owns {0}, which its group does not list as pending")]
    UnknownPending(StreamId),
    /// Two consumers own the same pending entry.
    #[error("pending entry {0} is owned by two consumers")]
    SharedPending(StreamId),
    /// No consumer owns a pending entry.
    #[error("pending entry {0} is owned by no consumer")]
    OrphanPending(StreamId),
    /// A redelivery mark is not one of its consumer's pending entries.
    #[error("redelivery mark {0} is not one of its consumer's pending entries")]
    BadRedeliveryMark(StreamId),
}

impl Stream {
    /// The stream's complete state: live entries, counters, groups with their pending
    /// entries and consumers. O(size of the stream); copies every entry.
    pub fn export(&self) -> StreamState {
        let mut sink = EntryCollector::default();
        self.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
        StreamState {
            entries: sink.entries,
            last_id: self.last_id,
            entries_added: self.entries_added,
            max_deleted_entry_id: self.max_deleted,
            groups: self
                .groups
                .iter()
                .map(|(name, group)| export_group(name, group))
                .collect(),
        }
    }

    /// Builds a stream from `state`, packing entries into nodes under `limits` as XADD would.
    /// The state is untrusted: anything the engine could not serve consistently is a
    /// [`StateError`] (see the variants), never a panic now or later.
    pub fn from_state(state: StreamState, limits: NodeLimits) -> Result<Stream, StateError> {
        let mut stream = Stream::new();
        let mut flat: Vec<&[u8]> = Vec::new();
        for entry in &state.entries {
            if entry.fields.is_empty() {
                return Err(StateError::EmptyEntry(entry.id));
            }
            flat.clear();
            for (name, value) in &entry.fields {
                flat.push(name);
                flat.push(value);
            }
            stream
                .add(AddId::Explicit(entry.id), &flat, 0, limits)
                .map_err(|e| match e {
                    StreamError::ElementsTooLarge => StateError::EntryTooLarge(entry.id),
                    _ => StateError::EntryOrder(entry.id),
                })?;
        }
        if let Some(last) = state.entries.last()
            && state.last_id < last.id
        {
            return Err(StateError::LastIdBelowEntry {
                last: state.last_id,
                entry: last.id,
            });
        }
        stream.last_id = state.last_id;
        stream.entries_added = state.entries_added;
        stream.max_deleted = state.max_deleted_entry_id;
        for group in state.groups {
            let name = group.name.clone().into_boxed_slice();
            let built = build_group(group)?;
            if stream.groups.insert(name, built).is_some() {
                return Err(StateError::DuplicateGroup);
            }
        }
        Ok(stream)
    }
}

fn export_group(name: &[u8], group: &ConsumerGroup) -> GroupState {
    GroupState {
        name: name.to_vec(),
        last_delivered_id: group.last_delivered_id,
        entries_read: group.entries_read,
        pending: group
            .pel
            .iter()
            .map(|(&id, p)| PendingState {
                id,
                delivery_time_ms: p.delivery_time_ms,
                delivery_count: p.delivery_count,
            })
            .collect(),
        consumers: group
            .consumers()
            .map(|c| ConsumerState {
                name: c.name().to_vec(),
                seen_time_ms: c.seen_time_ms,
                active_time_ms: c.active_time_ms,
                pending: c.pending_ids().collect(),
                redeliver: c.redeliver_ids().collect(),
            })
            .collect(),
        nacked: group.nacked_ids().collect(),
    }
}

fn build_group(state: GroupState) -> Result<ConsumerGroup, StateError> {
    let mut group = ConsumerGroup::new(state.last_delivered_id, state.entries_read);
    let mut pel = BTreeMap::new();
    for p in &state.pending {
        let pending = Pending {
            owner: UNOWNED,
            delivery_time_ms: p.delivery_time_ms,
            delivery_count: p.delivery_count,
        };
        if pel.insert(p.id, pending).is_some() {
            return Err(StateError::DuplicatePending(p.id));
        }
    }
    for c in state.consumers {
        if group.by_name.contains_key(&c.name[..]) {
            return Err(StateError::DuplicateConsumer);
        }
        let slot = group.insert_consumer(&c.name, c.seen_time_ms);
        let Some(consumer) = group.slot_mut(slot) else {
            continue;
        };
        consumer.active_time_ms = c.active_time_ms;
        for id in c.pending {
            let p = pel.get_mut(&id).ok_or(StateError::UnknownPending(id))?;
            match p.owner {
                UNOWNED => p.owner = slot,
                owner if owner == slot => return Err(StateError::DuplicatePending(id)),
                _ => return Err(StateError::SharedPending(id)),
            }
            consumer.pending.insert(id);
        }
        for id in c.redeliver {
            if !consumer.pending.contains(&id) {
                return Err(StateError::BadRedeliveryMark(id));
            }
            consumer.redeliver.insert(id);
        }
    }
    for &id in &state.nacked {
        match pel.get(&id) {
            Some(p) if p.owner == UNOWNED => {
                group.nacked.push(id);
            }
            Some(_) => return Err(StateError::SharedPending(id)),
            None => return Err(StateError::UnknownPending(id)),
        }
    }
    if let Some((&id, _)) = pel
        .iter()
        .find(|(id, p)| p.owner == UNOWNED && !group.nacked.contains(**id))
    {
        return Err(StateError::OrphanPending(id));
    }
    group.pel = pel;
    Ok(group)
}

/// Copies entries out as `(name, value)` pairs.
#[derive(Default)]
struct EntryCollector {
    entries: Vec<StreamEntry>,
    /// A field name waiting for its value.
    name: Option<Vec<u8>>,
}

impl EntrySink for EntryCollector {
    fn begin_entry(&mut self, id: StreamId, field_count: usize) {
        self.name = None;
        self.entries.push(StreamEntry {
            id,
            fields: Vec::with_capacity(field_count / 2),
        });
    }

    fn field(&mut self, bytes: &[u8]) {
        match self.name.take() {
            None => self.name = Some(bytes.to_vec()),
            Some(name) => {
                if let Some(entry) = self.entries.last_mut() {
                    entry.fields.push((name, bytes.to_vec()));
                }
            }
        }
    }
}
