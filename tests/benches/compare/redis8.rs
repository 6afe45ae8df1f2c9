//! Rows for Redis 8's stream additions, which Redis 7 (the baseline server) lacks:
//!
//! - [`AckDel`]: `XACKDEL` on Sluice against the `XACK` + `XDEL` pair a Redis 7 client sends
//!   for the same effect, on redis-server in the same run.
//! - [`IdmpAuto`]: `XADD … IDMPAUTO` against plain `XADD`, both on Sluice: what deduplication
//!   costs a producer.
//! - [`ClaimRead`]: a consumer taking over a dead one's pending entries and then reading new
//!   ones, with `XREADGROUP … CLAIM` on Sluice against the `XAUTOCLAIM` + `XREADGROUP` pair a
//!   Redis 7 client sends, on redis-server in the same run.

use std::time::Instant;

use anyhow::{Result, ensure};

use crate::driver::BenchmarkRun;
use crate::groups::build_pending;
use crate::resp::{Conn, Reply};
use crate::server::{Durability, Kind, RunningServer};
use crate::workloads::{Baseline, Ctx, Goal, Sample, Workload, args, stream_len};

/// The rows of this file, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    vec![Box::new(AckDel), Box::new(IdmpAuto), Box::new(ClaimRead)]
}

/// IDs acknowledged and deleted per command (pair, on Redis).
const ACKDEL_BATCH: u64 = 10;
/// Commands (pairs) per round trip.
const ACKDEL_PIPELINE: u64 = 50;

/// Entries per second acknowledged and deleted: `XACKDEL key g IDS 10 …` on Sluice,
/// `XACK key g …` + `XDEL key …` on Redis, over a group holding every entry pending.
pub struct AckDel;

impl Workload for AckDel {
    fn name(&self) -> String {
        "xackdel vs xack+xdel".to_owned()
    }
    fn unit(&self) -> &'static str {
        "entries/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(1.0)
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = format!("ackdel:{run}");
        let entries = ctx.scale.pending_large.min(200_000);
        let mut conn = Conn::connect(server.port)?;
        build_pending(&mut conn, &key, entries, entries)?;
        let combined = server.kind == Kind::Sluice;
        let started = Instant::now();
        let mut next = 1;
        while next <= entries {
            let mut sent = 0;
            while sent < ACKDEL_PIPELINE && next <= entries {
                let ids: Vec<String> = (next..(next + ACKDEL_BATCH).min(entries + 1))
                    .map(|ms| format!("{ms}-0"))
                    .collect();
                next += ids.len() as u64;
                let n = ids.len().to_string();
                if combined {
                    let mut cmd = vec!["XACKDEL", key.as_str(), "g", "IDS", n.as_str()];
                    cmd.extend(ids.iter().map(String::as_str));
                    conn.queue(&cmd);
                } else {
                    let mut ack = vec!["XACK", key.as_str(), "g"];
                    ack.extend(ids.iter().map(String::as_str));
                    conn.queue(&ack);
                    let mut del = vec!["XDEL", key.as_str()];
                    del.extend(ids.iter().map(String::as_str));
                    conn.queue(&del);
                }
                sent += 1;
            }
            conn.flush()?;
            for _ in 0..sent * if combined { 1 } else { 2 } {
                let reply = conn.read()?;
                let done = match reply.array() {
                    Ok(codes) => codes.iter().all(|c| c.int().is_ok_and(|c| c == 1)),
                    Err(_) => reply.int().is_ok_and(|n| n > 0),
                };
                ensure!(done, "{key}: unexpected reply {reply:?}");
            }
        }
        let secs = started.elapsed().as_secs_f64();
        ensure!(stream_len(ctx, server, &key)? == 0, "{key} is not empty");
        Ok(Sample::plain(entries as f64 / secs))
    }
}

/// `redis-benchmark` `XADD key IDMPAUTO p * f1 <random> f2 v2` on Sluice against the same
/// `XADD` without IDMPAUTO, also on Sluice (the baseline column): random values keep nearly
/// every message new, so this is the cost of hashing and remembering, not of duplicates.
pub struct IdmpAuto;

/// `redis-benchmark -r`: the range `__rand_int__` draws from.
const RANDOM_RANGE: &str = "1000000000";

impl Workload for IdmpAuto {
    fn name(&self) -> String {
        "xadd idmpauto vs xadd".to_owned()
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(0.8)
    }
    fn baseline(&self) -> Baseline {
        Baseline::Sluice(Durability::Default)
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = format!("idmpauto:{run}");
        let idmp: &[&str] = if server.kind == Kind::Sluice {
            &["IDMPAUTO", "p"]
        } else {
            &[]
        };
        let mut command = vec!["-r", RANDOM_RANGE, "XADD", key.as_str()];
        command.extend_from_slice(idmp);
        command.extend_from_slice(&["*", "f1", "__rand_int__", "f2", "v2"]);
        let requests = ctx.scale.xadd_requests;
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests,
            pipeline: 1,
            command: args(&command),
        };
        let rps = bench.run(&ctx.redis_benchmark, server)?;
        // A few random values repeat (and are deduplicated); errors would leave far fewer.
        let len = stream_len(ctx, server, &key)?;
        ensure!(
            len * 100 >= requests * 99,
            "{key} holds {len} entries after {requests} XADDs"
        );
        Ok(Sample::plain(rps))
    }
}

