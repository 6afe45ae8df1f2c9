//! The committed format-v2 fixture, `host/streams/tests/fixtures/stream-v2.bin`: proof that
//! snapshots written by format version 2 keep loading with their redelivery marks.
//!
//! The fixture was written once by [`write_v2_fixture`]:
//!
//! ```text
//! cargo test -p sluice-streams write_v2_fixture -- --ignored
//! ```
//!
//! Never regenerate it after a format change: a new format gets a new version, a new fixture
//! and a new generator, while this file and [`v2_fixture_loads_exactly`] stay as they are.

use super::groups::G;
use super::persist::encode;
use super::persist_fixture::{fixture_bytes, fixture_stream, pending, write_fixture};
use super::*;

/// The v2 fixture's file name in `tests/fixtures`.
const FIXTURE: &str = "stream-v2.bin";

/// The v1 fixture's stream plus redelivery marks: bob's `5-0` reassigned to carl, alice's
/// `1-0` and `2-0` (the latter deleted) marked in place. Deterministic: fixed IDs and times.
fn fixture_stream_v2() -> Stream {
    let mut s = fixture_stream();
    let g = s.group_mut(G).expect("g");
    assert_eq!(g.reassign(id(5, 0), b"carl", 12_000), Ok(false));
    g.mark_redeliver(&[id(1, 0), id(2, 0)]);
    s
}

#[test]
#[ignore = "writes tests/fixtures/stream-v2.bin; run once, see the module docs"]
fn write_v2_fixture() {
    write_fixture(FIXTURE, &fixture_stream_v2());
}

#[test]
fn v2_fixture_loads_exactly() {
    let bytes = fixture_bytes(FIXTURE);
    assert_eq!(bytes[0], 2, "format version 2");
    let s = Stream::decode(&bytes).expect("v2 fixture decodes");

    // The entries and counters are the v1 fixture's (checked in detail there).
    assert_eq!((s.len(), s.last_id()), (2, id(9, 0)));
    assert_eq!(
        (s.entries_added(), s.max_deleted_entry_id()),
        (10, id(2, 0))
    );
    let mut sink = CollectSink::default();
    s.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
    assert_eq!(sink.ids(), [id(1, 0), id(5, 0)]);

    let g = s.group(G).expect("group g");
    assert_eq!(
        g.pending_entries().collect::<Vec<_>>(),
        vec![
            pending(id(1, 0), b"alice", 10_000),
            pending(id(2, 0), b"alice", 10_000),
            pending(id(5, 0), b"carl", 12_000),
        ]
    );
    let marked: Vec<_> = g
        .consumers()
        .map(|c| (c.name(), c.redeliver_ids().collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        marked,
        vec![
            (&b"alice"[..], vec![id(1, 0), id(2, 0)]),
            (&b"bob"[..], vec![]),
            (&b"carl"[..], vec![id(5, 0)]),
        ]
    );
    let times: Vec<_> = g
        .consumers()
        .map(|c| (c.seen_time_ms(), c.active_time_ms(), c.pending_count()))
        .collect();
    assert_eq!(
        times,
        vec![
            (10_000, Some(10_000), 2),
            (10_500, Some(10_500), 0),
            (12_000, None, 1),
        ]
    );
    super::groups_redeliver::check_invariants(g);
}

/// The loaded marks work: carl's next `>` read redelivers `5-0`, alice's skips the deleted
/// `2-0` after redelivering `1-0`.
#[test]
fn v2_fixture_marks_redeliver() {
    let mut s = Stream::decode(&fixture_bytes(FIXTURE)).expect("v2 fixture decodes");
    assert!(s.has_undelivered_for(s.group(G).expect("g"), b"carl"));
    let read = crate::GroupRead {
        start: crate::GroupReadStart::New,
        count: None,
        noack: false,
    };
    let mut sink = CollectSink::default();
    let out = s
        .read_group(G, b"alice", read, 20_000, &mut sink)
        .expect("group");
    assert_eq!(
        (out.redelivered, out.skipped_deleted),
        (vec![id(1, 0)], vec![id(2, 0)])
    );
    let out = s
        .read_group(G, b"carl", read, 20_000, &mut sink)
        .expect("group");
    assert_eq!(out.redelivered, [id(5, 0)]);
    assert_eq!(sink.ids(), [id(1, 0), id(5, 0)]);
    let e = s.group(G).and_then(|g| g.pending_entry(id(5, 0)));
    assert_eq!(e.map(|e| e.delivery_count), Some(2));
}

/// Version 3 only appends the idempotency section: the v2 fixture re-encodes as the same
/// bytes under version 3 plus an empty section. (The byte-for-byte guard of the current
/// encoder moved to `persist_fixture_v3.rs`.)
#[test]
fn v2_fixture_upgrades_to_v3_without_nacks_or_idmp() {
    assert_eq!(Stream::SNAPSHOT_VERSION, 3);
    let bytes = fixture_bytes(FIXTURE);
    let s = Stream::decode(&bytes).expect("v2 fixture decodes");
    let v3 = encode(&s);
    assert_eq!(v3[0], 3);
    let back = Stream::decode(&v3).expect("v3 decodes");
    super::persist::assert_same(&s, &back);
    assert!(back.groups().all(|(_, g)| g.nacked_count() == 0));
    // Nothing NACKed, no idempotency state: an empty section after each group's marks, and
    // an empty idempotency section at the end.
    assert_eq!(&v3[v3.len() - 4..], &[0, 0, 0, 0]);
}
