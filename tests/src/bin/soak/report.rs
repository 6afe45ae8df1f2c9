//! The progress lines: every `--interval` seconds one line of rates, XADD latency, group lag
//! and delivery age, the server's resident memory and connected clients. The samples are
//! kept for the memory verdict.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::Ctx;
use crate::proto;
use crate::target::{self, Target};

/// One interval's measurements.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Seconds since the load started.
    pub elapsed: f64,
    /// Server RSS, bytes.
    pub rss: u64,
    /// `XLEN` of each stream.
    pub lens: Vec<u64>,
}

#[derive(Default)]
struct Totals {
    xadds: u64,
    reads: u64,
    delivered: u64,
}

impl Totals {
    fn now(ctx: &Ctx) -> Totals {
        Totals {
            xadds: ctx.stats.xadds.load(Relaxed),
            reads: ctx.stats.reads.load(Relaxed),
            delivered: ctx.stats.delivered.load(Relaxed),
        }
    }
}

/// Prints the header, then a line per interval until `duration` has passed since
/// `ctx.started`; fails if the server goes away.
pub async fn run(ctx: &Ctx, target: &mut Target, duration: Duration) -> Result<Vec<Sample>> {
    let interval = Duration::from_secs(ctx.plan.interval);
    let mut conn = proto::connect(ctx.addr).await?;
    println!(
        "{:>6} {:>8} {:>8} {:>8}  {:>20} {:>8} {:>8} {:>9} {:>7}",
        "t",
        "xadd/s",
        "read/s",
        "deliv/s",
        "xadd ms p50/p99/p999",
        "lag",
        "age99ms",
        "rss MiB",
        "clients"
    );
    let mut samples = Vec::new();
    let mut last = Totals::default();
    let mut last_at = ctx.started;
    let mut tick = 1u32;
    loop {
        let due = (ctx.started + interval * tick).min(ctx.started + duration);
        tokio::time::sleep_until(due.into()).await;
        tick += 1;
        if let Some(status) = target.exited() {
            bail!(
                "the server exited during the run ({status}):\n{}",
                target.log_tail()
            );
        }
        let now = Instant::now();
        let secs = now.duration_since(last_at).as_secs_f64().max(1e-3);
        let totals = Totals::now(ctx);
        let (xadd, age) = ctx.stats.take_interval();
        let rss = target.rss(&mut conn).await?;
        let info = target::info(&mut conn, "clients").await?;
        let clients = proto::info_field(&info, "connected_clients")
            .context("INFO clients has no connected_clients")?;
        let mut lens = Vec::new();
        for key in &ctx.keys {
            let len: u64 = redis::cmd("XLEN")
                .arg(key)
                .query_async(&mut conn)
                .await
                .with_context(|| format!("XLEN {key}"))?;
            lens.push(len);
        }
        let elapsed = now.duration_since(ctx.started).as_secs_f64();
        println!(
            "{:>5.0}s {:>8.0} {:>8.0} {:>8.0}  {:>20} {:>8} {:>8.1} {:>9.1} {:>7}",
            elapsed,
            (totals.xadds - last.xadds) as f64 / secs,
            (totals.reads - last.reads) as f64 / secs,
            (totals.delivered - last.delivered) as f64 / secs,
            format!("{:.2}/{:.2}/{:.2}", xadd.p50, xadd.p99, xadd.p999),
            ctx.stats.max_group_lag(),
            age.p99,
            rss as f64 / (1024.0 * 1024.0),
            clients
        );
        samples.push(Sample { elapsed, rss, lens });
        last = totals;
        last_at = now;
        if now >= ctx.started + duration {
            return Ok(samples);
        }
    }
}
