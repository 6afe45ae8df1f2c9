//! Snapshot payloads ([`Stream::encode`] / [`Stream::decode`]): exact round trips of every
//! observable, clones, and scale (1M entries, 100k pending). Damaged input is tested in
//! `persist_corrupt.rs`, the committed v1 fixture in `persist_fixture.rs`.

use std::time::Instant;

use super::groups::{G, read_new};
use super::*;
use crate::{
    AutoClaimOptions, ClaimOptions, ClaimTime, GroupRead, GroupReadStart, PendingQuery, TrimSpec,
    TrimStrategy,
};

/// Encodes `s`.
pub(crate) fn encode(s: &Stream) -> Vec<u8> {
    let mut out = Vec::new();
    s.encode(&mut out);
    out
}

/// Encodes, decodes, checks every observable and the re-encoding; returns the decoded copy.
pub(crate) fn round_trip(s: &Stream) -> Stream {
    let bytes = encode(s);
    let back = Stream::decode(&bytes).expect("decodes");
    assert_same(s, &back);
    assert_eq!(encode(&back), bytes, "re-encoding differs");
    back
}

/// Everything a client can observe, plus the node internals, is equal.
pub(crate) fn assert_same(a: &Stream, b: &Stream) {
    assert_eq!(a.len(), b.len());
    assert_eq!(a.last_id(), b.last_id());
    assert_eq!(a.first_id(), b.first_id());
    assert_eq!(a.last_live_id(), b.last_live_id());
    assert_eq!(a.entries_added(), b.entries_added());
    assert_eq!(a.max_deleted_entry_id(), b.max_deleted_entry_id());
    assert_eq!(a.node_count(), b.node_count());
    for ((ka, na), (kb, nb)) in a.nodes.iter().zip(&b.nodes) {
        assert_eq!(ka, kb);
        assert_eq!(na.bytes(), nb.bytes());
        assert_eq!(
            (na.live, na.deleted, na.last),
            (nb.live, nb.deleted, nb.last)
        );
    }
    for rev in [false, true] {
        let (mut sa, mut sb) = (CollectSink::default(), CollectSink::default());
        a.range(StreamId::MIN, StreamId::MAX, None, rev, &mut sa);
        b.range(StreamId::MIN, StreamId::MAX, None, rev, &mut sb);
        assert_eq!(sa, sb);
    }
    assert_eq!(
        a.group_infos().collect::<Vec<_>>(),
        b.group_infos().collect::<Vec<_>>()
    );
    for ((name, ga), (_, gb)) in a.groups().zip(b.groups()) {
        assert_group_same(name, ga, gb);
    }
    for probe in [
        StreamId::MIN,
        a.last_id(),
        a.first_id().unwrap_or_default(),
        id(1005, 1),
    ] {
        assert_eq!(
            a.estimate_entries_read(probe),
            b.estimate_entries_read(probe)
        );
        assert_eq!(
            a.range_has_tombstones(probe, None),
            b.range_has_tombstones(probe, None)
        );
    }
}

