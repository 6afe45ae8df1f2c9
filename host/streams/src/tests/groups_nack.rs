//! XNACK (`nack.rs`) and the claim phase of `XREADGROUP … CLAIM` (`claim_idle.rs`): modes and
//! counts, unowned entries, claim order (NACKed, then longest idle, then new) within COUNT,
//! delivery data sent per claimed entry, NOACK, policy-reassigned entries left alone, XCLAIM
//! and XAUTOCLAIM taking NACKed entries first, caps, wake-up times, snapshots.

use super::groups::{G, pel, read_new, with_group};
use super::groups_redeliver::check_invariants;
use super::persist::round_trip;
use super::*;
use crate::{
    AutoClaimOptions, ClaimOptions, EntrySink, FATAL_DELIVERY_COUNT, GroupRead, GroupReadStart,
    NackMode, NackOptions,
};

/// Collects IDs and the delivery data sent with them; full after `cap` entries.
#[derive(Default)]
struct MetaSink {
    ids: Vec<StreamId>,
    meta: Vec<(StreamId, u64, u64)>,
    cap: Option<usize>,
}

impl EntrySink for MetaSink {
    fn begin_entry(&mut self, id: StreamId, _field_count: usize) {
        self.ids.push(id);
    }
    fn field(&mut self, _bytes: &[u8]) {}
    fn delivery_meta(&mut self, idle_ms: u64, previous_count: u64) {
        let id = *self.ids.last().expect("after an entry");
        self.meta.push((id, idle_ms, previous_count));
    }
    fn full(&self) -> bool {
        self.cap.is_some_and(|cap| self.ids.len() >= cap)
    }
}

/// `XREADGROUP GROUP g <consumer> [COUNT n] [NOACK] CLAIM <min_idle> STREAMS s >` at `now`.
fn read_claim(
    s: &mut Stream,
    consumer: &[u8],
    count: Option<usize>,
    noack: bool,
    min_idle: u64,
    now: u64,
) -> MetaSink {
    let read = GroupRead {
        start: GroupReadStart::New,
        count,
        noack,
    };
    let mut sink = MetaSink::default();
    let out = s
        .read_group_claiming(G, consumer, read, Some(min_idle), now, &mut sink)
        .expect("group exists");
    assert_eq!(out.entries, sink.ids.len());
    check_invariants(s.group(G).expect("group"));
    sink
}

fn nack(s: &mut Stream, ids: &[StreamId], mode: NackMode, opts: NackOptions, now: u64) -> u64 {
    let n = s.nack(G, ids, mode, opts, now).expect("group exists");
    check_invariants(s.group(G).expect("group"));
    n
}

#[test]
fn modes_adjust_counts_and_release_the_owner() {
    let mut s = with_group(4);
    read_new(&mut s, b"a", None, 100);
    read_new(&mut s, b"b", None, 200); // nothing left for b
    // Deliver 1-0 twice more to a (count 3), via history reads.
    for now in [110, 120] {
        super::groups::read_history(&mut s, b"a", id(0, 0), Some(1), now);
    }
    let none = NackOptions::default();
    assert_eq!(nack(&mut s, &[id(1, 0)], NackMode::Silent, none, 300), 1);
    assert_eq!(pel(&s, id(1, 0)), Some((b"".to_vec(), 120, 2)));
    assert_eq!(nack(&mut s, &[id(2, 0)], NackMode::Fail, none, 300), 1);
    assert_eq!(pel(&s, id(2, 0)), Some((b"".to_vec(), 100, 1)));
    assert_eq!(nack(&mut s, &[id(3, 0)], NackMode::Fatal, none, 300), 1);
    assert_eq!(pel(&s, id(3, 0)).map(|p| p.2), Some(FATAL_DELIVERY_COUNT));
    let retry = NackOptions {
        retry_count: Some(7),
        force: false,
    };
    assert_eq!(nack(&mut s, &[id(4, 0)], NackMode::Fatal, retry, 300), 1);
    assert_eq!(pel(&s, id(4, 0)).map(|p| p.2), Some(7));
    // SILENT never goes below 0; an ID not pending is skipped; a NACKed one counts again.
    assert_eq!(nack(&mut s, &[id(1, 0)], NackMode::Silent, none, 300), 1);
    assert_eq!(nack(&mut s, &[id(1, 0)], NackMode::Silent, none, 300), 1);
    assert_eq!(nack(&mut s, &[id(1, 0)], NackMode::Silent, none, 300), 1);
    assert_eq!(pel(&s, id(1, 0)).map(|p| p.2), Some(0));
    assert_eq!(nack(&mut s, &[id(9, 0)], NackMode::Fail, none, 300), 0);
    let g = s.group(G).expect("group");
    assert_eq!(g.nacked_count(), 4);
    assert_eq!(g.consumer(b"a").map(|c| c.pending_count()), Some(0));
    assert_eq!(g.pending_count(), 4);
    assert!(g.pending_summary().consumers.is_empty());
}

