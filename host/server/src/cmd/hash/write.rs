//! Setting and removing fields: `HSET` (and the older `HMSET`), `HSETNX`, `HDEL`.
//!
//! `HSET` is logged as given, `HSETNX` as the `HSET` it did, `HDEL` with the fields it removed.

use bytes::Bytes;
use sluice_broker::keyspace::hash::Hash;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `HSET` command.
pub const HSET: Command = Command {
    name: "hset",
    arity: -4,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.0.0",
    summary: "Creates or modifies the value of a field in a hash.",
    syntax: "key field value [field value ...]",
    handler: hset,
    subcommands: &[],
};

/// The `HMSET` command.
pub const HMSET: Command = Command {
    name: "hmset",
    arity: -4,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.0.0",
    summary: "Sets the values of multiple fields.",
    syntax: "key field value [field value ...]",
    handler: hmset,
    subcommands: &[],
};

/// The `HSETNX` command.
pub const HSETNX: Command = Command {
    name: "hsetnx",
    arity: 4,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.0.0",
    summary: "Sets the value of a field in a hash only when the field doesn't exist.",
    syntax: "key field value",
    handler: hsetnx,
    subcommands: &[],
};

/// The `HDEL` command.
pub const HDEL: Command = Command {
    name: "hdel",
    arity: -3,
    flags: WRITE | FAST | KEY_DELETE,
    keys: KEY1,
    categories: HASH_WRITE,
    group: "hash",
    since: "2.0.0",
    summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
    syntax: "key field [field ...]",
    handler: hdel,
    subcommands: &[],
};

/// `HSET key field value [field value ...]`: how many fields are new.
pub fn hset(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let added = set_fields(ctx, args, "hset")?;
    Ok(Reply::count(added).into())
}

/// `HMSET key field value [field value ...]`: `HSET` replying `OK`.
pub fn hmset(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    set_fields(ctx, args, "hmset")?;
    ok()
}

/// Sets each field to its value; returns how many fields are new. Logged as `HSET` with the
/// pairs as given, so a replay sizes the hash as this run did.
fn set_fields(ctx: &mut Ctx<'_>, args: &mut Args, name: &str) -> Result<usize, CmdError> {
    let key = args.bytes()?;
    let pairs: Vec<Bytes> = args.rest().to_vec();
    // Redis checks the pairs before the key: an odd count is an arity error, not WRONGTYPE.
    if !pairs.len().is_multiple_of(2) {
        return Err(error::wrong_arity(name));
    }
    let longest = pairs.iter().map(Bytes::len).max().unwrap_or(0);
    let added = ctx
        .db()
        .write_or_create_as(&key, ctx.now_ms, |hash: &mut Hash, _| {
            hash.reserve_for(pairs.len() / 2, longest);
            let added = pairs
                .chunks_exact(2)
                .filter(|pair| matches!(pair, [field, value] if hash.set(field, value)))
                .count();
            ctx.journal(|rec| {
                rec.begin(2 + pairs.len()).arg(b"HSET").arg(&key);
                for arg in &pairs {
                    rec.arg(arg);
                }
            });
            added
        })?;
    ctx.key_ready(&key);
    Ok(added)
}

/// `HSETNX key field value`: 1 if the field was new and is now set, 0 if it existed.
pub fn hsetnx(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    let value = args.bytes()?;
    let set = ctx
        .db()
        .write_or_create_as(&key, ctx.now_ms, |hash: &mut Hash, _| {
            // An existing field leaves the hash as it was, even its encoding.
            if hash.get(&field).is_some() {
                return false;
            }
            hash.reserve_for(1, field.len().max(value.len()));
            hash.set(&field, &value);
            ctx.journal(|rec| {
                rec.command(&[b"HSET", &key, &field, &value]);
            });
            true
        })?;
    if set {
        ctx.key_ready(&key);
    }
    Ok(Reply::Int(i64::from(set)).into())
}

/// `HDEL key field [field ...]`: how many of the fields were there (removing the hash once
/// it has none).
pub fn hdel(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let fields: Vec<Bytes> = args.rest().to_vec();
    let removed = ctx.db().write_as(&key, ctx.now_ms, |hash: &mut Hash| {
        let removed: Vec<&Bytes> = fields.iter().filter(|f| hash.remove(f)).collect();
        if !removed.is_empty() {
            ctx.journal(|rec| {
                rec.begin(2 + removed.len()).arg(b"HDEL").arg(&key);
                for field in &removed {
                    rec.arg(field);
                }
            });
        }
        removed.len()
    })?;
    let removed = removed.unwrap_or(0);
    if removed > 0 {
        ctx.key_ready(&key);
    }
    Ok(Reply::count(removed).into())
}
