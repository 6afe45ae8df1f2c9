//! Changing a list in place: `LSET` (one element by index), `LINSERT` (beside an element
//! found by value), `LREM` (elements by value), `LTRIM` (all but a range).

use sluice_broker::keyspace::list::List;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `LSET` command.
pub const LSET: Command = Command {
    name: "lset",
    arity: 4,
    flags: WRITE | DENYOOM,
    keys: KEY1,
    categories: LIST_WRITE_SLOW,
    group: "list",
    since: "1.0.0",
    summary: "Sets the value of an element in a list by its index.",
    syntax: "key index element",
    handler: lset,
    subcommands: &[],
};

/// The `LINSERT` command.
pub const LINSERT: Command = Command {
    name: "linsert",
    arity: 5,
    flags: WRITE | DENYOOM | KEY_INSERT,
    keys: KEY1,
    categories: LIST_WRITE_SLOW,
    group: "list",
    since: "2.2.0",
    summary: "Inserts an element before or after another element in a list.",
    syntax: "key BEFORE|AFTER pivot element",
    handler: linsert,
    subcommands: &[],
};

/// The `LREM` command.
pub const LREM: Command = Command {
    name: "lrem",
    arity: 4,
    flags: WRITE | KEY_DELETE,
    keys: KEY1,
    categories: LIST_WRITE_SLOW,
    group: "list",
    since: "1.0.0",
    summary: "Removes elements from a list. Deletes the list if the last element was removed.",
    syntax: "key count element",
    handler: lrem,
    subcommands: &[],
};

/// The `LTRIM` command.
pub const LTRIM: Command = Command {
    name: "ltrim",
    arity: 4,
    flags: WRITE | KEY_DELETE,
    keys: KEY1,
    categories: LIST_WRITE_SLOW,
    group: "list",
    since: "1.0.0",
    summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
    syntax: "key start stop",
    handler: ltrim,
    subcommands: &[],
};

/// `LSET key index element`: `OK`; `ERR no such key` without a list, `ERR index out of
/// range` past either end. The key is looked up before the index is read, as Redis does.
pub fn lset(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let index = args.bytes()?;
    let element = args.bytes()?;
    let set = ctx.db().write_as(
        &key,
        ctx.now_ms,
        |list: &mut List| -> Result<(), CmdError> {
            let index = sluice_resp::request::parse_i64(&index)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            // As Redis: room is made for the element before the index is checked.
            list.make_room(element.len());
            let at = list
                .resolve_index(index)
                .ok_or_else(|| CmdError(error::INDEX_OUT_OF_RANGE.into()))?;
            list.set(at, &element);
            list.shrink();
            ctx.journal(|rec| {
                rec.begin(4).arg(b"LSET").arg(&key).int(at).arg(&element);
            });
            Ok(())
        },
    )?;
    set.ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))??;
    ctx.key_ready(&key);
    ok()
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length; -1 if `pivot` is not in the
/// list, 0 without a list.
pub fn linsert(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let after = if args.eat("AFTER") {
        true
    } else if args.eat("BEFORE") {
        false
    } else {
        return Err(CmdError(error::SYNTAX.into()));
    };
    let pivot = args.bytes()?;
    let element = args.bytes()?;
    let inserted = ctx.db().write_as(&key, ctx.now_ms, |list: &mut List| {
        // Redis makes room before it looks for the pivot: a listpack that the element would
        // take past 8 KiB becomes a quicklist even when the pivot is missing.
        list.make_room(element.len());
        let at = list.position(&pivot)?;
        list.insert(at, &element, after);
        ctx.journal(|rec| {
            let place: &[u8] = if after { b"AFTER" } else { b"BEFORE" };
            rec.command(&[b"LINSERT", &key, place, &pivot, &element]);
        });
        Some(list.len())
    })?;
    Ok(Reply::Int(match inserted {
        None => 0,
        Some(None) => -1,
        Some(Some(len)) => {
            ctx.key_ready(&key);
            i64::try_from(len).unwrap_or(i64::MAX)
        }
    })
    .into())
}

/// `LREM key count element`: removes up to `count` elements equal to `element` from the head
/// (from the tail if negative, all if 0); how many it removed.
pub fn lrem(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let count = match args.i64()? {
        i64::MIN => return Err(CmdError(error::NOT_NEGATABLE.into())),
        count => count,
    };
    let element = args.bytes()?;
    let removed = ctx.db().write_as(&key, ctx.now_ms, |list: &mut List| {
        let removed = list.remove_equal(&element, count);
        if removed > 0 {
            list.shrink();
            ctx.journal(|rec| {
                rec.begin(4).arg(b"LREM").arg(&key).int(count).arg(&element);
            });
        }
        removed
    })?;
    let removed = removed.unwrap_or(0);
    if removed > 0 {
        ctx.key_ready(&key);
    }
    Ok(Reply::count(removed).into())
}

/// `LTRIM key start stop`: keeps only the elements from `start` to `stop` inclusive
/// (negative indexes count from the tail); a list left empty is removed. `OK`, with or
/// without a list.
pub fn ltrim(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let (start, stop) = (args.i64()?, args.i64()?);
    let trimmed = ctx.db().write_as(&key, ctx.now_ms, |list: &mut List| {
        let before = list.len();
        match list.resolve_range(start, stop) {
            Some((from, to)) => list.keep(from, to),
            None => list.keep(0, 0),
        }
        // Redis tries going back to a listpack even when nothing was trimmed, but, as it
        // propagates nothing then, only a trim is logged.
        list.shrink();
        let changed = list.len() != before;
        if changed {
            ctx.journal(|rec| {
                rec.begin(4).arg(b"LTRIM").arg(&key).int(start).int(stop);
            });
        }
        changed
    })?;
    if trimmed == Some(true) {
        ctx.key_ready(&key);
    }
    ok()
}
