//! Counters in fields: `HINCRBY` on integer values, `HINCRBYFLOAT` on decimal ones. A missing
//! field counts from 0; a missing key is created.
//!
//! Each change is logged as `HSET key field <new value>`: replayed, it sets the result rather
//! than adding again (and a float sum is never recomputed), as Redis propagates
//! `HINCRBYFLOAT`.

use bytes::Bytes;
use sluice_broker::keyspace::hash::Hash;
use sluice_broker::keyspace::string::parse_canonical_i64;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::string::float::{self, FloatError};
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `HINCRBY` command.
pub const HINCRBY: Command = Command {
    name: "hincrby",
    arity: 4,
    flags: WRITE | DENYOOM | FAST | KEY_ACCESS,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.0.0",
    summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
    syntax: "key field increment",
    handler: hincrby,
    subcommands: &[],
};

/// The `HINCRBYFLOAT` command.
pub const HINCRBYFLOAT: Command = Command {
    name: "hincrbyfloat",
    arity: 4,
    flags: WRITE | DENYOOM | FAST | KEY_ACCESS,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.6.0",
    summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
    syntax: "key field increment",
    handler: hincrbyfloat,
    subcommands: &[],
};

/// `HINCRBY key field increment`: the new value.
pub fn hincrby(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    // Redis reads the increment before the key: a bad one wins over WRONGTYPE.
    let by = args.i64()?;
    let sum = update(ctx, &key, &field, |current| {
        let n = match current {
            None => 0,
            Some(v) => {
                parse_canonical_i64(v).ok_or_else(|| CmdError(error::HASH_NOT_INTEGER.into()))?
            }
        };
        let sum = n
            .checked_add(by)
            .ok_or_else(|| CmdError(error::INCREMENT_OVERFLOW.into()))?;
        Ok(itoa::Buffer::new().format(sum).as_bytes().to_vec())
    })?;
    let sum = parse_canonical_i64(&sum).unwrap_or_default();
    Ok(Reply::Int(sum).into())
}

/// `HINCRBYFLOAT key field increment`: the new value, as text, formatted as Redis formats it.
pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    let by = args.bytes()?;
    // Redis reads the increment before the key: a bad one wins over WRONGTYPE.
    let _checked = float::parse(&by).map_err(|e| match e {
        FloatError::NotFloat => CmdError(error::NOT_FLOAT.into()),
        FloatError::NanOrInfinity => CmdError(error::INCREMENT_NAN_OR_INFINITY.into()),
    })?;
    let sum = update(ctx, &key, &field, |current| {
        // The increment is known good: an error is about the value or the sum.
        float::add(current.unwrap_or(b"0"), &by).map_err(|e| match e {
            FloatError::NotFloat => CmdError(error::HASH_NOT_FLOAT.into()),
            FloatError::NanOrInfinity => CmdError(error::FLOAT_RESULT_NAN_OR_INFINITY.into()),
        })
    })?;
    Ok(Reply::bulk(sum).into())
}

/// Sets `field` to `next(current value)` (`None`: no such field), creating the hash if
/// needed; logged as `HSET`. Returns the new value.
fn update(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    field: &[u8],
    next: impl FnOnce(Option<&[u8]>) -> Result<Vec<u8>, CmdError>,
) -> Result<Vec<u8>, CmdError> {
    let value = ctx
        .db()
        .write_or_create_as(key, ctx.now_ms, |hash: &mut Hash, _| {
            // A hash created for a failed update is left empty, and so removed.
            let value = next(hash.get(field))?;
            hash.set(field, &value);
            ctx.journal(|rec| {
                rec.command(&[b"HSET", key, field, &value]);
            });
            Ok::<_, CmdError>(value)
        })??;
    ctx.key_ready(key);
    Ok(value)
}
