//! Strings survive restarts: replayed from the log (each write logged as what it did: `SET …
//! PXAT`/`KEEPTTL`, the counters' results) and loaded from a snapshot.

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer};

use crate::replies::T0;

/// What must survive, as raw replies.
fn observe(server: &TestServer) -> Result<Vec<String>> {
    let mut raw = server.raw()?;
    let mut out = Vec::new();
    for cmd in [
        &["MGET", "s", "n", "f", "a", "r", "m1", "m2", "gone"][..],
        &["PTTL", "s"],
        &["PTTL", "n"],
        &["OBJECT", "ENCODING", "n"],
        &["OBJECT", "ENCODING", "s"],
        &["TYPE", "x"],
        &["DBSIZE"],
    ] {
        out.push(raw.cmd(cmd)?);
    }
    Ok(out)
}

fn populate(server: &TestServer) -> Result<()> {
    let mut raw = server.raw()?;
    for cmd in [
        &["SET", "s", "hello", "EX", "100"][..],
        &["SET", "n", "10", "PX", "5000"],
        &["INCRBY", "n", "5"],
        &["SET", "f", "1.5"],
        &["INCRBYFLOAT", "f", "0.25"],
        &["APPEND", "a", "abc"],
        &["APPEND", "a", "def"],
        &["SETRANGE", "r", "2", "xy"],
        &["MSET", "m1", "one", "m2", "two"],
        &["SET", "gone", "x"],
        &["GETDEL", "gone"],
        &["XADD", "x", "1-1", "f", "v"],
        &["SET", "x", "now a string"],
    ] {
        raw.cmd(cmd)?;
    }
    Ok(())
}

#[test]
fn strings_survive_log_replay_and_snapshots() -> Result<()> {
    let dir = sluice_tests::tempdir()?;
    let clock = ManualClock::new(T0);
    let before = {
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        populate(&server)?;
        observe(&server)?
    };
    assert!(
        before[0].contains("hello") && before[0].contains("15"),
        "{before:?}"
    );
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    assert_eq!(observe(&server)?, before, "after replaying the log");
    server.raw()?.cmd(&["SAVE"])?;
    drop(server);
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    assert_eq!(observe(&server)?, before, "after loading the snapshot");
    Ok(())
}
