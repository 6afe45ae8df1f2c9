//! [`Timings`]: a latency histogram updated with a few relaxed atomic adds, for figures an
//! operator scrapes (`/metrics`): the log's fsyncs here, the broker's plugin calls and policy
//! evaluations. Fixed buckets, powers of 4 from 1 µs to about 4 s; the exporter turns a
//! [`TimingsSnapshot`] into a Prometheus histogram.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the buckets, in ns: 1 µs × 4ⁿ for n in 0..12 (1 µs … 4.2 s); a last bucket
/// takes the rest.
const BOUNDS_NS: [u64; 12] = {
    let mut bounds = [0; 12];
    let mut i = 0;
    let mut bound = 1_000;
    while i < 12 {
        bounds[i] = bound;
        bound *= 4;
        i += 1;
    }
    bounds
};

/// Counts of durations per bucket, their sum and number. `Sync`: share it by reference.
#[derive(Debug, Default)]
pub struct Timings {
    /// One per bound, plus the overflow bucket.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

/// What a [`Timings`] held at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingsSnapshot {
    /// `(upper bound in seconds, durations in this bucket alone)`, ascending; the last bound is
    /// `f64::MAX` (Prometheus's `+Inf`).
    pub buckets: Vec<(f64, u64)>,
    /// Sum of the durations, seconds.
    pub sum_seconds: f64,
    /// Number of durations.
    pub count: u64,
}

impl Timings {
    /// Counts one duration.
    pub fn record(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS.partition_point(|&bound| bound < ns);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// The counts now (each read on its own: a duration recorded meanwhile may show in one
    /// figure and not yet in another).
    pub fn snapshot(&self) -> TimingsSnapshot {
        let bounds = BOUNDS_NS
            .iter()
            .map(|&ns| ns as f64 / 1e9)
            .chain(std::iter::once(f64::MAX));
        TimingsSnapshot {
            buckets: bounds
                .zip(&self.buckets)
                .map(|(bound, n)| (bound, n.load(Relaxed)))
                .collect(),
            sum_seconds: self.sum_ns.load(Relaxed) as f64 / 1e9,
            count: self.count.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_their_bucket() {
        let t = Timings::default();
        for us in [0, 1, 2, 5, 1_000_000, 100_000_000] {
            t.record(Duration::from_micros(us));
        }
        let s = t.snapshot();
        assert_eq!(s.count, 6);
        assert_eq!(s.buckets.len(), 13);
        let counts: Vec<u64> = s.buckets.iter().map(|b| b.1).collect();
        // ≤1 µs: 0 and 1; ≤4 µs: 2; ≤16 µs: 5; ≤1.05 s: 1 s; overflow: 100 s.
        assert_eq!(counts, [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(s.buckets[0].0, 1e-6);
        assert_eq!(s.buckets[12].0, f64::MAX);
        assert!((s.sum_seconds - 101.000008).abs() < 1e-9);
    }
}
