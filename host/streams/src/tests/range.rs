//! XRANGE / XREVRANGE over node boundaries, counts, exclusive bounds, lookups, edge entries.

use super::*;
use crate::{CountSink, parse_range_end, parse_range_start};

#[test]
fn forward_and_reverse_cover_everything() {
    let s = numbered(35, 10);
    assert_eq!(s.node_count(), 4);
    let all: Vec<u64> = (1..=35).collect();
    assert_eq!(ms(&ids(&s, StreamId::MIN, StreamId::MAX, None, false)), all);
    let rev: Vec<u64> = (1..=35).rev().collect();
    assert_eq!(ms(&ids(&s, StreamId::MIN, StreamId::MAX, None, true)), rev);
}

#[test]
fn bounds_inside_and_across_nodes() {
    let s = numbered(35, 10);
    let fwd = ids(&s, id(9, 0), id(22, 0), None, false);
    assert_eq!(ms(&fwd), (9..=22).collect::<Vec<_>>());
    let rev = ids(&s, id(9, 0), id(22, 0), None, true);
    assert_eq!(ms(&rev), (9..=22).rev().collect::<Vec<_>>());
    // Bounds between entries and on node keys.
    assert_eq!(ms(&ids(&s, id(10, 1), id(11, 0), None, false)), [11]);
    assert_eq!(ms(&ids(&s, id(11, 0), id(11, 0), None, true)), [11]);
    assert_eq!(ms(&ids(&s, id(21, 0), id(21, 0), None, false)), [21]);
    assert!(ids(&s, id(20, 1), id(20, 9), None, false).is_empty());
    assert!(ids(&s, id(20, 1), id(20, 9), None, true).is_empty());
    assert!(ids(&s, id(36, 0), StreamId::MAX, None, false).is_empty());
    assert!(ids(&s, StreamId::MIN, id(0, 5), None, true).is_empty());
    assert!(ids(&s, id(5, 0), id(4, 0), None, false).is_empty());
}

#[test]
fn counts_stop_early_in_both_directions() {
    let s = numbered(35, 10);
    assert_eq!(
        ms(&ids(&s, id(8, 0), StreamId::MAX, Some(5), false)),
        [8, 9, 10, 11, 12]
    );
    assert_eq!(
        ms(&ids(&s, StreamId::MIN, id(22, 0), Some(4), true)),
        [22, 21, 20, 19]
    );
    assert!(ids(&s, StreamId::MIN, StreamId::MAX, Some(0), false).is_empty());
    assert_eq!(
        ids(&s, StreamId::MIN, StreamId::MAX, Some(100), true).len(),
        35
    );
}

#[test]
fn exclusive_bounds_from_arguments() {
    let s = numbered(35, 10);
    let start = parse_range_start(b"(10-0").expect("start");
    let end = parse_range_end(b"(21").expect("end");
    // "(21" means "(21-18446744073709551615": 21-0 is still in range, as in Redis.
    assert_eq!(
        ms(&ids(&s, start, end, None, false)),
        (11..=21).collect::<Vec<_>>()
    );
    let end = parse_range_end(b"(21-0").expect("end");
    assert_eq!(
        ms(&ids(&s, start, end, None, true)),
        (11..=20).rev().collect::<Vec<_>>()
    );
    let end = parse_range_end(b"21").expect("end");
    assert_eq!(ids(&s, start, end, None, false).len(), 11);
}

#[test]
fn deleted_entries_are_skipped() {
    let mut s = numbered(30, 10);
    assert_eq!(s.delete(&[id(10, 0), id(11, 0), id(15, 0)]), 3);
    let fwd = ms(&ids(&s, id(9, 0), id(16, 0), None, false));
    assert_eq!(fwd, [9, 12, 13, 14, 16]);
    let rev = ms(&ids(&s, id(9, 0), id(16, 0), Some(3), true));
    assert_eq!(rev, [16, 14, 13]);
    assert!(!s.get(id(15, 0), &mut CountSink::default()));
    assert!(!s.contains(id(15, 0)));
    assert!(s.contains(id(16, 0)));
}

#[test]
fn get_returns_fields() {
    let s = numbered(30, 10);
    let mut sink = CollectSink::default();
    assert!(s.get(id(17, 0), &mut sink));
    assert_eq!(
        sink.entries,
        vec![(id(17, 0), vec![b"f".to_vec(), b"17".to_vec()])]
    );
    assert!(!s.get(id(17, 1), &mut sink));
    assert!(!s.get(id(31, 0), &mut sink));
    assert!(!Stream::new().get(id(1, 0), &mut sink));
}

#[test]
fn first_and_last_entries_skip_deleted() {
    let mut s = numbered(30, 10);
    s.delete(&[id(1, 0), id(2, 0), id(30, 0)]);
    let mut first = CollectSink::default();
    let mut last = CollectSink::default();
    assert!(s.first_entry(&mut first));
    assert!(s.last_entry(&mut last));
    assert_eq!(first.ids(), [id(3, 0)]);
    assert_eq!(last.ids(), [id(29, 0)]);
    assert_eq!(s.first_id(), Some(id(3, 0)));
    assert_eq!(s.last_live_id(), Some(id(29, 0)));
    assert_eq!(s.last_id(), id(30, 0));
    let empty = Stream::new();
    assert!(!empty.first_entry(&mut first));
    assert!(!empty.last_entry(&mut last));
    assert_eq!(empty.first_id(), None);
}

#[test]
fn ids_with_large_gaps_decode() {
    let mut s = Stream::new();
    let want = [
        id(1, 0),
        id(1, 7),
        id(1, u64::MAX - 1),
        id(2, 3),
        id(1 << 40, 0),
        id((1 << 40) + 1, 1 << 50),
        id(u64::MAX, 0),
        StreamId::MAX,
    ];
    for w in want {
        s.add(AddId::Explicit(w), &[b"k", b"v"], 0, limits(3))
            .expect("add");
    }
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, None, false), want);
    let mut rev = want.to_vec();
    rev.reverse();
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, None, true), rev);
}

/// A node copy reads what `range` reads at the time of the copy, the whole count when the
/// stream holds it, across node boundaries and deleted entries, and reuses its buffers.
#[test]
fn a_node_copy_reads_as_range_from_any_position() {
    let mut s = numbered(35, 10);
    assert_eq!(s.delete(&[id(12, 0), id(13, 0), id(21, 0)]), 3);
    let mut copy = crate::NodeCopy::default();
    for after in [0, 1, 9, 10, 11, 12, 20, 25, 34, 35] {
        for count in [1, 3, 10, 20, 100] {
            let start = StreamId::new(after, 0).incr().expect("not the last ID");
            let want = ids(&s, start, StreamId::MAX, Some(count), false);
            s.copy_after(id(after, 0), count, &mut copy);
            let mut sink = crate::CollectSink::default();
            let n = copy.range(id(after, 0), count, &mut sink);
            assert_eq!(sink.ids(), want, "after {after}, count {count}");
            assert_eq!(n, want.len());
        }
    }
    // Appends after the copy are not in it.
    s.copy_after(id(30, 0), 100, &mut copy);
    s.add(AddId::Explicit(id(36, 0)), &[b"f", b"36"], 0, limits(10))
        .expect("add");
    let mut sink = crate::CollectSink::default();
    copy.range(id(30, 0), 100, &mut sink);
    assert_eq!(ms(&sink.ids()), [31, 32, 33, 34, 35]);
}
