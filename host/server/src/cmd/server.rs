//! Keyspace-wide server commands: `DBSIZE`, `FLUSHDB`, `FLUSHALL`.
//!
//! The other server commands have their own files: `COMMAND` ([`super::command`] and
//! [`super::command_docs`]), `INFO` ([`super::info`]) and `CONFIG` ([`super::config_cmd`]).

use sluice_resp::{ArgError, Args, Reply};

use super::{CmdResult, Ctx, ok};

/// `DBSIZE`: keys in the selected database.
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::count(ctx.db().len()).into())
}

/// `FLUSHALL [ASYNC|SYNC]`: empties every database. Runs with the keyspace to itself.
pub fn flushall(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    for db in ctx.shared.keyspace.dbs() {
        db.flush();
    }
    ctx.journal(|rec| {
        rec.command(&[b"FLUSHALL"]);
    });
    ctx.shared.blocking.db_flushed(None);
    ok()
}

/// `FLUSHDB [ASYNC|SYNC]`: empties the selected database.
pub fn flushdb(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    ctx.db().flush();
    ctx.journal(|rec| {
        rec.command(&[b"FLUSHDB"]);
    });
    ctx.shared.blocking.db_flushed(Some(ctx.client.db));
    ok()
}

/// Checks the optional `ASYNC|SYNC`. Both flush at once: freeing streams is cheap enough that
/// a background free would only add a window where memory is counted twice.
fn flush_mode(args: &mut Args) -> Result<(), ArgError> {
    match args.rest() {
        [] => Ok(()),
        [mode] if mode.eq_ignore_ascii_case(b"ASYNC") || mode.eq_ignore_ascii_case(b"SYNC") => {
            Ok(())
        }
        _ => Err(ArgError::Syntax),
    }
}
