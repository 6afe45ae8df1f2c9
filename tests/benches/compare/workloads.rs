//! The workloads: what each one measures, how, and what ratio Sluice must reach against Redis.
//!
//! Adding one is writing a type that implements [`Workload`] and listing it in [`all`]. A
//! workload gets a fresh pair of servers started with the durability it asks for, may
//! [`prepare`](Workload::prepare) each (preload data), then is measured `runs` times per server,
//! alternating which server goes first so that drift on the shared box hits both alike.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use redis::Value;

use crate::driver::{self, BenchmarkRun};
use crate::groups::{GroupThroughput, PendingCommand, PendingCost};
use crate::keyvalue;
use crate::persistence;
use crate::policies;
use crate::routes;
use crate::server::{Durability, RunningServer};

/// Request counts and repetitions; `full` keeps a whole run around 8 minutes, `quick` a few
/// (the 1M-entry preloads of the pending-list, restart and route catch-up rows do not shrink).
#[derive(Clone, Debug)]
pub struct Scale {
    /// Measurements per server per workload; the table shows medians.
    pub runs: usize,
    /// Clients for every `redis-benchmark` workload.
    pub clients: u32,
    /// Requests of the unpipelined XADD workload.
    pub xadd_requests: u64,
    /// Requests of the pipelined XADD workload.
    pub xadd_pipelined_requests: u64,
    /// Requests of the XRANGE and XREAD workloads.
    pub read_requests: u64,
    /// Entries preloaded into the stream the read workloads read.
    pub read_preload: u64,
    /// Entries appended by the memory workload.
    pub memory_entries: u64,
    /// Entries produced (and consumed) per run of the consumer-group workload.
    pub group_events: u64,
    /// Pending entries of the small and the large group of the pending-list workloads.
    pub pending_small: u64,
    pub pending_large: u64,
    /// Calls per size and round when timing a pending-list command.
    pub pending_calls: u64,
    /// Requests of the unpipelined XADD workloads that log (and maybe fsync) every write.
    pub logged_xadd_requests: u64,
    /// Entries, and of those pending in a group, loaded before the restart workloads.
    pub restart_entries: u64,
    pub restart_pending: u64,
    /// Entries preloaded into the source stream a new route catches up with.
    pub route_catchup_events: u64,
    /// How long each latency measurement offers its steady load.
    pub route_latency: Duration,
}

impl Scale {
    pub fn full() -> Self {
        Scale {
            runs: 7,
            clients: 50,
            xadd_requests: 150_000,
            xadd_pipelined_requests: 1_500_000,
            read_requests: 40_000,
            read_preload: 10_000,
            memory_entries: 1_000_000,
            group_events: 600_000,
            pending_small: 1_000,
            pending_large: 1_000_000,
            pending_calls: 5_000,
            logged_xadd_requests: 60_000,
            restart_entries: 1_000_000,
            restart_pending: 100_000,
            route_catchup_events: 1_000_000,
            route_latency: Duration::from_secs(3),
        }
    }

    pub fn quick() -> Self {
        Scale {
            runs: 5,
            clients: 50,
            xadd_requests: 40_000,
            xadd_pipelined_requests: 300_000,
            read_requests: 10_000,
            read_preload: 10_000,
            memory_entries: 1_000_000,
            group_events: 200_000,
            pending_small: 1_000,
            pending_large: 1_000_000,
            pending_calls: 2_000,
            logged_xadd_requests: 20_000,
            restart_entries: 1_000_000,
            restart_pending: 100_000,
            route_catchup_events: 1_000_000,
            route_latency: Duration::from_secs(1),
        }
    }
}

/// What the workloads share: the async runtime for the `redis` crate, the load generator's
/// path, and the scale.
#[derive(Debug)]
pub struct Ctx {
    pub rt: tokio::runtime::Runtime,
    pub redis_benchmark: std::path::PathBuf,
    pub scale: Scale,
}

/// The bar a workload must clear. Most compare Sluice with Redis; a few judge Sluice alone and
/// show Redis for context.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    /// Higher is better (throughput): ratio Sluice/Redis ≥ this.
    AtLeast(f64),
    /// Lower is better (memory, latency): ratio Sluice/Redis ≤ this.
    AtMost(f64),
    /// Sluice's own median value, in the workload's unit, ≤ this (e.g. restart ms). The ratio
    /// column still shows Sluice/Redis, for context; without a baseline, value / this.
    ValueAtMost(f64),
    /// Sluice's own median value ≥ this (e.g. a route's events/s, which Redis has no
    /// equivalent of). Without a baseline the ratio column shows value / this.
    ValueAtLeast(f64),
    /// Sluice's own [`Sample::scaling`] (e.g. cost at 1M / cost at 1k), median over runs, ≤
    /// this. The ratio column shows that median; Redis's column is context.
    ScalingAtMost(f64),
    /// No bar: the row is there for information.
    Info,
}

