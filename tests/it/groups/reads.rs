//! Consumer groups end to end: a group shared by consumers, a crashed consumer's work taken
//! over, delivery counts, NOACK, history reads of deleted entries, several streams — reply for
//! reply as Redis 7.2 sends them. Idle times come from a manual clock, so every figure is
//! exact. XPENDING, XCLAIM and XINFO details are in `pel.rs`, blocking reads in
//! `block.rs`, error paths in `errors.rs`.

use std::collections::HashSet;

use anyhow::{Result, bail};
use redis::Value;
use sluice_tests::TestServer;

use crate::replies::{NIL, NIL_ARRAY, a, b, clocked, e, expect, flat, i, streams};

/// The IDs in an XREADGROUP reply read through the `redis` crate (nil = none).
fn delivered_ids(reply: &Value) -> Result<Vec<String>> {
    let Value::Array(per_key) = reply else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for pair in per_key {
        let Value::Array(pair) = pair else {
            bail!("not [key, entries]: {pair:?}")
        };
        let Some(Value::Array(entries)) = pair.get(1) else {
            bail!("no entries: {pair:?}")
        };
        for entry in entries {
            match entry {
                Value::Array(parts) => match parts.first() {
                    Some(Value::BulkString(id)) => ids.push(String::from_utf8(id.clone())?),
                    other => bail!("no ID: {other:?}"),
                },
                other => bail!("not an entry: {other:?}"),
            }
        }
    }
    Ok(ids)
}

#[test]
fn a_shared_group_delivers_each_event_to_one_consumer() -> Result<()> {
    let server = TestServer::start()?;
    let mut con = server.client()?;
    for n in 1..=7 {
        let _: String = redis::cmd("XADD")
            .arg("orders")
            .arg(format!("{n}-0"))
            .arg("id")
            .arg(n)
            .query(&mut con)?;
    }
    let _: String = redis::cmd("XGROUP")
        .arg(&["CREATE", "orders", "workers", "0"])
        .query(&mut con)?;
    let mut seen = HashSet::new();
    let mut per_consumer = vec![0; 3];
    'outer: loop {
        for (n, name) in ["w1", "w2", "w3"].iter().enumerate() {
            let reply: Value = redis::cmd("XREADGROUP")
                .arg(&[
                    "GROUP", "workers", name, "COUNT", "1", "STREAMS", "orders", ">",
                ])
                .query(&mut con)?;
            if reply == Value::Nil {
                break 'outer;
            }
            for id in delivered_ids(&reply)? {
                assert!(seen.insert(id.clone()), "{id} delivered twice");
                per_consumer[n] += 1;
            }
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(per_consumer, vec![3, 2, 2]);
    let mut raw = server.raw()?;
    let pair = |name: &str, n: &str| a(&[b(name), b(n)]);
    expect(
        &mut raw,
        &[
            (
                &["XPENDING", "orders", "workers"],
                a(&[
                    i(7),
                    b("1-0"),
                    b("7-0"),
                    a(&[pair("w1", "3"), pair("w2", "2"), pair("w3", "2")]),
                ]),
            ),
            (
                &["XACK", "orders", "workers", "1-0", "4-0", "7-0", "7-0"],
                i(3),
            ),
            (&["XACK", "orders", "workers", "1-0"], i(0)),
            (
                &["XPENDING", "orders", "workers"],
                a(&[
                    i(4),
                    b("2-0"),
                    b("6-0"),
                    a(&[pair("w2", "2"), pair("w3", "2")]),
                ]),
            ),
            (
                &["XACK", "orders", "workers", "2-0", "3-0", "5-0", "6-0"],
                i(4),
            ),
            (
                &["XPENDING", "orders", "workers"],
                a(&[i(0), NIL.into(), NIL.into(), NIL_ARRAY.into()]),
            ),
        ],
    )?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[(
            &["XPENDING", "orders", "workers"],
            "*4\r\n:0\r\n_\r\n_\r\n_\r\n".into(),
        )],
    )
}

