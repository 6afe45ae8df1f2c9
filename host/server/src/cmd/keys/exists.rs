//! `EXISTS` and `TOUCH`: counting the named keys that exist; `TOUCH` also records an access
//! to each (its idle time restarts, its LFU counter may grow), which `EXISTS` does not.

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

/// The `TOUCH` command.
pub const TOUCH: Command = Command {
    name: "touch",
    arity: -2,
    flags: READONLY | FAST,
    keys: ALLKEYS,
    categories: KEYSPACE_READ,
    group: "generic",
    since: "3.2.1",
    summary: "Returns the number of existing keys out of those specified after updating the \
              time they were last accessed.",
    syntax: "key [key ...]",
    handler: touch,
    subcommands: &[],
};

/// `EXISTS key [key ...]`: how many of the named keys exist (a key named twice counts twice).
pub fn exists(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    count(ctx, args, sluice_broker::keyspace::Db::exists)
}

/// `TOUCH key [key ...]`: as `EXISTS`, recording an access to each key.
pub fn touch(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    count(ctx, args, sluice_broker::keyspace::Db::touch)
}

fn count(
    ctx: &mut Ctx<'_>,
    args: &mut Args,
    found_by: fn(&sluice_broker::keyspace::Db, &[u8], u64) -> bool,
) -> CmdResult {
    let db = ctx.db();
    let mut found = 0usize;
    for key in args.rest() {
        let hit = found_by(db, key, ctx.now_ms);
        ctx.count_lookup(hit);
        found += usize::from(hit);
    }
    Ok(Reply::count(found).into())
}