#[test]
fn force_creates_nacked_entries_for_live_ids_only() {
    let mut s = with_group(3);
    s.delete(&[id(2, 0)]);
    let force = NackOptions {
        retry_count: None,
        force: true,
    };
    let n = nack(
        &mut s,
        &[id(1, 0), id(2, 0), id(9, 0)],
        NackMode::Fail,
        force,
        50,
    );
    assert_eq!(n, 1);
    assert_eq!(pel(&s, id(1, 0)), Some((b"".to_vec(), 50, 0)));
    assert_eq!(pel(&s, id(2, 0)), None);
    let g = s.group(G).expect("group");
    assert_eq!(g.nacked_ids().collect::<Vec<_>>(), [id(1, 0)]);
}

#[test]
fn claim_takes_nacked_then_longest_idle_then_new_within_count() {
    let mut s = with_group(6);
    read_new(&mut s, b"a", Some(1), 100); // 1-0 at 100
    read_new(&mut s, b"a", Some(1), 50); // 2-0 at 50: longer idle
    read_new(&mut s, b"a", Some(1), 900); // 3-0 at 900: not idle enough
    read_new(&mut s, b"a", Some(1), 950); // 4-0, NACKed below
    nack(
        &mut s,
        &[id(4, 0)],
        NackMode::Fail,
        NackOptions::default(),
        960,
    );
    let got = read_claim(&mut s, b"b", Some(4), false, 500, 1_000);
    assert_eq!(got.ids, [id(4, 0), id(2, 0), id(1, 0), id(5, 0)]);
    assert_eq!(
        got.meta,
        [(id(4, 0), 50, 1), (id(2, 0), 950, 1), (id(1, 0), 900, 1)]
    );
    for claimed in [id(4, 0), id(2, 0), id(1, 0)] {
        assert_eq!(pel(&s, claimed), Some((b"b".to_vec(), 1_000, 2)));
    }
    assert_eq!(pel(&s, id(3, 0)), Some((b"a".to_vec(), 900, 1)));
    assert_eq!(s.group(G).expect("group").nacked_count(), 0);
    // Nothing idle now: only the last new entry.
    assert_eq!(
        read_claim(&mut s, b"b", None, false, 500, 1_000).ids,
        [id(6, 0)]
    );
}

#[test]
fn noack_spares_claimed_entries_and_deleted_ones_are_dropped() {
    let mut s = with_group(4);
    read_new(&mut s, b"a", Some(2), 0);
    s.delete(&[id(1, 0)]);
    let got = read_claim(&mut s, b"b", None, true, 10, 100);
    assert_eq!(got.ids, [id(2, 0), id(3, 0), id(4, 0)]);
    assert_eq!(pel(&s, id(1, 0)), None, "deleted entry dropped");
    assert_eq!(
        pel(&s, id(2, 0)),
        Some((b"b".to_vec(), 100, 2)),
        "NOACK: still pending"
    );
    assert_eq!(pel(&s, id(3, 0)), None, "NOACK applies to new entries");
}

#[test]
fn policy_reassigned_entries_are_not_claimed() {
    let mut s = with_group(2);
    read_new(&mut s, b"a", None, 0);
    s.group_mut(G)
        .expect("group")
        .reassign(id(1, 0), b"c", 0)
        .expect("pending");
    let got = read_claim(&mut s, b"b", None, false, 0, 1_000);
    assert_eq!(got.ids, [id(2, 0)]);
    assert_eq!(pel(&s, id(1, 0)).map(|p| p.0), Some(b"c".to_vec()));
    // Its new owner gets it first, as ever, with its delivery data in a CLAIM read, and it
    // is not claimed a second time by the same read.
    let got = read_claim(&mut s, b"c", None, false, 0, 1_500);
    assert_eq!(got.ids, [id(1, 0), id(2, 0)]);
    assert_eq!(got.meta, [(id(1, 0), 1_500, 1), (id(2, 0), 500, 2)]);
}

#[test]
fn xclaim_and_xautoclaim_take_nacked_entries_first() {
    let mut s = with_group(4);
    read_new(&mut s, b"a", None, 1_000);
    nack(
        &mut s,
        &[id(3, 0)],
        NackMode::Fail,
        NackOptions::default(),
        1_000,
    );
    let opts = ClaimOptions {
        min_idle_ms: 60_000,
        ..ClaimOptions::default()
    };
    let mut sink = CollectSink::default();
    let out = s
        .claim(G, b"b", &[id(2, 0), id(3, 0)], &opts, 1_001, &mut sink)
        .expect("group");
    assert_eq!(out.claimed, [id(3, 0)], "only the NACKed one is claimable");
    nack(
        &mut s,
        &[id(4, 0)],
        NackMode::Fail,
        NackOptions::default(),
        1_001,
    );
    let auto = AutoClaimOptions {
        min_idle_ms: 0,
        start: StreamId::MIN,
        count: 2,
        just_id: true,
    };
    let out = s
        .autoclaim(G, b"c", &auto, 1_002, &mut CollectSink::default())
        .expect("group");
    assert_eq!(out.claimed, [id(4, 0), id(1, 0)]);
    assert_eq!(out.next, id(2, 0));
    check_invariants(s.group(G).expect("group"));
}

