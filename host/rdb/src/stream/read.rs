//! The stream body reader: nodes, counters, groups (module docs in `mod.rs`).

use sluice_streams::{
    ConsumerState, GroupState, NodeLimits, PendingState, StateError, Stream, StreamId, StreamState,
};

use super::node;
use crate::payload::rdb_type;
use crate::reader::{Reader, id_from_raw};
use crate::{RdbError, RdbValue};

/// Least bytes of one node (two strings), group and consumer, to bound counts.
const MIN_NODE_BYTES: usize = 2;
const MIN_GROUP_BYTES: usize = 5;
const MIN_CONSUMER_BYTES: usize = 10;
/// A raw ID, a delivery time and a delivery count.
const MIN_PENDING_BYTES: usize = 25;
const RAW_ID_BYTES: usize = 16;

/// Redis writes a group's unknown read counter (-1) as a 64-bit length.
const ENTRIES_READ_UNKNOWN: u64 = u64::MAX;
/// Redis 7.2's active time of a consumer that never read.
const NEVER_ACTIVE: i64 = -1;

pub(crate) fn read(ty: u8, r: &mut Reader<'_>, limits: NodeLimits) -> Result<RdbValue, RdbError> {
    let v2 = ty != rdb_type::STREAM_LISTPACKS;
    let v3 = ty == rdb_type::STREAM_LISTPACKS_3;
    let start = r.pos();

    let node_count = r.count(MIN_NODE_BYTES, "stream node count exceeds the payload")?;
    let mut entries = Vec::new();
    let mut prev_key: Option<StreamId> = None;
    for _ in 0..node_count {
        let at = r.pos();
        let key = r.string("stream node key truncated")?;
        let key: &[u8; RAW_ID_BYTES] = key
            .as_ref()
            .try_into()
            .map_err(|_| RdbError::bad(at, "stream node key is not a 16-byte ID"))?;
        let master = id_from_raw(key);
        if prev_key.is_some_and(|prev| prev >= master) {
            return Err(RdbError::bad(at, "stream node keys out of order"));
        }
        prev_key = Some(master);
        let (blob, at) = r.blob("stream node truncated")?;
        entries.extend(node::decode(master, &blob).map_err(|w| at.bad(w))?);
    }

    let at = r.pos();
    let length = r.len("stream length truncated")?;
    if length != entries.len() as u64 {
        return Err(RdbError::bad(
            at,
            "stream length does not match its entries",
        ));
    }
    let last_id = r.len_id("stream last ID truncated")?;
    let (max_deleted_entry_id, entries_added) = if v2 {
        // The first ID is derived from the entries; Redis does not check it either.
        r.len_id("stream first ID truncated")?;
        let max_deleted = r.len_id("stream max deleted ID truncated")?;
        (max_deleted, r.len("stream entries added truncated")?)
    } else {
        (StreamId::MIN, length)
    };

    let group_count = r.count(MIN_GROUP_BYTES, "stream group count exceeds the payload")?;
    let mut groups = Vec::with_capacity(group_count);
    for _ in 0..group_count {
        groups.push(read_group(r, v2, v3)?);
    }

    let state = StreamState {
        entries,
        last_id,
        entries_added,
        max_deleted_entry_id,
        groups,
    };
    let names: Vec<Vec<u8>> = state.groups.iter().map(|g| g.name.clone()).collect();
    let mut stream =
        Stream::from_state(state, limits).map_err(|e| RdbError::bad(start, problem(e)))?;
    if !v2 {
        // Redis 7.2 estimates the read counters of groups loaded from the oldest encoding.
        for name in names {
            let last = stream.group(&name).map(|g| g.last_delivered_id());
            let Some(last) = last else { continue };
            let estimate = stream.estimate_entries_read(last);
            if let Some(group) = stream.group_mut(&name) {
                group.set_id(last, estimate);
            }
        }
    }
    Ok(RdbValue::Stream(stream))
}

fn read_group(r: &mut Reader<'_>, v2: bool, v3: bool) -> Result<GroupState, RdbError> {
    let name = r.string("group name truncated")?.into_owned();
    let last_delivered_id = r.len_id("group last delivered ID truncated")?;
    let entries_read = if v2 {
        match r.len("group entries read truncated")? {
            ENTRIES_READ_UNKNOWN => None,
            n => Some(n),
        }
    } else {
        None
    };

    let n = r.count(MIN_PENDING_BYTES, "group PEL size exceeds the payload")?;
    let mut pending = Vec::with_capacity(n);
    for _ in 0..n {
        pending.push(PendingState {
            id: r.raw_id("group PEL entry truncated")?,
            // Times are signed in Redis; a negative one keeps its bits.
            delivery_time_ms: r.ms("group PEL entry truncated")? as u64,
            delivery_count: r.len("group PEL entry truncated")?,
        });
    }

    let n = r.count(MIN_CONSUMER_BYTES, "consumer count exceeds the payload")?;
    let mut consumers = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.string("consumer name truncated")?.into_owned();
        let seen = r.ms("consumer seen time truncated")?;
        let active = if v3 {
            match r.ms("consumer active time truncated")? {
                NEVER_ACTIVE => None,
                t => Some(t as u64),
            }
        } else {
            // What Redis 7.2 assumes for payloads without active times.
            Some(seen as u64)
        };
        let count = r.count(RAW_ID_BYTES, "consumer PEL size exceeds the payload")?;
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            ids.push(r.raw_id("consumer PEL entry truncated")?);
        }
        consumers.push(ConsumerState {
            name,
            seen_time_ms: seen as u64,
            active_time_ms: active,
            pending: ids,
            redeliver: Vec::new(),
        });
    }
    // Entries owned by a consumer named "" are NACKed ones (module docs in `mod.rs`).
    let nacked = match consumers.iter().position(|c| c.name.is_empty()) {
        Some(at) => consumers.remove(at).pending,
        None => Vec::new(),
    };
    Ok(GroupState {
        name,
        last_delivered_id,
        entries_read,
        pending,
        consumers,
        nacked,
    })
}

/// What a stream the engine refused breaks, as `BadData` text.
fn problem(e: StateError) -> &'static str {
    match e {
        StateError::EntryOrder(_) => "stream entries out of order",
        StateError::EmptyEntry(_) => "stream entry without fields",
        StateError::EntryTooLarge(_) => "stream entry larger than 1 GiB",
        StateError::LastIdBelowEntry { .. } => "stream last ID below its last entry",
        StateError::DuplicateGroup => "duplicate consumer group name",
        StateError::DuplicateConsumer => "duplicate consumer name in a group",
        StateError::DuplicatePending(_) => "duplicate pending entry",
        StateError::UnknownPending(_) => "consumer pending entry missing from its group's PEL",
        StateError::SharedPending(_) => "pending entry owned by two consumers",
        StateError::OrphanPending(_) => "pending entry owned by no consumer",
        StateError::BadRedeliveryMark(_) => "bad redelivery mark",
    }
}
