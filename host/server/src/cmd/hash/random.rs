//! `HRANDFIELD key [count [WITHVALUES]]`: fields picked at random, distinct for a positive
//! count, with repetition for a negative one (see [`crate::cmd::collection::pick`]).

use sluice_broker::keyspace::hash::Hash;
use sluice_resp::{Args, Protocol, Reply};

use super::read::read_hash;
use crate::cmd::collection::pick::{self, Count};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `HRANDFIELD` command.
pub const HRANDFIELD: Command = Command {
    name: "hrandfield",
    arity: -2,
    flags: READONLY | TIP_RANDOM,
    keys: KEY1,
    categories: HASH_READ_SLOW,
    group: "hash",
    since: "6.2.0",
    summary: "Returns one or more random fields from a hash.",
    syntax: "key [count [WITHVALUES]]",
    handler: hrandfield,
    subcommands: &[],
};

/// `HRANDFIELD key`: one field, or nil. With a count: an array of fields; `WITHVALUES` adds
/// each value after its field (RESP2) or pairs them (RESP3, `[[field, value], …]`).
pub fn hrandfield(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let Some(count) = args.next_arg() else {
        let field = read_hash(ctx, &key, |h| {
            let i = pick::repeated(h.len(), 1).first().copied()?;
            h.nth(i).map(|(f, _)| Reply::bulk(f))
        })?;
        return Ok(field.flatten().unwrap_or(Reply::Null).into());
    };
    // Redis's order of checks: the count, then the other arguments, then the key.
    let count = Count::parse(&count)?;
    let with_values = match args.next_arg() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case(b"withvalues") && args.is_empty() => true,
        Some(_) => return Err(CmdError(error::SYNTAX.into())),
    };
    // Twice the count must fit a `long`.
    if with_values && count.signed().unsigned_abs() > (i64::MAX / 2).unsigned_abs() {
        return Err(CmdError(error::OUT_OF_RANGE.into()));
    }
    let resp3 = ctx.proto() == Protocol::Resp3;
    let picked = read_hash(ctx, &key, |h| {
        let positions = count.positions(h.len())?;
        Ok::<_, CmdError>(reply(h, &positions, with_values, resp3))
    })?
    .transpose()?;
    Ok(picked.unwrap_or(Reply::Array(Vec::new())).into())
}

/// The fields at `positions` (values too if `with_values`), in the protocol's shape.
fn reply(hash: &Hash, positions: &[usize], with_values: bool, resp3: bool) -> Reply {
    // A packed hash finds a position by walking it: list its pairs once.
    let packed: Vec<(&[u8], &[u8])> = if hash.encoding() == "listpack" {
        hash.iter().collect()
    } else {
        Vec::new()
    };
    let at = |i: usize| {
        if packed.is_empty() {
            hash.nth(i)
        } else {
            packed.get(i).copied()
        }
    };
    let mut items = Vec::with_capacity(positions.len() * if with_values { 2 } else { 1 });
    for (field, value) in positions.iter().filter_map(|&i| at(i)) {
        match (with_values, resp3) {
            (false, _) => items.push(Reply::bulk(field)),
            (true, false) => items.extend([Reply::bulk(field), Reply::bulk(value)]),
            (true, true) => items.push(Reply::Array(vec![Reply::bulk(field), Reply::bulk(value)])),
        }
    }
    Reply::Array(items)
}
