//! `XREADGROUP`: new entries (`>`) or a consumer's own history (an ID) from one or more
//! streams, on behalf of a consumer group; waiting for new entries with `BLOCK`.
//!
//! A blocked group reader is a [`GroupReadWait`] in the blocking registry. Ready keys are
//! served in arrival order and each retry is a real group read, so an entry added by XADD
//! goes to the first waiting consumer only: the next ones find nothing undelivered and keep
//! waiting. When the group is destroyed, or the key deleted, renamed away, flushed or swapped
//! out, the retry finds no group and the waiter gets NOGROUP, as Redis 7.2's re-run of the
//! read does. History reads never block.
//! Deliveries are logged under the stream's lock (see `persist::groups`).

use bytes::Bytes;
use sluice_resp::{Args, Protocol, Reply, StreamEntries};
use sluice_streams::{GroupRead, GroupReadStart, NoGroupWording, Stream, StreamError, StreamId};

use crate::cmd::meta::*;
use crate::cmd::stream::args::{CappedSink, ReadCaps};
use crate::cmd::stream::xread::{parse_timeout, streams_reply, wait_or_nil};
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};
use sluice_broker::Broker;
use sluice_broker::persist::{self, groups};
use sluice_broker::ready::{BlockedRead, ReadyKeys};

/// The `XREADGROUP` command.
pub const XREADGROUP: Command = Command {
    name: "xreadgroup",
    arity: -7,
    flags: WRITE | BLOCKING,
    keys: NOKEYS,
    categories: &["write", "stream", "slow", "blocking"],
    group: "stream",
    since: "5.0.0",
    summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
    syntax: "GROUP group consumer [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] [CLAIM min-idle-time] [NOACK] STREAMS key [key ...] id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XREADGROUP GROUP group consumer [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize]
/// [BLOCK milliseconds] [CLAIM min-idle-time] [NOACK] STREAMS key [key …] id [id …]`
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let mut count = None;
    let mut block = None;
    let mut noack = false;
    let mut claim = None;
    let mut caps = ReadCaps::default();
    let mut names: Option<(Bytes, Bytes)> = None;
    // Redis's option loop: each keyword needs its values to follow, else it is a syntax error.
    loop {
        let more = args.remaining().saturating_sub(1);
        if args.is_empty() {
            return Err(CmdError(error::SYNTAX.into()));
        } else if more > 0 && args.eat("BLOCK") {
            block = Some(parse_timeout(&args.bytes()?)?);
        } else if more > 0 && args.eat("COUNT") {
            // Negative and zero both mean "no limit".
            count = usize::try_from(args.i64()?).ok().filter(|&n| n > 0);
        } else if more > 0 && args.eat("CLAIM") {
            let ms = u64::try_from(args.i64()?)
                .map_err(|_| CmdError(error::CLAIM_MIN_IDLE_NEGATIVE.into()))?;
            claim = Some(ms);
        } else if more > 0 && args.eat("MAXCOUNT") {
            caps.max_count = Some(ReadCaps::parse_cap(args)?);
        } else if more > 0 && args.eat("MAXSIZE") {
            caps.max_size = Some(ReadCaps::parse_cap(args)?);
        } else if more > 0 && args.eat("STREAMS") {
            break;
        } else if more >= 2 && args.eat("GROUP") {
            names = Some((args.bytes()?, args.bytes()?));
        } else if args.eat("NOACK") {
            noack = true;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let rest = args.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError(error::XREADGROUP_UNBALANCED.into()));
    }
    let Some((group, consumer)) = names else {
        return Err(StreamError::ReadGroupMissingGroup.into());
    };
    let (keys, ids) = rest.split_at(rest.len() / 2);
    let db = ctx.db();
    let mut streams = Vec::with_capacity(keys.len());
    // Per stream, as Redis does: the key and group must exist, then the ID must parse.
    for (key, id) in keys.iter().zip(ids) {
        let has_group = db
            .read_as(key, ctx.now_ms, |stream: &Stream| {
                stream.group(&group).is_some()
            })?
            .unwrap_or(false);
        if !has_group {
            return Err(error::no_group(NoGroupWording::ReadGroup, key, &group));
        }
        let start = match id.as_ref() {
            b">" => GroupReadStart::New,
            b"$" => return Err(StreamError::DollarIdInReadGroup.into()),
            b"+" => return Err(StreamError::PlusIdInReadGroup.into()),
            other => match StreamId::parse(other, 0)? {
                StreamId::MAX => GroupReadStart::New,
                id => GroupReadStart::After(id),
            },
        };
        streams.push((key.clone(), start));
    }
    let mut read = GroupReadWait {
        group,
        consumer,
        streams,
        count,
        noack,
        claim,
        caps,
    };
    if let Some(reply) = read.read(&ctx.shared.broker, ctx.client.db, ctx.proto(), ctx.now_ms)? {
        return Ok(reply.into());
    }
    let keys = read.streams.iter().map(|(k, _)| k.clone()).collect();
    wait_or_nil(ctx, block, keys, Box::new(read))
}

