//! Persistence workloads:
//! - XADD under Sluice's fsync policies: `everysec` against Sluice with no log at all (what
//!   the log costs: a Sluice-vs-Sluice row), and `always` / `everysec` against Redis's AOF with
//!   the same policy.
//! - [`RestartTime`]: from process start until a restarted server answers `XLEN` with every
//!   entry, after a clean stop (the log is replayed) or after `SAVE` (the snapshot is loaded).
//!   Judged on Sluice's own milliseconds; Redis (an AOF restart of the same data) is context.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::groups::{deliver, load};
use crate::resp::{Conn, Reply};
use crate::server::{Durability, Fsync, Kind, RunningServer, Stop};
use crate::workloads::{Baseline, Ctx, Goal, Sample, Workload, XaddThroughput};

/// The persistence rows, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(XaddThroughput {
            name: "xadd P16 everysec vs sluice aof-off".to_owned(),
            pipeline: 16,
            requests: |s| s.xadd_pipelined_requests,
            durability: Durability::AppendFsync(Fsync::EverySec),
            baseline: Baseline::Sluice(Durability::Off),
            goal: Goal::AtLeast(0.9),
        }),
        Box::new(XaddThroughput {
            name: "xadd fsync always".to_owned(),
            pipeline: 1,
            requests: |s| s.logged_xadd_requests,
            durability: Durability::AppendFsync(Fsync::Always),
            baseline: Baseline::Redis,
            goal: Goal::AtLeast(1.0),
        }),
        Box::new(XaddThroughput {
            name: "xadd fsync everysec".to_owned(),
            pipeline: 1,
            requests: |s| s.logged_xadd_requests,
            durability: Durability::AppendFsync(Fsync::EverySec),
            baseline: Baseline::Redis,
            goal: Goal::Info,
        }),
        Box::new(RestartTime {
            from: RestartFrom::Log,
        }),
        Box::new(RestartTime {
            from: RestartFrom::Snapshot,
        }),
    ]
}

/// What a restarted server loads its data from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartFrom {
    /// Sluice: the write-ahead log, no snapshot. Redis: the AOF's logged commands.
    Log,
    /// Sluice: a `SAVE` snapshot. Redis: an AOF rewritten by `BGREWRITEAOF` (an RDB preamble).
    Snapshot,
}

const RESTART_KEY: &str = "restart";
/// How long a restarted server may take to answer `XLEN` with every entry.
const RESTART_DEADLINE: Duration = Duration::from_secs(120);

/// `restart_entries` entries of two small fields (`a <i> b <i>`) and a group with
/// `restart_pending` of them pending, then `SHUTDOWN NOSAVE` and a restart; the value is ms
/// from spawning the process to the first `XLEN` that counts every entry.
pub struct RestartTime {
    pub from: RestartFrom,
}

impl Workload for RestartTime {
    fn name(&self) -> String {
        match self.from {
            RestartFrom::Log => "restart from log",
            RestartFrom::Snapshot => "restart from snapshot",
        }
        .to_owned()
    }
    fn unit(&self) -> &'static str {
        "ms"
    }
    fn goal(&self) -> Goal {
        Goal::ValueAtMost(2000.0)
    }
    fn durability(&self) -> Durability {
        // Sluice's default policy; for Redis, an AOF to restart from. For the log row, no
        // automatic snapshot: 1M entries log past the default 64 MB threshold, and the restart
        // would load that snapshot plus a tail instead of replaying the log.
        match self.from {
            RestartFrom::Log => Durability::LogOnly(Fsync::EverySec),
            RestartFrom::Snapshot => Durability::AppendFsync(Fsync::EverySec),
        }
    }

    fn prepare(&self, ctx: &Ctx, server: &RunningServer) -> Result<()> {
        let (entries, pending) = (ctx.scale.restart_entries, ctx.scale.restart_pending);
        let mut conn = Conn::connect(server.port)?;
        load(&mut conn, RESTART_KEY, entries, |_| "*".to_owned())?;
        conn.call_ok(&["XGROUP", "CREATE", RESTART_KEY, "g", "0"])?;
        let delivered = deliver(&mut conn, RESTART_KEY, pending)?;
        ensure!(
            delivered == pending,
            "delivered {delivered} entries, expected {pending}"
        );
        if self.from == RestartFrom::Snapshot {
            match server.flavour() {
                Kind::Sluice => {
                    conn.call_ok(&["SAVE"])?;
                }
                Kind::Redis => rewrite_aof(&mut conn)?,
            }
        }
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let (entries, pending) = (ctx.scale.restart_entries, ctx.scale.restart_pending);
        let started = server.restart(Stop::ShutdownNoSave)?;
        let mut conn = wait_for_len(server.port, entries as i64, started)?;
        let ms = started.elapsed().as_secs_f64() * 1e3;

        let reported = conn.call_ok(&["XPENDING", RESTART_KEY, "g"])?;
        let count = reported.array()?.first().context("empty XPENDING")?.int()?;
        ensure!(
            count == pending as i64,
            "after the restart {count} pending, expected {pending}"
        );
        let loaded = loaded_from(server)?;
        self.check_source(server, &loaded)?;
        Ok(Sample::noted(ms, loaded))
    }
}

