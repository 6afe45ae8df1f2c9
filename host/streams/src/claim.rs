//! Taking pending entries over: XCLAIM (given IDs) and XAUTOCLAIM (a scan from a cursor).
//!
//! A NACKed entry (`nack.rs`) is claimed whatever min-idle-time says, and XAUTOCLAIM takes
//! NACKed entries first, before scanning from its cursor. Otherwise both follow Redis 7.2: an ID whose entry was deleted is dropped from the PEL instead of
//! claimed (XAUTOCLAIM reports those IDs); an entry is claimed when idle at least
//! `min-idle-time` ms (0 = always); the claimer is created if missing, marked seen, and
//! active once it claims something. Each ID costs O(log n); XAUTOCLAIM examines at most
//! `count * 10` PEL entries per call, so its cost is bounded whatever the PEL size.

use crate::group::{ConsumerGroup, Pending};
use crate::nack::one_more_delivery;
use crate::sink::EntrySink;
use crate::{Stream, StreamError, StreamId};

/// XCLAIM's `IDLE <ms>` or `TIME <unix-ms>`: the delivery time to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimTime {
    /// `IDLE <ms>`: delivered this many ms before now.
    Idle(i64),
    /// `TIME <unix-ms>`: delivered at this Unix time in ms.
    Unix(i64),
}

/// XCLAIM's arguments after the IDs, as parsed (values as the client sent them; the Redis
/// clamps are applied here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimOptions {
    /// `<min-idle-time>` in ms; negative counts as 0.
    pub min_idle_ms: i64,
    /// The last of `IDLE` / `TIME`; `None` = now. A time before 0 or after now becomes now.
    pub time: Option<ClaimTime>,
    /// `RETRYCOUNT`: the delivery count to set; negative or `None` = unchanged count + 1
    /// (unchanged with JUSTID).
    pub retry_count: Option<i64>,
    /// `FORCE`: create PEL entries for IDs that exist in the stream but are not pending.
    pub force: bool,
    /// `JUSTID`: reply IDs only; the delivery count is not incremented.
    pub just_id: bool,
    /// `LASTID`: raise the group's last delivered ID to this if it is greater.
    pub last_id: Option<StreamId>,
}

/// What XCLAIM did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimOutcome {
    /// IDs claimed, in argument order (the JUSTID reply; otherwise their entries went to the
    /// sink in the same order).
    pub claimed: Vec<StreamId>,
    /// The claiming consumer was created by this call.
    pub consumer_created: bool,
}

/// XAUTOCLAIM's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoClaimOptions {
    /// `<min-idle-time>` in ms; negative counts as 0.
    pub min_idle_ms: i64,
    /// `<start>`: scan the PEL from this ID, inclusive (the server applies `(` and `-`).
    pub start: StreamId,
    /// `COUNT`: claim at most this many (deleted IDs count too); the server checks
    /// `1 ..= i64::MAX / 16` ([`StreamError::AutoClaimCountInvalid`]). Default 100.
    pub count: usize,
    /// `JUSTID`: reply IDs only; the delivery count is not incremented.
    pub just_id: bool,
}

/// XAUTOCLAIM's reply: `[next, claimed, deleted]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoClaimOutcome {
    /// Cursor for the next call: the first PEL ID after the scanned ones, `0-0` at the end.
    pub next: StreamId,
    /// IDs claimed, ascending (their entries went to the sink unless JUSTID).
    pub claimed: Vec<StreamId>,
    /// IDs found pending whose entries no longer exist; removed from the PEL.
    pub deleted: Vec<StreamId>,
    /// The claiming consumer was created by this call.
    pub consumer_created: bool,
}

/// How many PEL entries XAUTOCLAIM may examine per entry it may claim.
const ATTEMPTS_FACTOR: usize = 10;

