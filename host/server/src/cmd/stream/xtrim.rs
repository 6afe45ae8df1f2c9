//! `XTRIM`: drop the oldest entries by length or by ID.

use sluice_resp::{Args, Reply};
use sluice_streams::Stream;

use super::args::parse_add_or_trim;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::CmdError;

/// The `XTRIM` command.
pub const XTRIM: Command = Command {
    name: "xtrim",
    arity: -4,
    flags: WRITE,
    keys: KEY1,
    categories: &["write", "stream", "slow"],
    group: "stream",
    since: "5.0.0",
    summary: "Deletes messages from the beginning of a stream.",
    syntax: "key MAXLEN|MINID [=|~] threshold [LIMIT count] [KEEPREF|DELREF|ACKED]",
    handler: run,
    subcommands: &[],
};

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] [KEEPREF|DELREF|ACKED]`: the number
/// of entries removed.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let opts = parse_add_or_trim(args, false)?;
    let Some(trim) = opts.trim else {
        return Err(CmdError(crate::error::SYNTAX.into()));
    };
    let limits = ctx.shared.broker.settings.node_limits();
    let removed = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let removed = stream.trim_with(trim, limits, opts.mode);
            if removed > 0 {
                ctx.journal(|rec| {
                    super::xadd::log_trim(rec, &key, stream, trim, opts.mode, limits);
                });
            }
            removed
        })?
        .unwrap_or(0);
    Ok(Reply::count(removed).into())
}
