//! Reference modes (Redis 8.2): XDELEX, XACKDEL and trimming with KEEPREF / DELREF / ACKED,
//! checked against the replies of Redis's own tests (`stream.tcl`, `stream-cgroups.tcl`).

use super::{id, limits};
use crate::{
    AddId, CollectSink, DeleteResult, GroupRead, GroupReadStart, RefMode, Stream, TrimSpec,
    TrimStrategy,
};

use DeleteResult::{Deleted, NotFound, Referenced};

/// A stream with entries `1-0 ..= n-0`, `per_node` entries per node.
fn stream(n: u64, per_node: usize) -> Stream {
    let mut s = Stream::new();
    for ms in 1..=n {
        s.add(
            AddId::Explicit(id(ms, 0)),
            &[b"f", b"v"],
            0,
            limits(per_node),
        )
        .expect("ascending IDs");
    }
    s
}

fn read(s: &mut Stream, group: &[u8], count: Option<usize>) {
    let read = GroupRead {
        start: GroupReadStart::New,
        count,
        noack: false,
    };
    s.read_group(group, b"c", read, 0, &mut CollectSink::default())
        .expect("group exists");
}

fn pending(s: &Stream, group: &[u8]) -> usize {
    s.group(group).map_or(0, |g| g.pending_count())
}

#[test]
fn xackdel_modes_follow_redis() {
    for (mode, first, second, len_after_first) in [
        (RefMode::DelRef, [Deleted, Deleted], [NotFound, NotFound], 0),
        (
            RefMode::Acked,
            [Referenced, Referenced],
            [Deleted, Deleted],
            2,
        ),
        (RefMode::KeepRef, [Deleted, Deleted], [Deleted, Deleted], 0),
    ] {
        let mut s = stream(2, 100);
        for g in [&b"g1"[..], b"g2"] {
            s.create_group(g, id(0, 0), None).expect("new group");
            read(&mut s, g, None);
        }
        let ids = [id(1, 0), id(2, 0)];
        assert_eq!(
            s.ack_delete(b"g1", &ids, mode),
            Ok(first.to_vec()),
            "{mode:?}"
        );
        assert_eq!(s.len(), len_after_first, "{mode:?}");
        assert_eq!(pending(&s, b"g1"), 0);
        let g2_left = if mode == RefMode::DelRef { 0 } else { 2 };
        assert_eq!(pending(&s, b"g2"), g2_left, "{mode:?}");
        assert_eq!(
            s.ack_delete(b"g2", &ids, mode),
            Ok(second.to_vec()),
            "{mode:?}"
        );
        assert_eq!((s.len(), pending(&s, b"g2")), (0, 0), "{mode:?}");
    }
}

#[test]
fn xdelex_acked_waits_for_delivery_and_ack() {
    let mut s = stream(1, 100);
    // No groups: nothing references the entry.
    assert_eq!(
        stream(1, 100).delete_ex(&[id(1, 0)], RefMode::Acked),
        vec![Deleted]
    );
    s.create_group(b"g", id(0, 0), None).expect("new group");
    // Not delivered yet, then pending: kept.
    assert_eq!(s.delete_ex(&[id(1, 0)], RefMode::Acked), vec![Referenced]);
    read(&mut s, b"g", None);
    assert_eq!(s.delete_ex(&[id(1, 0)], RefMode::Acked), vec![Referenced]);
    s.group_mut(b"g").expect("exists").ack(&[id(1, 0)]);
    assert_eq!(
        s.delete_ex(&[id(1, 0), id(1, 0), id(9, 0)], RefMode::Acked),
        vec![Deleted, NotFound, NotFound]
    );
    assert_eq!(s.max_deleted_entry_id(), id(1, 0));
}

