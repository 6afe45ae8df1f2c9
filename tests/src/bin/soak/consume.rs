//! Consumer groups: `--consumers` consumers per group read with `XREADGROUP … >` and `XACK`
//! what they get. Consumer 0 of each group "dies" now and then: for `--dead-for` seconds in
//! every `--die-every` it keeps fetching but acknowledges nothing, then forgets what it held
//! (as a restarted process would). Consumer 1 (or 0 when alone) runs `XAUTOCLAIM` every
//! `--claim-every-ms` and acknowledges what it takes over, so the dead one's entries are
//! claimed once idle for `--claim-idle-ms`.
//!
//! When the phase turns to [`Phase::Drain`] (producers have stopped) every consumer revives
//! and reads until `>` has nothing left, so the group has seen the whole stream.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use redis::Value;
use redis::aio::MultiplexedConnection;
use tokio::sync::watch;

use crate::Ctx;
use crate::proto::{self, StreamId};

/// Where the run is, as the consumers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Producers are writing.
    Load,
    /// Producers have stopped: read until nothing is left, then return.
    Drain,
}

/// What one consumer saw and did.
#[derive(Debug, Default)]
pub struct ConsumerLog {
    /// Stream index.
    pub stream: usize,
    /// Group index.
    pub group: usize,
    /// IDs `XREADGROUP … >` gave it, in the order received.
    pub delivered: Vec<StreamId>,
    /// IDs it named in a successful `XACK`.
    pub acked: Vec<StreamId>,
    /// IDs `XAUTOCLAIM` gave it.
    pub claimed: Vec<StreamId>,
    /// IDs `XAUTOCLAIM` reported deleted (trimmed while pending; dropped from the PEL).
    pub claim_deleted: Vec<StreamId>,
    /// Times a `>` delivery was not after the previous one.
    pub out_of_order: u64,
    /// Times it died and came back.
    pub deaths: u64,
}

struct Consumer {
    ctx: Arc<Ctx>,
    key: String,
    group: String,
    name: String,
    conn: Option<MultiplexedConnection>,
    log: ConsumerLog,
}

/// Runs consumer `consumer` of group `group` on stream `stream` until the drain is done.
pub async fn run(
    ctx: Arc<Ctx>,
    stream: usize,
    group: usize,
    consumer: usize,
    phase: watch::Receiver<Phase>,
) -> ConsumerLog {
    let plan = &ctx.plan;
    let dies = consumer == 0 && plan.die_every > 0;
    let claims = consumer == 1 % plan.consumers;
    let cycle = Duration::from_secs(plan.die_every + plan.dead_for);
    // Groups die at different moments, one second apart.
    let offset = Duration::from_secs((stream * plan.groups + group) as u64);
    let claim_every = Duration::from_millis(plan.claim_every_ms);
    let mut me = Consumer {
        key: ctx.keys[stream].clone(),
        group: crate::group_name(group),
        name: format!("c{consumer}"),
        conn: None,
        log: ConsumerLog {
            stream,
            group,
            ..ConsumerLog::default()
        },
        ctx: ctx.clone(),
    };
    let mut dead = false;
    let mut last_claim = Instant::now();
    loop {
        let draining = *phase.borrow() == Phase::Drain;
        let dead_now = dies && !draining && {
            let t = (ctx.started.elapsed() + offset).as_secs_f64() % cycle.as_secs_f64();
            t >= plan.die_every as f64
        };
        if dead && !dead_now {
            // Back from the dead: what it fetched meanwhile stays pending for XAUTOCLAIM.
            me.log.deaths += 1;
        }
        dead = dead_now;
        let Some(ids) = me.read(group).await else {
            continue;
        };
        if ids.is_empty() && draining {
            break;
        }
        if !dead && !ids.is_empty() {
            me.ack(&ids).await;
        }
        if claims && !draining && last_claim.elapsed() >= claim_every {
            last_claim = Instant::now();
            me.claim_pass(plan.claim_idle_ms).await;
        }
    }
    me.log
}

