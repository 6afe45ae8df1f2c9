//! Incremental request parsing: RESP multibulk arrays and inline commands → arguments.
//!
//! The parser keeps the offsets of the arguments it has already read, so a frame that arrives
//! in many reads is scanned once, not from its start on every read. Lengths are checked as soon
//! as their header is complete: a client cannot make the server buffer more than
//! `proto-max-bulk-len` for one argument. Errors carry Redis's exact texts; after one the
//! connection must reply and close, as Redis does.

use bytes::{Bytes, BytesMut};

use crate::Args;

/// Longest inline command, or length header, Redis accepts before a newline (64 KiB).
pub const MAX_INLINE_LEN: usize = 64 * 1024;
/// Largest number of arguments in one multibulk request (Redis: `INT_MAX`).
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Default largest bulk string (`proto-max-bulk-len`, 512 MB).
pub const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// A request the server cannot parse. `Display` is Redis's text, without the `ERR ` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: expected '$', got '{0}'")]
    ExpectedBulk(char),
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
}

/// How many argument offsets a parser keeps room for between requests.
const SPANS_KEPT: usize = 1024;

/// Where a partly received multibulk request stands.
#[derive(Debug, Default)]
struct Partial {
    /// Number of arguments announced by the `*<n>` header.
    argc: usize,
    /// Offset of the first byte not yet parsed.
    pos: usize,
}

/// Turns the bytes a client sent into requests, one at a time.
#[derive(Debug)]
pub struct RequestParser {
    max_bulk_len: usize,
    partial: Option<Partial>,
    /// `(start, end)` offsets into the buffer of the partial request's arguments read so far;
    /// kept between requests so that parsing one allocates only its argument list.
    spans: Vec<(usize, usize)>,
    /// The error returned once: every later call returns it again.
    failed: Option<ProtocolError>,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BULK_LEN)
    }
}

impl RequestParser {
    /// A parser refusing bulk strings longer than `max_bulk_len` bytes.
    pub fn new(max_bulk_len: usize) -> Self {
        Self {
            max_bulk_len,
            partial: None,
            spans: Vec::new(),
            failed: None,
        }
    }

    /// Changes the bulk length limit (`CONFIG SET proto-max-bulk-len`).
    pub fn set_max_bulk_len(&mut self, max_bulk_len: usize) {
        self.max_bulk_len = max_bulk_len;
    }

    /// Takes the next complete request off the front of `buf`.
    ///
    /// `Ok(None)`: more bytes are needed. `Ok(Some(args))`: a request; `args` may be empty
    /// (an empty inline line or `*0`), which the server ignores, as Redis does. An error is
    /// final: the stream is out of step, and every later call returns the same error.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Args>, ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let parsed = self.parse_next(buf);
        if let Err(e) = &parsed {
            self.failed = Some(e.clone());
        }
        parsed
    }

    fn parse_next(&mut self, buf: &mut BytesMut) -> Result<Option<Args>, ProtocolError> {
        if self.partial.is_none() {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => return Ok(parse_inline(buf)?.map(Args::new)),
            }
            let Some(line_end) = find_crlf(buf, 1) else {
                return if buf.len() > MAX_INLINE_LEN {
                    Err(ProtocolError::TooBigMultibulkCount)
                } else {
                    Ok(None)
                };
            };
            let argc = match parse_i64(&buf[1..line_end]) {
                Some(n) if n <= MAX_MULTIBULK_LEN => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if argc <= 0 {
                let _ = buf.split_to(line_end + 2);
                return Ok(Some(Args::new(Vec::new())));
            }
            let argc = usize::try_from(argc).map_err(|_| ProtocolError::InvalidMultibulkLength)?;
            self.spans.clear();
            self.spans.reserve(argc.min(1024));
            self.partial = Some(Partial {
                argc,
                pos: line_end + 2,
            });
        }
        let max_bulk_len = self.max_bulk_len;
        let Some(partial) = self.partial.as_mut() else {
            return Ok(None);
        };
        while self.spans.len() < partial.argc {
            let pos = partial.pos;
            // Like Redis, look at the header only once its line is complete.
            let Some(line_end) = find_crlf(buf, pos) else {
                return if buf.len() - pos > MAX_INLINE_LEN {
                    Err(ProtocolError::TooBigBulkCount)
                } else {
                    Ok(None)
                };
            };
            let first = buf[pos];
            if first != b'$' {
                return Err(ProtocolError::ExpectedBulk(char::from(first)));
            }
            let len = match parse_i64(&buf[pos + 1..line_end]).map(usize::try_from) {
                Some(Ok(n)) if n <= max_bulk_len => n,
                _ => return Err(ProtocolError::InvalidBulkLength),
            };
            let start = line_end + 2;
            let end = start + len;
            if buf.len() < end + 2 {
                // Make room for the whole argument at once instead of growing by doubling.
                buf.reserve(end + 2 - buf.len());
                return Ok(None);
            }
            self.spans.push((start, end));
            partial.pos = end + 2;
        }
        let Some(partial) = self.partial.take() else {
            return Ok(None);
        };
        let frame = buf.split_to(partial.pos).freeze();
        let args = Args::from_frame(frame, &self.spans);
        self.spans.clear();
        if self.spans.capacity() > SPANS_KEPT {
            // A huge request does not leave its offsets' memory with the connection.
            self.spans = Vec::new();
        }
        Ok(Some(args))
    }
}

