//! `HSCAN key cursor [MATCH pattern] [COUNT count]`: a hash's fields and values a batch at a
//! time (see [`crate::cmd::collection::scan`]). `MATCH` applies to the fields.

use sluice_broker::keyspace::hash::Hash;
use sluice_resp::{Args, Reply};

use super::read::read_hash;
use crate::cmd::collection::scan::{self, ScanOptions};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `HSCAN` command.
pub const HSCAN: Command = Command {
    name: "hscan",
    arity: -3,
    flags: READONLY | TIP_RANDOM,
    keys: KEY1,
    categories: HASH_READ_SLOW,
    group: "hash",
    since: "2.8.0",
    summary: "Iterates over fields and values of a hash.",
    syntax: "key cursor [MATCH pattern] [COUNT count]",
    handler: hscan,
    subcommands: &[],
};

/// `HSCAN`: `[next cursor, [field, value, …]]`.
pub fn hscan(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let cursor = scan::parse_cursor(&args.bytes()?)?;
    // Redis reads the options only once it has found the hash: a missing key answers an
    // empty scan whatever follows the cursor.
    let options = ScanOptions::parse(args);
    let batch = read_hash(ctx, &key, |h| options.map(|o| batch(h, cursor, &o)))?;
    Ok(batch.transpose()?.unwrap_or_else(scan::empty).into())
}

fn batch(hash: &Hash, cursor: u64, options: &ScanOptions) -> Reply {
    let (next, pairs) = if hash.encoding() == "listpack" {
        // Redis returns a listpack whole, with cursor 0.
        (0, hash.iter().collect())
    } else {
        let hashed = hash.iter().map(|(f, v)| (scan::element_hash(f), (f, v)));
        scan::walk(hashed.collect(), cursor, options.count)
    };
    let items = pairs
        .into_iter()
        .filter(|(f, _)| options.keeps(f))
        .flat_map(|(f, v)| [Reply::bulk(f), Reply::bulk(v)])
        .collect();
    scan::reply(next, items)
}
