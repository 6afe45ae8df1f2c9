//! A route over the attached server: its sources, the batches this instance reads, and their
//! commits.

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::{RedisResult, Value};
use sluice_broker::routes::spec::{DEFAULT_CLAIM_IDLE_MS, RouteSpec, Start};
use sluice_plugin_host::{Batch, EntryId};

use crate::Shared;

/// How a route commits on this server, for `SLUICE ROUTES`.
pub fn mode(shared: &Shared, spec: &RouteSpec) -> String {
    // A plugin may route anywhere; what the config names as the destination is the hint
    // (the commit itself decides per output). Without one, say what holds per output.
    let destination = spec.config.get("destination").and_then(|v| v.as_str());
    let one_slot = |key: &[u8]| {
        shared.one_slot(key, &spec.dead_letter_for(key))
            && destination.is_some_and(|d| shared.one_slot(key, d.as_bytes()))
    };
    let all_one_slot = spec
        .source
        .patterns()
        .iter()
        .all(|p| sluice_broker::glob::is_literal(p.as_bytes()) && one_slot(p.as_bytes()));
    if all_one_slot {
        "attached exactly-once (same slot)".into()
    } else {
        "attached exactly-once per slot; effectively-once across slots".into()
    }
}

/// The source streams of `spec`: its keys, and the streams matching its globs on every
/// master.
pub async fn sources(shared: &Shared, spec: &RouteSpec) -> Vec<Bytes> {
    let mut keys = Vec::new();
    let mut globs = Vec::new();
    for pattern in spec.source.patterns() {
        if sluice_broker::glob::is_literal(pattern.as_bytes()) {
            keys.push(Bytes::from(pattern.clone()));
        } else {
            globs.push(pattern);
        }
    }
    if globs.is_empty() {
        return keys;
    }
    let mut conn = shared.conn();
    let nodes = match conn.masters().await {
        Ok(nodes) if nodes.is_empty() => vec![None],
        Ok(nodes) => nodes.into_iter().map(Some).collect(),
        Err(e) => {
            tracing::warn!("attached: listing masters: {e}");
            return keys;
        }
    };
    for glob in globs {
        for node in &nodes {
            scan_node(&mut conn, node.as_ref(), glob, spec, &mut keys).await;
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The streams matching `glob` on one master (`None`: the standalone server).
async fn scan_node(
    conn: &mut crate::Conn,
    node: Option<&(String, u16)>,
    glob: &str,
    spec: &RouteSpec,
    keys: &mut Vec<Bytes>,
) {
    let mut cursor = b"0".to_vec();
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(&cursor)
            .arg("MATCH")
            .arg(glob)
            .arg("COUNT")
            .arg(1000)
            .arg("TYPE")
            .arg("stream");
        let reply = match conn.on_node(node, &scan).await {
            Ok(Value::Array(reply)) => reply,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!("attached: SCAN: {e}");
                return;
            }
        };
        let mut parts = reply.into_iter();
        let (Some(Value::BulkString(next)), Some(Value::Array(found))) =
            (parts.next(), parts.next())
        else {
            return;
        };
        for key in found {
            if let Value::BulkString(key) = key
                && spec.is_source(&key)
            {
                keys.push(Bytes::from(key));
            }
        }
        if next == b"0" {
            return;
        }
        cursor = next;
    }
}

/// Gives the route its group in each of `keys` that has none (`BUSYGROUP`: another instance
/// did; a key not there yet gets it when it appears, at its start).
pub async fn create_positions(shared: &Shared, spec: &RouteSpec, keys: &[Bytes]) {
    let mode = mode(shared, spec);
    if mode.contains("across slots") {
        tracing::warn!(
            route = %spec.name,
            "the route's source, outputs and dead-letter stream are not all in one hash slot: \
             outputs in another slot are appended effectively once (once per window), not \
             exactly once; give the keys one hash tag, e.g. orders:{{eu}} and orders:{{eu}}:big"
        );
    }
    let mut conn = shared.conn();
    let at = match spec.start {
        Start::New => "$",
        Start::Beginning => "0",
    };
    for key in keys {
        let mut create = redis::cmd("XGROUP");
        create
            .arg("CREATE")
            .arg(&key[..])
            .arg(spec.group_name())
            .arg(at);
        if let Err(e) = conn.query::<Value>(&create).await
            && !is_busygroup(&e)
            && !e.to_string().contains("requires the key to exist")
        {
            tracing::warn!("attached: XGROUP CREATE: {e}");
        }
    }
}

fn is_busygroup(e: &redis::RedisError) -> bool {
    e.code() == Some("BUSYGROUP") || e.to_string().contains("BUSYGROUP")
}

fn is_nogroup(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

/// Fills `batch` with up to `max` entries for this instance: its own uncommitted ones, else
/// ones another instance has held too long, else new ones. `None`: the stream is not there.
pub async fn read(
    shared: &Shared,
    source: &[u8],
    group: &[u8],
    max: usize,
    batch: &mut Batch,
) -> Option<()> {
    let claim_idle_ms = shared
        .route(group)
        .map_or(DEFAULT_CLAIM_IDLE_MS, |r| r.deployed.spec.claim_after_ms());
    let check_every = Duration::from_millis((claim_idle_ms / 4).clamp(100, 5000));
    let (own, claim_due, cursor, failures) = shared.source_state(source, group, |state| {
        let due = state.last_claim.is_none_or(|t| t.elapsed() >= check_every);
        (
            state.own_pending,
            due,
            state.claim_cursor.clone(),
            state.failures,
        )
    });
    if failures > 0 {
        // Back off after failures (a failover in progress): 50 ms doubling up to 2 s.
        let wait = Duration::from_millis(50u64 << failures.min(6)).min(Duration::from_secs(2));
        tokio::time::sleep(wait).await;
    }
    let mut conn = shared.conn();
    let result = async {
        if own {
            let got = read_group(&mut conn, shared, source, group, max, "0", batch).await?;
            if got {
                return Ok(true);
            }
            shared.source_state(source, group, |s| s.own_pending = false);
        }
        if claim_due {
            let (next, got) = autoclaim(
                &mut conn,
                shared,
                source,
                group,
                claim_idle_ms,
                &cursor,
                max,
                batch,
            )
            .await?;
            shared.source_state(source, group, |s| {
                s.last_claim = Some(Instant::now());
                s.claim_cursor = next;
            });
            if got {
                return Ok(true);
            }
        }
        read_group(&mut conn, shared, source, group, max, ">", batch).await
    }
    .await;
    batch.end_event();
    match result {
        Ok(_) => {
            shared.source_state(source, group, |s| s.failures = 0);
            Some(())
        }
        Err(e) if is_nogroup(&e) => {
            // The stream appeared after the route was set up (all of it is new), or is not
            // there at all.
            let mut create = redis::cmd("XGROUP");
            create.arg("CREATE").arg(source).arg(group).arg("0");
            match conn.query::<Value>(&create).await {
                Ok(_) => Some(()),
                Err(e) if is_busygroup(&e) => Some(()),
                Err(_) => None,
            }
        }
        Err(e) => {
            tracing::warn!(
                source = %String::from_utf8_lossy(source),
                "attached: reading a batch: {e}"
            );
            batch.clear();
            shared.source_state(source, group, crate::SourceState::failed);
            Some(())
        }
    }
}

/// `XREADGROUP GROUP <group> <instance> COUNT <max> STREAMS <source> <from>` into `batch`;
/// whether it gave entries. Entries deleted since delivery (no fields) are acknowledged.
async fn read_group(
    conn: &mut crate::Conn,
    shared: &Shared,
    source: &[u8],
    group: &[u8],
    max: usize,
    from: &str,
    batch: &mut Batch,
) -> RedisResult<bool> {
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(group)
        .arg(&shared.instance)
        .arg("COUNT")
        .arg(max)
        .arg("STREAMS")
        .arg(source)
        .arg(from);
    let reply: Value = conn.query(&cmd).await?;
    let entries = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .find_map(|s| match s {
                Value::Array(mut kv) if kv.len() == 2 => match kv.pop() {
                    Some(Value::Array(entries)) => Some(entries),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_default(),
        Value::Map(streams) => streams
            .into_iter()
            .find_map(|(_, v)| match v {
                Value::Array(entries) => Some(entries),
                _ => None,
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    fill(conn, source, group, entries, batch).await
}

/// `XAUTOCLAIM` of entries idle at least `min_idle` ms, from `cursor`, into `batch`. Returns
/// where to go on from, and whether it claimed entries.
#[allow(clippy::too_many_arguments)]
async fn autoclaim(
    conn: &mut crate::Conn,
    shared: &Shared,
    source: &[u8],
    group: &[u8],
    min_idle: u64,
    cursor: &str,
    max: usize,
    batch: &mut Batch,
) -> RedisResult<(String, bool)> {
    let mut cmd = redis::cmd("XAUTOCLAIM");
    cmd.arg(source)
        .arg(group)
        .arg(&shared.instance)
        .arg(min_idle)
        .arg(cursor)
        .arg("COUNT")
        .arg(max);
    let reply: Value = conn.query(&cmd).await?;
    let Value::Array(parts) = reply else {
        return Ok(("0-0".into(), false));
    };
    let mut parts = parts.into_iter();
    let next = match parts.next() {
        Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
        Some(Value::SimpleString(s)) => s,
        _ => "0-0".into(),
    };
    let entries = match parts.next() {
        Some(Value::Array(entries)) => entries,
        _ => Vec::new(),
    };
    let got = fill(conn, source, group, entries, batch).await?;
    if got {
        tracing::info!(
            source = %String::from_utf8_lossy(source),
            claimed = batch.len(),
            "attached: claimed entries another instance left idle"
        );
    }
    Ok((next, got))
}

/// Adds `[id, [field, value, …]]` entries to `batch`; acknowledges those deleted since.
async fn fill(
    conn: &mut crate::Conn,
    source: &[u8],
    group: &[u8],
    entries: Vec<Value>,
    batch: &mut Batch,
) -> RedisResult<bool> {
    let mut gone = Vec::new();
    let mut got = false;
    for (id, fields) in crate::reply::entries(Value::Array(entries)) {
        let Some(parsed) = parse_id(&id) else {
            continue;
        };
        let Some(fields) = fields else {
            gone.push(id);
            continue;
        };
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        if batch.push(parsed, &refs).is_ok() {
            got = true;
        }
    }
    if !gone.is_empty() {
        let mut ack = redis::cmd("XACK");
        ack.arg(source).arg(group).arg(gone);
        conn.query::<Value>(&ack).await?;
    }
    Ok(got)
}

fn parse_id(id: &[u8]) -> Option<EntryId> {
    let text = std::str::from_utf8(id).ok()?;
    let (ms, seq) = text.split_once('-')?;
    Some(EntryId {
        ms: ms.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

/// Gives back what this instance holds of the route: in each source where it holds nothing
/// its consumer is deleted; entries it still holds are handed back with `XNACK SILENT` where
/// the server has it, else left to be claimed once idle.
pub async fn release(shared: &Shared, spec: &RouteSpec) {
    let group = spec.group_name();
    let sources: Vec<Vec<u8>> = shared
        .sources
        .lock()
        .keys()
        .filter(|(_, g)| *g == group)
        .map(|(s, _)| s.clone())
        .collect();
    let mut conn = shared.conn();
    for source in sources {
        let mut pending = redis::cmd("XPENDING");
        pending
            .arg(&source)
            .arg(&group)
            .arg("-")
            .arg("+")
            .arg(1000)
            .arg(&shared.instance);
        let held: Vec<Vec<u8>> = match conn.query::<Value>(&pending).await {
            Ok(Value::Array(rows)) => rows
                .into_iter()
                .filter_map(|row| match row {
                    Value::Array(cols) => match cols.into_iter().next() {
                        Some(Value::BulkString(id)) => Some(id),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
            _ => continue,
        };
        if !held.is_empty() && shared.caps.xnack {
            let mut nack = redis::cmd("XNACK");
            nack.arg(&source)
                .arg(&group)
                .arg("SILENT")
                .arg("IDS")
                .arg(held.len())
                .arg(&held);
            if conn.query::<Value>(&nack).await.is_ok() {
                delete_consumer(&mut conn, shared, &source, &group).await;
            }
            continue;
        }
        if held.is_empty() {
            delete_consumer(&mut conn, shared, &source, &group).await;
        }
    }
    shared.sources.lock().retain(|(_, g), _| *g != group);
}

async fn delete_consumer(conn: &mut crate::Conn, shared: &Shared, source: &[u8], group: &[u8]) {
    let mut del = redis::cmd("XGROUP");
    del.arg("DELCONSUMER")
        .arg(source)
        .arg(group)
        .arg(&shared.instance);
    if let Err(e) = conn.query::<Value>(&del).await {
        tracing::debug!("attached: XGROUP DELCONSUMER: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        assert_eq!(parse_id(b"5-7"), Some(EntryId { ms: 5, seq: 7 }));
        assert_eq!(parse_id(b"5"), None);
        assert_eq!(parse_id(b"x-1"), None);
    }
}
