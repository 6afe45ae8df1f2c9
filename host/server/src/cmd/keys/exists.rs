//! `EXISTS`: counting the named keys that exist.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `EXISTS` command.
pub const EXISTS: Command = Command {
    name: "exists",
    arity: -2,
    flags: READONLY | FAST,
    keys: ALLKEYS,
    categories: KEYSPACE_READ,
    group: "generic",
    since: "1.0.0",
    summary: "Determines whether one or more keys exist.",
    syntax: "key [key ...]",
    handler: exists,
    subcommands: &[],
};

/// `EXISTS key [key ...]`: how many of the named keys exist (a key named twice counts twice).
pub fn exists(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let db = ctx.db();
    let mut found = 0usize;
    for key in args.rest() {
        let hit = db.exists(key, ctx.now_ms);
        ctx.count_lookup(hit);
        found += usize::from(hit);
    }
    Ok(Reply::count(found).into())
}
