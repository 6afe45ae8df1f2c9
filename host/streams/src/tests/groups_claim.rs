//! XCLAIM and XAUTOCLAIM: min-idle, IDLE / TIME / RETRYCOUNT, FORCE, JUSTID, LASTID, deleted
//! entries, the XAUTOCLAIM cursor and its attempts limit.

use super::groups::{G, pel, read_new, with_group};
use super::*;
use crate::{AutoClaimOptions, ClaimOptions, ClaimOutcome, ClaimTime, CountSink, StreamError};

fn claim(
    s: &mut Stream,
    consumer: &[u8],
    ids: &[StreamId],
    opts: ClaimOptions,
    now: u64,
) -> (ClaimOutcome, CollectSink) {
    let mut sink = CollectSink::default();
    let out = s
        .claim(G, consumer, ids, &opts, now, &mut sink)
        .expect("group exists");
    (out, sink)
}

fn min_idle(ms: i64) -> ClaimOptions {
    ClaimOptions {
        min_idle_ms: ms,
        ..ClaimOptions::default()
    }
}

fn autoclaim(
    s: &mut Stream,
    consumer: &[u8],
    idle: i64,
    start: StreamId,
    count: usize,
    just_id: bool,
    now: u64,
) -> crate::AutoClaimOutcome {
    let opts = AutoClaimOptions {
        min_idle_ms: idle,
        start,
        count,
        just_id,
    };
    let mut sink = CollectSink::default();
    let out = s
        .autoclaim(G, consumer, &opts, now, &mut sink)
        .expect("group exists");
    if just_id {
        assert!(sink.entries.is_empty());
    } else {
        assert_eq!(sink.ids(), out.claimed);
    }
    out
}

#[test]
fn claim_respects_min_idle_and_moves_ownership() {
    // Redis: "XCLAIM can claim PEL items from another consumer".
    let mut s = with_group(3);
    read_new(&mut s, b"c1", Some(1), 1000);
    let (out, _) = claim(&mut s, b"c2", &[id(1, 0)], min_idle(300), 1200);
    assert!(out.claimed.is_empty(), "idle 200 < 300");
    assert!(out.consumer_created);
    let (out, sink) = claim(&mut s, b"c2", &[id(1, 0)], min_idle(10), 1200);
    assert_eq!(out.claimed, [id(1, 0)]);
    assert_eq!(
        sink.entries,
        vec![(id(1, 0), vec![b"f".to_vec(), b"1".to_vec()])]
    );
    assert_eq!(pel(&s, id(1, 0)), Some((b"c2".to_vec(), 1200, 2)));
    let g = s.group(G).expect("group");
    assert_eq!(g.consumer(b"c1").expect("c1").pending_count(), 0);
    let c2 = g.consumer(b"c2").expect("c2");
    assert_eq!((c2.pending_count(), c2.active_time_ms()), (1, Some(1200)));
    // Not pending, no FORCE: skipped.
    assert!(
        claim(&mut s, b"c2", &[id(2, 0)], min_idle(0), 1300)
            .0
            .claimed
            .is_empty()
    );
    assert_eq!(
        s.claim(
            b"nope",
            b"c",
            &[],
            &ClaimOptions::default(),
            0,
            &mut CountSink::default()
        ),
        Err(StreamError::NoGroup)
    );
}

#[test]
fn claim_of_deleted_entries_drops_them_from_the_pel() {
    let mut s = with_group(3);
    read_new(&mut s, b"c1", None, 0);
    s.delete(&[id(2, 0)]);
    let (out, _) = claim(&mut s, b"c2", &[id(2, 0), id(3, 0)], min_idle(0), 500);
    assert_eq!(out.claimed, [id(3, 0)]);
    assert_eq!(pel(&s, id(2, 0)), None);
    let g = s.group(G).expect("group");
    assert_eq!(g.pending_count(), 2);
    assert_eq!(g.consumer(b"c1").expect("c1").pending_count(), 1);
    // The idle check comes after the existence check: a fresh deleted entry goes too.
    read_new(&mut s, b"c1", None, 500);
    s.add(AddId::Explicit(id(4, 0)), &[b"f", b"v"], 0, limits(10))
        .expect("add");
    read_new(&mut s, b"c1", None, 500);
    s.delete(&[id(4, 0)]);
    claim(&mut s, b"c2", &[id(4, 0)], min_idle(1_000_000), 500);
    assert_eq!(pel(&s, id(4, 0)), None);
}

#[test]
fn justid_keeps_the_delivery_count() {
    // Redis: "XCLAIM without JUSTID increments delivery count".
    let mut s = with_group(1);
    read_new(&mut s, b"c1", None, 0);
    claim(&mut s, b"c2", &[id(1, 0)], min_idle(10), 200);
    assert_eq!(pel(&s, id(1, 0)).map(|p| p.2), Some(2));
    let (out, sink) = claim(
        &mut s,
        b"c3",
        &[id(1, 0)],
        ClaimOptions {
            just_id: true,
            ..min_idle(10)
        },
        400,
    );
    assert_eq!(out.claimed, [id(1, 0)]);
    assert!(sink.entries.is_empty());
    assert_eq!(pel(&s, id(1, 0)), Some((b"c3".to_vec(), 400, 2)));
}

