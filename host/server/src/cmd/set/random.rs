//! Random members: `SPOP` removes them, `SRANDMEMBER` only reads them. A positive count asks
//! for distinct members, `SRANDMEMBER`'s negative one for picks with repetition (see
//! [`crate::cmd::collection::pick`]).
//!
//! `SPOP` is logged as what it chose: `SREM key <the members popped>`, or `DEL key` when it
//! popped them all, so a replay removes the same members.

use std::collections::HashSet;

use sluice_broker::keyspace::set::Set;
use sluice_resp::request::parse_i64;
use sluice_resp::{Args, Reply};

use super::read::read_set;
use super::write::log_srem;
use crate::cmd::collection::pick::{self, Count};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `SPOP` command.
pub const SPOP: Command = Command {
    name: "spop",
    arity: -2,
    flags: WRITE | FAST | KEY_ACCESS | KEY_DELETE | TIP_RANDOM,
    keys: KEY1,
    categories: SET_WRITE,
    group: "set",
    since: "1.0.0",
    summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
    syntax: "key [count]",
    handler: spop,
    subcommands: &[],
};

/// The `SRANDMEMBER` command.
pub const SRANDMEMBER: Command = Command {
    name: "srandmember",
    arity: -2,
    flags: READONLY | TIP_RANDOM,
    keys: KEY1,
    categories: SET_READ_SLOW,
    group: "set",
    since: "1.0.0",
    summary: "Get one or multiple random members from a set",
    syntax: "key [count]",
    handler: srandmember,
    subcommands: &[],
};

/// When `SPOP` keeps at most one member per this many it pops, Redis builds the set anew
/// from the members it keeps (`SPOP_MOVE_STRATEGY_MUL`), which changes its encoding.
const REBUILD_RATIO: usize = 5;

/// `SPOP key`: a member removed at random, or nil. `SPOP key count`: that many (at most all),
/// a set in RESP3.
pub fn spop(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    // Redis's order of checks: the number of arguments, the count, then the key.
    if args.remaining() > 1 {
        return Err(CmdError(error::SYNTAX.into()));
    }
    let Some(count) = args.next_arg() else {
        return pop_one(ctx, key);
    };
    let count = parse_i64(&count)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| CmdError(error::NOT_POSITIVE.into()))?;
    let popped = ctx.db().write_as(&key, ctx.now_ms, |set: &mut Set| {
        let popped = pop_many(set, count);
        if set.is_empty() {
            ctx.journal(|rec| {
                rec.command(&[b"DEL", &key]);
            });
        } else if !popped.is_empty() {
            ctx.journal(|rec| log_srem(rec, &key, popped.iter().map(Vec::as_slice)));
        }
        popped
    })?;
    let popped = popped.unwrap_or_default();
    if !popped.is_empty() {
        ctx.key_ready(&key);
    }
    Ok(Reply::Set(popped.into_iter().map(Reply::bulk).collect()).into())
}

fn pop_one(ctx: &mut Ctx<'_>, key: bytes::Bytes) -> CmdResult {
    let popped = ctx.db().write_as(&key, ctx.now_ms, |set: &mut Set| {
        let i = pick::repeated(set.len(), 1).first().copied()?;
        let member = set.nth(i)?;
        set.remove(&member);
        ctx.journal(|rec| {
            rec.command(&[b"SREM", &key, &member]);
        });
        Some(member)
    })?;
    let Some(member) = popped.flatten() else {
        return Ok(Reply::Null.into());
    };
    ctx.key_ready(&key);
    Ok(Reply::bulk(member).into())
}

/// Removes `count` random members (all of them if the set has no more) and returns them.
fn pop_many(set: &mut Set, count: usize) -> Vec<Vec<u8>> {
    let size = set.len();
    if count >= size {
        let all = set.members();
        *set = Set::default();
        return all;
    }
    let kept = size - count;
    if kept.saturating_mul(REBUILD_RATIO) > count {
        let popped: Vec<Vec<u8>> = pick::distinct(size, count)
            .into_iter()
            .filter_map(|i| set.nth(i))
            .collect();
        for member in &popped {
            set.remove(member);
        }
        return popped;
    }
    // Most of the set goes: pick the members to keep and build the set anew from them, in
    // their order for a listpack (Redis walks it forward), in the order picked otherwise.
    let mut keep = pick::distinct(size, kept);
    if set.encoding() == "listpack" {
        keep.sort_unstable();
    }
    let members = set.members();
    let kept_members = keep.iter().filter_map(|&i| members.get(i));
    let rebuilt = set.rebuilt(kept_members.map(Vec::as_slice));
    let keep: HashSet<usize> = keep.into_iter().collect();
    *set = rebuilt;
    members
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !keep.contains(i))
        .map(|(_, m)| m)
        .collect()
}

/// `SRANDMEMBER key`: a member at random, or nil. `SRANDMEMBER key count`: an array of them,
/// distinct for a positive count, with repetition for a negative one.
pub fn srandmember(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError(error::SYNTAX.into()));
    }
    let Some(count) = args.next_arg() else {
        let member = read_set(ctx, &key, |s| {
            let i = pick::repeated(s.len(), 1).first().copied()?;
            s.nth(i).map(Reply::bulk)
        })?;
        return Ok(member.flatten().unwrap_or(Reply::Null).into());
    };
    let count = Count::parse(&count)?;
    let picked = read_set(ctx, &key, |s| {
        let positions = count.positions(s.len())?;
        Ok::<_, CmdError>(members_at(s, &positions))
    })?
    .transpose()?;
    Ok(Reply::Array(picked.unwrap_or_default()).into())
}

/// The members at `positions`, as replies.
fn members_at(set: &Set, positions: &[usize]) -> Vec<Reply> {
    if set.encoding() == "listpack" {
        // A packed set finds a position by walking it: list its members once.
        let members: Vec<_> = set.iter().collect();
        positions
            .iter()
            .filter_map(|&i| members.get(i).map(Reply::bulk))
            .collect()
    } else {
        positions
            .iter()
            .filter_map(|&i| set.nth(i).map(Reply::bulk))
            .collect()
    }
}
