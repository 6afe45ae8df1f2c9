//! Consumer-group workloads, driven by the raw-RESP client in threads since `redis-benchmark`
//! cannot run producers and consumers at once:
//! - [`GroupThroughput`]: producers `XADD` while consumers in one group `XREADGROUP` and `XACK`.
//! - [`PendingCost`]: the per-call cost of `XPENDING` and `XCLAIM` with 1k and with 1M pending
//!   entries; judged on Sluice's own 1M/1k ratio, Redis's figures are context.
//!
//! Both check every reply: consumers must receive and acknowledge exactly what was produced,
//! and `XPENDING` must report the pending counts the workload built.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::resp::{Conn, Reply};
use crate::server::RunningServer;
use crate::workloads::{Ctx, Goal, Sample, Workload};

/// Producer and consumer connections of [`GroupThroughput`].
const PRODUCERS: u64 = 4;
const CONSUMERS: u64 = 4;
/// `XADD`s in flight per producer: moderate, as a batching client library would send them.
const PRODUCER_PIPELINE: u64 = 16;
/// Entries per `XREADGROUP`.
const READ_COUNT: u64 = 100;
/// How long a consumer that found nothing waits before asking again; keeps idle consumers
/// from spinning on a 2-core box while adding at most this much to the measured time.
const IDLE_WAIT: Duration = Duration::from_micros(200);
/// A run that has not consumed everything by then has lost entries.
const GROUP_DEADLINE: Duration = Duration::from_secs(120);

/// `PRODUCERS` connections append `group_events` entries in total while `CONSUMERS`
/// connections in group `g` loop `XACK <previous batch>` + `XREADGROUP GROUP g c<i> COUNT 100
/// STREAMS s >`, pipelined in one round trip. The value is events consumed and acknowledged
/// per second, from the first `XADD` until the last entry is acknowledged.
pub struct GroupThroughput;

impl Workload for GroupThroughput {
    fn name(&self) -> String {
        format!("group {PRODUCERS}p/{CONSUMERS}c xreadgroup+xack")
    }
    fn unit(&self) -> &'static str {
        "events/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(1.0)
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = format!("group:{run}");
        let per_producer = ctx.scale.group_events / PRODUCERS;
        let events = per_producer * PRODUCERS;
        let mut admin = Conn::connect(server.port)?;
        admin.call_ok(&["XGROUP", "CREATE", &key, "g", "$", "MKSTREAM"])?;

        let consumed = AtomicU64::new(0);
        let started = Instant::now();
        let per_consumer: Vec<u64> = std::thread::scope(|scope| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    scope.spawn({
                        let key = &key;
                        move || produce(server.port, key, p, per_producer)
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|c| {
                    scope.spawn({
                        let (key, consumed) = (&key, &consumed);
                        move || consume(server.port, key, c, consumed, events, started)
                    })
                })
                .collect();
            for p in producers {
                p.join().expect("producer thread panicked")?;
            }
            consumers
                .into_iter()
                .map(|c| c.join().expect("consumer thread panicked"))
                .collect::<Result<Vec<u64>>>()
        })?;
        let elapsed = started.elapsed().as_secs_f64();

        let total: u64 = per_consumer.iter().sum();
        ensure!(
            total == events,
            "consumers received {total} entries, expected {events}"
        );
        let len = admin.call_ok(&["XLEN", &key])?.int()?;
        ensure!(
            len == events as i64,
            "{key} holds {len} entries, expected {events}"
        );
        let pending = pending_count(&mut admin, &key)?;
        ensure!(
            pending == 0,
            "{pending} entries still pending after every batch was acked"
        );
        let shares: Vec<String> = per_consumer.iter().map(u64::to_string).collect();
        Ok(Sample::noted(
            events as f64 / elapsed,
            format!("{events} events, per consumer {}", shares.join("/")),
        ))
    }
}

