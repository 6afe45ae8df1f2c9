//! XREADGROUP: delivering new entries to a consumer (`>`) and re-reading its history (an ID).
//!
//! A `>` read first sends the consumer's entries marked for redelivery (`redeliver.rs`), then
//! new entries with what is left of COUNT. New entries stream from the nodes straight into the caller's [`EntrySink`] through a thin
//! wrapper that, per entry, moves the group's last delivered ID and read counter and records
//! the PEL entry (unless NOACK) — no value is built per entry. History reads walk the
//! consumer's own pending IDs and fetch each entry; an entry deleted since delivery is
//! reported through [`EntrySink::deleted_entry`] and stays pending, as in Redis.

use crate::claim_idle::claim_idle;
use crate::group::ConsumerGroup;
use crate::lag::LagSnapshot;
use crate::nack::one_more_delivery;
use crate::redeliver::send_marked;
use crate::sink::EntrySink;
use crate::{Stream, StreamError, StreamId};

/// Where XREADGROUP reads for one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupReadStart {
    /// `>`: entries never delivered to the group, after its last delivered ID.
    New,
    /// An explicit ID: this consumer's pending entries with IDs above it (its history).
    /// Redis takes an explicit `18446744073709551615-18446744073709551615` for `>`: the
    /// server maps it to [`GroupReadStart::New`].
    After(StreamId),
}

/// The XREADGROUP options that apply to one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRead {
    /// `>` or a history ID.
    pub start: GroupReadStart,
    /// `COUNT`: at most this many entries; `None` = all (Redis's COUNT 0 or no COUNT).
    pub count: Option<usize>,
    /// `NOACK`: deliver without recording PEL entries (ignored for history reads).
    pub noack: bool,
}

/// What an XREADGROUP read did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupReadOutcome {
    /// Entries sent to the sink: redelivered and new ones for `>`; for a history read, its
    /// entries, deleted ones included.
    pub entries: usize,
    /// The consumer did not exist and was created (Redis fires `xgroup-createconsumer`).
    pub consumer_created: bool,
    /// `>` only: entries that were marked for redelivery and were sent (first in the reply,
    /// ascending), each with its delivery count now one higher, delivery time now, mark
    /// cleared. The server logs their pending state.
    pub redelivered: Vec<StreamId>,
    /// `>` only: entries that were marked for redelivery but whose data was deleted: their
    /// mark is cleared, they were not sent and stay pending as they were.
    pub skipped_deleted: Vec<StreamId>,
    /// `>` with CLAIM only: pending entries claimed (after the redelivered ones, before the
    /// new ones), now owned by the reader with delivery count + 1 and time now.
    pub claimed: Vec<StreamId>,
    /// `>` with CLAIM only: pending entries found deleted by the claim phase, dropped from
    /// the PEL.
    pub claim_dropped: Vec<StreamId>,
}

impl Stream {
    /// Whether `XREADGROUP ... >` has something to deliver to `group` now: the stream's last
    /// live entry is above the group's last delivered ID. When false the server replies
    /// nil or blocks (after still calling [`Stream::read_group`], which creates and touches
    /// the consumer as Redis does). Ignores redelivery marks: a `>` read of one consumer
    /// checks [`Stream::has_undelivered_for`].
    pub fn has_undelivered(&self, group: &ConsumerGroup) -> bool {
        self.last_live_id()
            .is_some_and(|top| top > group.last_delivered_id)
    }

    /// XREADGROUP on this stream for `consumer` of `group` (created if missing; marked seen
    /// at `now_ms`, Unix ms), sending entries to `sink`.
    ///
    /// `>` first sends the consumer's entries marked for redelivery, ascending, up to COUNT
    /// (NOACK or not: they are pending already), bumping each one's delivery count and time
    /// and clearing its mark; a marked entry whose data was deleted is unmarked and skipped
    /// (it stays pending). Then, with what is left of COUNT, it delivers live entries after
    /// the group's last delivered ID, advancing it and the read counter; each gets a PEL
    /// entry owned by `consumer` with delivery count 1 and time `now_ms` (taken over from
    /// another consumer if the PEL already held it), unless NOACK. The consumer becomes
    /// active if anything was redelivered or recorded. A history read sends the consumer's
    /// pending entries above the ID, bumping each one's delivery count and time and clearing
    /// its redelivery mark (it has now been delivered); deleted ones go to
    /// [`EntrySink::deleted_entry`] unchanged.
    /// Error: [`StreamError::NoGroup`] (the server words it with
    /// [`NoGroupWording::ReadGroup`](crate::NoGroupWording::ReadGroup)).
    pub fn read_group(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        read: GroupRead,
        now_ms: u64,
        sink: &mut dyn EntrySink,
    ) -> Result<GroupReadOutcome, StreamError> {
        self.read_group_claiming(group, consumer, read, None, now_ms, sink)
    }

