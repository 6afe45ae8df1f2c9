//! Helpers: open a directory, read back what it recovers, simulate a crash.

use std::fs;
use std::path::{Path, PathBuf};

use sluice_storage::{FsyncPolicy, Lsn, Recovery, Storage, Wal};
use tempfile::TempDir;

pub type TestResult = anyhow::Result<()>;

/// A fresh temporary directory.
pub fn temp() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Opens `dir` with `everysec`.
pub fn open(dir: &Path) -> sluice_storage::Result<(Wal, Recovery)> {
    Storage::open(dir, FsyncPolicy::EverySec)
}

/// `(lsn, payload)` of every record to replay.
pub fn records(recovery: &Recovery) -> Vec<(Lsn, Vec<u8>)> {
    recovery
        .records()
        .map(|r| (r.lsn, r.payload.to_vec()))
        .collect()
}

/// Payload of record `i` in tests: 0 to 22 bytes, empty for record 1.
pub fn payload(i: u64) -> Vec<u8> {
    (0..(i * 7 + 16) % 23)
        .map(|b| (b as u8).wrapping_mul(31).wrapping_add(i as u8))
        .collect()
}

/// Appends records with [`payload`] for `lsns`, writing them through.
pub fn append_all(wal: &Wal, lsns: std::ops::RangeInclusive<u64>) {
    for i in lsns {
        let lsn = wal.append(&payload(i));
        assert_eq!(lsn, i, "LSNs are consecutive");
    }
    wal.write_through(wal.last_lsn()).expect("write through");
}

/// `(lsn, payload)` that [`append_all`] wrote for `lsns`.
pub fn expected(lsns: std::ops::RangeInclusive<u64>) -> Vec<(Lsn, Vec<u8>)> {
    lsns.map(|i| (i, payload(i))).collect()
}

/// What a SIGKILL would leave: a copy of the data files as the OS holds them now, while the log
/// is still open (so nothing is flushed at close).
pub fn crash_copy(dir: &Path) -> TempDir {
    let copy = temp();
    for entry in fs::read_dir(dir).expect("list") {
        let entry = entry.expect("entry");
        if entry.file_name() != "LOCK" {
            fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy");
        }
    }
    copy
}

/// The files in `dir`, sorted, without `LOCK`.
pub fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "LOCK")
        .collect();
    names.sort();
    names
}

/// Path of the only segment in `dir`.
pub fn only_segment(dir: &Path) -> PathBuf {
    let segments: Vec<String> = files(dir)
        .into_iter()
        .filter(|n| n.starts_with("wal-"))
        .collect();
    assert_eq!(segments.len(), 1, "one segment in {segments:?}");
    dir.join(&segments[0])
}
