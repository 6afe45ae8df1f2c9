//! XADD ID generation, node filling, field-name compression and XSETID.

use super::*;
use crate::{CountSink, StreamError};

fn add(s: &mut Stream, aid: AddId, now: u64) -> Result<StreamId, StreamError> {
    s.add(aid, &[b"a", b"1"], now, NodeLimits::default())
}

#[test]
fn auto_ids_follow_clock_and_never_go_back() {
    let mut s = Stream::new();
    assert_eq!(add(&mut s, AddId::Auto, 1000), Ok(id(1000, 0)));
    assert_eq!(add(&mut s, AddId::Auto, 1000), Ok(id(1000, 1)));
    // Clock went backwards: stay on the last ms.
    assert_eq!(add(&mut s, AddId::Auto, 999), Ok(id(1000, 2)));
    assert_eq!(add(&mut s, AddId::Auto, 1001), Ok(id(1001, 0)));
    assert_eq!(s.last_id(), id(1001, 0));
    assert_eq!(s.len(), 4);
    assert_eq!(s.entries_added(), 4);
}

#[test]
fn auto_id_on_exhausted_seq_moves_to_next_ms() {
    let mut s = Stream::new();
    add(&mut s, AddId::Explicit(id(5, u64::MAX)), 0).expect("add");
    assert_eq!(add(&mut s, AddId::Auto, 3), Ok(id(6, 0)));
}

#[test]
fn max_id_exhausts_the_stream() {
    let mut s = Stream::new();
    add(&mut s, AddId::Explicit(StreamId::MAX), 0).expect("add");
    assert_eq!(add(&mut s, AddId::Auto, 0), Err(StreamError::IdExhausted));
    assert_eq!(
        add(&mut s, AddId::Explicit(id(1, 1)), 0),
        Err(StreamError::IdExhausted)
    );
    assert_eq!(
        s.next_id(AddId::AutoSeq(5), 0),
        Err(StreamError::IdExhausted)
    );
    // The 0-0 check comes first, as in Redis.
    assert_eq!(
        s.next_id(AddId::Explicit(id(0, 0)), 0),
        Err(StreamError::IdZero)
    );
}

#[test]
fn auto_seq_ids() {
    let mut s = Stream::new();
    assert_eq!(add(&mut s, AddId::AutoSeq(0), 0), Ok(id(0, 1)));
    assert_eq!(add(&mut s, AddId::AutoSeq(0), 0), Ok(id(0, 2)));
    assert_eq!(add(&mut s, AddId::AutoSeq(7), 0), Ok(id(7, 0)));
    assert_eq!(add(&mut s, AddId::AutoSeq(7), 0), Ok(id(7, 1)));
    assert_eq!(
        add(&mut s, AddId::AutoSeq(6), 0),
        Err(StreamError::IdTooSmall)
    );
    add(&mut s, AddId::Explicit(id(8, u64::MAX)), 0).expect("add");
    assert_eq!(
        add(&mut s, AddId::AutoSeq(8), 0),
        Err(StreamError::IdTooSmall)
    );
    assert_eq!(add(&mut s, AddId::AutoSeq(9), 0), Ok(id(9, 0)));
}

#[test]
fn explicit_ids_must_grow() {
    let mut s = Stream::new();
    assert_eq!(
        add(&mut s, AddId::Explicit(id(0, 0)), 0),
        Err(StreamError::IdZero)
    );
    assert_eq!(add(&mut s, AddId::Explicit(id(0, 1)), 0), Ok(id(0, 1)));
    assert_eq!(add(&mut s, AddId::Explicit(id(5, 5)), 0), Ok(id(5, 5)));
    assert_eq!(
        add(&mut s, AddId::Explicit(id(5, 5)), 0),
        Err(StreamError::IdTooSmall)
    );
    assert_eq!(
        add(&mut s, AddId::Explicit(id(5, 4)), 0),
        Err(StreamError::IdTooSmall)
    );
    assert_eq!(s.next_id(AddId::Explicit(id(5, 6)), 0), Ok(id(5, 6)));
    assert_eq!(s.len(), 2, "failed adds change nothing");
    assert_eq!(s.last_id(), id(5, 5));
}

#[test]
fn nodes_fill_by_entries_and_by_bytes() {
    let s = numbered(250, 100);
    assert_eq!(s.node_count(), 3);
    let mut s = Stream::new();
    let big = [b'x'; 1000];
    let by_bytes = NodeLimits {
        max_entries: 100,
        max_bytes: 4096,
    };
    for i in 1..=10 {
        s.add(AddId::Explicit(id(i, 0)), &[b"f", &big], 0, by_bytes)
            .expect("add");
    }
    // 1000-byte values: a node takes 4 before its bytes plus the next value reach 4096.
    assert_eq!(s.node_count(), 3);
    let unlimited = NodeLimits {
        max_entries: 0,
        max_bytes: 0,
    };
    let mut s = Stream::new();
    for i in 1..=1000 {
        s.add(AddId::Explicit(id(i, 0)), &[b"f", b"v"], 0, unlimited)
            .expect("add");
    }
    assert_eq!(s.node_count(), 1);
}

