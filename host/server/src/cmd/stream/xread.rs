//! `XREAD`: entries newer than given IDs from one or more streams, or each stream's last entry
//! (`+`, Redis 7.4), optionally waiting for them.

use std::time::Duration;

use bytes::Bytes;
use sluice_resp::{Args, Protocol, Reply, StreamEntries};
use sluice_streams::{Stream, StreamId};

use super::args::{CappedSink, ReadCaps};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome};
use crate::error::{self, CmdError};
use sluice_broker::Broker;
use sluice_broker::ready::{BlockRequest, BlockedRead, ReadyKeys};

/// The `XREAD` command.
pub const XREAD: Command = Command {
    name: "xread",
    arity: -4,
    flags: READONLY | BLOCKING,
    keys: NOKEYS,
    categories: &["read", "stream", "slow", "blocking"],
    group: "stream",
    since: "5.0.0",
    summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
    syntax: "[COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XREAD [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] STREAMS
/// key [key …] id [id …]`; an ID is `$` (after the current last entry), `+` (the last entry
/// itself) or an ID.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let mut count = None;
    let mut block = None;
    let mut caps = ReadCaps::default();
    loop {
        let more = args.remaining().saturating_sub(1);
        if args.is_empty() {
            return Err(CmdError(error::SYNTAX.into()));
        } else if more > 0 && args.eat("COUNT") {
            // Negative and zero both mean "no limit".
            count = usize::try_from(args.i64()?).ok().filter(|&n| n > 0);
        } else if more > 0 && args.eat("BLOCK") {
            block = Some(parse_timeout(&args.bytes()?)?);
        } else if more > 0 && args.eat("MAXCOUNT") {
            caps.max_count = Some(ReadCaps::parse_cap(args)?);
        } else if more > 0 && args.eat("MAXSIZE") {
            caps.max_size = Some(ReadCaps::parse_cap(args)?);
        } else if more > 0 && args.eat("CLAIM") {
            return Err(CmdError(error::XREAD_CLAIM_OPTION.into()));
        } else if args.eat("STREAMS") {
            break;
        } else if more >= 2 && args.eat("GROUP") {
            return Err(CmdError(error::XREAD_GROUP_OPTION.into()));
        } else if args.eat("NOACK") {
            return Err(CmdError(error::XREAD_NOACK_OPTION.into()));
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError(error::XREAD_UNBALANCED.into()));
    }
    let (keys, ids) = rest.split_at(rest.len() / 2);
    let db = ctx.db();
    let mut streams = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(ids) {
        let from = match id.as_ref() {
            b"$" => ReadFrom::After(
                db.read_as(key, ctx.now_ms, |stream: &Stream| stream.last_id())?
                    .unwrap_or(StreamId::MIN),
            ),
            // Redis 7.4 and Valkey 8 read `+` as "after the ID before last_id", which a stream
            // that never had an entry (MKSTREAM, XSETID 0-0) does not have.
            b"+" if db.read_as(key, ctx.now_ms, |stream: &Stream| stream.last_id())?
                == Some(StreamId::MIN) =>
            {
                return Err(CmdError(error::XREAD_LAST_ID_ZERO.into()));
            }
            b"+" => ReadFrom::Last,
            b">" => {
                return Err(CmdError(error::XREAD_NEW_ID_WITHOUT_GROUP.into()));
            }
            other => ReadFrom::After(StreamId::parse(other, 0)?),
        };
        streams.push((key.clone(), from));
    }
    let mut read = XreadWait {
        streams,
        count,
        caps,
    };
    if let Some(reply) = read.read(&ctx.shared.broker, ctx.client.db, ctx.proto()) {
        return Ok(reply.into());
    }
    let keys = read.streams.iter().map(|(k, _)| k.clone()).collect();
    wait_or_nil(ctx, block, keys, Box::new(read))
}

