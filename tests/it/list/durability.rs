//! Lists survive restarts: every change is logged under its key's lock as commands that
//! replay it exactly (a pop as the `LPOP`/`RPOP` of the number it took, a served `BLPOP` as
//! its `LPOP`, a served `BLMOVE` as its pop and push), and lists load from a snapshot.

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer};

use crate::replies::T0;

/// What must survive, as raw replies.
fn observe(server: &TestServer) -> Result<Vec<String>> {
    let mut raw = server.raw()?;
    let mut out = Vec::new();
    for key in ["l", "m", "served", "moved", "dest", "big", "gone", "ttl"] {
        out.push(raw.cmd(&["LRANGE", key, "0", "-1"])?);
    }
    for cmd in [
        &["PTTL", "ttl"][..],
        &["OBJECT", "ENCODING", "l"],
        &["OBJECT", "ENCODING", "big"],
        &["DBSIZE"],
    ] {
        out.push(raw.cmd(cmd)?);
    }
    Ok(out)
}

fn populate(server: &TestServer) -> Result<()> {
    let mut raw = server.raw()?;
    let big = "x".repeat(1000);
    for cmd in [
        &["RPUSH", "l", "a", "b", "c", "d", "e", "f"][..],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "l", "y"],
        &["RPUSHX", "nokey", "y"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LSET", "l", "1", "A"],
        &["LSET", "l", "-1", "D"],
        &["LINSERT", "l", "AFTER", "b", "B"],
        &["RPUSH", "l", "b", "b"],
        &["LREM", "l", "-2", "b"],
        &["LTRIM", "l", "0", "4"],
        &["RPUSH", "m", "1", "2", "3"],
        &["LMOVE", "m", "l", "LEFT", "RIGHT"],
        &["LMOVE", "m", "m", "RIGHT", "LEFT"],
        &["RPUSH", "gone", "1"],
        &["LPOP", "gone"],
        &["RPUSH", "ttl", "t"],
        &["PEXPIRE", "ttl", "60000"],
        &["RPUSH", "ttl", "u"],
    ] {
        raw.cmd(cmd)?;
    }
    let mut args = vec!["RPUSH", "big"];
    args.extend(std::iter::repeat_n(big.as_str(), 20));
    raw.cmd(&args)?;
    raw.cmd(&["RPOP", "big", "3"])?;

    // A served BLPOP is logged as the LPOP it made; a served BLMOVE as its pop and push.
    let mut popper = server.raw()?;
    popper.send_cmd(&[b"BLPOP", b"served", b"0"])?;
    let mut mover = server.raw()?;
    raw.wait_blocked(1)?;
    mover.send_cmd(&[b"BLMOVE", b"moved", b"dest", b"LEFT", b"RIGHT", b"0"])?;
    raw.wait_blocked(2)?;
    raw.cmd(&["RPUSH", "served", "s1", "s2"])?;
    raw.cmd(&["RPUSH", "moved", "m1", "m2"])?;
    assert_eq!(popper.read_reply()?, "*2\r\n$6\r\nserved\r\n$2\r\ns1\r\n");
    assert_eq!(mover.read_reply()?, "$2\r\nm1\r\n");
    Ok(())
}

#[test]
fn lists_survive_log_replay_and_snapshots() -> Result<()> {
    let dir = sluice_tests::tempdir()?;
    let clock = ManualClock::new(T0);
    let before = {
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        populate(&server)?;
        observe(&server)?
    };
    assert_eq!(
        before[..5],
        [
            "*6\r\n$1\r\nz\r\n$1\r\nA\r\n$1\r\nb\r\n$1\r\nB\r\n$1\r\nc\r\n$1\r\n1\r\n",
            "*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
            "*1\r\n$2\r\ns2\r\n",
            "*1\r\n$2\r\nm2\r\n",
            "*1\r\n$2\r\nm1\r\n",
        ],
        "{before:?}"
    );
    assert_eq!(
        before[8..],
        [
            ":60000\r\n",
            "$8\r\nlistpack\r\n",
            "$9\r\nquicklist\r\n",
            ":7\r\n"
        ]
    );
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    assert_eq!(observe(&server)?, before, "after replaying the log");
    server.raw()?.cmd(&["SAVE"])?;
    drop(server);
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    assert_eq!(observe(&server)?, before, "after loading the snapshot");
    Ok(())
}