#[test]
fn mixed_field_names_round_trip() {
    let mut s = Stream::new();
    let l = limits(3);
    let entries: Vec<Vec<&[u8]>> = vec![
        vec![b"a", b"1", b"b", b"2"],
        vec![b"a", b"3", b"b", b"4"],
        vec![b"a", b"5"],
        vec![b"b", b"6", b"a", b"7"],
        vec![b"", b"", b"long-name", b"x"],
        vec![b"a", b"8", b"b", b"9"],
    ];
    for (i, fields) in entries.iter().enumerate() {
        s.add(AddId::Explicit(id(i as u64 + 1, 0)), fields, 0, l)
            .expect("add");
    }
    let mut sink = CollectSink::default();
    s.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
    let got: Vec<Vec<Vec<u8>>> = sink.entries.into_iter().map(|(_, f)| f).collect();
    let want: Vec<Vec<Vec<u8>>> = entries
        .iter()
        .map(|f| f.iter().map(|b| b.to_vec()).collect())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn set_id_rules() {
    let mut s = numbered(3, 100);
    assert_eq!(
        s.set_id(id(2, 0), None, None),
        Err(StreamError::SetIdSmallerThanTop)
    );
    assert_eq!(
        s.set_id(id(9, 0), Some(2), None),
        Err(StreamError::SetIdEntriesAddedSmall)
    );
    assert_eq!(
        s.set_id(id(9, 0), None, Some(id(10, 0))),
        Err(StreamError::SetIdMaxDeletedTooBig)
    );
    assert_eq!(s.set_id(id(3, 0), Some(3), Some(id(2, 5))), Ok(()));
    assert_eq!(s.max_deleted_entry_id(), id(2, 5));
    assert_eq!(
        s.set_id(id(3, 0), None, None),
        Ok(()),
        "equal to the top is fine"
    );
    s.set_id(id(50, 0), Some(100), None).expect("set_id");
    assert_eq!(s.last_id(), id(50, 0));
    assert_eq!(s.entries_added(), 100);
    assert_eq!(
        add(&mut s, AddId::Explicit(id(50, 0)), 0),
        Err(StreamError::IdTooSmall)
    );
    assert_eq!(add(&mut s, AddId::Auto, 0), Ok(id(50, 1)));
}

#[test]
fn set_id_may_lower_last_id_down_to_max_deleted() {
    let mut s = numbered(5, 100);
    s.delete(&[id(5, 0), id(4, 0)]);
    assert_eq!(s.max_deleted_entry_id(), id(5, 0));
    assert_eq!(
        s.set_id(id(4, 0), None, None),
        Err(StreamError::SetIdSmallerThanMaxDeleted)
    );
    s.delete(&[id(1, 0), id(2, 0), id(3, 0)]);
    assert!(s.is_empty());
    // Empty stream: only max_deleted limits it, and ENTRIESADDED is not checked.
    s.set_id(id(5, 0), Some(0), None).expect("set_id");
    assert_eq!(add(&mut s, AddId::Auto, 0), Ok(id(5, 1)));
    assert!(s.get(id(5, 1), &mut CountSink::default()));
}

#[test]
fn over_a_gibibyte_of_fields_is_refused() {
    let mut s = numbered(1, 100);
    let chunk = vec![b'x'; 1 << 20];
    // 1026 references to one 1 MiB buffer: over 1 GiB in total without allocating it.
    let fields: Vec<&[u8]> = (0..1026).map(|_| &chunk[..]).collect();
    let got = s.add(AddId::Auto, &fields, 0, NodeLimits::default());
    assert_eq!(got, Err(StreamError::ElementsTooLarge));
    assert_eq!(s.len(), 1);
    assert_eq!(s.last_id(), id(1, 0));
}

#[test]
fn unpaired_trailing_field_is_ignored() {
    let mut s = Stream::new();
    let l = NodeLimits::default();
    s.add(AddId::Auto, &[b"a", b"1", b"b"], 1, l).expect("add");
    s.add(AddId::Auto, &[b"a", b"2", b"c"], 2, l).expect("add");
    let mut sink = CollectSink::default();
    s.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
    let fields: Vec<Vec<Vec<u8>>> = sink.entries.into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        fields,
        [
            [b"a".to_vec(), b"1".to_vec()],
            [b"a".to_vec(), b"2".to_vec()]
        ]
    );
}

#[test]
fn error_texts_are_redis_texts() {
    assert_eq!(
        StreamError::IdTooSmall.to_string(),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        StreamError::InvalidId.to_string(),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        StreamError::InvalidEndInterval.to_string(),
        "ERR invalid end ID for the interval"
    );
}
