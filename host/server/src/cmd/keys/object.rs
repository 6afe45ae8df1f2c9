//! `OBJECT ENCODING | FREQ | REFCOUNT | HELP`: how a key's value is represented.
//!
//! `ENCODING` names the representation as Redis 7.2 would hold the same value (`int`,
//! `embstr`, `raw`, `listpack`, `quicklist`, `intset`, `hashtable`, `stream`). Sluice keeps no
//! access-frequency counters (its only eviction policy is `noeviction`), so `FREQ` answers as
//! Redis does under that policy; values are never shared, so `REFCOUNT` is 1.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container};
use crate::error::CmdError;

/// The `OBJECT` container.
pub const OBJECT: Command = Command {
    name: "object",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &["slow"],
    group: "generic",
    since: "2.2.3",
    summary: "A container for object introspection commands.",
    syntax: "",
    handler: container,
    subcommands: &[ENCODING, FREQ, REFCOUNT, HELP],
};

const ENCODING: Command = Command {
    name: "encoding",
    arity: 3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: KEYSPACE_READ_SLOW,
    group: "generic",
    since: "2.2.3",
    summary: "Returns the internal encoding of a Redis object.",
    syntax: "key",
    handler: encoding,
    subcommands: &[],
};

const FREQ: Command = Command {
    name: "freq",
    arity: 3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: KEYSPACE_READ_SLOW,
    group: "generic",
    since: "4.0.0",
    summary: "Returns the logarithmic access frequency counter of a Redis object.",
    syntax: "key",
    handler: freq,
    subcommands: &[],
};

const REFCOUNT: Command = Command {
    name: "refcount",
    arity: 3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: KEYSPACE_READ_SLOW,
    group: "generic",
    since: "2.2.3",
    summary: "Returns the reference count of a value of a key.",
    syntax: "key",
    handler: refcount,
    subcommands: &[],
};

const HELP: Command =
    crate::cmd::help::help_command(&["keyspace", "slow"], "generic", "6.2.0", help);

/// Redis's reply to `OBJECT FREQ` when no LFU policy is set.
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
Please note that when switching between policies at runtime LRU and LFU data will take some \
time to adjust.";

/// `OBJECT ENCODING key`: nil for a missing key.
pub fn encoding(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let name = ctx.db().read(&key, ctx.now_ms, |e| e.value.encoding());
    Ok(name.map_or(Reply::Null, Reply::bulk_static).into())
}

/// `OBJECT FREQ key`: nil for a missing key, else Redis's refusal under `noeviction`.
pub fn freq(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    if !ctx.db().exists(&key, ctx.now_ms) {
        return Ok(Reply::Null.into());
    }
    Err(CmdError(NO_LFU.into()))
}

/// `OBJECT REFCOUNT key`: 1, or nil for a missing key.
pub fn refcount(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let exists = ctx.db().exists(&key, ctx.now_ms);
    Ok(if exists { Reply::Int(1) } else { Reply::Null }.into())
}

/// `OBJECT HELP`
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(crate::cmd::help::help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
    .into())
}