/// One `XREADGROUP`: its group, consumer and options, and where to read in each stream.
#[derive(Debug)]
struct GroupReadWait {
    group: Bytes,
    consumer: Bytes,
    streams: Vec<(Bytes, GroupReadStart)>,
    count: Option<usize>,
    noack: bool,
    /// `CLAIM <min-idle-time>` in ms.
    claim: Option<u64>,
    /// `MAXCOUNT`/`MAXSIZE` across the streams.
    caps: ReadCaps,
}

impl GroupReadWait {
    /// Reads every stream at `now_ms`: the reply, or `None` when only `>` streams were asked
    /// and none had anything to deliver (then the caller replies nil or waits). A missing key
    /// or group is Redis's NOGROUP error.
    fn read(
        &mut self,
        broker: &Broker,
        db: usize,
        proto: Protocol,
        now_ms: u64,
    ) -> Result<Option<Reply>, CmdError> {
        let db_index = db;
        let db = broker.keyspace.db(db);
        let mut found = Vec::new();
        self.caps.reset();
        for (key, start) in &self.streams {
            if self.caps.reached() {
                break;
            }
            let mut entries = StreamEntries::new();
            let read = GroupRead {
                start: *start,
                count: self.count,
                noack: self.noack,
            };
            // CLAIM applies to `>` reads only.
            let claim = self.claim.filter(|_| *start == GroupReadStart::New);
            if claim.is_some() {
                entries.enable_meta();
            }
            let caps = &mut self.caps;
            let (group, consumer, noack) = (&self.group, &self.consumer, self.noack);
            let outcome = db
                .write_as(key, now_ms, |stream: &mut Stream| {
                    let mut sink = CappedSink {
                        entries: &mut entries,
                        caps,
                    };
                    let outcome = stream
                        .read_group_claiming(group, consumer, read, claim, now_ms, &mut sink)?;
                    persist::log(broker, db_index, |rec| {
                        let names = (&group[..], &consumer[..]);
                        log_read(rec, key, names, noack, stream, *start, &outcome, &entries);
                    });
                    Ok(outcome)
                })?
                .unwrap_or(Err(StreamError::NoGroup))
                .map_err(|_| error::no_group(NoGroupWording::ReadGroup, key, group))?;
            // A history read always answers, even with no entries; `>` only with some.
            if outcome.entries > 0 || matches!(start, GroupReadStart::After(_)) {
                found.push((Reply::Bulk(key.clone()), Reply::Entries(entries)));
            }
        }
        Ok(streams_reply(found, proto))
    }
}

/// Logs what a read changed: the consumer if new, the delivered and claimed entries' pending
/// state (claimed and redelivered ones even with NOACK: they were pending already), claimed
/// entries found deleted as acknowledged, and for `>` the group's cursor.
#[allow(clippy::too_many_arguments)]
fn log_read(
    rec: &mut persist::Record,
    key: &[u8],
    (group, consumer): (&[u8], &[u8]),
    noack: bool,
    stream: &Stream,
    start: GroupReadStart,
    outcome: &sluice_streams::GroupReadOutcome,
    entries: &StreamEntries,
) {
    if outcome.consumer_created {
        groups::consumer_created(rec, key, group, consumer);
    }
    let dropped = outcome.claim_dropped.iter().copied();
    if !noack {
        let delivered = entries
            .ids()
            .filter(|&(_, _, gone)| !gone)
            .map(|(ms, seq, _)| StreamId::new(ms, seq));
        groups::pel_state(rec, key, group, stream, delivered.chain(dropped));
    } else {
        let again = outcome.redelivered.iter().chain(&outcome.claimed).copied();
        groups::pel_state(rec, key, group, stream, again.chain(dropped));
    }
    if matches!(start, GroupReadStart::New) && !entries.is_empty() {
        groups::cursor(rec, key, group, stream);
    }
}

impl GroupReadWait {
    /// Whether a re-run could answer: some stream has something for this consumer (new,
    /// redelivered or, with CLAIM, claimable entries), or lacks its group (NOGROUP). Lets the
    /// clock-driven re-runs of a blocked CLAIM reader pass without touching the consumer.
    fn may_answer(&self, broker: &Broker, db: usize, now_ms: u64) -> bool {
        let db = broker.keyspace.db(db);
        self.streams.iter().any(|(key, _)| {
            db.read_as(key, now_ms, |stream: &Stream| {
                match stream.group(&self.group) {
                    None => true,
                    Some(g) => {
                        stream.has_undelivered_for(g, &self.consumer)
                            || self
                                .claim
                                .is_some_and(|min_idle| stream.has_claimable(g, min_idle, now_ms))
                    }
                }
            })
            .map_or(true, |found| found.unwrap_or(true))
        })
    }
}

impl BlockedRead for GroupReadWait {
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        proto: Protocol,
        _ready: &mut ReadyKeys,
    ) -> Option<Reply> {
        let now_ms = broker.now_ms();
        if !self.may_answer(broker, db, now_ms) {
            return None;
        }
        match self.read(broker, db, proto, now_ms) {
            Ok(reply) => reply,
            Err(e) => Some(e.into_reply()),
        }
    }

    fn ends_on_missing_key(&self) -> bool {
        true
    }

    fn wakes_with_time(&self) -> bool {
        self.claim.is_some()
    }
}