/// Appends `count` entries to `key`, `PRODUCER_PIPELINE` per round trip.
fn produce(port: u16, key: &str, producer: u64, count: u64) -> Result<()> {
    let mut conn = Conn::connect(port)?;
    let field = format!("p{producer}");
    let mut sent = 0;
    while sent < count {
        let batch = PRODUCER_PIPELINE.min(count - sent);
        for i in sent..sent + batch {
            conn.queue(&["XADD", key, "*", &field, &i.to_string()]);
        }
        conn.flush()?;
        for _ in 0..batch {
            match conn.read()? {
                Reply::Bulk(Some(_)) => {}
                other => bail!("XADD {key} answered {other:?}"),
            }
        }
        sent += batch;
    }
    Ok(())
}

/// Reads and acknowledges as consumer `c<consumer>` until `events` entries have been consumed
/// across all consumers; returns how many this one received.
fn consume(
    port: u16,
    key: &str,
    consumer: u64,
    consumed: &AtomicU64,
    events: u64,
    started: Instant,
) -> Result<u64> {
    let mut conn = Conn::connect(port)?;
    let name = format!("c{consumer}");
    let count = READ_COUNT.to_string();
    let mut received = 0;
    let mut unacked: Vec<Vec<u8>> = Vec::new();
    loop {
        let acking = unacked.len();
        if acking > 0 {
            let mut xack: Vec<&[u8]> = vec![b"XACK", key.as_bytes(), b"g"];
            xack.extend(unacked.iter().map(Vec::as_slice));
            conn.queue(&xack);
        }
        conn.queue(&[
            "XREADGROUP",
            "GROUP",
            "g",
            &name,
            "COUNT",
            &count,
            "STREAMS",
            key,
            ">",
        ]);
        conn.flush()?;
        if acking > 0 {
            let acked = conn.read()?.int().context("XACK")?;
            ensure!(
                acked == acking as i64,
                "XACK of {acking} ids acknowledged {acked}"
            );
        }
        unacked = entry_ids(&conn.read()?).context("XREADGROUP")?;
        let got = unacked.len() as u64;
        received += got;
        if got == 0 {
            if consumed.load(Ordering::Acquire) >= events {
                return Ok(received);
            }
            if started.elapsed() > GROUP_DEADLINE {
                bail!(
                    "only {} of {events} entries consumed after {GROUP_DEADLINE:?}",
                    consumed.load(Ordering::Acquire)
                );
            }
            std::thread::sleep(IDLE_WAIT);
        } else {
            consumed.fetch_add(got, Ordering::AcqRel);
        }
    }
}

/// The entry IDs of an `XREADGROUP`/`XREAD` reply for one stream; none for a null reply.
fn entry_ids(reply: &Reply) -> Result<Vec<Vec<u8>>> {
    let streams = match reply {
        Reply::Array(None) | Reply::Bulk(None) => return Ok(vec![]),
        Reply::Array(Some(streams)) => streams,
        other => bail!("unexpected reply {other:?}"),
    };
    let [stream] = streams.as_slice() else {
        bail!("expected one stream in the reply, got {}", streams.len());
    };
    let [_, entries] = stream.array()? else {
        bail!("expected [key, entries], got {stream:?}");
    };
    entries
        .array()?
        .iter()
        .map(|entry| match entry.array()? {
            [id, _fields] => Ok(id.bulk()?.to_vec()),
            other => bail!("malformed entry {other:?}"),
        })
        .collect()
}

/// The count of `XPENDING <key> g` (summary form).
fn pending_count(conn: &mut Conn, key: &str) -> Result<u64> {
    let reply = conn.call_ok(&["XPENDING", key, "g"])?;
    let count = reply
        .array()?
        .first()
        .with_context(|| format!("XPENDING {key} g returned {reply:?}"))?
        .int()?;
    u64::try_from(count).context("negative pending count")
}

