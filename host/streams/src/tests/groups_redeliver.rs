//! Reassignment with redelivery (`redeliver.rs`): `reassign` and `mark_redeliver`, marked
//! entries sent first by `>` within COUNT, delivery counts, NOACK, deleted entries, every PEL
//! change clearing marks, the blocking check, and memory accounting.

use super::groups::{G, pel, read_history, read_new, with_group};
use super::*;
use crate::{
    AutoClaimOptions, ClaimOptions, ConsumerGroup, GroupRead, GroupReadOutcome, GroupReadStart,
    StreamError,
};

/// `XREADGROUP GROUP g <consumer> [COUNT n] [NOACK] STREAMS s >` at `now`: the outcome and
/// the IDs sent, in order.
fn read_gt(
    s: &mut Stream,
    consumer: &[u8],
    count: Option<usize>,
    noack: bool,
    now: u64,
) -> (GroupReadOutcome, Vec<StreamId>) {
    let read = GroupRead {
        start: GroupReadStart::New,
        count,
        noack,
    };
    let mut sink = CollectSink::default();
    let out = s
        .read_group(G, consumer, read, now, &mut sink)
        .expect("group exists");
    assert_eq!(out.entries, sink.entries.len());
    check_invariants(s.group(G).expect("group"));
    (out, sink.ids())
}

fn group(s: &mut Stream) -> &mut ConsumerGroup {
    s.group_mut(G).expect("group")
}

/// Consumer `name`'s marked IDs, ascending (empty if it does not exist).
fn marks(s: &Stream, name: &[u8]) -> Vec<StreamId> {
    let g = s.group(G).expect("group");
    g.consumer(name)
        .map(|c| c.redeliver_ids().collect())
        .unwrap_or_default()
}

/// Every consumer's pending set is exactly the PEL entries it owns, and its marks are a
/// subset of that set, agreeing with `is_marked_for_redelivery`.
pub(crate) fn check_invariants(g: &ConsumerGroup) {
    let mut owned = 0;
    for c in g.consumers() {
        assert_eq!(c.redeliver_count(), c.redeliver_ids().count());
        for id in c.pending_ids() {
            let e = g.pending_entry(id).expect("pending set ⊆ PEL");
            assert_eq!(e.consumer, c.name());
            owned += 1;
        }
        for id in c.redeliver_ids() {
            assert!(c.pending_ids().any(|p| p == id), "mark {id} not pending");
            assert!(g.is_marked_for_redelivery(id));
        }
    }
    // NACKed entries are the ones no consumer owns.
    for id in g.nacked_ids() {
        assert_eq!(g.pending_entry(id).map(|e| e.consumer), Some(&b""[..]));
    }
    assert_eq!(owned + g.nacked_count(), g.pending_count());
    let marked = g
        .pending_entries()
        .filter(|e| g.is_marked_for_redelivery(e.id))
        .count();
    assert_eq!(
        marked,
        g.consumers().map(|c| c.redeliver_count()).sum::<usize>()
    );
}

