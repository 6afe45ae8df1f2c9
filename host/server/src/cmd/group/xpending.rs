//! `XPENDING`: a consumer group's pending entries list, summarised or listed.
//!
//! Parsing follows Redis 7.2's `xpendingCommand`: the argument count, then `IDLE`, the count,
//! the start and end bounds (with `(` exclusive forms), all before the key is looked up, so a
//! syntax error wins over NOGROUP. Arguments after the consumer name are ignored, as in Redis.

use sluice_resp::{Args, Reply};
use sluice_streams::{
    ConsumerGroup, NoGroupWording, PendingQuery, Stream, parse_range_end, parse_range_start,
};

use crate::cmd::meta::*;
use crate::cmd::stream::args::id_reply;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `XPENDING` command.
pub const XPENDING: Command = Command {
    name: "xpending",
    arity: -3,
    flags: READONLY,
    keys: KEY1,
    categories: STREAM_READ,
    group: "stream",
    since: "5.0.0",
    summary: "Returns the information and entries from a stream consumer group's pending entries list.",
    syntax: "key group [[IDLE min-idle-time] start end count [consumer]]",
    handler: run,
    subcommands: &[],
};

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let all = args.all();
    let argc = all.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError(error::SYNTAX.into()));
    }
    let (Some(key), Some(group)) = (all.get(1), all.get(2)) else {
        return Err(CmdError(error::SYNTAX.into()));
    };
    let range = if argc >= 6 {
        Some(parse_range_args(&all[3..])?)
    } else {
        None
    };
    let now = ctx.now_ms;
    ctx.db()
        .read_as(key, now, |stream: &Stream| {
            let group = stream.group(group)?;
            Some(match &range {
                None => summary(group),
                Some((query, consumer)) => {
                    let query = PendingQuery {
                        consumer: consumer.as_deref(),
                        ..*query
                    };
                    extended(group, &query, now)
                }
            })
        })?
        .flatten()
        .map(Into::into)
        .ok_or_else(|| error::no_group(NoGroupWording::KeyOrGroup, key, group))
}

/// `[IDLE min-idle-time] start end count [consumer] …`: the query (without its consumer,
/// returned beside it as owned bytes).
fn parse_range_args(
    args: &[bytes::Bytes],
) -> Result<(PendingQuery<'static>, Option<Vec<u8>>), CmdError> {
    let int = |arg: Option<&bytes::Bytes>| {
        arg.and_then(|a| sluice_resp::request::parse_i64(a))
            .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))
    };
    let mut at = 0;
    let mut min_idle_ms = 0;
    if args
        .first()
        .is_some_and(|a| a.eq_ignore_ascii_case(b"IDLE"))
    {
        min_idle_ms = int(args.get(1))?;
        // With IDLE, `start end count` must still follow.
        if args.len() < 5 {
            return Err(CmdError(error::SYNTAX.into()));
        }
        at = 2;
    }
    let arg = |i: usize| {
        args.get(at + i)
            .ok_or_else(|| CmdError(error::SYNTAX.into()))
    };
    let count = int(Some(arg(2)?))?;
    let start = parse_range_start(arg(0)?)?;
    let end = parse_range_end(arg(1)?)?;
    let consumer = args.get(at + 3).map(|c| c.to_vec());
    let query = PendingQuery {
        start,
        end,
        // Negative counts are 0, as in Redis.
        count: usize::try_from(count).unwrap_or(0),
        consumer: None,
        min_idle_ms,
    };
    Ok((query, consumer))
}

/// `[count, first, last, [[consumer, "n"], …]]`, with nils when nothing is pending.
fn summary(group: &ConsumerGroup) -> Reply {
    let s = group.pending_summary();
    let (Some(first), Some(last)) = (s.first, s.last) else {
        return Reply::Array(vec![
            Reply::Int(0),
            Reply::Null,
            Reply::Null,
            Reply::NullArray,
        ]);
    };
    let consumers = s
        .consumers
        .iter()
        .map(|(name, n)| Reply::Array(vec![Reply::bulk(name), Reply::bulk(n.to_string())]))
        .collect();
    Reply::Array(vec![
        Reply::count(s.count),
        id_reply(first),
        id_reply(last),
        Reply::Array(consumers),
    ])
}

/// `[[id, consumer, idle-ms, deliveries], …]`
fn extended(group: &ConsumerGroup, query: &PendingQuery<'_>, now_ms: u64) -> Reply {
    let rows = group
        .pending_range(query, now_ms)
        .into_iter()
        .map(|e| {
            Reply::Array(vec![
                id_reply(e.id),
                Reply::bulk(e.consumer),
                Reply::count(e.idle_ms(now_ms)),
                Reply::count(e.delivery_count),
            ])
        })
        .collect();
    Reply::Array(rows)
}
