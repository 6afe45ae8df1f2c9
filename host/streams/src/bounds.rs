//! ID arguments with a meaning beyond a plain ID: range bounds (XRANGE, XREVRANGE, XPENDING,
//! XAUTOCLAIM) and the XADD ID argument ([`AddId`]).
//!
//! Range bounds accept `-`, `+`, `<ms>[-<seq>]` and, since Redis 6.2, an exclusive `(` prefix.
//! Exclusivity is resolved here by stepping the ID once, so callers always get an inclusive
//! bound, with Redis's "invalid start/end ID for the interval" errors when the step overflows.

use crate::StreamError;
use crate::id::{ParsedId, StreamId, parse_generic};

/// The start bound of a range: `-`, `+`, `<ms>[-<seq>]` (missing seq = 0) or `(<ms>[-<seq>]`
/// (exclusive, then incremented). Returns an inclusive ID.
/// Errors: [`StreamError::InvalidId`], [`StreamError::InvalidStartInterval`] for `(` + max ID.
pub fn parse_range_start(s: &[u8]) -> Result<StreamId, StreamError> {
    let (id, exclusive) = parse_interval_id(s, 0)?;
    if exclusive {
        id.incr().ok_or(StreamError::InvalidStartInterval)
    } else {
        Ok(id)
    }
}

/// The end bound of a range: `-`, `+`, `<ms>[-<seq>]` (missing seq = `u64::MAX`) or
/// `(<ms>[-<seq>]` (exclusive, then decremented). Returns an inclusive ID.
/// Errors: [`StreamError::InvalidId`], [`StreamError::InvalidEndInterval`] for `(0-0`.
pub fn parse_range_end(s: &[u8]) -> Result<StreamId, StreamError> {
    let (id, exclusive) = parse_interval_id(s, u64::MAX)?;
    if exclusive {
        id.decr().ok_or(StreamError::InvalidEndInterval)
    } else {
        Ok(id)
    }
}

/// Redis's `streamParseIntervalIDOrReply`: `(` followed by at least one byte means exclusive,
/// and the rest is then parsed strictly (so `(-` and `(+` are invalid).
fn parse_interval_id(s: &[u8], missing_seq: u64) -> Result<(StreamId, bool), StreamError> {
    match s.split_first() {
        Some((b'(', rest)) if !rest.is_empty() => Ok((StreamId::parse(rest, missing_seq)?, true)),
        _ => Ok((StreamId::parse_with_specials(s, missing_seq)?, false)),
    }
}

/// The ID argument of XADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddId {
    /// `*`: generate from the clock (`max(now_ms, last.ms)`, seq bumped within one ms).
    Auto,
    /// `<ms>-*`: the given ms, with the next free sequence number in it.
    AutoSeq(u64),
    /// `<ms>-<seq>` or `<ms>` (seq 0): exactly this ID.
    Explicit(StreamId),
}

impl AddId {
    /// Parses `*`, `<ms>-*`, `<ms>-<seq>` or `<ms>`. Error: [`StreamError::InvalidId`].
    pub fn parse(s: &[u8]) -> Result<AddId, StreamError> {
        if s == b"*" {
            return Ok(AddId::Auto);
        }
        match parse_generic(s, 0, true, true)? {
            ParsedId::Full(id) => Ok(AddId::Explicit(id)),
            ParsedId::AutoSeq(ms) => Ok(AddId::AutoSeq(ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn range_specials_and_missing_seq() {
        assert_eq!(parse_range_start(b"-"), Ok(StreamId::MIN));
        assert_eq!(parse_range_start(b"+"), Ok(StreamId::MAX));
        assert_eq!(parse_range_end(b"+"), Ok(StreamId::MAX));
        assert_eq!(parse_range_end(b"-"), Ok(StreamId::MIN));
        assert_eq!(parse_range_start(b"5"), Ok(id(5, 0)));
        assert_eq!(parse_range_end(b"5"), Ok(id(5, u64::MAX)));
        assert_eq!(parse_range_start(b"5-3"), Ok(id(5, 3)));
    }

    #[test]
    fn exclusive_bounds_step_once() {
        assert_eq!(parse_range_start(b"(5-3"), Ok(id(5, 4)));
        assert_eq!(parse_range_start(b"(5"), Ok(id(5, 1)));
        assert_eq!(parse_range_start(b"(5-18446744073709551615"), Ok(id(6, 0)));
        assert_eq!(parse_range_end(b"(5-3"), Ok(id(5, 2)));
        assert_eq!(parse_range_end(b"(5"), Ok(id(5, u64::MAX - 1)));
        assert_eq!(parse_range_end(b"(5-0"), Ok(id(4, u64::MAX)));
    }

    #[test]
    fn exclusive_bound_errors() {
        let max = b"(18446744073709551615-18446744073709551615";
        assert_eq!(
            parse_range_start(max),
            Err(StreamError::InvalidStartInterval)
        );
        assert_eq!(
            parse_range_end(b"(0-0"),
            Err(StreamError::InvalidEndInterval)
        );
        assert_eq!(parse_range_end(b"(0"), Ok(id(0, u64::MAX - 1)));
        assert_eq!(parse_range_start(b"(-"), Err(StreamError::InvalidId));
        assert_eq!(parse_range_end(b"(+"), Err(StreamError::InvalidId));
        assert_eq!(parse_range_start(b"("), Err(StreamError::InvalidId));
        assert_eq!(parse_range_start(b"(x"), Err(StreamError::InvalidId));
        assert_eq!(parse_range_start(b"x"), Err(StreamError::InvalidId));
    }

    #[test]
    fn add_id_forms() {
        assert_eq!(AddId::parse(b"*"), Ok(AddId::Auto));
        assert_eq!(AddId::parse(b"12-*"), Ok(AddId::AutoSeq(12)));
        assert_eq!(AddId::parse(b"12-3"), Ok(AddId::Explicit(id(12, 3))));
        assert_eq!(AddId::parse(b"12"), Ok(AddId::Explicit(id(12, 0))));
        assert_eq!(AddId::parse(b"0-0"), Ok(AddId::Explicit(id(0, 0))));
        for bad in [&b"-"[..], b"+", b"**", b"*-1", b"-*", b"1-**", b"x-*", b""] {
            assert_eq!(AddId::parse(bad), Err(StreamError::InvalidId), "{bad:?}");
        }
    }
}
