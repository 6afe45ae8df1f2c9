//! A route's batch in the embedded store: reading entries after the route's position (the
//! source's nodes copied, then decoded with no lock held), and committing outputs,
//! dead-letters and the new position as one log record: beside the clients' commands for
//! one destination, holding the keyspace gate exclusively for several.

use std::cell::RefCell;

use bytes::Bytes;
use sluice_plugin_host::{Batch, EntryId};
use sluice_streams::{AddId, EntrySink, NodeCopy, Stream, StreamId};

use crate::Broker;
use crate::keyspace::{Db, Kind, WrongType};
use crate::persist::{Record, groups};
use crate::ready::ReadyKeys;
use crate::routes::spec::{RouteSpec, Start};
use crate::store::{Append, BatchCommit, Committed};

thread_local! {
    /// The nodes a route's thread last copied from a source, their buffers kept for the next
    /// batch.
    static COPY: RefCell<NodeCopy> = RefCell::new(NodeCopy::default());
}

/// See [`crate::store::Store::read_batch`]. The source's nodes holding the batch are copied
/// under its lock and decoded after: a client appending to the source waits for a few
/// `memcpy`s, not for the batch's decoding (some 50 µs for 1024 entries).
pub(super) fn read(
    broker: &Broker,
    source: &[u8],
    group: &[u8],
    max: usize,
    batch: &mut Batch,
) -> Option<Option<StreamId>> {
    batch.clear();
    let db = broker.keyspace.db(0);
    COPY.with_borrow_mut(|copy| {
        // A source key holding another type is no stream to read: as if it were gone.
        let position = db.read_as(source, broker.now_ms(), |stream: &Stream| {
            let position = stream.group(group).map(|g| g.last_delivered_id());
            // No position yet: a stream created after the route started; all of it is new.
            stream.copy_after(position.unwrap_or(StreamId::MIN), max, copy);
            position
        });
        if let Ok(Some(after)) = position {
            copy.range(after.unwrap_or(StreamId::MIN), max, &mut BatchSink(batch));
        }
        batch.end_event();
        position.ok().flatten()
    })
}

/// See [`crate::store::Store::commit_batch`].
pub(super) fn commit(broker: &Broker, commit: &BatchCommit<'_>) -> Committed {
    match one_destination(commit.appends) {
        Some(destination) if destination != Some(commit.source) => {
            commit_beside(broker, commit, destination)
        }
        _ => commit_exclusive(broker, commit),
    }
}

/// The one stream every append goes to (`Some(None)`: no appends), or `None` if several.
fn one_destination<'a>(appends: &[Append<'a>]) -> Option<Option<&'a [u8]>> {
    let first = appends.first().map(|a| a.key);
    appends
        .iter()
        .all(|a| Some(a.key) == first)
        .then_some(first)
}

/// Where a batch moves the route's position, worked out from the source before the outputs
/// are appended: both the log record and the source's change follow it.
#[derive(Clone, Copy)]
struct Move {
    last: StreamId,
    /// The group's read counter once there.
    read: Option<u64>,
    /// The route had no group in the source yet.
    create: bool,
}

impl Move {
    /// Where `commit` moves the route's position in `stream`, its source (`None`: it does not
    /// move it).
    fn plan(stream: &Stream, commit: &BatchCommit<'_>) -> Option<Move> {
        let (last, done) = commit.advance?;
        Some(Move {
            last,
            read: entries_read(stream, commit.group, commit.read_after, last, done),
            create: stream.group(commit.group).is_none(),
        })
    }

    /// Logs the move: `XGROUP CREATE` or `XGROUP SETID`, with the read counter.
    fn log(self, record: &mut Record, key: &[u8], group: &[u8]) {
        if self.create {
            groups::created(record, key, group, self.last, self.read);
        } else {
            groups::set_id(record, key, group, self.last, self.read);
        }
    }

