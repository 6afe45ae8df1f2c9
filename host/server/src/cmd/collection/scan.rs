//! `HSCAN` and `SSCAN`: `key cursor [MATCH pattern] [COUNT count]`, replying
//! `[next cursor, [element …]]`.
//!
//! As in Redis, a small collection (a listpack or an intset) is returned whole in one call
//! with cursor 0, whatever the cursor and `COUNT`. A table is walked a batch at a time: its
//! elements in the order of a fixed 64-bit hash of each (a hash's fields, a set's members),
//! the cursor being the hash to resume from, as `SCAN` walks keys. Each batch holds the
//! elements whose hash lies in `[cursor, next)`, so an element present for the whole
//! iteration is returned exactly once however others come and go (Redis promises at least
//! once), and elements with equal hashes always share a batch. A batch never ends on hash 0,
//! so the reply's cursor is 0 only when nothing is left.
//!
//! Each call hashes every element of the table to find its batch: O(n) per call where Redis
//! walks O(COUNT) buckets. Tables here are an `IndexMap`/`IndexSet`, whose positions change
//! on removal and so make no cursor; a hash-ordered index beside each table would cost memory
//! and time on every write.

use std::hash::{DefaultHasher, Hasher};

use bytes::Bytes;
use sluice_broker::glob;
use sluice_resp::request::parse_i64;
use sluice_resp::{ArgError, Args, Reply};

use crate::error::{self, CmdError};

/// Elements examined per call when the client gives no `COUNT` (Redis's default).
const DEFAULT_COUNT: usize = 10;

/// `MATCH` and `COUNT`; a repeated option keeps its last value, as in Redis.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Glob the elements (a hash's fields) must match; `None` keeps all.
    pub pattern: Option<Bytes>,
    /// Elements to examine per call.
    pub count: usize,
    /// `SCAN`'s `TYPE`: the type to keep, as sent (compared ignoring case); `None` keeps all.
    pub type_name: Option<Bytes>,
}

impl ScanOptions {
    /// The options after the cursor of `HSCAN` and `SSCAN`. `TYPE` (only `SCAN`'s) and
    /// `NOVALUES` (Redis 7.4) are syntax errors, as in Redis 7.2.
    pub fn parse(args: &mut Args) -> Result<Self, CmdError> {
        Self::parse_with(args, false)
    }

    /// The options after `SCAN`'s cursor, `TYPE` included.
    pub fn parse_keys(args: &mut Args) -> Result<Self, CmdError> {
        Self::parse_with(args, true)
    }

    fn parse_with(args: &mut Args, with_type: bool) -> Result<Self, CmdError> {
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
            } else if with_type && option.eq_ignore_ascii_case(b"type") {
                options.type_name = Some(args.bytes()?);
            } else {
                return Err(ArgError::Syntax.into());
            }
        }
        Ok(options)
    }

    /// True if `element` passes `MATCH`.
    pub fn keeps(&self, element: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|pattern| glob::matches(pattern, element, false))
    }
}

