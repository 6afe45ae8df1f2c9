//! `COPY source destination [DB destination-db] [REPLACE]`: a deep copy of a key's value and
//! deadline, into the same or another database.

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `COPY` command.
pub const COPY: Command = Command {
    name: "copy",
    arity: -3,
    flags: WRITE | DENYOOM | EXCLUSIVE,
    keys: (1, 2, 1),
    categories: KEYSPACE_WRITE_SLOW,
    group: "generic",
    since: "6.2.0",
    summary: "Copies the value of a key to a new key.",
    syntax: "source destination [DB destination-db] [REPLACE]",
    handler: copy,
    subcommands: &[],
};

/// `COPY source destination [DB n] [REPLACE]`: 1 if copied, 0 if the source is missing or the
/// destination exists (without `REPLACE`). Runs with the keyspace to itself.
pub fn copy(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let source = args.bytes()?;
    let destination: Bytes = args.bytes()?;
    let mut target_db = ctx.client.db;
    let mut replace = false;
    while let Some(option) = args.next_arg() {
        if option.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"DB") {
            let n = args.i64()?;
            target_db = usize::try_from(n)
                .ok()
                .filter(|&n| n < ctx.shared.broker.keyspace.len())
                .ok_or_else(|| CmdError(error::DB_INDEX_OUT_OF_RANGE.into()))?;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    if target_db == ctx.client.db && source == destination {
        return Err(CmdError(error::COPY_SAME_OBJECT.into()));
    }
    let now = ctx.now_ms;
    let Some(entry) = ctx.db().copy_entry(&source, now) else {
        return Ok(Reply::Int(0).into());
    };
    let target = ctx.shared.broker.keyspace.db(target_db);
    if !replace && target.exists(&destination, now) {
        return Ok(Reply::Int(0).into());
    }
    target.put(&destination, entry, now);
    ctx.journal(|rec| {
        rec.begin(6)
            .arg(b"COPY")
            .arg(&source)
            .arg(&destination)
            .arg(b"DB")
            .int(target_db as u64)
            .arg(b"REPLACE");
    });
    if target_db == ctx.client.db {
        ctx.key_ready(&destination);
    } else {
        ctx.client.ready.push(target_db, &destination);
    }
    Ok(Reply::Int(1).into())
}
