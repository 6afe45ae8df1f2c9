//! Adding and removing members: `SADD`, `SREM`, and `SMOVE` between two sets.
//!
//! `SADD` is logged as given (so a replay sizes the set as this run did), `SREM` with the
//! members it removed, `SMOVE` as an `SREM` and an `SADD` in one record.

use bytes::Bytes;
use sluice_broker::keyspace::set::Set;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `SADD` command.
pub const SADD: Command = Command {
    name: "sadd",
    arity: -3,
    flags: WRITE | DENYOOM | FAST | KEY_INSERT,
    keys: KEY1,
    categories: SET_WRITE,
    group: "set",
    since: "1.0.0",
    summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
    syntax: "key member [member ...]",
    handler: sadd,
    subcommands: &[],
};

/// The `SREM` command.
pub const SREM: Command = Command {
    name: "srem",
    arity: -3,
    flags: WRITE | FAST | KEY_DELETE,
    keys: KEY1,
    categories: SET_WRITE,
    group: "set",
    since: "1.0.0",
    summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
    syntax: "key member [member ...]",
    handler: srem,
    subcommands: &[],
};

/// The `SMOVE` command. It changes two keys, so it takes the keyspace to itself
/// (`EXCLUSIVE`): nobody sees the member in neither set or in both.
pub const SMOVE: Command = Command {
    name: "smove",
    arity: 4,
    flags: WRITE | FAST | EXCLUSIVE | KEY_MOVE,
    keys: (1, 2, 1),
    categories: SET_WRITE,
    group: "set",
    since: "1.0.0",
    summary: "Moves a member from one set to another.",
    syntax: "source destination member",
    handler: smove,
    subcommands: &[],
};

/// `SADD key member [member ...]`: how many members are new.
pub fn sadd(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let members: Vec<Bytes> = args.rest().to_vec();
    let added = ctx
        .db()
        .write_or_create_as(&key, ctx.now_ms, |set: &mut Set, created| {
            let encoding = set.encoding();
            match (created, members.first()) {
                (true, Some(first)) => *set = Set::for_members(first, members.len()),
                _ => set.reserve_for(members.len()),
            }
            let added = members.iter().filter(|m| set.insert(m)).count();
            // Sizing for many arguments may change the encoding even when nothing is new.
            if added > 0 || set.encoding() != encoding {
                ctx.journal(|rec| {
                    rec.begin(2 + members.len()).arg(b"SADD").arg(&key);
                    for member in &members {
                        rec.arg(member);
                    }
                });
            }
            added
        })?;
    if added > 0 {
        ctx.key_ready(&key);
    }
    Ok(Reply::count(added).into())
}

/// `SREM key member [member ...]`: how many of the members were there (removing the set once
/// it has none).
pub fn srem(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let members: Vec<Bytes> = args.rest().to_vec();
    let removed = ctx.db().write_as(&key, ctx.now_ms, |set: &mut Set| {
        let removed: Vec<&Bytes> = members.iter().filter(|m| set.remove(m)).collect();
        if !removed.is_empty() {
            ctx.journal(|rec| log_srem(rec, &key, removed.iter().map(|m| &m[..])));
        }
        removed.len()
    })?;
    let removed = removed.unwrap_or(0);
    if removed > 0 {
        ctx.key_ready(&key);
    }
    Ok(Reply::count(removed).into())
}

/// Adds `SREM key member…` to a log record.
pub(super) fn log_srem<'a>(
    rec: &mut sluice_broker::persist::Record,
    key: &[u8],
    members: impl ExactSizeIterator<Item = &'a [u8]>,
) {
    rec.begin(2 + members.len()).arg(b"SREM").arg(key);
    for member in members {
        rec.arg(member);
    }
}

/// `SMOVE source destination member`: 1 if the member was in `source` (and now is in
/// `destination`), 0 if not. Runs with the keyspace gate held exclusively.
pub fn smove(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let source = args.bytes()?;
    let destination = args.bytes()?;
    let member = args.bytes()?;
    let db = ctx.db();
    let now = ctx.now_ms;
    // Redis's order: a missing source answers 0 whatever the destination holds; then both
    // keys' types are checked before anything changes.
    let Some(present) = db.read_as(&source, now, |s: &Set| s.contains(&member))? else {
        return Ok(Reply::Int(0).into());
    };
    db.read_as(&destination, now, |_: &Set| ())?;
    if source == destination || !present {
        return Ok(Reply::Int(i64::from(present)).into());
    }
    db.write_as(&source, now, |s: &mut Set| s.remove(&member))?;
    db.write_or_create_as(&destination, now, |s: &mut Set, created| {
        if created {
            *s = Set::for_members(&member, 1);
        }
        s.insert(&member)
    })?;
    // The gate is held exclusively: logging after the change keeps the log's order.
    ctx.journal(|rec| {
        rec.command(&[b"SREM", &source, &member]);
        rec.command(&[b"SADD", &destination, &member]);
    });
    ctx.key_ready(&source);
    ctx.key_ready(&destination);
    Ok(Reply::Int(1).into())
}
