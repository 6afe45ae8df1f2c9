//! A cursor over one command's arguments.
//!
//! Commands parse themselves by taking arguments in order; "no more arguments" is an ordinary
//! answer, so optional flags cost one `eat("COUNT")` each. Parse failures are Redis's error
//! replies.

use std::cell::{Cell, OnceCell};

use bytes::Bytes;
use smallvec::SmallVec;

use crate::request::parse_i64;

/// A command argument that does not parse. `Display` is Redis's reply text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// A missing, extra or misplaced argument.
    #[error("ERR syntax error")]
    Syntax,
    /// Not a decimal integer in range.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// Any other text, given whole (`"ERR timeout is negative"`).
    #[error("{0}")]
    Other(String),
}

/// The arguments of one command; the command name is argument 0.
///
/// A request read from a client keeps its frame whole: each argument is a range of it, so
/// parsing one makes no buffer per argument, and taking one as a slice ([`Args::arg`]) costs
/// nothing. `Bytes` are made only for what a command keeps ([`Args::bytes`]: one reference
/// count each) or asks for as a list ([`Args::all`], [`Args::rest`]: made once, on demand).
#[derive(Debug, Clone)]
pub struct Args {
    repr: Repr,
    /// The next argument to take. A `Cell`, so that slices taken stay usable while taking more.
    pos: Cell<usize>,
    /// Every argument as `Bytes`, made by the first call that needs them so.
    listed: OnceCell<Vec<Bytes>>,
}

#[derive(Debug, Clone)]
enum Repr {
    /// A request as it arrived: its frame, and where in it each argument is.
    Frame {
        frame: Bytes,
        spans: SmallVec<[(u32, u32); 8]>,
    },
    /// Arguments given one by one (the log's replay, commands the server makes itself).
    Parts(Vec<Bytes>),
}

impl Args {
    /// A cursor positioned after the command name.
    pub fn new(args: Vec<Bytes>) -> Self {
        Self::with(Repr::Parts(args))
    }

    /// The request whose arguments are `spans` (`start..end` offsets) of `frame`.
    pub(crate) fn from_frame(frame: Bytes, spans: &[(usize, usize)]) -> Self {
        if u32::try_from(frame.len()).is_err() {
            // A frame past 4 GiB: each argument in its own `Bytes`.
            return Self::new(spans.iter().map(|&(s, e)| frame.slice(s..e)).collect());
        }
        // Every offset is within the frame, so below 4 GiB: the casts keep them whole.
        #[allow(clippy::cast_possible_truncation)]
        let spans = spans.iter().map(|&(s, e)| (s as u32, e as u32)).collect();
        Self::with(Repr::Frame { frame, spans })
    }

    fn with(repr: Repr) -> Self {
        Self {
            repr,
            pos: Cell::new(1),
            listed: OnceCell::new(),
        }
    }

