//! Per-command and per-error counters behind `INFO commandstats`, `INFO errorstats` and
//! `INFO latencystats`.
//!
//! Counted as Redis counts them: `calls` and `usec` for commands that ran, `rejected_calls`
//! for those refused before running (wrong arity), `failed_calls` for those that ran and
//! answered an error; every error reply counts once under its code (`ERR`, `WRONGTYPE`, …);
//! each call's duration in the command's [`LatencyHistogram`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use dashmap::DashMap;

mod latency;

pub use latency::{Counts, LatencyHistogram};

use crate::cmd::catalog;

/// Counter shards: each thread counts in one of these, picked once per thread, so two
/// connections' threads running the same command do not write the same cache lines.
const SHARDS: usize = 8;

/// The next shard a thread takes.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// Counters of one command, on one shard.
#[derive(Debug, Default)]
pub struct CommandCounters {
    /// Times it ran.
    pub calls: AtomicU64,
    /// Total time running it, ns.
    pub nanos: AtomicU64,
    /// Each call's duration.
    pub latency: LatencyHistogram,
    /// Times it was refused before running.
    pub rejected: AtomicU64,
    /// Times it ran and replied an error.
    pub failed: AtomicU64,
}

impl CommandCounters {
    fn clear(&self) {
        for counter in [&self.calls, &self.nanos, &self.rejected, &self.failed] {
            counter.store(0, Ordering::Relaxed);
        }
        self.latency.clear();
    }
}

/// One command's counters summed over the shards, as `INFO commandstats` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandFigures {
    /// `xadd`, `config|get`, …
    pub name: String,
    /// Times it ran.
    pub calls: u64,
    /// Total time running it.
    pub seconds: f64,
    /// Times it was refused before running.
    pub rejected: u64,
    /// Times it ran and replied an error.
    pub failed: u64,
}

/// A command's counters summed over the shards.
#[derive(Debug, Default)]
struct Totals {
    calls: u64,
    nanos: u64,
    rejected: u64,
    failed: u64,
    latency: Counts,
}

/// Counters of every command and error code seen since start or `CONFIG RESETSTAT`. A
/// command is named by its index in the command [`catalog`] (a subcommand's, if any).
#[derive(Debug)]
pub struct CommandStats {
    /// Per shard, per catalog index; a command's counters are made on its first use there.
    shards: Box<[Box<[OnceLock<CommandCounters>]>]>,
    errors: DashMap<String, AtomicU64>,
}

impl Default for CommandStats {
    fn default() -> Self {
        let commands = catalog().len();
        Self {
            shards: (0..SHARDS)
                .map(|_| (0..commands).map(|_| OnceLock::new()).collect())
                .collect(),
            errors: DashMap::new(),
        }
    }
}

impl CommandStats {
    /// Runs `f` on this thread's counters of the command at catalog `index`.
    fn with(&self, index: usize, f: impl FnOnce(&CommandCounters)) {
        let shard = SHARD.with(|shard| *shard);
        let counters = self
            .shards
            .get(shard)
            .and_then(|commands| commands.get(index));
        if let Some(counters) = counters {
            f(counters.get_or_init(CommandCounters::default));
        }
    }

