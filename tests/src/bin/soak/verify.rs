//! The verdict, after the load has stopped and the groups have drained: no acknowledged event
//! lost, each producer's `seq` gap-free among what trimming left, no error nobody asked for,
//! memory flat after warm-up. The group checks are in `verify_groups`.

use std::collections::HashMap;

use anyhow::{Context, Result};
use redis::Value;
use redis::aio::MultiplexedConnection;

use crate::produce::ProducerLog;
use crate::proto::{self, StreamId};
use crate::report::Sample;
use crate::stats::Errors;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Holds.
    Pass,
    /// Does not hold: the run fails.
    Fail,
    /// Could not be judged (says why in its notes); does not fail the run.
    Skip,
}

/// One numbered check of the verdict.
#[derive(Debug)]
pub struct Check {
    /// What it checks, in a few words.
    pub name: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
    /// Figures and findings, one per line.
    pub notes: Vec<String>,
}

impl Check {
    /// A check that passes unless [`Check::fail`] is called.
    pub fn new(name: &'static str) -> Check {
        Check {
            name,
            outcome: Outcome::Pass,
            notes: Vec::new(),
        }
    }

    /// Adds a finding that fails the check.
    pub fn fail(&mut self, note: String) {
        self.outcome = Outcome::Fail;
        self.notes.push(note);
    }

    /// Adds a figure.
    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

/// A stream entry as the verdict needs it: ID and the producer fields, if readable.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    /// Entry ID.
    pub id: StreamId,
    /// `(p, seq)` when both fields are numbers.
    pub origin: Option<(u64, u64)>,
}

/// Every entry of `key`, in order, by `XRANGE` pages of 10 000.
pub async fn read_stream(conn: &mut MultiplexedConnection, key: &str) -> Result<Vec<Stored>> {
    let mut out = Vec::new();
    let mut start = "-".to_owned();
    loop {
        let reply: Value = redis::cmd("XRANGE")
            .arg(key)
            .arg(&start)
            .arg("+")
            .arg("COUNT")
            .arg(10_000)
            .query_async(conn)
            .await
            .with_context(|| format!("XRANGE {key} {start} +"))?;
        let page = proto::entries(&reply)?;
        let Some(last) = page.last().map(|e| e.id) else {
            return Ok(out);
        };
        out.extend(page.iter().map(|e| Stored {
            id: e.id,
            origin: e.number(b"p").zip(e.number(b"seq")),
        }));
        start = last.next().to_string();
    }
}

/// Check 1: every acknowledged XADD newer than its stream's first entry is there, with the
/// fields it was written with; each producer's `seq` runs without gaps among what remains.
pub fn events(keys: &[String], stored: &[Vec<Stored>], producers: &[ProducerLog]) -> Check {
    let mut check = Check::new("no acknowledged event lost; per-producer seq gap-free");
    let (mut acked_total, mut trimmed_total, mut unconfirmed_present) = (0u64, 0u64, 0u64);
    for (stream, entries) in stored.iter().enumerate() {
        let key = &keys[stream];
        let logs: HashMap<u64, &ProducerLog> = producers
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| (l.producer as u64, l))
            .collect();
        // (id, producer, seq) of every acknowledged XADD to this stream, by ID.
        let mut acked: Vec<(StreamId, u64, u64)> = Vec::new();
        for (&p, log) in &logs {
            let known = log
                .ids
                .iter()
                .enumerate()
                .filter(|(_, id)| **id != StreamId::ZERO);
            let mut previous = StreamId::ZERO;
            for (seq, &id) in known {
                if id <= previous {
                    check.fail(format!(
                        "{key}: producer {p} got XADD IDs out of order at seq {seq}"
                    ));
                }
                previous = id;
                acked.push((id, p, seq as u64));
            }
        }
        acked.sort_unstable();
        acked_total += acked.len() as u64;
        let Some(first) = entries.first().map(|e| e.id) else {
            if !acked.is_empty() {
                check.fail(format!(
                    "{key}: empty, though {} XADDs were acknowledged",
                    acked.len()
                ));
            }
            continue;
        };
        let trimmed = acked.partition_point(|a| a.0 < first);
        trimmed_total += trimmed as u64;
        // Merge walk: both sides are sorted by ID.
        let (mut lost, mut altered) = (Vec::new(), 0u64);
        let mut at = 0;
        for &(id, p, seq) in &acked[trimmed..] {
            while at < entries.len() && entries[at].id < id {
                at += 1;
            }
            match entries.get(at) {
                Some(e) if e.id == id => {
                    if e.origin != Some((p, seq)) {
                        altered += 1;
                    }
                }
                _ => lost.push(id),
            }
        }
        if !lost.is_empty() {
            let first_lost: Vec<String> = lost.iter().take(5).map(|id| id.to_string()).collect();
            check.fail(format!(
                "{key}: {} acknowledged entries missing (first entry {first}), e.g. {}",
                lost.len(),
                first_lost.join(", ")
            ));
        }
        if altered > 0 {
            check.fail(format!(
                "{key}: {altered} entries hold other p/seq than were written"
            ));
        }
        let (foreign, gaps, unconfirmed) = seq_runs(entries, &logs);
        unconfirmed_present += unconfirmed;
        if foreign > 0 {
            check.fail(format!(
                "{key}: {foreign} entries no producer of this stream wrote"
            ));
        }
        for gap in gaps.iter().take(5) {
            check.fail(format!("{key}: {gap}"));
        }
    }
    check.note(format!(
        "{acked_total} acknowledged XADDs; {trimmed_total} trimmed away (older than the first \
         entry); {unconfirmed_present} unacknowledged ones present"
    ));
    check
}

