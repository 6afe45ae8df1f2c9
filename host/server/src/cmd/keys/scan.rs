//! Listing key names: `KEYS pattern` all at once, and `SCAN cursor [MATCH pattern]
//! [COUNT count] [TYPE type]`, iterating a batch at a time without holding anything between
//! calls.
//!
//! `SCAN`'s order and cursor are the keyspace's ([`sluice_broker::keyspace::Db::scan`]): a
//! key present for the whole iteration is returned exactly once.

use bytes::Bytes;
use sluice_resp::request::parse_i64;
use sluice_resp::{ArgError, Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};
use sluice_broker::glob;

/// Keys examined per call when the client gives no `COUNT` (Redis's default).
const DEFAULT_COUNT: usize = 10;

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
    categories: &["keyspace", "read", "slow"],
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
    let cursor =
        parse_cursor(&args.bytes()?).ok_or_else(|| CmdError(error::INVALID_CURSOR.to_owned()))?;
    let options = ScanOptions::parse(args)?;
    let (next, batch) = ctx.db().scan(cursor, options.count, ctx.now_ms);
    let keys = batch
        .into_iter()
        .filter(|key| {
            options
                .pattern
                .as_ref()
                .is_none_or(|pattern| glob::matches(pattern, key, false))
        })
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

/// The options after the cursor; a repeated option keeps its last value, as in Redis.
#[derive(Debug)]
struct ScanOptions {
    pattern: Option<Bytes>,
    count: usize,
    /// Type to keep, as sent (compared ignoring case); `None` keeps every key.
    type_name: Option<Bytes>,
}

impl ScanOptions {
    fn parse(args: &mut Args) -> Result<Self, CmdError> {
        let mut options = Self {
            pattern: None,
            count: DEFAULT_COUNT,
            type_name: None,
        };
        while let Some(option) = args.next_arg() {
            if option.eq_ignore_ascii_case(b"count") {
                let count = parse_i64(&args.bytes()?).ok_or(ArgError::NotInteger)?;
                if count < 1 {
                    return Err(ArgError::Syntax.into());
                }
                options.count = usize::try_from(count).unwrap_or(usize::MAX);
            } else if option.eq_ignore_ascii_case(b"match") {
                let pattern = args.bytes()?;
                // `*` matches everything: skip the matching.
                options.pattern = (pattern.as_ref() != b"*").then_some(pattern);
            } else if option.eq_ignore_ascii_case(b"type") {
                options.type_name = Some(args.bytes()?);
            } else {
                return Err(ArgError::Syntax.into());
            }
        }
        Ok(options)
    }
}

/// Parses a cursor as Redis does, with C's `strtoul`: an optional sign (a minus negates
/// modulo 2^64), decimal digits, nothing after; an empty argument is 0; leading whitespace
/// and values past `u64::MAX` are refused. C reads the text up to its first NUL byte.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    let text = arg.get(..end).unwrap_or_default();
    let (negative, digits) = match text {
        [] => return Some(0),
        [b' ' | b'\t'..=b'\r', ..] => return None,
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"12\0junk"), Some(12));
        for bad in [
            &b"18446744073709551616"[..],
            b" 5",
            b"\x0b5",
            b"5 ",
            b"0x10",
            b"+",
            b"-",
            b"abc",
            b"--1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }
}