impl Consumer {
    /// One `XREADGROUP … COUNT 100 BLOCK 100 … >`; `None` on an error.
    async fn read(&mut self, group: usize) -> Option<Vec<StreamId>> {
        let conn = crate::ensure_connected(&self.ctx, &mut self.conn, "XREADGROUP").await?;
        let reply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(100)
            .arg("BLOCK")
            .arg(100)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">")
            .query_async::<Value>(conn)
            .await;
        let entries = match reply {
            Ok(reply) => proto::read_entries(&reply),
            Err(e) => {
                self.failed("XREADGROUP", &e);
                return None;
            }
        };
        let entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                let stats = &self.ctx.stats;
                stats.unexpected_error("XREADGROUP", "bad reply", &format!("{e:#}"));
                return None;
            }
        };
        self.ctx.stats.reads.fetch_add(1, Relaxed);
        let ids: Vec<StreamId> = entries.iter().map(|e| e.id).collect();
        for &id in &ids {
            if self.log.delivered.last().is_some_and(|&last| id <= last) {
                self.log.out_of_order += 1;
            }
            self.log.delivered.push(id);
        }
        let created: Vec<u64> = ids.iter().map(|id| id.ms).collect();
        let stream = self.log.stream;
        self.ctx.stats.record_delivery(stream, group, &created);
        Some(ids)
    }

    async fn ack(&mut self, ids: &[StreamId]) {
        let Some(conn) = crate::ensure_connected(&self.ctx, &mut self.conn, "XACK").await else {
            return;
        };
        let mut cmd = redis::cmd("XACK");
        cmd.arg(&self.key).arg(&self.group);
        for id in ids {
            cmd.arg(id.to_string());
        }
        match cmd.query_async::<i64>(conn).await {
            Ok(n) => {
                self.ctx.stats.acked.fetch_add(n.max(0) as u64, Relaxed);
                if n < ids.len() as i64 {
                    self.ctx.stats.short_acks.fetch_add(1, Relaxed);
                }
                self.log.acked.extend_from_slice(ids);
            }
            Err(e) => self.failed("XACK", &e),
        }
    }

    /// `XAUTOCLAIM` from the start of the PEL to its end (at most 100 pages), acknowledging
    /// what it claims.
    async fn claim_pass(&mut self, min_idle_ms: u64) {
        let mut cursor = StreamId::ZERO;
        for _ in 0..100 {
            let Some(conn) = crate::ensure_connected(&self.ctx, &mut self.conn, "XAUTOCLAIM").await
            else {
                return;
            };
            let reply = redis::cmd("XAUTOCLAIM")
                .arg(&self.key)
                .arg(&self.group)
                .arg(&self.name)
                .arg(min_idle_ms)
                .arg(cursor.to_string())
                .arg("COUNT")
                .arg(100)
                .query_async::<Value>(conn)
                .await;
            let page = match reply {
                Ok(reply) => parse_autoclaim(&reply),
                Err(e) => return self.failed("XAUTOCLAIM", &e),
            };
            let (next, claimed, deleted) = match page {
                Ok(page) => page,
                Err(e) => {
                    let stats = &self.ctx.stats;
                    stats.unexpected_error("XAUTOCLAIM", "bad reply", &format!("{e:#}"));
                    return;
                }
            };
            self.ctx.stats.reads.fetch_add(1, Relaxed);
            self.ctx
                .stats
                .claimed
                .fetch_add(claimed.len() as u64, Relaxed);
            self.log.claimed.extend_from_slice(&claimed);
            self.log.claim_deleted.extend_from_slice(&deleted);
            if !claimed.is_empty() {
                self.ack(&claimed).await;
            }
            if next == StreamId::ZERO {
                return;
            }
            cursor = next;
        }
    }

    fn failed(&mut self, command: &str, e: &redis::RedisError) {
        let stats = &self.ctx.stats;
        stats.unexpected_error(command, &proto::error_kind(e), &e.to_string());
        if proto::connection_broken(e) {
            self.conn = None;
        }
    }
}

/// `[next-cursor, [entries…], [deleted-ids…]]` (Redis 7; 6.2 has no third element).
pub fn parse_autoclaim(reply: &Value) -> anyhow::Result<(StreamId, Vec<StreamId>, Vec<StreamId>)> {
    let parts = proto::items(reply)?;
    let (Some(cursor), Some(list)) = (parts.first(), parts.get(1)) else {
        anyhow::bail!("XAUTOCLAIM reply with {} parts", parts.len());
    };
    let next = StreamId::parse(proto::bytes(cursor)?)?;
    let claimed = proto::entries(list)?.into_iter().map(|e| e.id).collect();
    let mut deleted = Vec::new();
    if let Some(list) = parts.get(2) {
        for id in proto::items(list)? {
            deleted.push(StreamId::parse(proto::bytes(id)?)?);
        }
    }
    Ok((next, claimed, deleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn autoclaim_pages_with_and_without_deleted_ids() {
        let entry = Value::Array(vec![bulk("5-1"), Value::Array(vec![bulk("p"), bulk("0")])]);
        let reply = Value::Array(vec![
            bulk("7-0"),
            Value::Array(vec![entry.clone()]),
            Value::Array(vec![bulk("4-0")]),
        ]);
        let (next, claimed, deleted) = parse_autoclaim(&reply).expect("valid page");
        assert_eq!(next.to_string(), "7-0");
        assert_eq!(claimed, vec![StreamId { ms: 5, seq: 1 }]);
        assert_eq!(deleted, vec![StreamId { ms: 4, seq: 0 }]);
        let redis62 = Value::Array(vec![bulk("0-0"), Value::Array(vec![entry])]);
        let (next, _, deleted) = parse_autoclaim(&redis62).expect("valid page");
        assert_eq!((next, deleted.len()), (StreamId::ZERO, 0));
    }
}
