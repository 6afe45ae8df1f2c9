//! `XACKDEL` (Redis 8.2): acknowledge entries in one group and delete them from the stream,
//! choosing what happens to the other groups' references.

use sluice_resp::Args;
use sluice_streams::{DeleteResult, Stream};

use crate::cmd::meta::*;
use crate::cmd::stream::args::{codes_reply, log_verbatim, parse_ids_block};
use crate::cmd::{CmdResult, Command, Ctx};

/// The `XACKDEL` command.
pub const XACKDEL: Command = Command {
    name: "xackdel",
    arity: -6,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "8.2.0",
    summary: "Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.",
    syntax: "key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id …`: per ID `1` acknowledged and
/// deleted, `2` acknowledged but kept by ACKED (another group still needs it), `-1` not
/// pending in the group (every ID when the key or the group is missing).
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // The request as sent, for the log.
    let all = args.all();
    let key = args.bytes()?;
    let group = args.bytes()?;
    let (mode, ids) = parse_ids_block(args)?;
    let codes = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let results = stream.ack_delete(&group, &ids, mode).ok()?;
            if results.iter().any(|r| *r != DeleteResult::NotFound) {
                ctx.journal(|rec| log_verbatim(rec, all));
            }
            Some(results)
        })?
        .flatten();
    Ok(match codes {
        Some(results) => codes_reply(results.iter().map(|r| r.code())),
        None => codes_reply(ids.iter().map(|_| DeleteResult::NotFound.code())),
    }
    .into())
}
