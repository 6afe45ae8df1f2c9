//! `io-threads`: how many runtime threads serve connections, on the real binary: the runtime's
//! own count (`INFO server`), at least that many worker-named threads, and `CONFIG GET`.

use std::process::Command;

use anyhow::{Context, Result};
use sluice_tests::{ChildServer, RawClient, config_pair, tempdir};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// Threads of process `pid` named `name` (the kernel's 15-byte `comm`). The runtime's blocking
/// pool (plugin loading at start) uses the workers' name too, so this is an upper bound.
fn threads_named(pid: u32, name: &str) -> Result<usize> {
    let mut count = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).context("listing threads")? {
        let comm = std::fs::read_to_string(task?.path().join("comm"))?;
        if comm.trim_end() == name {
            count += 1;
        }
    }
    Ok(count)
}

#[test]
fn io_threads_sets_the_connection_threads_and_config_reports_it() -> Result<()> {
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendonly", "no", "--io-threads", "3"])?;
    assert!(threads_named(server.pid(), "tokio-rt-worker")? >= 3);
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(raw.info_field("server", "io_threads")?, "3");
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "io-threads"])?,
        config_pair("io-threads", "3")
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "io-threads", "2"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set \
         immutable config\r\n"
    );
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "f", "v"])?, "$3\r\n1-1\r\n");
    Ok(())
}

#[test]
fn io_threads_defaults_to_half_the_cores() -> Result<()> {
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendonly", "no"])?;
    let cores = std::thread::available_parallelism()?.get();
    let expected = (cores / 2).max(1);
    assert!(threads_named(server.pid(), "tokio-rt-worker")? >= expected);
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(
        raw.info_field("server", "io_threads")?,
        expected.to_string()
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "io-threads"])?,
        format!(
            "*2\r\n$10\r\nio-threads\r\n${}\r\n{expected}\r\n",
            expected.to_string().len()
        )
    );
    Ok(())
}

#[test]
fn io_threads_out_of_range_stops_the_start() -> Result<()> {
    let dir = tempdir()?;
    for bad in ["0", "129"] {
        let out = Command::new(BIN)
            .args([
                "--port",
                "0",
                "--appendonly",
                "no",
                "--io-threads",
                bad,
                "--dir",
            ])
            .arg(&dir)
            .output()?;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("io-threads must be between 1 and 128"),
            "{stderr}"
        );
    }
    Ok(())
}
