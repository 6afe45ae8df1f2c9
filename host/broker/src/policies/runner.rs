//! The policy thread: every `interval_ms`, copy the group's pending entries and consumers,
//! ask the plugin page by page, then apply its decisions.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_plugin_host::{
    ConsumerInfo, EntryId, PendingInfo, PluginError, PolicyAction, PolicyDecision, PolicyInstance,
};
use sluice_streams::{AddId, CollectSink, StreamId};

use super::Policy;
use crate::Broker;
use crate::persist::Record;
use crate::ready::ReadyKeys;
use crate::routes::RouteState;
use crate::routes::commit::{DLQ_ID, DLQ_REASON, DLQ_SOURCE};

/// Most pending entries handed to the plugin in one call.
pub const PER_CALL: usize = 1000;

/// Extra fields of a dead-lettered pending entry (besides reason, source and ID).
pub const DLQ_GROUP: &[u8] = b"dlq-group";
/// The entry's delivery count.
pub const DLQ_DELIVERIES: &[u8] = b"dlq-deliveries";
/// The consumer that owned it last.
pub const DLQ_OWNER: &[u8] = b"dlq-owner";
/// The policy that gave up on it.
pub const DLQ_POLICY: &[u8] = b"dlq-policy";

/// Starts the policy's thread.
pub fn spawn(
    broker: Arc<Broker>,
    policy: Arc<Policy>,
    plugin: PolicyInstance,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("policy-{}", policy.name))
        .spawn(move || {
            let watched = policy.clone();
            let mut runner = Runner {
                broker,
                policy,
                plugin,
            };
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run()));
            if ran.is_err() {
                watched.set_state(RouteState::Failed);
                watched.stats.error(
                    &watched.name,
                    "the policy's thread panicked (a bug in Sluice); SLUICE RELOAD restarts it"
                        .into(),
                );
            }
        })
}

struct Runner {
    broker: Arc<Broker>,
    policy: Arc<Policy>,
    plugin: PolicyInstance,
}

/// The group as copied for one evaluation.
struct Copied {
    pending: Vec<PendingInfo>,
    consumers: Vec<ConsumerInfo>,
}

impl Runner {
    fn run(&mut self) {
        let interval = Duration::from_millis(self.policy.spec.interval_ms);
        while !self.policy.sleep_unless_stopped(interval) {
            let started = Instant::now();
            match self.evaluate() {
                Ok(()) => {
                    self.policy.stats.evaluations.fetch_add(1, Relaxed);
                    self.policy.set_state(RouteState::Running);
                }
                Err(EvalError::Plugin(e)) => {
                    self.policy.stats.failed.fetch_add(1, Relaxed);
                    let retry = matches!(e, PluginError::Init { .. });
                    self.policy.set_state(if retry {
                        RouteState::Retrying
                    } else {
                        RouteState::Running
                    });
                    self.policy.stats.error(
                        &self.policy.name,
                        format!("evaluation failed, nothing changed: {e}"),
                    );
                }
            }
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.policy.stats.last_duration_us.store(us, Relaxed);
        }
        self.policy.set_state(RouteState::Stopped);
    }

    /// One evaluation of the group.
    fn evaluate(&mut self) -> Result<(), EvalError> {
        let spec = &self.policy.spec;
        let now = self.broker.now_ms();
        let Some(copied) = self.copy(now) else {
            // No stream or no group (yet): nothing to decide.
            self.policy.stats.last_pending.store(0, Relaxed);
            return Ok(());
        };
        self.policy
            .stats
            .last_pending
            .store(copied.pending.len() as u64, Relaxed);
        let mut decisions = Vec::new();
        for (page, entries) in copied.pending.chunks(PER_CALL).enumerate() {
            let answer = self
                .plugin
                .evaluate(&spec.stream, &spec.group, entries, &copied.consumers)
                .map_err(EvalError::Plugin)?;
            decisions.extend(answer.into_iter().map(|d| PolicyDecision {
                entry: d.entry + page * PER_CALL,
                action: d.action,
            }));
        }
        if !decisions.is_empty() {
            self.apply(&copied.pending, decisions);
        }
        Ok(())
    }

    /// The group's pending entries (oldest first) and consumers, if the group exists.
    /// Consumers whose names are not UTF-8 cannot be passed to a plugin: they and their
    /// entries are left out.
    fn copy(&self, now: u64) -> Option<Copied> {
        let spec = &self.policy.spec;
        let db = self.broker.keyspace.db(0);
        db.read(spec.stream.as_bytes(), now, |entry| {
            let group = entry.stream.group(spec.group.as_bytes())?;
            let consumers = group
                .consumers()
                .filter_map(|c| {
                    Some(ConsumerInfo {
                        name: std::str::from_utf8(c.name()).ok()?.to_owned(),
                        seen_idle_ms: c.idle_ms(now),
                        active_idle_ms: c.active_time_ms().map(|t| now.saturating_sub(t)),
                        pending: c.pending_count() as u64,
                    })
                })
                .collect();
            let pending = group
                .pending_entries()
                .filter_map(|p| {
                    Some(PendingInfo {
                        id: EntryId {
                            ms: p.id.ms,
                            seq: p.id.seq,
                        },
                        owner: std::str::from_utf8(p.consumer).ok()?.to_owned(),
                        idle_ms: p.idle_ms(now),
                        deliveries: p.delivery_count,
                    })
                })
                .collect();
            Some(Copied { pending, consumers })
        })
        .flatten()
    }

