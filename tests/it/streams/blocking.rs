//! `XREAD … BLOCK`: wake-ups, timeouts, arrival order, keys that vanish meanwhile.

use std::time::{Duration, Instant};

use anyhow::Result;
use sluice_tests::TestServer;

#[test]
fn blocked_reader_wakes_on_xadd_from_another_connection() -> Result<()> {
    let server = TestServer::start()?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
    std::thread::sleep(Duration::from_millis(100));
    let mut writer = server.raw()?;
    assert_eq!(
        writer.cmd(&["XADD", "s", "7-1", "k", "v"])?,
        "$3\r\n7-1\r\n"
    );
    assert_eq!(
        reader.read_reply()?,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n7-1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n"
    );
    // The connection is usable afterwards.
    assert_eq!(reader.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn timeout_returns_the_null_array_in_each_protocol() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let started = Instant::now();
    assert_eq!(
        raw.cmd(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"])?,
        "*-1\r\n"
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(
        raw.cmd(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"])?,
        "_\r\n"
    );
    Ok(())
}

#[test]
fn readers_are_served_in_arrival_order_and_all_get_the_entry() -> Result<()> {
    let server = TestServer::start()?;
    let mut readers = Vec::new();
    for _ in 0..5 {
        let mut r = server.raw()?;
        r.send_cmd(&[
            b"XREAD", b"COUNT", b"1", b"BLOCK", b"5000", b"STREAMS", b"s", b"$",
        ])?;
        std::thread::sleep(Duration::from_millis(20));
        readers.push(r);
    }
    let mut writer = server.raw()?;
    // Everyone blocked: INFO's blocked_clients counts them.
    let info = writer.cmd(&["INFO", "clients"])?;
    assert!(info.contains("blocked_clients:5\r\n"), "{info}");
    writer.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    for r in &mut readers {
        assert_eq!(
            r.read_reply()?,
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
    }
    Ok(())
}

#[test]
fn deleted_renamed_and_flushed_keys_keep_readers_waiting() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XADD", "s", "5-0", "a", "1"])?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(admin.cmd(&["DEL", "s"])?, ":1\r\n");
    admin.cmd(&["XADD", "t", "1-0", "x", "y"])?;
    assert_eq!(admin.cmd(&["RENAME", "t", "s"])?, "+OK\r\n");
    assert_eq!(admin.cmd(&["FLUSHALL"])?, "+OK\r\n");
    // Still blocked: the entry it waits for must come after 5-0, the last ID it saw.
    admin.cmd(&["XADD", "s", "3-0", "old", "1"])?;
    admin.cmd(&["XADD", "s", "6-0", "new", "1"])?;
    assert_eq!(
        reader.read_reply()?,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$3\r\nnew\r\n$1\r\n1\r\n"
    );
    Ok(())
}

#[test]
fn a_disconnected_blocked_client_is_forgotten() -> Result<()> {
    let server = TestServer::start()?;
    {
        let mut reader = server.raw()?;
        reader.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut admin = server.raw()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = admin.cmd(&["INFO", "clients"])?;
        if info.contains("blocked_clients:0\r\n") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "blocked client not released: {info}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[test]
fn block_inside_multi_does_not_wait() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])?,
        "+QUEUED\r\n"
    );
    assert_eq!(raw.cmd(&["EXEC"])?, "*1\r\n*-1\r\n");
    Ok(())
}

#[test]
fn thousands_of_blocked_clients_are_served() -> Result<()> {
    let server = TestServer::start()?;
    let mut readers = Vec::new();
    for _ in 0..1000 {
        let mut r = server.raw()?;
        r.send_cmd(&[b"XREAD", b"BLOCK", b"10000", b"STREAMS", b"s", b"$"])?;
        readers.push(r);
    }
    let mut admin = server.raw()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !admin
        .cmd(&["INFO", "clients"])?
        .contains("blocked_clients:1000\r\n")
    {
        assert!(Instant::now() < deadline, "not all readers blocked");
        std::thread::sleep(Duration::from_millis(20));
    }
    admin.cmd(&["XADD", "s", "1-0", "a", "1"])?;
    for r in &mut readers {
        assert!(r.read_reply()?.contains("1-0"));
    }
    Ok(())
}
