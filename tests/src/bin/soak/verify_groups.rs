//! Check 2 of the verdict: each group was delivered every entry still in its stream (so every
//! one not trimmed away first), never twice through `>`; what was claimed had been delivered;
//! the pending entries list holds exactly the entries delivered and never acknowledged, none
//! that were acknowledged; and after a final claim-and-ack pass nothing is pending.

use anyhow::{Context, Result};
use redis::Value;
use redis::aio::MultiplexedConnection;

use crate::consume::{ConsumerLog, parse_autoclaim};
use crate::proto::{self, StreamId};
use crate::verify::{Check, Stored};
use crate::{Ctx, group_name};

/// IDs one group handled on one stream, merged over its consumers, sorted.
struct GroupRecord {
    delivered: Vec<StreamId>,
    duplicates: usize,
    acked: Vec<StreamId>,
    claimed: Vec<StreamId>,
    deleted: Vec<StreamId>,
    out_of_order: u64,
    deaths: u64,
}

impl GroupRecord {
    fn merge(logs: &[&ConsumerLog]) -> GroupRecord {
        let gather = |pick: fn(&ConsumerLog) -> &Vec<StreamId>| {
            let mut all: Vec<StreamId> =
                logs.iter().flat_map(|l| pick(l).iter().copied()).collect();
            all.sort_unstable();
            all
        };
        let mut delivered = gather(|l| &l.delivered);
        let before = delivered.len();
        delivered.dedup();
        let mut acked = gather(|l| &l.acked);
        acked.dedup();
        let mut claimed = gather(|l| &l.claimed);
        claimed.dedup();
        let mut deleted = gather(|l| &l.claim_deleted);
        deleted.dedup();
        GroupRecord {
            duplicates: before - delivered.len(),
            delivered,
            acked,
            claimed,
            deleted,
            out_of_order: logs.iter().map(|l| l.out_of_order).sum(),
            deaths: logs.iter().map(|l| l.deaths).sum(),
        }
    }
}

/// Items of sorted `a` not in sorted `b`.
fn minus(a: &[StreamId], b: &[StreamId]) -> Vec<StreamId> {
    a.iter()
        .copied()
        .filter(|id| b.binary_search(id).is_err())
        .collect()
}

fn sample(ids: &[StreamId]) -> String {
    let shown: Vec<String> = ids.iter().take(3).map(|id| id.to_string()).collect();
    shown.join(", ")
}

/// Check 2 over every stream and group; `stored[s]` is stream `s` as read after the drain.
pub async fn groups(
    conn: &mut MultiplexedConnection,
    ctx: &Ctx,
    stored: &[Vec<Stored>],
    consumers: &[ConsumerLog],
) -> Result<Check> {
    let mut check = Check::new("every group delivered every entry; nothing acknowledged pending");
    let (mut delivered, mut claimed, mut deleted, mut trimmed) = (0, 0, 0, 0);
    let (mut deaths, mut pending) = (0, 0);
    for (stream, entries) in stored.iter().enumerate() {
        let key = &ctx.keys[stream];
        let present: Vec<StreamId> = entries.iter().map(|e| e.id).collect();
        for group in 0..ctx.plan.groups {
            let name = format!("{key} {}", group_name(group));
            let logs: Vec<&ConsumerLog> = consumers
                .iter()
                .filter(|l| l.stream == stream && l.group == group)
                .collect();
            let record = GroupRecord::merge(&logs);
            delivered += record.delivered.len();
            claimed += record.claimed.len();
            deleted += record.deleted.len();
            deaths += record.deaths;
            let missing = minus(&present, &record.delivered);
            if !missing.is_empty() {
                check.fail(format!(
                    "{name}: {} entries never delivered, e.g. {}",
                    missing.len(),
                    sample(&missing)
                ));
            }
            // Delivered but gone now: trimmed after delivery. Acknowledged XADDs the group never
            // saw are gone too (check 1 and `missing` make sure), trimmed before delivery.
            trimmed += minus(&record.delivered, &present).len();
            if record.duplicates > 0 {
                check.fail(format!(
                    "{name}: {} entries delivered twice by '>'",
                    record.duplicates
                ));
            }
            if record.out_of_order > 0 {
                check.fail(format!(
                    "{name}: {} '>' deliveries not after the consumer's previous",
                    record.out_of_order
                ));
            }
            let stray = minus(&record.claimed, &record.delivered);
            if !stray.is_empty() {
                check.fail(format!(
                    "{name}: XAUTOCLAIM returned {} never-delivered entries, e.g. {}",
                    stray.len(),
                    sample(&stray)
                ));
            }
            let group = group_name(group);
            let mut pel = pending_ids(conn, key, &group).await?;
            pel.sort_unstable();
            pending += pel.len();
            compare_pel(&mut check, &name, &record, &pel);
            let left = clear_pending(conn, key, &group).await?;
            if left > 0 {
                check.fail(format!(
                    "{name}: {left} entries still pending after claiming and acking all"
                ));
            }
        }
    }
    check.note(format!(
        "{delivered} deliveries by '>', {claimed} claimed by XAUTOCLAIM ({deleted} reported \
         deleted) over {deaths} consumer deaths; {trimmed} delivered entries trimmed since; {pending} pending after the drain \
         (delivered, never acknowledged), cleared"
    ));
    Ok(check)
}

