//! Redis 8.6's idempotent production: `XADD … IDMP|IDMPAUTO`, `XCFGSET`, the
//! `stream-idmp-*` configs and the `XINFO STREAM` fields, as Redis's `stream.tcl` tests them.

use anyhow::Result;
use redis::Commands;
use redis::streams::{StreamAddOptions, StreamConfigOptions, StreamInfoStreamReplyWithIdempotency};
use sluice_tests::{Config, ManualClock, RawClient, TestServer};

const T0: u64 = 1_700_000_000_000;

fn xadd(raw: &mut RawClient, args: &[&str]) -> Result<String> {
    let mut all = vec!["XADD", "s"];
    all.extend_from_slice(args);
    raw.cmd(&all)
}

/// `XINFO STREAM s`'s idempotency fields, in order.
fn idmp_fields(raw: &mut RawClient) -> Result<String> {
    let info = raw.cmd(&["XINFO", "STREAM", "s"])?;
    let start = info.find("$13\r\nidmp-duration").unwrap_or(0);
    let end = info.find("$6\r\ngroups").unwrap_or(info.len());
    Ok(info[start..end].to_string())
}

fn fields(duration: u64, maxsize: u64, pids: u64, iids: u64, added: u64, dups: u64) -> String {
    format!(
        "$13\r\nidmp-duration\r\n:{duration}\r\n$12\r\nidmp-maxsize\r\n:{maxsize}\r\n\
         $12\r\npids-tracked\r\n:{pids}\r\n$12\r\niids-tracked\r\n:{iids}\r\n\
         $10\r\niids-added\r\n:{added}\r\n$15\r\niids-duplicates\r\n:{dups}\r\n"
    )
}

#[test]
fn duplicates_return_the_original_id() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Config::default(), clock.clone())?;
    let mut raw = server.raw()?;
    let first = xadd(
        &mut raw,
        &["IDMP", "p1", "payment-abc", "*", "amount", "100"],
    )?;
    assert_eq!(first, "$15\r\n1700000000000-0\r\n");
    clock.advance(1);
    assert_eq!(
        xadd(
            &mut raw,
            &["IDMP", "p1", "payment-abc", "*", "amount", "200"]
        )?,
        first
    );
    // Another producer, same iid: a new entry.
    assert_eq!(
        xadd(
            &mut raw,
            &["IDMP", "p2", "payment-abc", "*", "amount", "200"]
        )?,
        "$15\r\n1700000000001-0\r\n"
    );
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":2\r\n");
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"])?,
        "*1\r\n*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$6\r\namount\r\n$3\r\n100\r\n"
    );
    // IDMPAUTO: the same pairs in any order are the same message.
    let auto = xadd(&mut raw, &["IDMPAUTO", "p3", "*", "a", "1", "b", "2"])?;
    assert_eq!(
        xadd(&mut raw, &["IDMPAUTO", "p3", "*", "b", "2", "a", "1"])?,
        auto
    );
    assert_ne!(
        xadd(&mut raw, &["IDMPAUTO", "p3", "*", "b", "2", "a", "2"])?,
        auto
    );
    assert_ne!(
        xadd(&mut raw, &["IDMPAUTO", "p3", "*", "a1", "", "b", "2"])?,
        auto
    );
    assert_eq!(idmp_fields(&mut raw)?, fields(100, 100, 3, 5, 5, 2));
    // NOMKSTREAM on a missing key: null, nothing remembered.
    assert_eq!(
        raw.cmd(&["XADD", "t", "NOMKSTREAM", "IDMP", "p", "i", "*", "f", "v"])?,
        "$-1\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "t"])?, ":0\r\n");
    Ok(())
}