pub(crate) fn assert_group_same(name: &[u8], a: &crate::ConsumerGroup, b: &crate::ConsumerGroup) {
    let ctx = String::from_utf8_lossy(name);
    assert_eq!(a.pending_summary(), b.pending_summary(), "{ctx}");
    assert_eq!(
        a.pending_entries().collect::<Vec<_>>(),
        b.pending_entries().collect::<Vec<_>>(),
        "{ctx}"
    );
    assert_eq!(a.consumer_count(), b.consumer_count(), "{ctx}");
    // Snapshots keep which entries are NACKed, not the NACK order (`nack.rs`).
    let nacked = |g: &crate::ConsumerGroup| {
        let mut ids: Vec<_> = g.nacked_ids().collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(nacked(a), nacked(b), "{ctx}");
    for (ca, cb) in a.consumers().zip(b.consumers()) {
        assert_eq!(ca.name(), cb.name());
        assert_eq!(ca.seen_time_ms(), cb.seen_time_ms());
        assert_eq!(ca.active_time_ms(), cb.active_time_ms());
        assert_eq!(ca.pending_count(), cb.pending_count());
        assert_eq!(
            ca.pending_ids().collect::<Vec<_>>(),
            cb.pending_ids().collect::<Vec<_>>()
        );
        assert_eq!(
            ca.redeliver_ids().collect::<Vec<_>>(),
            cb.redeliver_ids().collect::<Vec<_>>()
        );
        assert_eq!(
            a.consumer_pending(ca).collect::<Vec<_>>(),
            b.consumer_pending(cb).collect::<Vec<_>>()
        );
        let query = PendingQuery {
            start: StreamId::MIN,
            end: StreamId::MAX,
            count: usize::MAX,
            consumer: Some(ca.name()),
            min_idle_ms: 1,
        };
        assert_eq!(
            a.pending_range(&query, 5_000),
            b.pending_range(&query, 5_000)
        );
    }
}

/// A stream exercising every part of the state: several nodes with mixed field layouts,
/// deletions (some of pending entries), trimmed nodes, XSETID'd counters, four groups with
/// consumers (one deleted, leaving a free slot), claims with odd times and counts, and
/// redelivery marks (one on a deleted entry, in two groups).
pub(crate) fn rich_stream() -> Stream {
    let mut s = Stream::new();
    let lim = limits(4);
    for i in 0..30u64 {
        let v = i.to_string();
        let fields: Vec<&[u8]> = match i % 3 {
            0 => vec![b"sensor", v.as_bytes(), b"temp", b"21.5"],
            1 => vec![b"other", v.as_bytes()],
            _ => vec![b"sensor", b"", b"temp", b"\x00\xff\r\n"],
        };
        s.add(AddId::Explicit(id(1000 + i / 3, i % 3)), &fields, 0, lim)
            .expect("add");
    }
    s.create_group(G, StreamId::MIN, None).expect("create");
    read_new(&mut s, b"alice", Some(6), 2_000);
    read_new(&mut s, b"bob", Some(6), 2_100);
    read_new(&mut s, b"carol", Some(2), 2_200);
    s.group_mut(G).expect("g").ack(&[id(1000, 1), id(1003, 0)]);
    // Deleted while pending (NACKs whose entries are gone), plus a whole node emptied.
    s.delete(&[
        id(1000, 2),
        id(1002, 0),
        id(1006, 0),
        id(1006, 1),
        id(1006, 2),
    ]);
    s.delete(&[id(1007, 0)]);
    // Exact trim: drops the first node and flags the head of the next.
    let trim = TrimSpec {
        strategy: TrimStrategy::MinId(id(1001, 2)),
        approx: false,
        limit: None,
    };
    s.trim(trim, lim);
    assert!(s.group_mut(G).expect("g").create_consumer(b"idle", 1_500));
    assert_eq!(
        s.group_mut(G).expect("g").delete_consumer(b"carol"),
        Some(2)
    );
    let opts = ClaimOptions {
        time: Some(ClaimTime::Unix(1_900)),
        retry_count: Some(7),
        ..ClaimOptions::default()
    };
    let mut sink = CollectSink::default();
    s.claim(
        G,
        b"bob",
        &[id(1001, 0), id(1002, 1)],
        &opts,
        3_000,
        &mut sink,
    )
    .expect("claim");

    s.create_group(b"mid", id(1004, 0), Some(7))
        .expect("create");
    let read = GroupRead {
        start: GroupReadStart::New,
        count: Some(3),
        noack: false,
    };
    s.read_group(
        b"mid",
        b"\xffbin\x00",
        read,
        4_000,
        &mut CollectSink::default(),
    )
    .expect("read");
    s.add(AddId::Explicit(id(2000, 5)), &[b"late", b"1"], 0, lim)
        .expect("add");
    s.set_id(id(5000, 9), Some(1_000), Some(id(1500, 0)))
        .expect("setid");
    s.create_group(b"tail", s.last_id(), None).expect("create");
    s.create_group(b"", StreamId::MIN, Some(0)).expect("create");
    assert!(s.group_mut(b"").expect("g").create_consumer(b"z", 0));

    // Redelivery marks: reassigned to an existing consumer (a new one would take the free
    // slot), marked in place, one on an entry whose data was deleted.
    let g = s.group_mut(G).expect("g");
    assert_eq!(g.reassign(id(1003, 1), b"idle", 3_500), Ok(false));
    g.mark_redeliver(&[id(1001, 2), id(1002, 0), id(1009, 9)]);
    let mid = s.group_mut(b"mid").expect("mid");
    mid.mark_redeliver(&[id(1004, 1)]);
    s
}

/// Commands applied after a round trip behave the same on the original and the copy (slot
/// renumbering and rebuilt maps are invisible).
fn keep_going(s: &mut Stream) {
    let lim = limits(4);
    s.add(AddId::Auto, &[b"sensor", b"x", b"temp", b"1"], 6_000, lim)
        .expect("add");
    read_new(s, b"dave", None, 6_100);
    s.group_mut(G).expect("g").ack(&[id(1004, 0)]);
    let opts = AutoClaimOptions {
        min_idle_ms: 10,
        start: StreamId::MIN,
        count: 5,
        just_id: false,
    };
    s.autoclaim(G, b"erin", &opts, 6_200, &mut CollectSink::default())
        .expect("autoclaim");
    s.group_mut(G).expect("g").delete_consumer(b"bob");
    s.delete(&[id(1008, 1)]);
    // Redelivers the mark rich_stream left on idle (the others went with the claims above).
    assert_eq!(read_new(s, b"idle", Some(1), 6_300), [id(1003, 1)]);
}

#[test]
fn empty_stream_round_trips() {
    let s = Stream::new();
    let back = round_trip(&s);
    assert!(back.is_empty());
    assert_eq!(back.last_id(), StreamId::MIN);
    // 9 bytes, plus 4 for an empty idempotency section (version 3).
    assert_eq!(encode(&s).len(), 13);

    // MKSTREAM: empty but with a group.
    let mut s = Stream::new();
    s.create_group(b"g", StreamId::MIN, None).expect("create");
    round_trip(&s);
}

#[test]
fn rich_stream_round_trips_every_observable() {
    let mut s = rich_stream();
    // The scenario really covers what it claims.
    assert!(s.max_deleted_entry_id() > StreamId::MIN);
    assert_eq!(s.entries_added(), 1_000);
    assert_eq!(s.last_id(), id(5000, 9));
    assert!(s.nodes.values().any(|n| n.deleted > 0));
    let g = s.group(G).expect("g");
    assert!(g.free_slots.len() == 1);
    assert!(
        g.pending_entries().any(|e| !s.contains(e.id)),
        "a NACK of a deleted entry"
    );
    assert_eq!(s.group_count(), 4);
    let marked =
        |g: &crate::ConsumerGroup| g.consumers().map(|c| c.redeliver_count()).sum::<usize>();
    assert_eq!(marked(g), 3);
    assert_eq!(marked(s.group(b"mid").expect("mid")), 1);
    assert!(
        g.pending_entries()
            .any(|e| !s.contains(e.id) && g.is_marked_for_redelivery(e.id)),
        "a mark on a deleted entry"
    );
    assert!(s.group_infos().any(|i| i.lag.is_none()));
    assert!(s.group_infos().any(|i| i.lag.is_some()));

    let mut back = round_trip(&s);
    keep_going(&mut s);
    keep_going(&mut back);
    assert_same(&s, &back);
    round_trip(&back);
}

#[test]
fn clone_is_a_deep_copy() {
    let s = rich_stream();
    let mut copy = s.clone();
    assert_same(&s, &copy);
    keep_going(&mut copy);
    assert_same(&s, &rich_stream());
}

#[test]
fn million_entries_and_100k_pending() {
    let t = Instant::now();
    let mut s = Stream::new();
    let base = 1_700_000_000_000u64;
    for i in 0..1_000_000u64 {
        let v = i.to_string();
        s.add(
            AddId::Auto,
            &[b"user", v.as_bytes(), b"action", b"login"],
            base + i / 50,
            NodeLimits::default(),
        )
        .expect("add");
    }
    s.create_group(G, StreamId::MIN, None).expect("create");
    for c in 0..10u64 {
        let name = format!("consumer-{c}");
        read_new(
            &mut s,
            name.as_bytes(),
            Some(10_000),
            base + 1_000_000 + c * 7,
        );
    }
    assert_eq!(s.group(G).expect("g").pending_count(), 100_000);
    let built = t.elapsed();

    let t = Instant::now();
    let copy = s.clone();
    let cloned = t.elapsed();
    let t = Instant::now();
    let bytes = encode(&copy);
    let encoded = t.elapsed();
    let t = Instant::now();
    let back = Stream::decode(&bytes).expect("decodes");
    let decoded = t.elapsed();
    let node_data: usize = s.nodes.values().map(|n| n.bytes().len()).sum();
    println!(
        "1M entries + 100k pending: {} bytes ({:.2} bytes/entry; node data {node_data}, the \
         rest headers and PEL), {} nodes; build {built:?}, clone {cloned:?}, encode \
         {encoded:?}, decode {decoded:?} (dev profile, opt-level 1)",
        bytes.len(),
        bytes.len() as f64 / 1e6,
        s.node_count()
    );
    assert_eq!(back.len(), 1_000_000);
    assert_eq!(back.group(G).expect("g").pending_count(), 100_000);
    assert_eq!(back.group_info(G), s.group_info(G));
    assert_eq!(
        back.group(G).expect("g").pending_summary(),
        s.group(G).expect("g").pending_summary()
    );
    assert_eq!(encode(&back), bytes);
    let mut tail = (CollectSink::default(), CollectSink::default());
    s.range(StreamId::MIN, StreamId::MAX, Some(1_000), true, &mut tail.0);
    back.range(StreamId::MIN, StreamId::MAX, Some(1_000), true, &mut tail.1);
    assert_eq!(tail.0, tail.1);
}
