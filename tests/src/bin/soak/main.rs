//! `sluice-soak`: a bounded load-and-soak run against Sluice (started here as a child process)
//! or any server on a loopback address (`redis-server` for comparison), ending in a verdict.
//!
//! Run with:
//! `cargo run --release -p sluice-tests --bin sluice-soak -- --sluice-bin target/release/sluice --duration 300`
//!
//! Layout:
//! - `target`: the server: child process or `--addr`, its RSS, stopping it.
//! - `produce`, `consume`, `noise`: the concurrent workload (producers; consumer groups with a
//!   dying consumer and a claimer; blocked readers and disruptive clients).
//! - `stats`, `report`: counters and histograms; the line printed every interval.
//! - `verify`, `verify_groups`: the checks of the verdict.
//! - `scrape`: `--scrape-metrics`, the server's `/metrics` scraped during the load.
//! - `proto`: stream IDs, connections, reply shapes shared by all.

mod consume;
mod noise;
mod phases;
mod produce;
mod proto;
mod report;
mod scrape;
mod stats;
mod target;
mod verify;
mod verify_groups;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, Parser};
use redis::aio::MultiplexedConnection;

use crate::stats::Stats;
use crate::target::Target;
use crate::verify::Check;

/// Group on the quiet stream that the disruptive clients block on (never verified).
pub const QUIET_GROUP: &str = "quiet";

/// A bounded load-and-soak run of concurrent stream clients against Sluice or another
/// RESP server on loopback, printing a line per interval and a verdict at the end (exit
/// code 1 when a check fails, 2 when the run itself could not be carried out).
#[derive(Debug, Parser)]
#[command(name = "sluice-soak")]
struct Cli {
    /// Start this `sluice` binary on a free loopback port with a temporary --dir and its
    /// defaults (appendonly yes, appendfsync everysec), and stop it at the end.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "addr",
        conflicts_with = "addr"
    )]
    sluice_bin: Option<PathBuf>,
    /// Target a server already running here instead (loopback addresses only).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Extra flag for the started server (repeatable), e.g. --sluice-arg=--appendfsync=always.
    #[arg(long = "sluice-arg", value_name = "ARG", allow_hyphen_values = true)]
    sluice_args: Vec<String>,
    /// Length of the load, seconds (at most a day).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// The first this % of the run is warm-up; memory is measured against its end.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=90))]
    warmup_pct: u64,
    /// Largest RSS growth from the end of warm-up to the end of the run, %.
    #[arg(long, default_value_t = 20)]
    rss_growth_pct: u64,
    /// Key prefix of the streams [default: soak:<unix ms>].
    #[arg(long)]
    key_prefix: Option<String>,
    /// Leave the streams on an --addr server at the end (they are deleted by default).
    #[arg(long)]
    keep_keys: bool,
    /// Start the server with --metrics-port and scrape /metrics every second during the
    /// load; the verdict checks every scrape answered (needs --sluice-bin).
    #[arg(long, requires = "sluice_bin")]
    scrape_metrics: bool,
    #[command(flatten)]
    plan: Plan,
}

/// The workload's sizes and timings.
#[derive(Debug, Clone, Args)]
pub struct Plan {
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Producers; producer p writes to stream p % streams.
    #[arg(long, default_value_t = 8, value_parser = count)]
    pub producers: usize,
    /// Streams.
    #[arg(long, default_value_t = 4, value_parser = count)]
    pub streams: usize,
    /// Consumer groups per stream.
    #[arg(long, default_value_t = 2, value_parser = count)]
    pub groups: usize,
    /// Consumers per group.
    #[arg(long, default_value_t = 3, value_parser = count)]
    pub consumers: usize,
    /// Clients looping on `XREAD BLOCK 1000 STREAMS <s> $`.
    #[arg(long, default_value_t = 4)]
    pub blocked_readers: usize,
    /// Clients that connect, misbehave (half frames, abandoned blocking reads, garbage) and
    /// drop the connection, over and over.
    #[arg(long, default_value_t = 2)]
    pub disruptors: usize,
    /// Pause of a disruptive client between two connections, ms.
    #[arg(long, default_value_t = 10)]
    pub disrupt_pause_ms: u64,
    /// `XADD … MAXLEN ~ N`, so memory has a reason to stay flat; 0 disables trimming.
    #[arg(long, default_value_t = 100_000)]
    pub maxlen: u64,
    /// Total XADDs per second over all producers; 0 = as fast as the server answers.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Consumer 0 of each group stops acking once per this many seconds (0 = never)…
    #[arg(long, default_value_t = 20)]
    pub die_every: u64,
    /// …for this many seconds.
    #[arg(long, default_value_t = 5)]
    pub dead_for: u64,
    /// XAUTOCLAIM's min-idle-time, ms.
    #[arg(long, default_value_t = 2000)]
    pub claim_idle_ms: u64,
    /// How often the claiming consumer runs XAUTOCLAIM, ms.
    #[arg(long, default_value_t = 1000)]
    pub claim_every_ms: u64,
}

