//! Snapshot payloads as untrusted input: truncation at every byte, byte flips, hand-made
//! inconsistencies and unknown versions must each give a [`DecodeError`], or — for damage
//! inside value bytes — a stream on which reads and writes do not panic.

use super::persist::{encode, rich_stream};
use super::*;
use crate::varint::put;
use crate::{
    AutoClaimOptions, CountSink, DecodeError, GroupRead, GroupReadStart, PendingQuery, TrimSpec,
    TrimStrategy,
};

#[test]
fn every_truncation_is_an_error() {
    let bytes = encode(&rich_stream());
    for cut in 0..bytes.len() {
        match Stream::decode(&bytes[..cut]) {
            Err(DecodeError::Corrupt { offset, .. }) => assert!(offset <= cut, "cut {cut}"),
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Stream::decode(&longer).err(),
        Some(DecodeError::Corrupt {
            offset: bytes.len(),
            what: "trailing bytes after the stream"
        })
    );
}

/// Every read and a few writes on a stream decoded from damaged bytes: none may panic.
fn exercise(mut s: Stream) {
    for rev in [false, true] {
        s.range(
            StreamId::MIN,
            StreamId::MAX,
            None,
            rev,
            &mut CollectSink::default(),
        );
        s.range(
            id(1003, 0),
            id(1008, 2),
            Some(3),
            rev,
            &mut CountSink::default(),
        );
    }
    s.first_entry(&mut CollectSink::default());
    s.last_entry(&mut CollectSink::default());
    let _ = (s.first_id(), s.last_live_id(), s.memory_usage());
    let names: Vec<Vec<u8>> = s.groups().map(|(n, _)| n.to_vec()).collect();
    let _ = s.group_infos().count();
    for name in &names {
        let g = s.group(name).expect("listed");
        let _ = g.pending_summary();
        let _ = g.pending_entries().count();
        for c in g.consumers() {
            let _ = (
                c.idle_ms(9_000),
                c.inactive_ms(9_000),
                g.consumer_pending(c).count(),
            );
        }
        let query = PendingQuery {
            start: StreamId::MIN,
            end: StreamId::MAX,
            count: 100,
            consumer: None,
            min_idle_ms: 5,
        };
        let _ = g.pending_range(&query, 9_000);
        let history = GroupRead {
            start: GroupReadStart::After(StreamId::MIN),
            count: None,
            noack: false,
        };
        for c in g.consumers().map(|c| c.name().to_vec()).collect::<Vec<_>>() {
            s.read_group(name, &c, history, 9_000, &mut CollectSink::default())
                .expect("group");
        }
        let opts = AutoClaimOptions {
            min_idle_ms: 0,
            start: StreamId::MIN,
            count: 100,
            just_id: false,
        };
        s.autoclaim(name, b"x", &opts, 9_100, &mut CollectSink::default())
            .expect("group");
    }
    let lim = limits(4);
    s.add(AddId::Auto, &[b"sensor", b"1", b"temp", b"2"], 9_200, lim)
        .ok();
    s.delete(&[id(1008, 1), id(1009, 0)]);
    let trim = TrimSpec {
        strategy: TrimStrategy::MaxLen(3),
        approx: false,
        limit: None,
    };
    s.trim(trim, lim);
}

#[test]
fn byte_flips_never_panic() {
    let bytes = encode(&rich_stream());
    let (mut ok, mut err) = (0, 0);
    let mut try_bytes = |damaged: &[u8]| match Stream::decode(damaged) {
        Ok(s) => {
            ok += 1;
            exercise(s);
        }
        Err(_) => err += 1,
    };
    for pos in 0..bytes.len() {
        for mask in [0x01, 0x02, 0x10, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[pos] ^= mask;
            try_bytes(&damaged);
        }
    }
    // Several flips at once, from a fixed-seed xorshift.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..5_000 {
        let mut damaged = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let pos = (next() % bytes.len() as u64) as usize;
            damaged[pos] ^= (next() % 255 + 1) as u8;
        }
        try_bytes(&damaged);
    }
    println!("byte flips: {ok} decoded (value bytes), {err} refused");
    assert!(err > ok, "most damage must be detected");
}

