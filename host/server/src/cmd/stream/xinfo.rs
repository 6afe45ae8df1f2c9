//! `XINFO STREAM | GROUPS | CONSUMERS | HELP`: what a stream holds, its consumer groups and
//! their consumers, laid out as Redis 7.2 lays them out (maps in RESP3, flat arrays in RESP2).

use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{ConsumerGroup, GroupInfo, IdmpConfig, NoGroupWording, Stream, StreamId};

use super::args::{ReplySink, id_reply};
use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container};
use crate::error::{self, CmdError};

/// The `XINFO` container.
pub const XINFO: Command = Command {
    name: "xinfo",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &[],
    group: "stream",
    since: "5.0.0",
    summary: "A container for stream introspection commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// `XINFO`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[STREAM, GROUPS, CONSUMERS, HELP];

const STREAM: Command = Command {
    name: "stream",
    arity: -3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: STREAM_READ,
    group: "stream",
    since: "5.0.0",
    summary: "Returns information about a stream.",
    syntax: "key [FULL [COUNT count]]",
    handler: stream,
    subcommands: &[],
};

/// `XINFO STREAM key [FULL [COUNT count]]`. As in Redis, the key is looked up before the
/// options are read, and bad options get the subcommand syntax error.
pub fn stream(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let full = full_option(args);
    let idmp = ctx.shared.broker.settings.idmp_defaults();
    let now = ctx.now_ms;
    let reply = ctx
        .db()
        .read_as(&key, ctx.now_ms, |stream: &Stream| match &full {
            Ok(Some(count)) => Ok(full_info(stream, *count, common(stream, now, idmp))),
            Ok(None) => Ok(summary(stream, common(stream, now, idmp))),
            Err(e) => Err(e.clone()),
        })?;
    match reply {
        Some(reply) => Ok(reply?.into()),
        None => Err(CmdError(error::NO_SUCH_KEY.into())),
    }
}

/// `[FULL [COUNT count]]`: `None` for the summary, else how many entries and pending entries
/// `FULL` shows (0: all; a negative count means the default, 10).
fn full_option(args: &mut Args) -> Result<Option<usize>, CmdError> {
    const DEFAULT_COUNT: usize = 10;
    let sub = args.all().get(1).cloned().unwrap_or_default();
    let syntax = || error::subcommand_syntax("xinfo", &sub);
    match args.rest() {
        [] => Ok(None),
        [full] if full.eq_ignore_ascii_case(b"FULL") => Ok(Some(DEFAULT_COUNT)),
        [full, count, n]
            if full.eq_ignore_ascii_case(b"FULL") && count.eq_ignore_ascii_case(b"COUNT") =>
        {
            let n = sluice_resp::request::parse_i64(n)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            Ok(Some(usize::try_from(n).unwrap_or(DEFAULT_COUNT)))
        }
        _ => Err(syntax()),
    }
}

/// The fields every form starts with, the idempotency ones (Redis 8.6) last.
fn common(stream: &Stream, now_ms: u64, defaults: IdmpConfig) -> Vec<(Reply, Reply)> {
    // Sluice keeps a B-tree of packed nodes, not a radix tree: both figures report nodes.
    let nodes = Reply::count(stream.node_count());
    let idmp = stream.idmp_info(now_ms, defaults);
    vec![
        (Reply::bulk_static("length"), Reply::count(stream.len())),
        (Reply::bulk_static("radix-tree-keys"), nodes.clone()),
        (Reply::bulk_static("radix-tree-nodes"), nodes),
        (
            Reply::bulk_static("last-generated-id"),
            id_reply(stream.last_id()),
        ),
        (
            Reply::bulk_static("max-deleted-entry-id"),
            id_reply(stream.max_deleted_entry_id()),
        ),
        (
            Reply::bulk_static("entries-added"),
            Reply::count(stream.entries_added()),
        ),
        (
            Reply::bulk_static("recorded-first-entry-id"),
            id_reply(stream.first_id().unwrap_or(StreamId::MIN)),
        ),
        (
            Reply::bulk_static("idmp-duration"),
            Reply::count(idmp.duration_s),
        ),
        (
            Reply::bulk_static("idmp-maxsize"),
            Reply::count(idmp.maxsize),
        ),
        (
            Reply::bulk_static("pids-tracked"),
            Reply::count(idmp.pids_tracked),
        ),
        (
            Reply::bulk_static("iids-tracked"),
            Reply::count(idmp.iids_tracked),
        ),
        (
            Reply::bulk_static("iids-added"),
            Reply::count(idmp.iids_added),
        ),
        (
            Reply::bulk_static("iids-duplicates"),
            Reply::count(idmp.iids_duplicates),
        ),
    ]
}

fn summary(stream: &Stream, mut fields: Vec<(Reply, Reply)>) -> Reply {
    fields.push((
        Reply::bulk_static("groups"),
        Reply::count(stream.group_count()),
    ));
    fields.push((
        Reply::bulk_static("first-entry"),
        one_entry(|sink| stream.first_entry(sink)),
    ));
    fields.push((
        Reply::bulk_static("last-entry"),
        one_entry(|sink| stream.last_entry(sink)),
    ));
    Reply::Map(fields)
}

fn full_info(stream: &Stream, count: usize, mut fields: Vec<(Reply, Reply)>) -> Reply {
    let mut entries = StreamEntries::new();
    let limit = (count > 0).then_some(count);
    stream.range(
        StreamId::MIN,
        StreamId::MAX,
        limit,
        false,
        &mut ReplySink(&mut entries),
    );
    fields.push((Reply::bulk_static("entries"), Reply::Entries(entries)));
    let groups = stream
        .group_infos()
        .filter_map(|info| {
            let group = stream.group(info.name)?;
            Some(full_group(&info, group, limit))
        })
        .collect();
    fields.push((Reply::bulk_static("groups"), Reply::Array(groups)));
    Reply::Map(fields)
}

/// One group of `XINFO STREAM FULL`: its figures, its first `limit` pending entries and its
/// consumers, each with its first `limit` pending entries (`None` = all).
fn full_group(info: &GroupInfo<'_>, group: &ConsumerGroup, limit: Option<usize>) -> Reply {
    let take = limit.unwrap_or(usize::MAX);
    let pending = group
        .pending_entries()
        .take(take)
        .map(|e| {
            Reply::Array(vec![
                id_reply(e.id),
                Reply::bulk(e.consumer),
                Reply::count(e.delivery_time_ms),
                Reply::count(e.delivery_count),
            ])
        })
        .collect();
    let consumers = group
        .consumers()
        .map(|c| {
            let pending = group
                .consumer_pending(c)
                .take(take)
                .map(|e| {
                    Reply::Array(vec![
                        id_reply(e.id),
                        Reply::count(e.delivery_time_ms),
                        Reply::count(e.delivery_count),
                    ])
                })
                .collect();
            let active = c.active_time_ms().map_or(Reply::Int(-1), Reply::count);
            Reply::Map(vec![
                (Reply::bulk_static("name"), Reply::bulk(c.name())),
                (
                    Reply::bulk_static("seen-time"),
                    Reply::count(c.seen_time_ms()),
                ),
                (Reply::bulk_static("active-time"), active),
                (
                    Reply::bulk_static("pel-count"),
                    Reply::count(c.pending_count()),
                ),
                (Reply::bulk_static("pending"), Reply::Array(pending)),
            ])
        })
        .collect();
    Reply::Map(vec![
        (Reply::bulk_static("name"), Reply::bulk(info.name)),
        (
            Reply::bulk_static("last-delivered-id"),
            id_reply(info.last_delivered_id),
        ),
        (
            Reply::bulk_static("entries-read"),
            opt_count(info.entries_read),
        ),
        (
            Reply::bulk_static("lag"),
            info.lag.map_or(Reply::Null, Reply::Int),
        ),
        (Reply::bulk_static("pel-count"), Reply::count(info.pending)),
        // Redis 8.8: pending entries released by XNACK and not claimed since.
        (
            Reply::bulk_static("nacked-count"),
            Reply::count(group.nacked_count()),
        ),
        (Reply::bulk_static("pending"), Reply::Array(pending)),
        (Reply::bulk_static("consumers"), Reply::Array(consumers)),
    ])
}

/// An optional counter: the number, or nil.
fn opt_count(n: Option<u64>) -> Reply {
    n.map_or(Reply::Null, Reply::count)
}

const GROUPS: Command = Command {
    name: "groups",
    arity: 3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: STREAM_READ,
    group: "stream",
    since: "5.0.0",
    summary: "Returns a list of the consumer groups of a stream.",
    syntax: "key",
    handler: groups,
    subcommands: &[],
};

/// `XINFO GROUPS key`: every group of the stream, in name order.
pub fn groups(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    ctx.db()
        .read_as(&key, ctx.now_ms, |stream: &Stream| {
            let groups = stream
                .group_infos()
                .map(|g| {
                    Reply::Map(vec![
                        (Reply::bulk_static("name"), Reply::bulk(g.name)),
                        (Reply::bulk_static("consumers"), Reply::count(g.consumers)),
                        (Reply::bulk_static("pending"), Reply::count(g.pending)),
                        (
                            Reply::bulk_static("last-delivered-id"),
                            id_reply(g.last_delivered_id),
                        ),
                        (
                            Reply::bulk_static("entries-read"),
                            opt_count(g.entries_read),
                        ),
                        (
                            Reply::bulk_static("lag"),
                            g.lag.map_or(Reply::Null, Reply::Int),
                        ),
                    ])
                })
                .collect();
            Reply::Array(groups).into()
        })?
        .ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))
}

