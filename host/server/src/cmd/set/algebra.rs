//! Combining sets: `SINTER`, `SUNION`, `SDIFF`, each a set in RESP3 (an array in RESP2). A
//! missing key is an empty set; any key of another type is `WRONGTYPE`, even after a missing
//! one, since Redis looks every key up before combining.
//!
//! The replies list members in the order Valkey 8.1 gives (Redis promises none): `SINTER`
//! walks the smallest set; `SUNION` and `SDIFF` list their result as a set of intsets would
//! hold it (ascending) when every input is an intset, else in the order members were added
//! to it.
//!
//! Each key is read under its own lock, one after the other: like `MGET`, these commands do
//! not take the keyspace to themselves, so a write to another key may land between two reads.

use std::borrow::Cow;
use std::collections::HashSet;

use bytes::Bytes;
use sluice_broker::keyspace::set::Set;
use sluice_resp::{Args, Reply};

use super::read::read_set;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::CmdError;

/// The `SINTER` command.
pub const SINTER: Command = Command {
    name: "sinter",
    arity: -2,
    flags: READONLY | TIP_UNORDERED,
    keys: ALLKEYS,
    categories: SET_READ_SLOW,
    group: "set",
    since: "1.0.0",
    summary: "Returns the intersect of multiple sets.",
    syntax: "key [key ...]",
    handler: sinter,
    subcommands: &[],
};

/// The `SUNION` command.
pub const SUNION: Command = Command {
    name: "sunion",
    arity: -2,
    flags: READONLY | TIP_UNORDERED,
    keys: ALLKEYS,
    categories: SET_READ_SLOW,
    group: "set",
    since: "1.0.0",
    summary: "Returns the union of multiple sets.",
    syntax: "key [key ...]",
    handler: sunion,
    subcommands: &[],
};

/// The `SDIFF` command.
pub const SDIFF: Command = Command {
    name: "sdiff",
    arity: -2,
    flags: READONLY | TIP_UNORDERED,
    keys: ALLKEYS,
    categories: SET_READ_SLOW,
    group: "set",
    since: "1.0.0",
    summary: "Returns the difference of multiple sets.",
    syntax: "key [key ...]",
    handler: sdiff,
    subcommands: &[],
};

/// What [`look_up`] learns of a key.
#[derive(Debug, Clone, Copy)]
struct Found {
    len: usize,
    intset: bool,
}

/// Each key's size and form (`None`: missing), failing on the first key of another type.
fn look_up(ctx: &Ctx<'_>, keys: &[Bytes]) -> Result<Vec<Option<Found>>, CmdError> {
    keys.iter()
        .map(|key| {
            let found = read_set(ctx, key, |s| Found {
                len: s.len(),
                intset: s.encoding() == "intset",
            })?;
            Ok(found)
        })
        .collect()
}

/// Runs `f` on the set at `key` without counting a lookup (each was counted by [`look_up`]).
fn with_set<R>(
    ctx: &Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&Set) -> R,
) -> Result<Option<R>, CmdError> {
    Ok(ctx.db().read_as(key, ctx.now_ms, f)?)
}

fn owned_members(set: &Set) -> Vec<Vec<u8>> {
    set.iter().map(Cow::into_owned).collect()
}

fn reply<T: AsRef<[u8]>>(members: impl IntoIterator<Item = T>) -> CmdResult {
    Ok(Reply::Set(members.into_iter().map(Reply::bulk).collect()).into())
}

/// `SINTER key [key ...]`: the members in every set.
pub fn sinter(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let keys: Vec<Bytes> = args.rest().to_vec();
    let found = look_up(ctx, &keys)?;
    // Smallest set first, equal sizes in the order given (Redis sorts them so).
    let mut order: Vec<(usize, &Bytes)> = Vec::with_capacity(keys.len());
    for (found, key) in found.iter().zip(&keys) {
        let Some(found) = found else {
            return reply(Vec::<Vec<u8>>::new());
        };
        order.push((found.len, key));
    }
    order.sort_by_key(|&(size, _)| size);
    let Some((&(_, first), others)) = order.split_first() else {
        return reply(Vec::<Vec<u8>>::new());
    };
    let mut members = with_set(ctx, first, owned_members)?.unwrap_or_default();
    for &(_, key) in others {
        if members.is_empty() {
            break;
        }
        if key == first {
            continue;
        }
        let found = with_set(ctx, key, |s| members.retain(|m| s.contains(m)))?;
        if found.is_none() {
            members.clear();
        }
    }
    reply(members)
}

/// `SUNION key [key ...]`: the members in any of the sets.
pub fn sunion(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let keys: Vec<Bytes> = args.rest().to_vec();
    let found = look_up(ctx, &keys)?;
    if found.iter().flatten().all(|f| f.intset) {
        // Integers only: gathered as in an intset (a table past 512 of them).
        let mut union = Set::default();
        for key in &keys {
            with_set(ctx, key, |s| {
                for member in s.iter() {
                    union.insert(&member);
                }
            })?;
        }
        return reply(union.iter());
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut union: Vec<Vec<u8>> = Vec::new();
    for key in &keys {
        with_set(ctx, key, |s| {
            for member in s.iter() {
                if !seen.contains(&*member) {
                    seen.insert(member.to_vec());
                    union.push(member.into_owned());
                }
            }
        })?;
    }
    reply(union)
}

/// `SDIFF key [key ...]`: the members of the first set in none of the others, in the first
/// set's order.
pub fn sdiff(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let keys: Vec<Bytes> = args.rest().to_vec();
    let found = look_up(ctx, &keys)?;
    let (Some(first), Some(Some(_))) = (keys.first(), found.first()) else {
        return reply(Vec::<Vec<u8>>::new());
    };
    let others = keys.get(1..).unwrap_or_default();
    if others.contains(first) {
        return reply(Vec::<Vec<u8>>::new());
    }
    let mut members = with_set(ctx, first, owned_members)?.unwrap_or_default();
    for key in others {
        if members.is_empty() {
            break;
        }
        with_set(ctx, key, |s| members.retain(|m| !s.contains(m)))?;
    }
    reply(members)
}