    /// Applies `decisions` about `seen`: one log record, under the keyspace gate (held
    /// exclusively when a dead-letter stream is written too, so the append and the
    /// acknowledgement are one step for every client).
    fn apply(&self, seen: &[PendingInfo], decisions: Vec<PolicyDecision>) {
        let spec = &self.policy.spec;
        let stats = &self.policy.stats;
        let key = spec.stream.as_bytes();
        let group = spec.group.as_bytes();
        let broker = &self.broker;
        let any_dead_letter = decisions
            .iter()
            .any(|d| matches!(d.action, PolicyAction::DeadLetter { .. }));
        let gate = if any_dead_letter {
            Gate::Exclusive(broker.keyspace.gate.write())
        } else {
            Gate::Shared(broker.keyspace.gate.read())
        };
        let db = broker.keyspace.db(0);
        let now = broker.now_ms();
        let mut record = Record::new(0);
        let mut letters: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
        db.write(key, now, |entry| {
            let stream = &mut entry.stream;
            let mut acked = Vec::new();
            let mut reassigned = Vec::new();
            for decision in &decisions {
                let Some(info) = seen.get(decision.entry) else {
                    continue;
                };
                let id = StreamId::new(info.id.ms, info.id.seq);
                // Only an entry exactly as the plugin saw it: same owner, same deliveries.
                let unchanged = stream
                    .group(group)
                    .and_then(|g| g.pending_entry(id))
                    .is_some_and(|p| {
                        p.consumer == info.owner.as_bytes() && p.delivery_count == info.deliveries
                    });
                if !unchanged {
                    stats.stale.fetch_add(1, Relaxed);
                    continue;
                }
                match &decision.action {
                    PolicyAction::Ack => {
                        acked.push(id);
                        stats.acked.fetch_add(1, Relaxed);
                    }
                    PolicyAction::Reassign(to) => {
                        let Some(g) = stream.group_mut(group) else {
                            continue;
                        };
                        match g.reassign(id, to.as_bytes(), now) {
                            Ok(_) => reassigned.push((to.as_str(), id)),
                            Err(e) => stats
                                .error(&self.policy.name, format!("reassigning {id} to {to}: {e}")),
                        }
                    }
                    PolicyAction::DeadLetter { key: dlq, reason } => {
                        let mut sink = CollectSink::default();
                        stream.get(id, &mut sink);
                        let mut fields = sink
                            .entries
                            .pop()
                            .map(|(_, fields)| fields)
                            .unwrap_or_default();
                        let mut id_text = Vec::new();
                        id.write_to(&mut id_text);
                        for (name, value) in [
                            (DLQ_REASON, reason.as_bytes().to_vec()),
                            (DLQ_SOURCE, key.to_vec()),
                            (DLQ_ID, id_text),
                            (DLQ_GROUP, group.to_vec()),
                            (DLQ_DELIVERIES, info.deliveries.to_string().into_bytes()),
                            (DLQ_OWNER, info.owner.clone().into_bytes()),
                            (DLQ_POLICY, self.policy.name.clone().into_bytes()),
                        ] {
                            fields.push(name.to_vec());
                            fields.push(value);
                        }
                        letters.push((dlq.clone(), fields));
                        acked.push(id);
                    }
                }
            }
            if !reassigned.is_empty() {
                // One `SLUICE REASSIGN` per new owner: replayed, it sets exactly this state.
                reassigned.sort_unstable();
                for run in reassigned.chunk_by(|a, b| a.0 == b.0) {
                    let to = run[0].0;
                    record
                        .begin(6 + run.len())
                        .arg(b"SLUICE")
                        .arg(b"REASSIGN")
                        .arg(key)
                        .arg(group)
                        .arg(to.as_bytes())
                        .int(now);
                    for (_, id) in run {
                        record.id(*id);
                    }
                }
                stats.reassigned.fetch_add(reassigned.len() as u64, Relaxed);
            }
            if let Some(g) = stream.group_mut(group)
                && !acked.is_empty()
            {
                g.ack(&acked);
                record
                    .begin(3 + acked.len())
                    .arg(b"XACK")
                    .arg(key)
                    .arg(group);
                for id in &acked {
                    record.id(*id);
                }
            }
        });
        // The new owners blocked in XREADGROUP, and the dead-letter streams' readers and routes.
        let mut ready = ReadyKeys::default();
        ready.push(0, &Bytes::copy_from_slice(key));
        let limits = broker.settings.node_limits();
        let mut dead_lettered = 0;
        for (dlq, fields) in &letters {
            let dlq = Bytes::copy_from_slice(dlq.as_bytes());
            let flat: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
            let added = db.write_or_create(&dlq, now, |entry, _| {
                entry.stream.add(AddId::Auto, &flat, now, limits)
            });
            match added {
                Ok(new) => {
                    record.begin(3 + flat.len()).arg(b"XADD").arg(&dlq).id(new);
                    for f in &flat {
                        record.arg(f);
                    }
                    dead_lettered += 1;
                    ready.push(0, &dlq);
                }
                Err(e) => stats.error(
                    &self.policy.name,
                    format!(
                        "dead-letter stream {} refused an entry: {e}",
                        String::from_utf8_lossy(&dlq)
                    ),
                ),
            }
        }
        stats.dead_lettered.fetch_add(dead_lettered, Relaxed);
        let lsn = broker.journal.commit(record);
        broker.serve_ready(&mut ready);
        drop(gate);
        broker.journal.write_background(lsn);
    }
}

/// The keyspace gate, held shared or exclusively (until dropped: the guards are never read).
#[allow(dead_code)]
enum Gate<'a> {
    Shared(parking_lot::RwLockReadGuard<'a, ()>),
    Exclusive(parking_lot::RwLockWriteGuard<'a, ()>),
}

enum EvalError {
    Plugin(PluginError),
}
