//! The expiry options of `SET` and `GETEX` (`EX`, `PX`, `EXAT`, `PXAT`, `KEEPTTL`,
//! `PERSIST`), turned into an absolute deadline with Redis's checks and error texts.

use bytes::Bytes;

use crate::error::{self, CmdError};

/// What a command does to the key's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    /// `SET`: the key loses any deadline; `GETEX`: nothing changes.
    #[default]
    Unset,
    /// Expire at this Unix ms.
    At(i64),
    /// `KEEPTTL`: keep the deadline it has.
    Keep,
    /// `PERSIST`: remove the deadline.
    Persist,
}

impl Expiry {
    /// Reads one expiry option at `args[i]` (its value at `i + 1`) if there is one; the
    /// number of arguments it took. `Err` for a second option, a bad number, or an invalid
    /// time (Redis's texts, naming `command`).
    pub fn parse(
        &mut self,
        args: &[Bytes],
        i: usize,
        now_ms: u64,
        command: &str,
        allow_keep: bool,
    ) -> Result<Option<usize>, CmdError> {
        let word = &args[i];
        let unit: Option<(i64, bool)> = if word.eq_ignore_ascii_case(b"EX") {
            Some((1000, false))
        } else if word.eq_ignore_ascii_case(b"PX") {
            Some((1, false))
        } else if word.eq_ignore_ascii_case(b"EXAT") {
            Some((1000, true))
        } else if word.eq_ignore_ascii_case(b"PXAT") {
            Some((1, true))
        } else {
            None
        };
        if let Some((unit_ms, absolute)) = unit {
            let (Some(value), Expiry::Unset) = (args.get(i + 1), *self) else {
                return Err(CmdError(error::SYNTAX.into()));
            };
            let n = sluice_resp::request::parse_i64(value)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            let base = if absolute {
                0
            } else {
                i64::try_from(now_ms).unwrap_or(i64::MAX)
            };
            let at = (n > 0)
                .then(|| n.checked_mul(unit_ms)?.checked_add(base))
                .flatten()
                .ok_or_else(|| error::invalid_expire_time(command))?;
            *self = Expiry::At(at);
            return Ok(Some(2));
        }
        let flag = if allow_keep && word.eq_ignore_ascii_case(b"KEEPTTL") {
            Expiry::Keep
        } else if !allow_keep && word.eq_ignore_ascii_case(b"PERSIST") {
            Expiry::Persist
        } else {
            return Ok(None);
        };
        if *self != Expiry::Unset {
            return Err(CmdError(error::SYNTAX.into()));
        }
        *self = flag;
        Ok(Some(1))
    }

    /// The deadline the key has afterwards, given the one it had.
    pub fn deadline(self, current: Option<u64>) -> Option<u64> {
        match self {
            Expiry::Unset | Expiry::Persist => None,
            Expiry::At(at) => u64::try_from(at).ok(),
            Expiry::Keep => current,
        }
    }
}
