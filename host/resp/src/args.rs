//! A cursor over one command's arguments.
//!
//! Commands parse themselves by taking arguments in order; "no more arguments" is an ordinary
//! answer, so optional flags cost one `eat("COUNT")` each. Parse failures are Redis's error
//! replies.

use bytes::Bytes;

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
#[derive(Debug, Clone)]
pub struct Args {
    args: Vec<Bytes>,
    pos: usize,
}

impl Args {
    /// A cursor positioned after the command name.
    pub fn new(args: Vec<Bytes>) -> Self {
        Self { args, pos: 1 }
    }

    /// Every argument, the command name first.
    pub fn all(&self) -> &[Bytes] {
        &self.args
    }

    /// The command name as sent.
    pub fn name(&self) -> &[u8] {
        self.args.first().map_or(&[], |b| b.as_ref())
    }

    /// Number of arguments including the name (Redis's `argc`).
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// Arguments not yet taken.
    pub fn remaining(&self) -> usize {
        self.args.len() - self.pos
    }

    /// True when every argument has been taken.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument without taking it.
    pub fn peek(&self) -> Option<&Bytes> {
        self.args.get(self.pos)
    }

    /// Takes the next argument, if any. It is moved out, not copied (no reference count to
    /// bump and drop again): afterwards [`Args::all`] shows it empty. A handler that needs
    /// the whole request reads `all()` before taking.
    pub fn next_arg(&mut self) -> Option<Bytes> {
        let arg = std::mem::take(self.args.get_mut(self.pos)?);
        self.pos += 1;
        Some(arg)
    }

    /// Passes over the next argument, leaving it in [`Args::all`] (a subcommand's name).
    pub fn skip(&mut self) {
        self.pos = (self.pos + 1).min(self.args.len());
    }

    /// Takes the next argument; a syntax error when there is none.
    pub fn bytes(&mut self) -> Result<Bytes, ArgError> {
        self.next_arg().ok_or(ArgError::Syntax)
    }

    /// Takes the next argument if it is `keyword` (ASCII case-insensitive).
    pub fn eat(&mut self, keyword: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|arg| arg.eq_ignore_ascii_case(keyword.as_bytes()));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Takes the next argument as a signed integer (Redis `string2ll` rules).
    pub fn i64(&mut self) -> Result<i64, ArgError> {
        let arg = self.bytes()?;
        parse_i64(&arg).ok_or(ArgError::NotInteger)
    }

    /// Takes the next argument as an integer ≥ 0; a negative one is `negative_err`.
    pub fn u64_or(&mut self, negative_err: &str) -> Result<u64, ArgError> {
        let n = self.i64()?;
        u64::try_from(n).map_err(|_| ArgError::Other(negative_err.to_owned()))
    }

    /// The remaining arguments, all taken at once.
    pub fn rest(&mut self) -> &[Bytes] {
        let start = self.pos;
        self.pos = self.args.len();
        &self.args[start..]
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

    #[test]
    fn cursor_takes_flags_and_numbers() {
        let mut a = args(&["XRANGE", "k", "count", "10", "junk"]);
        assert_eq!(a.bytes().as_deref(), Ok(&b"k"[..]));
        assert!(!a.eat("LIMIT"));
        assert!(a.eat("COUNT"));
        assert_eq!(a.i64(), Ok(10));
        assert_eq!(a.finish(), Err(ArgError::Syntax));
        assert_eq!(a.i64(), Err(ArgError::NotInteger));
        assert_eq!(a.i64(), Err(ArgError::Syntax));
    }

    #[test]
    fn negative_numbers_get_the_commands_text() {
        let mut a = args(&["X", "-1"]);
        assert_eq!(
            a.u64_or("ERR negative"),
            Err(ArgError::Other("ERR negative".into()))
        );
    }
}
