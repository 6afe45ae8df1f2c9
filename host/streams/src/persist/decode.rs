//! The snapshot reader: [`decode`] dispatches on the format version, and `decode_stream`
//! rebuilds a stream (versions 1 and 2 differ only in the redelivery marks that end each
//! group in version 2) with every check the engine's later unchecked reads rely on:
//!
//! - each node's bytes pass `check_node` and node keys strictly increase;
//! - `len` equals the live entries, and `last_id` is at least every live ID (so XADD never
//!   produces an ID that collides with a stored node);
//! - group names, consumer names and PEL IDs strictly increase; every PEL owner exists;
//! - redelivery marks strictly increase and each is a PEL ID, so every consumer's marks are a
//!   subset of its pending IDs.
//!
//! Counters that carry no structural meaning (`entries_added`, `max_deleted_entry_id`,
//! `entries_read`, times, delivery counts) are restored as stored, whatever their values.

use std::collections::{BTreeMap, BTreeSet};

use super::DecodeError;
use super::check_node::{StoredNode, check_node};
use super::reader::{Reader, unzigzag};
use crate::consumer::Consumer;
use crate::group::{ConsumerGroup, Pending, UNOWNED};
use crate::nack::NackQueue;
use crate::{Stream, StreamId};

/// Least encoded size of one node header plus data, group, consumer and pending entry, used
/// to bound counts before preallocating.
const MIN_NODE_BYTES: usize = 7;
const MIN_GROUP_BYTES: usize = 6;
const MIN_CONSUMER_BYTES: usize = 3;
const MIN_PENDING_BYTES: usize = 5;
const MIN_MARK_BYTES: usize = 2;

/// Most items preallocated from a stored count: a corrupt count fails once the bytes run out,
/// but must not first reserve many times the input's size; real lists grow past this by
/// doubling, which costs little.
const PREALLOC_MAX: usize = 1 << 16;

pub(super) fn decode(bytes: &[u8]) -> Result<Stream, DecodeError> {
    let mut r = Reader::new(bytes);
    let stream = match r.varint("bad format version")? {
        version @ (1..=3) => decode_stream(&mut r, version)?,
        found => {
            return Err(DecodeError::UnsupportedVersion {
                found,
                supported: Stream::SNAPSHOT_VERSION,
            });
        }
    };
    if r.remaining() != 0 {
        return Err(Reader::corrupt_at(
            r.pos(),
            "trailing bytes after the stream",
        ));
    }
    Ok(stream)
}

/// Everything after the version number of a version 1 or 2 payload.
fn decode_stream(r: &mut Reader<'_>, version: u64) -> Result<Stream, DecodeError> {
    let last_id_at = r.pos();
    let last_id = r.id("bad last ID")?;
    let entries_added = r.varint("bad entries-added")?;
    let max_deleted = r.id("bad max-deleted-entry-id")?;
    let len_at = r.pos();
    let len = r.varint("bad length")?;

    let node_count = r.count(MIN_NODE_BYTES, "bad node count")?;
    let mut nodes = Vec::with_capacity(node_count.min(PREALLOC_MAX));
    let mut prev_key = StreamId::MIN;
    let mut live_total = 0u64;
    let mut max_live = StreamId::MIN;
    for i in 0..node_count {
        let at = r.pos();
        let key = r.id_from(prev_key, "bad node key")?;
        if i > 0 && key == prev_key {
            return Err(Reader::corrupt_at(at, "node keys out of order"));
        }
        let stored = StoredNode {
            key,
            last: r.id_from(key, "bad node last ID")?,
            live: r.u32("bad node live count")?,
            deleted: r.u32("bad node deleted count")?,
        };
        let data = r.bytes("node data out of bounds")?.to_vec();
        let data_start = r.pos() - data.len();
        let checked = check_node(data, &stored)
            .map_err(|(offset, what)| Reader::corrupt_at(data_start + offset, what))?;
        live_total += u64::from(stored.live);
        max_live = max_live.max(checked.last_live);
        nodes.push((key, checked.node));
        prev_key = key;
    }
    if live_total != len {
        return Err(Reader::corrupt_at(
            len_at,
            "length does not match the live entries",
        ));
    }
    if max_live > last_id {
        return Err(Reader::corrupt_at(
            last_id_at,
            "last ID is below a live entry",
        ));
    }

    let group_count = r.count(MIN_GROUP_BYTES, "bad group count")?;
    let mut groups = Vec::with_capacity(group_count.min(PREALLOC_MAX));
    for _ in 0..group_count {
        let at = r.pos();
        let name = r.bytes("group name out of bounds")?;
        if groups
            .last()
            .is_some_and(|(prev, _): &(Box<[u8]>, _)| **prev >= *name)
        {
            return Err(Reader::corrupt_at(at, "group names out of order"));
        }
        groups.push((Box::from(name), decode_group(r, version)?));
    }

    let idmp = if version >= 3 {
        Some(super::idmp::decode(r)?)
    } else {
        None
    };
    let mut stream = Stream {
        // Both lists are strictly increasing, so collecting builds the maps in one pass.
        nodes: nodes.into_iter().collect(),
        len,
        last_id,
        entries_added,
        max_deleted,
        groups: groups.into_iter().collect(),
        idmp: None,
    };
    if let Some(state) = idmp {
        stream.set_idmp_state(state);
    }
    Ok(stream)
}