#[test]
fn unknown_versions_are_refused() {
    let mut bytes = encode(&rich_stream());
    assert_eq!(bytes[0], 3);
    for found in [0u64, 4, 300] {
        let mut damaged = Vec::new();
        crate::varint::put(&mut damaged, found);
        damaged.extend_from_slice(&bytes[1..]);
        let err = Stream::decode(&damaged).expect_err("refused");
        assert_eq!(
            err,
            DecodeError::UnsupportedVersion {
                found,
                supported: 3
            }
        );
        assert!(
            err.to_string()
                .contains(&format!("version {found} is not supported"))
        );
    }
    bytes.truncate(0);
    assert!(matches!(
        Stream::decode(&bytes),
        Err(DecodeError::Corrupt { offset: 0, .. })
    ));
}

/// The fields of a small hand-written payload: one node holding `5-0 a b`, one group `g`
/// whose consumer `c` has it pending (version 2: and no redelivery marks, unless `marks`).
/// Tests spoil one field at a time.
struct Parts {
    version: u64,
    entries_added: Vec<u8>,
    last_id: StreamId,
    len: u64,
    node_count: u64,
    node_last: StreamId,
    live: u64,
    deleted: u64,
    data: Vec<u8>,
    entries_read_tag: u64,
    consumers: Vec<&'static [u8]>,
    owner: u64,
    /// Version 2's mark list, as written: a count and deltas.
    mark_count: u64,
    mark_deltas: Vec<StreamId>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            version: 2,
            entries_added: vec![1],
            last_id: id(5, 0),
            len: 1,
            node_count: 1,
            node_last: id(5, 0),
            live: 1,
            deleted: 0,
            // No master names; flags 0, ID deltas 0 0, one pair "a" "b".
            data: vec![0, 0, 0, 0, 1, 1, b'a', 1, b'b'],
            entries_read_tag: 0,
            consumers: vec![b"c"],
            owner: 0,
            mark_count: 0,
            mark_deltas: Vec::new(),
        }
    }
}

impl Parts {
    fn write(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put_id = |out: &mut Vec<u8>, i: StreamId| {
            put(out, i.ms);
            put(out, i.seq);
        };
        put(&mut out, self.version);
        put_id(&mut out, self.last_id);
        out.extend_from_slice(&self.entries_added);
        put_id(&mut out, StreamId::MIN);
        put(&mut out, self.len);
        put(&mut out, self.node_count);
        put_id(&mut out, id(5, 0));
        // Last ID as a delta from the key 5-0.
        put(&mut out, self.node_last.ms - 5);
        put(&mut out, self.node_last.seq);
        put(&mut out, self.live);
        put(&mut out, self.deleted);
        crate::varint::put_bytes(&mut out, &self.data);
        put(&mut out, 1);
        crate::varint::put_bytes(&mut out, b"g");
        put_id(&mut out, id(5, 0));
        put(&mut out, self.entries_read_tag);
        put(&mut out, self.consumers.len() as u64);
        for name in &self.consumers {
            crate::varint::put_bytes(&mut out, name);
            put(&mut out, 7);
            put(&mut out, 0);
        }
        put(&mut out, 1);
        put_id(&mut out, id(5, 0));
        put(&mut out, self.owner);
        put(&mut out, 14); // zigzag(7)
        put(&mut out, 1);
        if self.version >= 2 {
            put(&mut out, self.mark_count);
            for &delta in &self.mark_deltas {
                put_id(&mut out, delta);
            }
        }
        out
    }

    /// Version 2 with the given marks, each an ID delta as the encoder writes them.
    fn marked(deltas: &[StreamId]) -> Parts {
        Parts {
            mark_count: deltas.len() as u64,
            mark_deltas: deltas.to_vec(),
            ..Parts::default()
        }
    }
}

#[test]
fn hand_made_payload_decodes() {
    for version in [1, 2] {
        let parts = Parts {
            version,
            ..Parts::default()
        };
        let s = Stream::decode(&parts.write()).expect("valid");
        assert_eq!((s.len(), s.first_id()), (1, Some(id(5, 0))));
        let g = s.group(b"g").expect("group");
        let e = g.pending_entry(id(5, 0));
        assert_eq!(
            e.map(|e| (e.consumer, e.delivery_time_ms)),
            Some((&b"c"[..], 7))
        );
        assert!(!g.is_marked_for_redelivery(id(5, 0)));
    }
    let s = Stream::decode(&Parts::marked(&[id(5, 0)]).write()).expect("valid");
    let g = s.group(b"g").expect("group");
    assert!(g.is_marked_for_redelivery(id(5, 0)));
    let c = g.consumer(b"c").expect("consumer");
    assert_eq!(c.redeliver_ids().collect::<Vec<_>>(), [id(5, 0)]);
}

