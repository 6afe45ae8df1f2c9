//! A claim policy in the embedded store: the group's pending entries and consumers, copied
//! under the stream's lock, and the policy's decisions applied as one step and one log record.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use sluice_plugin_host::{ConsumerInfo, EntryId, Nack, PendingInfo, PolicyAction};
use sluice_streams::{CollectSink, ConsumerGroup, FATAL_DELIVERY_COUNT, Stream, StreamId};

use super::append_logged;
use crate::Broker;
use crate::persist::Record;
use crate::plugins::dead_letter::DeadLetter;
use crate::ready::ReadyKeys;
use crate::store::{GroupView, PolicyApplied, PolicyCommit};

/// See [`crate::store::Store::group_view`].
pub(super) fn view(broker: &Broker, stream: &[u8], group: &[u8]) -> Option<GroupView> {
    let now = broker.now_ms();
    let db = broker.keyspace.db(0);
    db.read_as(stream, now, |stream: &Stream| {
        let group = stream.group(group)?;
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
                    nack: nack_of(group, p.id, p.delivery_count),
                })
            })
            .collect();
        Some(GroupView { pending, consumers })
    })
    .ok()
    .flatten()
    .flatten()
}

/// How pending entry `id` (delivered `count` times) was NACKed: `FATAL` pins the count to
/// [`FATAL_DELIVERY_COUNT`], the only trace the group keeps of the mode.
fn nack_of(group: &ConsumerGroup, id: StreamId, count: u64) -> Option<Nack> {
    group
        .is_nacked(id)
        .then_some(if count == FATAL_DELIVERY_COUNT {
            Nack::Fatal
        } else {
            Nack::Retry
        })
}

/// See [`crate::store::Store::apply_decisions`].
pub(super) fn apply(broker: &Broker, commit: &PolicyCommit<'_>) -> PolicyApplied {
    let any_dead_letter = commit
        .decisions
        .iter()
        .any(|d| matches!(d.action, PolicyAction::DeadLetter { .. }));
    let _gate = if any_dead_letter {
        Gate::Exclusive(broker.keyspace.gate.write())
    } else {
        Gate::Shared(broker.keyspace.gate.read())
    };
    // Checked again under the gate, as a route's commit is: the next round decides again.
    if broker.journal.wal().is_some_and(|wal| wal.failed()) {
        return PolicyApplied::default();
    }
    let db = broker.keyspace.db(0);
    let now = broker.now_ms();
    let mut record = Record::new(0);
    let mut applied = PolicyApplied::default();
    let mut letters = Vec::new();
    let mut counts = Counts::default();
    let _ = db.write_as(commit.stream, now, |stream: &mut Stream| {
        letters = decide(stream, commit, now, &mut record, &mut counts, &mut applied);
    });
    // The new owners blocked in XREADGROUP, and the dead-letter streams' readers and routes.
    let mut ready = ReadyKeys::default();
    ready.push(0, &Bytes::copy_from_slice(commit.stream));
    let limits = broker.settings.node_limits();
    for (dlq, fields) in &letters {
        let dlq = Bytes::copy_from_slice(dlq.as_bytes());
        let flat: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        match append_logged(db, &mut record, &dlq, &flat, now, limits) {
            Ok(_) => {
                counts.dead_lettered += 1;
                ready.push(0, &dlq);
            }
            Err(e) => applied.errors.push(format!(
                "dead-letter stream {} refused an entry: {e}",
                String::from_utf8_lossy(&dlq)
            )),
        }
    }
    let stats = commit.stats;
    stats.acked.fetch_add(counts.acked, Relaxed);
    stats.reassigned.fetch_add(counts.reassigned, Relaxed);
    stats.dead_lettered.fetch_add(counts.dead_lettered, Relaxed);
    stats.stale.fetch_add(counts.stale, Relaxed);
    let lsn = broker.journal.commit(record);
    broker.serve_ready(&mut ready);
    drop(_gate);
    broker.journal.write_background(lsn);
    applied
}

