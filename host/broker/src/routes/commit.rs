//! Committing one batch of a route: its outputs, its dead-letter entries and its new position
//! in the source stream, as one step.
//!
//! The commit holds the keyspace gate exclusively, so no command runs between the first
//! output and the position; and it writes one log record holding all of it, so recovery
//! replays the whole batch or none of it. Before changing anything it checks that the
//! position is still the one the batch was read from (a concurrent `XGROUP SETID`, `DEL` or a
//! replaced runner would have moved it); if not, nothing is applied and the batch is read again.

use bytes::Bytes;
use sluice_plugin_host::{Batch, Output, OutputFields, Routed};
use sluice_streams::{AddId, Stream, StreamId};

use super::RouteStats;
use super::spec::{OnError, RouteSpec};
use crate::Broker;
use crate::keyspace::Db;
use crate::persist::Record;
use crate::ready::ReadyKeys;

/// Extra fields of a dead-letter entry, after the event's own.
pub const DLQ_REASON: &[u8] = b"dlq-reason";
/// The source stream's key.
pub const DLQ_SOURCE: &[u8] = b"dlq-source";
/// The event's ID in the source stream.
pub const DLQ_ID: &[u8] = b"dlq-id";
/// The route that failed it.
pub const DLQ_ROUTE: &[u8] = b"dlq-route";

/// The plugin's answer for a batch: one call for the whole batch, or (after the batch call
/// failed) one call, or one error, per event.
#[derive(Debug)]
pub enum Answer {
    /// One answer for every event.
    Whole(Routed),
    /// Event `i`'s own answer (a one-event batch) or the error routing it alone gave.
    PerEvent(Vec<Result<Routed, String>>),
}

/// What the plugin decided for one event.
enum Decision<'a> {
    Outputs(Vec<Output<'a>>),
    Failed(&'a str),
}

impl Answer {
    /// The decisions, in event order.
    fn decisions(&self, events: usize) -> Vec<Decision<'_>> {
        match self {
            Answer::Whole(routed) => {
                let mut out: Vec<Decision<'_>> =
                    (0..events).map(|_| Decision::Outputs(Vec::new())).collect();
                for o in routed.outputs() {
                    if let Some(Decision::Outputs(list)) = out.get_mut(o.event) {
                        list.push(o);
                    }
                }
                for f in routed.failures() {
                    if let Some(d) = out.get_mut(f.event) {
                        *d = Decision::Failed(&f.reason);
                    }
                }
                out
            }
            Answer::PerEvent(each) => each
                .iter()
                .map(|answer| match answer {
                    Err(reason) => Decision::Failed(reason),
                    Ok(routed) => match routed.failures().first() {
                        Some(f) => Decision::Failed(&f.reason),
                        None => Decision::Outputs(routed.outputs().collect()),
                    },
                })
                .collect(),
        }
    }
}

/// What becomes of one event.
enum Plan<'a> {
    /// Its outputs: destination and fields (none: filtered out).
    Outputs(Vec<(&'a str, Vec<&'a [u8]>)>),
    /// It failed, with this reason.
    Failed(String),
}

/// How a commit went.
#[derive(Debug)]
pub enum Applied {
    /// Committed, and the readers and routes of the destinations that got entries served;
    /// `halted` is the reason the route must stop, with `on_error = "halt"`.
    Done { halted: Option<String> },
    /// The position moved, or the source is gone: nothing applied; read again.
    Stale,
}

/// One batch to commit.
pub struct Commit<'a> {
    pub spec: &'a RouteSpec,
    pub group: &'a [u8],
    pub stats: &'a RouteStats,
    /// The source stream's key.
    pub key: &'a [u8],
    /// The route's position the batch was read after (`None`: no group yet).
    pub read_after: Option<StreamId>,
    pub batch: &'a Batch,
    pub answer: &'a Answer,
}

