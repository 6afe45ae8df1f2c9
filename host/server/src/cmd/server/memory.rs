//! `MEMORY USAGE | HELP`: how many bytes a key and its value take (what `redis-cli --memkeys`
//! asks for every key).
//!
//! The figure is Sluice's estimate for the key — its table slot, its name and value on the
//! heap — the same accounting as `used_memory`; it is not Redis's allocator-level count.

use sluice_resp::{Args, Reply};

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container};
use crate::error::{self, CmdError};

/// The `MEMORY` container.
pub const MEMORY: Command = Command {
    name: "memory",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &["slow"],
    group: "server",
    since: "4.0.0",
    summary: "A container for memory diagnostics commands.",
    syntax: "",
    handler: container,
    subcommands: &[USAGE, HELP],
};

const USAGE: Command = Command {
    name: "usage",
    arity: -3,
    flags: READONLY,
    keys: SUB_KEY,
    categories: &["read", "slow"],
    group: "server",
    since: "4.0.0",
    summary: "Estimates the memory usage of a key.",
    syntax: "key [SAMPLES count]",
    handler: usage,
    subcommands: &[],
};

const HELP: Command = help_command(&["slow"], "server", "4.0.0", help);

/// `MEMORY USAGE key [SAMPLES count]`: bytes, or nil for a missing key. Every element is
/// counted, whatever `SAMPLES` says.
pub fn usage(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    while let Some(option) = args.next_arg() {
        if option.eq_ignore_ascii_case(b"SAMPLES") {
            args.i64()?;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let bytes = ctx.db().memory_of(&key, ctx.now_ms);
    Ok(bytes.map_or(Reply::Null, Reply::count).into())
}

/// `MEMORY HELP`
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
    .into())
}
