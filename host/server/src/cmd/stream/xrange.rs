//! `XRANGE` and `XREVRANGE`: entries between two IDs, oldest or newest first.

use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{Stream, parse_range_end, parse_range_start};

use super::args::ReplySink;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::CmdError;

/// The `XRANGE` command.
pub const XRANGE: Command = Command {
    name: "xrange",
    arity: -4,
    flags: READONLY,
    keys: KEY1,
    categories: STREAM_READ,
    group: "stream",
    since: "5.0.0",
    summary: "Returns the messages from a stream within a range of IDs.",
    syntax: "key start end [COUNT count]",
    handler: xrange,
    subcommands: &[],
};

/// `XRANGE key start end [COUNT count]`
pub fn xrange(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    range(ctx, args, false)
}

/// The `XREVRANGE` command: [`XRANGE`] newest first, with the same arity, flags and keys.
pub const XREVRANGE: Command = Command {
    name: "xrevrange",
    summary: "Returns the messages from a stream within a range of IDs in reverse order.",
    syntax: "key end start [COUNT count]",
    handler: xrevrange,
    ..XRANGE
};

/// `XREVRANGE key end start [COUNT count]`
pub fn xrevrange(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    range(ctx, args, true)
}

fn range(ctx: &mut Ctx<'_>, args: &mut Args, rev: bool) -> CmdResult {
    let key = args.bytes()?;
    let (first, second) = (args.bytes()?, args.bytes()?);
    let (start_arg, end_arg) = if rev {
        (second, first)
    } else {
        (first, second)
    };
    let start = parse_range_start(&start_arg)?;
    let end = parse_range_end(&end_arg)?;
    let mut count = None;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("COUNT") {
            // Redis: a negative COUNT is 0, and COUNT 0 answers the null array.
            count = Some(usize::try_from(args.i64()?.max(0)).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError(crate::error::SYNTAX.into()));
        }
    }
    let mut entries = StreamEntries::new();
    let found = ctx.db().read_as(&key, ctx.now_ms, |stream: &Stream| {
        if count != Some(0) && start <= end {
            stream.range(start, end, count, rev, &mut ReplySink(&mut entries));
        }
    })?;
    // Redis looks the key up first: a missing key is an empty array even with COUNT 0.
    if found.is_some() && count == Some(0) {
        return Ok(Reply::NullArray.into());
    }
    Ok(Reply::Entries(entries).into())
}
