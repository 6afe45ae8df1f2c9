//! The packed layout's footprint: `XADD k * a 1 b 2`-style entries must stay far below Redis's
//! ~27 bytes each.

use super::*;
use crate::CountSink;

#[test]
fn a_million_small_entries_fit_in_under_24_bytes_each() {
    let mut s = Stream::new();
    let l = NodeLimits::default();
    let values: [&[u8]; 10] = [b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"];
    for i in 0..1_000_000u64 {
        // A clock ticking about every 8 entries.
        let v = values[(i % 10) as usize];
        s.add(
            AddId::Auto,
            &[b"a", v, b"b", v],
            1_700_000_000_000 + i / 8,
            l,
        )
        .expect("add");
    }
    assert_eq!(s.len(), 1_000_000);
    assert_eq!(s.node_count(), 10_000);
    let per_entry = s.memory_usage() as f64 / s.len() as f64;
    eprintln!("memory_usage per entry: {per_entry:.2} bytes");
    assert!(per_entry < 24.0, "{per_entry} bytes per entry");
    let mut count = CountSink::default();
    assert_eq!(
        s.range(StreamId::MIN, StreamId::MAX, None, true, &mut count),
        1_000_000
    );
}
