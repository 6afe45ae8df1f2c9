//! Redis's glob patterns (`KEYS`, `SCAN … MATCH`, `CONFIG GET`): `*`, `?`, `[abc]`, `[^a-z]`
//! and `\` escapes, on bytes.
//!
//! Matching backtracks only to the last `*`, so its cost is bounded by pattern × text length
//! whatever the pattern: a client cannot make it run exponentially.

/// True if `pattern` has no special characters: it matches exactly itself.
pub fn is_literal(pattern: &[u8]) -> bool {
    !pattern
        .iter()
        .any(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
}

/// True if `text` matches `pattern`; `nocase` folds ASCII case.
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: pattern index after it, and the text index it covers up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
                if p == pattern.len() {
                    return true;
                }
                star = Some((p, t));
                continue;
            }
            Some(_) => {
                if let Some(next) = match_one(pattern, p, text[t], nocase) {
                    p = next;
                    t += 1;
                    continue;
                }
            }
            None => {}
        }
        match star {
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches one text byte against the pattern element at `p`; the index after the element on
/// success.
fn match_one(pattern: &[u8], p: usize, c: u8, nocase: bool) -> Option<usize> {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    match pattern[p] {
        b'?' => Some(p + 1),
        b'\\' if p + 1 < pattern.len() => eq(pattern[p + 1], c).then_some(p + 2),
        b'[' => {
            let mut i = p + 1;
            let negate = pattern.get(i) == Some(&b'^');
            if negate {
                i += 1;
            }
            let mut hit = false;
            loop {
                match pattern.get(i) {
                    // An unterminated class ends with the pattern, as in Redis.
                    None => break,
                    Some(b']') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < pattern.len() => {
                        hit |= eq(pattern[i + 1], c);
                        i += 2;
                    }
                    Some(&lo)
                        if pattern.get(i + 1) == Some(&b'-')
                            && i + 2 < pattern.len()
                            && pattern[i + 2] != b']' =>
                    {
                        let hi = pattern[i + 2];
                        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                        let in_range = |x: u8| lo <= x && x <= hi;
                        hit |= in_range(c)
                            || (nocase
                                && (in_range(c.to_ascii_lowercase())
                                    || in_range(c.to_ascii_uppercase())));
                        i += 3;
                    }
                    Some(&x) => {
                        hit |= eq(x, c);
                        i += 1;
                    }
                }
            }
            (hit != negate).then_some(i)
        }
        x => eq(x, c).then_some(p + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_literal, matches};

    #[test]
    fn literal_patterns_have_no_special_characters() {
        assert!(is_literal(b"orders.eu"));
        for pattern in [&b"orders.*"[..], b"o?", b"[ab]", b"a\\*"] {
            assert!(!is_literal(pattern), "{pattern:?}");
        }
    }

    #[test]
    fn redis_examples() {
        let m = |p: &str, t: &str| matches(p.as_bytes(), t.as_bytes(), false);
        assert!(m("h?llo", "hello") && m("h?llo", "hallo") && !m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo") && m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hello") && !m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo") && !m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo") && !m("h[a-b]llo", "hcllo"));
        assert!(m("orders.*", "orders.eu") && !m("orders.*", "order"));
        assert!(m("*", "") && m("**a**", "xxa") && !m("a", ""));
        assert!(m("a\\*b", "a*b") && !m("a\\*b", "axb"));
        assert!(matches(b"STREAM-*", b"stream-node-max-bytes", true));
    }

    #[test]
    fn no_exponential_blowup() {
        let pattern = "*a".repeat(30) + "b";
        assert!(!matches(
            pattern.as_bytes(),
            "a".repeat(5000).as_bytes(),
            false
        ));
    }
}