    /// Makes the move, as replaying its log record would: `SETID` needs the group, `CREATE`
    /// needs it absent; otherwise nothing changes. True if it moved.
    fn apply(self, stream: &mut Stream, group: &[u8]) -> bool {
        match (stream.group_mut(group), self.create) {
            (Some(g), false) => {
                g.set_id(self.last, self.read);
                true
            }
            (None, true) => stream.create_group(group, self.last, self.read).is_ok(),
            _ => false,
        }
    }
}

/// Commits a batch whose outputs all go to one stream (or none) beside the clients'
/// commands: the gate is held shared, and each step holds one key's lock, so clients
/// appending to the source wait at most for a position check, never for the outputs.
///
/// 1. The source: the position is still where the batch was read from (else the batch is
///    stale), and where it moves to.
/// 2. The destination: the outputs are appended, and the record of the whole batch (outputs
///    and move) is logged under its lock, so the destination's log order is the order of its
///    changes, and a recovery replays the batch whole or not at all.
/// 3. The source: the position moves, as the record says. What a client does to the source
///    meanwhile (appends, trims, other groups) commutes with the move; only the route's own
///    group could differ, and the route's commits of this source take turns
///    ([`crate::routes::Routes::commit_turn`]).
///
/// The record is logged in step 3 instead when step 2 logged nothing (no outputs, or a
/// destination that is no stream). Readers may see the outputs a moment before the
/// position: only the route reads it.
fn commit_beside(
    broker: &Broker,
    commit: &BatchCommit<'_>,
    destination: Option<&[u8]>,
) -> Committed {
    let gate = broker.keyspace.gate.read();
    let _turn = broker.routes.commit_turn(commit.source, commit.group);
    if broker.journal.wal().is_some_and(|wal| wal.failed()) {
        return Committed::Stale;
    }
    let db = broker.keyspace.db(0);
    let now = broker.now_ms();
    let (source, group) = (commit.source, commit.group);
    let planned = db.read_as(source, now, |stream: &Stream| {
        let position = stream.group(group).map(|g| g.last_delivered_id());
        (position == commit.read_after).then(|| Move::plan(stream, commit))
    });
    let Ok(Some(Some(planned))) = planned else {
        return Committed::Stale;
    };
    let mut apply = Apply::new(broker, db, now);
    let mut lsn = None;
    let mut logged = false;
    if let Some(key) = destination {
        let run = commit.appends;
        let key = Bytes::copy_from_slice(key);
        let appended = db.write_or_create_as(&key, now, |stream: &mut Stream, created| {
            let added = apply.append_to(stream, &key, run, commit.fields);
            lsn = apply.seal(broker, commit, planned);
            logged = true;
            (added, created)
        });
        apply.appended(&key, run, appended);
    }
    let _ = db.write_as(source, now, |stream: &mut Stream| {
        if let Some(planned) = planned {
            // Its record is logged already: the position moves whatever this says.
            let _moved = planned.apply(stream, group);
        }
        if !logged {
            lsn = apply.seal(broker, commit, planned);
        }
    });
    broker.serve_ready(&mut apply.ready);
    drop(gate);
    broker.journal.defer_background(lsn);
    Committed::Done {
        refused: apply.refused,
    }
}