/// The cursor argument, as Redis 7.2 reads it with C's `strtoul`: an optional sign (a minus
/// negates modulo 2^64), decimal digits, nothing after; an empty argument is 0; leading
/// whitespace and values past `u64::MAX` are `ERR invalid cursor`. C reads the text up to its
/// first NUL byte. `SCAN`, `HSCAN` and `SSCAN` read it alike.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError(error::INVALID_CURSOR.to_owned());
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    let text = arg.get(..end).unwrap_or_default();
    let (negative, digits) = match text {
        [] => return Ok(0),
        [b' ' | b'\t'..=b'\r', ..] => return Err(invalid()),
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// An element's place in the walk: a fixed hash of its bytes (SipHash with zero keys), the
/// same for the life of the process whatever else the table holds.
pub fn element_hash(element: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(element);
    hasher.finish()
}

/// One step of a walk over `items` (`(hash, item)` pairs, in any order): the items whose hash
/// is at least `cursor`, lowest hashes first, `count` of them plus any sharing the last one's
/// hash; and the cursor to resume from, the lowest hash left behind (0 when none is).
pub fn walk<T>(mut items: Vec<(u64, T)>, cursor: u64, count: usize) -> (u64, Vec<T>) {
    items.retain(|&(hash, _)| hash >= cursor);
    let count = count.max(1);
    let mut next = 0;
    if items.len() > count {
        let (_, nth, _) = items.select_nth_unstable_by_key(count - 1, |&(hash, _)| hash);
        let last = nth.0;
        let (batch, rest): (Vec<_>, Vec<_>) =
            items.into_iter().partition(|&(hash, _)| hash <= last);
        // Every hash in `rest` is above `last`, itself at least `cursor`: never 0.
        next = rest.iter().map(|&(hash, _)| hash).min().unwrap_or(0);
        items = batch;
    }
    items.sort_unstable_by_key(|&(hash, _)| hash);
    (next, items.into_iter().map(|(_, item)| item).collect())
}

/// The reply: `[next cursor, [element …]]`, an array in RESP2 and RESP3 alike.
pub fn reply(next: u64, elements: Vec<Reply>) -> Reply {
    let mut digits = itoa::Buffer::new();
    Reply::Array(vec![
        Reply::bulk(digits.format(next)),
        Reply::Array(elements),
    ])
}

/// `[0, []]`: a missing key, an empty collection.
pub fn empty() -> Reply {
    reply(0, Vec::new())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn member(n: u64) -> Vec<u8> {
        format!("m:{n}").into_bytes()
    }

    /// Runs a whole walk; `between` may change the elements after each step. Returns every
    /// element returned, with how many times.
    fn full_walk(
        elements: &mut BTreeSet<Vec<u8>>,
        count: usize,
        hash: impl Fn(&[u8]) -> u64,
        mut between: impl FnMut(&mut BTreeSet<Vec<u8>>, usize),
    ) -> BTreeMap<Vec<u8>, usize> {
        let mut seen = BTreeMap::new();
        let mut cursor = 0;
        for step in 0.. {
            let items = elements.iter().map(|e| (hash(e), e.clone())).collect();
            let (next, batch) = walk(items, cursor, count);
            for e in batch {
                *seen.entry(e).or_insert(0) += 1;
            }
            if next == 0 {
                break;
            }
            assert!(next > cursor, "the cursor only moves forward");
            cursor = next;
            between(elements, step);
        }
        seen
    }

    #[test]
    fn a_still_table_is_returned_once_whatever_the_count() {
        for count in [1, 3, 10, 1000] {
            let mut elements: BTreeSet<Vec<u8>> = (0..300).map(member).collect();
            let seen = full_walk(&mut elements, count, element_hash, |_, _| {});
            assert_eq!(seen.len(), 300);
            assert!(seen.values().all(|&n| n == 1));
        }
    }

    #[test]
    fn elements_present_throughout_are_returned_while_others_come_and_go() {
        let stable: BTreeSet<Vec<u8>> = (0..150).map(member).collect();
        let mut elements = stable.clone();
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let seen = full_walk(&mut elements, 5, element_hash, |elements, step| {
            for _ in 0..4 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let n = 1000 + rng % 300;
                if rng.is_multiple_of(3) {
                    elements.remove(&member(n));
                } else {
                    elements.insert(member(n));
                }
            }
            assert!(step < 10_000, "the walk ends");
        });
        for e in &stable {
            assert_eq!(seen.get(e), Some(&1), "{e:?}");
        }
    }

    #[test]
    fn equal_hashes_share_a_batch() {
        let hash = |e: &[u8]| u64::from(e.last().copied().unwrap_or(0) % 3) + 1;
        let mut elements: BTreeSet<Vec<u8>> = (0..10).map(member).collect();
        let mut batches = Vec::new();
        let mut cursor = 0;
        loop {
            let items = elements.iter().map(|e| (hash(e), e.clone())).collect();
            let (next, batch) = walk(items, cursor, 1);
            batches.push(batch.len());
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(batches, vec![4, 3, 3]);
        assert_eq!(full_walk(&mut elements, 2, hash, |_, _| {}).len(), 10);
    }

    #[test]
    fn cursors_read_as_strtoul_reads_them() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+12"), Ok(12));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"007"), Ok(7));
        assert_eq!(parse_cursor(b"-0"), Ok(0));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Ok(1));
        assert_eq!(parse_cursor(b"7\0junk"), Ok(7));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"\x0b5",
            b"1 ",
            b"x",
            b"0x10",
            b"+",
            b"-",
            b"--1",
            b"1.5",
        ] {
            assert_eq!(
                parse_cursor(bad),
                Err(CmdError(error::INVALID_CURSOR.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn options_follow_redis() {
        let parse = |words: &[&str]| {
            let mut all = vec![Bytes::from_static(b"hscan")];
            all.extend(words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())));
            ScanOptions::parse(&mut Args::new(all))
        };
        let options = parse(&["MATCH", "a*", "count", "3", "match", "b*"]).expect("valid options");
        assert_eq!(
            (options.pattern.as_deref(), options.count),
            (Some(&b"b*"[..]), 3)
        );
        assert!(options.keeps(b"bee") && !options.keeps(b"ant"));
        let syntax = Err(CmdError(error::SYNTAX.into()));
        assert_eq!(parse(&["COUNT", "0"]).map(|o| o.count), syntax);
        assert_eq!(parse(&["COUNT"]).map(|o| o.count), syntax);
        assert_eq!(parse(&["NOVALUES"]).map(|o| o.count), syntax);
        assert_eq!(parse(&["TYPE", "hash"]).map(|o| o.count), syntax);
        assert_eq!(
            parse(&["COUNT", "x"]).map(|o| o.count),
            Err(CmdError(error::NOT_INTEGER.into()))
        );
    }
}