impl Stream {
    /// XCLAIM `ids` of `group` for `consumer` at `now_ms` (Unix ms). Claimed entries go to
    /// `sink` unless JUSTID. Per ID: a deleted entry is dropped from the PEL; an ID not
    /// pending is skipped, or with FORCE made pending (count 1, then the usual +1);
    /// a pending one idle less than min-idle-time is skipped (FORCE-created ones never are).
    /// Error: [`StreamError::NoGroup`] (wording
    /// [`NoGroupWording::KeyOrGroup`](crate::NoGroupWording::KeyOrGroup)).
    pub fn claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        ids: &[StreamId],
        opts: &ClaimOptions,
        now_ms: u64,
        sink: &mut dyn EntrySink,
    ) -> Result<ClaimOutcome, StreamError> {
        self.with_group(group, |stream, group| {
            if let Some(last) = opts.last_id
                && last > group.last_delivered_id
            {
                group.last_delivered_id = last;
            }
            let delivery_time = claim_time(opts.time, now_ms);
            let min_idle = opts.min_idle_ms.max(0);
            let (owner, consumer_created) = group.touch_consumer(consumer, now_ms);
            let mut claimed = Vec::new();
            for &id in ids {
                if !stream.contains(id) {
                    group.remove_pending(id);
                    continue;
                }
                match group.pel.get(&id) {
                    Some(p)
                        if min_idle > 0
                            && !group.nacked.contains(id)
                            && !idle_at_least(p, now_ms, min_idle) =>
                    {
                        continue;
                    }
                    Some(_) => group.transfer(id, owner),
                    None if opts.force => group.assign(id, owner, now_ms),
                    None => continue,
                }
                let count = opts.retry_count.filter(|n| *n >= 0).map(|n| n as u64);
                take_over(group, id, delivery_time, count, opts.just_id, now_ms, owner);
                if !opts.just_id {
                    stream.get(id, sink);
                }
                claimed.push(id);
            }
            ClaimOutcome {
                claimed,
                consumer_created,
            }
        })
    }

    /// XAUTOCLAIM for `consumer` of `group` at `now_ms`: scans the PEL from `opts.start`,
    /// claiming entries idle at least min-idle-time and dropping deleted ones, until `count`
    /// IDs are claimed or dropped or `count * 10` entries were examined. Claimed entries go to
    /// `sink` unless JUSTID.
    /// Error: [`StreamError::NoGroup`] (wording
    /// [`NoGroupWording::KeyOrGroup`](crate::NoGroupWording::KeyOrGroup)).
    pub fn autoclaim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        opts: &AutoClaimOptions,
        now_ms: u64,
        sink: &mut dyn EntrySink,
    ) -> Result<AutoClaimOutcome, StreamError> {
        self.with_group(group, |stream, group| {
            let (owner, consumer_created) = group.touch_consumer(consumer, now_ms);
            let min_idle = opts.min_idle_ms.max(0);
            let mut out = AutoClaimOutcome {
                consumer_created,
                ..AutoClaimOutcome::default()
            };
            let mut attempts = opts.count.saturating_mul(ATTEMPTS_FACTOR);
            let mut remaining = opts.count;
            // NACKed entries first, whatever the cursor and their idle time (`nack.rs`).
            let nacked: Vec<StreamId> = group.nacked.iter().take(remaining).collect();
            for id in nacked {
                remaining -= 1;
                if !stream.contains(id) {
                    group.remove_pending(id);
                    out.deleted.push(id);
                    continue;
                }
                auto_take(stream, group, id, owner, opts.just_id, now_ms, sink);
                out.claimed.push(id);
            }
            // Where the next PEL lookup starts; `None` once the maximum ID was examined.
            let mut cursor = Some(opts.start);
            while attempts > 0 && remaining > 0 {
                attempts -= 1;
                let Some(from) = cursor else { break };
                let Some((id, p)) = group.pel_from(from).next().map(|(id, p)| (id, *p)) else {
                    cursor = None;
                    break;
                };
                cursor = id.incr();
                if !stream.contains(id) {
                    group.remove_pending(id);
                    out.deleted.push(id);
                    remaining -= 1;
                    continue;
                }
                if (min_idle > 0 && !idle_at_least(&p, now_ms, min_idle))
                    || out.claimed.contains(&id)
                {
                    continue;
                }
                auto_take(stream, group, id, owner, opts.just_id, now_ms, sink);
                out.claimed.push(id);
                remaining -= 1;
            }
            out.next = cursor
                .and_then(|from| group.pel_from(from).next().map(|(id, _)| id))
                .unwrap_or(StreamId::MIN);
            out
        })
    }
}

/// XAUTOCLAIM's claim of live pending entry `id` for consumer slot `owner`: delivered now,
/// count + 1 unless JUSTID, its entry sent to `sink` unless JUSTID.
fn auto_take(
    stream: &Stream,
    group: &mut ConsumerGroup,
    id: StreamId,
    owner: u32,
    just_id: bool,
    now_ms: u64,
    sink: &mut dyn EntrySink,
) {
    group.transfer(id, owner);
    take_over(group, id, now_ms, None, just_id, now_ms, owner);
    if !just_id {
        stream.get(id, sink);
    }
}

/// XCLAIM's delivery time: IDLE/TIME if sane, else now.
fn claim_time(time: Option<ClaimTime>, now_ms: u64) -> u64 {
    let now = i128::from(now_ms);
    let t = match time {
        None => return now_ms,
        Some(ClaimTime::Idle(idle)) => now - i128::from(idle),
        Some(ClaimTime::Unix(t)) => i128::from(t),
    };
    if t < 0 || t > now { now_ms } else { t as u64 }
}

/// Whether `p` was delivered at least `min_idle` ms before `now_ms`.
fn idle_at_least(p: &Pending, now_ms: u64, min_idle: i64) -> bool {
    i128::from(now_ms) - i128::from(p.delivery_time_ms) >= i128::from(min_idle)
}

/// Records a claim of pending entry `id` (already owned by `owner`): delivery time, delivery
/// count (`retry_count`, else +1 unless `just_id`), and the claimer's active time.
fn take_over(
    group: &mut ConsumerGroup,
    id: StreamId,
    delivery_time_ms: u64,
    retry_count: Option<u64>,
    just_id: bool,
    now_ms: u64,
    owner: u32,
) {
    if let Some(p) = group.pel.get_mut(&id) {
        p.delivery_time_ms = delivery_time_ms;
        match retry_count {
            Some(n) => p.delivery_count = n,
            None if !just_id => p.delivery_count = one_more_delivery(p.delivery_count),
            None => {}
        }
    }
    if let Some(c) = group.slot_mut(owner) {
        c.active_time_ms = Some(now_ms);
    }
}
