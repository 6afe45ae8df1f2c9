//! Intsets (`intset.c`), Redis's encoding of small all-integer sets (`RDB_TYPE_SET_INTSET`).
//!
//! ```text
//! intset := width:u32le (2, 4 or 8 bytes per member)  count:u32le  member*   members
//!           little-endian, signed, strictly ascending
//! ```

use sluice_resp::request::parse_i64 as canonical_i64;

const HEADER: usize = 8;

/// The members of `blob`, ascending, or what is wrong with it. Checks what Redis's deep
/// sanitization checks: a known width, a size that matches the count, at least one member,
/// strictly ascending members (so no duplicates).
pub(crate) fn parse(blob: &[u8]) -> Result<Vec<i64>, &'static str> {
    let header = blob.get(..HEADER).ok_or("intset shorter than its header")?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("unknown intset width");
    }
    if blob.len() - HEADER != count.saturating_mul(width) {
        return Err("intset size does not match its count");
    }
    if count == 0 {
        return Err("empty intset");
    }
    let mut members = Vec::with_capacity(count);
    for chunk in blob[HEADER..].chunks_exact(width) {
        let mut raw = [0; 8];
        raw[..width].copy_from_slice(chunk);
        // Sign-extend from the member's width.
        let shift = 64 - 8 * width as u32;
        let v = (i64::from_le_bytes(raw) << shift) >> shift;
        if members.last().is_some_and(|&prev| prev >= v) {
            return Err("intset members out of order or repeated");
        }
        members.push(v);
    }
    Ok(members)
}

/// The members of `members` (canonical decimal strings) if they can form an intset, as
/// Redis keeps a set an intset: every member an integer.
pub(crate) fn integers(members: &[Vec<u8>]) -> Option<Vec<i64>> {
    members.iter().map(|m| canonical_i64(m)).collect()
}

/// An intset of `members` (distinct), in the narrowest width that holds them all.
pub(crate) fn build(mut members: Vec<i64>) -> Vec<u8> {
    members.sort_unstable();
    let fits = |lo: i64, hi: i64| members.iter().all(|v| (lo..=hi).contains(v));
    let width: usize = if fits(i16::MIN.into(), i16::MAX.into()) {
        2
    } else if fits(i32::MIN.into(), i32::MAX.into()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(HEADER + width * members.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn widths_follow_the_extremes() {
        assert_eq!(build(vec![3, -2])[..4], 2u32.to_le_bytes());
        assert_eq!(build(vec![1, 40_000])[..4], 4u32.to_le_bytes());
        assert_eq!(build(vec![i64::MIN, 0])[..4], 8u32.to_le_bytes());
        assert_eq!(parse(&build(vec![5, -70_000, 3])), Ok(vec![-70_000, 3, 5]));
    }

    #[test]
    fn damaged_intsets_are_refused() {
        let good = build(vec![1, 2, 3]);
        assert!(parse(&good).is_ok());
        assert!(parse(&good[..good.len() - 1]).is_err(), "truncated");
        assert!(parse(&good[..5]).is_err(), "no header");
        let mut width = good.clone();
        width[0] = 3;
        assert!(parse(&width).is_err());
        let mut order = good.clone();
        order[HEADER] = 9;
        assert!(parse(&order).is_err());
        assert!(parse(&build(vec![])).is_err(), "empty");
        let mut huge = good;
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&huge).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(set in prop::collection::btree_set(any::<i64>(), 1..100)) {
            let members: Vec<i64> = set.iter().copied().collect();
            prop_assert_eq!(parse(&build(members.clone())), Ok(members));
        }
    }
}
