//! The timeout of `BLPOP`, `BRPOP` and `BLMOVE`: seconds as a double, read as Redis reads it.
//!
//! Redis reads the number with `strtold` (so `1e3`, `.5`, `inf` and hex floats such as `0x10`
//! are numbers; a leading space, trailing junk and NaN are not), turns it into milliseconds
//! rounded up, and refuses what is negative or would overflow its deadline.

use std::time::Duration;

use crate::error::{self, CmdError};

/// A blocking pop's timeout: `None` waits forever (0), else how long to wait. `now_ms` is the
/// time the command runs at: a deadline past `i64::MAX` ms is out of range, as in Redis.
pub fn parse_seconds(arg: &[u8], now_ms: u64) -> Result<Option<Duration>, CmdError> {
    let secs = parse_float(arg).ok_or_else(|| CmdError(error::TIMEOUT_NOT_FLOAT.into()))?;
    let ms = secs * 1000.0;
    // `i64::MAX as f64` is 2^63, the first value past `i64::MAX`.
    if ms >= i64::MAX as f64 {
        return Err(CmdError(error::TIMEOUT_OUT_OF_RANGE.into()));
    }
    // Rounded up, as Redis's `ceill`; -inf saturates to `i64::MIN`, which is negative too.
    let ms = ms.ceil() as i64;
    if ms < 0 {
        return Err(CmdError(error::TIMEOUT_NEGATIVE.into()));
    }
    if ms == 0 {
        return Ok(None);
    }
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    if ms > i64::MAX - now {
        return Err(CmdError(error::TIMEOUT_OUT_OF_RANGE.into()));
    }
    Ok(Some(Duration::from_millis(ms.unsigned_abs())))
}

/// `arg` as C's `strtold` reads a whole string, NaN refused. A positive number too small for
/// an `f64` (Redis's `long double` still holds it) reads as the smallest positive `f64`, so a
/// timeout of `1e-400` waits 1 ms as in Redis rather than forever.
fn parse_float(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value = match parse_hex(text) {
        Some(value) => value,
        None => text.parse::<f64>().ok()?,
    };
    if value.is_nan() {
        return None;
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    if value == 0.0
        && !value.is_sign_negative()
        && mantissa.bytes().any(|b| b.is_ascii_digit() && b != b'0')
    {
        return Some(f64::from_bits(1));
    }
    Some(value)
}

/// A C99 hex float (`0x1.8p3`, `-0X10`), if `text` is one.
fn parse_hex(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let (mantissa, exponent) = match rest.split_once(['p', 'P']) {
        Some((m, e)) => (m, Some(e)),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0.0f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let power: i32 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
            i32::MIN
        } else {
            i32::MAX
        });
        value *= 2f64.powi(power);
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn ms(arg: &str) -> Result<Option<u64>, String> {
        parse_seconds(arg.as_bytes(), NOW)
            .map(|d| d.map(|d| d.as_millis() as u64))
            .map_err(|e| e.0)
    }

    #[test]
    fn seconds_become_milliseconds_rounded_up() {
        assert_eq!(ms("0"), Ok(None));
        assert_eq!(ms("-0"), Ok(None));
        assert_eq!(ms("0.0"), Ok(None));
        assert_eq!(ms("1"), Ok(Some(1000)));
        assert_eq!(ms("0.01"), Ok(Some(10)));
        assert_eq!(ms(".001"), Ok(Some(1)));
        assert_eq!(ms("+0.0001"), Ok(Some(1)));
        assert_eq!(ms("1e3"), Ok(Some(1_000_000)));
        assert_eq!(ms("1e-400"), Ok(Some(1)));
        assert_eq!(ms("-1e-400"), Ok(None));
        assert_eq!(ms("0x10"), Ok(Some(16_000)));
        assert_eq!(ms("0x1.8p1"), Ok(Some(3000)));
        assert_eq!(ms("0X.8"), Ok(Some(500)));
    }

    #[test]
    fn redis_texts_for_bad_timeouts() {
        let not_float = Err(error::TIMEOUT_NOT_FLOAT.to_string());
        let negative = Err(error::TIMEOUT_NEGATIVE.to_string());
        let range = Err(error::TIMEOUT_OUT_OF_RANGE.to_string());
        for bad in [
            "", "abc", " 1", "1 ", "nan", "-nan", "1.5.", "1e", "0x", "0x1p", "0xg",
        ] {
            assert_eq!(ms(bad), not_float, "{bad:?}");
        }
        for neg in ["-1", "-0.5", "-inf", "-0x1"] {
            assert_eq!(ms(neg), negative, "{neg:?}");
        }
        for huge in ["inf", "1e400", "9223372036854775807", "9223372036854775"] {
            assert_eq!(ms(huge), range, "{huge:?}");
        }
    }
}
