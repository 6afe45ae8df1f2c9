//! Reading a set: its members (`SMEMBERS`), membership (`SISMEMBER`, `SMISMEMBER`) and size
//! (`SCARD`). A missing key reads as an empty set.

use bytes::Bytes;
use sluice_broker::keyspace::WrongType;
use sluice_broker::keyspace::set::Set;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `SMEMBERS` command.
pub const SMEMBERS: Command = Command {
    name: "smembers",
    arity: 2,
    flags: READONLY | TIP_UNORDERED,
    keys: KEY1,
    categories: SET_READ_SLOW,
    group: "set",
    since: "1.0.0",
    summary: "Returns all members of a set.",
    syntax: "key",
    handler: smembers,
    subcommands: &[],
};

/// The `SISMEMBER` command.
pub const SISMEMBER: Command = Command {
    name: "sismember",
    arity: 3,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: SET_READ,
    group: "set",
    since: "1.0.0",
    summary: "Determines whether a member belongs to a set.",
    syntax: "key member",
    handler: sismember,
    subcommands: &[],
};

/// The `SMISMEMBER` command.
pub const SMISMEMBER: Command = Command {
    name: "smismember",
    arity: -3,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: SET_READ,
    group: "set",
    since: "6.2.0",
    summary: "Determines whether multiple members belong to a set.",
    syntax: "key member [member ...]",
    handler: smismember,
    subcommands: &[],
};

/// The `SCARD` command.
pub const SCARD: Command = Command {
    name: "scard",
    arity: 2,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: SET_READ,
    group: "set",
    since: "1.0.0",
    summary: "Returns the number of members in a set.",
    syntax: "key",
    handler: scard,
    subcommands: &[],
};

/// Runs `f` on the set at `key` (`None` if missing), counting the lookup for `INFO`.
pub(super) fn read_set<R>(
    ctx: &Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&Set) -> R,
) -> Result<Option<R>, WrongType> {
    let result = ctx.db().read_as(key, ctx.now_ms, f);
    ctx.count_lookup(!matches!(result, Ok(None)));
    result
}

/// The members of `set` in its order, as replies.
pub(super) fn member_replies(set: &Set) -> Vec<Reply> {
    set.iter().map(Reply::bulk).collect()
}

/// `SMEMBERS key`: every member, a set in RESP3 (an array in RESP2).
pub fn smembers(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let members = read_set(ctx, &key, member_replies)?;
    Ok(Reply::Set(members.unwrap_or_default()).into())
}

/// `SISMEMBER key member`: 1 if it is a member.
pub fn sismember(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let member = args.bytes()?;
    let found = read_set(ctx, &key, |s| s.contains(&member))?;
    Ok(Reply::Int(i64::from(found.unwrap_or(false))).into())
}

/// `SMISMEMBER key member [member ...]`: 1 or 0 for each.
pub fn smismember(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let members: Vec<Bytes> = args.rest().to_vec();
    let found = read_set(ctx, &key, |s| {
        members
            .iter()
            .map(|m| Reply::Int(i64::from(s.contains(m))))
            .collect()
    })?;
    Ok(Reply::Array(found.unwrap_or_else(|| vec![Reply::Int(0); members.len()])).into())
}

/// `SCARD key`: the number of members.
pub fn scard(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let len = read_set(ctx, &key, Set::len)?;
    Ok(Reply::count(len.unwrap_or(0)).into())
}
