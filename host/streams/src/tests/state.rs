//! Whole-stream state ([`Stream::export`] / [`Stream::from_state`]): exact round trips of
//! every observable, and each inconsistency [`StateError`] names.

use super::groups::G;
use super::persist::{assert_group_same, rich_stream};
use super::*;
use crate::{ConsumerState, GroupState, PendingState, StateError, StreamEntry, StreamState};

fn rebuilt(s: &Stream) -> Stream {
    Stream::from_state(s.export(), limits(4)).expect("a stream's own state is consistent")
}

/// What clients observe is equal (node layout may differ: deleted entries are not carried).
fn assert_observably_same(a: &Stream, b: &Stream) {
    assert_eq!(a.export(), b.export());
    assert_eq!(
        (a.len(), a.last_id(), a.first_id(), a.last_live_id()),
        (b.len(), b.last_id(), b.first_id(), b.last_live_id())
    );
    assert_eq!(
        (a.entries_added(), a.max_deleted_entry_id()),
        (b.entries_added(), b.max_deleted_entry_id())
    );
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
}

#[test]
fn rich_stream_round_trips() {
    let s = rich_stream();
    let back = rebuilt(&s);
    assert_observably_same(&s, &back);
    let state = s.export();
    assert_eq!(state.last_id, id(5000, 9));
    assert_eq!(state.entries_added, 1_000);
    assert_eq!(state.max_deleted_entry_id, id(1500, 0));
    let names: Vec<&[u8]> = state.groups.iter().map(|g| &g.name[..]).collect();
    assert_eq!(names, [&b""[..], b"g", b"mid", b"tail"]);
}

#[test]
fn empty_stream_round_trips() {
    let s = Stream::new();
    assert_eq!(s.export(), StreamState::default());
    assert_observably_same(&s, &rebuilt(&s));
}

#[test]
fn export_lists_entries_pending_and_consumers() {
    let mut s = numbered(3, 10);
    s.create_group(G, StreamId::MIN, None).expect("create");
    super::groups::read_new(&mut s, b"bob", Some(2), 500);
    let state = s.export();
    assert_eq!(state.entries.len(), 3);
    assert_eq!(
        state.entries[0],
        StreamEntry {
            id: id(1, 0),
            fields: vec![(b"f".to_vec(), b"1".to_vec())],
        }
    );
    let group = &state.groups[0];
    assert_eq!(group.last_delivered_id, id(2, 0));
    assert_eq!(group.entries_read, Some(2));
    assert_eq!(
        group.pending,
        [
            PendingState {
                id: id(1, 0),
                delivery_time_ms: 500,
                delivery_count: 1,
            },
            PendingState {
                id: id(2, 0),
                delivery_time_ms: 500,
                delivery_count: 1,
            },
        ]
    );
    assert_eq!(
        group.consumers,
        [ConsumerState {
            name: b"bob".to_vec(),
            seen_time_ms: 500,
            active_time_ms: Some(500),
            pending: vec![id(1, 0), id(2, 0)],
            redeliver: vec![],
        }]
    );
}

/// A small valid state: two entries, one group with one pending entry owned by `c`.
fn valid() -> StreamState {
    let entry = |ms| StreamEntry {
        id: id(ms, 0),
        fields: vec![(b"a".to_vec(), b"1".to_vec())],
    };
    StreamState {
        entries: vec![entry(1), entry(2)],
        last_id: id(2, 0),
        entries_added: 2,
        max_deleted_entry_id: StreamId::MIN,
        groups: vec![GroupState {
            name: b"g".to_vec(),
            last_delivered_id: id(1, 0),
            entries_read: Some(1),
            pending: vec![PendingState {
                id: id(1, 0),
                delivery_time_ms: 7,
                delivery_count: 2,
            }],
            consumers: vec![ConsumerState {
                name: b"c".to_vec(),
                seen_time_ms: 9,
                active_time_ms: None,
                pending: vec![id(1, 0)],
                redeliver: vec![id(1, 0)],
            }],
            nacked: Vec::new(),
        }],
    }
}

#[test]
fn a_valid_state_builds_and_exports_unchanged() {
    let s = Stream::from_state(valid(), NodeLimits::default()).expect("valid");
    assert_eq!(s.export(), valid());
    let g = s.group(G).expect("g");
    assert!(g.is_marked_for_redelivery(id(1, 0)));
    assert_eq!(
        g.pending_entry(id(1, 0)).map(|p| p.consumer),
        Some(&b"c"[..])
    );
}

/// A change that makes [`valid`] inconsistent.
type Damage = fn(&mut StreamState);

#[test]
fn each_inconsistency_is_refused() {
    let cases: Vec<(Damage, StateError)> = vec![
        (
            |s| s.entries[1].id = id(1, 0),
            StateError::EntryOrder(id(1, 0)),
        ),
        (
            |s| s.entries[0].id = StreamId::MIN,
            StateError::EntryOrder(StreamId::MIN),
        ),
        (
            |s| s.entries[1].fields.clear(),
            StateError::EmptyEntry(id(2, 0)),
        ),
        (
            |s| s.last_id = id(1, 5),
            StateError::LastIdBelowEntry {
                last: id(1, 5),
                entry: id(2, 0),
            },
        ),
        (
            |s| s.groups.push(s.groups[0].clone()),
            StateError::DuplicateGroup,
        ),
        (
            |s| {
                let c = s.groups[0].consumers[0].clone();
                s.groups[0].consumers.push(c);
            },
            StateError::DuplicateConsumer,
        ),
        (
            |s| {
                let p = s.groups[0].pending[0];
                s.groups[0].pending.push(p);
            },
            StateError::DuplicatePending(id(1, 0)),
        ),
        (
            |s| s.groups[0].consumers[0].pending.push(id(1, 0)),
            StateError::DuplicatePending(id(1, 0)),
        ),
        (
            |s| s.groups[0].consumers[0].pending.push(id(3, 0)),
            StateError::UnknownPending(id(3, 0)),
        ),
        (
            |s| {
                let mut c = s.groups[0].consumers[0].clone();
                c.name = b"d".to_vec();
                c.redeliver.clear();
                s.groups[0].consumers.push(c);
            },
            StateError::SharedPending(id(1, 0)),
        ),
        (
            |s| {
                s.groups[0].consumers[0].pending.clear();
                s.groups[0].consumers[0].redeliver.clear();
            },
            StateError::OrphanPending(id(1, 0)),
        ),
        (
            |s| s.groups[0].consumers[0].redeliver.push(id(2, 0)),
            StateError::BadRedeliveryMark(id(2, 0)),
        ),
    ];
    for (i, (damage, want)) in cases.into_iter().enumerate() {
        let mut state = valid();
        damage(&mut state);
        let got = Stream::from_state(state, NodeLimits::default()).map(|_| ());
        assert_eq!(got, Err(want), "case {i}");
    }
}

#[test]
fn entries_pack_into_nodes_under_the_limits() {
    let mut state = StreamState::default();
    for ms in 1..=10 {
        state.entries.push(StreamEntry {
            id: id(ms, 0),
            fields: vec![(b"f".to_vec(), b"v".to_vec())],
        });
    }
    state.last_id = id(10, 0);
    let s = Stream::from_state(state, limits(3)).expect("valid");
    assert_eq!(s.node_count(), 4);
    assert_eq!(s.len(), 10);
}
