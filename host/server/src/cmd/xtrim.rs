//! `XTRIM`: drop the oldest entries by length or by ID.

use sluice_resp::{Args, Reply};

use super::stream_args::parse_add_or_trim;
use super::{CmdResult, Ctx};
use crate::error::CmdError;

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`: the number of entries removed.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let opts = parse_add_or_trim(args, false)?;
    let Some(trim) = opts.trim else {
        return Err(CmdError(crate::error::SYNTAX.into()));
    };
    let limits = ctx.shared.broker.settings.node_limits();
    let removed = ctx
        .db()
        .write(&key, ctx.now_ms, |entry| {
            let removed = entry.stream.trim(trim, limits);
            if removed > 0 {
                ctx.journal(|rec| super::xadd::log_trim(rec, &key, entry.stream.len()));
            }
            removed
        })
        .unwrap_or(0);
    Ok(Reply::count(removed).into())
}
