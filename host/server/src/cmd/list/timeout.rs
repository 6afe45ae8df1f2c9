//! The timeout of `BLPOP`, `BRPOP` and `BLMOVE`: seconds as a double, read as Redis reads it.
//!
//! Redis reads the number with `strtold` (so `1e3`, `.5`, `inf` and hex floats such as `0x10`
//! are numbers; a leading space, trailing junk and NaN are not, nor is a number outside a
//! `long double`'s range, `1e5000` or `1e-5000`), turns it into milliseconds rounded up, and
//! refuses what is negative or would overflow its deadline.

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

/// Redis's longest `long double` argument (`MAX_LONG_DOUBLE_CHARS`), bytes.
const MAX_CHARS: usize = 5 * 1024;

/// `arg` as C's `strtold` reads a whole string, NaN refused, as is what overflows or
/// underflows to 0 an x87 `long double` (Redis's `string2ld`). A positive number too small for
/// an `f64` (the `long double` still holds it) reads as the smallest positive `f64`, so a
/// timeout of `1e-400` waits 1 ms as in Redis rather than forever.
fn parse_float(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    if text.is_empty()
        || text.len() >= MAX_CHARS
        || text.starts_with(|c: char| c.is_ascii_whitespace())
    {
        return None;
    }
    let (value, magnitude) = match parse_hex(text) {
        Some(hex) => hex,
        None => (text.parse::<f64>().ok()?, decimal_magnitude(text)),
    };
    if value.is_nan() || magnitude.is_some_and(|m| !LONG_DOUBLE.contains(&m)) {
        return None;
    }
    if value == 0.0 && !value.is_sign_negative() && magnitude.is_some() {
        return Some(f64::from_bits(1));
    }
    Some(value)
}

/// The base-2 logarithms of the largest finite x87 `long double` (just under 2^16384) and of
/// the smallest that does not round to 0 (half the smallest subnormal, 2^-16446).
const LONG_DOUBLE: std::ops::Range<f64> = -16446.0..16384.0;

/// log2 of a decimal number's magnitude, `None` for 0 or a word (`inf`). Accurate to a few
/// digits, which is all the range check needs.
fn decimal_magnitude(text: &str) -> Option<f64> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, saturating_exponent(e)),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || int.bytes().chain(frac.bytes());
    let lead = digits().position(|b| (b'1'..=b'9').contains(&b))?;
    // The number is 0.d1d2… × 10^(point), d1 its first digit that is not 0.
    let point = i64::try_from(int.len()).ok()? - i64::try_from(lead).ok()?;
    let head: String = digits().skip(lead).take(17).map(char::from).collect();
    let fraction: f64 = format!("0.{head}").parse().ok()?;
    let log10 = fraction.log10() + point.saturating_add(exponent) as f64;
    Some(log10 * std::f64::consts::LOG2_10)
}

/// An exponent's digits, saturated far past any `long double` exponent.
fn saturating_exponent(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits.bytes().fold(0i64, |n, b| {
        n.saturating_mul(10)
            .saturating_add(i64::from(b.wrapping_sub(b'0')))
            .min(1 << 40)
    });
    if negative { -value } else { value }
}

/// A C99 hex float (`0x1.8p3`, `-0X10`), if `text` is one: its value, and the log2 of its
/// magnitude (`None` for 0).
fn parse_hex(text: &str) -> Option<(f64, Option<f64>)> {
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
    let mut power = 0;
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        power = saturating_exponent(exponent);
    }
    // The magnitude from the digits alone, which can be far outside an f64's range.
    let lead = int.chars().chain(frac.chars()).position(|c| c != '0');
    let magnitude = lead.map(|lead| {
        let int_len = i64::try_from(int.len()).unwrap_or(i64::MAX);
        let lead = i64::try_from(lead).unwrap_or(i64::MAX);
        ((int_len - lead) * 4).saturating_add(power) as f64
    });
    let power = i32::try_from(power).unwrap_or(if power < 0 { i32::MIN } else { i32::MAX });
    value *= 2f64.powi(power);
    Some((if negative { -value } else { value }, magnitude))
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
        assert_eq!(ms("0x0p5"), Ok(None));
        assert_eq!(ms("0e5"), Ok(None));
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
        // Outside a long double's range: not a number to Redis, whatever the sign.
        for outside in [
            "1e5000",
            "-1e5000",
            "1e-5000",
            "0.0001e-4948",
            "0x1p16384",
            "0x1p-16500",
        ] {
            assert_eq!(ms(outside), not_float, "{outside:?}");
        }
        assert_eq!(ms("1e4900"), range);
        assert_eq!(ms("-1e4900"), negative);
        assert_eq!(ms("1e-4900"), Ok(Some(1)));
        assert_eq!(ms("0x1p-16000"), Ok(Some(1)));
        assert_eq!(ms(&"1".repeat(5200)), not_float);
    }
}
