//! Reading fields: one (`HGET`, `HEXISTS`, `HSTRLEN`), several (`HMGET`), or the whole hash
//! (`HLEN`, `HGETALL`, `HKEYS`, `HVALS`). A missing key reads as an empty hash.

use bytes::Bytes;
use sluice_broker::keyspace::WrongType;
use sluice_broker::keyspace::hash::Hash;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `HGET` command.
pub const HGET: Command = Command {
    name: "hget",
    arity: 3,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: HASH_READ,
    group: "hash",
    since: "2.0.0",
    summary: "Returns the value of a field in a hash.",
    syntax: "key field",
    handler: hget,
    subcommands: &[],
};

/// The `HMGET` command.
pub const HMGET: Command = Command {
    name: "hmget",
    arity: -3,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: HASH_READ,
    group: "hash",
    since: "2.0.0",
    summary: "Returns the values of all fields in a hash.",
    syntax: "key field [field ...]",
    handler: hmget,
    subcommands: &[],
};

/// The `HEXISTS` command.
pub const HEXISTS: Command = Command {
    name: "hexists",
    arity: 3,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: HASH_READ,
    group: "hash",
    since: "2.0.0",
    summary: "Determines whether a field exists in a hash.",
    syntax: "key field",
    handler: hexists,
    subcommands: &[],
};

/// The `HSTRLEN` command.
pub const HSTRLEN: Command = Command {
    name: "hstrlen",
    arity: 3,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: HASH_READ,
    group: "hash",
    since: "3.2.0",
    summary: "Returns the length of the value of a field.",
    syntax: "key field",
    handler: hstrlen,
    subcommands: &[],
};

/// The `HLEN` command.
pub const HLEN: Command = Command {
    name: "hlen",
    arity: 2,
    flags: READONLY | FAST | KEY_NO_ACCESS,
    keys: KEY1,
    categories: HASH_READ,
    group: "hash",
    since: "2.0.0",
    summary: "Returns the number of fields in a hash.",
    syntax: "key",
    handler: hlen,
    subcommands: &[],
};

/// The `HGETALL` command.
pub const HGETALL: Command = Command {
    name: "hgetall",
    arity: 2,
    flags: READONLY | TIP_UNORDERED,
    keys: KEY1,
    categories: HASH_READ_SLOW,
    group: "hash",
    since: "2.0.0",
    summary: "Returns all fields and values in a hash.",
    syntax: "key",
    handler: hgetall,
    subcommands: &[],
};

/// The `HKEYS` command.
pub const HKEYS: Command = Command {
    name: "hkeys",
    arity: 2,
    flags: READONLY | TIP_UNORDERED,
    keys: KEY1,
    categories: HASH_READ_SLOW,
    group: "hash",
    since: "2.0.0",
    summary: "Returns all fields in a hash.",
    syntax: "key",
    handler: hkeys,
    subcommands: &[],
};

/// The `HVALS` command.
pub const HVALS: Command = Command {
    name: "hvals",
    arity: 2,
    flags: READONLY | TIP_UNORDERED,
    keys: KEY1,
    categories: HASH_READ_SLOW,
    group: "hash",
    since: "2.0.0",
    summary: "Returns all values in a hash.",
    syntax: "key",
    handler: hvals,
    subcommands: &[],
};

/// Runs `f` on the hash at `key` (`None` if missing), counting the lookup for `INFO`.
pub(super) fn read_hash<R>(
    ctx: &Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&Hash) -> R,
) -> Result<Option<R>, WrongType> {
    let result = ctx.db().read_as(key, ctx.now_ms, f);
    ctx.count_lookup(!matches!(result, Ok(None)));
    result
}

/// `HGET key field`: the value, or nil.
pub fn hget(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    let value = read_hash(ctx, &key, |h| h.get(&field).map(Reply::bulk))?.flatten();
    Ok(value.unwrap_or(Reply::Null).into())
}

/// `HMGET key field [field ...]`: each value, nil for a missing field.
pub fn hmget(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let fields: Vec<Bytes> = args.rest().to_vec();
    let values = read_hash(ctx, &key, |h| {
        fields
            .iter()
            .map(|f| h.get(f).map_or(Reply::Null, Reply::bulk))
            .collect()
    })?;
    let values = values.unwrap_or_else(|| vec![Reply::Null; fields.len()]);
    Ok(Reply::Array(values).into())
}

/// `HEXISTS key field`: 1 if the field is there.
pub fn hexists(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    let found = read_hash(ctx, &key, |h| h.get(&field).is_some())?;
    Ok(Reply::Int(i64::from(found.unwrap_or(false))).into())
}

/// `HSTRLEN key field`: the length of the value, 0 for a missing field.
pub fn hstrlen(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let field = args.bytes()?;
    let len = read_hash(ctx, &key, |h| h.get(&field).map_or(0, <[u8]>::len))?;
    Ok(Reply::count(len.unwrap_or(0)).into())
}

/// `HLEN key`: the number of fields.
pub fn hlen(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let len = read_hash(ctx, &key, Hash::len)?;
    Ok(Reply::count(len.unwrap_or(0)).into())
}

/// `HGETALL key`: the fields and values, a map in RESP3 (a flat array in RESP2).
pub fn hgetall(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let pairs = read_hash(ctx, &key, |h| {
        h.iter()
            .map(|(f, v)| (Reply::bulk(f), Reply::bulk(v)))
            .collect()
    })?;
    Ok(Reply::Map(pairs.unwrap_or_default()).into())
}

/// `HKEYS key`: the fields, in the hash's order.
pub fn hkeys(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let fields = read_hash(ctx, &key, |h| {
        h.iter().map(|(f, _)| Reply::bulk(f)).collect()
    })?;
    Ok(Reply::Array(fields.unwrap_or_default()).into())
}

/// `HVALS key`: the values, in the hash's order.
pub fn hvals(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let values = read_hash(ctx, &key, |h| {
        h.iter().map(|(_, v)| Reply::bulk(v)).collect()
    })?;
    Ok(Reply::Array(values.unwrap_or_default()).into())
}