#[test]
fn reassign_moves_the_entry_marks_it_and_restarts_its_idle_time() {
    let mut s = with_group(5);
    read_new(&mut s, b"alice", Some(3), 1_000);
    read_history(&mut s, b"alice", StreamId::MIN, Some(1), 1_500);
    assert_eq!(pel(&s, id(1, 0)), Some((b"alice".to_vec(), 1_500, 2)));

    // To a new consumer: created and seen now, not active; the count stays.
    assert_eq!(group(&mut s).reassign(id(1, 0), b"bob", 5_000), Ok(true));
    assert_eq!(pel(&s, id(1, 0)), Some((b"bob".to_vec(), 5_000, 2)));
    let g = s.group(G).expect("group");
    assert!(g.is_marked_for_redelivery(id(1, 0)));
    assert!(!g.is_marked_for_redelivery(id(2, 0)));
    let bob = g.consumer(b"bob").expect("created");
    assert_eq!((bob.seen_time_ms(), bob.active_time_ms()), (5_000, None));
    assert_eq!((bob.pending_count(), bob.redeliver_count()), (1, 1));
    assert_eq!(g.consumer(b"alice").expect("alice").pending_count(), 2);
    check_invariants(g);

    // To an existing consumer: touched, not created.
    assert_eq!(group(&mut s).reassign(id(2, 0), b"bob", 5_100), Ok(false));
    assert_eq!(marks(&s, b"bob"), [id(1, 0), id(2, 0)]);
    let bob = s.group(G).expect("group").consumer(b"bob").expect("bob");
    assert_eq!(bob.seen_time_ms(), 5_100);

    // To the current owner: only marked, and its idle time restarts.
    assert_eq!(group(&mut s).reassign(id(3, 0), b"alice", 6_000), Ok(false));
    assert_eq!(pel(&s, id(3, 0)), Some((b"alice".to_vec(), 6_000, 1)));
    assert_eq!(marks(&s, b"alice"), [id(3, 0)]);
    // Reassigning a marked entry again moves the mark with it.
    assert_eq!(group(&mut s).reassign(id(3, 0), b"bob", 6_100), Ok(false));
    assert_eq!(marks(&s, b"alice"), []);
    assert_eq!(marks(&s, b"bob"), [id(1, 0), id(2, 0), id(3, 0)]);
    check_invariants(s.group(G).expect("group"));
}

#[test]
fn reassign_of_an_id_not_pending_changes_nothing() {
    let mut s = with_group(5);
    read_new(&mut s, b"alice", Some(1), 1_000);
    // Never delivered, and acknowledged.
    for missing in [id(4, 0), id(9, 9)] {
        let err = group(&mut s).reassign(missing, b"zed", 2_000);
        assert_eq!(err, Err(StreamError::NotPending));
    }
    group(&mut s).ack(&[id(1, 0)]);
    assert_eq!(
        group(&mut s).reassign(id(1, 0), b"zed", 2_000),
        Err(StreamError::NotPending)
    );
    let g = s.group(G).expect("group");
    assert!(g.consumer(b"zed").is_none(), "no consumer created");
    assert_eq!(
        StreamError::NotPending.to_string(),
        "ERR The ID is not pending in the consumer group"
    );
}

#[test]
fn mark_redeliver_marks_for_the_current_owner_only() {
    let mut s = with_group(5);
    read_new(&mut s, b"alice", Some(2), 1_000);
    read_new(&mut s, b"bob", Some(2), 1_100);
    group(&mut s).mark_redeliver(&[id(3, 0), id(1, 0), id(5, 0), id(7, 0), id(1, 0)]);
    assert_eq!(marks(&s, b"alice"), [id(1, 0)]);
    assert_eq!(marks(&s, b"bob"), [id(3, 0)]);
    // Owner, time and count are untouched.
    assert_eq!(pel(&s, id(1, 0)), Some((b"alice".to_vec(), 1_000, 1)));
    assert_eq!(pel(&s, id(3, 0)), Some((b"bob".to_vec(), 1_100, 1)));
    let g = s.group(G).expect("group");
    assert!(!g.is_marked_for_redelivery(id(5, 0)), "never delivered");
    assert!(!g.is_marked_for_redelivery(id(7, 0)), "not in the stream");
    check_invariants(g);
}

