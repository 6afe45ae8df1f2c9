//! XDEL and XTRIM: flags, node removal, max_deleted_entry_id, exact vs approximate, LIMIT.

use super::*;
use crate::{TrimSpec, TrimStrategy};

fn maxlen(n: u64, approx: bool, limit: Option<u64>) -> TrimSpec {
    TrimSpec {
        strategy: TrimStrategy::MaxLen(n),
        approx,
        limit,
    }
}

fn minid(min: StreamId, approx: bool, limit: Option<u64>) -> TrimSpec {
    TrimSpec {
        strategy: TrimStrategy::MinId(min),
        approx,
        limit,
    }
}

#[test]
fn delete_flags_then_drops_empty_nodes() {
    let mut s = numbered(30, 10);
    assert_eq!(s.delete(&[id(5, 0), id(5, 0), id(99, 0), id(0, 1)]), 1);
    assert_eq!(s.len(), 29);
    assert_eq!(s.max_deleted_entry_id(), id(5, 0));
    let node_two: Vec<StreamId> = (11..=20).map(|i| id(i, 0)).collect();
    assert_eq!(s.delete(&node_two), 10);
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.max_deleted_entry_id(), id(20, 0));
    // A smaller deleted ID does not lower it.
    assert_eq!(s.delete(&[id(3, 0)]), 1);
    assert_eq!(s.max_deleted_entry_id(), id(20, 0));
    assert_eq!(s.len(), 18);
    assert_eq!(s.entries_added(), 30);
}

#[test]
fn deleting_the_tail_node_starts_a_new_one() {
    let mut s = numbered(25, 10);
    let tail: Vec<StreamId> = (21..=25).map(|i| id(i, 0)).collect();
    s.delete(&tail);
    assert_eq!(s.node_count(), 2);
    s.add(AddId::Auto, &[b"f", b"x"], 0, limits(10))
        .expect("add");
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.last_id(), id(25, 1));
    assert_eq!(
        ms(&ids(&s, id(20, 0), StreamId::MAX, None, false)),
        [20, 25]
    );
}

#[test]
fn deleted_entries_still_count_toward_node_size() {
    let mut s = numbered(5, 10);
    s.delete(&[id(2, 0), id(3, 0)]);
    for i in 6..=10 {
        s.add(AddId::Explicit(id(i, 0)), &[b"f", b"v"], 0, limits(10))
            .expect("add");
    }
    assert_eq!(s.node_count(), 1);
    s.add(AddId::Auto, &[b"f", b"v"], 0, limits(10))
        .expect("add");
    assert_eq!(s.node_count(), 2);
}

#[test]
fn approx_maxlen_removes_whole_nodes_only() {
    // Redis: 1000 entries in nodes of 100, "MAXLEN ~ 550" removes 400.
    let l = limits(100);
    let mut s = numbered(1000, 100);
    assert_eq!(s.trim(maxlen(550, true, None), l), 400);
    assert_eq!(s.len(), 600);
    assert_eq!(s.first_id(), Some(id(401, 0)));
    assert_eq!(s.trim(maxlen(550, true, None), l), 0);
    assert_eq!(s.trim(maxlen(600, true, None), l), 0);
}

#[test]
fn exact_maxlen_flags_inside_a_node() {
    let l = limits(100);
    let mut s = numbered(1000, 100);
    assert_eq!(s.trim(maxlen(550, false, None), l), 450);
    assert_eq!(s.len(), 550);
    assert_eq!(s.node_count(), 6);
    assert_eq!(s.first_id(), Some(id(451, 0)));
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, None, true).len(), 550);
    assert_eq!(s.trim(maxlen(0, false, None), l), 550);
    assert!(s.is_empty());
    assert_eq!(s.node_count(), 0);
    assert_eq!(s.last_id(), id(1000, 0));
    assert_eq!(
        s.max_deleted_entry_id(),
        StreamId::MIN,
        "trimming does not move it"
    );
}

#[test]
fn approx_limit_caps_whole_nodes() {
    let l = limits(100);
    let mut s = numbered(1000, 100);
    // LIMIT 250: two nodes fit, the third would exceed it.
    assert_eq!(s.trim(maxlen(0, true, Some(250)), l), 200);
    // LIMIT 0 = unlimited.
    assert_eq!(s.trim(maxlen(0, true, Some(0)), l), 800);
    assert!(s.is_empty());
    // Redis's test: LIMIT 1 with one 3-entry node removes nothing.
    let mut s = numbered(3, 100);
    assert_eq!(s.trim(maxlen(0, true, Some(1)), l), 0);
}

#[test]
fn approx_default_limit_is_100_nodes() {
    let l = limits(10);
    let mut s = numbered(3000, 10);
    assert_eq!(s.trim(maxlen(0, true, None), l), 1000);
    assert_eq!(s.len(), 2000);
    let spec = maxlen(0, true, None);
    assert_eq!(spec.effective_limit(limits(0)), 10_000);
    assert_eq!(spec.effective_limit(limits(1 << 20)), 1_000_000);
    assert_eq!(maxlen(0, false, Some(5)).effective_limit(l), 0);
}

#[test]
fn minid_exact_and_approx() {
    let l = limits(10);
    let mut s = numbered(50, 10);
    assert_eq!(s.trim(minid(id(25, 0), true, None), l), 20);
    assert_eq!(s.first_id(), Some(id(21, 0)));
    assert_eq!(s.trim(minid(id(25, 0), false, None), l), 4);
    assert_eq!(s.first_id(), Some(id(25, 0)));
    assert_eq!(s.trim(minid(id(25, 0), false, None), l), 0);
    assert_eq!(s.trim(minid(StreamId::MAX, false, None), l), 26);
    assert!(s.is_empty());
}

#[test]
fn exact_trim_skips_already_deleted_entries() {
    let l = limits(10);
    let mut s = numbered(20, 10);
    s.delete(&[id(2, 0), id(4, 0)]);
    assert_eq!(s.trim(maxlen(12, false, None), l), 6);
    assert_eq!(s.first_id(), Some(id(9, 0)));
    assert_eq!(s.len(), 12);
}

#[test]
fn minid_drops_node_left_without_live_entries() {
    let l = limits(10);
    let mut s = numbered(10, 10);
    s.delete(&[id(10, 0)]);
    // Live 1..=9 are all below 10-0 but the node's last (deleted) ID is not.
    assert_eq!(s.trim(minid(id(10, 0), false, None), l), 9);
    assert_eq!(s.node_count(), 0);
    assert!(s.is_empty());
}
