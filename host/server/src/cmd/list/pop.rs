//! Taking elements from either end: `LPOP` and `RPOP`, one element or up to a count.

use sluice_broker::keyspace::list::List;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `LPOP` command.
pub const LPOP: Command = Command {
    name: "lpop",
    arity: -2,
    flags: WRITE | FAST | KEY_ACCESS | KEY_DELETE,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "1.0.0",
    summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
    syntax: "key [count]",
    handler: lpop,
    subcommands: &[],
};

/// The `RPOP` command.
pub const RPOP: Command = Command {
    name: "rpop",
    arity: -2,
    flags: WRITE | FAST | KEY_ACCESS | KEY_DELETE,
    keys: KEY1,
    categories: LIST_WRITE,
    group: "list",
    since: "1.0.0",
    summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
    syntax: "key [count]",
    handler: rpop,
    subcommands: &[],
};

/// `LPOP key [count]`: the first element (nil without a list), or with a count an array of up
/// to that many (a null array without a list).
pub fn lpop(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    pop(ctx, args, true)
}

/// `RPOP key [count]`: as `LPOP`, from the tail.
pub fn rpop(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    pop(ctx, args, false)
}

fn pop(ctx: &mut Ctx<'_>, args: &mut Args, left: bool) -> CmdResult {
    if args.argc() > 3 {
        return Err(error::wrong_arity(if left { "lpop" } else { "rpop" }));
    }
    let key = args.bytes()?;
    // The count is checked before the key, as Redis does.
    let count = match args.next_arg() {
        None => None,
        Some(arg) => Some(
            sluice_resp::request::parse_i64(&arg)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| CmdError(error::COUNT_NOT_POSITIVE.into()))?,
        ),
    };
    let popped = ctx.db().write_as(&key, ctx.now_ms, |list: &mut List| {
        let taken: Vec<Reply> = list
            .pop_many(count.unwrap_or(1), left)
            .into_iter()
            .map(Reply::bulk)
            .collect();
        if !taken.is_empty() {
            list.shrink();
            ctx.journal(|rec| log_pop(rec, &key, left, taken.len()));
        }
        taken
    })?;
    let Some(mut popped) = popped else {
        return Ok(match count {
            None => Reply::Null,
            Some(_) => Reply::NullArray,
        }
        .into());
    };
    if !popped.is_empty() {
        ctx.key_ready(&key);
    }
    Ok(match count {
        Some(_) => Reply::Array(popped),
        None => popped.pop().unwrap_or(Reply::Null),
    }
    .into())
}

/// Logs `LPOP`/`RPOP key <n>`: the number of elements a pop took, so the replay takes the same.
pub fn log_pop(rec: &mut sluice_broker::persist::Record, key: &[u8], left: bool, n: usize) {
    rec.begin(3)
        .arg(if left { b"LPOP" } else { b"RPOP" })
        .arg(key)
        .int(n);
}
