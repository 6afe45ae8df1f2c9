//! Adding elements at either end: `LPUSH`, `RPUSH`, and `LPUSHX`/`RPUSHX`, which only add to
//! a list that exists.

use bytes::Bytes;
use sluice_broker::keyspace::list::List;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `LPUSH` command.
pub const LPUSH: Command = Command {
    name: "lpush",
    arity: -3,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "1.0.0",
    summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
    syntax: "key element [element ...]",
    handler: lpush,
    subcommands: &[],
};

/// The `RPUSH` command.
pub const RPUSH: Command = Command {
    name: "rpush",
    arity: -3,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "1.0.0",
    summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.",
    syntax: "key element [element ...]",
    handler: rpush,
    subcommands: &[],
};

/// The `LPUSHX` command.
pub const LPUSHX: Command = Command {
    name: "lpushx",
    arity: -3,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "2.2.0",
    summary: "Prepends one or more elements to a list only when the list exists.",
    syntax: "key element [element ...]",
    handler: lpushx,
    subcommands: &[],
};

/// The `RPUSHX` command.
pub const RPUSHX: Command = Command {
    name: "rpushx",
    arity: -3,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "2.2.0",
    summary: "Appends an element to a list only when the list exists.",
    syntax: "key element [element ...]",
    handler: rpushx,
    subcommands: &[],
};

/// `LPUSH key element [element ...]`: the list's new length.
pub fn lpush(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    push(ctx, args, true, true)
}

/// `RPUSH key element [element ...]`: the list's new length.
pub fn rpush(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    push(ctx, args, false, true)
}

/// `LPUSHX key element [element ...]`: the new length, 0 (and nothing added) without a list.
pub fn lpushx(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    push(ctx, args, true, false)
}

/// `RPUSHX key element [element ...]`: the new length, 0 (and nothing added) without a list.
pub fn rpushx(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    push(ctx, args, false, false)
}

/// Pushes the remaining arguments one by one at the head (`left`) or the tail, creating the
/// list if `create`.
fn push(ctx: &mut Ctx<'_>, args: &mut Args, left: bool, create: bool) -> CmdResult {
    let key = args.bytes()?;
    let elements = args.rest();
    let add = |list: &mut List| {
        list.push_all(elements, left);
        // Logged under the key's lock, so the log keeps the order of changes to it.
        ctx.journal(|rec| log_push(rec, &key, left, elements));
        list.len()
    };
    let db = ctx.db();
    let len = if create {
        Some(db.write_or_create_as(&key, ctx.now_ms, |list: &mut List, _| add(list))?)
    } else {
        db.write_as(&key, ctx.now_ms, add)?
    };
    let Some(len) = len else {
        return Ok(Reply::Int(0).into());
    };
    ctx.key_ready(&key);
    Ok(Reply::count(len).into())
}

/// Logs `LPUSH`/`RPUSH key element …`.
pub fn log_push(
    rec: &mut sluice_broker::persist::Record,
    key: &[u8],
    left: bool,
    elements: &[Bytes],
) {
    rec.begin(2 + elements.len())
        .arg(if left { b"LPUSH" } else { b"RPUSH" })
        .arg(key);
    for element in elements {
        rec.arg(element);
    }
}
