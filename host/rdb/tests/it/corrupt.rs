//! Damaged payloads never panic and get the right refusal: every byte of several fixtures
//! flipped, every truncation, and the same with a recomputed footer so the body parser (not
//! just the CRC) meets the damage; plus random bodies.

use proptest::prelude::*;
use sluice_rdb::{RdbError, dump, restore};

use crate::bytes::{body, seal};
use crate::model::fixture;

/// Small fixtures covering every reader: strings (plain, int, LZF), lists (listpack, plain and
/// LZF nodes), sets (intset, listpack, plain), hashes (listpack, LZF listpack, plain),
/// streams of both 7.0 and 7.2 types.
const FIXTURES: [&str; 14] = [
    "valkey-8.1-string-int16",
    "valkey-8.1-string-lzf",
    "valkey-8.1-list-small",
    "redis-7.0-list-plain-nodes",
    "valkey-8.1-set-intset16",
    "valkey-8.1-set-listpack",
    "redis-7.0-set-listpack",
    "valkey-8.1-hash-small",
    "valkey-8.1-hash-long-value",
    "valkey-8.1-hash-medium",
    "redis-7.0-stream-groups",
    "valkey-8.1-stream-groups",
    "valkey-8.1-stream-big-value",
    "valkey-8.1-stream-empty",
];

fn is_footer(r: &Result<sluice_rdb::RdbValue, RdbError>) -> bool {
    matches!(r, Err(RdbError::Footer(_)))
}

#[test]
fn any_flipped_byte_fails_the_footer_check() {
    for name in FIXTURES {
        let payload = fixture(name);
        for i in 0..payload.len() {
            for mask in [0xff, 0x01, 0x80] {
                let mut damaged = payload.clone();
                damaged[i] ^= mask;
                assert!(
                    is_footer(&restore(&damaged)),
                    "{name}: byte {i} ^ {mask:#x}"
                );
            }
        }
    }
}

#[test]
fn any_truncation_fails_the_footer_check() {
    for name in FIXTURES {
        let payload = fixture(name);
        for n in 0..payload.len() {
            assert!(
                is_footer(&restore(&payload[..n])),
                "{name}: first {n} bytes"
            );
        }
    }
}

/// With a valid footer, damage reaches the body parser: it may be refused as bad data or
/// read as another valid value (which must then survive its own round trip), never panic.
#[test]
fn flipped_bodies_with_a_valid_footer_never_panic() {
    for name in FIXTURES {
        let original = body(&fixture(name));
        let mut refused = 0;
        for i in 0..original.len() {
            for mask in [0xff, 0x01, 0x80, 0x40] {
                let mut damaged = original.clone();
                damaged[i] ^= mask;
                match restore(&seal(damaged)) {
                    Ok(value) => assert_eq!(restore(&dump(&value)), Ok(value), "{name}: {i}"),
                    Err(RdbError::BadData { .. }) => refused += 1,
                    Err(e) => panic!("{name}: byte {i}: {e:?}"),
                }
            }
        }
        assert!(refused > 0, "{name}: no damage was noticed");
    }
}

#[test]
fn truncated_bodies_with_a_valid_footer_are_bad_data() {
    for name in FIXTURES {
        let original = body(&fixture(name));
        for n in 0..original.len() {
            let got = restore(&seal(original[..n].to_vec()));
            assert!(
                matches!(got, Err(RdbError::BadData { .. })),
                "{name}: first {n} bytes: {got:?}"
            );
        }
        // One byte too many is refused too.
        let mut longer = original.clone();
        longer.push(0);
        assert!(
            matches!(restore(&seal(longer)), Err(RdbError::BadData { .. })),
            "{name}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random bodies behind every supported type byte, with a valid footer.
    #[test]
    fn random_bodies_never_panic(
        ty in prop::sample::select(vec![0u8, 1, 2, 4, 10, 11, 13, 14, 15, 16, 18, 19, 20, 21]),
        rest in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut b = vec![ty];
        b.extend_from_slice(&rest);
        if let Ok(value) = restore(&seal(b)) {
            prop_assert_eq!(restore(&dump(&value)), Ok(value));
        }
    }
}