    /// Argument `i` (0: the command name), whether taken or not.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match &self.repr {
            Repr::Frame { frame, spans } => {
                let &(s, e) = spans.get(i)?;
                frame.get(s as usize..e as usize)
            }
            Repr::Parts(parts) => parts.get(i).map(|b| b.as_ref()),
        }
    }

    /// Argument `i` as `Bytes` sharing the request's buffer.
    fn bytes_at(&self, i: usize) -> Option<Bytes> {
        match &self.repr {
            Repr::Frame { frame, spans } => {
                let &(s, e) = spans.get(i)?;
                Some(frame.slice(s as usize..e as usize))
            }
            Repr::Parts(parts) => parts.get(i).cloned(),
        }
    }

    /// `arg`, a slice of one of these arguments, as `Bytes` sharing the request's buffer (a
    /// copy if it is not from this request).
    pub fn to_bytes(&self, arg: &[u8]) -> Bytes {
        match &self.repr {
            Repr::Frame { frame, .. } if frame.as_ptr_range().contains(&arg.as_ptr()) => {
                frame.slice_ref(arg)
            }
            _ => Bytes::copy_from_slice(arg),
        }
    }

    /// Every argument, the command name first.
    pub fn all(&self) -> &[Bytes] {
        match &self.repr {
            Repr::Parts(parts) => parts,
            Repr::Frame { .. } => self
                .listed
                .get_or_init(|| (0..self.argc()).filter_map(|i| self.bytes_at(i)).collect()),
        }
    }

    /// Every argument as a slice, the command name first (no `Bytes` made).
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.argc()).filter_map(|i| self.get(i))
    }

    /// The command name as sent.
    pub fn name(&self) -> &[u8] {
        self.get(0).unwrap_or_default()
    }

    /// Number of arguments including the name (Redis's `argc`).
    pub fn argc(&self) -> usize {
        match &self.repr {
            Repr::Frame { spans, .. } => spans.len(),
            Repr::Parts(parts) => parts.len(),
        }
    }

    /// Arguments not yet taken.
    pub fn remaining(&self) -> usize {
        self.argc().saturating_sub(self.pos.get())
    }

    /// True when every argument has been taken.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument without taking it.
    pub fn peek(&self) -> Option<&[u8]> {
        self.get(self.pos.get())
    }

    /// Moves the cursor past one argument, if any is left.
    fn advance(&self) {
        self.pos.set((self.pos.get() + 1).min(self.argc()));
    }

    /// Takes the next argument as a slice of the request; a syntax error when there is none.
    pub fn arg(&self) -> Result<&[u8], ArgError> {
        let arg = self.peek().ok_or(ArgError::Syntax)?;
        self.advance();
        Ok(arg)
    }

    /// Takes the next argument as `Bytes` (sharing the request's buffer), if any.
    pub fn next_arg(&self) -> Option<Bytes> {
        let arg = self.bytes_at(self.pos.get())?;
        self.advance();
        Some(arg)
    }

    /// Passes over the next argument (a subcommand's name).
    pub fn skip(&self) {
        self.advance();
    }

    /// Takes the next argument; a syntax error when there is none.
    pub fn bytes(&self) -> Result<Bytes, ArgError> {
        self.next_arg().ok_or(ArgError::Syntax)
    }

    /// Takes the next argument if it is `keyword` (ASCII case-insensitive).
    pub fn eat(&self, keyword: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|arg| arg.eq_ignore_ascii_case(keyword.as_bytes()));
        if hit {
            self.advance();
        }
        hit
    }

    /// Takes the next argument as a signed integer (Redis `string2ll` rules).
    pub fn i64(&self) -> Result<i64, ArgError> {
        parse_i64(self.arg()?).ok_or(ArgError::NotInteger)
    }

    /// Takes the next argument as an integer ≥ 0; a negative one is `negative_err`.
    pub fn u64_or(&self, negative_err: &str) -> Result<u64, ArgError> {
        let n = self.i64()?;
        u64::try_from(n).map_err(|_| ArgError::Other(negative_err.to_owned()))
    }

    /// The remaining arguments, all taken at once.
    pub fn rest(&self) -> &[Bytes] {
        let start = self.pos.get().min(self.argc());
        self.pos.set(self.argc());
        &self.all()[start..]
    }

    /// The remaining arguments as slices, all taken at once (no `Bytes` made).
    pub fn rest_slices(&self) -> impl Iterator<Item = &[u8]> {
        let start = self.pos.get();
        self.pos.set(self.argc().max(start));
        (start..self.argc()).filter_map(|i| self.get(i))
    }

    /// Fails with a syntax error if any argument is left.
    pub fn finish(&self) -> Result<(), ArgError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ArgError::Syntax)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Args {
        Args::new(
            words
                .iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect(),
        )
    }

    /// The same words as a client would send them, parsed into one frame.
    fn framed(words: &[&str]) -> Args {
        let mut wire = format!("*{}\r\n", words.len());
        for w in words {
            wire.push_str(&format!("${}\r\n{w}\r\n", w.len()));
        }
        let mut buf = bytes::BytesMut::from(wire.as_bytes());
        let parsed = crate::RequestParser::default().parse(&mut buf);
        parsed
            .ok()
            .flatten()
            .unwrap_or_else(|| Args::new(Vec::new()))
    }

    #[test]
    fn cursor_takes_flags_and_numbers() {
        for a in [
            args(&["XRANGE", "k", "count", "10", "junk"]),
            framed(&["XRANGE", "k", "count", "10", "junk"]),
        ] {
            takes_flags_and_numbers(a);
        }
    }

    fn takes_flags_and_numbers(a: Args) {
        assert_eq!(a.bytes().as_deref(), Ok(&b"k"[..]));
        assert!(!a.eat("LIMIT"));
        assert!(a.eat("COUNT"));
        assert_eq!(a.i64(), Ok(10));
        assert_eq!(a.finish(), Err(ArgError::Syntax));
        assert_eq!(a.i64(), Err(ArgError::NotInteger));
        assert_eq!(a.i64(), Err(ArgError::Syntax));
    }

    #[test]
    fn a_frame_lends_slices_and_lists_every_argument_whatever_was_taken() {
        let a = framed(&["SET", "key", "value", "EX", "10"]);
        assert_eq!(a.argc(), 5);
        assert_eq!(a.name(), b"SET");
        let (key, value) = (a.arg(), a.arg());
        assert_eq!((key, value), (Ok(&b"key"[..]), Ok(&b"value"[..])));
        assert_eq!(a.peek(), Some(&b"EX"[..]));
        assert_eq!(a.rest(), [Bytes::from("EX"), Bytes::from("10")]);
        assert!(a.is_empty());
        assert_eq!(a.arg(), Err(ArgError::Syntax));
        let all: Vec<&[u8]> = a.iter().collect();
        assert_eq!(all, [&b"SET"[..], b"key", b"value", b"EX", b"10"]);
        assert_eq!(a.all().len(), 5);
        // A slice of the request becomes `Bytes` without a copy; any other is copied.
        let key = a.get(1).unwrap_or_default();
        assert_eq!(a.to_bytes(key).as_ptr(), key.as_ptr());
        assert_eq!(a.to_bytes(b"other"), Bytes::from("other"));
        let b = framed(&["XADD", "k", "*", "f", "v"]);
        assert_eq!(b.bytes().as_deref(), Ok(&b"k"[..]));
        b.skip();
        let fields: Vec<&[u8]> = b.rest_slices().collect();
        assert_eq!(fields, [&b"f"[..], b"v"]);
        assert_eq!(b.rest_slices().count(), 0);
    }

    #[test]
    fn negative_numbers_get_the_commands_text() {
        let a = args(&["X", "-1"]);
        assert_eq!(
            a.u64_or("ERR negative"),
            Err(ArgError::Other("ERR negative".into()))
        );
    }
}