/// Walks the stored entries per producer: counts entries of unknown origin, describes seq
/// gaps (a missing seq that was acknowledged) and repeats, counts present seqs whose XADD
/// outcome the producer never learned.
fn seq_runs(entries: &[Stored], logs: &HashMap<u64, &ProducerLog>) -> (u64, Vec<String>, u64) {
    let (mut foreign, mut gaps, mut unconfirmed) = (0u64, Vec::new(), 0u64);
    let mut previous: HashMap<u64, u64> = HashMap::new();
    for e in entries {
        let Some((p, seq)) = e.origin else {
            foreign += 1;
            continue;
        };
        let Some(log) = logs.get(&p) else {
            foreign += 1;
            continue;
        };
        let Some(&id) = log.ids.get(seq as usize) else {
            foreign += 1;
            continue;
        };
        if id == StreamId::ZERO {
            unconfirmed += 1;
        }
        if let Some(&prev) = previous.get(&p) {
            if seq <= prev {
                gaps.push(format!(
                    "producer {p}: seq {seq} after seq {prev} at {}",
                    e.id
                ));
            }
            let missing = (prev + 1..seq)
                .filter(|&s| {
                    log.ids
                        .get(s as usize)
                        .is_some_and(|id| *id != StreamId::ZERO)
                })
                .count();
            if missing > 0 {
                gaps.push(format!(
                    "producer {p}: {missing} acknowledged seqs missing between {prev} and {seq}"
                ));
            }
        }
        previous.insert(p, seq);
    }
    (foreign, gaps, unconfirmed)
}

/// Check 3: no error replies or connection failures but the ones the garbage asked for.
pub fn errors(errors: &Errors, errorstats: &str) -> Check {
    let mut check = Check::new("no errors except those the garbage clients asked for");
    for (kind, n) in &errors.unexpected {
        let example = errors.examples.get(kind).map_or("", String::as_str);
        check.fail(format!("unexpected {kind} x{n}: {example}"));
    }
    let expected: Vec<String> = errors
        .expected
        .iter()
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
    check.note(format!(
        "garbage answered with: {}",
        none_if_empty(&expected)
    ));
    let server: Vec<&str> = errorstats
        .lines()
        .filter(|l| l.starts_with("errorstat_"))
        .map(str::trim)
        .collect();
    check.note(format!(
        "server INFO errorstats: {}",
        none_if_empty(&server)
    ));
    check
}

fn none_if_empty<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What "flat" means for check 4.
#[derive(Debug, Clone, Copy)]
pub struct MemoryBound {
    /// `--maxlen` (0: no trimming, so no flat memory to expect).
    pub maxlen: u64,
    /// Length of the load, s.
    pub duration_s: f64,
    /// Warm-up share of the run, %.
    pub warmup_pct: u64,
    /// Largest growth allowed after warm-up, %.
    pub growth_pct: u64,
}

