//! `SLUICE IDMPRECORD`: how an XADD's idempotency record is logged and replayed — with the
//! server time it was added at, since the window follows the clock (`cmd/stream/idmp.rs`).

use sluice_resp::{Args, Reply};
use sluice_streams::{Stream, StreamId};

use super::SLUICE_GROUP_WRITE;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

pub(super) const IDMPRECORD: Command = Command {
    name: "idmprecord",
    arity: 7,
    flags: WRITE,
    keys: SUB_KEY,
    categories: SLUICE_GROUP_WRITE,
    group: "stream",
    since: "0.1.0",
    summary: "Records that a producer's idempotent ID added an entry at a time (log replay).",
    syntax: "key pid iid id time-ms",
    handler: run,
    subcommands: &[],
};

/// `SLUICE IDMPRECORD key pid iid id time-ms`: OK; the stream must exist.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let pid = args.bytes()?;
    let iid = args.bytes()?;
    let id = StreamId::parse(&args.bytes()?, 0)?;
    let added_ms = args.u64_or(error::NOT_INTEGER)?;
    let defaults = ctx.shared.broker.settings.idmp_defaults();
    ctx.db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            stream.idmp_record(&pid, &iid, id, added_ms, defaults);
            ctx.journal(|rec| {
                crate::cmd::stream::idmp::log_record(rec, &key, &pid, &iid, id, added_ms);
            });
        })?
        .ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))?;
    Ok(Reply::Ok.into())
}
