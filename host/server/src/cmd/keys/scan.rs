//! Listing key names: `KEYS pattern` all at once, and `SCAN cursor [MATCH pattern]
//! [COUNT count] [TYPE type]`, iterating a batch at a time without holding anything between
//! calls.
//!
//! `SCAN`'s order and cursor are the keyspace's ([`sluice_broker::keyspace::Db::scan`]): a
//! key present for the whole iteration is returned exactly once.

use sluice_broker::glob;
use sluice_resp::{Args, Reply};

use crate::cmd::collection::scan::{ScanOptions, parse_cursor};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `KEYS` command.
pub const KEYS: Command = Command {
    name: "keys",
    arity: 2,
    flags: READONLY,
    keys: NOKEYS,
    categories: &["keyspace", "read", "slow", "dangerous"],
    group: "generic",
    since: "1.0.0",
    summary: "Returns all key names that match a pattern.",
    syntax: "pattern",
    handler: keys,
    subcommands: &[],
};

/// `KEYS pattern`: every live key whose name matches the glob, in no particular order.
pub fn keys(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let pattern = args.bytes()?;
    let names = ctx
        .db()
        .key_names(ctx.now_ms)
        .into_iter()
        .filter(|name| glob::matches(&pattern, name, false))
        .map(Reply::Bulk)
        .collect();
    Ok(Reply::Array(names).into())
}

/// The `SCAN` command.
pub const SCAN: Command = Command {
    name: "scan",
    arity: -2,
    flags: READONLY,
    keys: NOKEYS,
    categories: KEYSPACE_READ_SLOW,
    group: "generic",
    since: "2.8.0",
    summary: "Iterates over the key names in the database.",
    syntax: "cursor [MATCH pattern] [COUNT count] [TYPE type]",
    handler: scan,
    subcommands: &[],
};

/// `SCAN`: replies `[next cursor, [key …]]`. `COUNT` is how many keys to examine, so `MATCH`
/// and `TYPE` may leave a batch short or empty while the iteration goes on.
pub fn scan(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // Redis parses the cursor before the options: a bad cursor wins over a syntax error.
    let cursor = parse_cursor(&args.bytes()?)?;
    let options = ScanOptions::parse_keys(args)?;
    let (next, batch) = ctx.db().scan(cursor, options.count, ctx.now_ms);
    let keys = batch
        .into_iter()
        .filter(|key| options.keeps(key))
        .filter(|key| match &options.type_name {
            None => true,
            Some(name) => {
                // Redis looks each key up to learn its type, counting a hit.
                let found = ctx.db().type_of(key, ctx.now_ms);
                ctx.count_lookup(found.is_some());
                found.is_some_and(|t| name.eq_ignore_ascii_case(t.as_bytes()))
            }
        })
        .map(Reply::Bulk)
        .collect();
    let mut digits = itoa::Buffer::new();
    Ok(Reply::Array(vec![Reply::bulk(digits.format(next)), Reply::Array(keys)]).into())
}
