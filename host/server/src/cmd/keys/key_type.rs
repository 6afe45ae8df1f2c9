//! `TYPE`: the type of value a key holds (always a stream in Sluice).

use sluice_resp::{Args, Reply};

use super::STREAM_TYPE;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `TYPE` command.
pub const TYPE: Command = Command {
    name: "type",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: KEYSPACE_READ,
    group: "generic",
    since: "1.0.0",
    summary: "Determines the type of value stored at a key.",
    syntax: "key",
    handler: type_,
    subcommands: &[],
};

/// `TYPE key`: `stream`, or `none` for a missing key.
pub fn type_(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let hit = ctx.db().exists(&key, ctx.now_ms);
    ctx.count_lookup(hit);
    let name = if hit { STREAM_TYPE } else { "none" };
    Ok(Reply::Simple(name.to_owned()).into())
}