#[test]
fn the_window_follows_the_server_clock() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Config::default(), clock.clone())?;
    let mut raw = server.raw()?;
    // An explicit far-future entry ID must not stretch the window (Redis #15836).
    raw.cmd(&["XADD", "s", "99999999999999-0", "f", "v"])?;
    assert_eq!(raw.cmd(&["XCFGSET", "s", "IDMP-DURATION", "2"])?, "+OK\r\n");
    let id = xadd(&mut raw, &["IDMP", "p", "i", "*", "f", "v"])?;
    clock.advance(1_999);
    assert_eq!(xadd(&mut raw, &["IDMP", "p", "i", "*", "f", "v"])?, id);
    clock.advance(1);
    assert_eq!(idmp_fields(&mut raw)?, fields(2, 100, 0, 0, 1, 1));
    assert_ne!(xadd(&mut raw, &["IDMP", "p", "i", "*", "f", "v"])?, id);
    Ok(())
}

#[test]
fn maxsize_evicts_the_oldest_and_xcfgset_clears_on_change() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    xadd(&mut raw, &["IDMP", "p1", "init", "*", "f", "init"])?;
    assert_eq!(
        raw.cmd(&["XCFGSET", "s", "IDMP-MAXSIZE", "3", "IDMP-DURATION", "60"])?,
        "+OK\r\n"
    );
    let ids: Vec<String> = (1..=4)
        .map(|i| {
            xadd(
                &mut raw,
                &["IDMP", "p1", &format!("req-{i}"), "*", "f", "v"],
            )
        })
        .collect::<Result<_>>()?;
    assert_ne!(
        xadd(&mut raw, &["IDMP", "p1", "req-1", "*", "f", "new"])?,
        ids[0]
    );
    assert_eq!(
        xadd(&mut raw, &["IDMP", "p1", "req-3", "*", "f", "dup"])?,
        ids[2]
    );
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":6\r\n");
    assert_eq!(idmp_fields(&mut raw)?, fields(60, 3, 1, 3, 6, 1));
    // The same values keep the history; a new one clears it (the lifetime counters stay).
    raw.cmd(&["XCFGSET", "s", "IDMP-DURATION", "60", "IDMP-MAXSIZE", "3"])?;
    assert_eq!(
        xadd(&mut raw, &["IDMP", "p1", "req-3", "*", "f", "dup"])?,
        ids[2]
    );
    raw.cmd(&["XCFGSET", "s", "IDMP-DURATION", "61"])?;
    assert_eq!(idmp_fields(&mut raw)?, fields(61, 3, 0, 0, 6, 2));
    assert_ne!(
        xadd(&mut raw, &["IDMP", "p1", "req-3", "*", "f", "dup"])?,
        ids[2]
    );
    Ok(())
}

