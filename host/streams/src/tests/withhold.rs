//! Withholding the newest entries and putting them back: reads see the stream without them,
//! and the restored stream is the one that never withheld anything.

use super::*;

/// Everything observable of `s`: its state, node count and the IDs it would generate next.
fn observed(s: &Stream) -> (crate::StreamState, usize) {
    (s.export(), s.node_count())
}

#[test]
fn withheld_entries_are_not_read_and_come_back_exactly() {
    // Withholding from inside a node, at a node's first entry, and from past the end.
    for (from, left) in [(23, 22), (21, 20), (1, 0), (26, 25)] {
        let mut s = numbered(25, 10);
        let before = observed(&s);
        let withheld = s.withhold_from(id(from, 0));
        assert_eq!(s.len(), left, "from {from}");
        assert_eq!(withheld.len(), 25 - left);
        assert_eq!(s.entries_added(), left);
        assert_eq!(s.last_id(), if left == 0 { id(0, 0) } else { id(left, 0) });
        let all = ids(&s, StreamId::MIN, StreamId::MAX, None, false);
        assert_eq!(ms(&all), (1..=left).collect::<Vec<_>>());
        assert_eq!(
            ms(&ids(&s, StreamId::MIN, StreamId::MAX, Some(1), true)).len(),
            usize::from(left > 0)
        );
        s.restore(withheld, limits(10));
        assert_eq!(observed(&s), before, "from {from}");
        // Appends go on as if nothing happened.
        s.add(AddId::Auto, &[b"f", b"x"], 0, limits(10))
            .expect("add");
        assert_eq!(s.last_id(), id(25, 1));
    }
}

#[test]
fn deleted_entries_around_the_cut_are_kept_in_their_place() {
    let mut s = numbered(14, 10);
    // Node one: 1..=10, node two: 11..=14. 12 deleted among the withheld, 11 before them.
    assert_eq!(s.delete(&[id(11, 0), id(12, 0)]), 2);
    let before = observed(&s);
    let withheld = s.withhold_from(id(12, 0));
    // Only deleted 11 would stay in node two: the whole node is withheld.
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.len(), 10);
    assert_eq!(withheld.len(), 2);
    // The greatest deleted ID, 12, is withheld too: the last ID is the last stored one.
    assert_eq!(s.last_id(), id(10, 0));
    s.restore(withheld, limits(10));
    assert_eq!(observed(&s), before);

    let mut s = numbered(14, 10);
    s.delete(&[id(9, 0)]);
    let before = observed(&s);
    let withheld = s.withhold_from(id(8, 0));
    assert_eq!(s.len(), 7);
    assert_eq!(s.last_id(), id(7, 0));
    assert_eq!(s.entries_added(), 7);
    s.restore(withheld, limits(10));
    assert_eq!(observed(&s), before);
}

#[test]
fn withholdings_stack() {
    // A write that slips in while entries are withheld is withheld in turn; undone in
    // reverse order, the stream holds every entry once.
    for first_from in [11, 9] {
        let mut expected = numbered(12, 10);
        expected
            .add(AddId::Explicit(id(30, 0)), &[b"f", b"late"], 0, limits(10))
            .expect("add");
        let mut s = numbered(12, 10);
        let first = s.withhold_from(id(first_from, 0));
        s.add(AddId::Explicit(id(30, 0)), &[b"f", b"late"], 0, limits(10))
            .expect("add");
        let second = s.withhold_from(id(30, 0));
        assert_eq!(s.len(), first_from - 1);
        s.restore(second, limits(10));
        s.restore(first, limits(10));
        assert_eq!(s.export(), expected.export(), "from {first_from}");
    }
}

#[test]
fn a_changed_stream_is_rebuilt_with_the_entries_in_order() {
    let mut s = numbered(15, 10);
    let withheld = s.withhold_from(id(13, 0));
    s.add(AddId::Explicit(id(40, 0)), &[b"f", b"v"], 0, limits(10))
        .expect("add");
    s.restore(withheld, limits(10));
    assert_eq!(s.len(), 16);
    assert_eq!(
        ms(&ids(&s, StreamId::MIN, StreamId::MAX, None, false)),
        (1..=15).chain([40]).collect::<Vec<_>>()
    );
    assert_eq!(s.last_id(), id(40, 0));
    assert_eq!(s.entries_added(), 16);
}
