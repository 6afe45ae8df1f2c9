//! `XACKDEL` (Redis 8.2) and the capped `ENTRIESREAD` (8.2.2), as Redis's
//! `stream-cgroups.tcl` tests them.

use anyhow::Result;
use redis::Commands;
use redis::streams::{StreamDeletionPolicy, XAckDelStatusCode};
use sluice_tests::{RawClient, TestServer};

/// `s` with `1-0` and `2-0`, groups `g1` and `g2`, each having read both.
fn two_groups(raw: &mut RawClient) -> Result<()> {
    raw.cmd(&["DEL", "s"])?;
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    raw.cmd(&["XADD", "s", "2-0", "f", "v"])?;
    for (g, c) in [("g1", "c1"), ("g2", "c2")] {
        raw.cmd(&["XGROUP", "CREATE", "s", g, "0"])?;
        raw.cmd(&["XREADGROUP", "GROUP", g, c, "STREAMS", "s", ">"])?;
    }
    Ok(())
}

const EMPTY_PEL: &str = "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n";
const G2_PEL: &str = "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\nc2\r\n$1\r\n2\r\n";

#[test]
fn xackdel_modes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let ackdel = |raw: &mut RawClient, g: &str, mode: &str| {
        raw.cmd(&["XACKDEL", "s", g, mode, "IDS", "2", "1-0", "2-0"])
    };
    two_groups(&mut raw)?;
    assert_eq!(ackdel(&mut raw, "g1", "DELREF")?, "*2\r\n:1\r\n:1\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["XPENDING", "s", "g2"])?, EMPTY_PEL);
    assert_eq!(ackdel(&mut raw, "g2", "DELREF")?, "*2\r\n:-1\r\n:-1\r\n");

    two_groups(&mut raw)?;
    assert_eq!(ackdel(&mut raw, "g1", "ACKED")?, "*2\r\n:2\r\n:2\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["XPENDING", "s", "g1"])?, EMPTY_PEL);
    assert_eq!(raw.cmd(&["XPENDING", "s", "g2"])?, G2_PEL);
    assert_eq!(ackdel(&mut raw, "g2", "ACKED")?, "*2\r\n:1\r\n:1\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":0\r\n");

    two_groups(&mut raw)?;
    assert_eq!(ackdel(&mut raw, "g1", "KEEPREF")?, "*2\r\n:1\r\n:1\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["XPENDING", "s", "g2"])?, G2_PEL);
    // Acknowledged although already deleted: still 1.
    assert_eq!(ackdel(&mut raw, "g2", "KEEPREF")?, "*2\r\n:1\r\n:1\r\n");
    assert_eq!(raw.cmd(&["XPENDING", "s", "g2"])?, EMPTY_PEL);
    Ok(())
}

#[test]
fn xackdel_missing_key_group_and_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XACKDEL", "s", "g", "IDS", "2", "1-1", "2-2"])?,
        "*2\r\n:-1\r\n:-1\r\n"
    );
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    assert_eq!(
        raw.cmd(&["XACKDEL", "s", "g", "IDS", "2", "1-1", "2-2"])?,
        "*2\r\n:-1\r\n:-1\r\n"
    );
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    for (args, reply) in [
        (
            &["XACKDEL", "s", "g"][..],
            "-ERR wrong number of arguments for 'xackdel' command\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "IDS", "abc", "1-1"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "IDS", "0", "1-1"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "IDS", "-5", "1-1"],
            "-ERR Number of IDs must be a positive integer\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "IDS", "3", "1-1", "2-2"],
            "-ERR The `numids` parameter must match the number of arguments\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "IDS", "1", "1-1", "2-2"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "KEEPREF", "DELREF", "IDS", "1", "1-1"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "KEEPREF", "ACKED", "IDS", "1", "1-1"],
            "-ERR syntax error\r\n",
        ),
        (
            &["XACKDEL", "s", "g", "DELREF", "ACKED", "IDS", "1", "1-1"],
            "-ERR syntax error\r\n",
        ),
    ] {
        assert_eq!(raw.cmd(args)?, reply, "{args:?}");
    }
    Ok(())
}

/// CVE-2025-62507: Redis overflowed its stack on XACKDEL with many IDs.
#[test]
fn xackdel_with_fifty_ids() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    let ids: Vec<String> = (0..50).map(|i| format!("{i}-1")).collect();
    let mut args = vec!["XACKDEL", "s", "g", "IDS", "50"];
    args.extend(ids.iter().map(String::as_str));
    assert_eq!(raw.cmd(&args)?, format!("*50\r\n{}", ":-1\r\n".repeat(50)));
    args[0] = "XDELEX";
    args.remove(2);
    assert_eq!(raw.cmd(&args)?, format!("*50\r\n{}", ":-1\r\n".repeat(50)));
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn entries_read_is_capped_to_entries_added() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "field", "value"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "9999"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "h", "$"])?;
    raw.cmd(&["XGROUP", "SETID", "s", "h", "$", "ENTRIESREAD", "9999"])?;
    let groups = raw.cmd(&["XINFO", "GROUPS", "s"])?;
    let one = "$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:0\r\n";
    assert_eq!(groups.matches(one).count(), 2, "{groups}");
    Ok(())
}

/// The redis crate's typed `xack_del` parses Sluice's reply.
#[test]
fn redis_crate_xack_del() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let id: String = client.xadd("s", "*", &[("f", "v")])?;
    let _: () = client.xgroup_create("s", "g", "0")?;
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "g", "c", "STREAMS", "s", ">"])
        .query(&mut client)?;
    let codes: Vec<XAckDelStatusCode> = client.xack_del(
        "s",
        "g",
        &[id.as_str(), "9-9"],
        StreamDeletionPolicy::KeepRef,
    )?;
    assert_eq!(
        codes,
        vec![
            XAckDelStatusCode::AcknowledgedAndDeleted,
            XAckDelStatusCode::IdNotFound
        ]
    );
    Ok(())
}
