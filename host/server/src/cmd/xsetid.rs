//! `XSETID`: set a stream's last ID (and its counters), as replication and restores do.

use sluice_resp::{Args, Reply};
use sluice_streams::{StreamError, StreamId};

use super::{CmdResult, Ctx};
use crate::error::{self, CmdError};

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
                u64::try_from(n).map_err(|_| CmdError::err("entries_added must be positive"))?,
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
    match ctx.db().write(&key, ctx.now_ms, |entry| {
        entry.stream.set_id(id, entries_added, max_deleted)
    }) {
        Some(result) => {
            result?;
            Ok(Reply::Ok.into())
        }
        None => Err(CmdError(error::NO_SUCH_KEY.into())),
    }
}