/// Entries per call of the [`ClaimRead`] consumer.
const CLAIM_COUNT: usize = 100;

/// Entries per second a consumer processes (reads, then acknowledges) when it takes over a
/// dead consumer's group: half the stream pending for the dead one, half never delivered. On
/// Sluice each call is `XREADGROUP GROUP g w COUNT 100 CLAIM 1 STREAMS key >`, which takes the
/// idle entries and then new ones; on Redis, `XAUTOCLAIM key g w 1 <cursor> COUNT 100` until
/// its cursor comes back to `0-0`, topped up (and then replaced) by `XREADGROUP … >`. Each
/// batch is acknowledged with one `XACK` on both.
pub struct ClaimRead;

impl Workload for ClaimRead {
    fn name(&self) -> String {
        "xreadgroup claim vs xautoclaim+xreadgroup".to_owned()
    }
    fn unit(&self) -> &'static str {
        "entries/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(1.0)
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = format!("claimread:{run}");
        let half = ctx.scale.pending_large.min(50_000);
        let mut conn = Conn::connect(server.port)?;
        build_pending(&mut conn, &key, 2 * half, half)?;
        // Every pending entry idle for at least CLAIM's 1 ms.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let claim_option = server.kind == Kind::Sluice;
        let count = CLAIM_COUNT.to_string();
        let mut cursor = Some("0-0".to_owned());
        let mut processed = 0;
        let started = Instant::now();
        loop {
            let mut ids = Vec::new();
            if claim_option {
                let reply = conn.call_ok(&[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "w",
                    "COUNT",
                    &count,
                    "CLAIM",
                    "1",
                    "STREAMS",
                    &key,
                    ">",
                ])?;
                ids.extend(read_ids(&reply)?);
            } else {
                if let Some(start) = cursor.take() {
                    let reply = conn.call_ok(&[
                        "XAUTOCLAIM",
                        &key,
                        "g",
                        "w",
                        "1",
                        &start,
                        "COUNT",
                        &count,
                    ])?;
                    let [next, claimed, ..] = reply.array()? else {
                        anyhow::bail!("XAUTOCLAIM answered {reply:?}");
                    };
                    let next = String::from_utf8_lossy(next.bulk()?).into_owned();
                    ids.extend(entry_list_ids(claimed)?);
                    cursor = (next != "0-0").then_some(next);
                }
                if ids.len() < CLAIM_COUNT {
                    let more = (CLAIM_COUNT - ids.len()).to_string();
                    let reply = conn.call_ok(&[
                        "XREADGROUP",
                        "GROUP",
                        "g",
                        "w",
                        "COUNT",
                        &more,
                        "STREAMS",
                        &key,
                        ">",
                    ])?;
                    ids.extend(read_ids(&reply)?);
                }
            }
            if ids.is_empty() {
                break;
            }
            let mut ack: Vec<&[u8]> = vec![b"XACK", key.as_bytes(), b"g"];
            ack.extend(ids.iter().map(Vec::as_slice));
            let acked = conn.call_ok(&ack)?.int()?;
            ensure!(
                acked == ids.len() as i64,
                "{key}: XACK acked {acked} of {}",
                ids.len()
            );
            processed += ids.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        ensure!(
            processed == 2 * half,
            "{key}: processed {processed} of {} entries",
            2 * half
        );
        Ok(Sample::plain(processed as f64 / secs))
    }
}

/// The IDs of a one-stream `XREADGROUP` reply (entries of 2 or, claimed, 4 elements).
fn read_ids(reply: &Reply) -> Result<Vec<Vec<u8>>> {
    let streams = match reply {
        Reply::Array(None) | Reply::Bulk(None) => return Ok(Vec::new()),
        other => other.array()?,
    };
    let [stream] = streams else {
        anyhow::bail!("expected one stream, got {reply:?}");
    };
    let [_, entries] = stream.array()? else {
        anyhow::bail!("expected [key, entries], got {stream:?}");
    };
    entry_list_ids(entries)
}

/// The IDs of a list of entries, each `[id, fields, …]`.
fn entry_list_ids(entries: &Reply) -> Result<Vec<Vec<u8>>> {
    entries
        .array()?
        .iter()
        .map(|entry| match entry.array()? {
            [id, ..] => Ok(id.bulk()?.to_vec()),
            [] => anyhow::bail!("empty entry"),
        })
        .collect()
}
