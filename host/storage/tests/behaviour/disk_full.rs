//! A log whose writes fail (a full disk, injected with the fault file) keeps what it could not
//! write, refuses nothing itself, and writes it all once by the retry that succeeds: across a
//! segment rotation too, nothing lost, nothing twice.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sluice_storage::Wal;
use tempfile::TempDir;

use crate::common::{TestResult, append_all, expected, open, payload, records, temp};

/// A log in `<tmp>/data` whose writes fail while `<tmp>/fault` exists, and whose fsyncs fail
/// while it holds `fsync` ([`Wal::set_fault_file`]): the temporary folder, the fault file's
/// path, the data folder, the log.
fn faulty_log() -> anyhow::Result<(TempDir, PathBuf, PathBuf, Wal)> {
    let tmp = temp();
    let fault = tmp.path().join("fault");
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir)?;
    let (wal, _) = open(&dir)?;
    wal.set_fault_file(Some(fault.clone()));
    Ok((tmp, fault, dir, wal))
}

/// Appends records `lsns` without writing them through.
fn append(wal: &Wal, lsns: std::ops::RangeInclusive<u64>) {
    for i in lsns {
        assert_eq!(wal.append(&payload(i)), i);
    }
}

#[test]
fn records_a_failed_write_kept_are_written_once_by_the_retry() -> TestResult {
    let (_tmp, fault, dir, wal) = faulty_log()?;
    append_all(&wal, 1..=5);
    wal.write_through(5)?;
    std::fs::write(&fault, b"")?;
    append(&wal, 6..=8);
    assert!(wal.write_through(8).is_err());
    assert!(wal.failed() && wal.check_writable().is_err());
    // A snapshot begun meanwhile: its rotation waits in the kept batch, with more after it.
    let at = wal.begin_snapshot();
    assert_eq!(at, 8);
    append(&wal, 9..=10);
    assert!(wal.write_through(10).is_err());
    assert!(
        wal.stats()
            .failure
            .is_some_and(|f| f.contains("No space left"))
    );

    std::fs::remove_file(&fault)?;
    wal.retry_now();
    let started = Instant::now();
    while wal.failed() {
        assert!(started.elapsed() < Duration::from_secs(5), "no recovery");
        std::thread::sleep(Duration::from_millis(10));
    }
    wal.check_writable()?;
    assert!(wal.synced_lsn() >= 10);
    assert!(wal.stats().refused_ms > 0 || wal.stats().failure.is_none());
    append_all(&wal, 11..=12);
    wal.flush_and_close()?;
    let (_wal, recovery) = open(&dir)?;
    assert_eq!(records(&recovery), expected(1..=12));
    Ok(())
}

/// A failed fsync is not retried away: the OS may have dropped the pages it could not write,
/// so a later fsync proves nothing. Writes stay refused, waiters are released with the error,
/// and the log's records are as a restart finds them.
#[test]
fn a_failed_fsync_refuses_writes_until_a_restart() -> TestResult {
    let (_tmp, fault, dir, wal) = faulty_log()?;
    append_all(&wal, 1..=3);
    std::fs::write(&fault, b"fsync")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let waited = rt.block_on(wal.wait_synced(3));
    assert!(
        waited
            .as_ref()
            .is_err_and(|e| e.to_string().contains("until Sluice is restarted")),
        "{waited:?}"
    );
    std::fs::remove_file(&fault)?;
    wal.retry_now();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(wal.failed(), "an fsync failure is not retried away");
    assert!(wal.check_writable().is_err());
    drop(wal);
    let (_wal, recovery) = open(&dir)?;
    assert_eq!(records(&recovery), expected(1..=3));
    Ok(())
}
