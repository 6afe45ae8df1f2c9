//! `restore(dump(v)) == v` for random values of every type, and `dump` picks the encoding
//! Redis 7.2 would, limit by limit.

use proptest::prelude::*;
use sluice_rdb::{RdbValue, dump, restore};
use sluice_streams::{
    AddId, ClaimOptions, CollectSink, GroupRead, GroupReadStart, NodeLimits, Stream, StreamId,
    TrimSpec, TrimStrategy,
};

/// The RDB type byte `dump` chose.
fn rdb_type(value: &RdbValue) -> u8 {
    dump(value)[0]
}

fn items(n: usize, f: impl Fn(usize) -> String) -> Vec<Vec<u8>> {
    (0..n).map(|i| f(i).into_bytes()).collect()
}

#[test]
fn sets_take_redis_7_2_encodings() {
    let set = RdbValue::Set;
    assert_eq!(
        rdb_type(&set(items(512, |i| i.to_string()))),
        11,
        "512 integers: intset"
    );
    assert_eq!(
        rdb_type(&set(items(513, |i| i.to_string()))),
        2,
        "513 integers"
    );
    assert_eq!(
        rdb_type(&set(items(3, |i| format!("0{i}")))),
        20,
        "not canonical: listpack"
    );
    assert_eq!(
        rdb_type(&set(items(128, |i| format!("m{i}")))),
        20,
        "128 members"
    );
    assert_eq!(
        rdb_type(&set(items(129, |i| format!("m{i}")))),
        2,
        "129 members"
    );
    let long = |n| set(vec![vec![b'x'; n], b"1".to_vec()]);
    assert_eq!(rdb_type(&long(64)), 20, "64-byte member");
    assert_eq!(rdb_type(&long(65)), 2, "65-byte member");
}

#[test]
fn hashes_take_redis_7_2_encodings() {
    let hash = |n: usize, value_len: usize| {
        RdbValue::Hash(
            (0..n)
                .map(|i| (format!("f{i}").into_bytes(), vec![b'v'; value_len]))
                .collect(),
        )
    };
    assert_eq!(
        rdb_type(&hash(512, 64)),
        16,
        "512 fields of 64 bytes: listpack"
    );
    assert_eq!(rdb_type(&hash(513, 1)), 4, "513 fields");
    assert_eq!(rdb_type(&hash(1, 65)), 4, "65-byte value");
    let long_field = RdbValue::Hash(vec![(vec![b'f'; 65], b"v".to_vec())]);
    assert_eq!(rdb_type(&long_field), 4, "65-byte field");
}

#[test]
fn strings_lists_and_streams_take_one_encoding_each() {
    assert_eq!(
        dump(&RdbValue::String(b"12345".to_vec()))[..4],
        [0, 0xc1, 0x39, 0x30]
    );
    assert_eq!(
        dump(&RdbValue::String(b"abc".to_vec()))[..5],
        [0, 3, b'a', b'b', b'c']
    );
    assert_eq!(rdb_type(&RdbValue::List(items(3, |i| i.to_string()))), 18);
    assert_eq!(rdb_type(&RdbValue::Stream(Stream::new())), 21);
}

#[test]
fn big_lists_split_into_nodes_and_round_trip() {
    // 20k elements of 20 bytes: about 50 listpack nodes of at most 8 KiB.
    let list = RdbValue::List(items(20_000, |i| format!("element-{i:012}")));
    let payload = dump(&list);
    // Redis's budget: a node takes elements while its bytes + element + 8 stay within 8 KiB.
    assert_eq!(payload[..2], [18, 54], "quicklist of 54 nodes");
    assert_eq!(restore(&payload), Ok(list));
}

#[test]
fn a_megabyte_string_round_trips() {
    let s: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let value = RdbValue::String(s);
    assert_eq!(restore(&dump(&value)), Ok(value));
}

/// Byte strings biased toward what changes encodings: integers, long and empty strings.
fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        (0i64..200).prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..20),
        prop::collection::vec(any::<u8>(), 60..70),
        prop::collection::vec(any::<u8>(), 4090..4100),
        "[0-9-]{0,12}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn strings_round_trip(s in element()) {
        let value = RdbValue::String(s);
        prop_assert_eq!(restore(&dump(&value)), Ok(value));
    }

    #[test]
    fn lists_round_trip(items in prop::collection::vec(element(), 1..300)) {
        let value = RdbValue::List(items);
        prop_assert_eq!(restore(&dump(&value)), Ok(value));
    }

    #[test]
    fn sets_round_trip(members in prop_oneof![
        prop::collection::btree_set(element(), 1..200),
        prop::collection::btree_set(any::<i64>().prop_map(|v| v.to_string().into_bytes()), 1..700),
    ]) {
        let value = RdbValue::Set(members.into_iter().collect());
        prop_assert_eq!(restore(&dump(&value)), Ok(value));
    }

    #[test]
    fn hashes_round_trip(pairs in prop::collection::btree_map(element(), element(), 1..600)) {
        let value = RdbValue::Hash(pairs.into_iter().collect());
        prop_assert_eq!(restore(&dump(&value)), Ok(value));
    }

    #[test]
    fn streams_round_trip(ops in prop::collection::vec(stream_op(), 0..120)) {
        let value = RdbValue::Stream(build_stream(&ops));
        prop_assert_eq!(restore(&dump(&value)), Ok(value));
    }
}

