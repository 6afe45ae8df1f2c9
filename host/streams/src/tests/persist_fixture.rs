//! The committed format-v1 fixture, `host/streams/tests/fixtures/stream-v1.bin`: proof that
//! snapshots written by format version 1 keep loading, with their exact contents.
//!
//! The fixture was written once by [`write_v1_fixture`]:
//!
//! ```text
//! cargo test -p sluice-streams write_v1_fixture -- --ignored
//! ```
//!
//! Never regenerate it after a format change: a new format gets a new version, a new fixture
//! and a new generator (version 2: `persist_fixture_v2.rs`), while this file and
//! [`v1_fixture_loads_exactly`] stay as they are.

use std::path::PathBuf;

use super::groups::{G, read_new};
use super::persist::encode;
use super::*;
use crate::PendingEntry;

/// The v1 fixture's file name in `tests/fixtures`.
const FIXTURE: &str = "stream-v1.bin";

/// Where the committed fixture `name` lives.
fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Writes `stream`'s snapshot encoding as the fixture `name` (only the `#[ignore]`d
/// generators call it: a fixture is written once).
pub(super) fn write_fixture(name: &str, stream: &Stream) {
    let path = fixture_path(name);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(&path, encode(stream)).expect("write fixture");
}

/// The bytes of the committed fixture `name`.
pub(super) fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name))
        .unwrap_or_else(|e| panic!("tests/fixtures/{name} is committed: {e}"))
}

/// A pending entry delivered once, as both fixtures' groups hold them.
pub(super) fn pending(
    entry: StreamId,
    consumer: &'static [u8],
    time_ms: u64,
) -> PendingEntry<'static> {
    PendingEntry {
        id: entry,
        consumer,
        delivery_time_ms: time_ms,
        delivery_count: 1,
    }
}

/// Two nodes (limit 2 entries), a deleted entry in each, a group of three consumers whose
/// PEL holds a deleted entry, and XSETID'd counters. Deterministic: fixed IDs and times.
/// The v2 fixture starts from it.
pub(super) fn fixture_stream() -> Stream {
    let mut s = Stream::new();
    let lim = limits(2);
    let add = |s: &mut Stream, i: StreamId, f: &[&[u8]]| {
        s.add(AddId::Explicit(i), f, 0, lim).expect("add");
    };
    add(&mut s, id(1, 0), &[b"name", b"ada", b"lang", b"en"]);
    add(&mut s, id(1, 1), &[b"name", b"bob", b"lang", b"fr"]);
    add(&mut s, id(2, 0), &[b"x", b"1"]);
    add(&mut s, id(5, 0), &[b"name", b"cy", b"lang", b"de"]);
    s.delete(&[id(1, 1)]);
    s.create_group(G, StreamId::MIN, Some(0)).expect("create");
    read_new(&mut s, b"alice", Some(2), 10_000);
    read_new(&mut s, b"bob", Some(1), 10_500);
    assert!(s.group_mut(G).expect("g").create_consumer(b"carl", 11_000));
    s.delete(&[id(2, 0)]);
    s.set_id(id(9, 0), Some(10), Some(id(2, 0))).expect("setid");
    s
}

#[test]
#[ignore = "writes tests/fixtures/stream-v1.bin; run once, see the module docs"]
fn write_v1_fixture() {
    write_fixture(FIXTURE, &fixture_stream());
}

#[test]
fn v1_fixture_loads_exactly() {
    let bytes = fixture_bytes(FIXTURE);
    assert_eq!(bytes[0], 1, "format version 1");
    let s = Stream::decode(&bytes).expect("v1 fixture decodes");

    assert_eq!(s.len(), 2);
    assert_eq!(s.last_id(), id(9, 0));
    assert_eq!(s.first_id(), Some(id(1, 0)));
    assert_eq!(s.entries_added(), 10);
    assert_eq!(s.max_deleted_entry_id(), id(2, 0));
    let nodes: Vec<_> = s
        .nodes
        .iter()
        .map(|(key, n)| (*key, n.live, n.deleted, n.last))
        .collect();
    assert_eq!(
        nodes,
        vec![(id(1, 0), 1, 1, id(1, 1)), (id(2, 0), 1, 1, id(5, 0))]
    );
    let mut sink = CollectSink::default();
    s.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
    let fields = |f: &[&[u8]]| f.iter().map(|b| b.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        sink.entries,
        vec![
            (id(1, 0), fields(&[b"name", b"ada", b"lang", b"en"])),
            (id(5, 0), fields(&[b"name", b"cy", b"lang", b"de"])),
        ]
    );

    let info = s.group_info(G).expect("group g");
    assert_eq!(
        (info.consumers, info.pending, info.last_delivered_id),
        (3, 3, id(5, 0))
    );
    assert_eq!((info.entries_read, info.lag), (Some(4), Some(6)));
    let g = s.group(G).expect("group g");
    assert_eq!(
        g.pending_entries().collect::<Vec<_>>(),
        vec![
            pending(id(1, 0), b"alice", 10_000),
            pending(id(2, 0), b"alice", 10_000),
            pending(id(5, 0), b"bob", 10_500),
        ]
    );
    let consumers: Vec<_> = g
        .consumers()
        .map(|c| {
            (
                c.name(),
                c.seen_time_ms(),
                c.active_time_ms(),
                c.pending_count(),
                c.redeliver_count(),
            )
        })
        .collect();
    assert_eq!(
        consumers,
        vec![
            (&b"alice"[..], 10_000, Some(10_000), 2, 0),
            (&b"bob"[..], 10_500, Some(10_500), 1, 0),
            (&b"carl"[..], 11_000, None, 0, 0),
        ]
    );
}

/// Version 2 is version 1 plus a mark list ending each group: a v1 payload re-encodes as the
/// same bytes under version 2 with one empty mark list (the fixture has one group), and
/// that loads back to the same stream. (The byte-for-byte guard of the current encoder is
/// `encoder_still_writes_v2_fixture`.)
#[test]
fn v1_fixture_upgrades_to_v3_without_marks_or_nacks() {
    let v1 = fixture_bytes(FIXTURE);
    let s = Stream::decode(&v1).expect("v1 fixture decodes");
    let mut expected = vec![3];
    expected.extend_from_slice(&v1[1..]);
    // Its one group gains an empty mark list (v2) and an empty NACK list (v3); the stream
    // ends with an empty idempotency section (v3).
    expected.extend_from_slice(&[0, 0]);
    expected.extend_from_slice(&[0, 0, 0, 0]);
    let v3 = encode(&s);
    assert_eq!(v3, expected);
    super::persist::assert_same(&s, &Stream::decode(&v3).expect("v3 decodes"));
}
