//! `XLEN`: how many entries a stream holds.

use sluice_resp::{Args, Reply};
use sluice_streams::Stream;

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `XLEN` command.
pub const XLEN: Command = Command {
    name: "xlen",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: &["read", "stream", "fast"],
    group: "stream",
    since: "5.0.0",
    summary: "Return the number of messages in a stream.",
    syntax: "key",
    handler: run,
    subcommands: &[],
};

/// `XLEN key`: 0 for a missing key.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let len = ctx
        .db()
        .read_as(&key, ctx.now_ms, |stream: &Stream| stream.len())?
        .unwrap_or(0);
    Ok(Reply::count(len).into())
}
