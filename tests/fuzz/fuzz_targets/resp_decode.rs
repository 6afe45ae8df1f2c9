//! Arbitrary bytes through `RequestParser`, whole and in random pieces.
//!
//! Input: one byte choosing the bulk length limit, one seeding the split points, then the
//! bytes a client sends. Checked: parsing never panics; feeding the bytes in pieces gives the
//! same requests and the same error as feeding them at once; a multibulk request's arguments
//! are exactly the bytes its frame announced (re-encoding them gives the consumed bytes back);
//! an inline request consumed exactly one line; an error is final (asking again, even with
//! more bytes, gives it again).
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sluice_resp::{ProtocolError, RequestParser};

/// Bulk limits to choose from: small ones reach `invalid bulk length`; none is so large that
/// one announced argument reserves much memory.
const LIMITS: [usize; 4] = [0, 3, 1024, 64 * 1024];

/// What parsing produced: each request with the bytes it consumed, then the error if any.
#[derive(Debug, PartialEq)]
struct Outcome {
    requests: Vec<(Vec<Bytes>, Vec<u8>)>,
    error: Option<ProtocolError>,
}

fuzz_target!(|data: &[u8]| {
    let [limit, seed, input @ ..] = data else {
        return;
    };
    // Past the inline limit, where a line ends decides between a request and an error, as
    // in Redis: pieces and the whole may then rightly differ.
    if input.len() > sluice_resp::request::MAX_INLINE_LEN {
        return;
    }
    let limit = LIMITS[usize::from(*limit) % LIMITS.len()];
    let whole = parse(input, limit, &mut std::iter::once(input.len()));
    let mut pieces = Splits(u32::from(*seed) | 1);
    let split = parse(
        input,
        limit,
        &mut std::iter::from_fn(|| Some(pieces.next())),
    );
    assert_eq!(whole, split, "pieces parse differently from the whole");
    for (args, consumed) in &whole.requests {
        check_request(args, consumed);
    }
});

/// Feeds `input` in pieces of the sizes `sizes` gives, parsing after each.
fn parse(input: &[u8], limit: usize, sizes: &mut dyn Iterator<Item = usize>) -> Outcome {
    let mut parser = RequestParser::new(limit);
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut requests = Vec::new();
    loop {
        let before = buf.clone();
        match parser.parse(&mut buf) {
            Ok(Some(args)) => {
                let consumed = before.len() - buf.len();
                assert_eq!(
                    &before[consumed..],
                    &buf[..],
                    "a request took bytes from its middle"
                );
                requests.push((args.all().to_vec(), before[..consumed].to_vec()));
            }
            Ok(None) => {
                assert_eq!(before, buf, "waiting for more consumed bytes");
                if fed == input.len() {
                    return Outcome {
                        requests,
                        error: None,
                    };
                }
                let n = sizes.next().unwrap_or(1).clamp(1, input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + n]);
                fed += n;
            }
            Err(e) => {
                // Final: asking again, even after more bytes arrive, gives the same error.
                assert_eq!(parser.parse(&mut buf).err(), Some(e.clone()));
                buf.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
                assert_eq!(parser.parse(&mut buf).err(), Some(e.clone()));
                return Outcome {
                    requests,
                    error: Some(e),
                };
            }
        }
    }
}

/// A request's arguments are what its bytes said.
fn check_request(args: &[Bytes], consumed: &[u8]) {
    if consumed.first() == Some(&b'*') {
        let count = if args.is_empty() {
            // `*0` or a negative count: an empty request, just the header.
            let header = &consumed[1..consumed.len() - 2];
            assert!(header == b"0" || header.starts_with(b"-"), "{header:?}");
            return;
        } else {
            args.len()
        };
        // Header lines exactly; the two bytes after each argument are skipped unchecked, as
        // Redis skips them.
        let mut rest = consumed;
        take(&mut rest, format!("*{count}\r\n").as_bytes());
        for arg in args {
            take(&mut rest, format!("${}\r\n", arg.len()).as_bytes());
            take(&mut rest, arg);
            rest = &rest[2..];
        }
        assert!(rest.is_empty(), "the request consumed more than its frame");
    } else {
        let newline = consumed.iter().position(|&b| b == b'\n' || b == 0);
        assert_eq!(
            newline,
            Some(consumed.len() - 1),
            "inline request is not one line"
        );
        for arg in args {
            assert!(!arg.is_empty() || consumed.contains(&b'"') || consumed.contains(&b'\''));
        }
    }
}

/// Checks that `rest` starts with `expected` and moves past it.
fn take(rest: &mut &[u8], expected: &[u8]) {
    assert_eq!(
        &rest[..expected.len()],
        expected,
        "frame differs from the arguments"
    );
    *rest = &rest[expected.len()..];
}

/// Piece sizes from a small xorshift generator: mostly tiny, sometimes large.
struct Splits(u32);

impl Splits {
    fn next(&mut self) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        match x % 8 {
            0..=4 => 1 + (x >> 8) as usize % 4,
            5 | 6 => 1 + (x >> 8) as usize % 64,
            _ => 1 + (x >> 8) as usize % 4096,
        }
    }
}
