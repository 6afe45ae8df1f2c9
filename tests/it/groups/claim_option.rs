//! `XREADGROUP … CLAIM <min-idle-time>` (Redis 8.4) and `MAXCOUNT`/`MAXSIZE` (Redis 8.10):
//! claimed entries first as four-element entries, COUNT shared with new entries, NOACK not
//! applying to them, a blocked CLAIM reader served when an entry becomes idle enough, the
//! caps across streams, the errors, and the `redis` crate's typed API parsing the replies.
//! The clock is set by hand; the one wait is on a reply.

use anyhow::Result;
use redis::Commands;
use redis::streams::{StreamReadOptions, StreamReadReply};

use crate::replies::{T0, a, b, clocked, expect, i, streams};

/// A four-element entry of a CLAIM reply: `[id, [f, v], idle, count]`.
fn ce(id: &str, value: &str, idle: i64, count: i64) -> String {
    a(&[b(id), a(&[b("f"), b(value)]), i(idle), i(count)])
}

/// `s` with entries `1-0 … n-0` (`f <n>`) and group `g` at the start.
fn setup(raw: &mut sluice_tests::RawClient, n: u32) -> Result<()> {
    for k in 1..=n {
        raw.cmd(&["XADD", "s", &format!("{k}-0"), "f", &k.to_string()])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    Ok(())
}

#[test]
fn idle_entries_come_first_longest_idle_first_then_new_ones() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw, 4)?;
    raw.read_new("s", "g", "alice", 1)?;
    clock.advance(300);
    raw.read_new("s", "g", "alice", 1)?;
    clock.advance(1_000);
    let read = [
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "COUNT",
        "3",
        "CLAIM",
        "1000",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ];
    expect(
        &mut raw,
        &[
            (
                &read,
                streams(&[(
                    "s",
                    &[
                        ce("1-0", "1", 1_300, 1),
                        ce("2-0", "2", 1_000, 1),
                        ce("3-0", "3", 0, 0),
                    ],
                )]),
            ),
            // Claimed entries stay pending (NOACK is for new entries), now bob's, count 2.
            (
                &["XPENDING", "s", "g", "-", "+", "10"],
                a(&[
                    a(&[b("1-0"), b("bob"), i(0), i(2)]),
                    a(&[b("2-0"), b("bob"), i(0), i(2)]),
                ]),
            ),
            // Nothing idle enough now: only the last new entry, still four elements.
            (&read, streams(&[("s", &[ce("4-0", "4", 0, 0)])])),
        ],
    )?;
    let _ = T0;
    Ok(())
}

#[test]
fn a_blocked_claim_reader_is_served_when_an_entry_becomes_idle_enough() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw, 1)?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"bob",
        b"CLAIM",
        b"5000",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ])?;
    std::thread::sleep(std::time::Duration::from_millis(100));
    clock.advance(5_000);
    // No write happens: the broker's clock wakes the reader.
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s", &[ce("1-0", "1", 5_000, 1)])])
    );
    Ok(())
}

#[test]
fn maxcount_and_maxsize_cap_the_whole_reply() -> Result<()> {
    let server = sluice_tests::TestServer::start()?;
    let mut raw = server.raw()?;
    for k in 1..=3 {
        raw.cmd(&["XADD", "s1", &format!("{k}-0"), "f", "v"])?;
        raw.cmd(&["XADD", "s2", &format!("{k}-0"), "f", "v"])?;
    }
    let e = |id: &str| a(&[b(id), a(&[b("f"), b("v")])]);
    expect(
        &mut raw,
        &[
            (
                &["XREAD", "MAXCOUNT", "4", "STREAMS", "s1", "s2", "0", "0"],
                streams(&[("s1", &[e("1-0"), e("2-0"), e("3-0")]), ("s2", &[e("1-0")])]),
            ),
            // Each entry is 2 bytes of field and value: 2, 4, then 6 >= 5 stops.
            (
                &[
                    "XREAD", "MAXSIZE", "5", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0",
                ],
                streams(&[("s1", &[e("1-0"), e("2-0")]), ("s2", &[e("1-0")])]),
            ),
            // The first entry is sent even when it alone exceeds MAXSIZE.
            (
                &["XREAD", "MAXSIZE", "1", "STREAMS", "s1", "0"],
                streams(&[("s1", &[e("1-0")])]),
            ),
            (&["XGROUP", "CREATE", "s2", "g", "0"], "+OK\r\n".into()),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "MAXCOUNT",
                    "2",
                    "STREAMS",
                    "s2",
                    ">",
                ],
                streams(&[("s2", &[e("1-0"), e("2-0")])]),
            ),
            (
                &["XPENDING", "s2", "g"],
                a(&[i(2), b("1-0"), b("2-0"), a(&[a(&[b("c"), b("2")])])]),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn option_errors() -> Result<()> {
    let server = sluice_tests::TestServer::start()?;
    let mut raw = server.raw()?;
    setup(&mut raw, 1)?;
    let err = |s: &str| format!("-{s}\r\n");
    expect(
        &mut raw,
        &[
            (
                &["XREAD", "CLAIM", "10", "STREAMS", "s", "0"],
                err(
                    "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.",
                ),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "CLAIM",
                    "-1",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR min-idle-time must be a positive integer"),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "CLAIM",
                    "x",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR value is not an integer or out of range"),
            ),
            (
                &["XREAD", "MAXCOUNT", "0", "STREAMS", "s", "0"],
                err("ERR value is out of range, must be positive"),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "MAXSIZE",
                    "-5",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR value is out of range, must be positive"),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn the_redis_crate_reads_claim_replies() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw, 2)?;
    raw.read_new("s", "g", "alice", 1)?;
    clock.advance(2_000);
    let mut con = server.client()?;
    let opts = StreamReadOptions::default()
        .group("g", "bob")
        .count(5)
        .claim(1_000);
    let reply: Option<StreamReadReply> = con.xread_options(&["s"], &[">"], &opts)?;
    let reply = reply.expect("entries");
    let got: Vec<_> = reply.keys[0]
        .ids
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                e.milliseconds_elapsed_from_delivery,
                e.delivered_count,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1-0".to_string(), Some(2_000), Some(1)),
            ("2-0".to_string(), Some(0), Some(0)),
        ]
    );
    Ok(())
}
