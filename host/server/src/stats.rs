//! Per-command and per-error counters behind `INFO commandstats` and `INFO errorstats`.
//!
//! Counted as Redis counts them: `calls` and `usec` for commands that ran, `rejected_calls`
//! for those refused before running (wrong arity), `failed_calls` for those that ran and
//! answered an error; every error reply counts once under its code (`ERR`, `WRONGTYPE`, …).

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

/// A command's name as Redis reports it: the command and its subcommand, if any.
pub type CommandName = (&'static str, Option<&'static str>);

/// Counters of one command.
#[derive(Debug, Default)]
pub struct CommandCounters {
    /// Times it ran.
    pub calls: AtomicU64,
    /// Total time running it, µs.
    pub usec: AtomicU64,
    /// Times it was refused before running.
    pub rejected: AtomicU64,
    /// Times it ran and replied an error.
    pub failed: AtomicU64,
}

/// Counters of every command and error code seen since start or `CONFIG RESETSTAT`.
#[derive(Debug, Default)]
pub struct CommandStats {
    commands: DashMap<CommandName, CommandCounters>,
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

    /// A command ran for `usec` µs; `failed` if it replied an error.
    pub fn ran(&self, name: CommandName, usec: u64, failed: bool) {
        self.with(name, |c| {
            c.calls.fetch_add(1, Ordering::Relaxed);
            c.usec.fetch_add(usec, Ordering::Relaxed);
            if failed {
                c.failed.fetch_add(1, Ordering::Relaxed);
            }
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
                let usec = c.usec.load(Ordering::Relaxed);
                let per_call = if calls == 0 { 0.0 } else { usec as f64 / calls as f64 };
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
        stats.ran(("xadd", None), 10, false);
        stats.ran(("xadd", None), 20, true);
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
    }
}