/// What a policy's decisions did, counted before any reader sees it.
#[derive(Debug, Default)]
struct Counts {
    acked: u64,
    reassigned: u64,
    dead_lettered: u64,
    stale: u64,
}

/// A dead-letter entry to append: the stream and its fields.
type Letter = (String, Vec<Vec<u8>>);

/// Applies the acks and reassignments to `stream` and logs them; returns the dead-letter
/// entries to append (their entries are acknowledged here).
fn decide(
    stream: &mut Stream,
    commit: &PolicyCommit<'_>,
    now: u64,
    record: &mut Record,
    counts: &mut Counts,
    applied: &mut PolicyApplied,
) -> Vec<Letter> {
    let (key, group) = (commit.stream, commit.group);
    let mut acked = Vec::new();
    let mut reassigned = Vec::new();
    let mut letters = Vec::new();
    for decision in commit.decisions {
        let Some(info) = commit.seen.get(decision.entry) else {
            continue;
        };
        let id = StreamId::new(info.id.ms, info.id.seq);
        // Only an entry exactly as the plugin saw it: same owner, same deliveries, NACKed or
        // not as it was (an entry NACKed, or claimed, since is the clients' again).
        let unchanged = stream.group(group).is_some_and(|g| {
            g.pending_entry(id).is_some_and(|p| {
                p.consumer == info.owner.as_bytes()
                    && p.delivery_count == info.deliveries
                    && nack_of(g, id, p.delivery_count) == info.nack
            })
        });
        if !unchanged {
            counts.stale += 1;
            continue;
        }
        match &decision.action {
            PolicyAction::Ack => {
                acked.push(id);
                counts.acked += 1;
            }
            PolicyAction::Reassign(to) => {
                let Some(g) = stream.group_mut(group) else {
                    continue;
                };
                match g.reassign(id, to.as_bytes(), now) {
                    Ok(_) => reassigned.push((to.as_str(), id)),
                    Err(e) => applied
                        .errors
                        .push(format!("reassigning {id} to {to}: {e}")),
                }
            }
            PolicyAction::DeadLetter { key: dlq, reason } => {
                let fields = dead_letter_entry(stream, commit, id, info, reason);
                letters.push((dlq.clone(), fields));
                acked.push(id);
            }
        }
    }
    log_reassigned(record, key, group, now, &mut reassigned);
    counts.reassigned += reassigned.len() as u64;
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
    letters
}

/// The dead-letter entry of pending entry `id` (`info` as the policy saw it): its fields,
/// then the `dlq-*` ones.
fn dead_letter_entry(
    stream: &Stream,
    commit: &PolicyCommit<'_>,
    id: StreamId,
    info: &PendingInfo,
    reason: &str,
) -> Vec<Vec<u8>> {
    let mut sink = CollectSink::default();
    stream.get(id, &mut sink);
    let event = sink.entries.pop().map(|(_, f)| f).unwrap_or_default();
    let event: Vec<&[u8]> = event.iter().map(Vec::as_slice).collect();
    let letter = DeadLetter::new(reason, commit.stream, &id.to_string()).policy(
        commit.group,
        info.deliveries,
        &info.owner,
        commit.policy,
    );
    letter
        .entry(&event)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// Logs one `SLUICE REASSIGN key group consumer <now> id…` per new owner: replayed, it sets
/// exactly this state.
fn log_reassigned(
    record: &mut Record,
    key: &[u8],
    group: &[u8],
    now: u64,
    reassigned: &mut [(&str, StreamId)],
) {
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
}

/// The keyspace gate, held shared or exclusively (until dropped: the guards are never read).
#[allow(dead_code)]
enum Gate<'a> {
    Shared(parking_lot::RwLockReadGuard<'a, ()>),
    Exclusive(parking_lot::RwLockWriteGuard<'a, ()>),
}
