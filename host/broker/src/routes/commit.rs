//! Committing one batch of a route: the plugin's answer turned into outputs, dead-letter
//! entries and a new position in the source stream, which the [`Store`] applies as one step.
//!
//! Everything that needs no lock is worked out here: each event's decision, outputs that
//! would loop back into the route, `on_error`. The store then checks that the position is
//! still the one the batch was read from (a concurrent `XGROUP SETID`, `DEL` or a replaced
//! runner would have moved it); if not, nothing is applied and the batch is read again.

use sluice_plugin_host::{Batch, Output, OutputFields, Routed};
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

/// What became of one event of the batch.
enum Fate<'a> {
    /// Its outputs: `outputs[first..first + count]` (none: filtered out).
    Outputs { first: usize, count: usize },
    /// It failed, with this reason.
    Failed(std::borrow::Cow<'a, str>),
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

/// What a batch comes to: the entries to append in order (their fields in one list, so no
/// event costs an allocation of its own), how far the position moves, and what to report.
#[derive(Default)]
struct Resolved<'a> {
    appends: Vec<Append<'a>>,
    fields: Vec<&'a [u8]>,
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
        let mut outputs = Vec::new();
        let fates = self.fates(&mut outputs);
        let letters: Vec<Option<DeadLetter>> = fates
            .iter()
            .enumerate()
            .map(|(i, fate)| match fate {
                Fate::Failed(reason) if self.spec.on_error == OnError::DeadLetter => {
                    let id = self.batch.get(i).map(|(id, _)| id.to_string())?;
                    Some(DeadLetter::new(reason, self.key, &id).route(&self.spec.name))
                }
                _ => None,
            })
            .collect();
        let dlq = self.spec.dead_letter_for(self.key);
        let resolved = self.resolve(&fates, &outputs, &letters, &dlq);
        let commit = BatchCommit {
            source: self.key,
            group: self.group,
            read_after: self.read_after,
            batch: self.batch,
            appends: &resolved.appends,
            fields: &resolved.fields,
            advance: resolved.advance,
            dropped: resolved.dropped,
            skipped: resolved.skipped,
            stats: self.stats,
        };
        let refused = match store.commit_batch(&commit) {
            Committed::Stale => return Applied::Stale,
            Committed::Done { refused } => refused,
        };
        for failure in resolved.failures.into_iter().chain(refused) {
            self.stats.error(&self.spec.name, failure);
        }
        Applied::Done {
            halted: resolved.halted,
        }
    }

    /// What became of each event, in batch order; their outputs are gathered in `outputs`.
    /// An event whose outputs would loop back into the route, or have no fields, failed.
    fn fates<'a>(&'a self, outputs: &mut Vec<Output<'a>>) -> Vec<Fate<'a>> {
        let events = self.batch.len();
        let mut fates = Vec::with_capacity(events);
        match self.answer {
            Answer::Whole(routed) => {
                outputs.extend(routed.outputs());
                let (mut next, mut failures) = (0, routed.failures().iter().peekable());
                for event in 0..events {
                    let first = next;
                    // Outputs come in event order (the host checked the plugin's answer).
                    while outputs.get(next).is_some_and(|o| o.event == event) {
                        next += 1;
                    }
                    match failures.next_if(|f| f.event == event) {
                        Some(f) => fates.push(Fate::Failed(f.reason.as_str().into())),
                        None => fates.push(Fate::Outputs {
                            first,
                            count: next - first,
                        }),
                    }
                }
            }
            Answer::PerEvent(each) => {
                for answer in each.iter().take(events) {
                    fates.push(match answer {
                        Err(reason) => Fate::Failed(reason.as_str().into()),
                        Ok(routed) => match routed.failures().first() {
                            Some(f) => Fate::Failed(f.reason.as_str().into()),
                            None => {
                                let first = outputs.len();
                                outputs.extend(routed.outputs());
                                Fate::Outputs {
                                    first,
                                    count: outputs.len() - first,
                                }
                            }
                        },
                    });
                }
            }
        }
        for fate in &mut fates {
            if let Fate::Outputs { first, count } = *fate
                && let Some(reason) = self.check_outputs(&outputs[first..first + count])
            {
                *fate = Fate::Failed(reason.into());
            }
        }
        fates
    }

    /// Turns the fates into appends, in event order: each event's outputs, or its
    /// dead-letter entry (`letters[i]`, to `dlq`); stops before an event that halts the route.
    fn resolve<'a>(
        &'a self,
        fates: &'a [Fate<'a>],
        outputs: &'a [Output<'a>],
        letters: &'a [Option<DeadLetter>],
        dlq: &'a [u8],
    ) -> Resolved<'a> {
        let mut resolved = Resolved::default();
        let mut done = 0u64;
        for (index, (fate, letter)) in fates.iter().zip(letters).enumerate() {
            let Some((id, event)) = self.batch.get(index) else {
                break;
            };
            match fate {
                Fate::Outputs { first, count } => {
                    if *count == 0 {
                        resolved.dropped += 1;
                    }
                    for out in &outputs[*first..first + count] {
                        let at = resolved.fields.len();
                        match out.fields {
                            OutputFields::Same => resolved
                                .fields
                                .extend(event.iter().flat_map(|(n, v)| [n, v])),
                            OutputFields::New(new) => {
                                resolved.fields.extend(new.iter().flat_map(|(n, v)| [n, v]))
                            }
                        }
                        resolved.appends.push(Append {
                            key: out.destination.as_bytes(),
                            fields: at..resolved.fields.len(),
                            event: index,
                            dead_letter: false,
                        });
                    }
                }
                Fate::Failed(reason) => {
                    let source = String::from_utf8_lossy(self.key);
                    resolved
                        .failures
                        .push(format!("event {id} of {source}: {reason}"));
                    match (self.spec.on_error, letter) {
                        (OnError::DeadLetter, Some(letter)) => {
                            let at = resolved.fields.len();
                            let flat = event.to_flat();
                            resolved.fields.extend(letter.entry(&flat));
                            resolved.appends.push(Append {
                                key: dlq,
                                fields: at..resolved.fields.len(),
                                event: index,
                                dead_letter: true,
                            });
                        }
                        (OnError::Skip, _) => resolved.skipped += 1,
                        (OnError::Halt, _) => {
                            resolved.halted =
                                Some(format!("halted before event {id} of {source}: {reason}"));
                            break;
                        }
                        (OnError::DeadLetter, None) => {}
                    }
                }
            }
            done += 1;
            resolved.advance = Some((StreamId::new(id.ms, id.seq), done));
        }
        resolved
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
                    out.destination,
                    self.spec.source.to_string()
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
