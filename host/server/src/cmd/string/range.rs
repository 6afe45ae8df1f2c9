//! Changing and reading parts of a string: `APPEND`, `STRLEN`, `GETRANGE`, `SETRANGE`.

use bytes::Bytes;
use sluice_broker::keyspace::string::Str;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::CmdError;

/// The `APPEND` command.
pub const APPEND: Command = Command {
    name: "append",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "2.0.0",
    summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
    syntax: "key value",
    handler: append,
    subcommands: &[],
};

/// The `STRLEN` command.
pub const STRLEN: Command = Command {
    name: "strlen",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: STRING_READ,
    group: "string",
    since: "2.2.0",
    summary: "Returns the length of a string value.",
    syntax: "key",
    handler: strlen,
    subcommands: &[],
};

/// The `GETRANGE` command.
pub const GETRANGE: Command = Command {
    name: "getrange",
    arity: 4,
    flags: READONLY,
    keys: KEY1,
    categories: STRING_READ_SLOW,
    group: "string",
    since: "2.4.0",
    summary: "Returns a substring of the string stored at a key.",
    syntax: "key start end",
    handler: getrange,
    subcommands: &[],
};

/// The `SETRANGE` command.
pub const SETRANGE: Command = Command {
    name: "setrange",
    arity: 4,
    flags: WRITE | DENYOOM,
    keys: KEY1,
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "2.2.0",
    summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
    syntax: "key offset value",
    handler: setrange,
    subcommands: &[],
};

/// Redis's reply to a string that would pass `proto-max-bulk-len`.
const TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// `APPEND key value`: the length after appending (a missing key starts empty).
pub fn append(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let value = args.bytes()?;
    let max = max_len(ctx);
    let len = ctx
        .db()
        .write_or_create_as(&key, ctx.now_ms, |s: &mut Str, created| {
            if s.len() + value.len() > max {
                return Err(CmdError(TOO_LONG.into()));
            }
            if created {
                // A new key holds the value whole, as SET would store it.
                *s = Str::new(&value);
            } else {
                s.modify(|bytes| bytes.extend_from_slice(&value));
            }
            ctx.journal(|rec| {
                rec.begin(3).arg(b"APPEND").arg(&key).arg(&value);
            });
            Ok(s.len())
        })??;
    ctx.key_ready(&key);
    Ok(Reply::count(len).into())
}

/// `STRLEN key`: 0 for a missing key.
pub fn strlen(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let len = ctx.db().read_as(&key, ctx.now_ms, |s: &Str| s.len())?;
    Ok(Reply::count(len.unwrap_or(0)).into())
}

/// `GETRANGE key start end`: bytes `start..=end`, negative offsets from the end.
pub fn getrange(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let start = args.i64()?;
    let end = args.i64()?;
    let part = ctx.db().read_as(&key, ctx.now_ms, |s: &Str| {
        let bytes = s.as_bytes();
        let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let from_end = |i: i64| if i < 0 { (len + i).max(0) } else { i };
        let (start, end) = (from_end(start), from_end(end).min(len - 1));
        if len == 0 || start > end {
            return Vec::new();
        }
        let (start, end) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(end).unwrap_or(0),
        );
        bytes
            .get(start..=end)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    })?;
    ctx.count_lookup(part.is_some());
    Ok(Reply::bulk(part.unwrap_or_default()).into())
}

/// `SETRANGE key offset value`: overwrites from `offset` (padding with zero bytes); the
/// length after.
pub fn setrange(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let offset =
        usize::try_from(args.i64()?).map_err(|_| CmdError::err("offset is out of range"))?;
    let value: Bytes = args.bytes()?;
    let max = max_len(ctx);
    if !value.is_empty() && offset.saturating_add(value.len()) > max {
        return Err(CmdError(TOO_LONG.into()));
    }
    let db = ctx.db();
    if value.is_empty() {
        // Nothing to write: the length as it is, and no key is created.
        let len = db.read_as(&key, ctx.now_ms, |s: &Str| s.len())?;
        return Ok(Reply::count(len.unwrap_or(0)).into());
    }
    let len = db.write_or_create_as(&key, ctx.now_ms, |s: &mut Str, _| {
        s.modify(|bytes| {
            if bytes.len() < offset + value.len() {
                bytes.resize(offset + value.len(), 0);
            }
            bytes[offset..offset + value.len()].copy_from_slice(&value);
        });
        ctx.journal(|rec| {
            rec.begin(4)
                .arg(b"SETRANGE")
                .arg(&key)
                .int(offset as u64)
                .arg(&value);
        });
        s.len()
    })?;
    ctx.key_ready(&key);
    Ok(Reply::count(len).into())
}

/// `proto-max-bulk-len`: the longest string a command may make.
fn max_len(ctx: &Ctx<'_>) -> usize {
    let max = ctx
        .shared
        .settings
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    usize::try_from(max).unwrap_or(usize::MAX)
}