/// Commits a batch holding the gate exclusively: outputs to several streams, or dead letters
/// beside outputs, change several keys as one step.
fn commit_exclusive(broker: &Broker, commit: &BatchCommit<'_>) -> Committed {
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
    let mut apply = Apply::new(broker, db, now);
    apply.append_runs(commit.appends, commit.fields);
    apply.move_position(commit);
    apply.count(commit);
    let lsn = broker.journal.commit(apply.record);
    // The destinations' readers and routes see the whole batch, before anything else runs.
    broker.serve_ready(&mut apply.ready);
    drop(gate);
    broker.journal.defer_background(lsn);
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

impl<'a> Apply<'a> {
    fn new(broker: &Broker, db: &'a Db, now: u64) -> Self {
        Apply {
            db,
            now,
            limits: broker.settings.node_limits(),
            record: Record::new(0),
            ready: ReadyKeys::default(),
            outputs: 0,
            dead_lettered: 0,
            refused: Vec::new(),
        }
    }

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
            let db = self.db;
            let appended = db.write_or_create_as(&key, self.now, |stream: &mut Stream, created| {
                (self.append_to(stream, &key, now_run, all_fields), created)
            });
            self.appended(&key, now_run, appended);
        }
    }

    /// Appends `run` (all to `key`) to its stream, held locked; how many went in.
    fn append_to(
        &mut self,
        stream: &mut Stream,
        key: &[u8],
        run: &[Append<'_>],
        all_fields: &[&[u8]],
    ) -> u64 {
        let mut added = 0u64;
        for append in run {
            let fields = all_fields.get(append.fields.clone()).unwrap_or_default();
            match stream.add(AddId::Auto, fields, self.now, self.limits) {
                Ok(id) => {
                    self.record
                        .begin(3 + fields.len())
                        .arg(b"XADD")
                        .arg(key)
                        .id(id);
                    for f in fields {
                        self.record.arg(f);
                    }
                    added += 1;
                    if append.dead_letter {
                        self.dead_lettered += 1;
                    } else {
                        self.outputs += 1;
                    }
                }
                Err(e) => self.refused.push(format!(
                    "output to {} refused: {e}",
                    String::from_utf8_lossy(key)
                )),
            }
        }
        added
    }

    /// After appending `run` to `key`: an emptied new stream goes, a stream that got entries
    /// is ready, a key holding another type refused them all.
    fn appended(
        &mut self,
        key: &Bytes,
        run: &[Append<'_>],
        appended: Result<(u64, bool), WrongType>,
    ) {
        match appended {
            // Nothing went in: leave no empty stream behind.
            Ok((0, true)) => {
                self.db.remove(key, self.now);
            }
            Ok((0, false)) => {}
            Ok(_) => self.ready.push(0, key),
            Err(WrongType) => self.refused.extend(run.iter().map(|_| {
                format!(
                    "output to {} refused: {}",
                    String::from_utf8_lossy(key),
                    crate::keyspace::WRONGTYPE
                )
            })),
        }
    }

    /// Ends the beside path's record with the move, counts the batch and logs the record;
    /// call holding the lock of what the record changed last.
    fn seal(
        &mut self,
        broker: &Broker,
        commit: &BatchCommit<'_>,
        planned: Option<Move>,
    ) -> Option<sluice_storage::Lsn> {
        if let Some(planned) = planned {
            planned.log(&mut self.record, commit.source, commit.group);
        }
        self.count(commit);
        broker
            .journal
            .commit(std::mem::replace(&mut self.record, Record::new(0)))
    }

    /// Counts the batch in the route's figures, before anyone sees its position move.
    fn count(&self, commit: &BatchCommit<'_>) {
        let stats = commit.stats;
        stats.events_out.fetch_add(self.outputs, RELAXED);
        stats.dead_lettered.fetch_add(self.dead_lettered, RELAXED);
        stats.dropped.fetch_add(commit.dropped, RELAXED);
        stats.skipped.fetch_add(commit.skipped, RELAXED);
        if let Some((_, done)) = commit.advance {
            stats.events_in.fetch_add(done, RELAXED);
            stats.batches.fetch_add(1, RELAXED);
        }
    }

    /// Moves the route's group in the source as the batch says (creating it if the route had
    /// none there), and logs the move.
    fn move_position(&mut self, commit: &BatchCommit<'_>) {
        let (key, group) = (commit.source, commit.group);
        let record = &mut self.record;
        let _ = self.db.write_as(key, self.now, |stream: &mut Stream| {
            if let Some(planned) = Move::plan(stream, commit)
                && planned.apply(stream, group)
            {
                planned.log(record, key, group);
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
                groups::created(&mut record, key, &group, at, read);
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