/// Check 4: RSS at the end within `growth_pct` % of RSS after warm-up (the first sample past
/// `warmup_pct` % of the run at which every stream had reached `maxlen`).
pub fn memory(bound: &MemoryBound, samples: &[Sample]) -> Check {
    let MemoryBound {
        maxlen,
        duration_s,
        warmup_pct,
        growth_pct,
    } = *bound;
    let mut check = Check::new("memory flat after warm-up");
    let warm = duration_s * warmup_pct as f64 / 100.0;
    let base = samples
        .iter()
        .find(|s| s.elapsed >= warm && s.lens.iter().all(|&len| len >= maxlen));
    let (Some(base), Some(end)) = (base, samples.last()) else {
        check.outcome = Outcome::Skip;
        let why = if maxlen == 0 {
            "--maxlen 0: the streams grow by design".to_owned()
        } else {
            format!("the streams never all reached --maxlen {maxlen} after warm-up; run longer")
        };
        check.note(why);
        return check;
    };
    if maxlen == 0 {
        check.outcome = Outcome::Skip;
        check.note("--maxlen 0: the streams grow by design".into());
    }
    if std::ptr::eq(base, end) {
        check.outcome = Outcome::Skip;
        check.note("no sample after the warm-up one; run longer or shorten --interval".into());
        return check;
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let growth = (end.rss as f64 / base.rss.max(1) as f64 - 1.0) * 100.0;
    let text = format!(
        "RSS {:.1} MiB at {:.0}s (after warm-up) -> {:.1} MiB at {:.0}s: {growth:+.1}% (bound +{growth_pct}%)",
        mib(base.rss),
        base.elapsed,
        mib(end.rss),
        end.elapsed
    );
    if check.outcome == Outcome::Pass && growth > growth_pct as f64 {
        check.fail(text);
    } else {
        check.note(text);
    }
    // A one-time step (a first background snapshot, say) and a steady climb fail alike above;
    // the second half of the run tells them apart.
    if let Some(half) = samples.iter().find(|s| s.elapsed >= duration_s / 2.0)
        && !std::ptr::eq(half, end)
    {
        let trend = (end.rss as f64 / half.rss.max(1) as f64 - 1.0) * 100.0;
        check.note(format!(
            "second half alone: {:.1} MiB at {:.0}s -> {:.1} MiB: {trend:+.1}%",
            mib(half.rss),
            half.elapsed,
            mib(end.rss)
        ));
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    /// Producer 0 wrote seq 0..n at IDs 1..=n; the stream keeps `kept` of them.
    fn case(n: u64, kept: impl Fn(u64) -> bool) -> (Vec<ProducerLog>, Vec<Vec<Stored>>) {
        let log = ProducerLog {
            producer: 0,
            stream: 0,
            ids: (1..=n).map(id).collect(),
        };
        let stored = (0..n)
            .filter(|&seq| kept(seq))
            .map(|seq| Stored {
                id: id(seq + 1),
                origin: Some((0, seq)),
            })
            .collect();
        (vec![log], vec![stored])
    }

    fn keys() -> Vec<String> {
        vec!["s".into()]
    }

    #[test]
    fn trimmed_head_passes() {
        let (logs, stored) = case(10, |seq| seq >= 4);
        assert_eq!(events(&keys(), &stored, &logs).outcome, Outcome::Pass);
    }

    #[test]
    fn a_hole_after_the_first_entry_fails() {
        let (logs, stored) = case(10, |seq| seq != 6);
        let check = events(&keys(), &stored, &logs);
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(
            check.notes[0].contains("1 acknowledged entries missing"),
            "{:?}",
            check.notes
        );
    }

    #[test]
    fn unknown_outcomes_may_be_missing_and_foreign_entries_fail() {
        let (mut logs, mut stored) = case(10, |seq| seq != 6);
        logs[0].ids[6] = StreamId::ZERO;
        assert_eq!(events(&keys(), &stored, &logs).outcome, Outcome::Pass);
        stored[0].push(Stored {
            id: id(99),
            origin: Some((7, 0)),
        });
        assert_eq!(events(&keys(), &stored, &logs).outcome, Outcome::Fail);
    }

    fn sample(elapsed: f64, mib: u64, len: u64) -> Sample {
        Sample {
            elapsed,
            rss: mib << 20,
            lens: vec![len],
        }
    }

    #[test]
    fn memory_is_measured_from_the_first_full_sample_after_warm_up() {
        let bound = MemoryBound {
            maxlen: 100,
            duration_s: 100.0,
            warmup_pct: 20,
            growth_pct: 20,
        };
        let flat = [
            sample(10.0, 10, 100),
            sample(30.0, 50, 50),
            sample(40.0, 100, 100),
            sample(100.0, 115, 100),
        ];
        assert_eq!(memory(&bound, &flat).outcome, Outcome::Pass);
        let grown = [
            sample(40.0, 100, 100),
            sample(60.0, 125, 100),
            sample(100.0, 130, 100),
        ];
        let check = memory(&bound, &grown);
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.notes[1].contains("+4.0%"), "{:?}", check.notes);
        let never_full = [sample(40.0, 100, 99), sample(100.0, 300, 99)];
        assert_eq!(memory(&bound, &never_full).outcome, Outcome::Skip);
        let untrimmed = MemoryBound { maxlen: 0, ..bound };
        assert_eq!(memory(&untrimmed, &grown).outcome, Outcome::Skip);
    }
}
