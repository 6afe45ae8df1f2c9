//! Writing strings whole: `SET` and its older forms (`SETNX`, `SETEX`, `PSETEX`, `GETSET`),
//! and `MSET`/`MSETNX` for several keys at once.
//!
//! A write is logged as `SET key value` with the absolute deadline (`PXAT`) it left, or
//! `KEEPTTL`, so replaying it gives the same key whenever the replay runs.

use bytes::Bytes;
use sluice_broker::keyspace::string::Str;
use sluice_broker::keyspace::{KeyEntry, Value, WrongType};
use sluice_broker::persist::Record;
use sluice_resp::{Args, Reply};

use super::expiry::Expiry;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `SET` command.
pub const SET: Command = Command {
    name: "set",
    arity: -3,
    flags: WRITE | DENYOOM,
    keys: KEY1,
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    syntax: "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
    handler: set,
    subcommands: &[],
};

/// The `SETNX` command.
pub const SETNX: Command = Command {
    name: "setnx",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Set the string value of a key only when the key doesn't exist.",
    syntax: "key value",
    handler: setnx,
    subcommands: &[],
};

/// The `SETEX` command.
pub const SETEX: Command = Command {
    name: "setex",
    arity: 4,
    flags: WRITE | DENYOOM,
    keys: KEY1,
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "2.0.0",
    summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
    syntax: "key seconds value",
    handler: setex,
    subcommands: &[],
};

/// The `PSETEX` command.
pub const PSETEX: Command = Command {
    name: "psetex",
    arity: 4,
    flags: WRITE | DENYOOM,
    keys: KEY1,
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "2.6.0",
    summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
    syntax: "key milliseconds value",
    handler: psetex,
    subcommands: &[],
};

/// The `GETSET` command.
pub const GETSET: Command = Command {
    name: "getset",
    arity: 3,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STRING_WRITE,
    group: "string",
    since: "1.0.0",
    summary: "Returns the previous string value of a key after setting it to a new value.",
    syntax: "key value",
    handler: getset,
    subcommands: &[],
};

/// The `MSET` command.
pub const MSET: Command = Command {
    name: "mset",
    arity: -3,
    flags: WRITE | DENYOOM | EXCLUSIVE,
    keys: (1, -1, 2),
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "1.0.1",
    summary: "Atomically creates or modifies the string values of one or more keys.",
    syntax: "key value [key value ...]",
    handler: mset,
    subcommands: &[],
};

/// The `MSETNX` command.
pub const MSETNX: Command = Command {
    name: "msetnx",
    arity: -3,
    flags: WRITE | DENYOOM | EXCLUSIVE,
    keys: (1, -1, 2),
    categories: STRING_WRITE_SLOW,
    group: "string",
    since: "1.0.1",
    summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
    syntax: "key value [key value ...]",
    handler: msetnx,
    subcommands: &[],
};

/// When `SET` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    /// `NX`: only if the key does not exist.
    Missing,
    /// `XX`: only if it does.
    Exists,
}