/// One group after its name: position, consumers, PEL and (version 2) redelivery marks.
fn decode_group(r: &mut Reader<'_>, version: u64) -> Result<ConsumerGroup, DecodeError> {
    let last_delivered_id = r.id("bad group last-delivered-id")?;
    let entries_read = r.opt("bad group entries-read")?;
    let consumers = decode_consumers(r)?;
    let (mut pel, owned) = decode_pel(r, consumers.len(), version >= 3)?;
    let mut marked: PerConsumer = vec![Vec::new(); consumers.len()];
    if version >= 2 {
        decode_marks(r, &pel, &mut marked)?;
    }
    let nacked = if version >= 3 {
        decode_nacked(r, &mut pel)?
    } else {
        NackQueue::default()
    };
    // Slots are renumbered densely in name order (the encoder wrote owners that way).
    let mut by_name = BTreeMap::new();
    let mut slots = Vec::with_capacity(consumers.len());
    let per_consumer = owned.into_iter().zip(marked);
    for (slot, (mut consumer, (ids, marks))) in consumers.into_iter().zip(per_consumer).enumerate()
    {
        consumer.pending = ids.into_iter().collect();
        consumer.redeliver = marks.into_iter().collect();
        by_name.insert(consumer.name.clone(), slot as u32);
        slots.push(Some(consumer));
    }
    Ok(ConsumerGroup {
        last_delivered_id,
        entries_read,
        pel: pel.into_iter().collect(),
        slots,
        free_slots: Vec::new(),
        by_name,
        nacked,
    })
}

/// Reads a group's NACKed IDs (version 3): strictly increasing, each a PEL entry decoded as
/// unowned, and every unowned entry among them; their owner becomes [`UNOWNED`].
fn decode_nacked(
    r: &mut Reader<'_>,
    pel: &mut [(StreamId, Pending)],
) -> Result<NackQueue, DecodeError> {
    let count_at = r.pos();
    let count = r.count(MIN_MARK_BYTES, "bad NACKed count")?;
    let mut nacked = NackQueue::default();
    let mut prev = StreamId::MIN;
    let mut next_pending = pel.iter_mut();
    for i in 0..count {
        let at = r.pos();
        let id = r.id_from(prev, "bad NACKed ID")?;
        if i > 0 && id == prev {
            return Err(Reader::corrupt_at(at, "NACKed IDs out of order"));
        }
        match next_pending.find(|(pending, _)| *pending >= id) {
            Some((pending, p)) if *pending == id && p.owner == UNOWNED => {}
            _ => {
                return Err(Reader::corrupt_at(
                    at,
                    "NACKed ID is not an unowned pending entry",
                ));
            }
        }
        nacked.push(id);
        prev = id;
    }
    if pel.iter().filter(|(_, p)| p.owner == UNOWNED).count() != nacked.len() {
        return Err(Reader::corrupt_at(
            count_at,
            "unowned pending entry not NACKed",
        ));
    }
    Ok(nacked)
}