#[test]
fn a_crashed_consumers_entries_are_autoclaimed_by_another() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    for n in 1..=3 {
        raw.cmd(&["XADD", "jobs", &format!("{n}-0"), "n", &n.to_string()])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "jobs", "g", "0"])?;
    let all = [
        e("1-0", &["n", "1"]),
        e("2-0", &["n", "2"]),
        e("3-0", &["n", "3"]),
    ];
    expect(
        &mut raw,
        &[(
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "crashed",
                "STREAMS",
                "jobs",
                ">",
            ],
            streams(&[("jobs", &all)]),
        )],
    )?;
    // The consumer dies without acknowledging. Too soon to take its work over:
    clock.advance(5_000);
    let nothing = a(&[b("0-0"), a(&[]), a(&[])]);
    expect(
        &mut raw,
        &[(
            &["XAUTOCLAIM", "jobs", "g", "rescuer", "10000", "0-0"],
            nothing,
        )],
    )?;
    clock.advance(6_000);
    expect(
        &mut raw,
        &[
            (
                &[
                    "XAUTOCLAIM",
                    "jobs",
                    "g",
                    "rescuer",
                    "10000",
                    "0-0",
                    "COUNT",
                    "2",
                ],
                a(&[b("3-0"), a(&all[..2]), a(&[])]),
            ),
            (
                &["XPENDING", "jobs", "g", "-", "+", "10"],
                a(&[
                    a(&[b("1-0"), b("rescuer"), i(0), i(2)]),
                    a(&[b("2-0"), b("rescuer"), i(0), i(2)]),
                    a(&[b("3-0"), b("crashed"), i(11_000), i(1)]),
                ]),
            ),
            // An entry deleted meanwhile is reported and leaves the PEL.
            (&["XDEL", "jobs", "3-0"], i(1)),
            (
                &[
                    "XAUTOCLAIM",
                    "jobs",
                    "g",
                    "rescuer",
                    "10000",
                    "3-0",
                    "JUSTID",
                ],
                a(&[b("0-0"), a(&[]), a(&[b("3-0")])]),
            ),
            (
                &["XPENDING", "jobs", "g"],
                a(&[i(2), b("1-0"), b("2-0"), a(&[a(&[b("rescuer"), b("2")])])]),
            ),
            (&["XACK", "jobs", "g", "1-0", "2-0"], i(2)),
            (
                &["XINFO", "CONSUMERS", "jobs", "g"],
                a(&[
                    flat(&[
                        ("name", b("crashed")),
                        ("pending", i(0)),
                        ("idle", i(11_000)),
                        ("inactive", i(11_000)),
                    ]),
                    flat(&[
                        ("name", b("rescuer")),
                        ("pending", i(0)),
                        ("idle", i(0)),
                        ("inactive", i(0)),
                    ]),
                ]),
            ),
        ],
    )
}

#[test]
fn delivery_counts_grow_with_history_reads_and_claims() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    let one = streams(&[("s", &[e("1-0", &["f", "v"])])]);
    let row =
        |owner: &str, idle: i64, count: i64| a(&[a(&[b("1-0"), b(owner), i(idle), i(count)])]);
    expect(
        &mut raw,
        &[
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
                one.clone(),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
                one.clone(),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0-0"],
                one,
            ),
            (&["XPENDING", "s", "g", "-", "+", "10"], row("c", 0, 3)),
        ],
    )?;
    clock.advance(700);
    expect(
        &mut raw,
        &[
            (&["XPENDING", "s", "g", "-", "+", "10"], row("c", 700, 3)),
            (
                &["XCLAIM", "s", "g", "d", "0", "1-0"],
                a(&[e("1-0", &["f", "v"])]),
            ),
            (&["XPENDING", "s", "g", "-", "+", "10"], row("d", 0, 4)),
            // JUSTID does not count as a delivery; RETRYCOUNT sets the count.
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "JUSTID"],
                a(&[b("1-0")]),
            ),
            (&["XPENDING", "s", "g", "-", "+", "10"], row("c", 0, 4)),
            (
                &[
                    "XCLAIM",
                    "s",
                    "g",
                    "c",
                    "0",
                    "1-0",
                    "RETRYCOUNT",
                    "9",
                    "JUSTID",
                ],
                a(&[b("1-0")]),
            ),
            (&["XPENDING", "s", "g", "-", "+", "10"], row("c", 0, 9)),
        ],
    )
}

