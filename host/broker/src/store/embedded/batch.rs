//! A route's batch in the embedded store: reading entries after the route's position, and
//! committing outputs, dead-letters and the new position as one step and one log record.

use bytes::Bytes;
use sluice_plugin_host::{Batch, EntryId};
use sluice_streams::{AddId, EntrySink, Stream, StreamId};

use crate::Broker;
use crate::keyspace::{Db, Kind, WrongType};
use crate::persist::Record;
use crate::ready::ReadyKeys;
use crate::routes::spec::{RouteSpec, Start};
use crate::store::{Append, BatchCommit, Committed};

/// See [`crate::store::Store::read_batch`].
pub(super) fn read(
    broker: &Broker,
    source: &[u8],
    group: &[u8],
    max: usize,
    batch: &mut Batch,
) -> Option<Option<StreamId>> {
    batch.clear();
    let db = broker.keyspace.db(0);
    // A source key holding another type is no stream to read: as if it were gone.
    let position = db.read_as(source, broker.now_ms(), |stream: &Stream| {
        let position = stream.group(group).map(|g| g.last_delivered_id());
        // No position yet: a stream created after the route started; all of it is new.
        if let Some(start) = position.unwrap_or(StreamId::MIN).incr() {
            stream.range(
                start,
                StreamId::MAX,
                Some(max),
                false,
                &mut BatchSink(batch),
            );
        }
        position
    });
    batch.end_event();
    position.ok().flatten()
}

/// See [`crate::store::Store::commit_batch`].
pub(super) fn commit(broker: &Broker, commit: &BatchCommit<'_>) -> Committed {
    let gate = broker.keyspace.gate.write();
    // Checked again under the gate: once the log has failed, nothing more may change what
    // readers are shown of it (`persist::visibility`). The route reads again later.
    if broker.journal.wal().is_some_and(|wal| wal.failed()) {
        return Committed::Stale;
    }
    let db = broker.keyspace.db(0);
    let now = broker.now_ms();
    let position = db.read_as(commit.source, now, |stream: &Stream| {
        stream.group(commit.group).map(|g| g.last_delivered_id())
    });
    if position != Ok(Some(commit.read_after)) {
        return Committed::Stale;
    }
    let mut apply = Apply {
        db,
        now,
        limits: broker.settings.node_limits(),
        record: Record::new(0),
        ready: ReadyKeys::default(),
        outputs: 0,
        dead_lettered: 0,
        refused: Vec::new(),
    };
    apply.append_runs(commit.appends, commit.fields);
    let stats = commit.stats;
    stats.events_out.fetch_add(apply.outputs, RELAXED);
    stats.dead_lettered.fetch_add(apply.dead_lettered, RELAXED);
    stats.dropped.fetch_add(commit.dropped, RELAXED);
    stats.skipped.fetch_add(commit.skipped, RELAXED);
    if let Some((last, done)) = commit.advance {
        apply.move_position(commit, last, done);
        stats.events_in.fetch_add(done, RELAXED);
        stats.batches.fetch_add(1, RELAXED);
    }
    let lsn = broker.journal.commit(apply.record);
    // The destinations' readers and routes see the whole batch, before anything else runs.
    broker.serve_ready(&mut apply.ready);
    drop(gate);
    broker.journal.write_background(lsn);
    Committed::Done {
        refused: apply.refused,
    }
}

const RELAXED: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;

/// Changes made under the gate, and their log record.
struct Apply<'a> {
    db: &'a Db,
    now: u64,
    limits: sluice_streams::NodeLimits,
    record: Record,
    /// The destinations that got entries.
    ready: ReadyKeys,
    outputs: u64,
    dead_lettered: u64,
    /// Appends a stream refused, to report once the gate is released.
    refused: Vec<String>,
}

