//! `XACK`: acknowledging pending entries of a consumer group.

use sluice_resp::{Args, Reply};
use sluice_streams::{Stream, StreamId};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::CmdError;

/// The `XACK` command.
pub const XACK: Command = Command {
    name: "xack",
    arity: -4,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
    syntax: "key group id [id ...]",
    handler: run,
    subcommands: &[],
};

/// `XACK key group id [id …]`: how many of the IDs were pending. A missing key or group
/// acknowledges nothing (0, not an error, and before the IDs are looked at, as in Redis);
/// otherwise every ID is parsed before any is acknowledged, so a bad ID acknowledges none.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let raw_ids = args.rest();
    let acked = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let raw_group = &group;
            let Some(group) = stream.group_mut(&group) else {
                return Ok(0);
            };
            let ids = raw_ids
                .iter()
                .map(|a| StreamId::parse(a, 0))
                .collect::<Result<Vec<_>, _>>()?;
            let acked = group.ack(&ids);
            if acked > 0 {
                ctx.journal(|rec| {
                    rec.begin(3 + ids.len())
                        .arg(b"XACK")
                        .arg(&key)
                        .arg(&*raw_group);
                    for id in &ids {
                        rec.id(*id);
                    }
                });
            }
            Ok::<_, CmdError>(acked)
        })?
        .unwrap_or(Ok(0))?;
    Ok(Reply::count(acked).into())
}
