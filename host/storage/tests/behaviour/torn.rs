//! A write cut off by a crash: whatever the cut point, recovery keeps every complete record, cuts
//! the rest off, says so, and the log is appendable again.

use std::fs;
use std::path::Path;

use sluice_storage::format::WAL_HEADER_LEN;

use crate::common::*;

/// A closed log of records 1..=6 (the first empty); returns its only segment's name and bytes.
fn six_records() -> (String, Vec<u8>) {
    let tmp = temp();
    let (wal, _) = open(tmp.path()).expect("open");
    append_all(&wal, 1..=6);
    wal.flush_and_close().expect("close");
    let path = only_segment(tmp.path());
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    (name, fs::read(&path).expect("read"))
}

/// Offsets where each record ends.
fn record_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = WAL_HEADER_LEN;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        at += 16 + len;
        ends.push(at);
    }
    ends
}

fn recover_cut(name: &str, bytes: &[u8], dir: &Path) -> TestResult {
    fs::write(dir.join(name), bytes)?;
    Ok(())
}

#[test]
fn a_torn_tail_is_cut_off_at_every_cut_point_and_the_log_goes_on() -> TestResult {
    let (name, full) = six_records();
    let ends = record_ends(&full);
    assert_eq!(ends.len(), 6);
    for cut in 0..full.len() {
        let tmp = temp();
        recover_cut(&name, &full[..cut], tmp.path())?;
        let complete = ends.iter().filter(|&&end| end <= cut).count() as u64;
        let valid_len = ends
            .iter()
            .copied()
            .filter(|&end| end <= cut)
            .max()
            .unwrap_or(if cut < WAL_HEADER_LEN {
                0
            } else {
                WAL_HEADER_LEN
            });

        let (wal, recovery) = open(tmp.path())?;
        assert_eq!(records(&recovery), expected(1..=complete), "cut at {cut}");
        let torn = recovery.report.torn_tail.clone();
        // A segment with no complete header is torn even if empty: its header is rewritten. A
        // cut leaving only zeroes after the last record (record 1's length field is zero) looks
        // like space allocated ahead: dropped, not reported.
        let zeroes_only = full[valid_len..cut].iter().all(|&b| b == 0);
        if zeroes_only && cut >= WAL_HEADER_LEN {
            assert_eq!(torn, None, "cut at {cut} leaves no torn record");
        } else {
            let torn = torn.expect("a torn tail is reported");
            assert_eq!(torn.offset, valid_len as u64, "cut at {cut}");
            assert_eq!(torn.dropped_bytes, (cut - valid_len) as u64, "cut at {cut}");
            assert!(torn.path.ends_with(&name));
        }
        // Appendable again, and the next LSN follows the last complete record.
        assert_eq!(wal.append(&payload(complete + 1)), complete + 1);
        wal.flush_and_close()?;
        let (_wal, recovery) = open(tmp.path())?;
        assert_eq!(
            records(&recovery),
            expected(1..=complete + 1),
            "cut at {cut}, reopened"
        );
        assert_eq!(recovery.report.torn_tail, None);
    }
    Ok(())
}

#[test]
fn zeroes_after_the_last_record_are_unused_space_not_a_torn_tail() -> TestResult {
    // The writer allocates space ahead with zeroes; a crash leaves them after the last record.
    let (name, mut bytes) = six_records();
    let len = bytes.len();
    bytes.resize(len + 4096, 0);
    let tmp = temp();
    recover_cut(&name, &bytes, tmp.path())?;
    let (wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=6));
    assert_eq!(recovery.report.torn_tail, None);
    // The next record goes right after the sixth, not after the zeroes.
    assert_eq!(wal.append(&payload(7)), 7);
    wal.flush_and_close()?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=7));
    let record_7 = 16 + payload(7).len() as u64;
    assert_eq!(
        fs::metadata(tmp.path().join(&name))?.len(),
        len as u64 + record_7
    );
    Ok(())
}

#[test]
fn a_cut_off_record_followed_by_zeroes_is_a_torn_tail() -> TestResult {
    let (name, full) = six_records();
    let ends = record_ends(&full);
    // Record 6 cut after its header, then the space allocated ahead.
    let cut = ends[4] + 16;
    let mut bytes = full[..cut].to_vec();
    bytes.resize(cut + 4096, 0);
    let tmp = temp();
    recover_cut(&name, &bytes, tmp.path())?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=5));
    let torn = recovery.report.torn_tail.clone().expect("reported");
    assert_eq!(
        (torn.offset, torn.dropped_bytes),
        (ends[4] as u64, 16 + 4096)
    );
    assert_eq!(fs::metadata(tmp.path().join(&name))?.len(), ends[4] as u64);
    Ok(())
}

#[test]
fn a_damaged_last_record_is_a_torn_tail() -> TestResult {
    let (name, mut bytes) = six_records();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    let tmp = temp();
    recover_cut(&name, &bytes, tmp.path())?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=5));
    assert!(recovery.report.torn_tail.is_some());
    Ok(())
}