/// What an `XREAD`/`XREADGROUP` with nothing to answer yet replies: it blocks on `keys` if
/// `BLOCK` was given (not inside `EXEC`, where blocking commands answer at once), else nil.
pub(crate) fn wait_or_nil(
    ctx: &Ctx<'_>,
    block: Option<Option<Duration>>,
    keys: Vec<Bytes>,
    read: Box<dyn BlockedRead>,
) -> CmdResult {
    match block {
        Some(timeout) if !ctx.in_exec => Ok(Outcome::Block(BlockRequest {
            db: ctx.client.db,
            keys,
            timeout,
            read,
        })),
        _ => Ok(Reply::NullArray.into()),
    }
}

/// The reply of `XREAD`/`XREADGROUP`: `key → entries` for each stream that answered, a map
/// in RESP3 and an array of pairs in RESP2 (as Redis); `None` when none did.
pub(crate) fn streams_reply(found: Vec<(Reply, Reply)>, proto: Protocol) -> Option<Reply> {
    if found.is_empty() {
        return None;
    }
    Some(match proto {
        Protocol::Resp3 => Reply::Map(found),
        Protocol::Resp2 => Reply::Array(
            found
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![k, v]))
                .collect(),
        ),
    })
}

/// A `BLOCK` timeout in ms: `None` is 0, wait forever. Redis's texts for bad values.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let ms = sluice_resp::request::parse_i64(arg)
        .ok_or_else(|| CmdError(error::TIMEOUT_NOT_INTEGER.into()))?;
    match u64::try_from(ms) {
        Err(_) => Err(CmdError(error::TIMEOUT_NEGATIVE.into())),
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(Duration::from_millis(ms))),
    }
}

/// Where `XREAD` reads one stream.
#[derive(Debug, Clone, Copy)]
enum ReadFrom {
    /// The entries after this ID (`$` is resolved to one when the command runs).
    After(StreamId),
    /// The last entry (`+`), whatever `COUNT` says; an empty or missing stream answers
    /// nothing, so a blocked `+` waits for the stream's next entry.
    Last,
}

/// An `XREAD`: for each stream, where to read.
#[derive(Debug)]
struct XreadWait {
    streams: Vec<(Bytes, ReadFrom)>,
    count: Option<usize>,
    /// `MAXCOUNT`/`MAXSIZE` across the streams.
    caps: ReadCaps,
}

impl XreadWait {
    /// The reply if any stream has entries after its ID.
    fn read(&mut self, broker: &Broker, db: usize, proto: Protocol) -> Option<Reply> {
        let db = broker.keyspace.db(db);
        let now = broker.now_ms();
        let mut found = Vec::new();
        self.caps.reset();
        for (key, from) in &self.streams {
            if self.caps.reached() {
                break;
            }
            let (start, count, rev) = match from {
                ReadFrom::After(after) => match after.incr() {
                    Some(start) => (start, self.count, false),
                    None => continue,
                },
                ReadFrom::Last => (StreamId::MIN, Some(1), true),
            };
            let mut entries = StreamEntries::new();
            let read = db.read_as(key, now, |stream: &Stream| {
                stream.range(
                    start,
                    StreamId::MAX,
                    count,
                    rev,
                    &mut CappedSink {
                        entries: &mut entries,
                        caps: &mut self.caps,
                    },
                )
            });
            // Re-run because one of its keys got entries, a read whose other key became
            // another type ends with Redis's error.
            if let Err(wrong) = read {
                return Some(CmdError::from(wrong).into_reply());
            }
            if !entries.is_empty() {
                found.push((Reply::Bulk(key.clone()), Reply::Entries(entries)));
            }
        }
        streams_reply(found, proto)
    }
}

impl BlockedRead for XreadWait {
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        proto: Protocol,
        _ready: &mut ReadyKeys,
    ) -> Option<Reply> {
        self.read(broker, db, proto)
    }

    /// Redis 7.2 re-runs a blocked `XREAD` only for a ready key that holds a stream: one
    /// deleted, or turned into a string, hash, list or set, leaves the reader waiting.
    fn wakes_on(&self, broker: &Broker, db: usize, key: &[u8]) -> bool {
        broker.keyspace.db(db).holds::<Stream>(key, broker.now_ms())
    }
}
