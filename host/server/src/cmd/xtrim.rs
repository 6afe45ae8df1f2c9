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
    let limits = ctx.shared.settings.node_limits();
    let removed = ctx
        .db()
        .write(&key, ctx.now_ms, |entry| entry.stream.trim(trim, limits))
        .unwrap_or(0);
    Ok(Reply::count(removed).into())
}
