//! Behaviour tests for [`Stream`](crate::Stream), split by command family, with shared helpers.

mod add;
mod groups;
mod groups_claim;
mod groups_lag;
mod groups_nack;
mod groups_pending;
mod groups_redeliver;
mod groups_scale;
mod memory;
mod persist;
mod persist_corrupt;
mod persist_fixture;
mod persist_fixture_v2;
mod persist_fixture_v3;
mod range;
mod refs;
mod remove;
mod state;
mod withhold;

use std::cell::Cell;

use crate::{AddId, CollectSink, NodeLimits, Stream, StreamId};

thread_local! {
    /// PEL entries visited by `ConsumerGroup::pel_from` on this thread (tests run one per
    /// thread, so each sees only its own steps).
    static PEL_STEPS: Cell<u64> = const { Cell::new(0) };
}

/// Called by every PEL walk in test builds.
pub(crate) fn pel_step() {
    PEL_STEPS.with(|c| c.set(c.get() + 1));
}

/// PEL steps taken by `f`.
pub(crate) fn pel_steps<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = PEL_STEPS.with(Cell::get);
    let r = f();
    (r, PEL_STEPS.with(Cell::get) - before)
}

pub(crate) fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

pub(crate) fn limits(max_entries: usize) -> NodeLimits {
    NodeLimits {
        max_entries,
        max_bytes: 0,
    }
}

/// A stream with entries `1-0 ..= n-0`, each `f <i>`, in nodes of `per_node` entries.
pub(crate) fn numbered(n: u64, per_node: usize) -> Stream {
    let mut s = Stream::new();
    for i in 1..=n {
        let v = i.to_string();
        s.add(
            AddId::Explicit(id(i, 0)),
            &[b"f", v.as_bytes()],
            0,
            limits(per_node),
        )
        .expect("add");
    }
    s
}

/// IDs of `start..=end`, forward or reverse, at most `count`.
pub(crate) fn ids(
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: Option<usize>,
    rev: bool,
) -> Vec<StreamId> {
    let mut sink = CollectSink::default();
    let n = s.range(start, end, count, rev, &mut sink);
    assert_eq!(n, sink.entries.len());
    sink.ids()
}

/// `ms` values of the IDs in `v` (tests use seq 0 throughout).
pub(crate) fn ms(v: &[StreamId]) -> Vec<u64> {
    v.iter().map(|i| i.ms).collect()
}
