//! `SELECT`: choosing the connection's database.

use sluice_resp::Args;

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `SELECT` command.
pub const SELECT: Command = Command {
    name: "select",
    arity: 2,
    flags: LOADING | STALE | FAST,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "1.0.0",
    summary: "Changes the selected database.",
    syntax: "index",
    handler: select,
    subcommands: &[],
};

/// `SELECT index`.
pub fn select(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // Redis reads the index as a C int: anything wider is "not an integer".
    let index = i32::try_from(args.i64()?).map_err(|_| CmdError(error::NOT_C_INT.into()))?;
    let db = usize::try_from(index)
        .ok()
        .filter(|&db| db < ctx.shared.broker.keyspace.len())
        .ok_or_else(|| CmdError(error::DB_INDEX_OUT_OF_RANGE.into()))?;
    ctx.client.select(db);
    ok()
}