#[test]
fn bad_redelivery_marks_are_refused() {
    let cases: Vec<(Parts, &str)> = vec![
        // Not a PEL ID: above, below, or repeated (a zero delta).
        (
            Parts::marked(&[id(6, 0)]),
            "redelivery mark on an ID that is not pending",
        ),
        (
            Parts::marked(&[id(4, 0)]),
            "redelivery mark on an ID that is not pending",
        ),
        (
            Parts::marked(&[id(5, 0), id(0, 0)]),
            "redelivery marks out of order",
        ),
        (
            Parts::marked(&[id(5, 0), id(0, 1)]),
            "redelivery mark on an ID that is not pending",
        ),
        (
            Parts::marked(&[id(5, 0), id(u64::MAX, 0)]),
            "bad redelivery mark",
        ),
        (
            Parts {
                mark_count: 1 << 40,
                ..Parts::marked(&[id(5, 0)])
            },
            "bad redelivery mark count",
        ),
    ];
    for (parts, expected) in cases {
        match Stream::decode(&parts.write()) {
            Err(DecodeError::Corrupt { what, .. }) => assert_eq!(what, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
    // A version 1 payload has no mark list: one there is trailing garbage.
    let mut v1 = Parts {
        version: 1,
        ..Parts::default()
    }
    .write();
    v1.extend_from_slice(&[1, 5, 0]);
    assert!(matches!(
        Stream::decode(&v1),
        Err(DecodeError::Corrupt {
            what: "trailing bytes after the stream",
            ..
        })
    ));
}

#[test]
fn inconsistencies_are_refused() {
    let mut overlong = vec![0x80; 10];
    overlong.push(0);
    let cases: Vec<(Parts, &str)> = vec![
        (
            Parts {
                len: 2,
                ..Parts::default()
            },
            "length does not match the live entries",
        ),
        (
            Parts {
                live: 2,
                ..Parts::default()
            },
            "node entry counts do not match its entries",
        ),
        (
            Parts {
                node_last: id(6, 0),
                ..Parts::default()
            },
            "node last ID does not match its entries",
        ),
        (
            Parts {
                last_id: id(4, 0),
                ..Parts::default()
            },
            "last ID is below a live entry",
        ),
        (
            Parts {
                data: vec![0, 4, 0, 0, 0],
                ..Parts::default()
            },
            "unknown entry flags",
        ),
        (
            Parts {
                data: vec![0, 0, 0, 0, 100, 1, b'a', 1, b'b'],
                ..Parts::default()
            },
            "field count out of bounds",
        ),
        (
            Parts {
                data: vec![0, 0, 0, 1, 0],
                ..Parts::default()
            },
            "entry IDs out of order",
        ),
        (
            Parts {
                data: vec![0, 1, 0, 0, 0],
                len: 0,
                live: 0,
                deleted: 1,
                ..Parts::default()
            },
            "node has no live entry",
        ),
        (
            Parts {
                data: vec![2, 1, b'a', 5, b'x'],
                ..Parts::default()
            },
            "master field name out of bounds",
        ),
        (
            Parts {
                node_count: 1 << 60,
                ..Parts::default()
            },
            "bad node count",
        ),
        (
            Parts {
                owner: 1,
                ..Parts::default()
            },
            "pending entry owned by no consumer",
        ),
        (
            Parts {
                consumers: vec![b"d", b"c"],
                ..Parts::default()
            },
            "consumer names out of order",
        ),
        (
            Parts {
                entries_read_tag: 2,
                ..Parts::default()
            },
            "bad group entries-read",
        ),
        (
            Parts {
                entries_added: overlong,
                ..Parts::default()
            },
            "bad entries-added",
        ),
    ];
    for (parts, expected) in cases {
        match Stream::decode(&parts.write()) {
            Err(DecodeError::Corrupt { what, .. }) => assert_eq!(what, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
}
