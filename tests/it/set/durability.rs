//! Sets survive restarts: replaying the log (random pops logged as the members they took,
//! `SMOVE` as an `SREM` and an `SADD`), and loading a snapshot taken by `SAVE`.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer, tempdir};

const T0: u64 = 1_700_000_000_000;

/// Changes of every kind, including random pops and a set with a TTL.
fn populate(server: &TestServer) -> Result<()> {
    let mut client = server.client()?;
    let members: Vec<String> = (0..300).map(|n| format!("m{n}")).collect();
    let _: i64 = redis::cmd("SADD")
        .arg("big")
        .arg(&members)
        .query(&mut client)?;
    // A few pops, then most of the rest (the set is rebuilt), then one.
    let _: Vec<String> = redis::cmd("SPOP").arg("big").arg(20).query(&mut client)?;
    let _: Vec<String> = redis::cmd("SPOP").arg("big").arg(250).query(&mut client)?;
    let _: String = redis::cmd("SPOP").arg("big").query(&mut client)?;
    let mut raw = server.raw()?;
    for cmd in [
        &["SADD", "s", "a", "b", "c", "1"][..],
        &["SREM", "s", "b", "nope"],
        &["SMOVE", "s", "moved", "a"],
        &["SMOVE", "s", "moved", "zz"],
        &["SADD", "ints", "3", "1", "2"],
        &["SADD", "ttl", "x"],
        &["PEXPIRE", "ttl", "600000"],
        &["SADD", "all", "p", "q"],
        &["SPOP", "all", "5"],
        &["SELECT", "4"],
        &["SADD", "other-db", "v"],
    ] {
        let reply = raw.cmd(cmd)?;
        assert!(!reply.starts_with('-'), "{cmd:?}: {reply}");
    }
    Ok(())
}

/// What must survive: the members (sorted: a table's order is its own), the small sets'
/// exact replies, TTLs and the key count.
fn observe(server: &TestServer) -> Result<Vec<String>> {
    let mut client = server.client()?;
    let big: BTreeSet<String> = redis::cmd("SMEMBERS").arg("big").query(&mut client)?;
    let mut out = vec![format!("{big:?}")];
    let mut raw = server.raw()?;
    for cmd in [
        &["SMEMBERS", "s"][..],
        &["SMEMBERS", "moved"],
        &["SMEMBERS", "ints"],
        &["OBJECT", "ENCODING", "ints"],
        &["SMEMBERS", "ttl"],
        &["PTTL", "ttl"],
        &["EXISTS", "all"],
        &["DBSIZE"],
        &["SELECT", "4"],
        &["SMEMBERS", "other-db"],
    ] {
        out.push(raw.cmd(cmd)?);
    }
    Ok(out)
}

fn restart_keeps(save_first: bool) -> Result<()> {
    let dir = tempdir()?;
    let clock: Arc<ManualClock> = ManualClock::new(T0);
    let before = {
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        populate(&server)?;
        if save_first {
            assert_eq!(server.raw()?.cmd(&["SAVE"])?, "+OK\r\n");
        }
        observe(&server)?
    };
    assert_eq!(before[0].matches("\"m").count(), 29, "{}", before[0]);
    assert_eq!(before[1], "*2\r\n$1\r\nc\r\n$1\r\n1\r\n");
    assert_eq!(before[6], ":600000\r\n");
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    assert_eq!(observe(&server)?, before);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn restart_replays_set_changes_from_the_log() -> Result<()> {
    restart_keeps(false)
}

#[test]
fn restart_loads_sets_from_a_snapshot() -> Result<()> {
    restart_keeps(true)
}
