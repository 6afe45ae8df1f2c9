//! Reading strings: `GET`, `GETDEL`, `GETEX` (read and change the deadline), `MGET`.

use bytes::Bytes;
use sluice_broker::keyspace::Value;
use sluice_broker::keyspace::string::Str;
use sluice_resp::{Args, Reply};

use super::expiry::Expiry;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `GET` command.
pub const GET: Command = Command {
    name: "get",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: STRING_READ,
    group: "string",
    since: "1.0.0",
    summary: "Returns the string value of a key.",
    syntax: "key",
    handler: get,
    subcommands: &[],
};

/// The `GETDEL` command.
pub const GETDEL: Command = Command {
    name: "getdel",
    arity: 2,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "6.2.0",
    summary: "Returns the string value of a key after deleting the key.",
    syntax: "key",
    handler: getdel,
    subcommands: &[],
};

/// The `GETEX` command.
pub const GETEX: Command = Command {
    name: "getex",
    arity: -2,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "6.2.0",
    summary: "Returns the string value of a key after setting its expiration time.",
    syntax: "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
    handler: getex,
    subcommands: &[],
};

/// The `MGET` command.
pub const MGET: Command = Command {
    name: "mget",
    arity: -2,
    flags: READONLY | FAST,
    keys: ALLKEYS,
    categories: STRING_READ,
    group: "string",
    since: "1.0.0",
    summary: "Atomically returns the string values of one or more keys.",
    syntax: "key [key ...]",
    handler: mget,
    subcommands: &[],
};

/// `GET key`: the value, or nil.
pub fn get(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.arg()?;
    let value = ctx
        .db()
        .read_as(key, ctx.now_ms, |s: &Str| Reply::bulk(s.as_bytes()))?;
    ctx.count_lookup(value.is_some());
    Ok(value.unwrap_or(Reply::Null).into())
}

/// `GETDEL key`: the value, removing the key.
pub fn getdel(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let taken = ctx.db().take_as::<Str>(&key, ctx.now_ms)?;
    ctx.count_lookup(taken.is_some());
    let Some(Value::Str(value)) = taken.map(|e| e.value) else {
        return Ok(Reply::Null.into());
    };
    ctx.journal(|rec| {
        rec.begin(2).arg(b"DEL").arg(&key);
    });
    ctx.key_ready(&key);
    Ok(Reply::bulk(value.as_bytes()).into())
}

/// `GETEX key [EX seconds|PX ms|EXAT s|PXAT ms|PERSIST]`: the value, changing its deadline.
pub fn getex(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let options = args.rest().to_vec();
    let mut expiry = Expiry::Unset;
    let mut i = 0;
    while i < options.len() {
        match expiry.parse(&options, i, ctx.now_ms, "getex", false)? {
            Some(n) => i += n,
            None => return Err(CmdError(error::SYNTAX.into())),
        }
    }
    let now = ctx.now_ms;
    let value = ctx.db().write(&key, now, |entry| {
        let Value::Str(s) = &entry.value else {
            return Err(sluice_broker::keyspace::WrongType);
        };
        let value = s.as_bytes().into_owned();
        let before = entry.expire_at();
        let after = match expiry {
            Expiry::Unset | Expiry::Keep => before,
            Expiry::Persist => None,
            Expiry::At(at) => u64::try_from(at).ok(),
        };
        if after != before {
            entry.set_expire_at(after);
            // Logged under the key's lock, so the log keeps the order of changes to it.
            ctx.journal(|rec| match after {
                Some(at) => {
                    rec.begin(3).arg(b"PEXPIREAT").arg(&key).int(at);
                }
                None => {
                    rec.begin(2).arg(b"PERSIST").arg(&key);
                }
            });
        }
        Ok((value, after.is_some_and(|at| at <= now)))
    });
    let value = value.transpose()?;
    ctx.count_lookup(value.is_some());
    let Some((value, gone)) = value else {
        return Ok(Reply::Null.into());
    };
    if gone {
        ctx.key_ready(&key);
    }
    Ok(Reply::bulk(value).into())
}

/// `MGET key [key ...]`: each value, nil for a missing key or one holding another type.
pub fn mget(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let db = ctx.db();
    let keys: Vec<Bytes> = args.rest().to_vec();
    let mut replies = Vec::with_capacity(keys.len());
    for key in &keys {
        let value = db
            .read_as(key, ctx.now_ms, |s: &Str| Reply::bulk(s.as_bytes()))
            .ok()
            .flatten();
        ctx.count_lookup(value.is_some());
        replies.push(value.unwrap_or(Reply::Null));
    }
    Ok(Reply::Array(replies).into())
}
