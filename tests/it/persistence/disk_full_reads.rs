//! What readers see while the log cannot be written (injected: while a fault file exists the
//! log's writes fail with `ENOSPC`): not the changes caught in the failure, which a crash
//! would lose. Stream entries are withheld (reads answer without them); other keys' reads
//! wait for the retry; everything shows once the log has written it, to blocked readers too.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use sluice_tests::{Config, RawClient, TestServer, tempdir};

const ENTRY_1: &str = "*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
const ENTRY_2: &str = "*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";

/// Waits until `INFO persistence` says the log failed.
fn until_failed(raw: &mut RawClient) -> Result<()> {
    let started = Instant::now();
    while raw.info_field("persistence", "aof_last_write_status")? != "err" {
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the log never failed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// `command`'s reply on a fresh connection, once one comes within 300 ms: a read that ran
/// between the failure and the moment its changes were hidden waits for the retry instead.
fn answered(addr: SocketAddr, command: &[&str]) -> Result<String> {
    let started = Instant::now();
    loop {
        let mut raw = RawClient::connect(addr)?;
        raw.set_timeout(Duration::from_millis(300))?;
        if let Ok(reply) = raw.cmd(command) {
            return Ok(reply);
        }
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "{command:?} was never answered"
        );
    }
}

/// Fails if a reply arrives within 400 ms.
fn no_reply_yet(raw: &mut RawClient, what: &str) -> Result<()> {
    raw.set_timeout(Duration::from_millis(400))?;
    if let Ok(reply) = raw.read_reply() {
        anyhow::bail!("{what} answered while the log failed: {reply:?}");
    }
    raw.set_timeout(Duration::from_secs(10))?;
    Ok(())
}

fn server_with_fault(dir: &Path, fault: &Path) -> Result<TestServer> {
    let config = Config {
        log_fault_file: Some(fault.to_path_buf()),
        ..Config::default()
    };
    TestServer::start_in(dir, config, Arc::new(sluice_server::SystemClock))
}

#[test]
fn a_stream_entry_caught_in_a_failure_is_not_read_until_written() -> Result<()> {
    let (dir, fault) = (tempdir()?, tempdir()?.join("disk-full"));
    let server = server_with_fault(&dir, &fault)?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["XADD", "s", "1-0", "f", "v"])?, "$3\r\n1-0\r\n");
    assert_eq!(raw.cmd(&["XGROUP", "CREATE", "s", "g", "$"])?, "+OK\r\n");

    std::fs::write(&fault, b"")?;
    let mut caught = server.raw()?;
    caught.send_cmd(&[b"XADD", b"s", b"2-0", b"f", b"v"])?;
    until_failed(&mut raw)?;

    // Another connection's reads answer at once, without the entry.
    assert_eq!(answered(server.addr, &["XLEN", "s"])?, ":1\r\n");
    let mut reader = server.raw()?;
    assert_eq!(
        reader.cmd(&["XRANGE", "s", "-", "+"])?,
        format!("*1\r\n{ENTRY_1}")
    );
    assert_eq!(
        reader.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", "1"])?,
        format!("*1\r\n{ENTRY_1}")
    );
    assert_eq!(
        reader.cmd(&["XREAD", "STREAMS", "s", "0"])?,
        format!("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n{ENTRY_1}")
    );
    assert_eq!(reader.cmd(&["XREAD", "STREAMS", "s", "1-0"])?, "*-1\r\n");
    // A group is not handed it either: reading one is a write, refused as in Redis.
    assert!(
        reader
            .cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?
            .starts_with("-MISCONF ")
    );
    // Readers that block now are answered once it is written.
    let mut after_1 = server.raw()?;
    after_1.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"1-0"])?;
    let mut after_last = server.raw()?;
    after_last.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
    no_reply_yet(&mut after_1, "XREAD BLOCK after 1-0")?;
    no_reply_yet(&mut after_last, "XREAD BLOCK $")?;
    no_reply_yet(&mut caught, "the caught XADD")?;

    // Space again: the retry writes it; its writer hears "stored", then everyone sees it.
    std::fs::remove_file(&fault)?;
    assert_eq!(caught.read_reply()?, "$3\r\n2-0\r\n");
    assert_eq!(reader.cmd(&["XLEN", "s"])?, ":2\r\n");
    let served = format!("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n{ENTRY_2}");
    assert_eq!(after_1.read_reply()?, served);
    assert_eq!(after_last.read_reply()?, served);
    assert_eq!(
        reader.cmd(&["XRANGE", "s", "-", "+"])?,
        format!("*2\r\n{ENTRY_1}{ENTRY_2}")
    );
    assert_eq!(
        reader.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"])?,
        served
    );
    Ok(())
}

