//! `SSCAN key cursor [MATCH pattern] [COUNT count]`: a set's members a batch at a time (see
//! [`crate::cmd::collection::scan`]).

use std::borrow::Cow;

use sluice_broker::keyspace::set::Set;
use sluice_resp::{Args, Reply};

use super::read::read_set;
use crate::cmd::collection::scan::{self, ScanOptions};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `SSCAN` command.
pub const SSCAN: Command = Command {
    name: "sscan",
    arity: -3,
    flags: READONLY | TIP_RANDOM,
    keys: KEY1,
    categories: SET_READ_SLOW,
    group: "set",
    since: "2.8.0",
    summary: "Iterates over members of a set.",
    syntax: "key cursor [MATCH pattern] [COUNT count]",
    handler: sscan,
    subcommands: &[],
};

/// `SSCAN`: `[next cursor, [member …]]`.
pub fn sscan(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let cursor = scan::parse_cursor(&args.bytes()?)?;
    // Redis reads the options only once it has found the set: a missing key answers an
    // empty scan whatever follows the cursor.
    let options = ScanOptions::parse(args);
    let batch = read_set(ctx, &key, |s| options.map(|o| batch(s, cursor, &o)))?;
    Ok(batch.transpose()?.unwrap_or_else(scan::empty).into())
}

fn batch(set: &Set, cursor: u64, options: &ScanOptions) -> Reply {
    let (next, members): (u64, Vec<Cow<'_, [u8]>>) = if set.encoding() == "hashtable" {
        let hashed = set.iter().map(|m| (scan::element_hash(&m), m));
        scan::walk(hashed.collect(), cursor, options.count)
    } else {
        // Redis returns an intset or a listpack whole, with cursor 0.
        (0, set.iter().collect())
    };
    let items = members
        .into_iter()
        .filter(|m| options.keeps(m))
        .map(Reply::bulk)
        .collect();
    scan::reply(next, items)
}