impl Goal {
    /// Whether `figure` clears the bar; `figure` is the ratio, or for `ValueAtMost` and
    /// `ValueAtLeast` Sluice's median value (see `Row::judged`).
    pub fn met(self, figure: f64) -> bool {
        match self {
            Goal::AtLeast(min) | Goal::ValueAtLeast(min) => figure >= min,
            Goal::AtMost(max) | Goal::ScalingAtMost(max) | Goal::ValueAtMost(max) => figure <= max,
            Goal::Info => true,
        }
    }

    pub fn describe(self, unit: &str) -> String {
        match self {
            Goal::AtLeast(min) => format!(">= {min:.2}x"),
            Goal::AtMost(max) => format!("<= {max:.2}x"),
            Goal::ValueAtMost(max) => format!("sluice <= {max:.0} {unit}"),
            Goal::ValueAtLeast(min) => format!("sluice >= {min:.0} {unit}"),
            Goal::ScalingAtMost(max) => format!("sluice 1M/1k <= {max:.2}x"),
            Goal::Info => "(info)".to_owned(),
        }
    }
}

/// What fills the Redis column of a row.
#[derive(Clone, Copy, Debug)]
pub enum Baseline {
    /// `redis-server`, with the workload's durability.
    Redis,
    /// Sluice again, with this durability: the row measures what a Sluice setting costs.
    Sluice(Durability),
    /// Nothing: Redis has no equivalent (routes); Sluice is judged on its own value.
    Empty,
}

/// One measurement of one server.
#[derive(Clone, Debug)]
pub struct Sample {
    /// In the workload's [`unit`](Workload::unit).
    pub value: f64,
    /// Context worth printing under the table (e.g. absolute RSS).
    pub note: Option<String>,
    /// For [`Goal::ScalingAtMost`]: this server's cost at the large size over its cost at the
    /// small one, measured in the same run.
    pub scaling: Option<f64>,
}

impl Sample {
    pub fn plain(value: f64) -> Self {
        Sample {
            value,
            note: None,
            scaling: None,
        }
    }

    pub fn noted(value: f64, note: String) -> Self {
        Sample {
            value,
            note: Some(note),
            scaling: None,
        }
    }
}

/// A benchmark run identically against both servers.
pub trait Workload {
    /// Row label in the table; also what command-line filters match.
    fn name(&self) -> String;
    /// Unit of [`Sample::value`], e.g. `ops/s`.
    fn unit(&self) -> &'static str;
    fn goal(&self) -> Goal;
    /// How the Sluice column's server persists (and Redis's, when it is the baseline).
    fn durability(&self) -> Durability {
        Durability::Default
    }
    fn baseline(&self) -> Baseline {
        Baseline::Redis
    }
    /// `false` for workloads that change the server for good (memory): measured once.
    fn repeats(&self) -> bool {
        true
    }
    /// Runs once per server before the first measurement.
    fn prepare(&self, _ctx: &Ctx, _server: &RunningServer) -> Result<()> {
        Ok(())
    }
    /// Measurement number `run` (from 0) of `server`.
    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample>;
}

/// Every workload, in table order.
pub fn all() -> Vec<Box<dyn Workload>> {
    let mut all: Vec<Box<dyn Workload>> = vec![
        Box::new(XaddThroughput::plain(1)),
        Box::new(XaddThroughput::plain(16)),
        Box::new(MemoryPerEntry),
        Box::new(ReadThroughput::xrange()),
        Box::new(ReadThroughput::xread()),
        Box::new(GroupThroughput),
    ];
    for command in [
        PendingCommand::Summary,
        PendingCommand::FirstTen,
        PendingCommand::ClaimMiddle,
    ] {
        all.push(Box::new(PendingCost { command }));
    }
    all.extend(crate::redis8::workloads());
    all.extend(keyvalue::workloads());
    all.extend(persistence::workloads());
    all.extend(routes::workloads());
    all.extend(crate::attached::workloads());
    all.extend(policies::workloads());
    all
}

/// Entries per read call in the XRANGE and XREAD workloads.
const READ_COUNT: usize = 100;

/// `XADD <key> * f1 v1 f2 v2` from `redis-benchmark`, `pipeline` commands in flight per client;
/// the persistence rows are the same load under other durability settings.
pub struct XaddThroughput {
    pub name: String,
    pub pipeline: u32,
    /// Requests per run, from the scale.
    pub requests: fn(&Scale) -> u64,
    pub durability: Durability,
    pub baseline: Baseline,
    pub goal: Goal,
}

impl XaddThroughput {
    /// The in-memory-comparable rows: Sluice's default log against Redis without persistence.
    fn plain(pipeline: u32) -> Self {
        XaddThroughput {
            name: match pipeline {
                1 => "xadd".to_owned(),
                p => format!("xadd pipelined P{p}"),
            },
            pipeline,
            requests: match pipeline {
                1 => |s| s.xadd_requests,
                _ => |s| s.xadd_pipelined_requests,
            },
            durability: Durability::Default,
            baseline: Baseline::Redis,
            goal: Goal::AtLeast(1.0),
        }
    }
}