    /// The command at catalog `index` ran for `nanos` ns; `failed` if it replied an error.
    pub fn ran(&self, index: usize, nanos: u64, failed: bool) {
        self.with(index, |c| {
            c.calls.fetch_add(1, Ordering::Relaxed);
            c.nanos.fetch_add(nanos, Ordering::Relaxed);
            c.latency.record(nanos);
            if failed {
                c.failed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    /// A command that had blocked (counted as a call then) was ended by an error: a failed
    /// call, as Redis counts a blocked call that its re-run fails.
    pub fn failed(&self, index: usize) {
        self.with(index, |c| {
            c.failed.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A known command was refused before running.
    pub fn rejected(&self, index: usize) {
        self.with(index, |c| {
            c.rejected.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// Each command counted since start or reset, by its Redis name, with its counters
    /// summed over the shards; sorted by name.
    fn totals(&self) -> Vec<(String, Totals)> {
        let mut totals: Vec<(String, Totals)> = (0..catalog().len())
            .filter_map(|index| {
                let mut sum = Totals::default();
                let mut seen = false;
                for shard in self.shards.iter() {
                    let Some(c) = shard.get(index).and_then(OnceLock::get) else {
                        continue;
                    };
                    seen = true;
                    sum.calls += c.calls.load(Ordering::Relaxed);
                    sum.nanos += c.nanos.load(Ordering::Relaxed);
                    sum.rejected += c.rejected.load(Ordering::Relaxed);
                    sum.failed += c.failed.load(Ordering::Relaxed);
                    c.latency.add_to(&mut sum.latency);
                }
                let counted = sum.calls + sum.rejected + sum.failed > 0;
                (seen && counted).then(|| (catalog().full_name(index), sum))
            })
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        totals
    }

    /// An error reply was sent; counted under its code, the text's first word.
    pub fn error(&self, text: &str) {
        let code = text.split(' ').next().unwrap_or("ERR");
        if let Some(counter) = self.errors.get(code) {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.errors
            .entry(code.to_owned())
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Each command that ran or was refused, sorted by name (`/metrics`).
    pub fn figures(&self) -> Vec<CommandFigures> {
        self.totals()
            .into_iter()
            .map(|(name, c)| CommandFigures {
                name,
                calls: c.calls,
                seconds: c.nanos as f64 / 1e9,
                rejected: c.rejected,
                failed: c.failed,
            })
            .collect()
    }

    /// `cmdstat_<name>:calls=…,usec=…,usec_per_call=…,rejected_calls=…,failed_calls=…`
    /// lines' name and value, sorted by name.
    pub fn command_lines(&self) -> Vec<(String, String)> {
        self.totals()
            .into_iter()
            .map(|(name, c)| {
                let per_call = if c.calls == 0 {
                    0.0
                } else {
                    c.nanos as f64 / 1000.0 / c.calls as f64
                };
                let value = format!(
                    "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    c.calls,
                    c.nanos / 1000,
                    c.rejected,
                    c.failed
                );
                (format!("cmdstat_{name}"), value)
            })
            .collect()
    }

    /// `latency_percentiles_usec_<name>:p50=…,p99=…,p99.9=…` lines' name and value for the
    /// commands that ran, sorted by name.
    pub fn latency_lines(&self) -> Vec<(String, String)> {
        self.totals()
            .into_iter()
            .filter_map(|(name, c)| {
                let value = c.latency.info_value()?;
                Some((format!("latency_percentiles_usec_{name}"), value))
            })
            .collect()
    }

    /// `errorstat_<code>:count=…` lines' name and value, sorted by code.
    pub fn error_lines(&self) -> Vec<(String, String)> {
        let mut lines: Vec<(String, String)> = self
            .errors
            .iter()
            .map(|e| {
                (
                    format!("errorstat_{}", e.key()),
                    format!("count={}", e.value().load(Ordering::Relaxed)),
                )
            })
            .collect();
        lines.sort();
        lines
    }

    /// Forgets everything (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        for counters in self.shards.iter().flat_map(|shard| shard.iter()) {
            if let Some(counters) = counters.get() {
                counters.clear();
            }
        }
        self.errors.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_redis() {
        let stats = CommandStats::default();
        let index = |name: &str| catalog().find(name.as_bytes()).expect("in the catalog");
        stats.ran(index("xadd"), 10_000, false);
        // Counted on another thread's shard: the lines show the sums.
        std::thread::scope(|s| {
            s.spawn(|| stats.ran(index("xadd"), 20_000, true));
        });
        stats.rejected(index("client|setname"));
        stats.error("ERR syntax error");
        stats.error("WRONGTYPE Operation against a key holding the wrong kind of value");
        stats.error("ERR x");
        assert_eq!(
            stats.command_lines(),
            vec![
                (
                    "cmdstat_client|setname".into(),
                    "calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0".into()
                ),
                (
                    "cmdstat_xadd".into(),
                    "calls=2,usec=30,usec_per_call=15.00,rejected_calls=0,failed_calls=1".into()
                ),
            ]
        );
        assert_eq!(
            stats.error_lines(),
            vec![
                ("errorstat_ERR".into(), "count=2".into()),
                ("errorstat_WRONGTYPE".into(), "count=1".into())
            ]
        );
        // A command refused before running has no latency line.
        assert_eq!(
            stats.latency_lines(),
            vec![(
                "latency_percentiles_usec_xadd".into(),
                "p50=10.239,p99=20.479,p99.9=20.479".into()
            )]
        );
    }
}
