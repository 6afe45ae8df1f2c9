//! Random picks for `HRANDFIELD`, `SRANDMEMBER` and `SPOP`, as positions in the collection's
//! order.
//!
//! Redis's rules: a positive count asks for that many distinct elements (the whole collection,
//! in its order, when it has no more); a negative count for that many independent picks, with
//! repetition. The positions come from `fastrand`, a small PRNG seeded per thread: picks must
//! be unpredictable enough for sampling, not for secrets.

use std::collections::HashSet;

use sluice_resp::request::parse_i64;

use crate::error::{self, CmdError};

/// Most picks with repetition one reply holds (a negative count past it is refused). Redis
/// streams such a reply to the socket; Sluice builds it in memory first, so it bounds it:
/// 4 Mi picks of 64-byte members already make a 300 MB reply.
pub const MAX_REPEATED_PICKS: u64 = 1 << 22;

/// What a count argument asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// That many distinct elements, at most the whole collection.
    Distinct(u64),
    /// That many picks, each from the whole collection.
    Repeated(u64),
}

impl Count {
    /// The count argument of `HRANDFIELD` and `SRANDMEMBER`: an integer in
    /// `-LONG_MAX..=LONG_MAX`, negative for picks with repetition.
    pub fn parse(arg: &[u8]) -> Result<Count, CmdError> {
        let n = parse_i64(arg).ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
        if n == i64::MIN {
            return Err(CmdError(error::RANDOM_COUNT_RANGE.into()));
        }
        Ok(if n < 0 {
            Count::Repeated(n.unsigned_abs())
        } else {
            Count::Distinct(n.unsigned_abs())
        })
    }

    /// The count as given, signed (it fits: `parse` refuses `i64::MIN`).
    pub fn signed(self) -> i64 {
        match self {
            Count::Distinct(n) => i64::try_from(n).unwrap_or(i64::MAX),
            Count::Repeated(n) => i64::try_from(n).map_or(i64::MIN, |n| -n),
        }
    }

    /// The positions to reply with, from a collection of `size` elements; refused for more
    /// picks with repetition than [`MAX_REPEATED_PICKS`].
    pub fn positions(self, size: usize) -> Result<Vec<usize>, CmdError> {
        match self {
            Count::Distinct(n) => Ok(distinct(size, usize::try_from(n).unwrap_or(usize::MAX))),
            Count::Repeated(n) if n > MAX_REPEATED_PICKS => {
                Err(error::too_many_picks(MAX_REPEATED_PICKS))
            }
            Count::Repeated(n) => Ok(repeated(size, usize::try_from(n).unwrap_or(0))),
        }
    }
}

/// `count` distinct positions below `size`: all of them, in order, if `count` reaches `size`;
/// else a random selection in random order.
pub fn distinct(size: usize, count: usize) -> Vec<usize> {
    if count >= size {
        return (0..size).collect();
    }
    if count.saturating_mul(3) > size {
        // Most of them: shuffle the first `count` places of all positions.
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            all.swap(i, fastrand::usize(i..size));
        }
        all.truncate(count);
        return all;
    }
    // A few of many: draw until enough distinct ones came up.
    let mut seen = HashSet::with_capacity(count);
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let i = fastrand::usize(..size);
        if seen.insert(i) {
            picked.push(i);
        }
    }
    picked
}

/// `count` independent positions below `size` (none for an empty collection).
pub fn repeated(size: usize, count: usize) -> Vec<usize> {
    if size == 0 {
        return Vec::new();
    }
    (0..count).map(|_| fastrand::usize(..size)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_positions_are_distinct_and_in_range() {
        for (size, count) in [
            (10, 3),
            (10, 4),
            (10, 9),
            (1000, 5),
            (5, 5),
            (5, 50),
            (0, 3),
        ] {
            let picked = distinct(size, count);
            assert_eq!(picked.len(), count.min(size));
            let unique: HashSet<usize> = picked.iter().copied().collect();
            assert_eq!(unique.len(), picked.len());
            assert!(picked.iter().all(|&i| i < size));
        }
        assert_eq!(distinct(4, 10), vec![0, 1, 2, 3]);
    }

    #[test]
    fn repeated_positions_cover_the_collection() {
        let picked = repeated(3, 300);
        assert_eq!(picked.len(), 300);
        assert!(picked.iter().all(|&i| i < 3));
        let seen: HashSet<usize> = picked.into_iter().collect();
        assert_eq!(seen.len(), 3, "300 picks of 3 hit each");
        assert!(repeated(0, 5).is_empty());
    }

    #[test]
    fn counts_parse_as_redis_reads_them() {
        assert_eq!(Count::parse(b"3"), Ok(Count::Distinct(3)));
        assert_eq!(Count::parse(b"-3"), Ok(Count::Repeated(3)));
        assert_eq!(Count::parse(b"0"), Ok(Count::Distinct(0)));
        assert_eq!(
            Count::parse(b"-9223372036854775807").map(Count::signed),
            Ok(-i64::MAX)
        );
        assert_eq!(
            Count::parse(b"-9223372036854775808"),
            Err(CmdError(error::RANDOM_COUNT_RANGE.into()))
        );
        assert_eq!(Count::parse(b"x"), Err(CmdError(error::NOT_INTEGER.into())));
        assert_eq!(
            Count::Repeated(MAX_REPEATED_PICKS + 1).positions(3),
            Err(error::too_many_picks(MAX_REPEATED_PICKS))
        );
        assert_eq!(Count::Repeated(2).positions(1), Ok(vec![0, 0]));
    }
}
