//! Redis 8.2's deletion with reference modes: `XDELEX`, and `KEEPREF|DELREF|ACKED` on `XADD`
//! and `XTRIM`, with the replies of Redis's own tests and docs.

use anyhow::Result;
use redis::Commands;
use redis::streams::{StreamDeletionPolicy, XDelExStatusCode};
use sluice_tests::TestServer;

/// `s` with entries `1-0 ..= n-0` and group `g` created at `0`.
fn setup(raw: &mut sluice_tests::RawClient, n: u64) -> Result<()> {
    for ms in 1..=n {
        raw.cmd(&["XADD", "s", &format!("{ms}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    Ok(())
}

#[test]
fn xdelex_modes_and_codes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    // A missing key: -1 for every ID.
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "IDS", "2", "1-0", "2-0"])?,
        "*2\r\n:-1\r\n:-1\r\n"
    );
    setup(&mut raw, 3)?;
    // ACKED: undelivered, then pending, entries stay (2).
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "ACKED", "IDS", "1", "1-0"])?,
        "*1\r\n:2\r\n"
    );
    raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?;
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "ACKED", "IDS", "1", "1-0"])?,
        "*1\r\n:2\r\n"
    );
    raw.cmd(&["XACK", "s", "g", "1-0"])?;
    // The IDS block may come first; an unknown ID is -1.
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "IDS", "2", "1-0", "9-0", "ACKED"])?,
        "*2\r\n:1\r\n:-1\r\n"
    );
    // KEEPREF (the default) leaves 2-0 pending; DELREF takes 3-0 out of the PEL.
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "IDS", "1", "2-0"])?,
        "*1\r\n:1\r\n"
    );
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "DELREF", "IDS", "1", "3-0"])?,
        "*1\r\n:1\r\n"
    );
    assert_eq!(
        raw.cmd(&["XPENDING", "s", "g"])?,
        "*4\r\n:1\r\n$3\r\n2-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"
    );
    // DELREF on a gone entry still drops its dangling reference (and answers -1).
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "DELREF", "IDS", "1", "2-0"])?,
        "*1\r\n:-1\r\n"
    );
    assert_eq!(
        raw.cmd(&["XPENDING", "s", "g"])?,
        "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    );
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["SET", "str", "x"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["XDELEX", "str", "IDS", "1", "1-0"])?,
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    Ok(())
}

#[test]
fn xdelex_argument_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    for (args, reply) in [
        (
            &["XDELEX", "s", "IDS", "1"][..],
            "-ERR wrong number of arguments for 'xdelex' command\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "0", "1-0"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "-5", "1-0"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "abc", "1-0"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "3", "1-0", "2-0"],
            "-ERR The `numids` parameter must match the number of arguments\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "1", "1-0", "2-0"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XDELEX", "s", "KEEPREF", "DELREF", "IDS", "1", "1-0"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XDELEX", "s", "BOGUS", "IDS", "1", "1-0"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XDELEX", "s", "IDS", "1", "nope"],
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
    ] {
        assert_eq!(raw.cmd(args)?, reply, "{args:?}");
    }
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");
    Ok(())
}

#[test]
fn xadd_and_xtrim_reference_modes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    // Redis: "XADD with MAXLEN option and ACKED option".
    setup(&mut raw, 5)?;
    raw.cmd(&["XADD", "s", "MAXLEN", "=", "1", "ACKED", "6-0", "f", "v"])?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":6\r\n");
    raw.read_new("s", "g", "c", 1)?;
    raw.cmd(&["XACK", "s", "g", "1-0"])?;
    raw.cmd(&["XADD", "s", "MAXLEN", "=", "1", "ACKED", "7-0", "f", "v"])?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":6\r\n");
    raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?;
    for ms in 2..=7 {
        raw.cmd(&["XACK", "s", "g", &format!("{ms}-0")])?;
    }
    raw.cmd(&["XADD", "s", "MAXLEN", "=", "1", "ACKED", "*", "f", "v"])?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");

    // Redis: "XADD with MAXLEN option and DELREF option".
    raw.cmd(&["DEL", "s"])?;
    setup(&mut raw, 5)?;
    raw.read_new("s", "g", "c", 1)?;
    raw.cmd(&["XADD", "s", "MAXLEN", "=", "1", "DELREF", "*", "f", "v"])?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");
    assert_eq!(
        raw.cmd(&["XPENDING", "s", "g"])?,
        "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    );

    // Redis: "XTRIM with approx and ACKED deletes entries correctly".
    raw.cmd(&["DEL", "s"])?;
    raw.cmd(&["CONFIG", "SET", "stream-node-max-entries", "2"])?;
    setup(&mut raw, 5)?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?;
    raw.cmd(&["XACK", "s", "g", "1-0", "2-0", "4-0"])?;
    assert_eq!(
        raw.cmd(&["XTRIM", "s", "MINID", "~", "6-0", "ACKED"])?,
        ":3\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // Without groups every mode trims as KEEPREF.
    raw.cmd(&["XADD", "t", "1-0", "f", "v"])?;
    raw.cmd(&["XADD", "t", "2-0", "f", "v"])?;
    assert_eq!(raw.cmd(&["XTRIM", "t", "MAXLEN", "1", "ACKED"])?, ":1\r\n");
    Ok(())
}

/// The redis crate's typed `xdel_ex` parses Sluice's reply.
#[test]
fn redis_crate_xdel_ex() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let id: String = client.xadd("s", "*", &[("f", "v")])?;
    let codes: Vec<XDelExStatusCode> =
        client.xdel_ex("s", &[id.as_str(), "1-1"], StreamDeletionPolicy::Acked)?;
    assert_eq!(
        codes,
        vec![XDelExStatusCode::Deleted, XDelExStatusCode::IdNotFound]
    );
    Ok(())
}
