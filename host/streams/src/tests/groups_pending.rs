//! Consumer groups, continued: XACK, XPENDING (summary and extended), consumers (CREATECONSUMER,
//! DELCONSUMER, seen and active times) and the XINFO views.

use super::groups::{G, pel, read_new, with_group};
use super::*;
use crate::PendingQuery;

#[test]
fn ack_removes_from_group_and_consumer() {
    let mut s = with_group(5);
    read_new(&mut s, b"alice", Some(3), 0);
    read_new(&mut s, b"bob", None, 0);
    let g = s.group_mut(G).expect("group");
    assert_eq!(g.ack(&[id(1, 0), id(1, 0), id(4, 0), id(9, 0)]), 2);
    assert_eq!(g.ack(&[id(1, 0)]), 0);
    assert_eq!(g.pending_count(), 3);
    assert_eq!(g.consumer(b"alice").expect("alice").pending_count(), 2);
    assert_eq!(g.consumer(b"bob").expect("bob").pending_count(), 1);
    let ids: Vec<u64> = g
        .consumer(b"alice")
        .expect("alice")
        .pending_ids()
        .map(|i| i.ms)
        .collect();
    assert_eq!(ids, [2, 3]);
}

#[test]
fn pending_summary_and_ranges() {
    let mut s = with_group(6);
    read_new(&mut s, b"bob", Some(2), 100);
    read_new(&mut s, b"alice", Some(3), 200);
    read_new(&mut s, b"carol", Some(1), 300);
    s.group_mut(G).expect("group").ack(&[id(6, 0)]);
    let g = s.group(G).expect("group");
    let sum = g.pending_summary();
    assert_eq!(sum.count, 5);
    assert_eq!((sum.first, sum.last), (Some(id(1, 0)), Some(id(5, 0))));
    // Name order; carol has nothing pending and is left out.
    assert_eq!(sum.consumers, vec![(&b"alice"[..], 3), (&b"bob"[..], 2)]);

    let all = PendingQuery {
        start: StreamId::MIN,
        end: StreamId::MAX,
        count: 10,
        consumer: None,
        min_idle_ms: 0,
    };
    let got = g.pending_range(&all, 1000);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].consumer, b"bob");
    assert_eq!(got[0].idle_ms(1000), 900);
    assert_eq!(got[2].delivery_count, 1);
    let ranged = g.pending_range(
        &PendingQuery {
            start: id(2, 0),
            end: id(4, 0),
            count: 2,
            ..all
        },
        1000,
    );
    assert_eq!(ranged.iter().map(|e| e.id.ms).collect::<Vec<_>>(), [2, 3]);
    let alice = g.pending_range(
        &PendingQuery {
            consumer: Some(b"alice"),
            ..all
        },
        1000,
    );
    assert_eq!(alice.iter().map(|e| e.id.ms).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(
        g.pending_range(
            &PendingQuery {
                consumer: Some(b"nobody"),
                ..all
            },
            1000
        )
        .is_empty()
    );
    // IDLE 850 at 1000 keeps only bob's (delivered at 100).
    let idle = g.pending_range(
        &PendingQuery {
            min_idle_ms: 850,
            ..all
        },
        1000,
    );
    assert_eq!(idle.iter().map(|e| e.id.ms).collect::<Vec<_>>(), [1, 2]);
    assert!(
        g.pending_range(&PendingQuery { count: 0, ..all }, 1000)
            .is_empty()
    );
    assert!(
        g.pending_range(
            &PendingQuery {
                start: id(3, 0),
                end: id(2, 0),
                ..all
            },
            1000
        )
        .is_empty()
    );
    // Idle never goes negative.
    assert_eq!(got[0].idle_ms(50), 0);

    let empty = Stream::new();
    let mut empty = empty;
    empty.create_group(G, StreamId::MIN, None).expect("create");
    let sum = empty.group(G).expect("group").pending_summary();
    assert_eq!(
        (sum.count, sum.first, sum.last, sum.consumers.len()),
        (0, None, None, 0)
    );
}