#[test]
fn caps_stop_every_phase() {
    let mut s = with_group(5);
    read_new(&mut s, b"a", Some(2), 0);
    let read = GroupRead {
        start: GroupReadStart::New,
        count: None,
        noack: false,
    };
    let mut sink = MetaSink {
        cap: Some(3),
        ..MetaSink::default()
    };
    s.read_group_claiming(G, b"b", read, Some(0), 10, &mut sink)
        .expect("group");
    assert_eq!(sink.ids, [id(1, 0), id(2, 0), id(3, 0)]);
    assert_eq!(s.group(G).expect("group").last_delivered_id(), id(3, 0));
    let mut sink = MetaSink {
        cap: Some(0),
        ..MetaSink::default()
    };
    assert_eq!(
        s.range(StreamId::MIN, StreamId::MAX, None, true, &mut sink),
        0
    );
}

#[test]
fn wake_up_times_and_claimable_checks() {
    let mut s = with_group(3);
    read_new(&mut s, b"a", Some(1), 100);
    read_new(&mut s, b"a", Some(1), 40);
    let g = s.group(G).expect("group").clone();
    assert_eq!(g.next_claimable_at(500), Some(540));
    assert!(!s.has_claimable(&g, 500, 539));
    assert!(s.has_claimable(&g, 500, 540));
    nack(
        &mut s,
        &[id(1, 0)],
        NackMode::Silent,
        NackOptions::default(),
        200,
    );
    let g = s.group(G).expect("group").clone();
    assert!(
        s.has_claimable(&g, 500, 200),
        "a NACKed entry is claimable at once"
    );
    assert_eq!(g.next_claimable_at(500), Some(540));
}

#[test]
fn snapshots_keep_nacked_entries() {
    let mut s = with_group(4);
    read_new(&mut s, b"a", None, 10);
    nack(
        &mut s,
        &[id(2, 0), id(4, 0)],
        NackMode::Fatal,
        NackOptions::default(),
        20,
    );
    let back = round_trip(&s);
    let g = back.group(G).expect("group");
    assert_eq!(g.nacked_ids().collect::<Vec<_>>(), [id(2, 0), id(4, 0)]);
    assert_eq!(g.consumer(b"a").map(|c| c.pending_count()), Some(2));
    check_invariants(g);
    // Exported state carries them too.
    let state = s.export();
    assert_eq!(state.groups[0].nacked, [id(2, 0), id(4, 0)]);
    let rebuilt = Stream::from_state(state, limits(10)).expect("valid");
    assert_eq!(
        rebuilt
            .group(G)
            .expect("group")
            .nacked_ids()
            .collect::<Vec<_>>(),
        [id(2, 0), id(4, 0)]
    );
}

/// As Redis 8.8: NACKed entries are claimed in NACK order (a NACK again moves one to the
/// back), then idle ones, then new ones; a FATAL count stays pinned when the entry is
/// delivered again, by a CLAIM read or by XCLAIM.
#[test]
fn nacked_entries_go_in_nack_order_and_fatal_counts_stay_pinned() {
    let mut s = with_group(6);
    read_new(&mut s, b"a", Some(4), 0);
    let none = NackOptions::default();
    for ids in [[id(3, 0)], [id(1, 0)], [id(4, 0)], [id(3, 0)]] {
        nack(&mut s, &ids, NackMode::Fail, none, 10);
    }
    nack(&mut s, &[id(2, 0)], NackMode::Fatal, none, 10);
    let g = s.group(G).expect("group");
    assert_eq!(
        g.nacked_ids().collect::<Vec<_>>(),
        [id(1, 0), id(4, 0), id(3, 0), id(2, 0)]
    );
    let got = read_claim(&mut s, b"b", Some(5), false, 60_000, 20);
    assert_eq!(got.ids, [id(1, 0), id(4, 0), id(3, 0), id(2, 0), id(5, 0)]);
    assert_eq!(got.meta[3], (id(2, 0), 20, FATAL_DELIVERY_COUNT));
    assert_eq!(pel(&s, id(2, 0)).map(|p| p.2), Some(FATAL_DELIVERY_COUNT));
    let opts = ClaimOptions::default();
    let mut sink = CollectSink::default();
    s.claim(G, b"c", &[id(2, 0)], &opts, 30, &mut sink)
        .expect("group");
    assert_eq!(
        pel(&s, id(2, 0)),
        Some((b"c".to_vec(), 30, FATAL_DELIVERY_COUNT))
    );
    // A snapshot keeps which entries are NACKed, in ID order.
    nack(&mut s, &[id(4, 0), id(1, 0)], NackMode::Fail, none, 40);
    let back = round_trip(&s);
    assert_eq!(
        back.group(G)
            .expect("group")
            .nacked_ids()
            .collect::<Vec<_>>(),
        [id(1, 0), id(4, 0)]
    );
}
