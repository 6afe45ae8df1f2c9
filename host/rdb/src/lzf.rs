//! LZF decompression, for the strings Redis compresses in RDB payloads (`RDB_ENC_LZF`: any
//! string over 20 bytes that shrinks, listpack and quicklist node blobs included).
//!
//! The format is a sequence of runs, each starting with a control byte `c`:
//! - `c < 32`: a literal run of the next `c + 1` bytes;
//! - otherwise a back reference: length `c >> 5` (7 means "7 plus the next byte"), plus 2;
//!   distance `((c & 0x1f) << 8) + next byte + 1` back from the end of the output so far.
//!   The copy may overlap its own output (a distance of 1 repeats one byte).
//!
//! Hand-written rather than a crate: the maintained LZF crates wrap the C library or are
//! deprecated, and decompression is these 30 lines. The input is untrusted: every read and
//! every back reference is checked, and the output never grows past the declared length.

/// Most bytes one input byte can produce: a 3-byte back reference yields at most 264.
const MAX_RATIO: usize = 88;

/// Decompresses `input`, which must produce exactly `out_len` bytes; `None` if it is
/// malformed, refers before the start of the output, or produces more or fewer bytes.
pub(crate) fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    let mut pos = 0;
    while let Some(&ctrl) = input.get(pos) {
        pos += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < 32 {
            let literal = input.get(pos..pos + ctrl + 1)?;
            if out.len() + literal.len() > out_len {
                return None;
            }
            out.extend_from_slice(literal);
            pos += literal.len();
            continue;
        }
        let mut len = ctrl >> 5;
        if len == 7 {
            len += usize::from(*input.get(pos)?);
            pos += 1;
        }
        len += 2;
        let distance = ((ctrl & 0x1f) << 8) + usize::from(*input.get(pos)?) + 1;
        pos += 1;
        let start = out.len().checked_sub(distance)?;
        if out.len() + len > out_len {
            return None;
        }
        for i in start..start + len {
            // `i < out.len()` always holds (the source trails the end by `distance`), so
            // `get` never fails; it keeps the loop free of indexing panics all the same.
            let byte = *out.get(i)?;
            out.push(byte);
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_back_references() {
        // "abc" as a literal, then a 6-byte copy from 3 back (overlapping): "abcabcabc".
        let input = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&input, 9).as_deref(), Some(&b"abcabcabc"[..]));
        // A long reference: length 7 + 3 + 2 = 12 copies of 'x'.
        let input = [0, b'x', (7 << 5), 3, 0];
        assert_eq!(decompress(&input, 13), Some(vec![b'x'; 13]));
    }

    #[test]
    fn refuses_malformed_input() {
        assert_eq!(
            decompress(&[2, b'a'], 3),
            None,
            "literal runs past the input"
        );
        assert_eq!(
            decompress(&[(1 << 5), 0], 3),
            None,
            "reference before the start"
        );
        assert_eq!(
            decompress(&[0, b'a', (1 << 5), 0], 2),
            None,
            "longer than declared"
        );
        assert_eq!(decompress(&[0, b'a'], 2), None, "shorter than declared");
        assert_eq!(
            decompress(&[0, b'a', (7 << 5)], 20),
            None,
            "truncated reference"
        );
        assert_eq!(
            decompress(&[0, b'a'], 1 << 40),
            None,
            "absurd declared length"
        );
        assert_eq!(decompress(&[], 0), Some(vec![]));
    }
}
