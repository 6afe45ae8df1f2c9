//! Committed on-disk fixtures: every format version ever written must still load.
//!
//! `tests/fixtures/v<N>/` holds a small data directory written by format vN: a snapshot at LSN 3
//! and a log segment with records 4..=6. The test for each version loads a copy and checks the
//! exact snapshot and records.
//!
//! The fixtures of the current version are made by [`generate`]. To regenerate them (only when
//! adding a new format version: committed versions are frozen), run
//!
//! ```text
//! SLUICE_REGENERATE_FIXTURES=1 cargo test -p sluice-storage --test behaviour fixtures
//! ```
//!
//! Without the variable, the test checks instead that this build still writes the current
//! version's fixtures byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use sluice_storage::FORMAT_VERSION;

use crate::common::*;

/// The snapshot payload in every fixture.
const SNAPSHOT: &[u8] = b"state after records 1..=3";

/// The records after the snapshot in every fixture: an empty one, text, every byte value.
fn fixture_records() -> Vec<(u64, Vec<u8>)> {
    vec![
        (4, Vec::new()),
        (5, b"XADD orders 1-1 id 42 region eu".to_vec()),
        (6, (0..=255u8).collect()),
    ]
}

fn fixture_dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/v{version}"))
}

/// Writes the fixture data directory into `dir` with this build.
fn generate(dir: &Path) -> TestResult {
    let (wal, _) = open(dir)?;
    for i in 1..=3u8 {
        wal.append(&[b'r', i]);
    }
    let lsn = wal.begin_snapshot();
    assert_eq!(lsn, 3);
    wal.write_snapshot(lsn, SNAPSHOT)?;
    for (lsn, payload) in fixture_records() {
        assert_eq!(wal.append(&payload), lsn);
    }
    wal.flush_and_close()?;
    Ok(())
}

/// Loads a copy of the fixtures of `version` and checks exactly what comes back.
fn check_loads(version: u32) -> TestResult {
    let copy = temp();
    for name in files(&fixture_dir(version)) {
        fs::copy(fixture_dir(version).join(&name), copy.path().join(&name))?;
    }
    let (wal, recovery) = open(copy.path())?;
    let snapshot = recovery
        .snapshot
        .as_ref()
        .expect("the fixture has a snapshot");
    assert_eq!((snapshot.lsn, &snapshot.payload[..]), (3, SNAPSHOT));
    assert_eq!(records(&recovery), fixture_records());
    assert_eq!(recovery.report.torn_tail, None);
    assert!(recovery.report.removed_files.is_empty());
    // An old directory is writable by this build.
    assert_eq!(wal.append(b"after upgrade"), 7);
    Ok(())
}

#[test]
fn format_v1_fixtures_load() -> TestResult {
    assert_eq!(
        files(&fixture_dir(1)),
        [
            "snapshot-00000000000000000003.snap",
            "wal-00000000000000000004.log"
        ]
    );
    check_loads(1)
}

#[test]
fn this_build_writes_the_current_fixtures_byte_for_byte() -> TestResult {
    let target = fixture_dir(FORMAT_VERSION);
    let fresh = temp();
    generate(fresh.path())?;
    if std::env::var_os("SLUICE_REGENERATE_FIXTURES").is_some() {
        fs::create_dir_all(&target)?;
        for name in files(&target) {
            fs::remove_file(target.join(name))?;
        }
        for name in files(fresh.path()) {
            fs::copy(fresh.path().join(&name), target.join(&name))?;
        }
    }
    assert_eq!(files(fresh.path()), files(&target));
    for name in files(&target) {
        let want = fs::read(target.join(&name))?;
        let got = fs::read(fresh.path().join(&name))?;
        assert!(got == want, "{name} differs from the committed fixture");
    }
    Ok(())
}