#[test]
fn other_keys_caught_in_a_failure_are_read_once_written() -> Result<()> {
    let (dir, fault) = (tempdir()?, tempdir()?.join("disk-full"));
    let server = server_with_fault(&dir, &fault)?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["SET", "k", "old"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["SET", "other", "x"])?, "+OK\r\n");

    std::fs::write(&fault, b"")?;
    // One pipeline: all three are applied before the log's write fails.
    let mut caught = server.raw()?;
    let mut pipeline = sluice_tests::encode_command(&[b"SET", b"k", b"new"]);
    pipeline.extend(sluice_tests::encode_command(&[b"HSET", b"h", b"f", b"v"]));
    pipeline.extend(sluice_tests::encode_command(&[
        b"XADD", b"fresh", b"5-0", b"f", b"v",
    ]));
    caught.send(&pipeline)?;
    until_failed(&mut raw)?;

    // Keys the caught writes did not touch read at once; a stream they created is not there.
    assert_eq!(answered(server.addr, &["GET", "other"])?, "$1\r\nx\r\n");
    let mut reader = server.raw()?;
    assert_eq!(reader.cmd(&["EXISTS", "fresh"])?, ":0\r\n");
    assert_eq!(reader.cmd(&["XLEN", "fresh"])?, ":0\r\n");
    // The others wait for the log, as their writer does.
    let mut get = server.raw()?;
    get.send_cmd(&[b"GET", b"k"])?;
    let mut hget = server.raw()?;
    hget.send_cmd(&[b"HGET", b"h", b"f"])?;
    no_reply_yet(&mut get, "GET of a caught SET")?;
    no_reply_yet(&mut hget, "HGET of a caught HSET")?;

    std::fs::remove_file(&fault)?;
    assert_eq!(caught.read_reply()?, "+OK\r\n");
    assert_eq!(caught.read_reply()?, ":1\r\n");
    assert_eq!(caught.read_reply()?, "$3\r\n5-0\r\n");
    assert_eq!(get.read_reply()?, "$3\r\nnew\r\n");
    assert_eq!(hget.read_reply()?, "$1\r\nv\r\n");
    assert_eq!(reader.cmd(&["XLEN", "fresh"])?, ":1\r\n");
    Ok(())
}

/// SIGKILL while the disk is full: what a reader was shown during the failure is what the
/// restarted server holds.
#[test]
fn what_a_reader_saw_while_the_disk_was_full_survives_a_sigkill() -> Result<()> {
    const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");
    let (dir, fault) = (tempdir()?, tempdir()?.join("disk-full"));
    let env = [("SLUICE_TEST_LOG_FAULT_FILE", fault.as_path())];
    let server = sluice_tests::ChildServer::start_env(BIN, &dir, &[], &env)?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(raw.cmd(&["XADD", "s", "1-0", "f", "v"])?, "$3\r\n1-0\r\n");
    std::fs::write(&fault, b"")?;
    let mut caught = RawClient::connect(server.addr)?;
    caught.send_cmd(&[b"XADD", b"s", b"2-0", b"f", b"v"])?;
    until_failed(&mut raw)?;
    let len = answered(server.addr, &["XLEN", "s"])?;
    let seen = RawClient::connect(server.addr)?.cmd(&["XRANGE", "s", "-", "+"])?;
    assert_eq!(len, ":1\r\n");
    server.kill()?;
    std::fs::remove_file(&fault)?;

    let server = sluice_tests::ChildServer::start_env(BIN, &dir, &[], &env)?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(raw.cmd(&["XRANGE", "s", "-", "+"])?, seen);
    assert_eq!(raw.cmd(&["XLEN", "s"])?, len);
    Ok(())
}
