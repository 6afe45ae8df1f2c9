//! `XNACK` (Redis 8.8): a consumer hands pending entries back to its group without
//! acknowledging them, so any consumer can claim them at once (`sluice_streams` `nack.rs`).
//!
//! The new state is logged as the entries' pending state (`persist::groups::pel_state`,
//! which writes NACKed entries as `XNACK … RETRYCOUNT … FORCE`), so replay rebuilds it.

use sluice_resp::{Args, Reply};
use sluice_streams::{NackMode, NackOptions, NoGroupWording, Stream, StreamError};

use crate::cmd::meta::*;
use crate::cmd::stream::args::parse_id_list;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};
use sluice_broker::persist::groups;

/// The `XNACK` command.
pub const XNACK: Command = Command {
    name: "xnack",
    arity: -7,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "8.8.0",
    summary: "Releases pending messages back to the group's PEL without acknowledging them, making them available for re-delivery.",
    syntax: "key group <SILENT | FAIL | FATAL> IDS numids id [id ...] [RETRYCOUNT count] [FORCE]",
    handler: run,
    subcommands: &[],
};

/// `XNACK key group SILENT|FAIL|FATAL IDS numids id [id …] [RETRYCOUNT count] [FORCE]`: how
/// many entries were released. Everything is parsed before anything changes.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let mode = if args.eat("SILENT") {
        NackMode::Silent
    } else if args.eat("FAIL") {
        NackMode::Fail
    } else if args.eat("FATAL") {
        NackMode::Fatal
    } else {
        return Err(CmdError(error::SYNTAX.into()));
    };
    if !args.eat("IDS") {
        return Err(CmdError(error::SYNTAX.into()));
    }
    let ids = parse_id_list(args)?;
    let mut opts = NackOptions::default();
    while !args.is_empty() {
        if args.remaining() > 1 && args.eat("RETRYCOUNT") {
            let n = u64::try_from(args.i64()?)
                .map_err(|_| CmdError(error::XNACK_RETRYCOUNT_NEGATIVE.into()))?;
            opts.retry_count = Some(n);
        } else if args.eat("FORCE") {
            opts.force = true;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let now_ms = ctx.now_ms;
    let released = ctx
        .db()
        .write_as(&key, now_ms, |stream: &mut Stream| {
            let released = stream.nack(&group, &ids, mode, opts, now_ms)?;
            if released > 0 {
                ctx.journal(|rec| groups::pel_state(rec, &key, &group, stream, ids.clone()));
            }
            Ok::<_, StreamError>(released)
        })?
        .unwrap_or(Err(StreamError::NoGroup))
        .map_err(|_| error::no_group(NoGroupWording::KeyOrGroup, &key, &group))?;
    if released > 0 {
        // NACKed entries are claimable at once: readers blocked with CLAIM get them now.
        ctx.key_ready(&key);
    }
    Ok(Reply::count(released).into())
}
