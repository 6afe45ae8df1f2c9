//! Producers: each appends `p=<producer> seq=<n>` entries to one stream (`producer % streams`)
//! as fast as the server answers (or at `--rate`), one request at a time so each `XADD`'s
//! latency is its own, and remembers the ID of every acknowledged one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;
use tokio::sync::watch;

use crate::Ctx;
use crate::proto::{self, StreamId};

/// What one producer wrote.
#[derive(Debug)]
pub struct ProducerLog {
    /// Producer number (the `p` field).
    pub producer: usize,
    /// Index of the stream it wrote to.
    pub stream: usize,
    /// The acknowledged ID of each `seq`, in order; [`StreamId::ZERO`] where the outcome is
    /// unknown (an error reply or a broken connection).
    pub ids: Vec<StreamId>,
}

/// Runs producer `producer` until `stop` turns true.
pub async fn run(ctx: Arc<Ctx>, producer: usize, stop: watch::Receiver<bool>) -> ProducerLog {
    let stream = producer % ctx.plan.streams;
    let key = ctx.keys[stream].clone();
    let mut log = ProducerLog {
        producer,
        stream,
        ids: Vec::new(),
    };
    // Per-producer share of `--rate`; none when unthrottled.
    let period = (ctx.plan.rate > 0)
        .then(|| Duration::from_secs_f64(ctx.plan.producers as f64 / ctx.plan.rate as f64));
    let mut next_at = Instant::now();
    let mut conn = None;
    while !*stop.borrow() {
        if let Some(period) = period {
            next_at += period;
            tokio::time::sleep_until(next_at.into()).await;
        }
        let Some(c) = crate::ensure_connected(&ctx, &mut conn, "XADD").await else {
            continue;
        };
        let seq = log.ids.len();
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&key);
        if ctx.plan.maxlen > 0 {
            cmd.arg("MAXLEN").arg("~").arg(ctx.plan.maxlen);
        }
        cmd.arg("*").arg("p").arg(producer).arg("seq").arg(seq);
        let sent = Instant::now();
        match cmd.query_async::<Value>(c).await {
            Ok(reply) => match proto::bytes(&reply).and_then(StreamId::parse) {
                Ok(id) => {
                    ctx.stats.record_xadd(stream, sent.elapsed());
                    log.ids.push(id);
                }
                Err(e) => {
                    ctx.stats
                        .unexpected_error("XADD", "bad reply", &format!("{e:#}"));
                    log.ids.push(StreamId::ZERO);
                }
            },
            Err(e) => {
                ctx.stats
                    .unexpected_error("XADD", &proto::error_kind(&e), &e.to_string());
                log.ids.push(StreamId::ZERO);
                if proto::connection_broken(&e) {
                    conn = None;
                }
            }
        }
    }
    log
}
