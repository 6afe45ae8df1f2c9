//! Payloads built by hand from the format: encodings no server here writes any more (plain
//! lists, ziplists, quicklist 1), the footer rules, and bodies that are well-formed bytes but
//! not a value, each refused with what is wrong. Streams are in `handmade_stream.rs`.

use sluice_rdb::{FooterError, RdbError, RdbValue, restore};

use crate::bytes::{El, len, listpack, seal, seal_with, string, ziplist};

fn strings(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// `what` of a `BadData` refusal of `payload`.
pub fn bad(payload: &[u8]) -> &'static str {
    match restore(payload) {
        Err(RdbError::BadData { what, .. }) => what,
        other => panic!("expected BadData, got {other:?}"),
    }
}

#[test]
fn plain_list() {
    let mut b = vec![1];
    len(&mut b, 3);
    string(&mut b, b"a");
    b.extend_from_slice(&[0xc0, 0xfb]); // INT8 -5
    string(&mut b, b"");
    assert_eq!(
        restore(&seal(b)),
        Ok(RdbValue::List(strings(&["a", "-5", ""])))
    );
}

#[test]
fn ziplist_list_and_quicklist_1() {
    let first = ziplist(&[El::I(2), El::I(5)]);
    let second = ziplist(&[El::S(b"Hello World"), El::I(12), El::S(b"")]);
    let mut b = vec![10];
    string(&mut b, &first);
    assert_eq!(restore(&seal(b)), Ok(RdbValue::List(strings(&["2", "5"]))));

    let mut b = vec![14];
    len(&mut b, 2);
    string(&mut b, &first);
    string(&mut b, &second);
    let want = strings(&["2", "5", "Hello World", "12", ""]);
    assert_eq!(restore(&seal(b)), Ok(RdbValue::List(want)));
}

#[test]
fn ziplist_hash() {
    let zl = ziplist(&[El::S(b"name"), El::S(b"sluice"), El::S(b"n"), El::I(7)]);
    let mut b = vec![13];
    string(&mut b, &zl);
    let want = vec![
        (b"name".to_vec(), b"sluice".to_vec()),
        (b"n".to_vec(), b"7".to_vec()),
    ];
    assert_eq!(restore(&seal(b)), Ok(RdbValue::Hash(want)));

    let odd = ziplist(&[El::S(b"name")]);
    let mut b = vec![13];
    string(&mut b, &odd);
    assert_eq!(bad(&seal(b)), "hash ziplist with an unpaired field");
}

#[test]
fn footer_rules() {
    let mut value = vec![0];
    string(&mut value, b"v");
    for version in [0, 1, 9, 10, 11, 12, 80, 81] {
        let got = restore(&seal_with(value.clone(), version));
        assert_eq!(
            got,
            Ok(RdbValue::String(b"v".to_vec())),
            "version {version}"
        );
    }
    for version in [13, 15, 79, 82, u16::MAX] {
        let got = restore(&seal_with(value.clone(), version));
        assert_eq!(
            got,
            Err(RdbError::Footer(FooterError::Version { found: version }))
        );
    }
    let mut payload = seal(value.clone());
    payload[1] ^= 1;
    assert_eq!(
        restore(&payload),
        Err(RdbError::Footer(FooterError::Checksum))
    );
    for n in 0..10 {
        let got = restore(&vec![0; n]);
        assert_eq!(got, Err(RdbError::Footer(FooterError::TooShort { len: n })));
    }
    // Just a footer (version 0, the CRC of two zero bytes is 0): past the footer check, as
    // in Redis, and no value.
    assert_eq!(bad(&[0; 10]), "missing type");
    let err = restore(&[0; 5]).expect_err("too short");
    assert_eq!(
        err.to_string(),
        "ERR DUMP payload version or checksum are wrong"
    );
    assert_eq!(err.reply(), sluice_rdb::VERSION_OR_CHECKSUM);
}

#[test]
fn bad_bodies_are_bad_data() {
    let mut trailing = vec![0];
    string(&mut trailing, b"v");
    trailing.push(0);
    let payload = seal(trailing);
    assert_eq!(bad(&payload), "trailing bytes after the value");
    let err = restore(&payload).expect_err("trailing bytes");
    assert_eq!(err.to_string(), "ERR Bad data format");
    assert_eq!(err.reply(), sluice_rdb::BAD_DATA_FORMAT);

    // Sorted sets, modules, hashes with field expiry, and Redis 8's newer streams.
    for ty in [3, 5, 6, 7, 8, 9, 12, 17, 22, 24, 25, 26, 27, 255] {
        assert_eq!(
            bad(&seal(vec![ty, 0])),
            "value type not supported",
            "type {ty}"
        );
    }

    let empty_quicklist = seal(vec![18, 0]);
    assert_eq!(bad(&empty_quicklist), "empty list");
    let mut only_empty_node = vec![18, 1, 2];
    string(&mut only_empty_node, &listpack(&[]));
    assert_eq!(bad(&seal(only_empty_node)), "empty list");
    let mut unknown_container = vec![18, 1, 3];
    string(&mut unknown_container, &listpack(&[El::I(1)]));
    assert_eq!(
        bad(&seal(unknown_container)),
        "unknown quicklist node container"
    );

    assert_eq!(bad(&seal(vec![2, 0])), "empty set");
    assert_eq!(bad(&seal(vec![4, 0])), "empty hash");
    let mut dup_set = vec![2, 2];
    string(&mut dup_set, b"a");
    string(&mut dup_set, b"a");
    assert_eq!(bad(&seal(dup_set)), "duplicate set members");
    let mut dup_set_lp = vec![20];
    string(&mut dup_set_lp, &listpack(&[El::I(1), El::S(b"1")]));
    assert_eq!(bad(&seal(dup_set_lp)), "duplicate set members");
    let mut dup_hash = vec![16];
    string(
        &mut dup_hash,
        &listpack(&[El::S(b"f"), El::I(1), El::S(b"f"), El::I(2)]),
    );
    assert_eq!(bad(&seal(dup_hash)), "duplicate hash fields");
    let mut odd_hash = vec![16];
    string(&mut odd_hash, &listpack(&[El::S(b"f")]));
    assert_eq!(bad(&seal(odd_hash)), "hash listpack with an unpaired field");
    let mut empty_intset = vec![11];
    string(&mut empty_intset, &[2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bad(&seal(empty_intset)), "empty intset");
}
