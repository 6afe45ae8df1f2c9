//! Snapshots: recovery from a snapshot plus the log after it, cleanup of what it covers, crashes
//! while writing one, and corrupt snapshots.

use std::fs;

use sluice_storage::{Error, FsyncPolicy, SaveStatus, Storage};

use crate::common::*;

const SNAP_10: &str = "snapshot-00000000000000000010.snap";
const WAL_1: &str = "wal-00000000000000000001.log";
const WAL_11: &str = "wal-00000000000000000011.log";

#[test]
fn restart_loads_the_snapshot_then_the_log_after_it() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    append_all(&wal, 1..=10);
    let lsn = wal.begin_snapshot();
    assert_eq!(lsn, 10);
    assert_eq!(wal.write_snapshot(lsn, b"state after 10")?, 32 + 14);
    append_all(&wal, 11..=15);
    assert_eq!(
        files(tmp.path()),
        [SNAP_10, WAL_11],
        "the covered segment is gone"
    );
    wal.flush_and_close()?;

    let (_wal, recovery) = open(tmp.path())?;
    let snapshot = recovery.snapshot.as_ref().expect("a snapshot");
    assert_eq!(
        (snapshot.lsn, &snapshot.payload[..]),
        (10, &b"state after 10"[..])
    );
    assert_eq!(records(&recovery), expected(11..=15));
    assert_eq!(recovery.report.snapshot_lsn, 10);
    assert_eq!(recovery.report.wal_records, 5);
    Ok(())
}

#[test]
fn appends_during_a_snapshot_land_in_the_next_segment() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    for i in 1..=5 {
        wal.append(&payload(i));
    }
    let lsn = wal.begin_snapshot();
    for i in 6..=8 {
        wal.append(&payload(i));
    }
    // Everything is still pending: the rotation point falls inside one buffer.
    wal.write_snapshot(lsn, b"five")?;
    wal.flush_and_close()?;
    assert_eq!(
        files(tmp.path()),
        [
            "snapshot-00000000000000000005.snap",
            "wal-00000000000000000006.log"
        ]
    );
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(recovery.snapshot.as_ref().map(|s| s.lsn), Some(5));
    assert_eq!(records(&recovery), expected(6..=8));
    Ok(())
}

#[test]
fn a_segment_left_for_the_next_ends_at_its_last_record() -> TestResult {
    // Only the last segment may end in the space allocated ahead: a crash after a rotation, with
    // both segments on disk and no snapshot yet, must recover every record.
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    append_all(&wal, 1..=5);
    wal.begin_snapshot();
    append_all(&wal, 6..=8);
    let crashed = crash_copy(tmp.path());
    let records_1_to_5: u64 = (1..=5).map(|i| 16 + payload(i).len() as u64).sum();
    assert_eq!(
        fs::metadata(crashed.path().join(WAL_1))?.len(),
        sluice_storage::format::WAL_HEADER_LEN as u64 + records_1_to_5
    );
    let (_copy, recovery) = open(crashed.path())?;
    assert_eq!(records(&recovery), expected(1..=8));
    assert_eq!(recovery.report.torn_tail, None);
    drop(wal);
    Ok(())
}

#[test]
fn a_newer_snapshot_replaces_the_older_and_stats_follow() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    append_all(&wal, 1..=10);
    let first = wal.begin_snapshot();
    assert!(wal.stats().save.in_progress_since_unix_ms.is_some());
    wal.write_snapshot(first, b"ten")?;
    append_all(&wal, 11..=15);
    let second = wal.begin_snapshot();
    assert_eq!(wal.wal_bytes(), 0, "reset when a snapshot begins");
    wal.write_snapshot(second, b"fifteen")?;
    assert_eq!(
        files(tmp.path()),
        [
            "snapshot-00000000000000000015.snap",
            "wal-00000000000000000016.log"
        ]
    );
    let stats = wal.stats();
    assert_eq!(
        (stats.save.lsn, stats.save.bytes, stats.save.saves),
        (15, 32 + 7, 2)
    );
    assert_eq!(stats.save.last_status, SaveStatus::Ok);
    assert_eq!(stats.save.in_progress_since_unix_ms, None);
    assert!(stats.save.last_save_unix_s > 1_600_000_000);
    assert_eq!((stats.changes_since_save, stats.segments), (0, 1));
    // A stale or premature snapshot is refused, and the status says so.
    assert!(matches!(
        wal.write_snapshot(10, b"old"),
        Err(Error::SnapshotLsn { .. })
    ));
    assert!(matches!(
        wal.write_snapshot(99, b"future"),
        Err(Error::SnapshotLsn { .. })
    ));
    assert_eq!(wal.stats().save.last_status.as_str(), "err");
    Ok(())
}

