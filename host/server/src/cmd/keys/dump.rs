//! `DUMP` and `RESTORE`: a key's value in Redis's own payload format (RDB type, body, RDB
//! version, CRC-64), so values move between Redis and Sluice, for every type Sluice stores.
//!
//! `DUMP` writes the newest encoding Redis 7.2 reads; `RESTORE` reads every encoding Redis 7.x
//! and Valkey write (see `sluice-rdb`). A `RESTORE` is logged as itself with an absolute
//! deadline (`ABSTTL`), so replaying it rebuilds the same value whenever it runs.

use bytes::Bytes;
use sluice_broker::keyspace::{KeyEntry, dump};
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `DUMP` command.
pub const DUMP: Command = Command {
    name: "dump",
    arity: 2,
    flags: READONLY,
    keys: KEY1,
    categories: KEYSPACE_READ_SLOW,
    group: "generic",
    since: "2.6.0",
    summary: "Returns a serialized representation of the value stored at a key.",
    syntax: "key",
    handler: dump,
    subcommands: &[],
};

/// The `RESTORE` command.
pub const RESTORE: Command = Command {
    name: "restore",
    arity: -4,
    flags: WRITE | DENYOOM | EXCLUSIVE,
    keys: KEY1,
    categories: &["keyspace", "write", "slow", "dangerous"],
    group: "generic",
    since: "2.6.0",
    summary: "Creates a key from the serialized representation of a value.",
    syntax: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    handler: restore,
    subcommands: &[],
};

/// `DUMP key`: the payload, or nil for a missing key.
pub fn dump(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let payload = ctx.db().read(&key, ctx.now_ms, dump::dump);
    ctx.count_lookup(payload.is_some());
    Ok(payload.map_or(Reply::Null, Reply::bulk).into())
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`. `IDLETIME` sets the
/// key's access clock under an LRU policy (or none), `FREQ` its counter under an LFU policy;
/// either is ignored under the other, as in Redis. The clock is not logged (Redis's AOF does
/// not keep it either): after a restart the key reads as new.
pub fn restore(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let ttl = args.i64()?;
    let payload: Bytes = args.bytes()?;
    let (mut replace, mut absolute) = (false, false);
    let (mut idle, mut freq): (Option<u64>, Option<u8>) = (None, None);
    while let Some(option) = args.next_arg() {
        if option.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"ABSTTL") {
            absolute = true;
        } else if option.eq_ignore_ascii_case(b"IDLETIME") && freq.is_none() {
            let seconds = u64::try_from(args.i64()?)
                .map_err(|_| CmdError(error::RESTORE_BAD_IDLETIME.into()))?;
            idle = Some(seconds);
        } else if option.eq_ignore_ascii_case(b"FREQ") && idle.is_none() {
            let count =
                u8::try_from(args.i64()?).map_err(|_| CmdError(error::RESTORE_BAD_FREQ.into()))?;
            freq = Some(count);
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    if ttl < 0 {
        return Err(CmdError(error::RESTORE_BAD_TTL.into()));
    }
    let db = ctx.db();
    if !replace && db.exists(&key, ctx.now_ms) {
        return Err(CmdError(error::BUSYKEY.into()));
    }
    let limits = ctx.shared.broker.settings.node_limits();
    let value = dump::restore(&payload, limits).map_err(|e| CmdError(e.to_string()))?;
    let deadline = match (ttl, absolute) {
        (0, _) => None,
        (ttl, true) => Some(ttl.unsigned_abs()),
        (ttl, false) => Some(ctx.now_ms.saturating_add(ttl.unsigned_abs())),
    };
    // RESTORE runs with the keyspace to itself: the check above still holds.
    if deadline.is_some_and(|at| at <= ctx.now_ms) {
        // Already expired: nothing is created, and REPLACE removes what was there.
        if db.remove(&key, ctx.now_ms) {
            ctx.journal(|rec| {
                rec.begin(2).arg(b"DEL").arg(&key);
            });
            ctx.key_ready(&key);
        }
        return Ok(Reply::Ok.into());
    }
    let clock = ctx
        .shared
        .broker
        .keyspace
        .eviction
        .restored(ctx.now_ms, idle, freq);
    db.put(
        &key,
        KeyEntry::with_expiry(value, deadline).with_access(clock),
        ctx.now_ms,
    );
    ctx.journal(|rec| {
        rec.begin(6)
            .arg(b"RESTORE")
            .arg(&key)
            .int(deadline.unwrap_or(0))
            .arg(&payload)
            .arg(b"REPLACE")
            .arg(b"ABSTTL");
    });
    ctx.key_ready(&key);
    Ok(Reply::Ok.into())
}
