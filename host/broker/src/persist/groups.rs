//! How consumer-group changes are logged: as the state they leave, in commands that set it.
//!
//! Deliveries and claims change delivery times and counts decided at run time, so like
//! Redis's AOF they are logged as `XCLAIM … TIME <ms> RETRYCOUNT <n> FORCE JUSTID` (which sets
//! a pending entry exactly), `XACK` for entries no longer pending, `XGROUP SETID … ENTRIESREAD`
//! for the group's cursor and `XGROUP CREATECONSUMER` for consumers made on first use. A
//! NACKed entry (no owner) is logged as `XACK` then `XNACK … FAIL IDS 1 <id> RETRYCOUNT <n>
//! FORCE`, which recreates it unowned with its count (its delivery time becomes the replay's
//! clock: NACKed entries are claimable whatever their idle time).

use sluice_streams::{Stream, StreamId};

use super::Record;

/// Logs the pending state of `ids` in `group` as it is now. A pending entry whose data was
/// deleted is left out: `XCLAIM` would drop it, and it stays pending where it was.
pub fn pel_state(
    rec: &mut Record,
    key: &[u8],
    group: &[u8],
    stream: &Stream,
    ids: impl IntoIterator<Item = StreamId>,
) {
    let Some(g) = stream.group(group) else { return };
    let mut acked = Vec::new();
    for id in ids {
        match g.pending_entry(id) {
            Some(p) if stream.contains(id) && g.is_nacked(id) => {
                rec.begin(4).arg(b"XACK").arg(key).arg(group).id(id);
                rec.begin(10)
                    .arg(b"XNACK")
                    .arg(key)
                    .arg(group)
                    .arg(b"FAIL")
                    .arg(b"IDS")
                    .arg(b"1")
                    .id(id)
                    .arg(b"RETRYCOUNT")
                    .int(p.delivery_count)
                    .arg(b"FORCE");
            }
            Some(p) if stream.contains(id) => {
                rec.begin(12)
                    .arg(b"XCLAIM")
                    .arg(key)
                    .arg(group)
                    .arg(p.consumer)
                    .arg(b"0")
                    .id(id)
                    .arg(b"TIME")
                    .int(p.delivery_time_ms)
                    .arg(b"RETRYCOUNT")
                    .int(p.delivery_count)
                    .arg(b"FORCE")
                    .arg(b"JUSTID");
            }
            Some(_) => {}
            None => acked.push(id),
        }
    }
    if !acked.is_empty() {
        rec.begin(3 + acked.len()).arg(b"XACK").arg(key).arg(group);
        for id in acked {
            rec.id(id);
        }
    }
}

/// Logs the group's cursor: last delivered ID and entries read.
pub fn cursor(rec: &mut Record, key: &[u8], group: &[u8], stream: &Stream) {
    if let Some(g) = stream.group(group) {
        set_id(rec, key, group, g.last_delivered_id(), g.entries_read());
    }
}

/// Logs `XGROUP SETID key group id [ENTRIESREAD n]`: a cursor set to `id`, `read` entries
/// read.
pub fn set_id(rec: &mut Record, key: &[u8], group: &[u8], id: StreamId, read: Option<u64>) {
    with_cursor(rec, b"SETID", key, group, id, read);
}

/// Logs `XGROUP CREATE key group id [ENTRIESREAD n]`: a group made with its cursor at `id`.
pub fn created(rec: &mut Record, key: &[u8], group: &[u8], id: StreamId, read: Option<u64>) {
    with_cursor(rec, b"CREATE", key, group, id, read);
}

/// `XGROUP <sub> key group id [ENTRIESREAD n]`.
fn with_cursor(
    rec: &mut Record,
    sub: &[u8],
    key: &[u8],
    group: &[u8],
    id: StreamId,
    read: Option<u64>,
) {
    rec.begin(if read.is_some() { 7 } else { 5 })
        .arg(b"XGROUP")
        .arg(sub)
        .arg(key)
        .arg(group)
        .id(id);
    if let Some(n) = read {
        rec.arg(b"ENTRIESREAD").int(n);
    }
}

/// Logs a consumer made on first use.
pub fn consumer_created(rec: &mut Record, key: &[u8], group: &[u8], consumer: &[u8]) {
    rec.command(&[b"XGROUP", b"CREATECONSUMER", key, group, consumer]);
}

/// Logs what an `XCLAIM`/`XAUTOCLAIM` changed: the claiming consumer if it was made now, and
/// the pending state of every ID it touched.
pub fn claim(
    rec: &mut Record,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    created: bool,
    stream: &Stream,
    touched: impl IntoIterator<Item = StreamId>,
) {
    if created {
        consumer_created(rec, key, group, consumer);
    }
    pel_state(rec, key, group, stream, touched);
}
