//! `INCRBYFLOAT`'s and `HINCRBYFLOAT`'s arithmetic and formatting, giving the replies Redis's
//! `long double` arithmetic gives.
//!
//! Redis reads both operands with `strtold`, adds them as x87 80-bit `long double`s (64-bit
//! significand, round to nearest even) and prints the sum with `%.17Lf`, trailing zeros
//! removed. Sluice does the same arithmetic in software (`rustc_apfloat`'s
//! `X87DoubleExtended`) and prints the exact decimal value of the sum rounded to 17
//! decimals, so `10.5 + 0.1` is `10.6`, `9223372036854775807 + 0.1` stays
//! `9223372036854775807`, and `1.7e308 + 1.7e308` is finite, as in Redis.

use rustc_apfloat::ieee::X87DoubleExtended as LongDouble;
use rustc_apfloat::{Float, Round, Status};

/// Decimals Redis prints (`%.17Lf`).
const DECIMALS: usize = 17;
/// `10^DECIMALS`.
const SCALE: u128 = 100_000_000_000_000_000;
/// Longest text Redis reads as a number, bytes (`MAX_LONG_DOUBLE_CHARS` less its NUL).
const MAX_LEN: usize = 5 * 1024 - 1;
/// The x87 exponent bias, and the position of the significand's integer bit.
const BIAS: i32 = 16383;
const SIGNIFICAND_BITS: i32 = 63;

/// Why a float operand or result was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatError {
    /// Not a number Redis's `strtold` would read.
    NotFloat,
    /// The value or the result is NaN or infinite.
    NanOrInfinity,
}

/// `current + increment`, formatted as Redis formats it; both as the client wrote them.
pub fn add(current: &[u8], increment: &[u8]) -> Result<Vec<u8>, FloatError> {
    let (a, b) = (parse(current)?, parse(increment)?);
    let sum = a.add_r(b, Round::NearestTiesToEven).value;
    if !sum.is_finite() {
        return Err(FloatError::NanOrInfinity);
    }
    Ok(format(sum).into_bytes())
}

/// `bytes` as Redis's `string2ld` reads it: `strtold` on the whole text (no NUL, no leading
/// space, no trailing junk), not NaN, no overflow or underflow to zero. An infinity is read
/// (`NanOrInfinity`), for the caller to refuse as Redis does.
pub fn parse(bytes: &[u8]) -> Result<LongDouble, FloatError> {
    if bytes.is_empty() || bytes.len() > MAX_LEN {
        return Err(FloatError::NotFloat);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| FloatError::NotFloat)?;
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Err(FloatError::NanOrInfinity);
    }
    // Digits, a point, an exponent, and the letters of hexadecimal floats, nothing else (no
    // second sign, no space, no `nan`).
    let allowed = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | 'x' | 'X' | 'p' | 'P');
    let signs_in_exponents_only = body
        .char_indices()
        .filter(|&(_, c)| matches!(c, '+' | '-'))
        .all(|(at, _)| at > 0 && matches!(body.as_bytes()[at - 1], b'e' | b'E' | b'p' | b'P'));
    if body.is_empty()
        || !signs_in_exponents_only
        || !body.chars().all(|c| allowed(c) || matches!(c, '+' | '-'))
    {
        return Err(FloatError::NotFloat);
    }
    let hex = body.len() > 2 && body[..2].eq_ignore_ascii_case("0x");
    // An exponent needs digits: strtold stops before a bare `e` (`1e`, `1e+`), which leaves
    // junk behind.
    let marker: &[char] = if hex { &['p', 'P'] } else { &['e', 'E'] };
    if let Some(at) = body.find(marker) {
        let exponent = &body[at + 1..];
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if !exponent.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            return Err(FloatError::NotFloat);
        }
    }
    let parsed = if hex && !body.contains(['p', 'P']) {
        // strtold reads a hexadecimal float without a binary exponent; the parser wants one.
        LongDouble::from_str_r(&format!("{body}p0"), Round::NearestTiesToEven)
    } else if hex || !body.contains(['x', 'X', 'p', 'P']) {
        LongDouble::from_str_r(body, Round::NearestTiesToEven)
    } else {
        return Err(FloatError::NotFloat);
    };
    let parsed = parsed.map_err(|_| FloatError::NotFloat)?;
    let value = parsed.value;
    // strtold's ERANGE: Redis refuses an overflow and an underflow to zero.
    if !value.is_finite() || (value.is_zero() && parsed.status.contains(Status::UNDERFLOW)) {
        return Err(FloatError::NotFloat);
    }
    Ok(if negative { -value } else { value })
}

/// `value` as `%.17Lf` prints it, trailing zeros (and a trailing point) removed, `-0` as `0`.
fn format(value: LongDouble) -> String {
    let bits = value.to_bits();
    let significand = (bits & u128::from(u64::MAX)) as u64;
    let exponent_field = ((bits >> 64) & 0x7fff) as i32;
    let negative = (bits >> 79) & 1 == 1;
    // The value is `significand × 2^exponent`.
    let exponent = exponent_field.max(1) - BIAS - SIGNIFICAND_BITS;
    let mut text = if exponent >= 0 {
        shifted_decimal(significand, exponent.unsigned_abs())
    } else {
        fraction_decimal(significand, exponent.unsigned_abs())
    };
    if negative && text != "0" {
        text.insert(0, '-');
    }
    text
}

