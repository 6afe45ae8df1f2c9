//! `XDELEX` (Redis 8.2): delete entries, choosing what happens to consumer-group references.

use sluice_resp::Args;
use sluice_streams::{DeleteResult, RefMode, Stream};

use super::args::{codes_reply, log_verbatim, parse_ids_block};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `XDELEX` command.
pub const XDELEX: Command = Command {
    name: "xdelex",
    arity: -5,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "8.2.0",
    summary: "Deletes one or multiple entries from the stream.",
    syntax: "key [KEEPREF|DELREF|ACKED] IDS numids id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id …`: per ID `1` deleted, `-1` no such
/// entry (every ID when the key is missing), `2` kept by ACKED because a group still needs it.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // The request as sent, for the log.
    let all = args.all();
    let key = args.bytes()?;
    let (mode, ids) = parse_ids_block(args)?;
    let codes = ctx.db().write_as(&key, ctx.now_ms, |stream: &mut Stream| {
        let groups = stream.group_count();
        let results = stream.delete_ex(&ids, mode);
        let changed =
            results.contains(&DeleteResult::Deleted) || (mode == RefMode::DelRef && groups > 0);
        if changed {
            ctx.journal(|rec| log_verbatim(rec, all));
        }
        results
    })?;
    Ok(match codes {
        Some(results) => codes_reply(results.iter().map(|r| r.code())),
        None => codes_reply(ids.iter().map(|_| DeleteResult::NotFound.code())),
    }
    .into())
}