impl Apply<'_> {
    /// Appends `appends` in order, `XADD dest <id> fields…` each, logged with the ID it got;
    /// consecutive appends to one stream share one lookup and lock.
    fn append_runs(&mut self, appends: &[Append<'_>], all_fields: &[&[u8]]) {
        let mut rest = appends;
        while let Some(first) = rest.first() {
            let run = rest
                .iter()
                .position(|a| a.key != first.key)
                .unwrap_or(rest.len());
            let (now_run, later) = rest.split_at(run);
            rest = later;
            let key = Bytes::copy_from_slice(first.key);
            let (now, limits) = (self.now, self.limits);
            let Apply {
                record,
                refused,
                outputs,
                dead_lettered,
                ..
            } = self;
            let appended = self
                .db
                .write_or_create_as(&key, now, |stream: &mut Stream, created| {
                    let mut added = 0u64;
                    for append in now_run {
                        let fields = all_fields.get(append.fields.clone()).unwrap_or_default();
                        match stream.add(AddId::Auto, fields, now, limits) {
                            Ok(id) => {
                                record.begin(3 + fields.len()).arg(b"XADD").arg(&key).id(id);
                                for f in fields {
                                    record.arg(f);
                                }
                                added += 1;
                                if append.dead_letter {
                                    *dead_lettered += 1;
                                } else {
                                    *outputs += 1;
                                }
                            }
                            Err(e) => refused.push(format!(
                                "output to {} refused: {e}",
                                String::from_utf8_lossy(&key)
                            )),
                        }
                    }
                    (added, created)
                });
            match appended {
                // Nothing went in: leave no empty stream behind.
                Ok((0, true)) => {
                    self.db.remove(&key, now);
                }
                Ok((0, false)) => {}
                Ok(_) => self.ready.push(0, &key),
                Err(WrongType) => refused.extend(now_run.iter().map(|_| {
                    format!(
                        "output to {} refused: {}",
                        String::from_utf8_lossy(&key),
                        crate::keyspace::WRONGTYPE
                    )
                })),
            }
        }
    }

    /// Moves the route's group in the source to `last` (creating it if the route had none
    /// there), `done` entries after where the batch was read from.
    fn move_position(&mut self, commit: &BatchCommit<'_>, last: StreamId, done: u64) {
        let (key, group) = (commit.source, commit.group);
        let record = &mut self.record;
        let _ = self.db.write_as(key, self.now, |stream: &mut Stream| {
            let read = entries_read(stream, group, commit.read_after, last, done);
            match stream.group_mut(group) {
                Some(g) => {
                    g.set_id(last, read);
                    crate::persist::groups::cursor(record, key, group, stream);
                }
                None => {
                    if stream.create_group(group, last, read).is_ok() {
                        log_create(record, key, group, last, read);
                    }
                }
            }
        });
    }
}

/// The group's read counter once it has read `done` more entries, up to `last`.
fn entries_read(
    stream: &Stream,
    group: &[u8],
    from: Option<StreamId>,
    last: StreamId,
    done: u64,
) -> Option<u64> {
    let counted = stream.group(group).and_then(|g| g.entries_read());
    match (counted, from) {
        (Some(read), Some(from)) if !stream.range_has_tombstones(from, None) => Some(read + done),
        _ => stream.estimate_entries_read(last),
    }
}

/// Logs `XGROUP CREATE key group id [ENTRIESREAD n]`.
fn log_create(record: &mut Record, key: &[u8], group: &[u8], id: StreamId, read: Option<u64>) {
    let args = if read.is_some() { 7 } else { 5 };
    record
        .begin(args)
        .arg(b"XGROUP")
        .arg(b"CREATE")
        .arg(key)
        .arg(group)
        .id(id);
    if let Some(n) = read {
        record.arg(b"ENTRIESREAD").int(n);
    }
}

/// Gives the route a position in each of its source streams that has none: after the last
/// entry (`start = "$"`) or before the first (`"0"`). One log record for all of them.
pub(super) fn create_positions(broker: &Broker, spec: &RouteSpec) {
    let group = spec.group_name();
    let gate = broker.keyspace.gate.write();
    let db = broker.keyspace.db(0);
    let now = broker.now_ms();
    let mut missing = Vec::new();
    db.for_each(now, |key, value, _| {
        let stream = <Stream as Kind>::get(value);
        if spec.is_source(key) && stream.is_some_and(|s| s.group(&group).is_none()) {
            missing.push(key.to_vec());
        }
    });
    let mut record = Record::new(0);
    for key in &missing {
        let _ = db.write_as(key, now, |stream: &mut Stream| {
            if stream.group(&group).is_some() {
                return;
            }
            let at = match spec.start {
                Start::New => stream.last_id(),
                Start::Beginning => StreamId::MIN,
            };
            let read = stream.estimate_entries_read(at);
            if stream.create_group(&group, at, read).is_ok() {
                log_create(&mut record, key, &group, at, read);
            }
        });
    }
    let lsn = broker.journal.commit(record);
    drop(gate);
    broker.journal.write_background(lsn);
}

/// Streams entries read from storage straight into the plugin's batch.
struct BatchSink<'a>(&'a mut Batch);

impl EntrySink for BatchSink<'_> {
    fn begin_entry(&mut self, id: StreamId, _field_count: usize) {
        self.0.begin_event(EntryId {
            ms: id.ms,
            seq: id.seq,
        });
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.push_field(bytes);
    }
}
