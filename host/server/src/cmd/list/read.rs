//! Reading a list without changing it: `LRANGE`, `LLEN`, `LINDEX`, and `LPOS`, which finds
//! elements by value.

use sluice_broker::keyspace::list::List;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `LRANGE` command.
pub const LRANGE: Command = Command {
    name: "lrange",
    arity: 4,
    flags: READONLY,
    keys: KEY1,
    categories: LIST_READ_SLOW,
    group: "list",
    since: "1.0.0",
    summary: "Returns a range of elements from a list.",
    syntax: "key start stop",
    handler: lrange,
    subcommands: &[],
};

/// The `LLEN` command.
pub const LLEN: Command = Command {
    name: "llen",
    arity: 2,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: LIST_READ,
    group: "list",
    since: "1.0.0",
    summary: "Returns the length of a list.",
    syntax: "key",
    handler: llen,
    subcommands: &[],
};

/// The `LINDEX` command.
pub const LINDEX: Command = Command {
    name: "lindex",
    arity: 3,
    flags: READONLY,
    keys: KEY1,
    categories: LIST_READ_SLOW,
    group: "list",
    since: "1.0.0",
    summary: "Returns an element from a list by its index.",
    syntax: "key index",
    handler: lindex,
    subcommands: &[],
};

/// The `LPOS` command.
pub const LPOS: Command = Command {
    name: "lpos",
    arity: -3,
    flags: READONLY,
    keys: KEY1,
    categories: LIST_READ_SLOW,
    group: "list",
    since: "6.0.6",
    summary: "Returns the index of matching elements in a list.",
    syntax: "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
    handler: lpos,
    subcommands: &[],
};

/// `LRANGE key start stop`: the elements from `start` to `stop` inclusive (negative indexes
/// count from the tail); an empty array without a list.
pub fn lrange(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let (start, stop) = (args.i64()?, args.i64()?);
    let range = ctx.db().read_as(&key, ctx.now_ms, |list: &List| {
        let Some((from, to)) = list.resolve_range(start, stop) else {
            return Vec::new();
        };
        list.iter()
            .skip(from)
            .take(to - from)
            .map(Reply::bulk)
            .collect()
    })?;
    ctx.count_lookup(range.is_some());
    Ok(Reply::Array(range.unwrap_or_default()).into())
}

/// `LLEN key`: the number of elements, 0 without a list.
pub fn llen(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let len = ctx.db().read_as(&key, ctx.now_ms, List::len)?;
    ctx.count_lookup(len.is_some());
    Ok(Reply::count(len.unwrap_or(0)).into())
}

/// `LINDEX key index`: the element at `index` (negative counts from the tail), nil if there
/// is none. The key is looked up before the index is read, as Redis does.
pub fn lindex(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let index = args.bytes()?;
    let found = ctx
        .db()
        .read_as(&key, ctx.now_ms, |list: &List| -> Result<_, CmdError> {
            let index = sluice_resp::request::parse_i64(&index)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            Ok(list
                .resolve_index(index)
                .and_then(|i| list.get(i))
                .map(Reply::bulk))
        })?;
    ctx.count_lookup(found.is_some());
    Ok(found.transpose()?.flatten().unwrap_or(Reply::Null).into())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`: the index of the first
/// match (nil if none), or with `COUNT` an array of up to that many (0: all).
pub fn lpos(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let element = args.bytes()?;
    let (mut rank, mut count, mut maxlen) = (1, None, 0);
    // Each option needs its value; a later one wins; the first bad value is the reply.
    while !args.is_empty() {
        let has_value = args.remaining() > 1;
        if has_value && args.eat("RANK") {
            rank = lpos_rank(&args.bytes()?)?;
        } else if has_value && args.eat("COUNT") {
            count = Some(non_negative(&args.bytes()?, error::LPOS_COUNT_NEGATIVE)?);
        } else if has_value && args.eat("MAXLEN") {
            maxlen = non_negative(&args.bytes()?, error::LPOS_MAXLEN_NEGATIVE)?;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let found = ctx.db().read_as(&key, ctx.now_ms, |list: &List| {
        list.positions(&element, rank, count.unwrap_or(1), maxlen)
    })?;
    ctx.count_lookup(found.is_some());
    let found = found.unwrap_or_default();
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::count).collect()),
        None => found.first().map_or(Reply::Null, |&i| Reply::count(i)),
    }
    .into())
}

/// `LPOS`'s rank: any integer but 0 and `i64::MIN` (whose opposite does not exist).
fn lpos_rank(arg: &[u8]) -> Result<i64, CmdError> {
    let rank =
        sluice_resp::request::parse_i64(arg).ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
    match rank {
        0 => Err(CmdError(error::LPOS_RANK_ZERO.into())),
        i64::MIN => Err(CmdError(error::NOT_NEGATABLE.into())),
        rank => Ok(rank),
    }
}

/// A count or length ≥ 0; anything else (not a number included) is `text`.
fn non_negative(arg: &[u8], text: &str) -> Result<usize, CmdError> {
    sluice_resp::request::parse_i64(arg)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| CmdError(text.into()))
}