    /// [`Stream::read_group`] with `XREADGROUP`'s `CLAIM <min-idle-time>` (Redis 8.4): a `>`
    /// read claims waiting pending entries between the redelivered and the new ones
    /// (`claim_idle.rs`), sharing COUNT. `claim_min_idle_ms` is ignored by history reads.
    pub fn read_group_claiming(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        read: GroupRead,
        claim_min_idle_ms: Option<u64>,
        now_ms: u64,
        sink: &mut dyn EntrySink,
    ) -> Result<GroupReadOutcome, StreamError> {
        let snap = self.lag_snapshot();
        self.with_group(group, |stream, group| {
            let (owner, consumer_created) = group.touch_consumer(consumer, now_ms);
            let mut outcome = GroupReadOutcome {
                consumer_created,
                ..GroupReadOutcome::default()
            };
            match read.start {
                GroupReadStart::New => {
                    let limit = read.count.unwrap_or(usize::MAX);
                    let marked = send_marked(stream, group, owner, limit, now_ms, sink);
                    let mut left = limit - marked.sent.len();
                    if let Some(min_idle) = claim_min_idle_ms {
                        let claimed = claim_idle(
                            stream,
                            group,
                            owner,
                            min_idle,
                            left,
                            &marked.sent,
                            now_ms,
                            sink,
                        );
                        left -= claimed.sent.len();
                        outcome.claimed = claimed.sent;
                        outcome.claim_dropped = claimed.dropped;
                    }
                    let mut deliver = Deliver {
                        out: sink,
                        group,
                        snap: &snap,
                        owner: (!read.noack).then_some(owner),
                        now_ms,
                    };
                    let start = deliver.group.last_delivered_id.incr();
                    let n = start.map_or(0, |start| {
                        stream.range(start, StreamId::MAX, Some(left), false, &mut deliver)
                    });
                    let again = marked.sent.len() + outcome.claimed.len();
                    if (again > 0 || (n > 0 && !read.noack))
                        && let Some(c) = group.slot_mut(owner)
                    {
                        c.active_time_ms = Some(now_ms);
                    }
                    outcome.entries = again + n;
                    outcome.redelivered = marked.sent;
                    outcome.skipped_deleted = marked.skipped_deleted;
                }
                GroupReadStart::After(id) => {
                    if let Some(start) = id.incr() {
                        outcome.entries =
                            history(stream, group, owner, start, read.count, now_ms, sink);
                    }
                }
            }
            outcome
        })
    }
}

/// Sends consumer `owner`'s pending entries with IDs `>= start` (at most `count`) to `sink`.
fn history(
    stream: &Stream,
    group: &mut ConsumerGroup,
    owner: u32,
    start: StreamId,
    count: Option<usize>,
    now_ms: u64,
    sink: &mut dyn EntrySink,
) -> usize {
    let limit = count.unwrap_or(usize::MAX);
    let Some(consumer) = group.slots.get_mut(owner as usize).and_then(Option::as_mut) else {
        return 0;
    };
    let mut sent = 0;
    // The consumer's sets and the group PEL are separate fields: walk one, update the others.
    for &id in consumer.pending.range(start..).take(limit) {
        if sink.full() {
            break;
        }
        if stream.get(id, sink) {
            if let Some(p) = group.pel.get_mut(&id) {
                p.delivery_time_ms = now_ms;
                p.delivery_count = one_more_delivery(p.delivery_count);
            }
            consumer.redeliver.remove(&id);
        } else {
            sink.deleted_entry(id);
        }
        sent += 1;
    }
    sent
}

/// Wraps the caller's sink during a `>` read to do the group bookkeeping per entry.
struct Deliver<'a> {
    out: &'a mut dyn EntrySink,
    group: &'a mut ConsumerGroup,
    snap: &'a LagSnapshot,
    /// PEL owner for new entries; `None` with NOACK.
    owner: Option<u32>,
    now_ms: u64,
}

impl EntrySink for Deliver<'_> {
    fn begin_entry(&mut self, id: StreamId, field_count: usize) {
        self.group.advance_delivered(id, self.snap);
        if let Some(owner) = self.owner {
            self.group.assign(id, owner, self.now_ms);
        }
        self.out.begin_entry(id, field_count);
    }

    fn field(&mut self, bytes: &[u8]) {
        self.out.field(bytes);
    }

    fn deleted_entry(&mut self, id: StreamId) {
        self.out.deleted_entry(id);
    }

    fn full(&self) -> bool {
        self.out.full()
    }
}
