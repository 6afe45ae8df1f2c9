//! `OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP`: how a key's value is represented,
//! and its access clock.
//!
//! `ENCODING` names the representation as Redis 7.2 would hold the same value (`int`,
//! `embstr`, `raw`, `listpack`, `quicklist`, `intset`, `hashtable`, `stream`). `IDLETIME`
//! (seconds since the last access) answers under every policy but the LFU ones, `FREQ` (the
//! logarithmic access counter) only under those, as in Redis; neither counts as an access.
//! Values are never shared, so `REFCOUNT` is 1.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use sluice_broker::keyspace::access;

use crate::cmd::{CmdResult, Command, Ctx, container};
use crate::error::{self, CmdError};

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
    subcommands: &[ENCODING, FREQ, IDLETIME, REFCOUNT, HELP],
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

const IDLETIME: Command = Command {
    name: "idletime",
    arity: 3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: &["keyspace", "read", "slow"],
    group: "generic",
    since: "2.2.3",
    summary: "Returns the time since the last access to a Redis object.",
    syntax: "key",
    handler: idletime,
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

/// `OBJECT ENCODING key`: nil for a missing key.
pub fn encoding(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let name = ctx.db().peek(&key, ctx.now_ms, |value, _| value.encoding());
    Ok(name.map_or(Reply::Null, Reply::bulk_static).into())
}

/// `OBJECT FREQ key`: the key's LFU counter, decayed to now; nil for a missing key; an
/// error unless an LFU policy is set.
pub fn freq(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let Some(clock) = ctx.db().clock(&key, ctx.now_ms) else {
        return Ok(Reply::Null.into());
    };
    let settings = &ctx.shared.broker.keyspace.eviction;
    if !settings.policy().is_lfu() {
        return Err(CmdError(error::OBJECT_NO_LFU.into()));
    }
    Ok(Reply::Int(settings.lfu_count(clock, ctx.now_ms).into()).into())
}

/// `OBJECT IDLETIME key`: seconds since the last access; nil for a missing key; an error
/// under an LFU policy.
pub fn idletime(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let Some(clock) = ctx.db().clock(&key, ctx.now_ms) else {
        return Ok(Reply::Null.into());
    };
    if ctx.shared.broker.keyspace.eviction.policy().is_lfu() {
        return Err(CmdError(error::OBJECT_LFU_NO_IDLETIME.into()));
    }
    let seconds = access::idle_ms(clock, ctx.now_ms) / 1000;
    Ok(Reply::Int(i64::try_from(seconds).unwrap_or(i64::MAX)).into())
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
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
    .into())
}
