//! Group read counters and lag (XINFO GROUPS `entries-read`, `lag`) in the scenarios of
//! Redis's `stream-cgroups.tcl`: plain reads, XDEL in the middle (unknown until the group
//! passes the tombstone), trimming, XGROUP SETID / CREATE with ENTRIESREAD, XSETID.

use super::groups::{G, read_new};
use super::*;
use crate::{TrimSpec, TrimStrategy};

/// (entries-read, lag) of group `name`.
fn counters(s: &Stream, name: &[u8]) -> (Option<u64>, Option<i64>) {
    let info = s.group_info(name).expect("group");
    (info.entries_read, info.lag)
}

fn minid(s: &mut Stream, min: StreamId) {
    let spec = TrimSpec {
        strategy: TrimStrategy::MinId(min),
        approx: false,
        limit: None,
    };
    s.trim(spec, limits(10));
}

#[test]
fn read_counter_and_lag_sanity() {
    let mut s = numbered(5, 10);
    s.create_group(G, StreamId::MIN, None).expect("create");
    assert_eq!(counters(&s, G), (None, Some(5)));
    read_new(&mut s, b"c11", Some(1), 0);
    assert_eq!(counters(&s, G), (Some(1), Some(4)));
    read_new(&mut s, b"c12", Some(10), 0);
    assert_eq!(counters(&s, G), (Some(5), Some(0)));
    s.add(AddId::Explicit(id(6, 0)), &[b"data", b"f"], 0, limits(10))
        .expect("add");
    assert_eq!(counters(&s, G), (Some(5), Some(1)));
}

#[test]
fn lag_with_xdel_in_the_middle() {
    let mut s = numbered(5, 10);
    s.delete(&[id(3, 0)]);
    s.create_group(G, StreamId::MIN, None).expect("create");
    s.create_group(b"g2", StreamId::MIN, None).expect("create");
    assert_eq!(counters(&s, G), (None, None));
    // Until the group passes the tombstone at 3-0 neither figure is known.
    for _ in 0..3 {
        read_new(&mut s, b"c11", Some(1), 0);
        assert_eq!(counters(&s, G), (None, None));
    }
    read_new(&mut s, b"c11", Some(1), 0);
    assert_eq!(counters(&s, G), (Some(5), Some(0)));
    s.add(AddId::Explicit(id(6, 0)), &[b"data", b"f"], 0, limits(10))
        .expect("add");
    assert_eq!(counters(&s, G), (Some(5), Some(1)));
    // Trimming past the tombstone makes the other group's lag known again.
    minid(&mut s, id(3, 0));
    assert_eq!(counters(&s, G), (Some(5), Some(1)));
    assert_eq!(counters(&s, b"g2"), (None, Some(3)));
    minid(&mut s, id(5, 0));
    assert_eq!(counters(&s, G), (Some(5), Some(1)));
    assert_eq!(counters(&s, b"g2"), (None, Some(2)));
}

#[test]
fn tombstone_ahead_of_a_valid_counter_hides_the_lag() {
    let mut s = Stream::new();
    s.create_group(G, StreamId::MIN, None).expect("create");
    s.add(AddId::Explicit(id(1, 0)), &[b"data", b"a"], 0, limits(10))
        .expect("add");
    read_new(&mut s, b"alice", None, 0);
    assert_eq!(counters(&s, G), (Some(1), Some(0)));
    s.add(AddId::Explicit(id(2, 0)), &[b"data", b"c"], 0, limits(10))
        .expect("add");
    s.add(AddId::Explicit(id(3, 0)), &[b"data", b"d"], 0, limits(10))
        .expect("add");
    s.delete(&[id(2, 0)]);
    assert_eq!(counters(&s, G), (Some(1), None));
    // Redis 7.2 checks for tombstones from the delivered ID on, so delivering 3-0 jumps the
    // tombstone at 2-0 unnoticed and just counts +1: entries-read 2, lag 1 (later Redis
    // versions fixed this; Sluice answers as 7.2 does).
    read_new(&mut s, b"alice", None, 0);
    assert_eq!(counters(&s, G), (Some(2), Some(1)));
}

#[test]
fn new_stream_and_empty_stream_cases() {
    let mut s = Stream::new();
    s.create_group(G, StreamId::MIN, None).expect("create");
    assert_eq!(
        counters(&s, G),
        (None, Some(0)),
        "nothing ever added: lag 0"
    );
    let mut s = numbered(3, 10);
    s.create_group(G, StreamId::MIN, None).expect("create");
    minid(&mut s, StreamId::MAX);
    assert!(s.is_empty());
    // Empty stream: any ID up to the last is at entries_added.
    assert_eq!(counters(&s, G), (None, Some(0)));
    assert_eq!(s.estimate_entries_read(id(9, 0)), None, "future ID");
}

#[test]
fn create_and_setid_with_entries_read() {
    let mut s = numbered(5, 10);
    s.create_group(G, s.last_id(), Some(5)).expect("create");
    assert_eq!(counters(&s, G), (Some(5), Some(0)));
    s.create_group(b"dollar", s.last_id(), None)
        .expect("create");
    assert_eq!(
        counters(&s, b"dollar"),
        (None, Some(0)),
        "estimated at the last ID"
    );
    s.group_mut(G).expect("group").set_id(id(2, 0), Some(2));
    assert_eq!(counters(&s, G), (Some(2), Some(3)));
    // An arbitrary ID inside the stream with no counter: unknown.
    s.group_mut(G).expect("group").set_id(id(2, 0), None);
    assert_eq!(counters(&s, G), (None, None));
    // Redis does not check ENTRIESREAD against entries_added: the lag goes negative.
    s.group_mut(G).expect("group").set_id(id(5, 0), Some(9));
    assert_eq!(counters(&s, G), (Some(9), Some(-4)));
    // Delivering from an unknown counter estimates it where exact.
    s.group_mut(G).expect("group").set_id(StreamId::MIN, None);
    read_new(&mut s, b"c", Some(1), 0);
    assert_eq!(counters(&s, G), (Some(1), Some(4)), "first entry: exact");
}

#[test]
fn xsetid_counters_feed_the_lag() {
    let mut s = numbered(3, 10);
    s.create_group(G, StreamId::MIN, None).expect("create");
    s.set_id(id(10, 0), Some(10), Some(id(2, 0)))
        .expect("xsetid");
    // max_deleted 2-0 is after the first entry 1-0: fragmentation, unknown.
    assert_eq!(counters(&s, G), (None, None));
    read_new(&mut s, b"c", None, 0);
    // Last delivered 3-0 is not the last ID (10-0): still unknown.
    assert_eq!(counters(&s, G), (None, None));
    s.group_mut(G).expect("group").set_id(id(10, 0), None);
    assert_eq!(counters(&s, G), (None, Some(0)));
    assert!(s.range_has_tombstones(StreamId::MIN, None));
    assert!(!s.range_has_tombstones(id(3, 0), None));
}