/// The PEL must be exactly: delivered − acknowledged − reported deleted by XAUTOCLAIM.
fn compare_pel(check: &mut Check, name: &str, record: &GroupRecord, pel: &[StreamId]) {
    let acked_pending: Vec<StreamId> = pel
        .iter()
        .copied()
        .filter(|id| record.acked.binary_search(id).is_ok())
        .collect();
    if !acked_pending.is_empty() {
        check.fail(format!(
            "{name}: {} acknowledged entries still pending, e.g. {}",
            acked_pending.len(),
            sample(&acked_pending)
        ));
    }
    let unknown = minus(pel, &record.delivered);
    if !unknown.is_empty() {
        check.fail(format!(
            "{name}: {} pending entries were never delivered, e.g. {}",
            unknown.len(),
            sample(&unknown)
        ));
    }
    let expected = minus(&minus(&record.delivered, &record.acked), &record.deleted);
    let vanished = minus(&expected, pel);
    if !vanished.is_empty() {
        check.fail(format!(
            "{name}: {} delivered, never acknowledged entries are not pending, e.g. {}",
            vanished.len(),
            sample(&vanished)
        ));
    }
}

/// Every ID in the group's PEL, by `XPENDING` pages of 10 000.
async fn pending_ids(
    conn: &mut MultiplexedConnection,
    key: &str,
    group: &str,
) -> Result<Vec<StreamId>> {
    let mut out = Vec::new();
    let mut start = "-".to_owned();
    loop {
        let reply: Value = redis::cmd("XPENDING")
            .arg(key)
            .arg(group)
            .arg(&start)
            .arg("+")
            .arg(10_000)
            .query_async(conn)
            .await
            .with_context(|| format!("XPENDING {key} {group}"))?;
        let rows = proto::items(&reply)?;
        let Some(last_row) = rows.last() else {
            return Ok(out);
        };
        for row in rows {
            let id = proto::items(row)?.first().context("empty XPENDING row")?;
            out.push(StreamId::parse(proto::bytes(id)?)?);
        }
        let last = proto::items(last_row)?
            .first()
            .context("empty XPENDING row")?;
        start = StreamId::parse(proto::bytes(last)?)?.next().to_string();
    }
}

/// Claims everything pending (min idle 0) and acknowledges it; returns the count `XPENDING`
/// still reports afterwards.
async fn clear_pending(conn: &mut MultiplexedConnection, key: &str, group: &str) -> Result<i64> {
    let mut cursor = StreamId::ZERO;
    loop {
        let reply: Value = redis::cmd("XAUTOCLAIM")
            .arg(&[key, group, "soak-verdict", "0"])
            .arg(cursor.to_string())
            .arg(&["COUNT", "1000"])
            .query_async(conn)
            .await
            .with_context(|| format!("XAUTOCLAIM {key} {group}"))?;
        let (next, claimed, _deleted) = parse_autoclaim(&reply)?;
        if !claimed.is_empty() {
            let mut ack = redis::cmd("XACK");
            ack.arg(key).arg(group);
            for id in &claimed {
                ack.arg(id.to_string());
            }
            ack.query_async::<i64>(conn)
                .await
                .with_context(|| format!("XACK {key} {group}"))?;
        }
        if next == StreamId::ZERO {
            break;
        }
        cursor = next;
    }
    let summary: Value = redis::cmd("XPENDING")
        .arg(key)
        .arg(group)
        .query_async(conn)
        .await
        .with_context(|| format!("XPENDING {key} {group}"))?;
    proto::int(
        proto::items(&summary)?
            .first()
            .context("empty XPENDING summary")?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Outcome;

    fn ids(ms: &[u64]) -> Vec<StreamId> {
        ms.iter().map(|&ms| StreamId { ms, seq: 0 }).collect()
    }

    fn record(delivered: &[u64], acked: &[u64], deleted: &[u64]) -> GroupRecord {
        GroupRecord {
            delivered: ids(delivered),
            duplicates: 0,
            acked: ids(acked),
            claimed: Vec::new(),
            deleted: ids(deleted),
            out_of_order: 0,
            deaths: 0,
        }
    }

    #[test]
    fn the_pel_must_be_delivered_minus_acked_minus_deleted() {
        let r = record(&[1, 2, 3, 4, 5], &[1, 2, 4], &[5]);
        let mut ok = Check::new("pel");
        compare_pel(&mut ok, "g", &r, &ids(&[3]));
        assert_eq!(ok.outcome, Outcome::Pass, "{:?}", ok.notes);

        for (pel, why) in [
            (&[2, 3][..], "acknowledged"),
            (&[3, 9], "never delivered"),
            (&[], "not pending"),
        ] {
            let mut bad = Check::new("pel");
            compare_pel(&mut bad, "g", &r, &ids(pel));
            assert_eq!(bad.outcome, Outcome::Fail);
            assert!(
                bad.notes.iter().any(|n| n.contains(why)),
                "{why}: {:?}",
                bad.notes
            );
        }
    }

    #[test]
    fn merging_counts_deliveries_made_twice() {
        let a = ConsumerLog {
            delivered: ids(&[1, 3]),
            ..ConsumerLog::default()
        };
        let b = ConsumerLog {
            delivered: ids(&[2, 3]),
            ..ConsumerLog::default()
        };
        let merged = GroupRecord::merge(&[&a, &b]);
        assert_eq!(merged.delivered, ids(&[1, 2, 3]));
        assert_eq!(merged.duplicates, 1);
    }
}