#[test]
fn xdelex_delref_cleans_dangling_references() {
    let mut s = stream(2, 100);
    s.create_group(b"g", id(0, 0), None).expect("new group");
    read(&mut s, b"g", None);
    assert_eq!(s.delete(&[id(1, 0)]), 1);
    // 1-0 is gone but still pending: DELREF removes the reference, the reply stays -1.
    assert_eq!(
        s.delete_ex(&[id(1, 0), id(2, 0)], RefMode::DelRef),
        vec![NotFound, Deleted]
    );
    assert_eq!(pending(&s, b"g"), 0);
}

#[test]
fn fifty_ids_in_one_call() {
    let mut s = Stream::new();
    s.create_group(b"g", id(0, 0), None).expect("new group");
    let ids: Vec<_> = (0..50).map(|i| id(i, 1)).collect();
    let out = s
        .ack_delete(b"g", &ids, RefMode::KeepRef)
        .expect("group exists");
    assert_eq!(out, vec![NotFound; 50]);
    assert_eq!(s.delete_ex(&ids, RefMode::DelRef), vec![NotFound; 50]);
}

#[test]
fn trim_acked_skips_referenced_entries_even_with_approx() {
    // Redis: "XTRIM with approx and ACKED deletes entries correctly".
    let mut s = stream(5, 2);
    s.create_group(b"g", id(0, 0), None).expect("new group");
    read(&mut s, b"g", None);
    s.group_mut(b"g")
        .expect("exists")
        .ack(&[id(1, 0), id(2, 0), id(4, 0)]);
    let spec = TrimSpec {
        strategy: TrimStrategy::MinId(id(6, 0)),
        approx: true,
        limit: None,
    };
    assert_eq!(s.trim_with(spec, limits(2), RefMode::Acked), 3);
    assert_eq!(
        super::ms(&super::ids(&s, id(0, 0), crate::StreamId::MAX, None, false)),
        vec![3, 5]
    );
}

#[test]
fn trim_acked_maxlen_keeps_undelivered_entries() {
    // Redis: "XADD with MAXLEN option and ACKED option".
    let mut s = stream(5, 100);
    s.create_group(b"g", id(0, 0), None).expect("new group");
    let maxlen = TrimSpec {
        strategy: TrimStrategy::MaxLen(1),
        approx: false,
        limit: None,
    };
    assert_eq!(s.trim_with(maxlen, limits(100), RefMode::Acked), 0);
    read(&mut s, b"g", Some(1));
    s.group_mut(b"g").expect("exists").ack(&[id(1, 0)]);
    assert_eq!(s.trim_with(maxlen, limits(100), RefMode::Acked), 1);
    assert_eq!(s.len(), 4);
    read(&mut s, b"g", None);
    let all: Vec<_> = (2..=5).map(|ms| id(ms, 0)).collect();
    s.group_mut(b"g").expect("exists").ack(&all);
    assert_eq!(s.trim_with(maxlen, limits(100), RefMode::Acked), 3);
    assert_eq!(s.len(), 1);
}

#[test]
fn trim_delref_cleans_the_pels() {
    // Redis: "XTRIM with approx and DELREF deletes entries correctly".
    let mut s = stream(4, 2);
    s.create_group(b"g", id(0, 0), None).expect("new group");
    read(&mut s, b"g", None);
    let spec = TrimSpec {
        strategy: TrimStrategy::MinId(id(5, 0)),
        approx: true,
        limit: None,
    };
    assert_eq!(s.trim_with(spec, limits(2), RefMode::DelRef), 4);
    assert_eq!((s.len(), pending(&s, b"g")), (0, 0));
    // KEEPREF leaves them.
    let mut s = stream(3, 100);
    s.create_group(b"g", id(0, 0), None).expect("new group");
    read(&mut s, b"g", None);
    let maxlen = TrimSpec {
        strategy: TrimStrategy::MaxLen(1),
        approx: false,
        limit: None,
    };
    assert_eq!(s.trim_with(maxlen, limits(100), RefMode::KeepRef), 2);
    assert_eq!(pending(&s, b"g"), 3);
}