impl Commit<'_> {
    /// Applies the batch; see the module documentation. Everything that needs no lock (the
    /// decisions, loop checks, field lists) is worked out before the gate is taken, so clients
    /// wait only for the appends themselves.
    pub fn apply(self, broker: &Broker) -> Applied {
        let plans = self.plan();
        let gate = broker.keyspace.gate.write();
        let db = broker.keyspace.db(0);
        let now = broker.now_ms();
        let position = db.read(self.key, now, |entry| {
            entry
                .stream
                .group(self.group)
                .map(|g| g.last_delivered_id())
        });
        if position != Some(self.read_after) {
            return Applied::Stale;
        }
        let mut apply = Apply {
            db,
            now,
            limits: broker.settings.node_limits(),
            record: Record::new(0),
            written: Vec::new(),
            refused: Vec::new(),
        };
        let mut last_done = None;
        let mut done = 0u64;
        let mut halted = None;
        let mut failures = Vec::new();
        let mut outputs: Vec<(&str, Vec<&[u8]>)> = Vec::new();
        for (index, id, plan) in &plans {
            match plan {
                Plan::Outputs(list) => {
                    if list.is_empty() {
                        self.stats.dropped.fetch_add(1, RELAXED);
                    }
                    outputs.extend(list.iter().map(|(d, f)| (*d, f.clone())));
                }
                Plan::Failed(reason) => {
                    failures.push(format!("event {id} of {}: {reason}", lossy(self.key)));
                    match self.spec.on_error {
                        OnError::DeadLetter => {
                            let id_text = id.to_string();
                            let mut all: Vec<&[u8]> = self
                                .batch
                                .get(*index)
                                .map(|(_, f)| f.to_flat())
                                .unwrap_or_default();
                            let reason = reason.as_bytes().to_vec();
                            let dlq = self.spec.dead_letter_for(self.key);
                            // In order with the outputs before it.
                            let n = apply.append_runs(&outputs);
                            self.stats.events_out.fetch_add(n, RELAXED);
                            outputs.clear();
                            all.extend_from_slice(&[
                                DLQ_REASON,
                                &reason,
                                DLQ_SOURCE,
                                self.key,
                                DLQ_ID,
                                id_text.as_bytes(),
                                DLQ_ROUTE,
                                self.spec.name.as_bytes(),
                            ]);
                            let dlq_text = String::from_utf8_lossy(&dlq).into_owned();
                            let n = apply.append_runs(&[(dlq_text.as_str(), all)]);
                            self.stats.dead_lettered.fetch_add(n, RELAXED);
                        }
                        OnError::Skip => {
                            self.stats.skipped.fetch_add(1, RELAXED);
                        }
                        OnError::Halt => {
                            halted = Some(format!(
                                "halted before event {id} of {}: {reason}",
                                lossy(self.key)
                            ));
                            break;
                        }
                    }
                }
            }
            last_done = Some(StreamId::new(id.ms, id.seq));
            done += 1;
        }
        let n = apply.append_runs(&outputs);
        self.stats.events_out.fetch_add(n, RELAXED);
        if let Some(last) = last_done {
            apply.move_position(self.key, self.group, self.read_after, last, done);
            self.stats.events_in.fetch_add(done, RELAXED);
            self.stats.batches.fetch_add(1, RELAXED);
        }
        let lsn = broker.journal.commit(apply.record);
        // The destinations' readers and routes see the whole batch, before anything else runs.
        let mut ready = ReadyKeys::default();
        for key in &apply.written {
            ready.push(0, key);
        }
        broker.serve_ready(&mut ready);
        drop(gate);
        broker.journal.write_background(lsn);
        for failure in failures {
            self.stats.error(&self.spec.name, failure);
        }
        for refused in apply.refused {
            self.stats.error(&self.spec.name, refused);
        }
        Applied::Done { halted }
    }

    /// What to do with each event, in batch order, worked out without any lock.
    fn plan(&self) -> Vec<(usize, sluice_plugin_host::EntryId, Plan<'_>)> {
        let decisions = self.answer.decisions(self.batch.len());
        let mut plans = Vec::with_capacity(decisions.len());
        for (i, decision) in decisions.into_iter().enumerate() {
            let Some((id, fields)) = self.batch.get(i) else {
                break;
            };
            let plan = match decision {
                Decision::Failed(reason) => Plan::Failed(reason.to_owned()),
                Decision::Outputs(outputs) => match self.check_outputs(&outputs) {
                    Some(reason) => Plan::Failed(reason),
                    None => Plan::Outputs(
                        outputs
                            .iter()
                            .map(|out| {
                                let flat = match out.fields {
                                    OutputFields::Same => fields.to_flat(),
                                    OutputFields::New(new) => new.to_flat(),
                                };
                                (out.destination, flat)
                            })
                            .collect(),
                    ),
                },
            };
            plans.push((i, id, plan));
        }
        plans
    }

    /// Why the event's outputs cannot be appended, if they cannot: one that would loop back
    /// into the route, or one with no fields (no stream entry is empty).
    fn check_outputs(&self, outputs: &[Output<'_>]) -> Option<String> {
        for out in outputs {
            if self.spec.loops_back(out.destination.as_bytes()) {
                self.stats.loops_refused.fetch_add(1, RELAXED);
                return Some(format!(
                    "output to {} refused: it matches the route's source {:?} and would loop \
                     back into the route",
                    out.destination, self.spec.source
                ));
            }
            if let OutputFields::New(fields) = out.fields
                && fields.is_empty()
            {
                return Some(format!(
                    "output to {} has no fields (a stream entry needs at least one)",
                    out.destination
                ));
            }
        }
        None
    }
}

