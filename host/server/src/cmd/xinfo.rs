//! `XINFO STREAM` and `XINFO HELP`: what a stream holds.

use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{Stream, StreamId};

use super::stream_args::{ReplySink, id_reply};
use super::{CmdResult, Ctx};
use crate::error::{self, CmdError};

/// `XINFO STREAM key [FULL [COUNT count]]`
pub fn stream(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let mut full = None;
    if args.eat("FULL") {
        let mut count = 10;
        if args.remaining() >= 2 && args.eat("COUNT") {
            // COUNT 0 (or negative) means every entry.
            count = usize::try_from(args.i64()?).unwrap_or(0);
        }
        full = Some(count);
    }
    args.finish()?;
    ctx.db()
        .read(&key, ctx.now_ms, |entry| match full {
            Some(count) => full_info(&entry.stream, count),
            None => summary(&entry.stream),
        })
        .map(|reply| reply.into())
        .ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))
}

/// The fields every form starts with.
fn common(stream: &Stream) -> Vec<(Reply, Reply)> {
    // Sluice keeps a B-tree of packed nodes, not a radix tree: both figures report nodes.
    let nodes = Reply::count(stream.node_count());
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
    ]
}

fn summary(stream: &Stream) -> Reply {
    let mut fields = common(stream);
    fields.push((Reply::bulk_static("groups"), Reply::Int(0)));
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

fn full_info(stream: &Stream, count: usize) -> Reply {
    let mut fields = common(stream);
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
    fields.push((Reply::bulk_static("groups"), Reply::Array(Vec::new())));
    Reply::Map(fields)
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

/// `XINFO HELP`
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let lines = [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::Array(lines.iter().map(|l| Reply::Simple((*l).into())).collect()).into())
}
