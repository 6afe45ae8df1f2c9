//! A committed data folder written by each version of Sluice's on-disk layout must keep loading
//! in every later version: the server's record and snapshot payloads on top of the storage
//! format.
//!
//! `tests/fixtures/data-v<N>/` holds a snapshot and a log after it, written by the same commands
//! for every N. N counts changes to anything on disk: v1 is storage format 1 with log record
//! layout 1 and stream snapshot encoding 1; v2 has record layout 2 (varint lengths) and stream
//! encoding 2, in the same storage format; v3 has snapshot payload 2, which carries every
//! value type, and the fixture adds a string, a hash, a list and a set; v4 has stream encoding
//! 3 (idempotency state, NACKed entries), and the fixture adds `XCFGSET`, `XADD … IDMP` and
//! an `XNACK` before the snapshot.
//! When a layout changes, raise [`CURRENT`] and write
//! the new folder beside the old ones, never over them:
//! `cargo test -p sluice-tests --test it write_data_fixture -- --ignored`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer, tempdir};

const T0: u64 = 1_700_000_000_000;

/// The data layout version this build writes.
const CURRENT: u32 = 4;

fn fixture_dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("data-v{version}"))
}

/// Copies a fixture so the test never changes the committed files.
fn copy_fixture(version: u32) -> Result<PathBuf> {
    let dir = tempdir()?;
    for entry in std::fs::read_dir(fixture_dir(version))? {
        let entry = entry?;
        std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
    }
    Ok(dir)
}

#[test]
#[ignore = "writes the committed fixture; run by hand only when adding a format version"]
fn write_data_fixture() -> Result<()> {
    let dir = fixture_dir(CURRENT);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let clock = ManualClock::new(T0);
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    let mut raw = server.raw()?;
    for i in 1..=5 {
        raw.cmd(&[
            "XADD",
            "orders",
            &format!("{i}-0"),
            "id",
            &i.to_string(),
            "region",
            "eu",
        ])?;
    }
    raw.cmd(&["XGROUP", "CREATE", "orders", "billing", "0"])?;
    raw.read_new("orders", "billing", "alice", 2)?;
    if CURRENT >= 3 {
        raw.cmd(&["SET", "checkpoint", "41"])?;
        raw.cmd(&["HSET", "consumer:alice", "last", "2-0", "seen", "2"])?;
        raw.cmd(&["RPUSH", "jobs", "a", "b"])?;
        raw.cmd(&["SADD", "regions", "eu", "us"])?;
    }
    if CURRENT >= 4 {
        raw.cmd(&["XADD", "idem", "IDMP", "p", "i1", "*", "f", "v"])?;
        raw.cmd(&[
            "XCFGSET",
            "idem",
            "IDMP-DURATION",
            "600",
            "IDMP-MAXSIZE",
            "5",
        ])?;
        raw.cmd(&["XADD", "idem", "IDMP", "p", "i2", "*", "f", "v"])?;
        raw.cmd(&["XGROUP", "CREATE", "idem", "g", "0"])?;
        raw.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "idem", ">"])?;
        raw.cmd(&["XNACK", "idem", "g", "FATAL", "IDS", "1", "1700000000000-0"])?;
    }
    raw.cmd(&["SAVE"])?;
    // After the snapshot: only in the log.
    raw.cmd(&["XADD", "orders", "6-0", "id", "6", "region", "us"])?;
    raw.cmd(&["XDEL", "orders", "3-0"])?;
    raw.cmd(&["XACK", "orders", "billing", "1-0"])?;
    raw.read_new("orders", "billing", "bob", 1)?;
    raw.cmd(&["PEXPIREAT", "orders", "4102444800000"])?;
    if CURRENT >= 3 {
        raw.cmd(&["INCR", "checkpoint"])?;
        raw.cmd(&["HSET", "consumer:alice", "last", "4-0"])?;
        raw.cmd(&["LPOP", "jobs"])?;
        raw.cmd(&["SREM", "regions", "us"])?;
        raw.cmd(&["PEXPIREAT", "checkpoint", "4102444800000"])?;
    }
    drop(raw);
    drop(server);
    let _ = std::fs::remove_file(dir.join("LOCK"));
    Ok(())
}

#[test]
fn data_folder_v1_still_loads() -> Result<()> {
    loads(1)
}

