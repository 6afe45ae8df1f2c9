//! Sluice against Redis, side by side: one run starts both servers, drives the same workloads
//! through the same clients, and prints a table of absolute numbers and the ratio Sluice/Redis
//! against each workload's target. Ratios are what get quoted; absolute numbers depend on the
//! (shared, noisy) machine.
//!
//! Run with: `cargo bench -p sluice-tests --bench compare [-- [--quick] [--runs N]
//! [--redis-only | --sluice-bin PATH | --calibrate] [--list] [FILTER…]]`. A FILTER keeps the
//! workloads whose name contains it; `--sluice-bin` skips building and benchmarks that binary
//! instead; `--calibrate` puts a second `redis-server` in Sluice's column, so the ratios show how
//! far this machine's noise alone moves them (on a shared 2-core box, ±10–30% per run).
//! Needs `redis-server` and `redis-benchmark` on `PATH` (Debian: `redis-server redis-tools`).
//!
//! Layout:
//! - `compare/server.rs`: building `sluice`, starting and stopping both servers, RSS.
//! - `compare/driver.rs`: `redis-benchmark` and a pipelined client for loading data.
//! - `compare/resp.rs`: a blocking raw-RESP client for multi-threaded and per-call workloads.
//! - `compare/workloads.rs`: the `Workload` trait, the plain throughput and memory workloads,
//!   and the list of all of them; add new ones there (or beside it, by theme).
//! - `compare/groups.rs`: consumer groups: producers and consumers at once; pending-list cost.
//! - `compare/redis8.rs`: Redis 8 additions: `XACKDEL` vs `XACK`+`XDEL`, `XADD IDMPAUTO` cost.
//! - `compare/keyvalue.rs`: `SET`/`GET` throughput; memory of many small strings and hashes.
//! - `compare/persistence.rs`: XADD under each fsync policy; restart (log replay, snapshot).
//! - `compare/routes.rs`: a WebAssembly route's catch-up rate, its cost to XADD, its latency.
//! - `compare/policies.rs`: a claim policy's evaluation of 100k pending, its cost to other
//!   streams.
//! - `compare/attached.rs`: a route run by instances attached to a Redis Cluster, against
//!   the embedded route.
//! - `compare/report.rs`: per-run ratios and the table.

#[path = "compare/attached.rs"]
mod attached;
#[path = "compare/driver.rs"]
mod driver;
#[path = "compare/groups.rs"]
mod groups;
#[path = "compare/keyvalue.rs"]
mod keyvalue;
#[path = "compare/persistence.rs"]
mod persistence;
#[path = "compare/policies.rs"]
mod policies;
#[path = "compare/redis8.rs"]
mod redis8;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/resp.rs"]
mod resp;
#[path = "compare/routes.rs"]
mod routes;
#[path = "compare/server.rs"]
mod server;
#[path = "compare/workloads.rs"]
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;

use report::Row;
use server::{Binaries, Kind, RunningServer, SluiceBinary};
use workloads::{Baseline, Ctx, Scale, Workload};

/// Sluice against Redis: throughput and memory, with the ratio Sluice/Redis per workload.
#[derive(Debug, Parser)]
#[command(name = "compare")]
struct Options {
    /// Smaller counts and fewer runs: a few minutes instead of about eight.
    #[arg(long)]
    quick: bool,
    /// Measurements per server per workload (default 7, or 5 with --quick).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
    /// Benchmark Redis alone (e.g. while sluice does not build).
    #[arg(long, conflicts_with_all = ["sluice_bin", "calibrate"])]
    redis_only: bool,
    /// Benchmark this sluice binary instead of building one.
    #[arg(long, value_name = "PATH")]
    sluice_bin: Option<PathBuf>,
    /// Put a second redis-server in Sluice's column, to show the machine's noise floor.
    #[arg(long, conflicts_with = "sluice_bin")]
    calibrate: bool,
    /// List the workloads (after filtering) and exit.
    #[arg(long)]
    list: bool,
    /// Passed by `cargo bench` to every bench binary.
    #[arg(long, hide = true)]
    bench: bool,
    /// Keep only the workloads whose name contains one of these.
    filters: Vec<String>,
}

