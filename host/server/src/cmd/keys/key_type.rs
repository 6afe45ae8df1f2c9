//! `TYPE`: the type of value a key holds (always a stream in Sluice).

use sluice_resp::{Args, Reply};

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

/// `TYPE key`: `string`, `list`, `set`, `hash` or `stream`, or `none` for a missing key.
pub fn type_(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let name = ctx.db().type_of(&key, ctx.now_ms);
    ctx.count_lookup(name.is_some());
    Ok(Reply::Simple(name.unwrap_or("none").to_owned()).into())
}
