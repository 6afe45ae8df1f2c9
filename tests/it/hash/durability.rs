//! Hashes survive restarts: replaying the log (each change logged as the `HSET`/`HDEL` that
//! redoes it, counters as their result), and loading a snapshot taken by `SAVE`.

use std::sync::Arc;

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer, tempdir};

const T0: u64 = 1_700_000_000_000;

/// Changes of every kind, including a float sum and a hash with a TTL.
fn populate(server: &TestServer) -> Result<()> {
    let mut raw = server.raw()?;
    for cmd in [
        &["HSET", "h", "a", "1", "b", "2", "c", "3"][..],
        &["HMSET", "h", "d", "4"],
        &["HDEL", "h", "b", "nope"],
        &["HSETNX", "h", "a", "ignored"],
        &["HSETNX", "h", "e", "5"],
        &["HINCRBY", "h", "a", "41"],
        &["HINCRBYFLOAT", "h", "f", "0.1"],
        &["HINCRBYFLOAT", "h", "f", "0.2"],
        &["HSET", "ttl", "k", "v"],
        &["PEXPIRE", "ttl", "600000"],
        &["HSET", "gone", "k", "v"],
        &["HDEL", "gone", "k"],
        &["HSET", "table", "long", &"x".repeat(100)],
        &["SELECT", "2"],
        &["HSET", "other-db", "k", "v"],
    ] {
        let reply = raw.cmd(cmd)?;
        assert!(!reply.starts_with('-'), "{cmd:?}: {reply}");
    }
    Ok(())
}

fn observe(server: &TestServer) -> Result<Vec<String>> {
    let mut raw = server.raw()?;
    let mut out = Vec::new();
    for cmd in [
        &["HGETALL", "h"][..],
        &["OBJECT", "ENCODING", "h"],
        &["HGETALL", "ttl"],
        &["PTTL", "ttl"],
        &["EXISTS", "gone"],
        &["HGETALL", "table"],
        &["DBSIZE"],
        &["SELECT", "2"],
        &["HGETALL", "other-db"],
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
    assert_eq!(
        before[0],
        "*10\r\n$1\r\na\r\n$2\r\n42\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n\
         $1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$3\r\n0.3\r\n"
    );
    assert_eq!(before[3], ":600000\r\n");
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    assert_eq!(observe(&server)?, before);
    let info = server.raw()?.cmd(&["INFO", "persistence"])?;
    let source = if save_first {
        "recovery_snapshot_keys:4\r\n"
    } else {
        "recovery_snapshot_keys:0\r\n"
    };
    assert!(info.contains(source), "{info}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn restart_replays_hash_changes_from_the_log() -> Result<()> {
    restart_keeps(false)
}

#[test]
fn restart_loads_hashes_from_a_snapshot() -> Result<()> {
    restart_keeps(true)
}
