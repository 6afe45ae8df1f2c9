//! `SAVE`, `BGSAVE`, `LASTSAVE` and `SHUTDOWN`: snapshots on request, and stopping cleanly.
//!
//! `SAVE`, `BGSAVE` and `SHUTDOWN` run with the keyspace gate held exclusively (their table
//! flags): a snapshot is a copy of the whole keyspace at one log position.

use sluice_resp::{Args, Reply};

use super::{CmdResult, Ctx, Outcome};
use crate::error::{self, CmdError};
use sluice_broker::persist::snapshot;

/// `SAVE`: a snapshot now, before replying.
pub fn save(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    match snapshot::save(&ctx.shared.broker) {
        Ok(_) => Ok(Reply::Ok.into()),
        Err(e) => Err(error::save_failed(&e)),
    }
}

/// `BGSAVE [SCHEDULE]`: a snapshot in the background.
pub fn bgsave(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let _ = args.eat("SCHEDULE");
    args.finish()?;
    match snapshot::bgsave_locked(&ctx.shared.broker) {
        Ok(()) => Ok(Reply::Simple("Background saving started".into()).into()),
        Err(e) => Err(error::save_failed(&e)),
    }
}

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
