//! `RENAME`: moving a stream, with its expiry, to another key.

use bytes::Bytes;
use sluice_resp::Args;

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `RENAME` command.
pub const RENAME: Command = Command {
    name: "rename",
    arity: 3,
    flags: WRITE | EXCLUSIVE,
    keys: (1, 2, 1),
    categories: KEYSPACE_WRITE_SLOW,
    group: "generic",
    since: "1.0.0",
    summary: "Renames a key and overwrites the destination.",
    syntax: "key newkey",
    handler: rename,
    subcommands: &[],
};

/// `RENAME key newkey`: moves the stream and its expiry to `newkey`, replacing whatever was
/// there. Runs with the keyspace gate held exclusively, so the move is one step for everyone.
pub fn rename(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let newkey: Bytes = args.bytes()?;
    let db = ctx.db();
    // Redis checks the source first: renaming a missing key onto itself is still an error.
    if key == newkey {
        return if db.exists(&key, ctx.now_ms) {
            ok()
        } else {
            Err(no_such_key())
        };
    }
    let entry = db.take(&key, ctx.now_ms).ok_or_else(no_such_key)?;
    db.put(&newkey, entry, ctx.now_ms);
    ctx.journal(|rec| {
        rec.command(&[b"RENAME", &key, &newkey]);
    });
    ctx.key_ready(&key);
    ctx.key_ready(&newkey);
    ok()
}

fn no_such_key() -> CmdError {
    CmdError(error::NO_SUCH_KEY.to_owned())
}
