//! The one test Redis applies everywhere it may store a string as an integer (`string2ll`,
//! `lpStringToInt64`): the bytes must be exactly the canonical decimal form of an `i64` — no
//! sign but a leading `-`, no leading zeros, no `-0`, nothing around the digits — so turning
//! the integer back into text gives the same bytes. Used to choose RDB string, listpack and
//! intset encodings as Redis would.

/// The `i64` whose canonical decimal text is exactly `s`, if any.
pub(crate) fn canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

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
            assert_eq!(canonical_i64(s), want, "{}", String::from_utf8_lossy(s));
        }
    }

    proptest! {
        #[test]
        fn agrees_with_formatting(v in any::<i64>()) {
            prop_assert_eq!(canonical_i64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn accepted_strings_format_back(s in "-?[0-9]{0,21}") {
            if let Some(v) = canonical_i64(s.as_bytes()) {
                prop_assert_eq!(v.to_string(), s);
            }
        }
    }
}
