//! Redis 8's stream additions survive restarts: XDELEX / XACKDEL / reference-mode trims and
//! the idempotency state, through log replay, through a snapshot, and after SIGKILL.

use anyhow::Result;
use sluice_tests::{ChildServer, Config, ManualClock, RawClient, TestServer, tempdir};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");
const T0: u64 = 1_700_000_000_000;

/// Builds state with every new command; returns what must read back identically.
fn write(raw: &mut RawClient) -> Result<()> {
    for ms in 1..=6 {
        raw.cmd(&["XADD", "s", &format!("{ms}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "h", "0"])?;
    raw.read_new("s", "g", "c", 4)?;
    raw.read_new("s", "h", "c", 2)?;
    assert_eq!(
        raw.cmd(&["XACKDEL", "s", "g", "ACKED", "IDS", "1", "1-0"])?,
        "*1\r\n:2\r\n"
    );
    assert_eq!(
        raw.cmd(&["XDELEX", "s", "DELREF", "IDS", "1", "2-0"])?,
        "*1\r\n:1\r\n"
    );
    raw.cmd(&["XACK", "s", "h", "1-0"])?;
    assert_eq!(raw.cmd(&["XTRIM", "s", "MAXLEN", "1", "ACKED"])?, ":1\r\n");
    raw.cmd(&["XADD", "s", "MAXLEN", "=", "4", "DELREF", "7-0", "f", "v"])?;
    raw.cmd(&["XCFGSET", "s", "IDMP-DURATION", "50", "IDMP-MAXSIZE", "2"])?;
    for iid in ["a", "b", "c"] {
        raw.cmd(&["XADD", "s", "IDMP", "p", iid, "*", "f", iid])?;
    }
    raw.cmd(&["XADD", "s", "IDMPAUTO", "q", "*", "x", "1", "y", "2"])?;
    Ok(())
}

fn observe(raw: &mut RawClient) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for cmd in [
        &["XRANGE", "s", "-", "+"][..],
        &["XINFO", "STREAM", "s"],
        &["XINFO", "GROUPS", "s"],
        &["XPENDING", "s", "g"],
        &["XPENDING", "s", "h"],
    ] {
        out.push(raw.cmd(cmd)?);
    }
    Ok(out)
}

/// After a restart the window still answers duplicates with the original IDs, and forgets
/// them when the (restored) server clock passes the recorded add time + duration.
fn check_window(raw: &mut RawClient, clock: &ManualClock) -> Result<()> {
    let b = raw.cmd(&["XRANGE", "s", "-", "+"])?;
    let dup_b = raw.cmd(&["XADD", "s", "IDMP", "p", "b", "*", "f", "again"])?;
    assert!(
        b.contains(dup_b.trim_start_matches("$15\r\n").trim_end()),
        "{dup_b}"
    );
    let dup_q = raw.cmd(&["XADD", "s", "IDMPAUTO", "q", "*", "y", "2", "x", "1"])?;
    assert!(
        b.contains(dup_q.trim_start_matches("$15\r\n").trim_end()),
        "{dup_q}"
    );
    // "a" was evicted by maxsize 2.
    assert_ne!(
        raw.cmd(&["XADD", "s", "IDMP", "p", "a", "*", "f", "new"])?,
        dup_b
    );
    clock.advance(50_000);
    assert_ne!(
        raw.cmd(&["XADD", "s", "IDMP", "p", "c", "*", "f", "new"])?,
        dup_b
    );
    Ok(())
}

#[test]
fn log_replay_and_snapshot_keep_redis8_state() -> Result<()> {
    for snapshot in [false, true] {
        let dir = tempdir()?;
        let clock = ManualClock::new(T0);
        let before = {
            let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
            let mut raw = server.raw()?;
            write(&mut raw)?;
            if snapshot {
                raw.cmd(&["SAVE"])?;
            }
            observe(&mut raw)?
        };
        // Restarted later: the window follows the recorded times, not the restart's.
        clock.advance(10_000);
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        let mut raw = server.raw()?;
        assert_eq!(observe(&mut raw)?, before, "snapshot: {snapshot}");
        check_window(&mut raw, &clock)?;
    }
    Ok(())
}

#[test]
fn sigkill_loses_no_idempotency_record() -> Result<()> {
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut ids = Vec::new();
    {
        let mut raw = RawClient::connect(server.addr)?;
        for i in 0..200 {
            let iid = format!("req-{i}");
            ids.push(raw.cmd(&["XADD", "s", "IDMP", "p", &iid, "*", "n", &iid])?);
            if i == 100 {
                raw.cmd(&["BGSAVE"])?;
            }
        }
    }
    server.kill()?;
    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":200\r\n");
    // Every acknowledged iid the window (maxsize 100) still holds answers its original ID.
    for (i, id) in ids.iter().enumerate().skip(100) {
        let iid = format!("req-{i}");
        assert_eq!(
            &raw.cmd(&["XADD", "s", "IDMP", "p", &iid, "*", "n", "dup"])?,
            id
        );
    }
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":200\r\n");
    Ok(())
}