impl Workload for XaddThroughput {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        self.goal
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn baseline(&self) -> Baseline {
        self.baseline
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        // A fresh key per run, so the length check below sees only this run's appends.
        let key = format!("xadd:p{}:{run}", self.pipeline);
        let requests = (self.requests)(&ctx.scale);
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests,
            pipeline: self.pipeline,
            command: args(&["XADD", &key, "*", "f1", "v1", "f2", "v2"]),
        };
        let rps = bench.run(&ctx.redis_benchmark, server)?;
        // redis-benchmark counts error replies as requests; a short stream means some were.
        let len = stream_len(ctx, server, &key)?;
        ensure!(
            len >= requests,
            "{key} holds {len} entries after {requests} XADDs: the server answered errors"
        );
        Ok(Sample::plain(rps))
    }
}

/// A `redis-benchmark` workload that reads `READ_COUNT` entries per call from a preloaded
/// stream.
struct ReadThroughput {
    name: &'static str,
    command: Vec<String>,
    /// Counts the entries in one reply, or `None` if the reply has the wrong shape.
    count_entries: fn(&Value) -> Option<usize>,
}

const READ_KEY: &str = "read";

impl ReadThroughput {
    fn xrange() -> Self {
        ReadThroughput {
            name: "xrange count 100",
            command: args(&["XRANGE", READ_KEY, "-", "+", "COUNT", "100"]),
            count_entries: |reply| match reply {
                Value::Array(entries) => Some(entries.len()),
                _ => None,
            },
        }
    }

    fn xread() -> Self {
        ReadThroughput {
            name: "xread count 100",
            command: args(&["XREAD", "COUNT", "100", "STREAMS", READ_KEY, "0-0"]),
            // RESP2: [[key, [entry, …]]]; RESP3 would be a map, but the client speaks RESP2.
            count_entries: |reply| match reply {
                Value::Array(streams) => match streams.as_slice() {
                    [Value::Array(stream)] => match stream.as_slice() {
                        [_, Value::Array(entries)] => Some(entries.len()),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            },
        }
    }
}

impl Workload for ReadThroughput {
    fn name(&self) -> String {
        self.name.to_owned()
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(1.0)
    }

    fn prepare(&self, ctx: &Ctx, server: &RunningServer) -> Result<()> {
        ctx.rt.block_on(driver::load_stream(
            server,
            READ_KEY,
            ctx.scale.read_preload,
            |i, pipe| {
                pipe.arg("f1").arg(i).arg("f2").arg("v2");
            },
        ))?;
        // Reading errors or empty replies fast would be a meaningless win: check the shape.
        let reply = ctx.rt.block_on(driver::query(server, &self.command))?;
        match (self.count_entries)(&reply) {
            Some(READ_COUNT) => Ok(()),
            Some(n) => bail!(
                "{} returned {n} entries, expected {READ_COUNT}",
                self.command.join(" ")
            ),
            None => bail!(
                "{} returned an unexpected reply: {reply:?}",
                self.command.join(" ")
            ),
        }
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests: ctx.scale.read_requests,
            pipeline: 1,
            command: self.command.clone(),
        };
        Ok(Sample::plain(bench.run(&ctx.redis_benchmark, server)?))
    }
}

/// Resident memory per entry: RSS growth after appending `memory_entries` entries of two small
/// fields (`XADD mem * a <i> b <i>`), divided by the entry count.
struct MemoryPerEntry;

impl Workload for MemoryPerEntry {
    fn name(&self) -> String {
        "memory per entry".to_owned()
    }
    fn unit(&self) -> &'static str {
        "B/entry"
    }
    fn goal(&self) -> Goal {
        Goal::AtMost(1.5)
    }
    fn repeats(&self) -> bool {
        false
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let entries = ctx.scale.memory_entries;
        let before = server.rss_bytes()?;
        ctx.rt
            .block_on(driver::load_stream(server, "mem", entries, |i, pipe| {
                pipe.arg("a").arg(i).arg("b").arg(i);
            }))?;
        let len = stream_len(ctx, server, "mem")?;
        ensure!(
            len == entries,
            "mem holds {len} entries, expected {entries}"
        );
        // Let anything the server does after a burst (buffer shrinking, a WAL flush) settle.
        std::thread::sleep(Duration::from_millis(500));
        let after = server.rss_bytes()?;
        let per_entry = after.saturating_sub(before) as f64 / entries as f64;
        Ok(Sample::noted(
            per_entry,
            format!(
                "RSS {} MiB after {entries} entries ({} MiB at start)",
                mib(after),
                mib(before)
            ),
        ))
    }
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

pub fn stream_len(ctx: &Ctx, server: &RunningServer, key: &str) -> Result<u64> {
    let reply = ctx
        .rt
        .block_on(driver::query(server, &args(&["XLEN", key])))?;
    match reply {
        Value::Int(n) => u64::try_from(n).context("negative XLEN"),
        other => bail!("XLEN {key} returned {other:?}"),
    }
}

pub fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}
