//! Append, close, reopen: the records come back exactly, and the log goes on after them.

use std::sync::Arc;

use sluice_storage::{Error, FsyncPolicy, Storage};

use crate::common::*;

#[test]
fn an_empty_or_missing_directory_is_a_fresh_start() -> TestResult {
    let tmp = temp();
    let dir = tmp.path().join("nested/data");
    let (wal, recovery) = open(&dir)?;
    assert!(recovery.snapshot.is_none());
    assert_eq!(recovery.records().count(), 0);
    assert!(recovery.report.fresh);
    assert_eq!(recovery.report.last_lsn, 0);
    assert_eq!(wal.last_lsn(), 0);
    assert_eq!(files(&dir), ["wal-00000000000000000001.log"]);
    wal.flush_and_close()?;
    Ok(())
}

#[test]
fn records_round_trip_and_the_log_goes_on_after_them() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    append_all(&wal, 1..=50);
    wal.flush_and_close()?;
    // Closed, the segment holds its header and records and nothing allocated ahead.
    let record_bytes: u64 = (1..=50).map(|i| 16 + payload(i).len() as u64).sum();
    assert_eq!(
        std::fs::metadata(only_segment(tmp.path()))?.len(),
        sluice_storage::format::WAL_HEADER_LEN as u64 + record_bytes
    );

    let (wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=50));
    assert!(!recovery.report.fresh);
    assert_eq!(recovery.report.wal_records, 50);
    assert_eq!(recovery.report.torn_tail, None);
    assert_eq!(wal.append(&payload(51)), 51);
    drop(wal);

    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=51));
    Ok(())
}

#[test]
fn drop_writes_and_fsyncs_what_was_only_appended() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::No)?;
    for i in 1..=10 {
        wal.append(&payload(i));
    }
    drop(wal);
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=10));
    Ok(())
}

#[test]
fn written_through_records_survive_a_process_crash() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::No)?;
    append_all(&wal, 1..=20);
    let crashed = crash_copy(tmp.path());
    let (_copy, recovery) = open(crashed.path())?;
    assert_eq!(records(&recovery), expected(1..=20));
    assert_eq!(recovery.report.torn_tail, None);
    drop(wal);
    Ok(())
}

#[test]
fn the_log_allocates_space_ahead_and_closing_gives_it_back() -> TestResult {
    for policy in [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No] {
        let tmp = temp();
        let (wal, _) = Storage::open(tmp.path(), policy)?;
        append_all(&wal, 1..=3);
        wal.write_through(3)?;
        let record_bytes: u64 = (1..=3).map(|i| 16 + payload(i).len() as u64).sum();
        let logged = sluice_storage::format::WAL_HEADER_LEN as u64 + record_bytes;
        assert_eq!(wal.stats().disk_bytes, logged, "{policy:?}");
        let path = only_segment(tmp.path());
        let on_disk = std::fs::metadata(&path)?.len();
        assert!(
            on_disk >= logged + (1 << 20),
            "{policy:?}: {on_disk} bytes on disk"
        );
        // A crash now leaves the zeroes after the records: unused space, not a torn write.
        let crashed = crash_copy(tmp.path());
        let (copy, recovery) = open(crashed.path())?;
        assert_eq!(records(&recovery), expected(1..=3), "{policy:?}");
        assert_eq!(recovery.report.torn_tail, None, "{policy:?}");
        // Appends go on right after the last record.
        assert_eq!(copy.append(&payload(4)), 4);
        copy.flush_and_close()?;
        let (_copy, recovery) = open(crashed.path())?;
        assert_eq!(records(&recovery), expected(1..=4), "{policy:?}");
        // Closing cuts the file back to its records.
        wal.flush_and_close()?;
        assert_eq!(std::fs::metadata(&path)?.len(), logged, "{policy:?}");
    }
    Ok(())
}

#[test]
fn a_second_process_cannot_open_the_same_directory() -> TestResult {
    let tmp = temp();
    let (_wal, _) = open(tmp.path())?;
    let err = open(tmp.path()).expect_err("the directory is locked");
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("in use by another Sluice process"),
        "{err}"
    );
    Ok(())
}

#[test]
fn concurrent_appends_get_consecutive_lsns_in_file_order() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    let wal = Arc::new(wal);
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for i in 0..500u32 {
                    let lsn = wal.append(&[&[t][..], &i.to_le_bytes()].concat());
                    if i % 7 == 0 {
                        wal.write_through(lsn).expect("write through");
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("appender");
    }
    let wal = Arc::into_inner(wal).expect("last handle");
    wal.flush_and_close()?;

    let (_wal, recovery) = open(tmp.path())?;
    let got = records(&recovery);
    assert_eq!(got.len(), 2000);
    assert!(got.iter().zip(1..).all(|((lsn, _), want)| *lsn == want));
    // Each thread's records are in the order it appended them.
    for t in 0..4u8 {
        let seq: Vec<u32> = got
            .iter()
            .filter(|(_, p)| p[0] == t)
            .map(|(_, p)| u32::from_le_bytes([p[1], p[2], p[3], p[4]]))
            .collect();
        assert_eq!(seq, (0..500).collect::<Vec<_>>());
    }
    Ok(())
}

#[test]
fn stats_describe_the_log() -> TestResult {
    let tmp = temp();
    let (wal, _) = open(tmp.path())?;
    append_all(&wal, 1..=3);
    wal.append(b"pending");
    let stats = wal.stats();
    assert_eq!(stats.policy, FsyncPolicy::EverySec);
    assert_eq!(stats.appended_lsn, 4);
    // The once-a-second background write may have taken the pending record already.
    let pending = if stats.written_lsn == 3 { 16 + 7 } else { 0 };
    assert_eq!(stats.pending_bytes, pending);
    assert_eq!(stats.changes_since_save, 4);
    assert_eq!(stats.segments, 1);
    let appended: u64 = (1..=3).map(|i| 16 + payload(i).len() as u64).sum::<u64>() + 16 + 7;
    // The log's size is its header and written records; the file may hold space ahead.
    let header = sluice_storage::format::WAL_HEADER_LEN as u64;
    assert_eq!(stats.disk_bytes, header + appended - stats.pending_bytes);
    let on_disk = std::fs::metadata(only_segment(tmp.path()))?.len();
    assert!(on_disk >= stats.disk_bytes, "{on_disk} bytes on disk");
    assert_eq!(stats.wal_bytes, appended);
    assert_eq!(wal.wal_bytes(), appended);
    assert_eq!(stats.failure, None);
    assert_eq!(stats.save.lsn, 0);
    assert_eq!(stats.save.last_status.as_str(), "ok");
    assert!(stats.recovery.fresh);
    Ok(())
}
