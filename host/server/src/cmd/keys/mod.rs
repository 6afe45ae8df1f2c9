//! Generic key commands, applied to the streams Sluice stores: `DEL`/`UNLINK`, `EXISTS`,
//! `TYPE`, `KEYS` and `RENAME` here; expiry (`EXPIRE`…, `TTL`…, `PERSIST`) in [`expire`];
//! `SCAN` in [`scan`].
//!
//! Replies and error texts are Redis 7.2's. Keyspace hits and misses (`INFO stats`) are
//! counted where Redis counts them: the read lookups of `EXISTS`, `TYPE`, `TTL`/`PTTL` and
//! `SCAN … TYPE`; never by writes, `KEYS` or a plain `SCAN`.

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use super::{CmdResult, Ctx, ok};
use crate::error::{self, CmdError};
use sluice_broker::glob;

mod expire;
mod scan;

pub use expire::{expire, expireat, persist, pexpire, pexpireat, pttl, ttl};
pub use scan::scan;

/// The only type a key can hold, as `TYPE` names it.
const STREAM_TYPE: &str = "stream";

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

/// `EXISTS key [key ...]`: how many of the named keys exist (a key named twice counts twice).
pub fn exists(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let db = ctx.db();
    let mut found = 0usize;
    for key in args.rest() {
        let hit = db.exists(key, ctx.now_ms);
        ctx.count_lookup(hit);
        found += usize::from(hit);
    }
    Ok(Reply::count(found).into())
}

/// `TYPE key`: `stream`, or `none` for a missing key.
pub fn type_(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let hit = ctx.db().exists(&key, ctx.now_ms);
    ctx.count_lookup(hit);
    let name = if hit { STREAM_TYPE } else { "none" };
    Ok(Reply::Simple(name.to_owned()).into())
}

/// `KEYS pattern`: every live key whose name matches the glob, in no particular order.
pub fn keys(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let pattern = args.bytes()?;
    let names = ctx
        .db()
        .key_names(ctx.now_ms)
        .into_iter()
        .filter(|name| glob::matches(&pattern, name, false))
        .map(Reply::Bulk)
        .collect();
    Ok(Reply::Array(names).into())
}

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
    db.put(newkey.clone(), entry);
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