#[test]
fn gt_sends_marked_entries_first_then_new_ones_within_count() {
    let mut s = with_group(8);
    read_new(&mut s, b"alice", Some(4), 1_000);
    for i in [3, 1, 4] {
        group(&mut s)
            .reassign(id(i, 0), b"bob", 2_000)
            .expect("pending");
    }

    // COUNT 2: two marked entries, ascending, and no new one.
    let (out, sent) = read_gt(&mut s, b"bob", Some(2), false, 3_000);
    assert_eq!(ms(&sent), [1, 3]);
    assert_eq!(out.redelivered, [id(1, 0), id(3, 0)]);
    assert!(out.skipped_deleted.is_empty());
    assert_eq!(s.group(G).expect("group").last_delivered_id(), id(4, 0));
    assert_eq!(marks(&s, b"bob"), [id(4, 0)]);
    assert_eq!(pel(&s, id(1, 0)), Some((b"bob".to_vec(), 3_000, 2)));
    assert_eq!(pel(&s, id(3, 0)), Some((b"bob".to_vec(), 3_000, 2)));
    assert_eq!(pel(&s, id(4, 0)), Some((b"bob".to_vec(), 2_000, 1)));

    // COUNT 3: the last marked one, then two new ones.
    let (out, sent) = read_gt(&mut s, b"bob", Some(3), false, 4_000);
    assert_eq!(ms(&sent), [4, 5, 6]);
    assert_eq!((out.redelivered.len(), out.entries), (1, 3));
    assert_eq!(pel(&s, id(4, 0)), Some((b"bob".to_vec(), 4_000, 2)));
    assert_eq!(pel(&s, id(5, 0)), Some((b"bob".to_vec(), 4_000, 1)));
    let g = s.group(G).expect("group");
    assert_eq!(g.last_delivered_id(), id(6, 0));
    let bob = g.consumer(b"bob").expect("bob");
    assert_eq!(
        (bob.redeliver_count(), bob.active_time_ms()),
        (0, Some(4_000))
    );

    // No COUNT: marked then every new entry.
    group(&mut s)
        .reassign(id(2, 0), b"bob", 4_500)
        .expect("pending");
    let (out, sent) = read_gt(&mut s, b"bob", None, false, 5_000);
    assert_eq!(ms(&sent), [2, 7, 8]);
    assert_eq!(out.redelivered, [id(2, 0)]);
    // Nothing left: an empty read.
    let (out, sent) = read_gt(&mut s, b"bob", None, false, 5_100);
    assert!(sent.is_empty());
    assert_eq!(out, GroupReadOutcome::default());
}

#[test]
fn each_redelivery_counts_once() {
    let mut s = with_group(2);
    read_new(&mut s, b"alice", Some(1), 1_000);
    for (round, to) in [&b"bob"[..], b"carl", b"bob"].into_iter().enumerate() {
        let now = 2_000 + round as u64 * 1_000;
        group(&mut s).reassign(id(1, 0), to, now).expect("pending");
        let (out, _) = read_gt(&mut s, to, Some(1), false, now + 10);
        assert_eq!(out.redelivered, [id(1, 0)]);
        assert_eq!(
            pel(&s, id(1, 0)),
            Some((to.to_vec(), now + 10, round as u64 + 2))
        );
    }
    // Another consumer's `>` read does not see bob's marks.
    group(&mut s)
        .reassign(id(1, 0), b"bob", 9_000)
        .expect("pending");
    let (out, sent) = read_gt(&mut s, b"alice", None, false, 9_100);
    assert_eq!((ms(&sent), out.redelivered), (vec![2], vec![]));
    assert_eq!(marks(&s, b"bob"), [id(1, 0)]);
}

#[test]
fn noack_still_redelivers_marked_entries() {
    let mut s = with_group(4);
    read_new(&mut s, b"alice", Some(2), 1_000);
    group(&mut s)
        .reassign(id(2, 0), b"bob", 2_000)
        .expect("pending");
    let (out, sent) = read_gt(&mut s, b"bob", None, true, 3_000);
    assert_eq!(ms(&sent), [2, 3, 4]);
    assert_eq!(out.redelivered, [id(2, 0)]);
    // The marked one was pending already: counted and timed; the new ones get no PEL entry.
    assert_eq!(pel(&s, id(2, 0)), Some((b"bob".to_vec(), 3_000, 2)));
    assert_eq!(pel(&s, id(3, 0)), None);
    let bob = s.group(G).expect("group").consumer(b"bob").expect("bob");
    assert_eq!((bob.pending_count(), bob.redeliver_count()), (1, 0));
    assert_eq!(bob.active_time_ms(), Some(3_000));
}

