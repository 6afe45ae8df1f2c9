//! A lock-free latency histogram per command, behind `INFO latencystats`.
//!
//! Redis keeps an HDR histogram per command and prints its 50th, 99th and 99.9th percentiles
//! in µs with three decimals. Here each command has fixed log-linear buckets of atomic
//! counters: a call costs one `fetch_add`, no lock, on the connection's own thread. Values
//! below 16 ns get a bucket each; above, each power of two is cut into 8 buckets, so a
//! percentile is within 12.5% of the true value (Redis's histogram keeps 2 significant
//! figures). Durations past 2^40 ns (18 minutes) share the last bucket.

use std::sync::atomic::{AtomicU64, Ordering};

/// Values below this many ns have a bucket each.
const LINEAR: u64 = 16;
/// Buckets per power of two above [`LINEAR`], as a power of two.
const SUB_BITS: u32 = 3;
/// The highest power of two with buckets of its own.
const MAX_EXP: u32 = 40;
/// Number of buckets.
const BUCKETS: usize = LINEAR as usize + ((MAX_EXP - 4 + 1) << SUB_BITS) as usize;

/// Calls' durations, in ns, counted per bucket.
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl LatencyHistogram {
    /// Counts one call that took `nanos` ns.
    pub fn record(&self, nanos: u64) {
        self.buckets[bucket_of(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds this histogram's counts, bucket by bucket, to `into` (one histogram of several
    /// threads' shards).
    pub fn add_to(&self, into: &mut Counts) {
        for (sum, bucket) in into.0.iter_mut().zip(self.buckets.iter()) {
            *sum += bucket.load(Ordering::Relaxed);
        }
    }

    /// Forgets every call (`CONFIG RESETSTAT`).
    pub fn clear(&self) {
        for bucket in self.buckets.iter() {
            bucket.store(0, Ordering::Relaxed);
        }
    }
}

/// A histogram's bucket counts read at one time, summed over shards.
#[derive(Debug, Clone)]
pub struct Counts(Vec<u64>);

impl Default for Counts {
    fn default() -> Self {
        Self(vec![0; BUCKETS])
    }
}

impl Counts {
    /// The duration, ns, that `percentile` (0–100) of the calls took at most: the upper
    /// bound of the bucket it falls in. `None` with no calls.
    pub fn percentile(&self, percentile: f64) -> Option<u64> {
        let total: u64 = self.0.iter().sum();
        if total == 0 {
            return None;
        }
        // The rank of the call at `percentile`, at least the first.
        let rank = ((percentile / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.0.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(upper_bound(index));
            }
        }
        Some(upper_bound(BUCKETS - 1))
    }

    /// `p50=…,p99=…,p99.9=…` in µs with three decimals, as Redis prints it; `None` with no
    /// calls.
    pub fn info_value(&self) -> Option<String> {
        let us = |p| self.percentile(p).map(|ns| ns as f64 / 1000.0);
        Some(format!(
            "p50={:.3},p99={:.3},p99.9={:.3}",
            us(50.0)?,
            us(99.0)?,
            us(99.9)?
        ))
    }
}

fn bucket_of(nanos: u64) -> usize {
    if nanos < LINEAR {
        return nanos as usize;
    }
    let exp = (63 - nanos.leading_zeros()).min(MAX_EXP);
    if exp == MAX_EXP && nanos >= 1 << (MAX_EXP + 1) {
        return BUCKETS - 1;
    }
    let sub = (nanos >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + (((exp - 4) << SUB_BITS) as usize) + sub as usize
}

fn upper_bound(index: usize) -> u64 {
    if index < LINEAR as usize {
        return index as u64;
    }
    let offset = (index - LINEAR as usize) as u64;
    let exp = (offset >> SUB_BITS) as u32 + 4;
    let sub = offset & ((1 << SUB_BITS) - 1);
    let width = 1u64 << (exp - SUB_BITS);
    ((1 << SUB_BITS) + sub) * width + width - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for nanos in (0..5000).chain([1 << 20, (1 << 30) + 7, 1 << 40, u64::MAX]) {
            let b = bucket_of(nanos);
            assert!(b < BUCKETS);
            assert!(b >= last || nanos > 5000, "{nanos}");
            last = b;
            if nanos < 1 << (MAX_EXP + 1) {
                // The bucket's upper bound is the value or just above it (within 1/8).
                let up = upper_bound(b);
                assert!(
                    up >= nanos && up - nanos <= nanos / 8 + 1,
                    "{nanos} -> {up}"
                );
            }
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_pick_the_rank() {
        let h = LatencyHistogram::default();
        let counts = |h: &LatencyHistogram| {
            let mut counts = Counts::default();
            h.add_to(&mut counts);
            counts
        };
        assert_eq!(counts(&h).info_value(), None);
        for _ in 0..98 {
            h.record(1_000);
        }
        h.record(50_000);
        h.record(2_000_000);
        let h = counts(&h);
        // 1000 ns is in [960, 1023]; 2 ms in [1966080, 2097151].
        assert_eq!(h.percentile(50.0), Some(1023));
        assert_eq!(h.percentile(99.0), Some(53247));
        assert_eq!(h.percentile(99.9), Some(2_097_151));
        assert_eq!(
            h.info_value().as_deref(),
            Some("p50=1.023,p99=53.247,p99.9=2097.151")
        );
    }
}
