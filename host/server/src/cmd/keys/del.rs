//! `DEL` and `UNLINK`: removing keys. Both run the same handler.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `DEL` command.
pub const DEL: Command = Command {
    name: "del",
    arity: -2,
    flags: WRITE | EXCLUSIVE,
    keys: ALLKEYS,
    categories: KEYSPACE_WRITE_SLOW,
    group: "generic",
    since: "1.0.0",
    summary: "Deletes one or more keys.",
    syntax: "key [key ...]",
    handler: del,
    subcommands: &[],
};

/// The `UNLINK` command: `DEL` under another name.
pub const UNLINK: Command = Command {
    name: "unlink",
    arity: -2,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: ALLKEYS,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "4.0.0",
    summary: "Asynchronously deletes one or more keys.",
    syntax: "key [key ...]",
    handler: del,
    subcommands: &[],
};

/// `DEL key [key ...]` and `UNLINK key [key ...]`: removes the keys; replies how many of them
/// existed (a key named twice counts once).
pub fn del(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let db = ctx.db();
    let mut removed = Vec::new();
    for key in args.rest() {
        if db.remove(key, ctx.now_ms) {
            removed.push(key);
        }
    }
    // DEL runs with the gate held exclusively, so logging after the removal keeps the order.
    if !removed.is_empty() {
        ctx.journal(|rec| {
            rec.begin(removed.len() + 1).arg(b"DEL");
            for key in &removed {
                rec.arg(key);
            }
        });
    }
    for key in removed.iter().copied() {
        ctx.key_ready(key);
    }
    Ok(Reply::count(removed.len()).into())
}
