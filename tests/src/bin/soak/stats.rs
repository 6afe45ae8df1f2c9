//! Counters every task bumps while the load runs: operations, deliveries, latencies, errors by
//! kind. The reporter reads and resets the interval parts; the verdict reads the totals.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Largest latency or age a histogram keeps apart, µs (larger values count as this).
const HISTOGRAM_MAX_US: u64 = 120_000_000;

/// Shared by all tasks of one run.
#[derive(Debug)]
pub struct Stats {
    /// Acknowledged `XADD`s.
    pub xadds: AtomicU64,
    /// Completed read commands: `XREADGROUP`, `XREAD`, `XAUTOCLAIM`.
    pub reads: AtomicU64,
    /// Entries handed to consumer groups by `XREADGROUP … >`.
    pub delivered: AtomicU64,
    /// Entries taken over by `XAUTOCLAIM`.
    pub claimed: AtomicU64,
    /// Entries acknowledged with `XACK` (as the server counted them).
    pub acked: AtomicU64,
    /// `XACK`s that removed fewer entries than they named.
    pub short_acks: AtomicU64,
    /// Entries the blocked `XREAD … $` readers received.
    pub blocked_entries: AtomicU64,
    /// Connections the disruptive clients opened.
    pub disruptions: AtomicU64,
    /// Acknowledged `XADD`s per stream.
    added: Vec<AtomicU64>,
    /// Entries delivered per stream and group, `[stream * groups + group]`.
    group_delivered: Vec<AtomicU64>,
    groups: usize,
    latency: Mutex<Latency>,
    errors: Mutex<Errors>,
}

#[derive(Debug)]
struct Latency {
    xadd_interval: Histogram<u64>,
    xadd_total: Histogram<u64>,
    /// Time from an entry's ID (its creation, ms) to its delivery to a group.
    age_interval: Histogram<u64>,
}

/// Errors seen by the clients, by `"<command>: <kind>"`.
#[derive(Debug, Default, Clone)]
pub struct Errors {
    /// From well-behaved clients: each one fails the run.
    pub unexpected: BTreeMap<String, u64>,
    /// The first message of each unexpected kind, for the report.
    pub examples: BTreeMap<String, String>,
    /// Replies to the disruptive clients' garbage: what they asked for.
    pub expected: BTreeMap<String, u64>,
}

/// Percentiles of one histogram, ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    /// Median, ms.
    pub p50: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// 99.9th percentile, ms.
    pub p999: f64,
    /// Largest, ms.
    pub max: f64,
    /// Samples.
    pub count: u64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            count: h.len(),
        }
    }
}

fn histogram() -> Histogram<u64> {
    // Constant bounds that `new_with_bounds` accepts (low >= 1, high >= 2 * low, 3 digits).
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3).expect("valid histogram bounds")
}

impl Stats {
    /// Counters for `streams` streams of `groups` groups each.
    pub fn new(streams: usize, groups: usize) -> Stats {
        let counters = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        Stats {
            xadds: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            claimed: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            short_acks: AtomicU64::new(0),
            blocked_entries: AtomicU64::new(0),
            disruptions: AtomicU64::new(0),
            added: counters(streams),
            group_delivered: counters(streams * groups),
            groups,
            latency: Mutex::new(Latency {
                xadd_interval: histogram(),
                xadd_total: histogram(),
                age_interval: histogram(),
            }),
            errors: Mutex::new(Errors::default()),
        }
    }

    /// One acknowledged `XADD` to `stream` that took `took`.
    pub fn record_xadd(&self, stream: usize, took: Duration) {
        self.xadds.fetch_add(1, Ordering::Relaxed);
        self.added[stream].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut l) = self.latency.lock() {
            l.xadd_interval.saturating_record(us.max(1));
            l.xadd_total.saturating_record(us.max(1));
        }
    }

    /// Entries created at `created_ms` (their IDs' ms) delivered to `group` of `stream` now.
    pub fn record_delivery(&self, stream: usize, group: usize, created_ms: &[u64]) {
        let n = created_ms.len() as u64;
        self.delivered.fetch_add(n, Ordering::Relaxed);
        self.group_delivered[stream * self.groups + group].fetch_add(n, Ordering::Relaxed);
        let now = crate::proto::now_ms();
        if let Ok(mut l) = self.latency.lock() {
            for &ms in created_ms {
                let age_us = now.saturating_sub(ms).saturating_mul(1000);
                l.age_interval.saturating_record(age_us.max(1));
            }
        }
    }

    /// An error that a well-behaved client got from `command`.
    pub fn unexpected_error(&self, command: &str, kind: &str, message: &str) {
        if let Ok(mut e) = self.errors.lock() {
            let key = format!("{command}: {kind}");
            e.examples
                .entry(key.clone())
                .or_insert_with(|| message.to_owned());
            *e.unexpected.entry(key).or_default() += 1;
        }
    }

    /// A reply a disruptive client provoked on purpose, by kind.
    pub fn expected_error(&self, kind: &str) {
        if let Ok(mut e) = self.errors.lock() {
            *e.expected.entry(kind.to_owned()).or_default() += 1;
        }
    }

    /// The errors so far.
    pub fn errors(&self) -> Errors {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The largest backlog of any group: entries added to its stream minus entries delivered
    /// to it (approximate while both move).
    pub fn max_group_lag(&self) -> u64 {
        let mut lag = 0;
        for (i, delivered) in self.group_delivered.iter().enumerate() {
            let added = self.added[i / self.groups].load(Ordering::Relaxed);
            lag = lag.max(added.saturating_sub(delivered.load(Ordering::Relaxed)));
        }
        lag
    }

    /// XADD latency and delivery age since the last call, and resets both.
    pub fn take_interval(&self) -> (Percentiles, Percentiles) {
        let Ok(mut l) = self.latency.lock() else {
            return Default::default();
        };
        let out = (
            Percentiles::of(&l.xadd_interval),
            Percentiles::of(&l.age_interval),
        );
        l.xadd_interval.reset();
        l.age_interval.reset();
        out
    }

    /// XADD latency over the whole run.
    pub fn xadd_total(&self) -> Percentiles {
        self.latency
            .lock()
            .map(|l| Percentiles::of(&l.xadd_total))
            .unwrap_or_default()
    }
}
