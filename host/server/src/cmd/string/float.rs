//! `INCRBYFLOAT`'s and `HINCRBYFLOAT`'s arithmetic and formatting, giving the replies Redis's
//! `long double` arithmetic gives.
//!
//! Redis adds two `long double`s and prints the sum with 17 decimals, trailing zeros
//! removed. Decimal inputs such as `10.5 + 0.1` come out exactly (`10.6`), which `f64` alone
//! would not (`0.1 + 0.2` = `0.30000000000000004`). So numbers written with few enough digits
//! are added exactly, as decimals; anything else in `f64`.

/// Significant digits a sum may have for the exact decimal path: well inside the precision
/// of an x87 `long double` (about 19), so its printed value is the exact one.
const EXACT_DIGITS: u32 = 18;
/// Decimals Redis prints (`%.17Lf`).
const DECIMALS: usize = 17;

/// Why a float operand or result was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatError {
    /// Not a number Redis's `strtold` would read.
    NotFloat,
    /// The result is NaN or infinite.
    NanOrInfinity,
}

/// `current + increment`, formatted as Redis formats it; both as the client wrote them.
pub fn add(current: &[u8], increment: &[u8]) -> Result<Vec<u8>, FloatError> {
    let (a, b) = (parse(current)?, parse(increment)?);
    if let (Some(x), Some(y)) = (Decimal::parse(current), Decimal::parse(increment))
        && let Some(sum) = x.add(y)
        && sum.significant_digits() <= EXACT_DIGITS
    {
        return Ok(sum.format().into_bytes());
    }
    let sum = a + b;
    if !sum.is_finite() {
        return Err(FloatError::NanOrInfinity);
    }
    Ok(format_f64(sum).into_bytes())
}

/// `bytes` as a float, as Redis's `string2ld` reads it: no leading space, no trailing junk,
/// not NaN.
pub fn parse(bytes: &[u8]) -> Result<f64, FloatError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FloatError::NotFloat)?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(FloatError::NotFloat);
    }
    let value: f64 = text.parse().map_err(|_| FloatError::NotFloat)?;
    if value.is_nan() {
        return Err(FloatError::NotFloat);
    }
    // `inf` parses but is refused as a result, as Redis refuses it.
    if value.is_infinite() {
        return Err(FloatError::NanOrInfinity);
    }
    Ok(value)
}

/// `value` with 17 decimals, trailing zeros (and a trailing point) removed.
pub fn format_f64(value: f64) -> String {
    let mut text = format!("{value:.DECIMALS$}");
    trim_zeros(&mut text);
    text
}

fn trim_zeros(text: &mut String) {
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        *text = "0".into();
    }
}

/// A decimal number `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    /// Plain decimal notation with an optional exponent (`1.5`, `-2`, `5.0e3`, `1.5e-5`).
    fn parse(bytes: &[u8]) -> Option<Decimal> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (body, exp) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (negative, digits) = match body.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, body.strip_prefix('+').unwrap_or(body)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !(int.bytes().chain(frac.bytes())).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let all: String = format!("{int}{frac}");
        let all = all.trim_start_matches('0');
        if all.len() > 30 {
            return None;
        }
        let mut mantissa: i128 = if all.is_empty() { 0 } else { all.parse().ok()? };
        let mut scale = i64::try_from(frac.len()).ok()? - i64::from(exp);
        if scale < 0 {
            mantissa = mantissa.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?;
            scale = 0;
        }
        let scale = u32::try_from(scale).ok().filter(|s| *s <= 30)?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = self
            .mantissa
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other
            .mantissa
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some(Decimal {
            mantissa: a.checked_add(b)?,
            scale,
        })
    }

    fn significant_digits(&self) -> u32 {
        let digits = self
            .mantissa
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |d| d + 1);
        // Leading zeros after the point count as precision the sum must carry too.
        digits.max(self.scale)
    }

    fn format(&self) -> String {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        let mut text = String::new();
        if self.mantissa < 0 {
            text.push('-');
        }
        text.push_str(int);
        if !frac.is_empty() {
            text.push('.');
            text.push_str(&frac[..frac.len().min(DECIMALS)]);
        }
        trim_zeros(&mut text);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> Result<String, FloatError> {
        add(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).unwrap_or_default())
    }

    #[test]
    fn sums_read_as_redis_prints_them() {
        // Each checked against Valkey 8.1 (Redis 7.2's INCRBYFLOAT).
        assert_eq!(sum("10.5", "0.1"), Ok("10.6".into()));
        assert_eq!(sum("0.1", "0.2"), Ok("0.3".into()));
        assert_eq!(sum("5.0e3", "2.0e2"), Ok("5200".into()));
        assert_eq!(sum("1", "1e20"), Ok("100000000000000000000".into()));
        assert_eq!(sum("3.0", "1.5e-5"), Ok("3.000015".into()));
        assert_eq!(sum("007", "1"), Ok("8".into()));
        assert_eq!(sum("1.5", "1"), Ok("2.5".into()));
        assert_eq!(sum("0", "1.0"), Ok("1".into()));
        assert_eq!(sum("-1.5", "1.5"), Ok("0".into()));
        assert_eq!(sum("abc", "1"), Err(FloatError::NotFloat));
        assert_eq!(sum(" 1", "1"), Err(FloatError::NotFloat));
        assert_eq!(sum("1", "inf"), Err(FloatError::NanOrInfinity));
        assert_eq!(sum("1", "nan"), Err(FloatError::NotFloat));
        assert_eq!(sum("1e308", "1e308"), Err(FloatError::NanOrInfinity));
    }
}
