//! `XDEL`: flag entries deleted.

use sluice_resp::{Args, Reply};
use sluice_streams::StreamId;

use super::{CmdResult, Ctx};

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
        .write(&key, ctx.now_ms, |entry| entry.stream.delete(&ids))
        .unwrap_or(0);
    Ok(Reply::count(deleted).into())
}
