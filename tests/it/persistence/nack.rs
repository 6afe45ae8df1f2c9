//! NACK state across SIGKILL: the real binary with `appendfsync always`, entries NACKed
//! (owned by nobody, counts adjusted) and one claimed back, killed, restarted from the log;
//! then saved to a snapshot, killed again, restarted from the snapshot.

use anyhow::Result;
use sluice_tests::{ChildServer, RawClient, tempdir};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// What must survive: the PEL rows (idle left out: it is the clock's) and the NACK count.
fn nack_state(raw: &mut RawClient) -> Result<(String, String)> {
    let pel = raw.cmd(&["XPENDING", "s", "g", "-", "+", "10"])?;
    // Keep ID, owner and delivery count of each row; drop the idle time.
    // Each row is `*4`, `$n`, id, `$n`, owner, `:idle`, `:count`.
    let tokens: Vec<&str> = pel.split("\r\n").collect();
    let rows: Vec<String> = tokens
        .iter()
        .enumerate()
        .skip(1) // the reply's own header
        .filter(|(_, t)| **t == "*4")
        .filter_map(|(at, _)| {
            let row = tokens.get(at + 1..at + 7)?;
            Some(format!("{} {} {}", row[1], row[3], row[5]))
        })
        .collect();
    let full = raw.cmd(&["XINFO", "STREAM", "s", "FULL"])?;
    let nacked = full
        .split_once("$12\r\nnacked-count\r\n")
        .map(|(_, rest)| rest.split("\r\n").next().unwrap_or_default().to_string())
        .unwrap_or_default();
    Ok((rows.join(" | "), nacked))
}

#[test]
fn sigkill_keeps_nacked_entries_from_the_log_and_the_snapshot() -> Result<()> {
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut raw = RawClient::connect(server.addr)?;
    for k in 1..=4 {
        raw.cmd(&["XADD", "s", &format!("{k}-0"), "f", "v"])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
    assert_eq!(
        raw.cmd(&["XNACK", "s", "g", "FATAL", "IDS", "1", "1-0"])?,
        ":1\r\n"
    );
    let silent = [
        "XNACK",
        "s",
        "g",
        "SILENT",
        "IDS",
        "2",
        "2-0",
        "3-0",
        "RETRYCOUNT",
        "4",
    ];
    assert_eq!(raw.cmd(&silent)?, ":2\r\n");
    // bob claims 3-0 back (NACKed: claimable at once; JUSTID keeps its count).
    raw.cmd(&["XCLAIM", "s", "g", "bob", "3600000", "3-0", "JUSTID"])?;
    let before = nack_state(&mut raw)?;
    assert_eq!(
        before,
        (
            "1-0  :9223372036854775807 | 2-0  :4 | 3-0 bob :4 | 4-0 alice :1".to_string(),
            ":2".to_string()
        ),
        "{before:?}"
    );
    drop(raw);
    server.kill()?;

    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(nack_state(&mut raw)?, before, "after replaying the log");
    assert_eq!(raw.cmd(&["SAVE"])?, "+OK\r\n");
    drop(raw);
    server.kill()?;

    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(nack_state(&mut raw)?, before, "after loading the snapshot");
    drop(raw);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
