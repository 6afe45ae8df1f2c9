//! Listing key names: `KEYS pattern` all at once, and `SCAN cursor [MATCH pattern]
//! [COUNT count] [TYPE type]`, iterating a batch at a time without holding anything between
//! calls.
//!
//! `SCAN` visits keys in the order of a fixed 64-bit hash of their name, and the cursor is
//! the hash to resume from. Each batch holds every live key whose hash lies in `[cursor, next)`,
//! so a key present for the whole iteration is returned exactly once, however keys come and
//! go meanwhile (Redis promises "at least once"). Keys with equal hashes always land in the
//! same batch, so a collision cannot split them across a cursor. Cursor 0 starts an
//! iteration and ends it; a batch never ends on hash 0, so the reply's cursor is 0 only when
//! nothing is left.

use std::hash::{DefaultHasher, Hasher};

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
    // O(n) per call: every key name is listed and hashed to find the batch, where Redis walks
    // O(COUNT) buckets of its hash table. A hash-ordered index beside the keyspace map would
    // make this O(COUNT + log n), at a cost on every key creation and deletion.
    let named: Vec<(u64, Bytes)> = ctx
        .db()
        .key_names(ctx.now_ms)
        .into_iter()
        .map(|key| (scan_hash(&key), key))
        .collect();
    let (next, batch) = scan_step(named, cursor, options.count);
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

/// A key's place in the scan order: a fixed hash of its name (SipHash with zero keys), the
/// same for the life of the process whatever else the keyspace holds.
fn scan_hash(key: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(key);
    hasher.finish()
}

/// One step of a scan over `named` (`(hash, key)` pairs, in any order): the keys whose hash
/// is at least `cursor`, lowest hashes first, `count` of them plus any sharing the last one's
/// hash; and the cursor to resume from, the lowest hash left behind (0 when none is).
fn scan_step(mut named: Vec<(u64, Bytes)>, cursor: u64, count: usize) -> (u64, Vec<Bytes>) {
    named.retain(|&(hash, _)| hash >= cursor);
    let count = count.max(1);
    let mut next = 0;
    if named.len() > count {
        let (_, nth, _) = named.select_nth_unstable_by_key(count - 1, |&(hash, _)| hash);
        let last = nth.0;
        let (batch, rest): (Vec<_>, Vec<_>) =
            named.into_iter().partition(|&(hash, _)| hash <= last);
        // Every hash in `rest` is above `last`, itself at least `cursor`: never 0.
        next = rest.iter().map(|&(hash, _)| hash).min().unwrap_or(0);
        named = batch;
    }
    named.sort_unstable_by_key(|&(hash, _)| hash);
    (next, named.into_iter().map(|(_, key)| key).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn key(n: u64) -> Bytes {
        Bytes::from(format!("key:{n}"))
    }

    /// Runs a whole scan; `between` may change the key set after each step. Returns every key
    /// returned, with how many times.
    fn full_scan(
        keys: &mut BTreeSet<Bytes>,
        count: usize,
        hash: impl Fn(&[u8]) -> u64,
        mut between: impl FnMut(&mut BTreeSet<Bytes>, usize),
    ) -> BTreeMap<Bytes, usize> {
        let mut seen = BTreeMap::new();
        let mut cursor = 0;
        for step in 0.. {
            let named = keys.iter().map(|k| (hash(k), k.clone())).collect();
            let (next, batch) = scan_step(named, cursor, count);
            for k in batch {
                *seen.entry(k).or_insert(0) += 1;
            }
            if next == 0 {
                break;
            }
            assert!(next > cursor, "the cursor only moves forward");
            cursor = next;
            between(keys, step);
        }
        seen
    }

    #[test]
    fn a_still_keyspace_is_returned_once_whatever_the_count() {
        for count in [1, 3, 10, 1000] {
            let mut keys: BTreeSet<Bytes> = (0..200).map(key).collect();
            let seen = full_scan(&mut keys, count, scan_hash, |_, _| {});
            assert_eq!(seen.len(), 200);
            assert!(seen.values().all(|&n| n == 1));
        }
        let seen = full_scan(&mut BTreeSet::new(), 10, scan_hash, |_, _| {});
        assert!(seen.is_empty());
    }

    #[test]
    fn keys_present_throughout_are_returned_once_while_others_come_and_go() {
        let stable: BTreeSet<Bytes> = (0..100).map(key).collect();
        let mut keys = stable.clone();
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let seen = full_scan(&mut keys, 7, scan_hash, |keys, step| {
            // Add some keys and remove some of the ones added earlier.
            for _ in 0..5 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let n = 1000 + rng % 500;
                if rng.is_multiple_of(3) {
                    keys.remove(&key(n));
                } else {
                    keys.insert(key(n));
                }
            }
            assert!(step < 10_000, "the scan terminates");
        });
        for k in &stable {
            assert_eq!(seen.get(k), Some(&1), "{k:?}");
        }
        assert!(seen.values().all(|&n| n == 1));
    }

    #[test]
    fn equal_hashes_share_a_batch() {
        // Ten keys on three hashes: a batch never splits a hash, so COUNT 1 still works.
        let hash = |k: &[u8]| u64::from(k.last().copied().unwrap_or(0) % 3) + 1;
        let mut keys: BTreeSet<Bytes> = (0..10).map(key).collect();
        let mut batches = Vec::new();
        let mut cursor = 0;
        loop {
            let named = keys.iter().map(|k| (hash(k), k.clone())).collect();
            let (next, batch) = scan_step(named, cursor, 1);
            batches.push(batch.len());
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(batches, vec![4, 3, 3]);
        let seen = full_scan(&mut keys, 2, hash, |_, _| {});
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn a_key_hashing_to_zero_does_not_end_the_scan() {
        let named = vec![(0, key(0)), (5, key(5))];
        assert_eq!(scan_step(named.clone(), 0, 1), (5, vec![key(0)]));
        assert_eq!(scan_step(named, 5, 1), (0, vec![key(5)]));
    }

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
