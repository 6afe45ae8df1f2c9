//! The committed format-v3 fixture, `host/streams/tests/fixtures/stream-v3.bin`: proof that
//! snapshots written by format version 3 keep loading with their idempotency state and their
//! NACKed pending entries.
//!
//! Written once by [`write_v3_fixture`]
//! (`cargo test -p sluice-streams write_v3_fixture -- --ignored`); never regenerate it after
//! a format change (see `persist_fixture_v2.rs`).

use super::groups::{G, read_new};
use super::persist::encode;
use super::persist_fixture::{fixture_bytes, write_fixture};
use super::*;
use crate::{AddId, FATAL_DELIVERY_COUNT, IdmpConfig, NackMode, NackOptions};

const FIXTURE: &str = "stream-v3.bin";
const T0: u64 = 1_700_000_000_000;

/// Three IDMP entries from two producers, a window of 60 s × 2 iids (so p1's first iid was
/// evicted) and one duplicate; a group `g` where `c` read two entries and NACKed the first
/// FATAL. Deterministic: fixed IDs and times.
fn fixture_stream_v3() -> Stream {
    let defaults = IdmpConfig::default();
    let mut s = Stream::new();
    s.idmp_configure(Some(60), Some(2), defaults);
    for (ms, pid, iid) in [
        (1, "p1", "a"),
        (2, "p1", "b"),
        (3, "p2", "a"),
        (4, "p1", "c"),
    ] {
        let new = s
            .add(AddId::Explicit(id(ms, 0)), &[b"f", b"v"], 0, limits(100))
            .expect("ascending");
        s.idmp_record(pid.as_bytes(), iid.as_bytes(), new, T0 + ms, defaults);
    }
    assert_eq!(s.idmp_lookup(b"p2", b"a", T0 + 5, defaults), Some(id(3, 0)));
    s.create_group(G, StreamId::MIN, None).expect("create");
    assert_eq!(
        read_new(&mut s, b"c", Some(2), T0 + 6),
        vec![id(1, 0), id(2, 0)]
    );
    let nacked = s.nack(
        G,
        &[id(1, 0)],
        NackMode::Fatal,
        NackOptions::default(),
        T0 + 7,
    );
    assert_eq!(nacked, Ok(1));
    s
}

#[test]
#[ignore = "writes tests/fixtures/stream-v3.bin; run once, see the module docs"]
fn write_v3_fixture() {
    write_fixture(FIXTURE, &fixture_stream_v3());
}

#[test]
fn v3_fixture_loads_exactly() {
    let bytes = fixture_bytes(FIXTURE);
    assert_eq!(bytes[0], 3, "format version 3");
    let mut s = Stream::decode(&bytes).expect("v3 fixture decodes");
    let defaults = IdmpConfig::default();
    let info = s.idmp_info(T0 + 10, defaults);
    assert_eq!(
        (
            info.duration_s,
            info.maxsize,
            info.pids_tracked,
            info.iids_tracked
        ),
        (60, 2, 2, 3)
    );
    assert_eq!((info.iids_added, info.iids_duplicates), (4, 1));
    // p1 kept b and c; a was evicted.
    assert_eq!(s.idmp_lookup(b"p1", b"a", T0 + 10, defaults), None);
    assert_eq!(
        s.idmp_lookup(b"p1", b"c", T0 + 10, defaults),
        Some(id(4, 0))
    );
    // The window follows the recorded add times: 60 s after T0 + 3 p2's iid is gone.
    assert_eq!(s.idmp_lookup(b"p2", b"a", T0 + 3 + 60_000, defaults), None);
    // 1-0 is NACKed (no owner, FATAL count), 2-0 still c's.
    let group = s.group(G).expect("group g");
    assert_eq!(group.nacked_ids().collect::<Vec<_>>(), vec![id(1, 0)]);
    let pel: Vec<(StreamId, &[u8], u64)> = group
        .pending_entries()
        .map(|p| (p.id, p.consumer, p.delivery_count))
        .collect();
    assert_eq!(
        pel,
        vec![
            (id(1, 0), &b""[..], FATAL_DELIVERY_COUNT),
            (id(2, 0), &b"c"[..], 1)
        ]
    );
}

/// While the encoder writes version 3, the fixture must re-encode byte for byte.
#[test]
fn encoder_still_writes_v3_fixture() {
    assert_eq!(Stream::SNAPSHOT_VERSION, 3);
    let bytes = fixture_bytes(FIXTURE);
    let s = Stream::decode(&bytes).expect("v3 fixture decodes");
    assert_eq!(encode(&s), bytes);
    assert_eq!(encode(&fixture_stream_v3()), bytes);
}