/// One step of building a random stream.
#[derive(Clone, Debug)]
enum Op {
    /// XADD with fields `name<i> value` for the listed names (from a small pool, so nodes
    /// get SAMEFIELDS entries), `ms` ahead of the last ID.
    Add {
        names: Vec<u8>,
        value: Vec<u8>,
        ms: u64,
    },
    Delete(usize),
    TrimTo(u64),
    CreateGroup(u8),
    Read {
        group: u8,
        consumer: u8,
        count: usize,
    },
    Ack {
        group: u8,
        nth: usize,
    },
    Claim {
        group: u8,
        consumer: u8,
        nth: usize,
    },
    SetId {
        ahead: u64,
    },
}

fn stream_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (prop::collection::vec(0u8..4, 1..4), element(), 0u64..3)
            .prop_map(|(names, value, ms)| Op::Add { names, value, ms }),
        1 => any::<usize>().prop_map(Op::Delete),
        1 => (0u64..50).prop_map(Op::TrimTo),
        1 => (0u8..3).prop_map(Op::CreateGroup),
        2 => (0u8..3, 0u8..4, 1usize..10)
            .prop_map(|(group, consumer, count)| Op::Read { group, consumer, count }),
        1 => (0u8..3, any::<usize>()).prop_map(|(group, nth)| Op::Ack { group, nth }),
        1 => (0u8..3, 0u8..4, any::<usize>())
            .prop_map(|(group, consumer, nth)| Op::Claim { group, consumer, nth }),
        1 => (0u64..5).prop_map(|ahead| Op::SetId { ahead }),
    ]
}

fn build_stream(ops: &[Op]) -> Stream {
    let mut s = Stream::new();
    let limits = NodeLimits {
        max_entries: 5,
        max_bytes: 300,
    };
    let group_name = |g: u8| format!("group-{g}").into_bytes();
    let consumer_name = |c: u8| format!("consumer-{c}").into_bytes();
    let mut now = 1_700_000_000_000u64;
    for op in ops {
        now += 7;
        match op {
            Op::Add { names, value, ms } => {
                let names: Vec<Vec<u8>> = names
                    .iter()
                    .map(|n| format!("name{n}").into_bytes())
                    .collect();
                let mut fields: Vec<&[u8]> = Vec::new();
                for name in &names {
                    fields.push(name);
                    fields.push(value);
                }
                let id = AddId::AutoSeq(s.last_id().ms + ms);
                let _ = s.add(id, &fields, now, limits);
            }
            Op::Delete(nth) => {
                let mut sink = CollectSink::default();
                s.range(StreamId::MIN, StreamId::MAX, None, false, &mut sink);
                if !sink.entries.is_empty() {
                    let id = sink.entries[nth % sink.entries.len()].0;
                    s.delete(&[id]);
                }
            }
            Op::TrimTo(n) => {
                let spec = TrimSpec {
                    strategy: TrimStrategy::MaxLen(*n),
                    approx: false,
                    limit: None,
                };
                s.trim(spec, limits);
            }
            Op::CreateGroup(g) => {
                let _ = s.create_group(&group_name(*g), StreamId::MIN, None);
            }
            Op::Read {
                group,
                consumer,
                count,
            } => {
                let read = GroupRead {
                    start: GroupReadStart::New,
                    count: Some(*count),
                    noack: false,
                };
                let mut sink = CollectSink::default();
                let _ = s.read_group(
                    &group_name(*group),
                    &consumer_name(*consumer),
                    read,
                    now,
                    &mut sink,
                );
            }
            Op::Ack { group, nth } => {
                if let Some(g) = s.group_mut(&group_name(*group)) {
                    let ids: Vec<StreamId> = g.pending_entries().map(|p| p.id).collect();
                    if !ids.is_empty() {
                        g.ack(&[ids[nth % ids.len()]]);
                    }
                }
            }
            Op::Claim {
                group,
                consumer,
                nth,
            } => {
                let ids: Vec<StreamId> = s
                    .group(&group_name(*group))
                    .map(|g| g.pending_entries().map(|p| p.id).collect())
                    .unwrap_or_default();
                if !ids.is_empty() {
                    let id = ids[nth % ids.len()];
                    let mut sink = CollectSink::default();
                    let opts = ClaimOptions::default();
                    let _ = s.claim(
                        &group_name(*group),
                        &consumer_name(*consumer),
                        &[id],
                        &opts,
                        now,
                        &mut sink,
                    );
                }
            }
            Op::SetId { ahead } => {
                let last = s.last_id();
                let _ = s.set_id(StreamId::new(last.ms + ahead, last.seq), None, None);
            }
        }
    }
    s
}