#[test]
fn consumers_create_delete_and_times() {
    // Redis: "Consumer seen-time and active-time", with an injected clock.
    let mut s = Stream::new();
    s.create_group(G, StreamId::MIN, None).expect("create");
    read_new(&mut s, b"Alice", Some(1), 1000);
    let c = s
        .group(G)
        .expect("group")
        .consumer(b"Alice")
        .expect("created");
    assert_eq!((c.idle_ms(1100), c.inactive_ms(1100)), (100, -1));
    s.add(AddId::Auto, &[b"f", b"v"], 1100, limits(10))
        .expect("add");
    read_new(&mut s, b"Alice", Some(1), 1100);
    let c = s
        .group(G)
        .expect("group")
        .consumer(b"Alice")
        .expect("alice");
    assert_eq!((c.idle_ms(1120), c.inactive_ms(1120)), (20, 20));
    read_new(&mut s, b"Alice", Some(1), 1200);
    let c = s
        .group(G)
        .expect("group")
        .consumer(b"Alice")
        .expect("alice");
    assert_eq!((c.idle_ms(1210), c.inactive_ms(1210)), (10, 110));
    assert_eq!((c.seen_time_ms(), c.active_time_ms()), (1200, Some(1100)));

    let g = s.group_mut(G).expect("group");
    assert!(g.create_consumer(b"Bob", 5));
    assert!(!g.create_consumer(b"Bob", 6));
    assert!(!g.create_consumer(b"Alice", 6));
    let names: Vec<&[u8]> = g.consumers().map(|c| c.name()).collect();
    assert_eq!(names, [&b"Alice"[..], b"Bob"]);
    assert_eq!(g.consumer(b"Bob").expect("bob").seen_time_ms(), 5);
    assert_eq!(g.consumer_count(), 2);
    // DELCONSUMER returns the pending count and drops those entries.
    assert_eq!(g.delete_consumer(b"Alice"), Some(1));
    assert_eq!(g.delete_consumer(b"Alice"), None);
    assert_eq!(g.delete_consumer(b"Bob"), Some(0));
    assert_eq!(g.pending_count(), 0);
    assert_eq!(g.consumer_count(), 0);
}

#[test]
fn deleted_consumer_slots_are_reused_cleanly() {
    let mut s = with_group(6);
    read_new(&mut s, b"a", Some(2), 0);
    read_new(&mut s, b"b", Some(2), 0);
    s.group_mut(G).expect("group").delete_consumer(b"a");
    read_new(&mut s, b"c", Some(2), 0);
    let g = s.group(G).expect("group");
    assert_eq!(pel(&s, id(3, 0)).map(|p| p.0), Some(b"b".to_vec()));
    assert_eq!(pel(&s, id(5, 0)).map(|p| p.0), Some(b"c".to_vec()));
    assert_eq!(g.pending_count(), 4);
    assert_eq!(
        g.pending_summary().consumers,
        vec![(&b"b"[..], 2), (&b"c"[..], 2)]
    );
}

#[test]
fn xinfo_views() {
    let mut s = with_group(5);
    s.create_group(b"a-first", id(5, 0), Some(5))
        .expect("create");
    read_new(&mut s, b"c1", Some(2), 40);
    read_new(&mut s, b"c2", Some(1), 50);
    let infos: Vec<_> = s.group_infos().collect();
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[0].name, b"a-first");
    assert_eq!((infos[0].lag, infos[0].pending), (Some(0), 0));
    let g = &infos[1];
    assert_eq!((g.name, g.consumers, g.pending), (&b"g"[..], 2, 3));
    assert_eq!(
        (g.last_delivered_id, g.entries_read, g.lag),
        (id(3, 0), Some(3), Some(2))
    );
    assert_eq!(s.group_info(G), Some(*g));
    assert_eq!(s.group_info(b"none"), None);

    // XINFO STREAM FULL: PEL and per-consumer PEL, bounded by COUNT by the caller.
    let grp = s.group(G).expect("group");
    let pel: Vec<_> = grp.pending_entries().take(2).collect();
    assert_eq!(pel.len(), 2);
    assert_eq!(
        (pel[1].id, pel[1].consumer, pel[1].delivery_time_ms),
        (id(2, 0), &b"c1"[..], 40)
    );
    let c1 = grp.consumer(b"c1").expect("c1");
    let mine: Vec<_> = grp
        .consumer_pending(c1)
        .map(|e| (e.id.ms, e.delivery_count))
        .collect();
    assert_eq!(mine, [(1, 1), (2, 1)]);
    assert!(s.memory_usage() > numbered(5, 10).memory_usage());
}