/// A count of clients or streams: 1 to 1000.
fn count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!("expected a number from 1 to 1000, got {text}")),
    }
}

/// What every task of the run shares.
#[derive(Debug)]
pub struct Ctx {
    /// The server's address.
    pub addr: SocketAddr,
    /// Sizes and timings.
    pub plan: Plan,
    /// The streams' keys.
    pub keys: Vec<String>,
    /// A stream nobody writes to, for reads that block until their client leaves.
    pub quiet_key: String,
    /// Counters.
    pub stats: Stats,
    /// When the load started.
    pub started: Instant,
}

/// `g<index>`.
pub fn group_name(group: usize) -> String {
    format!("g{group}")
}

/// The task's connection, opened if it has none; `None` (after counting the failure and a
/// 100 ms pause) when the server cannot be reached.
pub async fn ensure_connected<'c>(
    ctx: &Ctx,
    conn: &'c mut Option<MultiplexedConnection>,
    command: &str,
) -> Option<&'c mut MultiplexedConnection> {
    if conn.is_none() {
        match proto::connect(ctx.addr).await {
            Ok(c) => *conn = Some(c),
            Err(e) => {
                ctx.stats
                    .unexpected_error(command, "connect", &format!("{e:#}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                return None;
            }
        }
    }
    conn.as_mut()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sluice-soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sluice-soak: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Starts or finds the server, runs the load, judges it; `Ok(false)` when a check fails.
async fn run(cli: Cli) -> Result<bool> {
    let mut target = match (&cli.sluice_bin, &cli.addr) {
        (Some(bin), _) => Target::spawn(bin, &cli.sluice_args, cli.scrape_metrics).await?,
        (None, Some(addr)) => {
            ensure!(
                cli.sluice_args.is_empty(),
                "--sluice-arg needs --sluice-bin"
            );
            Target::external(addr)?
        }
        (None, None) => bail!("give --sluice-bin or --addr"),
    };
    let prefix = (cli.key_prefix.clone()).unwrap_or_else(|| format!("soak:{}", proto::now_ms()));
    let plan = cli.plan.clone();
    let keys: Vec<String> = (0..plan.streams).map(|s| format!("{prefix}:{s}")).collect();
    let quiet_key = format!("{prefix}:quiet");
    let mut admin = proto::connect(target.addr).await?;
    describe(&cli, &target, &mut admin).await?;
    phases::setup(&mut admin, &keys, &quiet_key, plan.groups).await?;
    let ctx = Arc::new(Ctx {
        addr: target.addr,
        stats: Stats::new(plan.streams, plan.groups),
        plan,
        keys,
        quiet_key,
        started: Instant::now(),
    });
    let result = phases::soak(&ctx, &mut target, &cli, &mut admin).await;
    if target.pid().is_none() && !cli.keep_keys {
        let mut del = redis::cmd("DEL");
        del.arg(&ctx.keys).arg(&ctx.quiet_key);
        del.query_async::<i64>(&mut admin)
            .await
            .context("deleting the soak's streams")?;
    }
    let data = target.data_bytes();
    let stopped = target.stop().await?;
    let mut checks = result?;
    if let Some(status) = stopped {
        let mut check = Check::new("server stopped cleanly on SHUTDOWN");
        if let Some(bytes) = data {
            check.note(format!(
                "data folder at the end: {:.1} MiB",
                bytes as f64 / 1048576.0
            ));
        }
        if status == "exit status: 0" {
            check.note(status);
        } else {
            check.fail(format!("{status}; log tail:\n{}", target.log_tail()));
        }
        checks.push(check);
    }
    Ok(phases::verdict(&checks))
}

/// One line saying what is under load.
async fn describe(cli: &Cli, target: &Target, conn: &mut MultiplexedConnection) -> Result<()> {
    let info = target::info(conn, "server").await?;
    let field = |name| proto::info_text(&info, name).unwrap_or("?").to_owned();
    let who = match target.pid() {
        Some(pid) => format!("sluice {} (child pid {pid})", field("sluice_version")),
        None if proto::info_text(&info, "sluice_version").is_some() => {
            format!("sluice {} (external)", field("sluice_version"))
        }
        None => format!("redis_version {} (external)", field("redis_version")),
    };
    let p = &cli.plan;
    println!(
        "target {who} at {}; {} s; {} producers -> {} streams (maxlen {}), {} groups x {} \
         consumers, {} blocked readers, {} disruptive clients",
        target.addr,
        cli.duration,
        p.producers,
        p.streams,
        if p.maxlen == 0 {
            "none".to_owned()
        } else {
            format!("~{}", p.maxlen)
        },
        p.groups,
        p.consumers,
        p.blocked_readers,
        p.disruptors
    );
    Ok(())
}