#[test]
fn marked_entries_whose_data_was_deleted_are_unmarked_and_skipped() {
    let mut s = with_group(5);
    read_new(&mut s, b"alice", Some(3), 1_000);
    for i in 1..=3 {
        group(&mut s)
            .reassign(id(i, 0), b"bob", 2_000)
            .expect("pending");
    }
    s.delete(&[id(1, 0), id(2, 0)]);
    // Deleted ones do not use up COUNT.
    let (out, sent) = read_gt(&mut s, b"bob", Some(2), false, 3_000);
    assert_eq!(ms(&sent), [3, 4]);
    assert_eq!(out.redelivered, [id(3, 0)]);
    assert_eq!(out.skipped_deleted, [id(1, 0), id(2, 0)]);
    // Still pending as they were, unmarked.
    assert_eq!(pel(&s, id(1, 0)), Some((b"bob".to_vec(), 2_000, 1)));
    assert_eq!(marks(&s, b"bob"), []);

    // Only deleted marks: nothing is sent and the consumer does not become active.
    read_new(&mut s, b"carl", None, 3_500);
    group(&mut s)
        .reassign(id(1, 0), b"dora", 4_000)
        .expect("pending");
    let (out, sent) = read_gt(&mut s, b"dora", None, false, 4_100);
    assert!(sent.is_empty());
    assert_eq!((out.entries, out.skipped_deleted), (0, vec![id(1, 0)]));
    let dora = s.group(G).expect("group").consumer(b"dora").expect("dora");
    assert_eq!(dora.active_time_ms(), None);
}

#[test]
fn history_reads_deliver_marked_entries_too() {
    let mut s = with_group(3);
    read_new(&mut s, b"alice", Some(3), 1_000);
    group(&mut s).mark_redeliver(&[id(1, 0), id(2, 0), id(3, 0)]);
    s.delete(&[id(3, 0)]);
    // 1-0 and 2-0 are sent (deliveries: unmarked); 3-0 is reported deleted, keeps its mark.
    let h = read_history(&mut s, b"alice", StreamId::MIN, None, 2_000);
    assert_eq!(ms(&h.ids()), [1, 2, 3]);
    assert_eq!(marks(&s, b"alice"), [id(3, 0)]);
    assert_eq!(pel(&s, id(1, 0)), Some((b"alice".to_vec(), 2_000, 2)));
    check_invariants(s.group(G).expect("group"));
}

#[test]
fn ack_claim_and_consumer_deletion_clear_marks() {
    let mut s = with_group(8);
    read_new(&mut s, b"alice", None, 1_000);
    group(&mut s).mark_redeliver(&[id(1, 0), id(2, 0), id(3, 0), id(4, 0), id(5, 0)]);

    // XACK.
    assert_eq!(group(&mut s).ack(&[id(1, 0)]), 1);
    assert!(
        !s.group(G)
            .expect("group")
            .is_marked_for_redelivery(id(1, 0))
    );

    // XCLAIM by the same owner, and JUSTID by another: both are deliveries.
    let mut sink = CollectSink::default();
    let opts = ClaimOptions::default();
    s.claim(G, b"alice", &[id(2, 0)], &opts, 2_000, &mut sink)
        .expect("group");
    assert_eq!(pel(&s, id(2, 0)), Some((b"alice".to_vec(), 2_000, 2)));
    let just_id = ClaimOptions {
        just_id: true,
        ..ClaimOptions::default()
    };
    s.claim(G, b"bob", &[id(3, 0)], &just_id, 2_000, &mut sink)
        .expect("group");
    assert_eq!(marks(&s, b"alice"), [id(4, 0), id(5, 0)]);
    assert_eq!(marks(&s, b"bob"), []);
    // XCLAIM skipping a young entry leaves its mark.
    let young = ClaimOptions {
        min_idle_ms: 10_000,
        ..ClaimOptions::default()
    };
    s.claim(G, b"bob", &[id(4, 0)], &young, 2_000, &mut sink)
        .expect("group");
    assert_eq!(marks(&s, b"alice"), [id(4, 0), id(5, 0)]);

    // XAUTOCLAIM.
    let auto = AutoClaimOptions {
        min_idle_ms: 0,
        start: id(4, 0),
        count: 1,
        just_id: false,
    };
    s.autoclaim(G, b"bob", &auto, 2_100, &mut sink)
        .expect("group");
    assert_eq!(pel(&s, id(4, 0)), Some((b"bob".to_vec(), 2_100, 2)));
    assert_eq!(marks(&s, b"alice"), [id(5, 0)]);

    // A claim finding the data deleted drops the entry and its mark.
    group(&mut s).mark_redeliver(&[id(6, 0)]);
    s.delete(&[id(6, 0)]);
    s.claim(G, b"bob", &[id(6, 0)], &opts, 2_200, &mut sink)
        .expect("group");
    assert_eq!(pel(&s, id(6, 0)), None);
    check_invariants(s.group(G).expect("group"));

    // XGROUP DELCONSUMER takes marked entries with the consumer.
    group(&mut s)
        .reassign(id(7, 0), b"carl", 3_000)
        .expect("pending");
    assert_eq!(group(&mut s).delete_consumer(b"carl"), Some(1));
    let g = s.group(G).expect("group");
    assert!(!g.is_marked_for_redelivery(id(7, 0)));
    assert_eq!(pel(&s, id(7, 0)), None);
    check_invariants(g);
    // A consumer recreated under the name starts without marks.
    let (out, _) = read_gt(&mut s, b"carl", None, false, 3_100);
    assert!(out.redelivered.is_empty());

    // XGROUP DESTROY and CREATE: a new group with no marks.
    assert!(s.destroy_group(G));
    s.create_group(G, StreamId::MIN, None).expect("create");
    read_new(&mut s, b"alice", Some(1), 4_000);
    assert_eq!(marks(&s, b"alice"), []);
}

