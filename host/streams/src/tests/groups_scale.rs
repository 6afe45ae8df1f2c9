//! A group with a million pending entries: every operation stays correct, and the ones that
//! must not depend on the PEL size provably do not (PEL steps are counted in test builds).

use super::groups::{G, read_new};
use super::*;
use crate::{AutoClaimOptions, ClaimOptions, CountSink, PendingQuery};

const N: u64 = 1_000_000;

#[test]
fn million_entry_pel_stays_correct_and_cheap() {
    let mut s = numbered(N, 100);
    s.create_group(G, StreamId::MIN, None).expect("create");
    // Two consumers: the first half to "a", the rest to "b".
    assert_eq!(
        read_new(&mut s, b"a", Some(N as usize / 2), 1_000).len(),
        N as usize / 2
    );
    let mut sink = CountSink::default();
    let read = crate::GroupRead {
        start: crate::GroupReadStart::New,
        count: None,
        noack: false,
    };
    s.read_group(G, b"b", read, 2_000, &mut sink).expect("read");
    assert_eq!(sink.entries as u64, N / 2);

    // Summary: no PEL walk at all.
    let (sum, steps) = pel_steps(|| s.group(G).expect("group").pending_summary());
    assert_eq!(steps, 0);
    assert_eq!(sum.count as u64, N);
    assert_eq!((sum.first, sum.last), (Some(id(1, 0)), Some(id(N, 0))));
    assert_eq!(
        sum.consumers,
        vec![(&b"a"[..], N as usize / 2), (&b"b"[..], N as usize / 2)]
    );

    // Extended form from the middle: steps = entries returned.
    let query = PendingQuery {
        start: id(700_000, 0),
        end: StreamId::MAX,
        count: 10,
        consumer: None,
        min_idle_ms: 0,
    };
    let (got, steps) = pel_steps(|| {
        s.group(G)
            .expect("group")
            .pending_range(&query, 3_000)
            .len()
    });
    assert_eq!((got, steps), (10, 10));

    // XACK and XCLAIM on single IDs deep inside.
    let g = s.group_mut(G).expect("group");
    assert_eq!(g.ack(&[id(500_000, 0), id(500_001, 0)]), 2);
    let opts = ClaimOptions {
        min_idle_ms: 500,
        just_id: true,
        ..ClaimOptions::default()
    };
    let (out, steps) = pel_steps(|| {
        s.claim(
            G,
            b"c",
            &[id(10, 0), id(900_000, 0)],
            &opts,
            3_000,
            &mut CountSink::default(),
        )
        .expect("claim")
    });
    assert_eq!((out.claimed.len(), steps), (2, 0));

    // XAUTOCLAIM from a cursor deep inside: bounded by count, whatever the PEL size.
    s.delete(&[id(800_001, 0)]);
    let auto = AutoClaimOptions {
        min_idle_ms: 0,
        start: id(800_000, 0),
        count: 5,
        just_id: true,
    };
    let (out, steps) = pel_steps(|| {
        s.autoclaim(G, b"c", &auto, 3_000, &mut CountSink::default())
            .expect("autoclaim")
    });
    assert_eq!(
        out.claimed,
        [
            id(800_000, 0),
            id(800_002, 0),
            id(800_003, 0),
            id(800_004, 0)
        ]
    );
    assert_eq!(out.deleted, [id(800_001, 0)]);
    assert_eq!(out.next, id(800_005, 0));
    assert!(steps <= 6, "{steps} steps");

    // Totals add up after all of it.
    let g = s.group(G).expect("group");
    let sum = g.pending_summary();
    assert_eq!(sum.count as u64, N - 3);
    assert_eq!(sum.consumers.iter().map(|c| c.1 as u64).sum::<u64>(), N - 3);
    assert_eq!(sum.consumers[2], (&b"c"[..], 6));
    // "a" lost 500000-0 (acked) and 10-0 (claimed); "b" lost 500001-0 (acked), 900000-0
    // (claimed), four autoclaimed and one deleted.
    assert_eq!(
        g.consumer(b"a").expect("a").pending_count() as u64,
        N / 2 - 2
    );
    assert_eq!(
        g.consumer(b"b").expect("b").pending_count() as u64,
        N / 2 - 7
    );

    // History from the tail of a half-million PEL.
    let sink = super::groups::read_history(&mut s, b"b", id(N - 3, 0), None, 4_000);
    assert_eq!(ms(&sink.ids()), [N - 2, N - 1, N]);

    // DELCONSUMER drops half a million entries.
    let g = s.group_mut(G).expect("group");
    assert_eq!(g.delete_consumer(b"b"), Some(N / 2 - 7));
    assert_eq!(g.pending_count() as u64, N / 2 - 2 + 6);
}