/// The command whose cost [`PendingCost`] measures.
#[derive(Clone, Copy, Debug)]
pub enum PendingCommand {
    /// `XPENDING s g`.
    Summary,
    /// `XPENDING s g - + 10`.
    FirstTen,
    /// `XCLAIM s g other 0 <id>` on the entry in the middle of the pending list.
    ClaimMiddle,
}

/// Streams of the pending-list workload: `SMALL_KEY` has `pending_small` entries all pending
/// in group `g`, `LARGE_KEY` `pending_large`. IDs are `<n>-0` for n = 1.., so the middle one is
/// known without asking.
const SMALL_KEY: &str = "pel:small";
const LARGE_KEY: &str = "pel:large";
/// Commands per round trip when timing: enough that the server's work, not the loopback
/// round trip, dominates what is measured.
const TIMING_PIPELINE: u64 = 100;

/// Microseconds per call of `command` with `pending_large` pending entries; judged on Sluice's
/// cost at `pending_large` over its cost at `pending_small`, measured in the same run.
pub struct PendingCost {
    pub command: PendingCommand,
}

impl PendingCost {
    fn args(&self, key: &str, size: u64) -> Vec<String> {
        let parts: Vec<String> = match self.command {
            PendingCommand::Summary => vec!["XPENDING".into(), key.into(), "g".into()],
            PendingCommand::FirstTen => ["XPENDING", key, "g", "-", "+", "10"]
                .map(String::from)
                .to_vec(),
            PendingCommand::ClaimMiddle => vec![
                "XCLAIM".into(),
                key.into(),
                "g".into(),
                "other".into(),
                "0".into(),
                format!("{}-0", size / 2 + 1),
            ],
        };
        parts
    }

    /// Checks one reply is what `command` should answer with `size` pending entries.
    fn check(&self, reply: &Reply, size: u64) -> Result<()> {
        match self.command {
            PendingCommand::Summary => {
                let count = reply
                    .array()?
                    .first()
                    .context("empty XPENDING reply")?
                    .int()?;
                ensure!(
                    count == size as i64,
                    "XPENDING reports {count}, expected {size}"
                );
            }
            PendingCommand::FirstTen => {
                let n = reply.array()?.len();
                ensure!(n == 10, "XPENDING - + 10 returned {n} entries");
            }
            PendingCommand::ClaimMiddle => {
                let n = reply.array()?.len();
                ensure!(n == 1, "XCLAIM returned {n} entries, expected 1: {reply:?}");
            }
        }
        Ok(())
    }