const CONSUMERS: Command = Command {
    name: "consumers",
    arity: 4,
    flags: READONLY,
    keys: SUB_KEY,
    categories: STREAM_READ,
    group: "stream",
    since: "5.0.0",
    summary: "Returns a list of the consumers in a consumer group.",
    syntax: "key group",
    handler: consumers,
    subcommands: &[],
};

/// `XINFO CONSUMERS key group`: the group's consumers in name order, with idle times
/// measured now.
pub fn consumers(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let now = ctx.now_ms;
    ctx.db()
        .read_as(&key, now, |stream: &Stream| {
            let Some(g) = stream.group(&group) else {
                return Err(error::no_group(NoGroupWording::GroupForKey, &key, &group));
            };
            let consumers = g
                .consumers()
                .map(|c| {
                    Reply::Map(vec![
                        (Reply::bulk_static("name"), Reply::bulk(c.name())),
                        (
                            Reply::bulk_static("pending"),
                            Reply::count(c.pending_count()),
                        ),
                        (Reply::bulk_static("idle"), Reply::count(c.idle_ms(now))),
                        (
                            Reply::bulk_static("inactive"),
                            Reply::Int(c.inactive_ms(now)),
                        ),
                    ])
                })
                .collect();
            Ok(Reply::Array(consumers).into())
        })?
        .ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))?
}

/// One entry as `[id, [field, value, …]]`, or null.
fn one_entry(read: impl FnOnce(&mut ReplySink<'_>) -> bool) -> Reply {
    let mut entries = StreamEntries::new();
    if !read(&mut ReplySink(&mut entries)) {
        return Reply::Null;
    }
    match entries.iter().next() {
        Some((ms, seq, Some(fields))) => Reply::Array(vec![
            id_reply(StreamId::new(ms, seq)),
            Reply::Array(fields.into_iter().map(Reply::bulk).collect()),
        ]),
        _ => Reply::Null,
    }
}

const HELP: Command = help_command(&["stream", "slow"], "stream", "5.0.0", help);

/// `XINFO HELP`
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "xinfo",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )
    .into())
}
