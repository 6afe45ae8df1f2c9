//! `XDEL`: flag entries deleted.

use sluice_resp::{Args, Reply};
use sluice_streams::{Stream, StreamId};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `XDEL` command.
pub const XDEL: Command = Command {
    name: "xdel",
    arity: -3,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Returns the number of messages after removing them from a stream.",
    syntax: "key id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XDEL key id [id …]`: the number of entries deleted. Every ID is parsed before anything
/// is deleted, so a bad ID deletes nothing.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let ids = args
        .rest()
        .iter()
        .map(|a| StreamId::parse(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let deleted = stream.delete(&ids);
            if deleted > 0 {
                ctx.journal(|rec| {
                    rec.begin(ids.len() + 2).arg(b"XDEL").arg(&key);
                    for id in &ids {
                        rec.id(*id);
                    }
                });
            }
            deleted
        })?
        .unwrap_or(0);
    Ok(Reply::count(deleted).into())
}
