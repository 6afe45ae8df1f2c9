//! A claim policy over the attached server: its group's pending entries and consumers, its
//! decisions applied (`XCLAIM`, `XACK`, dead-letters through the gated commit), and the lease
//! that lets one instance at a time run it.

use std::sync::atomic::Ordering::Relaxed;

use redis::Value;
use sluice_broker::plugins::dead_letter::DeadLetter;
use sluice_broker::store::{GroupView, PolicyApplied, PolicyCommit};
use sluice_plugin_host::{ConsumerInfo, EntryId, Nack, PendingInfo, PolicyAction};

use crate::Shared;
use crate::conn::tag_of;
use crate::script::Function;

/// Most pending entries one evaluation reads.
const MAX_PENDING: usize = 100_000;

/// Takes or renews the lease on running policy `name`; true while this instance holds it.
pub async fn lease(shared: &Shared, name: &str, ttl_ms: u64) -> bool {
    let key = format!("sluice:lease:policy:{name}");
    let ttl = ttl_ms.to_string();
    let mut conn = shared.conn();
    match shared
        .scripts
        .call(
            &mut conn,
            Function::Lease,
            &[key.as_bytes()],
            &[shared.instance.as_bytes(), ttl.as_bytes()],
        )
        .await
    {
        Ok(Value::Int(1)) => true,
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(policy = name, "attached: lease: {e}");
            false
        }
    }
}

/// The group's pending entries (oldest first) and consumers.
pub async fn view(shared: &Shared, stream: &[u8], group: &[u8]) -> Option<GroupView> {
    let mut conn = shared.conn();
    let mut pending = redis::cmd("XPENDING");
    pending
        .arg(stream)
        .arg(group)
        .arg("-")
        .arg("+")
        .arg(MAX_PENDING);
    let rows = match conn.query::<Value>(&pending).await {
        Ok(Value::Array(rows)) => rows,
        _ => return None,
    };
    let mut view = GroupView::default();
    for row in rows {
        let Value::Array(cols) = row else { continue };
        let [id, owner, idle, deliveries] = cols.as_slice() else {
            continue;
        };
        let (Some(id), Some(owner), Some(idle), Some(deliveries)) =
            (text(id), text(owner), int(idle), int(deliveries))
        else {
            continue;
        };
        let Some((ms, seq)) = id.split_once('-') else {
            continue;
        };
        let (Ok(ms), Ok(seq)) = (ms.parse(), seq.parse()) else {
            continue;
        };
        // Redis 8.8 shows an entry handed back with XNACK as owned by "" (FATAL: its count
        // pinned at i64::MAX).
        let nack = owner.is_empty().then_some(if deliveries == i64::MAX {
            Nack::Fatal
        } else {
            Nack::Retry
        });
        view.pending.push(PendingInfo {
            id: EntryId { ms, seq },
            owner,
            idle_ms: u64::try_from(idle).unwrap_or(0),
            deliveries: u64::try_from(deliveries).unwrap_or(0),
            nack,
        });
    }
    let mut consumers = redis::cmd("XINFO");
    consumers.arg("CONSUMERS").arg(stream).arg(group);
    if let Ok(Value::Array(list)) = conn.query::<Value>(&consumers).await {
        for consumer in list {
            let fields = pairs(consumer);
            let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let Some(name) = get("name").and_then(text) else {
                continue;
            };
            view.consumers.push(ConsumerInfo {
                name,
                seen_idle_ms: get("idle").and_then(int).map_or(0, |n| n.max(0) as u64),
                active_idle_ms: get("inactive")
                    .and_then(int)
                    .filter(|n| *n >= 0)
                    .map(|n| n as u64),
                pending: get("pending").and_then(int).map_or(0, |n| n.max(0) as u64),
            });
        }
    }
    Some(view)
}