#[test]
fn a_fresh_delivery_after_setid_clears_the_mark() {
    let mut s = with_group(3);
    read_new(&mut s, b"alice", None, 1_000);
    group(&mut s)
        .reassign(id(2, 0), b"bob", 2_000)
        .expect("pending");
    group(&mut s).mark_redeliver(&[id(3, 0)]);
    // XGROUP SETID back: `>` delivers 1..3 anew to carl, taking them over.
    group(&mut s).set_id(StreamId::MIN, None);
    let (out, sent) = read_gt(&mut s, b"carl", None, false, 3_000);
    assert_eq!((ms(&sent), out.redelivered), (vec![1, 2, 3], vec![]));
    assert_eq!(marks(&s, b"alice"), []);
    assert_eq!(marks(&s, b"bob"), []);
    assert_eq!(pel(&s, id(2, 0)), Some((b"carl".to_vec(), 3_000, 1)));
}

#[test]
fn blocking_check_sees_marks_of_that_consumer_only() {
    let mut s = with_group(3);
    read_new(&mut s, b"alice", None, 1_000);
    let has = |s: &Stream, c: &[u8]| s.has_undelivered_for(s.group(G).expect("group"), c);
    assert!(!s.has_undelivered(s.group(G).expect("group")));
    assert!(!has(&s, b"alice"));
    assert!(!has(&s, b"nobody"));

    group(&mut s)
        .reassign(id(2, 0), b"bob", 2_000)
        .expect("pending");
    assert!(has(&s, b"bob"));
    assert!(!has(&s, b"alice"));
    assert!(!s.has_undelivered(s.group(G).expect("group")), "unchanged");

    // A mark whose data is gone does not wake the consumer.
    s.delete(&[id(2, 0)]);
    assert!(!has(&s, b"bob"));
    group(&mut s).mark_redeliver(&[id(3, 0)]);
    assert!(has(&s, b"alice"));
    read_gt(&mut s, b"alice", None, false, 3_000);
    assert!(!has(&s, b"alice"));

    // New entries wake everyone, as before.
    s.add(AddId::Auto, &[b"f", b"v"], 4_000, limits(10))
        .expect("add");
    assert!(has(&s, b"alice") && has(&s, b"nobody"));
}

#[test]
fn memory_usage_counts_marks() {
    let mut s = with_group(100);
    read_new(&mut s, b"alice", None, 1_000);
    let before = s.memory_usage();
    let all: Vec<StreamId> = (1..=100).map(|i| id(i, 0)).collect();
    group(&mut s).mark_redeliver(&all);
    let grown = s.memory_usage() - before;
    assert!(
        grown >= 100 * std::mem::size_of::<StreamId>(),
        "{grown} bytes for 100 marks"
    );
    read_gt(&mut s, b"alice", None, false, 2_000);
    assert_eq!(s.memory_usage(), before);
}
