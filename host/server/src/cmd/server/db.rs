//! Commands on whole databases: `DBSIZE`, `FLUSHDB`, `FLUSHALL`, `SWAPDB`.

use sluice_resp::{ArgError, Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `DBSIZE` command.
pub const DBSIZE: Command = Command {
    name: "dbsize",
    arity: 1,
    flags: READONLY | FAST,
    keys: NOKEYS,
    categories: KEYSPACE_READ,
    group: "server",
    since: "1.0.0",
    summary: "Returns the number of keys in the database.",
    syntax: "",
    handler: dbsize,
    subcommands: &[],
};

/// `DBSIZE`: keys in the selected database.
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::count(ctx.db().len()).into())
}

/// The categories of `FLUSHALL` and `FLUSHDB`: slow, dangerous keyspace writes.
const FLUSH_CATS: &[&str] = &["keyspace", "write", "slow", "dangerous"];

/// The `FLUSHALL` command.
pub const FLUSHALL: Command = Command {
    name: "flushall",
    arity: -1,
    flags: WRITE | EXCLUSIVE,
    keys: NOKEYS,
    categories: FLUSH_CATS,
    group: "server",
    since: "1.0.0",
    summary: "Removes all keys from all databases.",
    syntax: "[ASYNC|SYNC]",
    handler: flushall,
    subcommands: &[],
};

/// `FLUSHALL [ASYNC|SYNC]`: empties every database. Runs with the keyspace to itself.
pub fn flushall(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    for db in ctx.shared.broker.keyspace.dbs() {
        db.flush();
    }
    ctx.journal(|rec| {
        rec.command(&[b"FLUSHALL"]);
    });
    ctx.shared
        .broker
        .blocking
        .mark_blocked_keys(None, &mut ctx.client.ready);
    ok()
}

/// The `FLUSHDB` command: [`FLUSHALL`] for the selected database only, with the same arity,
/// flags and options.
pub const FLUSHDB: Command = Command {
    name: "flushdb",
    summary: "Remove all keys from the current database.",
    handler: flushdb,
    ..FLUSHALL
};

/// `FLUSHDB [ASYNC|SYNC]`: empties the selected database.
pub fn flushdb(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    ctx.db().flush();
    ctx.journal(|rec| {
        rec.command(&[b"FLUSHDB"]);
    });
    ctx.shared
        .broker
        .blocking
        .mark_blocked_keys(Some(ctx.client.db), &mut ctx.client.ready);
    ok()
}

/// The `SWAPDB` command.
pub const SWAPDB: Command = Command {
    name: "swapdb",
    arity: 3,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: NOKEYS,
    categories: &["keyspace", "write", "fast", "dangerous"],
    group: "server",
    since: "4.0.0",
    summary: "Swaps two Redis databases.",
    syntax: "index1 index2",
    handler: swapdb,
    subcommands: &[],
};

/// `SWAPDB index1 index2`: swaps two databases' contents. Runs with the keyspace to itself.
/// Readers blocked on keys of either database are served against what is there now (a group
/// reader whose stream left gets NOGROUP), and routes look at their sources again.
pub fn swapdb(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let a = parse_index(&args.bytes()?, error::SWAPDB_FIRST_INDEX)?;
    let b = parse_index(&args.bytes()?, error::SWAPDB_SECOND_INDEX)?;
    let n = ctx.shared.broker.keyspace.len();
    let (Some(a), Some(b)) = (a.filter(|&a| a < n), b.filter(|&b| b < n)) else {
        return Err(CmdError(error::DB_INDEX_OUT_OF_RANGE.into()));
    };
    if a == b {
        return ok();
    }
    ctx.shared.broker.keyspace.swap(a, b);
    ctx.journal(|rec| {
        rec.begin(3).arg(b"SWAPDB").int(a as u64).int(b as u64);
    });
    let ready = &mut ctx.client.ready;
    ctx.shared.broker.blocking.mark_blocked_keys(Some(a), ready);
    ctx.shared.broker.blocking.mark_blocked_keys(Some(b), ready);
    if a == 0 || b == 0 {
        ctx.shared.broker.routes.rescan_all();
    }
    ok()
}

/// A database index argument: `None` if negative (out of range), Redis's `text` if not an
/// integer.
fn parse_index(arg: &[u8], text: &str) -> Result<Option<usize>, CmdError> {
    let n = sluice_resp::request::parse_i64(arg).ok_or_else(|| CmdError(text.into()))?;
    Ok(usize::try_from(n).ok())
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