#[test]
fn data_folder_v2_still_loads() -> Result<()> {
    loads(2)
}

#[test]
fn data_folder_v3_still_loads() -> Result<()> {
    loads(3)
}

#[test]
fn data_folder_v4_still_loads() -> Result<()> {
    loads(4)
}

/// The state the fixture's commands left, read back from `data-v<version>`.
fn loads(version: u32) -> Result<()> {
    let dir = copy_fixture(version)?;
    let server = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0 + 1000))?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XRANGE", "orders", "-", "+"])?,
        "*5\r\n\
*2\r\n$3\r\n1-0\r\n*4\r\n$2\r\nid\r\n$1\r\n1\r\n$6\r\nregion\r\n$2\r\neu\r\n\
*2\r\n$3\r\n2-0\r\n*4\r\n$2\r\nid\r\n$1\r\n2\r\n$6\r\nregion\r\n$2\r\neu\r\n\
*2\r\n$3\r\n4-0\r\n*4\r\n$2\r\nid\r\n$1\r\n4\r\n$6\r\nregion\r\n$2\r\neu\r\n\
*2\r\n$3\r\n5-0\r\n*4\r\n$2\r\nid\r\n$1\r\n5\r\n$6\r\nregion\r\n$2\r\neu\r\n\
*2\r\n$3\r\n6-0\r\n*4\r\n$2\r\nid\r\n$1\r\n6\r\n$6\r\nregion\r\n$2\r\nus\r\n"
    );
    // alice got 1-0 and 2-0 (1-0 acked); 3-0 was deleted, so bob got 4-0; all at T0.
    assert_eq!(
        raw.cmd(&["XPENDING", "orders", "billing", "-", "+", "10"])?,
        "*2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:1000\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:1000\r\n:1\r\n"
    );
    // PEXPIREAT 4102444800000 (2100-01-01), seen from T0 + 1 s.
    assert_eq!(raw.cmd(&["PTTL", "orders"])?, ":2402444799000\r\n");
    let (keys, records) = if version >= 3 {
        // The other types: their snapshot state, then the log's changes on top.
        assert_eq!(raw.cmd(&["GET", "checkpoint"])?, "$2\r\n42\r\n");
        assert_eq!(raw.cmd(&["PTTL", "checkpoint"])?, ":2402444799000\r\n");
        assert_eq!(
            raw.cmd(&["HGETALL", "consumer:alice"])?,
            "*4\r\n$4\r\nlast\r\n$3\r\n4-0\r\n$4\r\nseen\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            raw.cmd(&["LRANGE", "jobs", "0", "-1"])?,
            "*1\r\n$1\r\nb\r\n"
        );
        assert_eq!(raw.cmd(&["SMEMBERS", "regions"])?, "*1\r\n$2\r\neu\r\n");
        if version >= 4 {
            // The idempotency window came back from the snapshot (T0 + 1 s is inside it).
            let id = "$15\r\n1700000000000-1\r\n";
            assert_eq!(
                raw.cmd(&["XADD", "idem", "IDMP", "p", "i2", "*", "f", "w"])?,
                id
            );
            // 0 was NACKed FATAL (no owner, count i64::MAX); c still owns 1.
            assert_eq!(
                raw.cmd(&["XPENDING", "idem", "g", "-", "+", "10"])?,
                "*2\r\n*4\r\n$15\r\n1700000000000-0\r\n$0\r\n\r\n:1000\r\n:9223372036854775807\r\n\
*4\r\n$15\r\n1700000000000-1\r\n$1\r\nc\r\n:1000\r\n:1\r\n"
            );
            let info = raw.cmd(&["XINFO", "STREAM", "idem"])?;
            assert!(info.contains("idmp-duration\r\n:600\r\n$12\r\nidmp-maxsize\r\n:5\r\n$12\r\npids-tracked\r\n:1\r\n$12\r\niids-tracked\r\n:1\r\n$10\r\niids-added\r\n:2\r\n"), "{info}");
            (6, 10)
        } else {
            (5, 10)
        }
    } else {
        (1, 5)
    };
    let info = raw.cmd(&["INFO", "persistence"])?;
    assert!(
        info.contains(&format!("recovery_snapshot_keys:{keys}\r\n")),
        "{info}"
    );
    assert!(
        info.contains(&format!("recovery_log_records:{records}\r\n")),
        "{info}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
