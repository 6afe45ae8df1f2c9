//! Committing a route's batch on the attached server: outputs in another slot than the source
//! first (each once per window), then one function call that acknowledges each handled source
//! entry and appends its same-slot outputs only if that acknowledgement took; then, if the
//! route asks, `WAIT` for replicas.

use std::sync::atomic::Ordering::Relaxed;

use redis::{Cmd, Value};
use sluice_broker::routes::spec::DEFAULT_CLAIM_IDLE_MS;
use sluice_broker::store::{Append, BatchCommit, Committed};

use crate::Shared;
use crate::conn::tag_of;
use crate::script::Function;

/// What a commit appended and what was refused, for the route's counters and errors.
#[derive(Debug, Default)]
struct Tally {
    acked: u64,
    outputs: u64,
    dead_lettered: u64,
    refused: Vec<String>,
}

/// See the module's documentation.
pub async fn commit(shared: &Shared, c: &BatchCommit<'_>) -> Committed {
    let Some((_, done)) = c.advance else {
        return Committed::Done {
            refused: Vec::new(),
        };
    };
    let done = usize::try_from(done)
        .unwrap_or(usize::MAX)
        .min(c.batch.len());
    let route = shared.route(c.group);
    let spec = route.as_ref().map(|r| &r.deployed.spec);
    let name = spec.map_or("", |s| s.name.as_str());
    let claim_after_ms = spec.map_or(DEFAULT_CLAIM_IDLE_MS, |s| s.claim_after_ms());
    let mut conn = shared.conn();
    let mut tally = Tally::default();
    // Per handled event: its appends in the source's slot.
    let mut local: Vec<Vec<&Append<'_>>> = vec![Vec::new(); done];
    let mut elsewhere = Vec::new();
    for append in c.appends {
        match local.get_mut(append.event) {
            Some(slot) if shared.one_slot(c.source, append.key) => slot.push(append),
            Some(_) => elsewhere.push(append),
            None => {}
        }
    }
    pause_at(shared, PausePoint::Before).await;
    if let Err(e) = append_elsewhere(
        shared,
        &mut conn,
        c,
        name,
        claim_after_ms,
        &elsewhere,
        &mut tally,
    )
    .await
    {
        return failed(shared, c, e);
    }
    pause_at(shared, PausePoint::Mid).await;
    if let Err(e) = gated(shared, &mut conn, c, &local, &mut tally).await {
        return failed(shared, c, e);
    }
    if let Some(n) = spec.and_then(|s| s.wait_replicas).filter(|n| *n > 0) {
        wait_for_replicas(&mut conn, c.source, n, &mut tally).await;
    }
    pause_at(shared, PausePoint::After).await;
    let stats = c.stats;
    stats.events_in.fetch_add(tally.acked, Relaxed);
    stats.events_out.fetch_add(tally.outputs, Relaxed);
    stats.dead_lettered.fetch_add(tally.dead_lettered, Relaxed);
    stats.dropped.fetch_add(c.dropped, Relaxed);
    stats.skipped.fetch_add(c.skipped, Relaxed);
    stats.batches.fetch_add(1, Relaxed);
    Committed::Done {
        refused: tally.refused,
    }
}

/// Where a commit stops when `SLUICE_ATTACH_TEST_PAUSE` names that point: tests kill an
/// instance there. The instance first says so on the attached server, in
/// `sluice:test:paused:<instance>`, then waits to be killed (the operation's timeout ends the
/// wait, as for any operation that hangs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePoint {
    /// The batch is read and routed; nothing of its commit is written.
    Before,
    /// The outputs in other slots are appended; the source entries are not acknowledged.
    Mid,
    /// The commit is done (and waited for replicas); the next batch is not read.
    After,
}

impl PausePoint {
    /// The point `SLUICE_ATTACH_TEST_PAUSE` names: `before-commit`, `mid-commit`,
    /// `after-commit`.
    pub fn from_env() -> Option<PausePoint> {
        match std::env::var("SLUICE_ATTACH_TEST_PAUSE").ok()?.as_str() {
            "before-commit" => Some(PausePoint::Before),
            "mid-commit" => Some(PausePoint::Mid),
            "after-commit" => Some(PausePoint::After),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            PausePoint::Before => "before-commit",
            PausePoint::Mid => "mid-commit",
            PausePoint::After => "after-commit",
        }
    }
}