#[test]
fn noack_delivers_without_pending_entries() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "a", "1"])?;
    raw.cmd(&["XADD", "s", "2-0", "b", "2"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    expect(
        &mut raw,
        &[
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "NOACK",
                    "STREAMS",
                    "s",
                    ">",
                ],
                streams(&[("s", &[e("1-0", &["a", "1"]), e("2-0", &["b", "2"])])]),
            ),
            (
                &["XPENDING", "s", "g"],
                a(&[i(0), NIL.into(), NIL.into(), NIL_ARRAY.into()]),
            ),
            // Nothing pending, so no history; and nothing new.
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
                streams(&[("s", &[])]),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
                NIL_ARRAY.into(),
            ),
            (
                &["XINFO", "GROUPS", "s"],
                a(&[flat(&[
                    ("name", b("g")),
                    ("consumers", i(1)),
                    ("pending", i(0)),
                    ("last-delivered-id", b("2-0")),
                    ("entries-read", i(2)),
                    ("lag", i(0)),
                ])]),
            ),
        ],
    )
}

#[test]
fn history_reports_deleted_and_trimmed_entries_as_nil() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for (id, v) in [("1-0", "a"), ("2-0", "b"), ("3-0", "c")] {
        raw.cmd(&["XADD", "s", id, "f", v])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?;
    let gone = |id: &str| a(&[b(id), NIL_ARRAY.into()]);
    expect(
        &mut raw,
        &[
            (&["XDEL", "s", "2-0"], i(1)),
            (&["XTRIM", "s", "MAXLEN", "1"], i(1)),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
                streams(&[("s", &[gone("1-0"), gone("2-0"), e("3-0", &["f", "c"])])]),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "COUNT",
                    "1",
                    "STREAMS",
                    "s",
                    "1-0",
                ],
                streams(&[("s", &[gone("2-0")])]),
            ),
            // Still pending: deleted data is reported, never resurrected.
            (
                &["XPENDING", "s", "g"],
                a(&[i(3), b("1-0"), b("3-0"), a(&[a(&[b("c"), b("3")])])]),
            ),
            // XCLAIM drops the deleted ones from the PEL instead of claiming them.
            (
                &["XCLAIM", "s", "g", "d", "0", "1-0", "2-0", "3-0", "JUSTID"],
                a(&[b("3-0")]),
            ),
            (
                &["XPENDING", "s", "g"],
                a(&[i(1), b("3-0"), b("3-0"), a(&[a(&[b("d"), b("1")])])]),
            ),
        ],
    )?;
    raw.cmd(&["XADD", "s", "4-0", "f", "d"])?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?;
    raw.cmd(&["XDEL", "s", "4-0"])?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[(
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
            format!("%1\r\n{}{}", b("s"), a(&[a(&[b("4-0"), "_\r\n".into()])])),
        )],
    )
}

#[test]
fn several_streams_new_and_history() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "a", "1"])?;
    raw.cmd(&["XADD", "t", "1-0", "b", "2"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XGROUP", "CREATE", "t", "g", "$"])?;
    let s1 = e("1-0", &["a", "1"]);
    expect(
        &mut raw,
        &[
            // t's group starts at its end: only s has something new.
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "s",
                    "t",
                    ">",
                    ">",
                ],
                streams(&[("s", std::slice::from_ref(&s1))]),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "s",
                    "t",
                    ">",
                    ">",
                ],
                NIL_ARRAY.into(),
            ),
            // History answers for every stream, even empty ones.
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "s",
                    "t",
                    "0",
                    "0",
                ],
                streams(&[("s", std::slice::from_ref(&s1)), ("t", &[])]),
            ),
            // The maximum ID is `>`.
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "s",
                    "18446744073709551615-18446744073709551615",
                ],
                NIL_ARRAY.into(),
            ),
        ],
    )?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[(
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
            format!("%1\r\n{}{}", b("s"), a(&[s1])),
        )],
    )
}