const RELAXED: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;

fn lossy(key: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(key)
}

/// Changes made under the gate, and their log record.
struct Apply<'a> {
    db: &'a Db,
    now: u64,
    limits: sluice_streams::NodeLimits,
    record: Record,
    written: Vec<Bytes>,
    /// Outputs a stream refused, to report once the gate is released.
    refused: Vec<String>,
}

impl Apply<'_> {
    /// Appends `outputs` in order, `XADD dest * fields…` each, logged with the ID it got;
    /// consecutive outputs to one stream share one lookup and lock. Returns how many were
    /// appended (a refused one is recorded in `refused`).
    fn append_runs(&mut self, outputs: &[(&str, Vec<&[u8]>)]) -> u64 {
        let mut appended = 0;
        let mut rest = outputs;
        while let Some(((dest, _), _)) = rest.split_first() {
            let run = rest
                .iter()
                .position(|(d, _)| d != dest)
                .unwrap_or(rest.len());
            let (now_run, later) = rest.split_at(run);
            rest = later;
            let key = match self.written.iter().find(|k| &k[..] == dest.as_bytes()) {
                Some(k) => k.clone(),
                None => Bytes::copy_from_slice(dest.as_bytes()),
            };
            let (now, limits) = (self.now, self.limits);
            let record = &mut self.record;
            let refused = &mut self.refused;
            let (added, created) = self.db.write_or_create(&key, now, |entry, created| {
                let mut added = 0u64;
                for (_, fields) in now_run {
                    match entry.stream.add(AddId::Auto, fields, now, limits) {
                        Ok(id) => {
                            record.begin(3 + fields.len()).arg(b"XADD").arg(&key).id(id);
                            for f in fields {
                                record.arg(f);
                            }
                            added += 1;
                        }
                        Err(e) => refused.push(format!("output to {dest} refused: {e}")),
                    }
                }
                (added, created)
            });
            if added == 0 && created {
                // Nothing went in: leave no empty stream behind.
                self.db.remove(&key, now);
            } else if added > 0 && !self.written.contains(&key) {
                self.written.push(key);
            }
            appended += added;
        }
        appended
    }

    /// Moves the route's group in `key` to `last` (creating it if the route had none there),
    /// `done` entries after `from`.
    fn move_position(
        &mut self,
        key: &[u8],
        group: &[u8],
        from: Option<StreamId>,
        last: StreamId,
        done: u64,
    ) {
        let record = &mut self.record;
        self.db.write(key, self.now, |entry| {
            let stream = &mut entry.stream;
            let read = entries_read(stream, group, from, last, done);
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
pub fn log_create(record: &mut Record, key: &[u8], group: &[u8], id: StreamId, read: Option<u64>) {
    match read {
        Some(n) => {
            record
                .begin(7)
                .arg(b"XGROUP")
                .arg(b"CREATE")
                .arg(key)
                .arg(group)
                .id(id)
                .arg(b"ENTRIESREAD")
                .int(n);
        }
        None => {
            record
                .begin(5)
                .arg(b"XGROUP")
                .arg(b"CREATE")
                .arg(key)
                .arg(group)
                .id(id);
        }
    }
}

/// Gives the route a position in each of `keys` that has none: after the last entry
/// (`start = "$"`) or before the first (`"0"`). One log record for all of them.
pub fn create_positions(broker: &Broker, spec: &RouteSpec, group: &[u8], keys: &[Bytes]) {
    let _gate = broker.keyspace.gate.write();
    let db = broker.keyspace.db(0);
    let now = broker.now_ms();
    let mut record = Record::new(0);
    for key in keys {
        db.write(key, now, |entry| {
            let stream = &mut entry.stream;
            if stream.group(group).is_some() {
                return;
            }
            let at = match spec.start {
                super::spec::Start::New => stream.last_id(),
                super::spec::Start::Beginning => StreamId::MIN,
            };
            let read = stream.estimate_entries_read(at);
            if stream.create_group(group, at, read).is_ok() {
                log_create(&mut record, key, group, at, read);
            }
        });
    }
    let lsn = broker.journal.commit(record);
    drop(_gate);
    broker.journal.write_background(lsn);
}
