//! Writes `dump`'s payloads for a check against a real server (`fixtures/check_restore.py`,
//! see `fixtures/README.md`). Does nothing unless `SLUICE_RDB_EXPORT_DIR` names a directory:
//! the crate's tests need no server.

use std::path::Path;

use sluice_rdb::{RdbValue, dump, restore};
use sluice_streams::{AddId, CollectSink, GroupRead, GroupReadStart, NodeLimits, Stream, StreamId};

use crate::model::{fixtures, to_json};

#[test]
fn export_payloads_for_a_server_check() {
    let Some(dir) = std::env::var_os("SLUICE_RDB_EXPORT_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("create export dir");
    let mut values: Vec<(String, RdbValue)> = fixtures()
        .into_iter()
        .map(|(name, payload, _)| {
            (
                format!("redump-{name}"),
                restore(&payload).expect("restores"),
            )
        })
        .collect();
    values.extend(models());
    for (name, value) in values {
        let doc = serde_json::json!({ "value": to_json(&value) });
        std::fs::write(dir.join(format!("{name}.rdb")), dump(&value)).expect("write");
        std::fs::write(dir.join(format!("{name}.json")), doc.to_string()).expect("write");
    }
}

/// Values no fixture has, at and past each encoding limit.
fn models() -> Vec<(String, RdbValue)> {
    let items = |n: usize, f: &dyn Fn(usize) -> String| -> Vec<Vec<u8>> {
        (0..n).map(|i| f(i).into_bytes()).collect()
    };
    let pairs = |n: usize, len: usize| -> Vec<(Vec<u8>, Vec<u8>)> {
        (0..n)
            .map(|i| (format!("f{i}").into_bytes(), vec![b'v'; len]))
            .collect()
    };
    vec![
        (
            "set-512-ints".into(),
            RdbValue::Set(items(512, &|i| (i as i64 * 7919 - 99999).to_string())),
        ),
        (
            "set-513-ints".into(),
            RdbValue::Set(items(513, &|i| i.to_string())),
        ),
        (
            "set-wide-ints".into(),
            RdbValue::Set(items(3, &|i| (i64::MAX - i as i64).to_string())),
        ),
        (
            "set-128-strings".into(),
            RdbValue::Set(items(128, &|i| format!("m{i}"))),
        ),
        (
            "set-129-strings".into(),
            RdbValue::Set(items(129, &|i| format!("m{i}"))),
        ),
        ("hash-512-fields".into(), RdbValue::Hash(pairs(512, 64))),
        ("hash-513-fields".into(), RdbValue::Hash(pairs(513, 1))),
        ("hash-65-byte-value".into(), RdbValue::Hash(pairs(3, 65))),
        (
            "list-20k".into(),
            RdbValue::List(items(20_000, &|i| format!("element-{i:012}"))),
        ),
        (
            "list-big-elements".into(),
            RdbValue::List(items(5, &|i| "x".repeat(3000 * (i + 1)))),
        ),
        (
            "list-ints".into(),
            RdbValue::List(items(300, &|i| (i as i64 * -123_456_789).to_string())),
        ),
        (
            "string-1mb".into(),
            RdbValue::String((0..1 << 20).map(|i: u32| (i % 251) as u8).collect()),
        ),
        (
            "string-i32-min".into(),
            RdbValue::String(b"-2147483648".to_vec()),
        ),
        ("stream-built".into(), RdbValue::Stream(stream())),
    ]
}

/// A stream built through the engine: 1000 entries in several field layouts, deletions,
/// a big value, three groups (one with an unknown read counter), pending entries, a consumer
/// that never read, a claim.
fn stream() -> Stream {
    let mut s = Stream::new();
    let limits = NodeLimits::default();
    for i in 0..1000u64 {
        let v = i.to_string();
        let big = "y".repeat(5000);
        let fields: Vec<&[u8]> = match i % 4 {
            0 | 1 => vec![b"kind", b"order", b"n", v.as_bytes()],
            2 => vec![b"other", v.as_bytes()],
            _ if i == 503 => vec![b"big", big.as_bytes()],
            _ => vec![b"kind", b"order", b"n", v.as_bytes(), b"extra", b"-17"],
        };
        s.add(
            AddId::Explicit(StreamId::new(1_000 + i / 5, i % 5)),
            &fields,
            0,
            limits,
        )
        .expect("add");
    }
    s.delete(&[
        StreamId::new(1_000, 0),
        StreamId::new(1_050, 2),
        StreamId::new(1_199, 4),
    ]);
    s.create_group(b"workers", StreamId::MIN, None)
        .expect("group");
    s.create_group(b"late", StreamId::new(1_100, 0), None)
        .expect("group");
    s.create_group(b"tail", s.last_id(), Some(1000))
        .expect("group");
    let read = |count| GroupRead {
        start: GroupReadStart::New,
        count: Some(count),
        noack: false,
    };
    let now = 1_700_000_000_000;
    s.read_group(
        b"workers",
        b"alice",
        read(30),
        now,
        &mut CollectSink::default(),
    )
    .expect("read");
    s.read_group(
        b"workers",
        b"bob",
        read(20),
        now + 5,
        &mut CollectSink::default(),
    )
    .expect("read");
    s.read_group(
        b"late",
        b"carol",
        read(7),
        now + 9,
        &mut CollectSink::default(),
    )
    .expect("read");
    let g = s.group_mut(b"workers").expect("workers");
    g.ack(&[StreamId::new(1_000, 1), StreamId::new(1_000, 3)]);
    assert!(g.create_consumer(b"idle", now + 11));
    s
}