impl RestartTime {
    /// Fails if Sluice's log says it loaded its data some other way than this row claims.
    /// Redis is context and starts with a base file either way, so only Sluice is checked.
    fn check_source(&self, server: &RunningServer, loaded: &str) -> Result<()> {
        if server.flavour() != Kind::Sluice {
            return Ok(());
        }
        let from_snapshot = !loaded.contains("snapshot_keys=0");
        if from_snapshot != (self.from == RestartFrom::Snapshot) {
            bail!(
                "{} was meant to restart from its {:?} but reports: {loaded}",
                server.kind.label(),
                self.from
            );
        }
        Ok(())
    }
}

/// Connects (retrying while the port is closed) and polls `XLEN` until it answers `len`.
fn wait_for_len(port: u16, len: i64, started: Instant) -> Result<Conn> {
    loop {
        if started.elapsed() > RESTART_DEADLINE {
            bail!("no XLEN {RESTART_KEY} = {len} within {RESTART_DEADLINE:?} of the restart");
        }
        let Ok(mut conn) = Conn::connect(port) else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        loop {
            match conn.call(&["XLEN", RESTART_KEY]) {
                Ok(Reply::Int(n)) if n == len => return Ok(conn),
                Ok(Reply::Int(n)) => {
                    bail!("after the restart XLEN {RESTART_KEY} is {n}, not {len}")
                }
                // Redis answers -LOADING while it reads its files.
                Ok(Reply::Error(e)) if e.starts_with("LOADING") => {}
                Ok(other) => bail!("XLEN {RESTART_KEY} answered {other:?} after the restart"),
                // The connection dropped before the server was up; reconnect.
                Err(_) => break,
            }
            if started.elapsed() > RESTART_DEADLINE {
                bail!("still loading {RESTART_DEADLINE:?} after the restart");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The line of the server's output that says what it loaded: Sluice's `data loaded
/// snapshot_keys=… records=… ms=…`, Redis's `DB loaded from … file`.
fn loaded_from(server: &RunningServer) -> Result<String> {
    let log = server.log();
    let needle = match server.flavour() {
        Kind::Sluice => "data loaded",
        Kind::Redis => "DB loaded from",
    };
    let lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains(needle))
        .map(|line| {
            // Sluice's log colours its fields; keep the text.
            let plain = strip_ansi(line);
            let from = plain.find(needle).unwrap_or(0);
            // The data folder's path is long and says nothing.
            plain[from..]
                .split(' ')
                .filter(|word| !word.starts_with("dir="))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if lines.is_empty() {
        bail!(
            "{} did not log {needle:?} after the restart:\n{}",
            server.kind.label(),
            server.log_tail()
        );
    }
    Ok(lines.join(" | "))
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (`ESC [ … m`).
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `BGREWRITEAOF` and waits until Redis has finished it, so its next start loads the rewritten
/// base file (a snapshot) instead of replaying commands.
fn rewrite_aof(conn: &mut Conn) -> Result<()> {
    conn.call_ok(&["BGREWRITEAOF"])?;
    let deadline = Instant::now() + RESTART_DEADLINE;
    loop {
        let info = conn.call_ok(&["INFO", "persistence"])?;
        let text = String::from_utf8_lossy(info.bulk()?).into_owned();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
                .map(str::to_owned)
        };
        let idle = field("aof_rewrite_in_progress").as_deref() == Some("0")
            && field("aof_rewrite_scheduled").as_deref() == Some("0");
        if idle {
            match field("aof_last_bgrewrite_status").as_deref() {
                Some("ok") => return Ok(()),
                other => bail!("BGREWRITEAOF ended with status {other:?}"),
            }
        }
        if Instant::now() > deadline {
            bail!("BGREWRITEAOF still running after {RESTART_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
