//! Committing one batch of a route: the plugin's answer turned into outputs, dead-letter
//! entries and a new position in the source stream, which the [`Store`] applies as one step.
//!
//! Everything that needs no lock is worked out here: each event's decision, outputs that
//! would loop back into the route, `on_error`. The store then checks that the position is
//! still the one the batch was read from (a concurrent `XGROUP SETID`, `DEL` or a replaced
//! runner would have moved it); if not, nothing is applied and the batch is read again.

use sluice_plugin_host::{Batch, EntryId, Output, OutputFields, Routed};
use sluice_streams::StreamId;

use super::RouteStats;
use super::spec::{OnError, RouteSpec};
use crate::plugins::dead_letter::DeadLetter;
use crate::store::{Append, BatchCommit, Committed, Store};

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

/// What a batch's plans come to: the entries to append in order, how far the position
/// moves, and what to report.
struct Resolved<'a> {
    appends: Vec<Append<'a>>,
    advance: Option<(StreamId, u64)>,
    halted: Option<String>,
    failures: Vec<String>,
    /// Events with no output (filtered out).
    dropped: u64,
    /// Failed events dropped (`on_error = "skip"`).
    skipped: u64,
}

impl Commit<'_> {
    /// Works out everything that needs no lock (the decisions, loop checks, dead-letter
    /// entries), then has `store` apply it as one step; see [`Store::commit_batch`].
    pub fn apply(self, store: &dyn Store) -> Applied {
        let plans = self.plan();
        let letters: Vec<Option<DeadLetter>> = plans
            .iter()
            .map(|(_, id, plan)| match plan {
                Plan::Failed(reason) if self.spec.on_error == OnError::DeadLetter => {
                    Some(DeadLetter::new(reason, self.key, &id.to_string()).route(&self.spec.name))
                }
                _ => None,
            })
            .collect();
        let dlq = self.spec.dead_letter_for(self.key);
        let resolved = self.resolve(&plans, &letters, &dlq);
        let commit = BatchCommit {
            source: self.key,
            group: self.group,
            read_after: self.read_after,
            appends: &resolved.appends,
            advance: resolved.advance,
            stats: self.stats,
        };
        let refused = match store.commit_batch(&commit) {
            Committed::Stale => return Applied::Stale,
            Committed::Done { refused } => refused,
        };
        self.stats.dropped.fetch_add(resolved.dropped, RELAXED);
        self.stats.skipped.fetch_add(resolved.skipped, RELAXED);
        for failure in resolved.failures.into_iter().chain(refused) {
            self.stats.error(&self.spec.name, failure);
        }
        Applied::Done {
            halted: resolved.halted,
        }
    }

    /// Turns the plans into appends, in event order: each event's outputs, or its
    /// dead-letter entry (`letters[i]`, to `dlq`); stops before an event that halts the route.
    fn resolve<'a>(
        &'a self,
        plans: &'a [(usize, EntryId, Plan<'a>)],
        letters: &'a [Option<DeadLetter>],
        dlq: &'a [u8],
    ) -> Resolved<'a> {
        let mut resolved = Resolved {
            appends: Vec::new(),
            advance: None,
            halted: None,
            failures: Vec::new(),
            dropped: 0,
            skipped: 0,
        };
        let mut done = 0u64;
        for ((index, id, plan), letter) in plans.iter().zip(letters) {
            match plan {
                Plan::Outputs(list) => {
                    if list.is_empty() {
                        resolved.dropped += 1;
                    }
                    resolved
                        .appends
                        .extend(list.iter().map(|(dest, fields)| Append {
                            key: dest.as_bytes(),
                            fields: fields.clone(),
                            dead_letter: false,
                        }));
                }
                Plan::Failed(reason) => {
                    let source = String::from_utf8_lossy(self.key);
                    resolved
                        .failures
                        .push(format!("event {id} of {source}: {reason}"));
                    match self.spec.on_error {
                        OnError::DeadLetter => {
                            let event: Vec<&[u8]> = self
                                .batch
                                .get(*index)
                                .map(|(_, f)| f.to_flat())
                                .unwrap_or_default();
                            if let Some(letter) = letter {
                                resolved.appends.push(Append {
                                    key: dlq,
                                    fields: letter.entry(&event),
                                    dead_letter: true,
                                });
                            }
                        }
                        OnError::Skip => resolved.skipped += 1,
                        OnError::Halt => {
                            resolved.halted =
                                Some(format!("halted before event {id} of {source}: {reason}"));
                            break;
                        }
                    }
                }
            }
            done += 1;
            resolved.advance = Some((StreamId::new(id.ms, id.seq), done));
        }
        resolved
    }

    /// What to do with each event, in batch order, worked out without any lock.
    fn plan(&self) -> Vec<(usize, EntryId, Plan<'_>)> {
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
