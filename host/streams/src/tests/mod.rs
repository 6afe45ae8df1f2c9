//! Behaviour tests for [`Stream`](crate::Stream), split by command family, with shared helpers.

mod add;
mod memory;
mod range;
mod remove;

use crate::{AddId, CollectSink, NodeLimits, Stream, StreamId};

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
