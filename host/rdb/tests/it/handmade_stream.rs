//! Stream payloads built by hand: the first stream type (15), which no server here writes,
//! the differences between types 15, 19 and 21 as Redis 7.2 loads them, and streams that are
//! well-formed bytes but inconsistent, each refused with what is wrong.

use sluice_rdb::{RdbValue, restore};
use sluice_streams::{ConsumerState, GroupState, PendingState, StreamEntry, StreamId, StreamState};

use crate::bytes::{El, body, len, len_id, listpack, raw_id, seal, string};
use crate::handmade::bad;

/// A consumer as the stream builder writes it: name, seen time, active time, pending IDs.
type ConsumerSpec = (&'static [u8], i64, i64, Vec<(u64, u64)>);

/// A group as the stream builder writes it.
struct Group {
    name: &'static [u8],
    last: (u64, u64),
    entries_read: u64,
    pel: Vec<((u64, u64), i64, u64)>,
    consumers: Vec<ConsumerSpec>,
}

/// The node keyed 5-3 used below: 5-3 deleted, 5-4 with the master's field `a`, 6-0 with
/// other fields (seq delta -3 from the master).
fn node() -> Vec<u8> {
    listpack(&[
        El::I(2),
        El::I(1),
        El::I(1),
        El::S(b"a"),
        El::I(0),
        // 5-3, deleted, same fields
        El::I(3),
        El::I(0),
        El::I(0),
        El::S(b"1"),
        El::I(4),
        // 5-4, same fields
        El::I(2),
        El::I(0),
        El::I(1),
        El::S(b"2"),
        El::I(4),
        // 6-0, its own fields
        El::I(0),
        El::I(1),
        El::I(-3),
        El::I(2),
        El::S(b"b"),
        El::S(b"x"),
        El::S(b"c"),
        El::S(b"y"),
        El::I(8),
    ])
}

/// A stream payload of type `ty` (15, 19 or 21) with one node (`node()` keyed 5-3), length
/// `length`, last ID 6-0, and `groups`. Type 19+ fields: first 5-4, max deleted 5-3, 10
/// entries added.
fn stream(ty: u8, length: u64, groups: &[Group]) -> Vec<u8> {
    let mut b = vec![ty, 1];
    let mut key = Vec::new();
    raw_id(&mut key, 5, 3);
    string(&mut b, &key);
    string(&mut b, &node());
    len(&mut b, length);
    len_id(&mut b, 6, 0);
    if ty >= 19 {
        len_id(&mut b, 5, 4);
        len_id(&mut b, 5, 3);
        len(&mut b, 10);
    }
    len(&mut b, groups.len() as u64);
    for g in groups {
        string(&mut b, g.name);
        len_id(&mut b, g.last.0, g.last.1);
        if ty >= 19 {
            len(&mut b, g.entries_read);
        }
        len(&mut b, g.pel.len() as u64);
        for ((ms, seq), time, count) in &g.pel {
            raw_id(&mut b, *ms, *seq);
            b.extend_from_slice(&time.to_le_bytes());
            len(&mut b, *count);
        }
        len(&mut b, g.consumers.len() as u64);
        for (name, seen, active, pending) in &g.consumers {
            string(&mut b, name);
            b.extend_from_slice(&seen.to_le_bytes());
            if ty >= 21 {
                b.extend_from_slice(&active.to_le_bytes());
            }
            len(&mut b, pending.len() as u64);
            for (ms, seq) in pending {
                raw_id(&mut b, *ms, *seq);
            }
        }
    }
    seal(b)
}

fn groups() -> Vec<Group> {
    let at = |name, last| Group {
        name,
        last,
        entries_read: u64::MAX,
        pel: vec![],
        consumers: vec![],
    };
    vec![
        Group {
            entries_read: 1,
            pel: vec![((5, 4), 1_000, 3)],
            consumers: vec![
                (b"x", 2_000, 1_500, vec![(5, 4)]),
                (b"y", 2_100, -1, vec![]),
            ],
            ..at(b"a", (5, 4))
        },
        at(b"b", (6, 0)),
        at(b"c", (0, 0)),
        at(b"d", (5, 9)),
    ]
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn state(payload: &[u8]) -> StreamState {
    match restore(payload) {
        Ok(RdbValue::Stream(s)) => s.export(),
        other => panic!("expected a stream, got {other:?}"),
    }
}

#[test]
fn stream_entries_skip_deleted_and_resolve_deltas() {
    let s = state(&stream(21, 2, &[]));
    let pair = |n: &str, v: &str| (n.as_bytes().to_vec(), v.as_bytes().to_vec());
    assert_eq!(
        s.entries,
        [
            StreamEntry {
                id: id(5, 4),
                fields: vec![pair("a", "2")],
            },
            StreamEntry {
                id: id(6, 0),
                fields: vec![pair("b", "x"), pair("c", "y")],
            },
        ]
    );
    assert_eq!(
        (s.last_id, s.max_deleted_entry_id, s.entries_added),
        (id(6, 0), id(5, 3), 10)
    );
}

#[test]
fn stream_types_differ_as_redis_7_2_loads_them() {
    let read_counters =
        |s: &StreamState| -> Vec<Option<u64>> { s.groups.iter().map(|g| g.entries_read).collect() };
    let consumer_times = |s: &StreamState| -> Vec<(u64, Option<u64>)> {
        s.groups[0]
            .consumers
            .iter()
            .map(|c| (c.seen_time_ms, c.active_time_ms))
            .collect()
    };

    // Type 21: everything as stored; -1 is "never active", 2^64-1 "unknown".
    let v3 = state(&stream(21, 2, &groups()));
    assert_eq!(read_counters(&v3), [Some(1), None, None, None]);
    assert_eq!(consumer_times(&v3), [(2_000, Some(1_500)), (2_100, None)]);
    assert_eq!(
        v3.groups[0],
        GroupState {
            name: b"a".to_vec(),
            last_delivered_id: id(5, 4),
            entries_read: Some(1),
            pending: vec![PendingState {
                id: id(5, 4),
                delivery_time_ms: 1_000,
                delivery_count: 3,
            }],
            consumers: vec![
                ConsumerState {
                    name: b"x".to_vec(),
                    seen_time_ms: 2_000,
                    active_time_ms: Some(1_500),
                    pending: vec![id(5, 4)],
                    redeliver: vec![],
                },
                ConsumerState {
                    name: b"y".to_vec(),
                    seen_time_ms: 2_100,
                    active_time_ms: None,
                    pending: vec![],
                    redeliver: vec![],
                },
            ],
            nacked: Vec::new(),
        }
    );

    // Type 19: no active times; a consumer's is its seen time.
    let v2 = state(&stream(19, 2, &groups()));
    assert_eq!(read_counters(&v2), [Some(1), None, None, None]);
    assert_eq!(
        consumer_times(&v2),
        [(2_000, Some(2_000)), (2_100, Some(2_100))]
    );

    // Type 15: no counters; entries added = length, no deleted ID, read counters estimated
    // from the stream: the first entry (1), the last (2), before the first (0), between (?).
    let v1 = state(&stream(15, 2, &groups()));
    assert_eq!(
        (v1.entries_added, v1.max_deleted_entry_id),
        (2, StreamId::MIN)
    );
    assert_eq!(read_counters(&v1), [Some(1), Some(2), Some(0), None]);
    assert_eq!(
        consumer_times(&v1),
        [(2_000, Some(2_000)), (2_100, Some(2_100))]
    );
}

#[test]
fn inconsistent_streams_are_bad_data() {
    assert_eq!(
        bad(&stream(21, 3, &[])),
        "stream length does not match its entries"
    );

    let mut unknown = groups();
    unknown[0].consumers[0].3.push((6, 0));
    let got = bad(&stream(21, 2, &unknown));
    assert_eq!(got, "consumer pending entry missing from its group's PEL");

    let mut orphan = groups();
    orphan[0].consumers[0].3.clear();
    assert_eq!(
        bad(&stream(21, 2, &orphan)),
        "pending entry owned by no consumer"
    );

    let mut shared = groups();
    shared[0].consumers[1].3.push((5, 4));
    assert_eq!(
        bad(&stream(21, 2, &shared)),
        "pending entry owned by two consumers"
    );

    let mut dup_pel = groups();
    dup_pel[0].pel.push(((5, 4), 1, 1));
    assert_eq!(bad(&stream(21, 2, &dup_pel)), "duplicate pending entry");

    let mut dup_group = groups();
    dup_group[1].name = b"a";
    assert_eq!(
        bad(&stream(21, 2, &dup_group)),
        "duplicate consumer group name"
    );

    let mut dup_consumer = groups();
    dup_consumer[0].consumers[1].0 = b"x";
    assert_eq!(
        bad(&stream(21, 2, &dup_consumer)),
        "duplicate consumer name in a group"
    );
}

/// Replaces the node blob of a `stream(21, 2, &[])` payload with `lp` and the key with `key`.
fn with_node(key: &[u8], lp: &[u8]) -> Vec<u8> {
    let mut b = vec![21, 1];
    string(&mut b, key);
    string(&mut b, lp);
    let rest = body(&stream(21, 2, &[]));
    let mut node_string = Vec::new();
    string(&mut node_string, &node());
    let skip = 2 + 17 + node_string.len();
    b.extend_from_slice(&rest[skip..]);
    seal(b)
}

#[test]
fn malformed_stream_nodes_are_bad_data() {
    let mut key = Vec::new();
    raw_id(&mut key, 5, 3);
    assert!(
        restore(&with_node(&key, &node())).is_ok(),
        "the splice keeps it valid"
    );
    assert_eq!(
        bad(&with_node(&key[..15], &node())),
        "stream node key is not a 16-byte ID"
    );
    assert_eq!(
        bad(&with_node(&key, &listpack(&[]))),
        "empty listpack inside a stream"
    );

    let mutate = |i: usize, to: El<'static>| {
        let mut els = vec![
            El::I(2),
            El::I(1),
            El::I(1),
            El::S(b"a"),
            El::I(0),
            El::I(3),
            El::I(0),
            El::I(0),
            El::S(b"1"),
            El::I(4),
            El::I(2),
            El::I(0),
            El::I(1),
            El::S(b"2"),
            El::I(4),
            El::I(0),
            El::I(1),
            El::I(-3),
            El::I(2),
            El::S(b"b"),
            El::S(b"x"),
            El::S(b"c"),
            El::S(b"y"),
            El::I(8),
        ];
        els[i] = to;
        with_node(&key, &listpack(&els))
    };
    assert!(
        restore(&mutate(3, El::S(b"z"))).is_ok(),
        "another master name is fine"
    );
    assert_eq!(
        bad(&mutate(4, El::I(1))),
        "stream node master entry not terminated by 0"
    );
    assert_eq!(bad(&mutate(5, El::I(7))), "unknown stream entry flags");
    assert_eq!(
        bad(&mutate(9, El::I(5))),
        "stream entry element count does not match its fields"
    );
    assert_eq!(
        bad(&mutate(1, El::I(0))),
        "stream node has elements after its entries"
    );
    assert_eq!(bad(&mutate(0, El::I(3))), "stream node entry truncated");
    assert_eq!(
        bad(&mutate(10, El::I(3))),
        "stream node deleted count does not match its entries"
    );
    assert_eq!(bad(&mutate(0, El::S(b"two"))), "bad stream node live count");
    assert_eq!(bad(&mutate(16, El::I(0))), "stream entries out of order");
}
