//! Per-command and per-error counters behind `INFO commandstats`, `INFO errorstats` and
//! `INFO latencystats`.
//!
//! Counted as Redis counts them: `calls` and `usec` for commands that ran, `rejected_calls`
//! for those refused before running (wrong arity), `failed_calls` for those that ran and
//! answered an error; every error reply counts once under its code (`ERR`, `WRONGTYPE`, …);
//! each call's duration in the command's [`LatencyHistogram`].

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

mod latency;

pub use latency::LatencyHistogram;

/// A command's name as Redis reports it: the command and its subcommand, if any.
pub type CommandName = (&'static str, Option<&'static str>);

/// Counters of one command.
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

/// Counters of every command and error code seen since start or `CONFIG RESETSTAT`.
#[derive(Debug, Default)]
pub struct CommandStats {
    /// Keyed by names from the command table, never by client bytes: a fast hasher is safe.
    commands: DashMap<CommandName, CommandCounters, foldhash::fast::RandomState>,
    errors: DashMap<String, AtomicU64>,
}

impl CommandStats {
    /// Runs `f` on the counters of `name`, creating them on first use.
    fn with(&self, name: CommandName, f: impl FnOnce(&CommandCounters)) {
        if let Some(counters) = self.commands.get(&name) {
            f(&counters);
            return;
        }
        f(&self.commands.entry(name).or_default());
    }

    /// A command ran for `nanos` ns; `failed` if it replied an error.
    pub fn ran(&self, name: CommandName, nanos: u64, failed: bool) {
        self.with(name, |c| {
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
    pub fn failed(&self, name: CommandName) {
        self.with(name, |c| {
            c.failed.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A known command was refused before running.
    pub fn rejected(&self, name: CommandName) {
        self.with(name, |c| {
            c.rejected.fetch_add(1, Ordering::Relaxed);
        });
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

    /// `cmdstat_<name>:calls=…,usec=…,usec_per_call=…,rejected_calls=…,failed_calls=…`
    /// lines' name and value, sorted by name.
    pub fn command_lines(&self) -> Vec<(String, String)> {
        let mut lines: Vec<(String, String)> = self
            .commands
            .iter()
            .map(|entry| {
                let name = match entry.key() {
                    (name, Some(sub)) => format!("cmdstat_{name}|{sub}"),
                    (name, None) => format!("cmdstat_{name}"),
                };
                let c = entry.value();
                let calls = c.calls.load(Ordering::Relaxed);
                let nanos = c.nanos.load(Ordering::Relaxed);
                let usec = nanos / 1000;
                let per_call = if calls == 0 {
                    0.0
                } else {
                    nanos as f64 / 1000.0 / calls as f64
                };
                let value = format!(
                    "calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    c.rejected.load(Ordering::Relaxed),
                    c.failed.load(Ordering::Relaxed)
                );
                (name, value)
            })
            .collect();
        lines.sort();
        lines
    }

    /// `latency_percentiles_usec_<name>:p50=…,p99=…,p99.9=…` lines' name and value for the
    /// commands that ran, sorted by name.
    pub fn latency_lines(&self) -> Vec<(String, String)> {
        let mut lines: Vec<(String, String)> = self
            .commands
            .iter()
            .filter_map(|entry| {
                let value = entry.value().latency.info_value()?;
                let name = match entry.key() {
                    (name, Some(sub)) => format!("latency_percentiles_usec_{name}|{sub}"),
                    (name, None) => format!("latency_percentiles_usec_{name}"),
                };
                Some((name, value))
            })
            .collect();
        lines.sort();
        lines
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
        self.commands.clear();
        self.errors.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_redis() {
        let stats = CommandStats::default();
        stats.ran(("xadd", None), 10_000, false);
        stats.ran(("xadd", None), 20_000, true);
        stats.rejected(("client", Some("setname")));
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
