//! Damage that is not a torn tail: startup fails with an error naming the file and offset, and
//! leaves the files as they were.

use std::fs;
use std::path::Path;

use sluice_storage::Error;
use sluice_storage::format::WAL_HEADER_LEN;

use crate::common::*;

/// A closed log with one segment per range: `[1..=3, 4..=5, 6..=7]` gives three segments.
fn segmented(dir: &Path, ranges: &[std::ops::RangeInclusive<u64>]) {
    let (wal, _) = open(dir).expect("open");
    for range in ranges {
        if *range.start() > 1 {
            wal.begin_snapshot();
        }
        append_all(&wal, range.clone());
    }
    wal.flush_and_close().expect("close");
}

/// Offsets where each record of a segment starts.
fn record_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = WAL_HEADER_LEN;
    while at < bytes.len() {
        starts.push(at);
        at += 16 + u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
    }
    starts
}

#[test]
fn every_flipped_byte_of_a_middle_record_is_an_error_with_file_and_offset() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=6]);
    let path = only_segment(tmp.path());
    let good = fs::read(&path)?;
    let starts = record_starts(&good);
    let (from, to) = (starts[2], starts[3]);
    for at in from..to {
        for mask in [0x01, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[at] ^= mask;
            fs::write(&path, &bad)?;
            let err = open(tmp.path()).expect_err("corruption must not load");
            let Error::Corrupt {
                path: p, offset, ..
            } = &err
            else {
                panic!("byte {at} ^ {mask:#x}: {err}");
            };
            assert_eq!(
                (p, *offset),
                (&path, from as u64),
                "byte {at} ^ {mask:#x}: {err}"
            );
            let text = err.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains(&format!("at byte offset {from}")), "{text}");
            assert_eq!(
                fs::read(&path)?,
                bad,
                "a failed start leaves the file alone"
            );
        }
    }
    fs::write(&path, &good)?;
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=6));
    Ok(())
}

#[test]
fn a_bad_record_in_an_older_segment_is_an_error() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=3, 4..=5]);
    let path = tmp.path().join("wal-00000000000000000001.log");
    let mut bytes = fs::read(&path)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&path, &bytes)?;
    let err = open(tmp.path()).expect_err("not a torn tail");
    assert!(
        matches!(&err, Error::Corrupt { path: p, .. } if *p == path),
        "{err}"
    );
    assert!(err.to_string().contains("not the last segment"), "{err}");
    Ok(())
}

#[test]
fn a_valid_record_with_the_wrong_lsn_is_an_error() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=3]);
    let path = only_segment(tmp.path());
    let mut bytes = fs::read(&path)?;
    let starts = record_starts(&bytes);
    let end = bytes.len();
    let second = bytes[starts[1]..starts[2]].to_vec();
    bytes.extend_from_slice(&second);
    fs::write(&path, &bytes)?;
    let err = open(tmp.path()).expect_err("a replayed record is not a torn tail");
    assert!(
        matches!(err, Error::Corrupt { offset, .. } if offset == end as u64),
        "{err}"
    );
    assert!(
        err.to_string().contains("LSN 2 where LSN 4 was expected"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_missing_segment_is_an_error() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=3, 4..=5, 6..=7]);
    fs::remove_file(tmp.path().join("wal-00000000000000000004.log"))?;
    let err = open(tmp.path()).expect_err("gap");
    assert!(matches!(err, Error::Gap { from: 4, .. }), "{err}");
    assert!(
        err.to_string().contains("missing records from LSN 4"),
        "{err}"
    );

    fs::remove_file(tmp.path().join("wal-00000000000000000001.log"))?;
    let err = open(tmp.path()).expect_err("the start is missing");
    assert!(matches!(err, Error::Gap { from: 1, .. }), "{err}");
    Ok(())
}

#[test]
fn a_newer_format_version_is_a_clear_error() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=2]);
    let path = only_segment(tmp.path());
    let mut bytes = fs::read(&path)?;
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    fs::write(&path, &bytes)?;
    let err = open(tmp.path()).expect_err("newer format");
    assert!(
        matches!(
            err,
            Error::NewerFormat {
                found: 7,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    let want = format!(
        "{} was written by a newer Sluice (format v7); this build reads up to v1",
        path.display()
    );
    assert!(err.to_string().starts_with(&want), "{err}");
    Ok(())
}

#[test]
fn a_file_that_is_not_a_segment_is_an_error() -> TestResult {
    let tmp = temp();
    segmented(tmp.path(), &[1..=2]);
    let path = only_segment(tmp.path());
    let mut bytes = fs::read(&path)?;
    bytes[..8].copy_from_slice(b"NOTSLUIC");
    fs::write(&path, &bytes)?;
    let err = open(tmp.path()).expect_err("bad magic");
    assert!(matches!(err, Error::BadMagic { .. }), "{err}");
    Ok(())
}
