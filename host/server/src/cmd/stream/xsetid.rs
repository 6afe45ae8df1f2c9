//! `XSETID`: set a stream's last ID (and its counters), as replication and restores do.

use sluice_resp::{Args, Reply};
use sluice_streams::{Stream, StreamError, StreamId};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `XSETID` command.
pub const XSETID: Command = Command {
    name: "xsetid",
    arity: -3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "An internal command for replicating stream values.",
    syntax: "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
    handler: run,
    subcommands: &[],
};

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let id = StreamId::parse(&args.bytes()?, 0)?;
    let mut entries_added = None;
    let mut max_deleted = None;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("ENTRIESADDED") {
            let n = args.i64()?;
            entries_added = Some(
                u64::try_from(n)
                    .map_err(|_| CmdError(error::XSETID_ENTRIES_ADDED_NEGATIVE.into()))?,
            );
        } else if args.remaining() >= 2 && args.eat("MAXDELETEDID") {
            let max = StreamId::parse(&args.bytes()?, 0)?;
            // Redis checks this while parsing, before it looks the key up.
            if id < max {
                return Err(StreamError::SetIdMaxDeletedTooBig.into());
            }
            max_deleted = Some(max);
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let set = |stream: &mut Stream| {
        stream.set_id(id, entries_added, max_deleted)?;
        ctx.journal(|rec| {
            let argc = 3
                + 2 * usize::from(entries_added.is_some())
                + 2 * usize::from(max_deleted.is_some());
            rec.begin(argc).arg(b"XSETID").arg(&key).id(id);
            if let Some(n) = entries_added {
                rec.arg(b"ENTRIESADDED").int(n);
            }
            if let Some(max) = max_deleted {
                rec.arg(b"MAXDELETEDID").id(max);
            }
        });
        Ok::<_, StreamError>(())
    };
    match ctx.db().write_as(&key, ctx.now_ms, set)? {
        Some(result) => {
            result?;
            Ok(Reply::Ok.into())
        }
        None => Err(CmdError(error::NO_SUCH_KEY.into())),
    }
}