/// What `SET` was asked to do.
struct SetRequest<'a> {
    key: &'a [u8],
    value: &'a [u8],
    condition: Condition,
    get: bool,
    expiry: Expiry,
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`.
pub fn set(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.arg()?;
    let value = args.arg()?;
    // Options are rare: the list of them is made only when there are some.
    let options = if args.is_empty() {
        &[][..]
    } else {
        args.rest()
    };
    let mut request = SetRequest {
        key,
        value,
        condition: Condition::Always,
        get: false,
        expiry: Expiry::Unset,
    };
    let mut i = 0;
    while i < options.len() {
        let word = &options[i];
        let condition = if word.eq_ignore_ascii_case(b"NX") {
            Some(Condition::Missing)
        } else if word.eq_ignore_ascii_case(b"XX") {
            Some(Condition::Exists)
        } else {
            None
        };
        if let Some(condition) = condition {
            if request.condition != Condition::Always && request.condition != condition {
                return Err(CmdError(error::SYNTAX.into()));
            }
            request.condition = condition;
            i += 1;
        } else if word.eq_ignore_ascii_case(b"GET") {
            request.get = true;
            i += 1;
        } else {
            match request.expiry.parse(options, i, ctx.now_ms, "set", true)? {
                Some(n) => i += n,
                None => return Err(CmdError(error::SYNTAX.into())),
            }
        }
    }
    let (old, written) = write(ctx, args, &request)?;
    let reply = match (request.get, written) {
        (true, _) => old.map_or(Reply::Null, Reply::bulk),
        (false, true) => Reply::Ok,
        (false, false) => Reply::Null,
    };
    Ok(reply.into())
}

/// Stores the value as `request` says; the old value (when `GET` asked, a string's) and
/// whether it wrote.
fn write(
    ctx: &mut Ctx<'_>,
    args: &Args,
    request: &SetRequest,
) -> Result<(Option<Vec<u8>>, bool), CmdError> {
    let now = ctx.now_ms;
    let db = ctx.db();
    let key = request.key;
    let outcome = db.write_or_create(
        key,
        now,
        || Value::Str(Str::new(b"")),
        |entry, created| {
            // The old value is copied only for `GET`: a plain overwrite allocates nothing.
            let old = match (&entry.value, created, request.get) {
                (_, true, _) | (_, false, false) => None,
                (Value::Str(s), false, true) => Some(s.as_bytes().into_owned()),
                (_, false, true) => return Err(WrongType),
            };
            let allowed = match request.condition {
                Condition::Always => true,
                Condition::Missing => created,
                Condition::Exists => !created,
            };
            if !allowed {
                if created {
                    // Nothing is stored: the placeholder goes with the write.
                    entry.discard();
                }
                return Ok((old, false));
            }
            let deadline = request.expiry.deadline(entry.expire_at());
            *entry = KeyEntry::with_expiry(Value::Str(Str::new(request.value)), deadline);
            ctx.journal(|rec| log_set(rec, key, request.value, request.expiry, deadline));
            Ok((old, true))
        },
    );
    let (old, written) = outcome?;
    if written {
        // Readers blocked on the key are served (a stream that became a string gives them
        // WRONGTYPE), and routes reading it look again.
        ctx.arg_key_ready(args, key);
    }
    Ok((old, written))
}

/// Logs `SET key value` with the deadline it left: `PXAT` for a new one, `KEEPTTL` to keep
/// the old one.
pub fn log_set(rec: &mut Record, key: &[u8], value: &[u8], expiry: Expiry, deadline: Option<u64>) {
    match (expiry, deadline) {
        (Expiry::Keep, _) => {
            rec.begin(4).arg(b"SET").arg(key).arg(value).arg(b"KEEPTTL");
        }
        (_, Some(at)) => {
            rec.begin(5)
                .arg(b"SET")
                .arg(key)
                .arg(value)
                .arg(b"PXAT")
                .int(at);
        }
        (_, None) => {
            rec.begin(3).arg(b"SET").arg(key).arg(value);
        }
    }
}

/// `SETNX key value`: 1 if it set the key, 0 if the key existed.
pub fn setnx(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let request = SetRequest {
        key: args.arg()?,
        value: args.arg()?,
        condition: Condition::Missing,
        get: false,
        expiry: Expiry::Unset,
    };
    let (_, written) = write(ctx, args, &request)?;
    Ok(Reply::Int(i64::from(written)).into())
}

/// `SETEX key seconds value`.
pub fn setex(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    set_with_expiry(ctx, args, "EX", "setex")
}

/// `PSETEX key milliseconds value`.
pub fn psetex(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    set_with_expiry(ctx, args, "PX", "psetex")
}

fn set_with_expiry(
    ctx: &mut Ctx<'_>,
    args: &mut Args,
    unit: &'static str,
    name: &str,
) -> CmdResult {
    let key = args.arg()?;
    let time = args.bytes()?;
    let value = args.arg()?;
    let mut expiry = Expiry::Unset;
    expiry.parse(
        &[Bytes::from_static(unit.as_bytes()), time],
        0,
        ctx.now_ms,
        name,
        false,
    )?;
    let request = SetRequest {
        key,
        value,
        condition: Condition::Always,
        get: false,
        expiry,
    };
    write(ctx, args, &request)?;
    Ok(Reply::Ok.into())
}

/// `GETSET key value`: `SET key value GET`.
pub fn getset(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let request = SetRequest {
        key: args.arg()?,
        value: args.arg()?,
        condition: Condition::Always,
        get: true,
        expiry: Expiry::Unset,
    };
    let (old, _) = write(ctx, args, &request)?;
    Ok(old.map_or(Reply::Null, Reply::bulk).into())
}

/// `MSET key value [key value ...]`: sets every pair, as one step.
pub fn mset(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let pairs = pairs(args)?;
    put_all(ctx, &pairs);
    Ok(Reply::Ok.into())
}

/// `MSETNX key value [key value ...]`: sets every pair if none of the keys exists; 1 if it
/// did.
pub fn msetnx(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let pairs = pairs(args)?;
    let db = ctx.db();
    if pairs.iter().any(|(key, _)| db.exists(key, ctx.now_ms)) {
        return Ok(Reply::Int(0).into());
    }
    put_all(ctx, &pairs);
    Ok(Reply::Int(1).into())
}

fn pairs(args: &mut Args) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(error::wrong_arity(
            &String::from_utf8_lossy(&args.all()[0]).to_ascii_lowercase(),
        ));
    }
    Ok(rest
        .chunks_exact(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

/// Stores each pair (the command holds the keyspace to itself), logged as one `MSET`.
fn put_all(ctx: &mut Ctx<'_>, pairs: &[(Bytes, Bytes)]) {
    let db = ctx.db();
    for (key, value) in pairs {
        db.put(key, KeyEntry::new(Value::Str(Str::new(value))), ctx.now_ms);
    }
    ctx.journal(|rec| {
        rec.begin(1 + 2 * pairs.len()).arg(b"MSET");
        for (key, value) in pairs {
            rec.arg(key).arg(value);
        }
    });
    for (key, _) in pairs {
        ctx.key_ready(key);
    }
}
