//! Every committed payload restores to exactly what the server that made it reported, and
//! survives `dump` → `restore`. Payloads are described in `fixtures/README.md`.

use sluice_rdb::{RDB_VERSION, dump, restore};

use crate::model::{fixture, fixtures, to_json};

#[test]
fn every_fixture_restores_to_what_its_server_reported() {
    let all = fixtures();
    assert_eq!(all.len(), 3 * 29, "one fixture per scenario and server");
    for (name, payload, doc) in &all {
        let value = restore(payload).unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
        assert_eq!(to_json(&value), doc["value"], "{name}");
        assert_eq!(u64::from(payload[0]), doc["rdb_type"], "{name}");
    }
}

#[test]
fn every_fixture_round_trips_through_dump() {
    for (name, payload, _) in fixtures() {
        let value = restore(&payload).expect("restores");
        let again = dump(&value);
        assert_eq!(
            u16::from_le_bytes([again[again.len() - 10], again[again.len() - 9]]),
            RDB_VERSION
        );
        let back = restore(&again).unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
        assert_eq!(back, value, "{name}");
    }
}

/// For values Valkey 8.1 (Redis 7.2) writes without LZF (it compresses strings over 20 bytes
/// that shrink, which `dump` never does) and without deleted stream entries (which the model
/// does not carry), `dump` produces the very bytes it does.
#[test]
fn dump_writes_what_redis_7_2_writes() {
    for name in [
        "string-plain",
        "string-empty",
        "string-int8",
        "string-int16",
        "string-int32",
        "string-int64",
        "string-leading-zero",
        "string-binary",
        "list-small",
        "set-intset16",
        "set-listpack",
        "set-hashtable",
        "set-many-ints",
        "hash-small",
        "hash-large",
        "stream-empty",
        "stream-mkstream",
    ] {
        let payload = fixture(&format!("valkey-8.1-{name}"));
        let value = restore(&payload).expect("restores");
        assert_eq!(dump(&value), payload, "{name}");
    }
}
