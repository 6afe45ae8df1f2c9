//! The pending entries list seen through XPENDING (both forms), changed by XCLAIM's options,
//! and reported by XINFO GROUPS / CONSUMERS / STREAM FULL. The clock is set by hand, so idle
//! times, seen-times and active-times are exact.

use anyhow::Result;

use crate::replies::{T0, a, b, clocked, e, expect, flat, i, map3};

#[test]
fn xpending_summary_and_extended_forms() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    for n in 1..=3 {
        raw.cmd(&["XADD", "s", &format!("{n}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.read_new("s", "g", "alice", 2)?;
    clock.advance(1_000);
    raw.cmd(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"])?;
    clock.advance(500);
    let row = |id: &str, who: &str, idle: i64| a(&[b(id), b(who), i(idle), i(1)]);
    expect(
        &mut raw,
        &[
            (
                &["XPENDING", "s", "g"],
                a(&[
                    i(3),
                    b("1-0"),
                    b("3-0"),
                    a(&[a(&[b("alice"), b("2")]), a(&[b("bob"), b("1")])]),
                ]),
            ),
            (
                &["XPENDING", "s", "g", "-", "+", "10"],
                a(&[
                    row("1-0", "alice", 1500),
                    row("2-0", "alice", 1500),
                    row("3-0", "bob", 500),
                ]),
            ),
            (
                &["XPENDING", "s", "g", "IDLE", "1000", "-", "+", "10"],
                a(&[row("1-0", "alice", 1500), row("2-0", "alice", 1500)]),
            ),
            (
                &["XPENDING", "s", "g", "(1-0", "+", "1", "alice"],
                a(&[row("2-0", "alice", 1500)]),
            ),
            (
                &["XPENDING", "s", "g", "IDLE", "0", "-", "(3-0", "5", "bob"],
                a(&[]),
            ),
            (&["XPENDING", "s", "g", "-", "+", "10", "nobody"], a(&[])),
            (&["XPENDING", "s", "g", "+", "-", "10"], a(&[])),
            (&["XPENDING", "s", "g", "-", "+", "-3"], a(&[])),
            // DELCONSUMER takes the consumer's pending entries with it.
            (&["XGROUP", "DELCONSUMER", "s", "g", "alice"], i(2)),
            (
                &["XPENDING", "s", "g", "-", "+", "10"],
                a(&[row("3-0", "bob", 500)]),
            ),
        ],
    )
}

#[test]
fn xclaim_idle_time_retrycount_force_justid_lastid() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    for (id, v) in [("1-0", "a"), ("2-0", "b"), ("3-0", "c")] {
        raw.cmd(&["XADD", "s", id, "f", v])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
    clock.advance(10_000);
    fn pending<'a>(id: &'a str, who: &str, idle: i64, count: i64) -> ([&'a str; 6], String) {
        (
            ["XPENDING", "s", "g", id, id, "1"],
            a(&[a(&[b(id), b(who), i(idle), i(count)])]),
        )
    }
    let p1 = pending("1-0", "bob", 0, 2);
    let p2 = pending("2-0", "bob", 3_000, 5);
    let p3 = pending("3-0", "bob", 5_000, 2);
    let p4 = pending("1-0", "carol", 0, 1);
    let groups = |last: &str| {
        a(&[flat(&[
            ("name", b("g")),
            ("consumers", i(3)),
            ("pending", i(3)),
            ("last-delivered-id", b(last)),
            ("entries-read", i(3)),
            ("lag", i(0)),
        ])])
    };
    expect(
        &mut raw,
        &[
            // Not idle long enough: nothing claimed.
            (&["XCLAIM", "s", "g", "bob", "20000", "1-0"], a(&[])),
            (
                &["XCLAIM", "s", "g", "bob", "5000", "1-0"],
                a(&[e("1-0", &["f", "a"])]),
            ),
            (&p1.0, p1.1),
            // IDLE backdates the delivery; RETRYCOUNT sets the count.
            (
                &[
                    "XCLAIM",
                    "s",
                    "g",
                    "bob",
                    "0",
                    "2-0",
                    "IDLE",
                    "3000",
                    "RETRYCOUNT",
                    "5",
                    "JUSTID",
                ],
                a(&[b("2-0")]),
            ),
            (&p2.0, p2.1),
            // TIME sets it as a Unix time in ms.
            (
                &[
                    "XCLAIM",
                    "s",
                    "g",
                    "bob",
                    "0",
                    "3-0",
                    "TIME",
                    &(T0 + 5_000).to_string(),
                ],
                a(&[e("3-0", &["f", "c"])]),
            ),
            (&p3.0, p3.1),
            // FORCE makes an existing entry pending again; never an entry that does not exist.
            (&["XACK", "s", "g", "1-0"], i(1)),
            (&["XCLAIM", "s", "g", "carol", "0", "1-0"], a(&[])),
            (&["XCLAIM", "s", "g", "carol", "0", "9-0", "FORCE"], a(&[])),
            (
                &["XCLAIM", "s", "g", "carol", "0", "1-0", "FORCE", "JUSTID"],
                a(&[b("1-0")]),
            ),
            (&p4.0, p4.1),
            // LASTID only ever moves the group forward.
            (
                &[
                    "XCLAIM", "s", "g", "carol", "0", "1-0", "LASTID", "50-0", "JUSTID",
                ],
                a(&[b("1-0")]),
            ),
            (&["XINFO", "GROUPS", "s"], groups("50-0")),
            (
                &[
                    "XCLAIM", "s", "g", "carol", "0", "1-0", "LASTID", "4-0", "JUSTID",
                ],
                a(&[b("1-0")]),
            ),
            (&["XINFO", "GROUPS", "s"], groups("50-0")),
        ],
    )
}

#[test]
fn xinfo_groups_consumers_and_stream_full() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "a", "1"])?;
    raw.cmd(&["XADD", "s", "2-0", "b", "2"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "h", "$"])?;
    raw.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "idler"])?;
    raw.read_new("s", "g", "alice", 1)?;
    clock.advance(2_000);
    let t0 = i(T0 as i64);
    let consumer = |name: &str, pending: i64, inactive: i64| {
        [
            ("name", b(name)),
            ("pending", i(pending)),
            ("idle", i(2_000)),
            ("inactive", i(inactive)),
        ]
    };
    let group_h = [
        ("name", b("h")),
        ("consumers", i(0)),
        ("pending", i(0)),
        ("last-delivered-id", b("2-0")),
        ("entries-read", "$-1\r\n".to_string()),
        ("lag", i(0)),
    ];
    expect(
        &mut raw,
        &[
            (
                &["XINFO", "GROUPS", "s"],
                a(&[
                    flat(&[
                        ("name", b("g")),
                        ("consumers", i(2)),
                        ("pending", i(1)),
                        ("last-delivered-id", b("1-0")),
                        ("entries-read", i(1)),
                        ("lag", i(1)),
                    ]),
                    flat(&group_h),
                ]),
            ),
            (
                &["XINFO", "CONSUMERS", "s", "g"],
                a(&[
                    flat(&consumer("alice", 1, 2_000)),
                    flat(&consumer("idler", 0, -1)),
                ]),
            ),
            (&["XINFO", "CONSUMERS", "s", "h"], a(&[])),
        ],
    )?;
    let summary = raw.cmd(&["XINFO", "STREAM", "s"])?;
    assert!(
        summary.contains("$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n"),
        "{summary}"
    );
    // FULL: everything after `groups` is the groups' detail (COUNT 1 limits each PEL listing).
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
    let full = raw.cmd(&["XINFO", "STREAM", "s", "FULL", "COUNT", "1"])?;
    let groups = full
        .split_once("$6\r\ngroups\r\n")
        .map(|(_, g)| g.to_string())
        .unwrap_or_default();
    let later = i((T0 + 2_000) as i64);
    let alice = flat(&[
        ("name", b("alice")),
        ("seen-time", later.clone()),
        ("active-time", later.clone()),
        ("pel-count", i(2)),
        ("pending", a(&[a(&[b("1-0"), t0.clone(), i(1)])])),
    ]);
    let idler = flat(&[
        ("name", b("idler")),
        ("seen-time", t0.clone()),
        ("active-time", i(-1)),
        ("pel-count", i(0)),
        ("pending", a(&[])),
    ]);
    let g = flat(&[
        ("name", b("g")),
        ("last-delivered-id", b("2-0")),
        ("entries-read", i(2)),
        ("lag", i(0)),
        ("pel-count", i(2)),
        ("nacked-count", i(0)),
        (
            "pending",
            a(&[a(&[b("1-0"), b("alice"), t0.clone(), i(1)])]),
        ),
        ("consumers", a(&[alice, idler])),
    ]);
    let h = flat(&[
        ("name", b("h")),
        ("last-delivered-id", b("2-0")),
        ("entries-read", "$-1\r\n".into()),
        ("lag", i(0)),
        ("pel-count", i(0)),
        ("nacked-count", i(0)),
        ("pending", a(&[])),
        ("consumers", a(&[])),
    ]);
    assert_eq!(groups, a(&[g, h]));
    // RESP3: maps.
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[
            (
                &["XINFO", "CONSUMERS", "s", "g"],
                a(&[
                    map3(&[
                        ("name", b("alice")),
                        ("pending", i(2)),
                        ("idle", i(0)),
                        ("inactive", i(0)),
                    ]),
                    map3(&consumer("idler", 0, -1)),
                ]),
            ),
            (
                &["XINFO", "GROUPS", "s"],
                format!(
                    "*2\r\n{}{}",
                    map3(&[
                        ("name", b("g")),
                        ("consumers", i(2)),
                        ("pending", i(2)),
                        ("last-delivered-id", b("2-0")),
                        ("entries-read", i(2)),
                        ("lag", i(0)),
                    ]),
                    map3(&[
                        ("name", b("h")),
                        ("consumers", i(0)),
                        ("pending", i(0)),
                        ("last-delivered-id", b("2-0")),
                        ("entries-read", "_\r\n".into()),
                        ("lag", i(0)),
                    ])
                ),
            ),
        ],
    )
}
