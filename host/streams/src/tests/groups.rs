//! Consumer groups: XGROUP CREATE / SETID / DESTROY and XREADGROUP (`>` and history, COUNT,
//! NOACK), plus the helpers the other `groups_*` files share. Scenarios follow Redis's
//! `stream-cgroups.tcl` where it has one.

use super::*;
use crate::{CountSink, GroupRead, GroupReadStart, NoGroupWording, StreamError, no_group_text};

pub(crate) const G: &[u8] = b"g";

/// `XREADGROUP GROUP g <consumer> [COUNT n] STREAMS s >` at `now`; the IDs delivered.
pub(crate) fn read_new(
    s: &mut Stream,
    consumer: &[u8],
    count: Option<usize>,
    now: u64,
) -> Vec<StreamId> {
    let read = GroupRead {
        start: GroupReadStart::New,
        count,
        noack: false,
    };
    let mut sink = CollectSink::default();
    let out = s
        .read_group(G, consumer, read, now, &mut sink)
        .expect("group exists");
    assert_eq!(out.entries, sink.entries.len());
    sink.ids()
}

/// `XREADGROUP GROUP g <consumer> [COUNT n] STREAMS s <after>` at `now`.
pub(crate) fn read_history(
    s: &mut Stream,
    consumer: &[u8],
    after: StreamId,
    count: Option<usize>,
    now: u64,
) -> CollectSink {
    let read = GroupRead {
        start: GroupReadStart::After(after),
        count,
        noack: false,
    };
    let mut sink = CollectSink::default();
    s.read_group(G, consumer, read, now, &mut sink)
        .expect("group exists");
    sink
}

/// The PEL entry `id` of group `g`: owner, delivery time, delivery count.
pub(crate) fn pel(s: &Stream, id: StreamId) -> Option<(Vec<u8>, u64, u64)> {
    let e = s.group(G)?.pending_entry(id)?;
    Some((e.consumer.to_vec(), e.delivery_time_ms, e.delivery_count))
}

pub(crate) fn with_group(n: u64) -> Stream {
    let mut s = numbered(n, 10);
    s.create_group(G, StreamId::MIN, None).expect("create");
    s
}

#[test]
fn create_destroy_and_busygroup() {
    let mut s = numbered(3, 10);
    assert_eq!(s.create_group(b"g\0x", id(1, 0), Some(1)), Ok(()));
    assert_eq!(
        s.create_group(b"g\0x", id(2, 0), None),
        Err(StreamError::BusyGroup)
    );
    assert_eq!(
        StreamError::BusyGroup.to_string(),
        "BUSYGROUP Consumer Group name already exists"
    );
    let g = s.group(b"g\0x").expect("group");
    assert_eq!(g.last_delivered_id(), id(1, 0));
    assert_eq!(g.entries_read(), Some(1));
    assert_eq!(s.group_count(), 1);
    assert!(s.destroy_group(b"g\0x"));
    assert!(!s.destroy_group(b"g\0x"));
    assert_eq!(s.group_count(), 0);
}

#[test]
fn missing_group_is_nogroup() {
    let mut s = numbered(3, 10);
    let read = GroupRead {
        start: GroupReadStart::New,
        count: None,
        noack: false,
    };
    let mut sink = CountSink::default();
    assert_eq!(
        s.read_group(b"nope", b"c", read, 0, &mut sink),
        Err(StreamError::NoGroup)
    );
    assert_eq!(
        no_group_text(NoGroupWording::ReadGroup, b"s", b"nope"),
        "NOGROUP No such key 's' or consumer group 'nope' in XREADGROUP with GROUP option"
    );
}

#[test]
fn each_entry_is_delivered_once_per_group() {
    let mut s = with_group(5);
    s.create_group(b"other", StreamId::MIN, None)
        .expect("create");
    assert_eq!(ms(&read_new(&mut s, b"alice", Some(2), 10)), [1, 2]);
    assert_eq!(ms(&read_new(&mut s, b"bob", None, 11)), [3, 4, 5]);
    assert!(read_new(&mut s, b"alice", None, 12).is_empty());
    let g = s.group(G).expect("group");
    assert_eq!(g.last_delivered_id(), id(5, 0));
    assert_eq!(g.pending_count(), 5);
    assert_eq!(pel(&s, id(2, 0)), Some((b"alice".to_vec(), 10, 1)));
    assert_eq!(pel(&s, id(3, 0)), Some((b"bob".to_vec(), 11, 1)));
    // Another group has its own position.
    let mut sink = CountSink::default();
    let read = GroupRead {
        start: GroupReadStart::New,
        count: None,
        noack: false,
    };
    s.read_group(b"other", b"alice", read, 13, &mut sink)
        .expect("read");
    assert_eq!(sink.entries, 5);
    assert!(!s.has_undelivered(s.group(G).expect("group")));
    s.add(AddId::Auto, &[b"f", b"v"], 20, limits(10))
        .expect("add");
    assert!(s.has_undelivered(s.group(G).expect("group")));
}

