//! The timeout of `BLPOP`, `BRPOP` and `BLMOVE`: seconds as a double, read as Redis reads it.
//!
//! Redis reads the number as a `long double` with `string2ld` (so `1e3`, `.5`, `inf` and hex
//! floats such as `0x10` are numbers; a leading space, trailing junk, NaN and what overflows or
//! underflows to 0 are not: [`float::parse`] reads it the same way), multiplies it by 1000,
//! refuses what passes `LLONG_MAX`, rounds up to whole milliseconds, and refuses what is
//! negative or would overflow its deadline.

use std::time::Duration;

use rustc_apfloat::ieee::X87DoubleExtended as LongDouble;
use rustc_apfloat::{Float, Round};

use crate::cmd::string::float::{self, FloatError};
use crate::error::{self, CmdError};

/// A blocking pop's timeout: `None` waits forever (0), else how long to wait. `now_ms` is the
/// time the command runs at: a deadline past `i64::MAX` ms is out of range, as in Redis.
pub fn parse_seconds(arg: &[u8], now_ms: u64) -> Result<Option<Duration>, CmdError> {
    let secs = match float::parse(arg) {
        Ok(secs) => secs,
        // `inf` is a number to Redis here: too large a timeout, or a negative one.
        Err(FloatError::NanOrInfinity) if arg.starts_with(b"-") => -LongDouble::INFINITY,
        Err(FloatError::NanOrInfinity) => LongDouble::INFINITY,
        Err(FloatError::NotFloat) => return Err(CmdError(error::TIMEOUT_NOT_FLOAT.into())),
    };
    let thousand = LongDouble::from_u128(1000).value;
    let ms = secs.mul_r(thousand, Round::NearestTiesToEven).value;
    // i64::MAX is exact in a long double's 64-bit significand.
    if ms > LongDouble::from_i128(i128::from(i64::MAX)).value {
        return Err(CmdError(error::TIMEOUT_OUT_OF_RANGE.into()));
    }
    // Rounded up, as Redis's `ceill`; -inf and what is below i64's range saturate to
    // `i64::MIN`, which is negative too, as the C cast gives on x86.
    let ms = ms.round_to_integral(Round::TowardPositive).value;
    let ms = i64::try_from(ms.to_i128(128).value).unwrap_or(i64::MIN);
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
