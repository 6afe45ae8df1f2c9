//! `SAVE`, `BGSAVE`, `LASTSAVE` and `SHUTDOWN`: snapshots on request, and stopping cleanly.
//!
//! `SAVE`, `BGSAVE` and `SHUTDOWN` run with the keyspace gate held exclusively (their `EXCLUSIVE`
//! flag): a snapshot is a copy of the whole keyspace at one log position.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome};
use crate::error::{self, CmdError};
use sluice_broker::persist::snapshot;

/// The `SAVE` command.
pub const SAVE: Command = Command {
    name: "save",
    arity: 1,
    flags: ADMIN | NOSCRIPT | EXCLUSIVE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "1.0.0",
    summary: "Synchronously saves the database(s) to disk.",
    syntax: "",
    handler: save,
    subcommands: &[],
};

/// `SAVE`: a snapshot now, before replying.
pub fn save(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    match snapshot::save(&ctx.shared.broker) {
        Ok(_) => Ok(Reply::Ok.into()),
        Err(e) => Err(error::save_failed(&e)),
    }
}

/// The `BGSAVE` command.
pub const BGSAVE: Command = Command {
    name: "bgsave",
    arity: -1,
    flags: ADMIN | NOSCRIPT | EXCLUSIVE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "1.0.0",
    summary: "Asynchronously saves the database(s) to disk.",
    syntax: "[SCHEDULE]",
    handler: bgsave,
    subcommands: &[],
};

/// `BGSAVE [SCHEDULE]`: a snapshot in the background.
pub fn bgsave(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let _ = args.eat("SCHEDULE");
    args.finish()?;
    // A log that cannot be written (a full disk) is retried now, as Redis retries its AOF.
    if let Some(wal) = ctx.shared.broker.journal.wal() {
        wal.retry_now();
    }
    match snapshot::bgsave_locked(&ctx.shared.broker) {
        Ok(()) => Ok(Reply::Simple("Background saving started".into()).into()),
        Err(e) => Err(error::save_failed(&e)),
    }
}

/// The `LASTSAVE` command.
pub const LASTSAVE: Command = Command {
    name: "lastsave",
    arity: 1,
    flags: LOADING | STALE | FAST,
    keys: NOKEYS,
    categories: &["fast", "admin", "dangerous"],
    group: "server",
    since: "1.0.0",
    summary: "Returns the Unix timestamp of the last successful save to disk.",
    syntax: "",
    handler: lastsave,
    subcommands: &[],
};

/// `LASTSAVE`: Unix time, seconds, of the last successful snapshot (or of start-up).
pub fn lastsave(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let started = (ctx.now_ms / 1000).saturating_sub(ctx.shared.started.elapsed().as_secs());
    let last = ctx
        .shared
        .broker
        .journal
        .wal()
        .map(|wal| wal.stats().save.last_save_unix_s)
        .filter(|&s| s > 0)
        .unwrap_or(started);
    Ok(Reply::count(last).into())
}

/// The `SHUTDOWN` command.
pub const SHUTDOWN: Command = Command {
    name: "shutdown",
    arity: -1,
    flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | EXCLUSIVE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "1.0.0",
    summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    syntax: "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
    handler: shutdown,
    subcommands: &[],
};

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: flush the log (and snapshot with `SAVE`),
/// then stop. The connection is closed without a reply, as Redis does.
pub fn shutdown(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let mut save = false;
    let mut nosave = false;
    while let Some(arg) = args.next_arg() {
        match arg.to_ascii_uppercase().as_slice() {
            b"SAVE" => save = true,
            b"NOSAVE" => nosave = true,
            b"NOW" | b"FORCE" => {}
            b"ABORT" => return Err(CmdError(error::SHUTDOWN_NOT_IN_PROGRESS.into())),
            _ => return Err(CmdError(error::SYNTAX.into())),
        }
    }
    if save && nosave {
        return Err(CmdError(error::SYNTAX.into()));
    }
    if save && let Err(e) = snapshot::save(&ctx.shared.broker) {
        return Err(error::shutdown_save_failed(&e));
    }
    tracing::info!("User requested shutdown...");
    ctx.shared.shutdown.notify_one();
    Ok(Outcome::Disconnect)
}
