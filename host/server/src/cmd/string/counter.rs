//! Counters: `INCR`, `INCRBY`, `DECR`, `DECRBY` on integer strings, `INCRBYFLOAT` on
//! decimal ones. A missing key counts from 0; the key keeps its deadline.
//!
//! Each change is logged as `SET key <new value> KEEPTTL`: replayed, it sets the result
//! rather than adding again.

use sluice_broker::keyspace::string::Str;
use sluice_broker::keyspace::{KeyEntry, Value, WrongType};
use sluice_resp::{Args, Reply};

use super::expiry::Expiry;
use super::float::{self, FloatError};
use super::set::log_set;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `INCR` command.
pub const INCR: Command = Command {
    name: "incr",
    arity: 2,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    syntax: "key",
    handler: incr,
    subcommands: &[],
};

/// The `INCRBY` command.
pub const INCRBY: Command = Command {
    name: "incrby",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    syntax: "key increment",
    handler: incrby,
    subcommands: &[],
};

/// The `DECR` command.
pub const DECR: Command = Command {
    name: "decr",
    arity: 2,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    syntax: "key",
    handler: decr,
    subcommands: &[],
};

/// The `DECRBY` command.
pub const DECRBY: Command = Command {
    name: "decrby",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    syntax: "key decrement",
    handler: decrby,
    subcommands: &[],
};

/// The `INCRBYFLOAT` command.
pub const INCRBYFLOAT: Command = Command {
    name: "incrbyfloat",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "2.6.0",
    summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    syntax: "key increment",
    handler: incrbyfloat,
    subcommands: &[],
};

/// `INCR key`.
pub fn incr(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    add(ctx, args, 1)
}

/// `DECR key`.
pub fn decr(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    add(ctx, args, -1)
}

/// `INCRBY key increment`.
pub fn incrby(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let by = args.i64()?;
    add_to(ctx, key, by)
}

/// `DECRBY key decrement`.
pub fn decrby(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let by = args.i64()?;
    // Redis refuses to negate the one value whose negation does not fit.
    let by = by
        .checked_neg()
        .ok_or_else(|| CmdError::err("decrement would overflow"))?;
    add_to(ctx, key, by)
}

fn add(ctx: &mut Ctx<'_>, args: &mut Args, by: i64) -> CmdResult {
    let key = args.bytes()?;
    add_to(ctx, key, by)
}

fn add_to(ctx: &mut Ctx<'_>, key: bytes::Bytes, by: i64) -> CmdResult {
    let result = update(ctx, &key, |current| {
        let n = match current {
            None => 0,
            Some(s) => s
                .to_i64()
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?,
        };
        let sum = n
            .checked_add(by)
            .ok_or_else(|| CmdError::err("increment or decrement would overflow"))?;
        Ok(Str::from_i64(sum))
    })?;
    Ok(Reply::Int(result.to_i64().unwrap_or_default()).into())
}

/// `INCRBYFLOAT key increment`: the new value, as text.
pub fn incrbyfloat(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let by = args.bytes()?;
    let result = update(ctx, &key, |current| {
        let current = current.map_or_else(|| b"0".to_vec(), |s| s.as_bytes().into_owned());
        let sum = float::add(&current, &by).map_err(|e| match e {
            FloatError::NotFloat => CmdError::err("value is not a valid float"),
            FloatError::NanOrInfinity => CmdError::err("increment would produce NaN or Infinity"),
        })?;
        // Redis stores the sum as a plain string, never as an integer.
        Ok(Str::Heap(Box::new(
            sluice_broker::keyspace::string::HeapStr {
                bytes: sum,
                raw: false,
            },
        )))
    })?;
    Ok(Reply::bulk(result.as_bytes()).into())
}

/// Replaces the key's string with `next(current)` (`None`: the key is missing), keeping its
/// deadline; logged as `SET … KEEPTTL`.
fn update(
    ctx: &mut Ctx<'_>,
    key: &bytes::Bytes,
    next: impl FnOnce(Option<&Str>) -> Result<Str, CmdError>,
) -> Result<Str, CmdError> {
    let db = ctx.db();
    let result = db.write_or_create(
        key,
        ctx.now_ms,
        || Value::Str(Str::new(b"")),
        |entry, created| {
            let current = match (&entry.value, created) {
                (_, true) => None,
                (Value::Str(s), false) => Some(s),
                (_, false) => return Err(CmdError::from(WrongType)),
            };
            let value = match next(current) {
                Ok(value) => value,
                Err(e) => {
                    if created {
                        entry.discard();
                    }
                    return Err(e);
                }
            };
            let deadline = entry.expire_at();
            *entry = KeyEntry::with_expiry(Value::Str(value.clone()), deadline);
            ctx.journal(|rec| log_set(rec, key, &value.as_bytes(), Expiry::Keep, deadline));
            Ok(value)
        },
    )?;
    ctx.key_ready(key);
    Ok(result)
}
