//! A log that cannot be written (a full disk, injected: while a fault file exists the log's
//! writes fail with `ENOSPC`) is survived without a restart: writes get `MISCONF`, reads and
//! `INFO` go on, the write caught in the failure is acknowledged once a retry writes it, writes
//! are accepted again once the disk takes them, and a restart finds every acknowledged entry
//! once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use sluice_tests::{Config, RawClient, TestServer, tempdir};

/// `INFO persistence`'s `field`.
fn info_field(raw: &mut RawClient, field: &str) -> Result<String> {
    let info = raw.cmd(&["INFO", "persistence"])?;
    Ok(info
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .to_owned())
}

fn xadd(raw: &mut RawClient, id: &str) -> Result<String> {
    raw.cmd(&["XADD", "s", id, "f", "v"])
}

#[test]
fn writes_are_refused_while_the_log_fails_and_accepted_again_after() -> Result<()> {
    let dir = tempdir()?;
    let fault = tempdir()?.join("disk-full");
    let config = Config {
        log_fault_file: Some(fault.clone()),
        ..Config::default()
    };
    let clock = Arc::new(sluice_server::SystemClock);
    let server = TestServer::start_in(&dir, config.clone(), clock.clone())?;
    let mut raw = server.raw()?;
    assert_eq!(xadd(&mut raw, "1-0")?, "$3\r\n1-0\r\n");

    std::fs::write(&fault, b"")?;
    // This write is applied, then its log write fails: its reply waits for the retry.
    let mut caught = server.raw()?;
    caught.send_cmd(&[b"XADD", b"s", b"2-0", b"f", b"v"])?;
    let started = Instant::now();
    loop {
        if info_field(&mut raw, "aof_last_write_status")? == "err" {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the log never failed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let misconf = xadd(&mut raw, "3-0")?;
    assert!(
        misconf.starts_with("-MISCONF Errors writing to the AOF file: ")
            && misconf.contains("No space left on device"),
        "{misconf}"
    );
    assert!(raw.cmd(&["SET", "k", "v"])?.starts_with("-MISCONF "));
    // Reads and INFO go on.
    assert_eq!(raw.cmd(&["EXISTS", "s"])?, ":1\r\n");
    let error = info_field(&mut raw, "aof_last_write_error")?;
    assert!(error.contains("No space left on device"), "{error}");
    std::thread::sleep(Duration::from_millis(300));
    let refusing: u64 = info_field(&mut raw, "aof_writes_refused_ms")?.parse()?;
    assert!(refusing >= 300, "{refusing}");

    // Space again: the retry (about once a second) writes the kept record, the caught write
    // is acknowledged, and writes are accepted.
    std::fs::remove_file(&fault)?;
    assert_eq!(caught.read_reply()?, "$3\r\n2-0\r\n");
    assert_eq!(info_field(&mut raw, "aof_last_write_status")?, "ok");
    assert_eq!(info_field(&mut raw, "aof_writes_refused_ms")?, "0");
    let total: u64 = info_field(&mut raw, "aof_writes_refused_total_ms")?.parse()?;
    assert!(total >= refusing, "{total} < {refusing}");
    assert_eq!(xadd(&mut raw, "3-0")?, "$3\r\n3-0\r\n");
    drop(server);

    // Every acknowledged entry, once.
    let server = TestServer::start_in(&dir, config, clock)?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
         *2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n\
         *2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    Ok(())
}

/// A tmpfs mounted for the test (`mount -t tmpfs -o size=…`), unmounted when dropped.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    /// `None`, saying why, where mounting is not allowed (not root, no CAP_SYS_ADMIN).
    fn mount(size: &str) -> Result<Option<Tmpfs>> {
        let path = tempdir()?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        match out {
            Ok(out) if out.status.success() => Ok(Some(Tmpfs { path })),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs here ({}); the injected-fault test covers the \
                     same path",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                Ok(None)
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount ({e})");
                Ok(None)
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}

/// The real thing, where the test may mount: the data folder on a 4 MiB tmpfs that a filler
/// file shares. `XADD`s of 16 KiB fill it until the log's write fails; deleting the filler
/// frees space; the caught write is acknowledged and the rest follow; after a restart the
/// stream holds exactly the acknowledged entries.
#[test]
fn a_real_full_disk_is_survived() -> Result<()> {
    let Some(fs) = Tmpfs::mount("4m")? else {
        return Ok(());
    };
    let filler = fs.path.join("filler");
    std::fs::write(&filler, vec![1u8; 1536 * 1024])?;
    let dir = fs.path.join("data");
    std::fs::create_dir(&dir)?;
    let clock = Arc::new(sluice_server::SystemClock);
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    let value = "x".repeat(16 * 1024);
    const ENTRIES: u64 = 200;
    let producer = {
        let mut raw = server.raw()?;
        std::thread::spawn(move || -> Result<u64> {
            for n in 1..=ENTRIES {
                let id = format!("{n}-0");
                let reply = raw.cmd(&["XADD", "s", &id, "v", &value])?;
                ensure!(
                    reply == format!("${}\r\n{id}\r\n", id.len()),
                    "{id}: {reply}"
                );
            }
            Ok(ENTRIES)
        })
    };
    let mut raw = server.raw()?;
    let started = Instant::now();
    while info_field(&mut raw, "aof_last_write_status")? != "err" {
        ensure!(
            !producer.is_finished(),
            "{ENTRIES} entries fitted: the disk never filled"
        );
        ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the disk never filled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        raw.cmd(&["XADD", "t", "*", "f", "v"])?
            .starts_with("-MISCONF ")
    );
    std::fs::remove_file(&filler)?;
    let acked = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the producer panicked"))??;
    assert_eq!(info_field(&mut raw, "aof_last_write_status")?, "ok");
    drop(server);
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, format!(":{acked}\r\n"));
    let last = raw.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", "1"])?;
    assert!(last.contains(&format!("${}\r\n{acked}-0\r\n", format!("{acked}-0").len())));
    Ok(())
}

/// SIGKILL while the disk is full, then a restart with space: the entry whose log write failed
/// was never acknowledged and is gone; the acknowledged one is there once; writes go on.
#[test]
fn sigkill_while_the_disk_is_full_loses_only_the_unacknowledged() -> Result<()> {
    const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");
    let dir = tempdir()?;
    let fault = tempdir()?.join("disk-full");
    let env = [("SLUICE_TEST_LOG_FAULT_FILE", fault.as_path())];
    let server = sluice_tests::ChildServer::start_env(BIN, &dir, &[], &env)?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(xadd(&mut raw, "1-0")?, "$3\r\n1-0\r\n");
    std::fs::write(&fault, b"")?;
    let mut caught = RawClient::connect(server.addr)?;
    caught.send_cmd(&[b"XADD", b"s", b"2-0", b"f", b"v"])?;
    let started = Instant::now();
    while info_field(&mut raw, "aof_last_write_status")? != "err" {
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the log never failed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(xadd(&mut raw, "3-0")?.starts_with("-MISCONF "));
    server.kill()?;
    std::fs::remove_file(&fault)?;

    let server = sluice_tests::ChildServer::start_env(BIN, &dir, &[], &env)?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(xadd(&mut raw, "2-0")?, "$3\r\n2-0\r\n");
    Ok(())
}