fn main() -> ExitCode {
    // Reported by hand: `main() -> Result` would add a backtrace whenever RUST_BACKTRACE is set.
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let opts = Options::parse();
    let selected: Vec<Box<dyn Workload>> = workloads::all()
        .into_iter()
        .filter(|w| {
            opts.filters.is_empty() || opts.filters.iter().any(|f| w.name().contains(f.as_str()))
        })
        // A Sluice-vs-Sluice or Sluice-only row has nothing to measure without Sluice, and a
        // Sluice-only row nothing with Redis in Sluice's place.
        .filter(|w| !opts.redis_only || matches!(w.baseline(), Baseline::Redis))
        .filter(|w| !(opts.calibrate && matches!(w.baseline(), Baseline::Empty)))
        .collect();
    if opts.list {
        for w in &selected {
            println!("{}", w.name());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if selected.is_empty() {
        bail!(
            "no workload matches {:?}; `-- --list` shows them",
            opts.filters
        );
    }

    let mut scale = if opts.quick {
        Scale::quick()
    } else {
        Scale::full()
    };
    if let Some(runs) = opts.runs {
        scale.runs = runs as usize;
    }
    let bins = Binaries {
        sluice: if opts.redis_only {
            None
        } else if opts.calibrate {
            Some(SluiceBinary::Redis)
        } else if let Some(bin) = &opts.sluice_bin {
            Some(SluiceBinary::Sluice(bin.clone()))
        } else {
            Some(SluiceBinary::Sluice(server::build_sluice()?))
        },
        redis: server::find_redis_tool("redis-server")?,
    };
    let ctx = Ctx {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?,
        redis_benchmark: server::find_redis_tool("redis-benchmark")?,
        scale,
    };
    let kinds: &[Kind] = if opts.redis_only {
        &[Kind::Redis]
    } else {
        &[Kind::Sluice, Kind::Redis]
    };

    let started = Instant::now();
    let mut rows = Vec::new();
    for workload in &selected {
        let baseline = match workload.baseline() {
            Baseline::Redis => "redis".to_owned(),
            Baseline::Sluice(durability) => format!("sluice {}", durability.label()),
            Baseline::Empty => "-".to_owned(),
        };
        let mut row = Row::new(workload.name(), workload.unit(), workload.goal(), baseline);
        run_workload(&ctx, &bins, kinds, workload.as_ref(), &mut row);
        rows.push(row);
    }

    report::print(&rows, opts.redis_only);
    println!(
        "\n({} run in {:.0} s{})",
        if opts.quick { "quick" } else { "full" },
        started.elapsed().as_secs_f64(),
        if opts.calibrate {
            "; calibration: the sluice column is a second redis-server"
        } else {
            ""
        }
    );
    let failed = rows.iter().filter(|r| !r.errors.is_empty()).count();
    if failed > 0 {
        eprintln!("error: {failed} workload(s) failed; see the errors above");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts a fresh pair of servers for `workload` and measures it on each, alternating which
/// server goes first from one run to the next. A server that fails is recorded in `row` and
/// left out from then on; the other one is still measured, so its numbers are not lost.
fn run_workload(
    ctx: &Ctx,
    bins: &Binaries,
    kinds: &[Kind],
    workload: &dyn Workload,
    row: &mut Row,
) {
    eprintln!("{} ...", row.name);
    let mut servers = Vec::new();
    for &kind in kinds {
        if kind == Kind::Redis && matches!(workload.baseline(), Baseline::Empty) {
            continue;
        }
        let (runs, durability) = match (kind, workload.baseline()) {
            (Kind::Redis, Baseline::Sluice(durability)) => (Kind::Sluice, durability),
            _ => (kind, workload.durability()),
        };
        let started = RunningServer::start(kind, runs, bins, durability).and_then(|server| {
            workload
                .prepare(ctx, &server)
                .context("preparing the workload")?;
            Ok(server)
        });
        match started {
            Ok(server) => servers.push(server),
            Err(err) => record_failure(row, kind, err),
        }
    }
    let runs = if workload.repeats() {
        ctx.scale.runs
    } else {
        1
    };
    for run in 0..runs {
        let mut order: Vec<&RunningServer> = servers.iter().collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for server in order {
            if row.failed(server.kind) {
                continue;
            }
            let sample = match workload.measure(ctx, server, run) {
                Ok(sample) => sample,
                Err(err) => {
                    record_failure(row, server.kind, err.context(format!("run {}", run + 1)));
                    continue;
                }
            };
            eprintln!(
                "  run {}/{runs} {:<6} {} {}",
                run + 1,
                server.kind.label(),
                report::format_value(sample.value, row.unit),
                row.unit
            );
            row.push(server.kind, sample);
        }
    }
}

fn record_failure(row: &mut Row, kind: Kind, err: anyhow::Error) {
    eprintln!("  {} failed: {err:#}", kind.label());
    row.errors.push((kind, err));
}