/// Offset of the first `\r\n` at or after `from`, the offset of `\r`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut i = 0;
    while let Some(off) = rest[i..].iter().position(|&b| b == b'\r') {
        let at = i + off;
        match rest.get(at + 1) {
            Some(b'\n') => return Some(from + at),
            Some(_) => i = at + 1,
            None => return None,
        }
    }
    None
}

/// Parses a decimal integer the way Redis's `string2ll` does: optional `-`, no `+`, no
/// leading zeros, no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    match s {
        [] => None,
        [b'0'] => Some(0),
        [b'-', digits @ ..] => parse_digits(digits, true),
        digits => parse_digits(digits, false),
    }
}

fn parse_digits(digits: &[u8], negative: bool) -> Option<i64> {
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if value == 1 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(value).ok().map(|v| -v)
        }
    } else {
        i64::try_from(value).ok()
    }
}

/// An inline command: one line, arguments split like `redis-cli` and `sdssplitargs` do.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    // Redis looks for the newline with `strchr`, so a NUL before it hides it: the request
    // never completes, and is refused once it outgrows the inline limit.
    let end = buf.iter().position(|&b| b == b'\n' || b == 0);
    let Some(nl) = end.filter(|&at| buf[at] == b'\n') else {
        return if buf.len() > MAX_INLINE_LEN {
            Err(ProtocolError::TooBigInline)
        } else {
            Ok(None)
        };
    };
    let line = buf.split_to(nl + 1);
    let mut text = &line[..nl];
    if let [head @ .., b'\r'] = text {
        text = head;
    }
    split_args(text).map(Some)
}

/// Splits a line into arguments: spaces separate, `"…"` takes C escapes (`\n`, `\xHH`, …),
/// `'…'` takes only `\'`. A closing quote must be followed by a space or the end.
pub fn split_args(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    // Redis splits a C string: a NUL ends the line (inside quotes, it leaves them open).
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while line.get(i).copied().is_some_and(is_c_space) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let Some(&c) = line.get(i) else {
                if in_double || in_single {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                break;
            };
            if in_double {
                if c == b'\\'
                    && line.get(i + 1) == Some(&b'x')
                    && let Some(byte) = hex_pair(line.get(i + 2..i + 4))
                {
                    current.push(byte);
                    i += 4;
                    continue;
                }
                if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    quote_closed(line, i)?;
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    quote_closed(line, i)?;
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(current));
    }
}

/// Checks the closing quote at `line[at]`: as in Redis's `sdssplitargs`, it must end the
/// argument (a space or the end of the line follows).
fn quote_closed(line: &[u8], at: usize) -> Result<(), ProtocolError> {
    match line.get(at + 1) {
        Some(&b) if !is_c_space(b) => Err(ProtocolError::UnbalancedQuotes),
        _ => Ok(()),
    }
}