/// A group's consumers, names strictly increasing, each without its pending entries yet.
fn decode_consumers(r: &mut Reader<'_>) -> Result<Vec<Consumer>, DecodeError> {
    let count_at = r.pos();
    let consumer_count = r.count(MIN_CONSUMER_BYTES, "bad consumer count")?;
    // Owners are stored as u32 slot numbers.
    if consumer_count > u32::MAX as usize {
        return Err(Reader::corrupt_at(count_at, "bad consumer count"));
    }
    let mut consumers: Vec<Consumer> = Vec::with_capacity(consumer_count.min(PREALLOC_MAX));
    for _ in 0..consumer_count {
        let at = r.pos();
        let name = r.bytes("consumer name out of bounds")?;
        if consumers.last().is_some_and(|prev| *prev.name >= *name) {
            return Err(Reader::corrupt_at(at, "consumer names out of order"));
        }
        consumers.push(Consumer {
            name: name.into(),
            seen_time_ms: r.varint("bad consumer seen-time")?,
            active_time_ms: r.opt("bad consumer active-time")?,
            pending: BTreeSet::new(),
            redeliver: BTreeSet::new(),
        });
    }
    Ok(consumers)
}

/// A group's PEL as decoded, IDs ascending.
type PelEntries = Vec<(StreamId, Pending)>;

/// Pending IDs per consumer, by its index in name order.
type PerConsumer = Vec<Vec<StreamId>>;

/// A group's PEL, IDs strictly increasing and each owned by one of the `consumer_count`
/// consumers; with it, the IDs each consumer owns.
fn decode_pel(
    r: &mut Reader<'_>,
    consumer_count: usize,
    unowned_allowed: bool,
) -> Result<(PelEntries, PerConsumer), DecodeError> {
    let pel_count = r.count(MIN_PENDING_BYTES, "bad pending count")?;
    let mut pel = Vec::with_capacity(pel_count.min(PREALLOC_MAX));
    let mut owned: PerConsumer = vec![Vec::new(); consumer_count];
    let mut prev_id = StreamId::MIN;
    let mut prev_time = 0u64;
    for i in 0..pel_count {
        let at = r.pos();
        let id = r.id_from(prev_id, "bad pending ID")?;
        if i > 0 && id == prev_id {
            return Err(Reader::corrupt_at(at, "pending IDs out of order"));
        }
        let owner_at = r.pos();
        let mut owner = r.u32("bad pending owner")?;
        match owned.get_mut(owner as usize) {
            Some(ids) => ids.push(id),
            // Version 3: one past the last consumer is "no owner" (a NACKed entry).
            None if unowned_allowed && owner as usize == consumer_count => owner = UNOWNED,
            None => {
                return Err(Reader::corrupt_at(
                    owner_at,
                    "pending entry owned by no consumer",
                ));
            }
        }
        let delivery_time_ms = prev_time.wrapping_add(unzigzag(r.varint("bad delivery time")?));
        let delivery_count = r.varint("bad delivery count")?;
        pel.push((
            id,
            Pending {
                owner,
                delivery_time_ms,
                delivery_count,
            },
        ));
        prev_id = id;
        prev_time = delivery_time_ms;
    }
    Ok((pel, owned))
}

/// Reads a group's redelivery marks (version 2) into `marked[owner]`, checking each against
/// `pel` (ascending, as decoded): marks strictly increase and each names a pending entry, so
/// it belongs to that entry's owner. One merge walk over both lists.
fn decode_marks(
    r: &mut Reader<'_>,
    pel: &[(StreamId, Pending)],
    marked: &mut [Vec<StreamId>],
) -> Result<(), DecodeError> {
    let count = r.count(MIN_MARK_BYTES, "bad redelivery mark count")?;
    let mut prev = StreamId::MIN;
    let mut next_pending = pel.iter();
    for i in 0..count {
        let at = r.pos();
        let id = r.id_from(prev, "bad redelivery mark")?;
        if i > 0 && id == prev {
            return Err(Reader::corrupt_at(at, "redelivery marks out of order"));
        }
        let p = match next_pending.find(|(pending, _)| *pending >= id) {
            Some((pending, p)) if *pending == id => p,
            _ => {
                return Err(Reader::corrupt_at(
                    at,
                    "redelivery mark on an ID that is not pending",
                ));
            }
        };
        // Owners were checked against the consumer list when the PEL was read.
        if let Some(marks) = marked.get_mut(p.owner as usize) {
            marks.push(id);
        }
        prev = id;
    }
    Ok(())
}