    /// Seconds for `calls` calls against `key`, `TIMING_PIPELINE` per round trip.
    fn time(&self, conn: &mut Conn, key: &str, size: u64, calls: u64) -> Result<f64> {
        let args = self.args(key, size);
        let started = Instant::now();
        let mut done = 0;
        while done < calls {
            let batch = TIMING_PIPELINE.min(calls - done);
            for _ in 0..batch {
                conn.queue(&args);
            }
            conn.flush()?;
            for _ in 0..batch {
                let reply = conn.read()?;
                self.check(&reply, size).with_context(|| args.join(" "))?;
            }
            done += batch;
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

impl Workload for PendingCost {
    fn name(&self) -> String {
        match self.command {
            PendingCommand::Summary => "pending: xpending summary",
            PendingCommand::FirstTen => "pending: xpending - + 10",
            PendingCommand::ClaimMiddle => "pending: xclaim middle",
        }
        .to_owned()
    }
    fn unit(&self) -> &'static str {
        "us/call"
    }
    fn goal(&self) -> Goal {
        Goal::ScalingAtMost(1.5)
    }

    fn prepare(&self, ctx: &Ctx, server: &RunningServer) -> Result<()> {
        let mut conn = Conn::connect(server.port)?;
        for (key, size) in [
            (SMALL_KEY, ctx.scale.pending_small),
            (LARGE_KEY, ctx.scale.pending_large),
        ] {
            build_pending(&mut conn, key, size, size)
                .with_context(|| format!("building {key} on {}", server.kind.label()))?;
        }
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let mut conn = Conn::connect(server.port)?;
        let (small, large) = (ctx.scale.pending_small, ctx.scale.pending_large);
        let calls = ctx.scale.pending_calls;
        // Small and large alternate, and which goes first alternates by run, so drift on the
        // box lands on both sizes alike.
        let (mut small_s, mut large_s) = (0.0, 0.0);
        for round in 0..2 {
            if (run + round).is_multiple_of(2) {
                small_s += self.time(&mut conn, SMALL_KEY, small, calls)?;
                large_s += self.time(&mut conn, LARGE_KEY, large, calls)?;
            } else {
                large_s += self.time(&mut conn, LARGE_KEY, large, calls)?;
                small_s += self.time(&mut conn, SMALL_KEY, small, calls)?;
            }
        }
        let per_call = |secs: f64| secs * 1e6 / (2 * calls) as f64;
        let (small_us, large_us) = (per_call(small_s), per_call(large_s));
        Ok(Sample {
            value: large_us,
            note: Some(format!(
                "{small_us:.2} us at {small}, {large_us:.2} us at {large} ({:.2}x)",
                large_us / small_us
            )),
            scaling: Some(large_us / small_us),
        })
    }
}

/// Entries per round trip while loading.
const LOAD_PIPELINE: u64 = 1000;
/// Entries per `XREADGROUP` that moves loaded entries into the pending list.
const CLAIM_BATCH: u64 = 100_000;

/// Makes `key` a stream of `size` entries with IDs `1-0..size-0`, the first `delivered` of
/// them delivered to consumer `c1` of group `g` and none acknowledged; checks `XPENDING`
/// agrees.
pub fn build_pending(conn: &mut Conn, key: &str, size: u64, delivered: u64) -> Result<()> {
    load(conn, key, size, |i| format!("{}-0", i + 1))?;
    conn.call_ok(&["XGROUP", "CREATE", key, "g", "0"])?;
    let pending = deliver(conn, key, delivered)?;
    ensure!(
        pending == delivered,
        "delivered {pending} entries, expected {delivered}"
    );
    let reported = pending_count(conn, key)?;
    ensure!(
        reported == delivered,
        "XPENDING reports {reported}, expected {delivered}"
    );
    Ok(())
}

/// `XADD key <id(i)> a <i> b <i>` for i in 0..count, `LOAD_PIPELINE` per round trip.
pub fn load(conn: &mut Conn, key: &str, count: u64, id: impl Fn(u64) -> String) -> Result<()> {
    let mut sent = 0;
    while sent < count {
        let batch = LOAD_PIPELINE.min(count - sent);
        for i in sent..sent + batch {
            let i_text = i.to_string();
            conn.queue(&["XADD", key, &id(i), "a", &i_text, "b", &i_text]);
        }
        conn.flush()?;
        for i in sent..sent + batch {
            match conn.read()? {
                Reply::Bulk(Some(_)) => {}
                other => bail!("XADD {key} (entry {i}) answered {other:?}"),
            }
        }
        sent += batch;
    }
    Ok(())
}

/// Delivers up to `count` new entries of `key` to consumer `c1` of group `g` without acking,
/// `CLAIM_BATCH` per call; returns how many were delivered.
pub fn deliver(conn: &mut Conn, key: &str, count: u64) -> Result<u64> {
    let mut delivered = 0;
    while delivered < count {
        let batch = CLAIM_BATCH.min(count - delivered).to_string();
        let reply = conn.call_ok(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            &batch,
            "STREAMS",
            key,
            ">",
        ])?;
        let got = entry_ids(&reply)?.len() as u64;
        if got == 0 {
            break;
        }
        delivered += got;
    }
    Ok(delivered)
}