#[test]
fn snapshots_without_writes_between_them_share_one_segment() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    let empty = wal.begin_snapshot();
    assert_eq!(empty, 0);
    wal.write_snapshot(empty, b"")?;
    append_all(&wal, 1..=2);
    for _ in 0..3 {
        let lsn = wal.begin_snapshot();
        wal.write_snapshot(lsn, b"two")?;
    }
    wal.flush_and_close()?;
    assert_eq!(
        files(tmp.path()),
        [
            "snapshot-00000000000000000002.snap",
            "wal-00000000000000000003.log"
        ]
    );
    let (wal, recovery) = open(tmp.path())?;
    assert_eq!(recovery.snapshot.as_ref().map(|s| s.lsn), Some(2));
    assert_eq!(wal.append(b"next"), 3);
    Ok(())
}

/// A directory with `snapshot-10` and `wal-11` (records 11..=12), plus the bytes `wal-1` held
/// (records 1..=10) before the snapshot deleted it.
fn snapshot_at_10(dir: &std::path::Path) -> Vec<u8> {
    let (wal, _) = open(dir).expect("open");
    append_all(&wal, 1..=10);
    let lsn = wal.begin_snapshot();
    append_all(&wal, 11..=12);
    let wal_1 = fs::read(dir.join(WAL_1)).expect("wal-1");
    wal.write_snapshot(lsn, b"state after 10")
        .expect("snapshot");
    wal.flush_and_close().expect("close");
    wal_1
}

#[test]
fn a_crash_while_writing_a_snapshot_leaves_a_temp_file_that_is_ignored() -> TestResult {
    let tmp = temp();
    snapshot_at_10(tmp.path());
    let tmp_file = tmp.path().join("snapshot-00000000000000000012.snap.tmp");
    fs::write(&tmp_file, b"SLUICSNP half a snap")?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(recovery.snapshot.as_ref().map(|s| s.lsn), Some(10));
    assert_eq!(records(&recovery), expected(11..=12));
    assert_eq!(
        recovery.report.removed_files,
        std::slice::from_ref(&tmp_file)
    );
    assert!(!tmp_file.exists());
    Ok(())
}

#[test]
fn a_crash_before_cleanup_leaves_covered_files_that_startup_removes() -> TestResult {
    let tmp = temp();
    let wal_1 = snapshot_at_10(tmp.path());
    fs::write(tmp.path().join(WAL_1), wal_1)?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(recovery.snapshot.as_ref().map(|s| s.lsn), Some(10));
    assert_eq!(records(&recovery), expected(11..=12));
    assert_eq!(files(tmp.path()), [SNAP_10, WAL_11]);
    Ok(())
}

#[test]
fn a_corrupt_snapshot_without_complete_older_data_is_an_error() -> TestResult {
    let tmp = temp();
    snapshot_at_10(tmp.path());
    let snap = tmp.path().join(SNAP_10);
    let mut bytes = fs::read(&snap)?;
    bytes[40] ^= 1;
    fs::write(&snap, &bytes)?;
    let err = open(tmp.path()).expect_err("no silent fallback");
    assert!(
        matches!(&err, Error::CorruptSnapshot { path, .. } if *path == snap),
        "{err}"
    );
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    Ok(())
}

#[test]
fn a_corrupt_snapshot_falls_back_only_to_provably_complete_data() -> TestResult {
    let tmp = temp();
    let wal_1 = snapshot_at_10(tmp.path());
    // The crash came before cleanup: the log from LSN 1 is all there.
    fs::write(tmp.path().join(WAL_1), wal_1)?;
    let snap = tmp.path().join(SNAP_10);
    let len = fs::metadata(&snap)?.len();
    fs::OpenOptions::new()
        .write(true)
        .open(&snap)?
        .set_len(len - 1)?;
    let (_wal, recovery) = open(tmp.path())?;
    assert!(recovery.snapshot.is_none());
    assert_eq!(records(&recovery), expected(1..=12));
    let skipped = recovery.report.skipped_snapshot.clone().expect("reported");
    assert!(skipped.contains(SNAP_10), "{skipped}");
    // Kept for the operator to look at.
    assert!(snap.exists());
    Ok(())
}

#[test]
fn a_snapshot_from_a_newer_format_is_a_clear_error() -> TestResult {
    let tmp = temp();
    snapshot_at_10(tmp.path());
    let snap = tmp.path().join(SNAP_10);
    let mut bytes = fs::read(&snap)?;
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    fs::write(&snap, &bytes)?;
    let err = open(tmp.path()).expect_err("newer");
    assert!(
        err.to_string()
            .contains("was written by a newer Sluice (format v2); this build reads up to v1"),
        "{err}"
    );
    Ok(())
}
