//! Stream entry IDs: [`StreamId`] (`"<ms>-<seq>"`), its arithmetic, parsing and formatting.
//!
//! Parsing follows Redis's `streamGenericParseIDOrReply` byte for byte, including the odd corners
//! clients can reach: each half goes through Redis's `string2ull`, which tries the strict
//! `string2ll` first and then falls back to C `strtoull` (leading blanks, `+`, leading zeros
//! and even `-0` are accepted there), arguments longer than 127 bytes are refused, and the
//! argument ends at an embedded NUL as a C string would.

use std::fmt;

use crate::StreamError;

/// A stream entry ID: milliseconds and a sequence number, ordered as `(ms, seq)`.
/// Written `"<ms>-<seq>"`, both parts decimal `u64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds part (normally a Unix time in ms).
    pub ms: u64,
    /// Sequence number within the same millisecond.
    pub seq: u64,
}

/// Longest ID argument Redis accepts (its parse buffer is 128 bytes including the NUL).
const MAX_ID_ARG_LEN: usize = 127;

impl StreamId {
    /// `0-0`, the smallest ID (what `-` means in a range).
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// `18446744073709551615-18446744073709551615`, the largest ID (what `+` means).
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// The ID `<ms>-<seq>`.
    pub fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID in order (`seq + 1`, or `ms + 1` with seq 0 on seq overflow);
    /// `None` for [`StreamId::MAX`].
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID in order; `None` for [`StreamId::MIN`].
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Strict `"<ms>-<seq>"` or `"<ms>"` (then seq = `missing_seq`), as Redis's
    /// `streamParseStrictIDOrReply`. `-` and `+` are refused. Error: [`StreamError::InvalidId`].
    pub fn parse(s: &[u8], missing_seq: u64) -> Result<StreamId, StreamError> {
        match parse_generic(s, missing_seq, true, false)? {
            ParsedId::Full(id) => Ok(id),
            ParsedId::AutoSeq(_) => Err(StreamError::InvalidId),
        }
    }

    /// Like [`StreamId::parse`] but also accepting `-` ([`StreamId::MIN`]) and `+`
    /// ([`StreamId::MAX`]), as Redis's non-strict `streamParseIDOrReply`.
    pub fn parse_with_specials(s: &[u8], missing_seq: u64) -> Result<StreamId, StreamError> {
        match parse_generic(s, missing_seq, false, false)? {
            ParsedId::Full(id) => Ok(id),
            ParsedId::AutoSeq(_) => Err(StreamError::InvalidId),
        }
    }