/// Applies the decisions: an entry that changed since it was seen (redelivered, claimed,
/// acknowledged) is left alone and counted stale.
pub async fn apply(shared: &Shared, commit: &PolicyCommit<'_>) -> PolicyApplied {
    let mut applied = PolicyApplied::default();
    let mut conn = shared.conn();
    let stats = commit.stats;
    for decision in commit.decisions {
        let Some(seen) = commit.seen.get(decision.entry) else {
            continue;
        };
        let id = format!("{}-{}", seen.id.ms, seen.id.seq);
        let done = match &decision.action {
            PolicyAction::Reassign(to) => {
                // Only if still idle as long as seen: a redelivery since would have reset it.
                let mut claim = redis::cmd("XCLAIM");
                claim
                    .arg(commit.stream)
                    .arg(commit.group)
                    .arg(to)
                    .arg(seen.idle_ms)
                    .arg(&id)
                    .arg("JUSTID");
                match conn.query::<Value>(&claim).await {
                    Ok(Value::Array(ids)) if !ids.is_empty() => {
                        stats.reassigned.fetch_add(1, Relaxed);
                        true
                    }
                    Ok(_) => false,
                    Err(e) => {
                        applied.errors.push(format!("XCLAIM {id}: {e}"));
                        continue;
                    }
                }
            }
            PolicyAction::Ack => {
                let mut ack = redis::cmd("XACK");
                ack.arg(commit.stream).arg(commit.group).arg(&id);
                match conn.query::<Value>(&ack).await {
                    Ok(Value::Int(1)) => {
                        stats.acked.fetch_add(1, Relaxed);
                        true
                    }
                    Ok(_) => false,
                    Err(e) => {
                        applied.errors.push(format!("XACK {id}: {e}"));
                        continue;
                    }
                }
            }
            PolicyAction::DeadLetter { key, reason } => {
                match dead_letter(shared, &mut conn, commit, seen, &id, key, reason).await {
                    Ok(true) => {
                        stats.dead_lettered.fetch_add(1, Relaxed);
                        true
                    }
                    Ok(false) => false,
                    Err(e) => {
                        applied
                            .errors
                            .push(format!("dead-letter {id} to {key}: {e}"));
                        continue;
                    }
                }
            }
        };
        if !done {
            stats.stale.fetch_add(1, Relaxed);
        }
    }
    applied
}

/// Appends the entry with its history to `key` and acknowledges it: in one function call when
/// `key` shares the stream's slot (appended only if the acknowledgement took), else appended
/// once per window first.
async fn dead_letter(
    shared: &Shared,
    conn: &mut crate::Conn,
    commit: &PolicyCommit<'_>,
    seen: &PendingInfo,
    id: &str,
    key: &str,
    reason: &str,
) -> redis::RedisResult<bool> {
    let mut range = redis::cmd("XRANGE");
    range.arg(commit.stream).arg(id).arg(id);
    let fields = crate::reply::entries(conn.query::<Value>(&range).await?)
        .into_iter()
        .next()
        .and_then(|(_, fields)| fields)
        .unwrap_or_default();
    let flat: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let letter = DeadLetter::new(reason, commit.stream, id).policy(
        commit.group,
        seen.deliveries,
        &seen.owner,
        commit.policy,
    );
    let entry = letter.entry(&flat);
    let nfields = entry.len().to_string();
    if shared.one_slot(commit.stream, key.as_bytes()) {
        let mut args: Vec<&[u8]> = vec![commit.group, id.as_bytes(), b"1", b"2", b"1"];
        args.push(nfields.as_bytes());
        args.extend_from_slice(&entry);
        let reply = shared
            .scripts
            .call(
                conn,
                Function::Commit,
                &[commit.stream, key.as_bytes()],
                &args,
            )
            .await?;
        return Ok(
            matches!(reply, Value::Array(parts) if matches!(parts.first(), Some(Value::Int(1)))),
        );
    }
    let seen_key = [
        b"{".as_slice(),
        tag_of(key.as_bytes()),
        b"}:seen:policy:",
        commit.policy.as_bytes(),
        b":",
        commit.stream,
        b":",
        id.as_bytes(),
    ]
    .concat();
    let mut args: Vec<&[u8]> = vec![b"86400000"];
    args.extend_from_slice(&entry);
    shared
        .scripts
        .call(conn, Function::Append, &[key.as_bytes(), &seen_key], &args)
        .await?;
    let mut ack = redis::cmd("XACK");
    ack.arg(commit.stream).arg(commit.group).arg(id);
    Ok(conn.query::<i64>(&ack).await? == 1)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// A flat `[name, value, …]` array or a map, as pairs.
fn pairs(v: Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let Some(k) = text(&k) {
                    out.push((k, v));
                }
            }
            out
        }
        Value::Map(items) => items
            .into_iter()
            .filter_map(|(k, v)| text(&k).map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}