#[test]
fn idle_time_and_retrycount_options() {
    let mut s = with_group(2);
    read_new(&mut s, b"c1", None, 0);
    let idle = ClaimOptions {
        time: Some(ClaimTime::Idle(300)),
        retry_count: Some(7),
        ..min_idle(0)
    };
    claim(&mut s, b"c2", &[id(1, 0)], idle, 1000);
    assert_eq!(pel(&s, id(1, 0)), Some((b"c2".to_vec(), 700, 7)));
    let time = ClaimOptions {
        time: Some(ClaimTime::Unix(900)),
        ..min_idle(0)
    };
    claim(&mut s, b"c2", &[id(1, 0)], time, 1000);
    assert_eq!(pel(&s, id(1, 0)), Some((b"c2".to_vec(), 900, 8)));
    // Bogus times (future, negative) become now; a negative RETRYCOUNT is "not given".
    for bogus in [
        ClaimTime::Unix(5000),
        ClaimTime::Unix(-1),
        ClaimTime::Idle(-10),
        ClaimTime::Idle(2000),
    ] {
        let opts = ClaimOptions {
            time: Some(bogus),
            retry_count: Some(-1),
            just_id: true,
            ..min_idle(0)
        };
        claim(&mut s, b"c2", &[id(2, 0)], opts, 1000);
        assert_eq!(
            pel(&s, id(2, 0)),
            Some((b"c2".to_vec(), 1000, 1)),
            "{bogus:?}"
        );
    }
}

#[test]
fn force_creates_entries_only_for_existing_ids() {
    let mut s = with_group(3);
    s.delete(&[id(2, 0)]);
    let force = ClaimOptions {
        force: true,
        ..min_idle(1_000_000)
    };
    let (out, _) = claim(&mut s, b"c", &[id(1, 0), id(2, 0), id(9, 0)], force, 50);
    assert_eq!(out.claimed, [id(1, 0)]);
    // Created with count 1, then incremented as any non-JUSTID claim (Redis reports 2).
    assert_eq!(pel(&s, id(1, 0)), Some((b"c".to_vec(), 50, 2)));
    let force_just = ClaimOptions {
        force: true,
        just_id: true,
        ..min_idle(0)
    };
    claim(&mut s, b"c", &[id(3, 0)], force_just, 50);
    assert_eq!(pel(&s, id(3, 0)), Some((b"c".to_vec(), 50, 1)));
    assert_eq!(s.group(G).expect("group").pending_count(), 2);
}

#[test]
fn lastid_only_moves_the_group_forward() {
    let mut s = with_group(5);
    read_new(&mut s, b"c", Some(2), 0);
    let opts = |last| ClaimOptions {
        last_id: Some(last),
        ..min_idle(0)
    };
    claim(&mut s, b"c", &[], opts(id(1, 0)), 0);
    assert_eq!(s.group(G).expect("group").last_delivered_id(), id(2, 0));
    claim(&mut s, b"c", &[], opts(id(4, 0)), 0);
    let g = s.group(G).expect("group");
    assert_eq!(g.last_delivered_id(), id(4, 0));
    assert_eq!(
        g.entries_read(),
        Some(2),
        "LASTID does not touch entries_read"
    );
}

#[test]
fn autoclaim_cursor_and_deleted_entries() {
    // Redis: "XAUTOCLAIM can claim PEL items from another consumer", with an injected clock.
    let mut s = with_group(4);
    read_new(&mut s, b"consumer1", Some(1), 0);
    let out = autoclaim(&mut s, b"consumer2", 10, StreamId::MIN, 1, false, 200);
    assert_eq!(
        (out.next, out.claimed.clone(), out.deleted.len()),
        (StreamId::MIN, vec![id(1, 0)], 0)
    );
    read_new(&mut s, b"consumer1", Some(3), 200);
    s.delete(&[id(2, 0)]);
    let out = autoclaim(&mut s, b"consumer2", 10, StreamId::MIN, 3, false, 400);
    assert_eq!(out.next, id(4, 0));
    assert_eq!(out.claimed, [id(1, 0), id(3, 0)]);
    assert_eq!(out.deleted, [id(2, 0)]);
    assert_eq!(pel(&s, id(2, 0)), None);
    s.delete(&[id(4, 0)]);
    let out = autoclaim(&mut s, b"consumer2", 10, StreamId::MIN, 100, true, 600);
    assert_eq!(out.next, StreamId::MIN);
    assert_eq!(out.claimed, [id(1, 0), id(3, 0)]);
    assert_eq!(out.deleted, [id(4, 0)]);
    // JUSTID: no increment. Claims at 400 (+1) left 1-0 at count 3 (1 read, 2 claims).
    assert_eq!(pel(&s, id(1, 0)), Some((b"consumer2".to_vec(), 600, 3)));
    assert_eq!(
        s.group(G)
            .expect("group")
            .consumer(b"consumer1")
            .expect("c1")
            .pending_count(),
        0
    );
}

#[test]
fn autoclaim_skips_young_entries_within_the_attempts_limit() {
    let mut s = with_group(30);
    read_new(&mut s, b"old", Some(5), 0);
    read_new(&mut s, b"young", None, 1000);
    // COUNT 1 allows 10 attempts; 2-0 is old, so it is claimed at once.
    let out = autoclaim(&mut s, b"x", 500, id(2, 0), 1, true, 1000);
    assert_eq!((out.claimed.clone(), out.next), (vec![id(2, 0)], id(3, 0)));
    // From 6-0 all are young: 10 examined (6..=15), cursor at 16-0.
    let out = autoclaim(&mut s, b"x", 500, id(6, 0), 1, true, 1000);
    assert!(out.claimed.is_empty());
    assert_eq!(out.next, id(16, 0));
    // Negative min-idle is 0: everything qualifies.
    let out = autoclaim(&mut s, b"x", -5, id(29, 0), 5, true, 1000);
    assert_eq!((out.claimed.len(), out.next), (2, StreamId::MIN));
    // A cursor past every pending ID.
    let out = autoclaim(&mut s, b"x", 0, StreamId::MAX, 5, true, 1000);
    assert_eq!((out.claimed.len(), out.next), (0, StreamId::MIN));
}