/// Stops here for good if the tests asked for `point` (see [`PausePoint`]).
async fn pause_at(shared: &Shared, point: PausePoint) {
    if shared.pause != Some(point) {
        return;
    }
    let mut say = redis::cmd("SET");
    say.arg(format!("sluice:test:paused:{}", shared.instance))
        .arg(point.name());
    let _ = shared.conn().query::<Value>(&say).await;
    tracing::warn!("attached: paused {} for a test", point.name());
    std::future::pending::<()>().await;
}

/// How long a cross-slot output's seen key lasts: long enough to cover a redo after another
/// instance claims the entry.
fn dedup_window_ms(claim_after_ms: u64) -> u64 {
    claim_after_ms.saturating_mul(2).saturating_add(60_000)
}

/// Appends the outputs in other slots than the source, each only if its seen key
/// (`{<tag>}:seen:<route>:<source>:<id>:<n>`, beside the destination) is new in the window.
async fn append_elsewhere(
    shared: &Shared,
    conn: &mut crate::Conn,
    c: &BatchCommit<'_>,
    route: &str,
    claim_after_ms: u64,
    appends: &[&Append<'_>],
    tally: &mut Tally,
) -> redis::RedisResult<()> {
    let window = dedup_window_ms(claim_after_ms).to_string();
    let mut nth = std::collections::HashMap::<usize, usize>::new();
    for append in appends {
        let Some((id, _)) = c.batch.get(append.event) else {
            continue;
        };
        let n = nth.entry(append.event).or_default();
        *n += 1;
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
            n.to_string().as_bytes(),
        ]
        .concat();
        let fields = c.fields.get(append.fields.clone()).unwrap_or_default();
        let mut args: Vec<&[u8]> = vec![window.as_bytes()];
        args.extend_from_slice(fields);
        match shared
            .scripts
            .call(conn, Function::Append, &[append.key, &seen], &args)
            .await
        {
            Ok(Value::Int(1)) if append.dead_letter => tally.dead_lettered += 1,
            Ok(Value::Int(1)) => tally.outputs += 1,
            Ok(_) => {}
            Err(e) if is_refusal(&e) => tally
                .refused
                .push(format!("{}: {e}", String::from_utf8_lossy(append.key))),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The `sluice_commit` call: keys are the source, then each same-slot destination once;
/// per handled event its ID and its appends (`local[i]`).
async fn gated(
    shared: &Shared,
    conn: &mut crate::Conn,
    c: &BatchCommit<'_>,
    local: &[Vec<&Append<'_>>],
    tally: &mut Tally,
) -> redis::RedisResult<()> {
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
            args.push(if append.dead_letter { b"1" } else { b"0" }.to_vec());
            args.push(fields.len().to_string().into_bytes());
            args.extend(fields.iter().map(|f| f.to_vec()));
        }
    }
    let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    match shared
        .scripts
        .call(conn, Function::Commit, &keys, &arg_refs)
        .await?
    {
        Value::Array(parts) => {
            let (acked, outputs, dead, errors) = parse_commit_reply(parts);
            tally.acked += acked;
            tally.outputs += outputs;
            tally.dead_lettered += dead;
            tally.refused.extend(errors);
            Ok(())
        }
        other => Err(redis::RedisError::from((
            redis::ErrorKind::Parse,
            "unexpected commit reply",
            format!("{other:?}"),
        ))),
    }
}

/// `WAIT n 5000` on the source's master; too few replicas is reported, not retried.
async fn wait_for_replicas(conn: &mut crate::Conn, source: &[u8], n: u32, tally: &mut Tally) {
    let mut cmd = Cmd::new();
    cmd.arg("WAIT").arg(n).arg(5000);
    match conn.on_master_of(source, &cmd).await {
        Ok(Value::Int(got)) if got < i64::from(n) => tally.refused.push(format!(
            "WAIT {n}: only {got} replicas acknowledged the commit within 5 s"
        )),
        Ok(_) => {}
        Err(e) => tally.refused.push(format!("WAIT {n}: {e}")),
    }
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

/// `{acknowledged, outputs, dead-letters, {errors}}`.
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
    shared.source_state(c.source, c.group, crate::SourceState::failed);
    Committed::Done {
        refused: vec![error],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_dedup_window_outlasts_a_claim() {
        assert_eq!(dedup_window_ms(DEFAULT_CLAIM_IDLE_MS), 120_000);
        assert_eq!(dedup_window_ms(1000), 62_000);
    }
}