/// `significand × 2^shift` in decimal: an integer, so no point.
fn shifted_decimal(significand: u64, shift: u32) -> String {
    // Little-endian 32-bit limbs of the significand shifted left.
    let words = (shift / 32) as usize;
    let mut limbs = vec![0u32; words];
    let wide = u128::from(significand) << (shift % 32);
    for k in 0..3 {
        limbs.push((wide >> (32 * k)) as u32);
    }
    // Nine digits at a time, least significant group first.
    let mut groups = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rest = 0u64;
        for limb in limbs.iter_mut().rev() {
            let current = (rest << 32) | u64::from(*limb);
            *limb = (current / 1_000_000_000) as u32;
            rest = current % 1_000_000_000;
        }
        groups.push(rest as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut text = groups
        .pop()
        .map_or_else(|| "0".to_owned(), |g| g.to_string());
    for group in groups.iter().rev() {
        text.push_str(&format!("{group:09}"));
    }
    text
}

/// `significand / 2^shift` rounded to 17 decimals, ties to even, trailing zeros removed.
fn fraction_decimal(significand: u64, shift: u32) -> String {
    // Below 2^121: it fits, and once `shift` passes 121 the value rounds to 0.
    let scaled = u128::from(significand) * SCALE;
    let units = if shift >= 128 {
        0
    } else {
        let quotient = scaled >> shift;
        let remainder = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if remainder > half || (remainder == half && quotient % 2 == 1) {
            quotient + 1
        } else {
            quotient
        }
    };
    let (int, frac) = (units / SCALE, units % SCALE);
    let mut text = int.to_string();
    if frac != 0 {
        let digits = format!("{frac:0DECIMALS$}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> Result<String, FloatError> {
        add(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).unwrap_or_default())
    }

    #[test]
    fn sums_read_as_redis_prints_them() {
        // Each as redis-server 7.0.15's INCRBYFLOAT gives it (Valkey 8.1 agrees).
        for (a, b, want) in [
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("5.0e3", "2.0e2", "5200"),
            ("1", "1e20", "100000000000000000000"),
            ("3.0", "1.5e-5", "3.000015"),
            ("007", "1", "8"),
            ("-1.5", "1.5", "0"),
            ("-0", "-0", "0"),
            ("0", "-1e-20", "0"),
            ("0", "0x10", "16"),
            ("0x1.8p1", "1", "4"),
            ("0X1P3", "1", "9"),
            ("0x1.8", "0", "1.5"),
            ("0x.8p1", "0", "1"),
            ("9223372036854775807", "0.1", "9223372036854775807"),
            ("0", "1e-17", "0.00000000000000001"),
            ("0", "5e-18", "0"),
            ("0", "1.5e-17", "0.00000000000000002"),
            ("0", "2.5e-17", "0.00000000000000002"),
            ("0", "1e-400", "0"),
            ("1e-4950", "0", "0"),
            (".5", "1", "1.5"),
            ("5.", "1", "6"),
            ("+5", "1", "6"),
            ("1e+3", "1", "1001"),
            ("1.0000000000000000001", "0", "1"),
            (
                "3.14159265358979323846264338327950288",
                "0",
                "3.14159265358979324",
            ),
            ("1e19", "0.5", "10000000000000000000"),
            ("123456789.123456789", "0", "123456789.12345678899873747"),
            ("-1e-17", "0", "-0.00000000000000001"),
            ("-0.000000000000000005", "0", "0"),
            ("0e99999999999999999999999", "1", "1"),
        ] {
            assert_eq!(sum(a, b), Ok(want.to_owned()), "{a} + {b}");
        }
        let huge = sum("1.7e308", "1.7e308").unwrap_or_default();
        assert_eq!(huge.len(), 309);
        assert!(huge.starts_with("3400000000000000000062735560503951935905404277793882674660871"));
        assert!(huge.ends_with("358619554802565120"));
    }

    #[test]
    fn refusals_follow_string2ld() {
        for bad in [
            "abc",
            " 1",
            "1 ",
            "",
            "nan",
            "-nan",
            "1e",
            "0x",
            ".",
            "--1",
            "1e5000",
            "1e-5000",
            "infx",
            "0x1p",
            "1e+",
            "0x1p-",
            "1_000",
            "1e5x",
            "\x01",
            "\0",
            "1\0",
            "0x1p-16446",
            "1e-4951",
            "1e99999999999999999999999",
        ] {
            assert_eq!(sum(bad, "1"), Err(FloatError::NotFloat), "{bad:?}");
        }
        assert_eq!(sum("1", "inf"), Err(FloatError::NanOrInfinity));
        assert_eq!(sum("-Infinity", "1"), Err(FloatError::NanOrInfinity));
        assert_eq!(sum("1.1e4932", "1.1e4932"), Err(FloatError::NanOrInfinity));
        // Redis reads at most 5119 bytes, however small the number.
        let long = |len: usize| format!("0.{}", "1".repeat(len - 2));
        assert_eq!(sum(&long(MAX_LEN + 1), "1"), Err(FloatError::NotFloat));
        assert_eq!(sum(&long(MAX_LEN), "1"), Ok("1.11111111111111111".into()));
    }
}
