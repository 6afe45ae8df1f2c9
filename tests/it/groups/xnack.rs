//! `XNACK` (Redis 8.8): the modes' delivery counts, NACKed entries owned by nobody and
//! counted by `XINFO STREAM FULL`, claimed first by XCLAIM / XAUTOCLAIM / `XREADGROUP …
//! CLAIM` whatever their idle time, waking a reader blocked with CLAIM, the errors, and the
//! `redis` crate's typed `xnack`.

use anyhow::Result;
use redis::Commands;
use redis::streams::{
    StreamNackMode, StreamNackOptions, StreamPendingCountReply, StreamReadOptions, StreamReadReply,
};

use crate::replies::{a, b, clocked, expect, i, streams};

/// `s` with entries `1-0 … 3-0`, group `g`, all three delivered to alice.
fn setup(raw: &mut sluice_tests::RawClient) -> Result<()> {
    for k in 1..=3 {
        raw.cmd(&["XADD", "s", &format!("{k}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
    Ok(())
}

fn fields() -> String {
    a(&[b("f"), b("v")])
}

#[test]
fn modes_release_entries_to_nobody() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw)?;
    let row = |id: &str, who: &str, count: i64| a(&[b(id), b(who), i(0), i(count)]);
    expect(
        &mut raw,
        &[
            (&["XNACK", "s", "g", "SILENT", "IDS", "1", "1-0"], i(1)),
            (&["XNACK", "s", "g", "FAIL", "IDS", "2", "2-0", "9-0"], i(1)),
            (&["XNACK", "s", "g", "FATAL", "IDS", "1", "3-0"], i(1)),
            (
                &["XPENDING", "s", "g", "-", "+", "10"],
                a(&[
                    row("1-0", "", 0),
                    row("2-0", "", 1),
                    row("3-0", "", 9_223_372_036_854_775_807),
                ]),
            ),
            (
                &[
                    "XNACK",
                    "s",
                    "g",
                    "FAIL",
                    "IDS",
                    "1",
                    "1-0",
                    "RETRYCOUNT",
                    "5",
                ],
                i(1),
            ),
            (
                &["XPENDING", "s", "g", "-", "1-0", "1"],
                a(&[row("1-0", "", 5)]),
            ),
        ],
    )?;
    let full = raw.cmd(&["XINFO", "STREAM", "s", "FULL"])?;
    assert!(full.contains("$12\r\nnacked-count\r\n:3\r\n"), "{full}");
    Ok(())
}

#[test]
fn claims_take_nacked_entries_first_whatever_their_idle_time() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw)?;
    raw.cmd(&["XNACK", "s", "g", "FAIL", "IDS", "1", "2-0"])?;
    expect(
        &mut raw,
        &[
            (
                &["XCLAIM", "s", "g", "bob", "60000", "1-0", "2-0", "JUSTID"],
                a(&[b("2-0")]),
            ),
            (&["XNACK", "s", "g", "SILENT", "IDS", "1", "3-0"], i(1)),
            (
                &["XAUTOCLAIM", "s", "g", "carol", "60000", "0", "JUSTID"],
                a(&[b("0-0"), a(&[b("3-0")]), a(&[])]),
            ),
            (&["XNACK", "s", "g", "FAIL", "IDS", "1", "1-0"], i(1)),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "dave",
                    "CLAIM",
                    "60000",
                    "STREAMS",
                    "s",
                    ">",
                ],
                streams(&[("s", &[a(&[b("1-0"), fields(), i(0), i(1)])])]),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn a_nack_wakes_a_reader_blocked_with_claim() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw)?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"bob",
        b"CLAIM",
        b"60000",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ])?;
    std::thread::sleep(std::time::Duration::from_millis(100));
    raw.cmd(&["XNACK", "s", "g", "FAIL", "IDS", "1", "2-0"])?;
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s", &[a(&[b("2-0"), fields(), i(0), i(1)])])])
    );
    Ok(())
}