#[test]
fn delivery_sends_fields_through_the_sink() {
    let mut s = with_group(2);
    let read = GroupRead {
        start: GroupReadStart::New,
        count: Some(1),
        noack: false,
    };
    let mut sink = CollectSink::default();
    s.read_group(G, b"c", read, 0, &mut sink).expect("read");
    assert_eq!(
        sink.entries,
        vec![(id(1, 0), vec![b"f".to_vec(), b"1".to_vec()])]
    );
}

#[test]
fn noack_advances_without_pending_entries() {
    let mut s = with_group(3);
    let read = GroupRead {
        start: GroupReadStart::New,
        count: None,
        noack: true,
    };
    let mut sink = CountSink::default();
    let out = s.read_group(G, b"c", read, 7, &mut sink).expect("read");
    assert_eq!((out.entries, out.consumer_created), (3, true));
    let g = s.group(G).expect("group");
    assert_eq!(g.pending_count(), 0);
    assert_eq!(g.last_delivered_id(), id(3, 0));
    assert_eq!(g.entries_read(), Some(3));
    let c = g.consumer(b"c").expect("NOACK still creates the consumer");
    assert_eq!(c.active_time_ms(), None);
    assert_eq!(c.seen_time_ms(), 7);
}

#[test]
fn history_reads_own_pending_entries_only() {
    let mut s = with_group(4);
    read_new(&mut s, b"alice", Some(2), 100);
    read_new(&mut s, b"bob", Some(2), 100);
    let h = read_history(&mut s, b"alice", StreamId::MIN, None, 150);
    assert_eq!(ms(&h.ids()), [1, 2]);
    assert_eq!(pel(&s, id(1, 0)), Some((b"alice".to_vec(), 150, 2)));
    // Strictly after the ID, and COUNT.
    assert_eq!(
        ms(&read_history(&mut s, b"alice", id(1, 0), None, 160).ids()),
        [2]
    );
    assert_eq!(
        ms(&read_history(&mut s, b"bob", StreamId::MIN, Some(1), 160).ids()),
        [3]
    );
    assert_eq!(pel(&s, id(3, 0)), Some((b"bob".to_vec(), 160, 2)));
    assert_eq!(pel(&s, id(4, 0)), Some((b"bob".to_vec(), 100, 1)));
    // History does not move the group.
    assert_eq!(s.group(G).expect("group").last_delivered_id(), id(4, 0));
    // Empty history (Redis bug #5577): nothing, and a new consumer is still created.
    assert!(
        read_history(&mut s, b"carol", StreamId::MIN, None, 170)
            .entries
            .is_empty()
    );
    assert!(s.group(G).expect("group").consumer(b"carol").is_some());
    assert!(
        read_history(&mut s, b"alice", StreamId::MAX, None, 170)
            .entries
            .is_empty()
    );
}

#[test]
fn history_reports_deleted_entries_as_nil_and_keeps_them_pending() {
    // Redis bug #5570: XADD MAXLEN 1 trims a pending entry.
    let mut s = Stream::new();
    s.create_group(G, StreamId::MIN, None).expect("create");
    s.add(AddId::Explicit(id(1, 0)), &[b"field1", b"A"], 0, limits(10))
        .expect("add");
    read_new(&mut s, b"c", None, 0);
    s.add(AddId::Explicit(id(2, 0)), &[b"field1", b"B"], 0, limits(10))
        .expect("add");
    s.trim(
        crate::TrimSpec {
            strategy: crate::TrimStrategy::MaxLen(1),
            approx: false,
            limit: None,
        },
        limits(10),
    );
    read_new(&mut s, b"c", None, 0);
    let h = read_history(&mut s, b"c", StreamId::MIN, None, 5);
    assert_eq!(
        h.entries,
        vec![
            (id(1, 0), vec![]),
            (id(2, 0), vec![b"field1".to_vec(), b"B".to_vec()]),
        ]
    );
    // The deleted one is neither re-counted nor dropped.
    assert_eq!(pel(&s, id(1, 0)), Some((b"c".to_vec(), 0, 1)));
    assert_eq!(pel(&s, id(2, 0)), Some((b"c".to_vec(), 5, 2)));
}

#[test]
fn setid_backwards_reassigns_pending_entries() {
    // Redis: "PEL NACK reassignment after XGROUP SETID event".
    let mut s = numbered(4, 10);
    s.create_group(G, s.last_id(), None).expect("create");
    s.add(AddId::Explicit(id(5, 0)), &[b"f", b"v"], 0, limits(10))
        .expect("add");
    assert_eq!(read_new(&mut s, b"c1", None, 10).len(), 1);
    s.group_mut(G).expect("group").set_id(StreamId::MIN, None);
    assert_eq!(read_new(&mut s, b"c2", None, 20).len(), 5);
    let g = s.group(G).expect("group");
    assert_eq!(pel(&s, id(5, 0)), Some((b"c2".to_vec(), 20, 1)));
    assert_eq!(g.consumer(b"c1").expect("c1").pending_count(), 0);
    assert_eq!(g.consumer(b"c2").expect("c2").pending_count(), 5);
}