/// C's `isspace`: unlike `u8::is_ascii_whitespace`, it includes the vertical tab.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let pair = pair?;
    let hi = char::from(*pair.first()?).to_digit(16)?;
    let lo = char::from(*pair.get(1)?).to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next request's arguments, as a list.
    fn next(
        parser: &mut RequestParser,
        buf: &mut BytesMut,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        Ok(parser.parse(buf)?.map(|args| args.all().to_vec()))
    }

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = next(&mut parser, &mut buf)? {
            out.push(args);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_pipelined() {
        let got =
            parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n").expect("parses");
        assert_eq!(
            got,
            vec![
                vec![Bytes::from("PING")],
                vec![Bytes::from("ECHO"), Bytes::from("hi")]
            ]
        );
    }

    #[test]
    fn byte_by_byte_is_the_same() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n";
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input {
            buf.extend_from_slice(&[b]);
            if let Some(args) = next(&mut parser, &mut buf).expect("valid") {
                got = Some(args);
            }
        }
        assert_eq!(
            got,
            Some(vec![
                Bytes::from("SET"),
                Bytes::from("k"),
                Bytes::from("v\r\nxy")
            ])
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn an_argument_header_is_judged_once_its_line_is_complete() {
        // As Redis: `*1\r\nPI` may yet be anything; the error comes with the line's end.
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"*1\r\nPI"[..]);
        assert_eq!(next(&mut parser, &mut buf), Ok(None));
        buf.extend_from_slice(b"NG\r\n");
        assert_eq!(
            next(&mut parser, &mut buf),
            Err(ProtocolError::ExpectedBulk('P'))
        );
    }

    #[test]
    fn an_error_is_final() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&vec![b'x'; MAX_INLINE_LEN + 1][..]);
        assert_eq!(
            next(&mut parser, &mut buf),
            Err(ProtocolError::TooBigInline)
        );
        // A newline now would end the line, but the stream is already out of step.
        buf.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            next(&mut parser, &mut buf),
            Err(ProtocolError::TooBigInline)
        );
    }

    #[test]
    fn protocol_errors_use_redis_texts() {
        let err = |input: &[u8]| parse_all(input).expect_err("must fail").to_string();
        assert_eq!(err(b"*x\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(
            err(b"*3000000000\r\n"),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n+PING\r\n"),
            "Protocol error: expected '$', got '+'"
        );
        assert_eq!(err(b"*1\r\n$-5\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            err(b"*1\r\n$600000000\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"\"unterminated\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(&[b'a'; MAX_INLINE_LEN + 1]),
            "Protocol error: too big inline request"
        );
    }

    #[test]
    fn empty_requests_are_skipped() {
        assert_eq!(
            parse_all(b"*0\r\n*-1\r\n\r\n").expect("parses"),
            vec![Vec::<Bytes>::new(); 3]
        );
    }

    #[test]
    fn inline_commands_split_like_redis() {
        let got = parse_all(b"SET k \"a b\\x41\\n\" 'it\\'s'\r\nPING\n").expect("parses");
        assert_eq!(
            got[0],
            vec![
                Bytes::from("SET"),
                Bytes::from("k"),
                Bytes::from("a bA\n"),
                Bytes::from("it's")
            ]
        );
        assert_eq!(got[1], vec![Bytes::from("PING")]);
    }

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"007"[..],
            b"+1",
            b" 1",
            b"-0",
            b"9223372036854775808",
            b"",
            b"-",
            b"1x",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}

#[cfg(test)]
mod string2ll {
    use proptest::prelude::*;

    use super::parse_i64;

    #[test]
    fn accepts_exactly_the_canonical_forms() {
        for (s, want) in [
            (&b"0"[..], Some(0)),
            (b"-1", Some(-1)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"-9223372036854775809", None),
            (b"-0", None),
            (b"007", None),
            (b"+1", None),
            (b" 1", None),
            (b"1 ", None),
            (b"", None),
            (b"-", None),
            (b"1e3", None),
            (b"99999999999999999999", None),
        ] {
            assert_eq!(parse_i64(s), want, "{}", String::from_utf8_lossy(s));
        }
    }

    proptest! {
        #[test]
        fn agrees_with_formatting(v in any::<i64>()) {
            prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn accepted_strings_format_back(s in "-?[0-9]{0,21}") {
            if let Some(v) = parse_i64(s.as_bytes()) {
                prop_assert_eq!(v.to_string(), s);
            }
        }
    }
}