#[test]
fn errors() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw)?;
    let err = |s: &str| format!("-{s}\r\n");
    expect(
        &mut raw,
        &[
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "1"],
                err("ERR wrong number of arguments for 'xnack' command"),
            ),
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "2", "1-0"],
                err("ERR The `numids` parameter must match the number of arguments"),
            ),
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "3", "1-0", "2-0"],
                err("ERR The `numids` parameter must match the number of arguments"),
            ),
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "0", "1-0"],
                err("ERR Number of IDs must be a positive integer"),
            ),
            (
                &["XNACK", "s", "g", "MAYBE", "IDS", "1", "1-0"],
                err("ERR syntax error"),
            ),
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "BOGUS"],
                err("ERR syntax error"),
            ),
            (
                &["XNACK", "s", "nope", "FAIL", "IDS", "1", "1-0"],
                err("NOGROUP No such key 's' or consumer group 'nope'"),
            ),
            (
                &["XNACK", "s", "g", "FAIL", "IDS", "1", "bad"],
                err("ERR Invalid stream ID specified as stream command argument"),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn the_redis_crate_sends_xnack() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    setup(&mut raw)?;
    let mut con = server.client()?;
    let opts = StreamNackOptions::new(StreamNackMode::Fatal);
    let n: usize = con.xnack("s", "g", &["1-0", "2-0", "7-0"], &opts)?;
    assert_eq!(n, 2);
    Ok(())
}

/// The order of Redis 8.8 (the redis crate's `xnack` tests run against it): NACKed entries in
/// NACK order — NACKing one again moves it back, and still counts —, then idle pending
/// entries, then new ones with count 0; a FATAL entry's count stays pinned when it is
/// claimed again.
#[test]
fn claims_take_nacked_entries_in_nack_order_then_idle_then_new() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    for k in 1..=4 {
        raw.cmd(&["XADD", "s", &format!("{k}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.read_new("s", "g", "alice", 4)?;
    raw.cmd(&["XADD", "s", "5-0", "f", "v"])?;
    let mut con = server.client()?;
    let nack = |con: &mut redis::Connection, mode, id: &str| -> Result<usize> {
        Ok(con.xnack("s", "g", &[id], &StreamNackOptions::new(mode))?)
    };
    assert_eq!(nack(&mut con, StreamNackMode::Fail, "3-0")?, 1);
    assert_eq!(nack(&mut con, StreamNackMode::Fatal, "1-0")?, 1);
    assert_eq!(nack(&mut con, StreamNackMode::Fail, "3-0")?, 1);
    clock.advance(10);
    let opts = StreamReadOptions::default().group("g", "bob").claim(5);
    let reply: Option<StreamReadReply> = con.xread_options(&["s"], &[">"], &opts)?;
    let got: Vec<_> = reply.expect("entries").keys[0]
        .ids
        .iter()
        .map(|e| (e.id.clone(), e.delivered_count))
        .collect();
    let fatal = i64::MAX as usize;
    let want = [
        ("1-0", fatal),
        ("3-0", 1),
        ("2-0", 1),
        ("4-0", 1),
        ("5-0", 0),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(id, n)| (id.to_string(), Some(*n)))
        .collect();
    assert_eq!(got, want);
    let pel: StreamPendingCountReply = con.xpending_count("s", "g", "1-0", "1-0", 1)?;
    assert_eq!(
        (pel.ids[0].consumer.as_str(), pel.ids[0].times_delivered),
        ("bob", fatal)
    );
    // A missing key is a NOGROUP error, as a missing group is.
    let missing: redis::RedisResult<usize> = con.xnack(
        "nope",
        "g",
        &["1-0"],
        &StreamNackOptions::new(StreamNackMode::Fail),
    );
    let err = missing.expect_err("a missing key");
    assert_eq!(
        (err.code(), err.detail()),
        (
            Some("NOGROUP"),
            Some("No such key 'nope' or consumer group 'g'")
        )
    );
    Ok(())
}