#[test]
fn idmp_and_xcfgset_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for (args, reply) in [
        (
            &["IDMP", "p1", "*", "f", "v"][..],
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            &["IDMP", "p1", "iid1", "1-1", "f", "v"],
            "-ERR IDMP/IDMPAUTO can be used only with auto-generated IDs\r\n",
        ),
        (
            &["IDMPAUTO", "p1", "1-1", "f", "v"],
            "-ERR IDMP/IDMPAUTO can be used only with auto-generated IDs\r\n",
        ),
        (
            &["IDMP", "p1", "i", "IDMP", "p2", "j", "*", "f", "v"],
            "-ERR IDMP/IDMPAUTO specified multiple times\r\n",
        ),
        (
            &["IDMPAUTO", "p1", "IDMP", "p2", "j", "*", "f", "v"],
            "-ERR IDMP/IDMPAUTO specified multiple times\r\n",
        ),
        (
            &["IDMP", "", "i", "*", "f", "v"],
            "-ERR IDMP requires a non-empty producer ID\r\n",
        ),
        (
            &["IDMP", "p1", "", "*", "f", "v"],
            "-ERR IDMP requires a non-empty idempotent ID\r\n",
        ),
        (
            &["IDMPAUTO", "", "*", "f", "v"],
            "-ERR IDMPAUTO requires a non-empty producer ID\r\n",
        ),
    ] {
        assert_eq!(xadd(&mut raw, args)?, reply, "{args:?}");
    }
    assert_eq!(
        raw.cmd(&["XCFGSET", "s", "IDMP-DURATION", "5"])?,
        "-ERR no such key\r\n"
    );
    raw.cmd(&["XADD", "s", "*", "f", "v"])?;
    for (args, reply) in [
        (
            &["XCFGSET", "s"][..],
            "-ERR At least one parameter must be specified: IDMP-DURATION or IDMP-MAXSIZE\r\n",
        ),
        (&["XCFGSET", "s", "IDMP-DURATION"], "-ERR syntax error\r\n"),
        (&["XCFGSET", "s", "INVALID"], "-ERR syntax error\r\n"),
        (
            &["XCFGSET", "s", "IDMP-DURATION", "000000000"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["XCFGSET", "s", "IDMP-MAXSIZE", "INVALID", "IDMP-DURATION"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["XCFGSET", "s", "IDMP-DURATION", "0"],
            "-ERR IDMP-DURATION must be between 1 and 86400\r\n",
        ),
        (
            &["XCFGSET", "s", "IDMP-DURATION", "86401"],
            "-ERR IDMP-DURATION must be between 1 and 86400\r\n",
        ),
        (
            &["XCFGSET", "s", "IDMP-MAXSIZE", "10001"],
            "-ERR IDMP-MAXSIZE must be between 1 and 10000\r\n",
        ),
        (
            &["XCFGSET", "s", "IDMP-MAXSIZE", "-50"],
            "-ERR IDMP-MAXSIZE must be between 1 and 10000\r\n",
        ),
    ] {
        assert_eq!(raw.cmd(args)?, reply, "{args:?}");
    }
    assert_eq!(
        raw.cmd(&[
            "XCFGSET",
            "s",
            "IDMP-DURATION",
            "86400",
            "IDMP-MAXSIZE",
            "1"
        ])?,
        "+OK\r\n"
    );
    Ok(())
}

#[test]
fn configs_set_the_defaults() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "stream-idmp-duration", "86401"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'stream-idmp-duration') - argument must be between 1 and 86400 inclusive\r\n"
    );
    assert!(
        raw.cmd(&["CONFIG", "SET", "stream-idmp-maxsize", "0"])?
            .contains("must be between")
    );
    raw.cmd(&["CONFIG", "SET", "stream-idmp-duration", "300"])?;
    raw.cmd(&["CONFIG", "SET", "stream-idmp-maxsize", "50"])?;
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-idmp-duration"])?,
        "*2\r\n$20\r\nstream-idmp-duration\r\n$3\r\n300\r\n"
    );
    xadd(&mut raw, &["IDMP", "p", "i", "*", "f", "v"])?;
    assert_eq!(idmp_fields(&mut raw)?, fields(300, 50, 1, 1, 1, 0));
    Ok(())
}

/// The redis crate's typed options and XINFO reply work against Sluice.
#[test]
fn redis_crate_idmp_api() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let opts = StreamAddOptions::default().idmp("p", "i");
    let first: Option<String> = client.xadd_options("s", "*", &[("f", "v")], &opts)?;
    let again: Option<String> = client.xadd_options("s", "*", &[("f", "w")], &opts)?;
    assert_eq!(first, again);
    let auto = StreamAddOptions::default().idmpauto("q");
    let _: Option<String> = client.xadd_options("s", "*", &[("f", "v")], &auto)?;
    let cfg = StreamConfigOptions::with_idempotency_seconds(300)
        .and_then(|o| o.idempotency_maxsize(1000))
        .map_err(anyhow::Error::msg)?;
    let ok: String = client.xcfgset("s", &cfg)?;
    assert_eq!(ok, "OK");
    let info: StreamInfoStreamReplyWithIdempotency = redis::cmd("XINFO")
        .arg("STREAM")
        .arg("s")
        .query(&mut client)?;
    assert_eq!(info.base.length, 2);
    assert_eq!((info.idmp_duration, info.idmp_maxsize), (300, 1000));
    assert_eq!((info.iids_added, info.iids_duplicates), (2, 1));
    Ok(())
}
