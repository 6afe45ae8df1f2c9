//! A route over the attached server: its sources, the batches this instance reads, and their
//! commits.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::{Cmd, RedisResult, Value};
use sluice_broker::routes::spec::{DEFAULT_CLAIM_IDLE_MS, RouteSpec, Start};
use sluice_broker::store::{Append, BatchCommit, Committed};
use sluice_plugin_host::{Batch, EntryId};

use crate::Shared;
use crate::conn::tag_of;
use crate::script::Function;

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

/// How long an entry held by another instance stays there before this one claims it.
fn claim_idle(spec_idle: Option<u64>) -> u64 {
    spec_idle.unwrap_or(DEFAULT_CLAIM_IDLE_MS)
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
    let mut conn = shared.conn.clone();
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
    let mut conn = shared.conn.clone();
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
    let claim_idle_ms = route_claim_idle(shared, group);
    let slot = (source.to_vec(), group.to_vec());
    let (own, claim_due, cursor, failures) = {
        let mut sources = shared.sources.lock();
        let state = sources.entry(slot.clone()).or_default();
        let check_every = Duration::from_millis((claim_idle_ms / 4).clamp(100, 5000));
        let due = state.last_claim.is_none_or(|t| t.elapsed() >= check_every);
        (
            state.own_pending,
            due,
            state.claim_cursor.clone(),
            state.failures,
        )
    };
    if failures > 0 {
        // Back off after failures (a failover in progress): 50 ms doubling up to 2 s.
        let wait = Duration::from_millis(50u64 << failures.min(6)).min(Duration::from_secs(2));
        tokio::time::sleep(wait).await;
    }
    let mut conn = shared.conn.clone();
    let result = async {
        if own {
            let got = read_group(&mut conn, shared, source, group, max, "0", batch).await?;
            if got {
                return Ok(true);
            }
            set(shared, &slot, |s| s.own_pending = false);
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
            set(shared, &slot, |s| {
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
            set(shared, &slot, |s| s.failures = 0);
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
            set(shared, &slot, |s| {
                s.failures = s.failures.saturating_add(1);
                s.own_pending = true;
            });
            Some(())
        }
    }
}

/// The claim-idle time of the route whose group is `group`.
fn route_claim_idle(shared: &Shared, group: &[u8]) -> u64 {
    let idle = shared.broker.upgrade().and_then(|broker| {
        broker
            .routes
            .list()
            .iter()
            .find(|r| r.deployed.spec.group_name() == group)
            .map(|r| r.deployed.spec.claim_idle_ms)
    });
    claim_idle(idle.flatten())
}

fn set(shared: &Shared, slot: &crate::SourceGroup, change: impl FnOnce(&mut super::SourceState)) {
    change(shared.sources.lock().entry(slot.clone()).or_default());
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
    for entry in entries {
        let Value::Array(parts) = entry else { continue };
        let mut parts = parts.into_iter();
        let id = match parts.next() {
            Some(Value::BulkString(id)) => id,
            _ => continue,
        };
        let Some(parsed) = parse_id(&id) else {
            continue;
        };
        let fields: Vec<Vec<u8>> = match parts.next() {
            Some(Value::Array(fields)) => fields
                .into_iter()
                .filter_map(|f| match f {
                    Value::BulkString(b) => Some(b),
                    _ => None,
                })
                .collect(),
            _ => {
                gone.push(id);
                continue;
            }
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

/// How long a cross-slot output's seen key lasts: long enough to cover a redo after another
/// instance claims the entry.
fn dedup_window_ms(spec_idle: u64) -> u64 {
    spec_idle.saturating_mul(2).saturating_add(60_000)
}

/// Commits a batch: cross-slot outputs first (each once per window), then one function call
/// acknowledging each handled source entry and appending its same-slot outputs only if that
/// acknowledgement took.
pub async fn commit(shared: &Shared, c: &BatchCommit<'_>) -> Committed {
    let stats = c.stats;
    let Some((_, done)) = c.advance else {
        return Committed::Done {
            refused: Vec::new(),
        };
    };
    let done = usize::try_from(done)
        .unwrap_or(usize::MAX)
        .min(c.batch.len());
    let spec = shared.broker.upgrade().and_then(|b| {
        b.routes
            .list()
            .iter()
            .find(|r| r.deployed.spec.group_name() == c.group)
            .map(|r| {
                (
                    r.deployed.spec.name.clone(),
                    r.deployed.spec.claim_idle_ms,
                    r.deployed.spec.wait_replicas,
                )
            })
    });
    let (route, idle, wait) = spec.unwrap_or_default();
    let window = dedup_window_ms(claim_idle(idle)).to_string();
    let mut conn = shared.conn.clone();
    let mut refused = Vec::new();
    let mut outputs = 0u64;
    let mut dead = 0u64;
    // Per event: its same-slot appends.
    let mut local: Vec<Vec<&Append<'_>>> = vec![Vec::new(); done];
    let mut nth = vec![0usize; done];
    for append in c.appends {
        let Some(slot) = local.get_mut(append.event) else {
            continue;
        };
        if shared.one_slot(c.source, append.key) {
            slot.push(append);
            continue;
        }
        let Some((id, _)) = c.batch.get(append.event) else {
            continue;
        };
        nth[append.event] += 1;
        let seen = [
            b"{".as_slice(),
            tag_of(append.key),
            b"}:seen:",
            route.as_bytes(),
            b":",
            c.source,
            b":",
            id.to_string().as_bytes(),
            b":",
            nth[append.event].to_string().as_bytes(),
        ]
        .concat();
        let fields = c.fields.get(append.fields.clone()).unwrap_or_default();
        let mut args: Vec<&[u8]> = vec![window.as_bytes()];
        args.extend_from_slice(fields);
        match shared
            .scripts
            .call(&mut conn, Function::Append, &[append.key, &seen], &args)
            .await
        {
            Ok(Value::Int(1)) if append.dead_letter => dead += 1,
            Ok(Value::Int(1)) => outputs += 1,
            Ok(_) => {}
            Err(e) if is_refusal(&e) => {
                refused.push(format!("{}: {e}", String::from_utf8_lossy(append.key)));
            }
            Err(e) => return failed(shared, c, e),
        }
    }
    // The gated commit: keys are the source, then each same-slot destination once.
    let mut keys: Vec<&[u8]> = vec![c.source];
    let mut args: Vec<Vec<u8>> = vec![c.group.to_vec()];
    for (event, appends) in local.iter().enumerate() {
        let Some((id, _)) = c.batch.get(event) else {
            break;
        };
        args.push(id.to_string().into_bytes());
        args.push(appends.len().to_string().into_bytes());
        for append in appends {
            let index = match keys.iter().position(|k| *k == append.key) {
                Some(i) => i,
                None => {
                    keys.push(append.key);
                    keys.len() - 1
                }
            };
            let fields = c.fields.get(append.fields.clone()).unwrap_or_default();
            args.push((index + 1).to_string().into_bytes());
            args.push(if append.dead_letter {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            });
            args.push(fields.len().to_string().into_bytes());
            args.extend(fields.iter().map(|f| f.to_vec()));
        }
    }
    let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let reply = shared
        .scripts
        .call(&mut conn, Function::Commit, &keys, &arg_refs)
        .await;
    let (acked, outs, dls, errors) = match reply {
        Ok(Value::Array(parts)) => parse_commit_reply(parts),
        Ok(other) => {
            return failed(
                shared,
                c,
                redis::RedisError::from((
                    redis::ErrorKind::Parse,
                    "unexpected commit reply",
                    format!("{other:?}"),
                )),
            );
        }
        Err(e) => return failed(shared, c, e),
    };
    refused.extend(errors);
    if let Some(n) = wait.filter(|n| *n > 0) {
        let mut cmd = Cmd::new();
        cmd.arg("WAIT").arg(n).arg(5000);
        match conn.on_master_of(c.source, &cmd).await {
            Ok(Value::Int(got)) if got < i64::from(n) => refused.push(format!(
                "WAIT {n}: only {got} replicas acknowledged the commit within 5 s"
            )),
            Ok(_) => {}
            Err(e) => refused.push(format!("WAIT {n}: {e}")),
        }
    }
    stats.events_in.fetch_add(acked, Relaxed);
    stats.events_out.fetch_add(outputs + outs, Relaxed);
    stats.dead_lettered.fetch_add(dead + dls, Relaxed);
    stats.dropped.fetch_add(c.dropped, Relaxed);
    stats.skipped.fetch_add(c.skipped, Relaxed);
    stats.batches.fetch_add(1, Relaxed);
    Committed::Done { refused }
}

/// Whether `e` is the destination refusing the append (a wrong type, an ID or size limit):
/// reported like any refused output, not retried. Cluster and connection errors are retried.
fn is_refusal(e: &redis::RedisError) -> bool {
    const TRANSIENT: &[&str] = &[
        "MOVED",
        "ASK",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "LOADING",
        "MASTERDOWN",
        "READONLY",
        "NOSCRIPT",
        "BUSY",
    ];
    e.code().is_some_and(|code| !TRANSIENT.contains(&code))
}

fn parse_commit_reply(parts: Vec<Value>) -> (u64, u64, u64, Vec<String>) {
    let int = |v: Option<&Value>| match v {
        Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    let errors = match parts.get(3) {
        Some(Value::Array(errors)) => errors
            .iter()
            .filter_map(|e| match e {
                Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    (
        int(parts.first()),
        int(parts.get(1)),
        int(parts.get(2)),
        errors,
    )
}

/// A commit that failed on the way (a connection lost, a failover): nothing is known to be
/// applied, so this instance reads its own pending entries again; what was acknowledged is
/// not among them, and the gate stops the rest being appended twice.
fn failed(shared: &Shared, c: &BatchCommit<'_>, e: redis::RedisError) -> Committed {
    let error = format!(
        "commit to {} failed ({e}); its entries are read again",
        String::from_utf8_lossy(c.source)
    );
    let mut sources = shared.sources.lock();
    let state = sources
        .entry((c.source.to_vec(), c.group.to_vec()))
        .or_default();
    state.own_pending = true;
    state.failures = state.failures.saturating_add(1);
    Committed::Done {
        refused: vec![error],
    }
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
    let mut conn = shared.conn.clone();
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

    #[test]
    fn commit_replies_parse() {
        let reply = vec![
            Value::Int(3),
            Value::Int(2),
            Value::Int(1),
            Value::Array(vec![Value::BulkString(b"k: WRONGTYPE".to_vec())]),
        ];
        assert_eq!(
            parse_commit_reply(reply),
            (3, 2, 1, vec!["k: WRONGTYPE".to_owned()])
        );
    }
}