    /// Appends the decimal `"<ms>-<seq>"` form to `buf`.
    pub fn write_to(&self, buf: &mut Vec<u8>) {
        write_u64(self.ms, buf);
        buf.push(b'-');
        write_u64(self.seq, buf);
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Appends `v` in decimal without going through `fmt` (this runs once per reply entry and
/// per logged entry).
fn write_u64(v: u64, buf: &mut Vec<u8>) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// What [`parse_generic`] found: a whole ID, or `<ms>-*` when that form is allowed.
pub(crate) enum ParsedId {
    Full(StreamId),
    AutoSeq(u64),
}

/// Redis's `streamGenericParseIDOrReply`: `strict` refuses `-`/`+`; `allow_auto_seq` accepts
/// `<ms>-*` (XADD only).
pub(crate) fn parse_generic(
    s: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<ParsedId, StreamError> {
    if s.len() > MAX_ID_ARG_LEN {
        return Err(StreamError::InvalidId);
    }
    // Redis copies the argument into a C string: everything after a NUL is invisible.
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    match s {
        b"-" | b"+" if strict => return Err(StreamError::InvalidId),
        b"-" => return Ok(ParsedId::Full(StreamId::MIN)),
        b"+" => return Ok(ParsedId::Full(StreamId::MAX)),
        _ => {}
    }
    let (ms_part, seq_part) = match s.iter().position(|&b| b == b'-') {
        Some(dash) => (&s[..dash], Some(&s[dash + 1..])),
        None => (s, None),
    };
    let ms = redis_string2ull(ms_part).ok_or(StreamError::InvalidId)?;
    match seq_part {
        None => Ok(ParsedId::Full(StreamId::new(ms, missing_seq))),
        Some(b"*") if allow_auto_seq => Ok(ParsedId::AutoSeq(ms)),
        Some(seq) => {
            let seq = redis_string2ull(seq).ok_or(StreamError::InvalidId)?;
            Ok(ParsedId::Full(StreamId::new(ms, seq)))
        }
    }
}

/// Redis's `string2ull`: the strict `string2ll` (negative results refused), else C `strtoull`.
fn redis_string2ull(s: &[u8]) -> Option<u64> {
    match sluice_resp::request::parse_i64(s) {
        Some(v) if v < 0 => None,
        Some(v) => Some(v as u64),
        None => c_strtoull(s),
    }
}

/// C `strtoull(s, &end, 10)` requiring the whole string to be consumed and no `ERANGE`:
/// leading whitespace, an optional sign (`-` negates modulo 2^64), at least one digit.
fn c_strtoull(s: &[u8]) -> Option<u64> {
    let start = s
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn parses_full_and_partial_ids() {
        assert_eq!(StreamId::parse(b"5-3", 0), Ok(id(5, 3)));
        assert_eq!(StreamId::parse(b"5", 7), Ok(id(5, 7)));
        assert_eq!(StreamId::parse(b"0-0", 0), Ok(id(0, 0)));
        let max = b"18446744073709551615-18446744073709551615";
        assert_eq!(StreamId::parse(max, 0), Ok(StreamId::MAX));
    }

    #[test]
    fn refuses_garbage_and_overflow() {
        for bad in [
            &b""[..],
            b"-",
            b"+",
            b"abc",
            b"1-",
            b"-1",
            b"1-2-3",
            b"1-x",
            b"1.5",
            b"18446744073709551616",
            b"1-18446744073709551616",
            b"1--5",
            b"1-*",
            b" ",
        ] {
            assert_eq!(
                StreamId::parse(bad, 0),
                Err(StreamError::InvalidId),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = vec![b'1'; 128];
        assert_eq!(StreamId::parse(&long, 0), Err(StreamError::InvalidId));
    }

    #[test]
    fn accepts_what_strtoull_accepts() {
        assert_eq!(StreamId::parse(b"007-01", 0), Ok(id(7, 1)));
        assert_eq!(StreamId::parse(b"+7", 0), Ok(id(7, 0)));
        assert_eq!(StreamId::parse(b" 7- 8", 0), Ok(id(7, 8)));
        assert_eq!(StreamId::parse(b"1--0", 0), Ok(id(1, 0)));
        assert_eq!(StreamId::parse(b"1--01", 0), Ok(id(1, u64::MAX)));
        assert_eq!(StreamId::parse(b"3-4\0junk", 0), Ok(id(3, 4)));
    }

    #[test]
    fn specials_only_when_not_strict() {
        assert_eq!(StreamId::parse_with_specials(b"-", 0), Ok(StreamId::MIN));
        assert_eq!(StreamId::parse_with_specials(b"+", 0), Ok(StreamId::MAX));
        assert_eq!(StreamId::parse_with_specials(b"9", 4), Ok(id(9, 4)));
    }

    #[test]
    fn incr_and_decr_carry() {
        assert_eq!(id(1, 2).incr(), Some(id(1, 3)));
        assert_eq!(id(1, u64::MAX).incr(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(id(2, 0).decr(), Some(id(1, u64::MAX)));
        assert_eq!(id(2, 5).decr(), Some(id(2, 4)));
        assert_eq!(StreamId::MIN.decr(), None);
    }

    #[test]
    fn formats_decimal() {
        let mut buf = Vec::new();
        StreamId::MAX.write_to(&mut buf);
        assert_eq!(buf, b"18446744073709551615-18446744073709551615");
        buf.clear();
        id(0, 10).write_to(&mut buf);
        assert_eq!(buf, b"0-10");
        assert_eq!(id(1526919030474, 55).to_string(), "1526919030474-55");
    }

    #[test]
    fn formats_every_digit_count() {
        let mut values = vec![0, u64::MAX];
        for power in 0..20 {
            let p = 10u64.pow(power);
            values.extend([p - 1, p, p + 1]);
        }
        for v in values {
            let mut buf = b"x".to_vec();
            id(v, v).write_to(&mut buf);
            assert_eq!(buf, format!("x{v}-{v}").as_bytes());
        }
    }
}
