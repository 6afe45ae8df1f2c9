//! The phases of a run around the interval reports: creating the streams and groups, starting
//! every client, stopping the load, draining the groups, and the checks and their verdict.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redis::aio::MultiplexedConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::consume::{self, ConsumerLog, Phase};
use crate::produce::ProducerLog;
use crate::report::Sample;
use crate::target::{self, Target};
use crate::verify::{self, Check, Outcome};
use crate::{Cli, Ctx, QUIET_GROUP, group_name, noise, produce, report, scrape, verify_groups};

/// Creates the streams and their groups (reading from the start), and the quiet stream.
pub async fn setup(
    conn: &mut MultiplexedConnection,
    keys: &[String],
    quiet: &str,
    groups: usize,
) -> Result<()> {
    for key in keys {
        for g in 0..groups {
            redis::cmd("XGROUP")
                .arg(&["CREATE", key, &group_name(g), "0", "MKSTREAM"])
                .query_async::<()>(conn)
                .await
                .with_context(|| format!("XGROUP CREATE {key} {}", group_name(g)))?;
        }
    }
    redis::cmd("XGROUP")
        .arg(&["CREATE", quiet, QUIET_GROUP, "$", "MKSTREAM"])
        .query_async::<()>(conn)
        .await
        .with_context(|| format!("XGROUP CREATE {quiet}"))?;
    Ok(())
}

/// What the clients saw, gathered after the drain.
struct Logs {
    producers: Vec<ProducerLog>,
    consumers: Vec<ConsumerLog>,
    samples: Vec<Sample>,
    drained_in: Duration,
    /// What `--scrape-metrics` saw.
    scrapes: Option<scrape::ScrapeLog>,
}

/// The load, the drain and the checks.
pub async fn soak(
    ctx: &Arc<Ctx>,
    target: &mut Target,
    cli: &Cli,
    admin: &mut MultiplexedConnection,
) -> Result<Vec<Check>> {
    let logs = load(ctx, target, Duration::from_secs(cli.duration)).await?;
    print_totals(ctx, logs.drained_in);
    let mut stored = Vec::new();
    for key in &ctx.keys {
        stored.push(verify::read_stream(admin, key).await?);
    }
    let errorstats = target::info(admin, "errorstats").await.unwrap_or_default();
    let memory = verify::MemoryBound {
        maxlen: ctx.plan.maxlen,
        duration_s: cli.duration as f64,
        warmup_pct: cli.warmup_pct,
        growth_pct: cli.rss_growth_pct,
    };
    let mut checks = vec![
        verify::events(&ctx.keys, &stored, &logs.producers),
        verify_groups::groups(admin, ctx, &stored, &logs.consumers).await?,
        verify::errors(&ctx.stats.errors(), &errorstats),
        verify::memory(&memory, &logs.samples),
    ];
    if let Some(scrapes) = &logs.scrapes {
        checks.push(scrape::check(scrapes, ctx.stats.xadd_total().count));
    }
    Ok(checks)
}

/// Starts every client, reports until `duration` is over, stops the load and drains the
/// groups. If the reports fail (the server went away), every client is stopped at once.
async fn load(ctx: &Arc<Ctx>, target: &mut Target, duration: Duration) -> Result<Logs> {
    let (stop, stopped) = watch::channel(false);
    let (phase, phased) = watch::channel(Phase::Load);
    let p = &ctx.plan;
    let producers: Vec<_> = (0..p.producers)
        .map(|i| tokio::spawn(produce::run(ctx.clone(), i, stopped.clone())))
        .collect();
    let mut consumers = Vec::new();
    for s in 0..p.streams {
        for g in 0..p.groups {
            for c in 0..p.consumers {
                let task = consume::run(ctx.clone(), s, g, c, phased.clone());
                consumers.push(tokio::spawn(task));
            }
        }
    }
    let mut noise: Vec<JoinHandle<()>> = (0..p.blocked_readers)
        .map(|i| tokio::spawn(noise::blocked_reader(ctx.clone(), i, stopped.clone())))
        .collect();
    noise.extend(
        (0..p.disruptors).map(|i| tokio::spawn(noise::disruptor(ctx.clone(), i, stopped.clone()))),
    );

    let scraper = target
        .metrics
        .map(|addr| scrape::start(addr, stopped.clone()));
    let samples = report::run(ctx, target, duration).await;
    let _ = stop.send(true);
    let scrapes = match scraper {
        Some(handle) => Some(handle.await.context("the metrics scraper")?),
        None => None,
    };
    let samples = match samples {
        Ok(samples) => samples,
        Err(e) => {
            producers.iter().for_each(JoinHandle::abort);
            consumers.iter().for_each(JoinHandle::abort);
            noise.iter().for_each(JoinHandle::abort);
            return Err(e);
        }
    };
    let producers = join_all(producers, Duration::from_secs(30), "producers").await?;
    let within = Duration::from_secs(30);
    join_all(noise, within, "readers and disruptive clients").await?;
    let drain = Instant::now();
    let _ = phase.send(Phase::Drain);
    let consumers = join_all(consumers, Duration::from_secs(120), "consumers").await?;
    Ok(Logs {
        producers,
        consumers,
        samples,
        drained_in: drain.elapsed(),
        scrapes,
    })
}

fn print_totals(ctx: &Ctx, drained_in: Duration) {
    let s = &ctx.stats;
    let total = s.xadd_total();
    println!(
        "load stopped; groups drained in {:.1} s. XADD latency over the run: p50 {:.2} p99 {:.2} \
         p999 {:.2} max {:.2} ms ({} acknowledged); {} reads, {} deliveries, {} claimed, {} acked \
         ({} short XACKs), {} entries to blocked readers, {} disruptive connections",
        drained_in.as_secs_f64(),
        total.p50,
        total.p99,
        total.p999,
        total.max,
        total.count,
        s.reads.load(Relaxed),
        s.delivered.load(Relaxed),
        s.claimed.load(Relaxed),
        s.acked.load(Relaxed),
        s.short_acks.load(Relaxed),
        s.blocked_entries.load(Relaxed),
        s.disruptions.load(Relaxed),
    );
}

/// Awaits every task, aborting those still running after `within`.
async fn join_all<T>(handles: Vec<JoinHandle<T>>, within: Duration, what: &str) -> Result<Vec<T>> {
    let deadline = tokio::time::Instant::now() + within;
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        let abort = handle.abort_handle();
        match tokio::time::timeout_at(deadline, handle).await {
            Ok(Ok(value)) => out.push(value),
            Ok(Err(e)) => bail!("one of the {what} failed: {e}"),
            Err(_) => {
                abort.abort();
                bail!("the {what} did not finish within {within:?}");
            }
        }
    }
    Ok(out)
}

/// Prints the checks; true when none failed.
pub fn verdict(checks: &[Check]) -> bool {
    println!("verdict:");
    for (i, check) in checks.iter().enumerate() {
        let label = match check.outcome {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        };
        println!("  [{label}] {}. {}", i + 1, check.name);
        for note in &check.notes {
            println!("         {note}");
        }
    }
    let passed = checks.iter().all(|c| c.outcome != Outcome::Fail);
    println!("overall: {}", if passed { "PASS" } else { "FAIL" });
    passed
}
