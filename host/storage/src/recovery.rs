//! [`Storage::open`]: from a data directory to a running [`Wal`] and what to replay.
//!
//! 1. Take the directory's `LOCK`.
//! 2. Load the newest snapshot. If it is corrupt, an older one (or none) is used only when it is
//!    provably complete: the log after it is all there and reaches past the corrupt snapshot's
//!    LSN. Otherwise startup fails: older data is never served silently.
//! 3. Read the chain of log segments after the snapshot, checking every record and that the LSNs
//!    have no gap. A torn tail of the last segment is cut off (and logged); any other bad record
//!    is an error naming the file and offset.
//! 4. Remove leftovers (unfinished snapshots, files the snapshot covers) and start the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use crate::dir::{self, Listing};
use crate::format::{self, SNAPSHOT_HEADER_LEN};
use crate::replay::{Recovery, RecoveryReport, Snapshot, TornTail};
use crate::scan::{self, Segment};
use crate::snapshot::{self, ReadError};
use crate::stats::{SaveStats, unix_ms};
use crate::wal::{Durable, Inner, Padded, Pending};
use crate::writer::Writer;
use crate::{Error, FsyncPolicy, Lsn, Result, Timings, Wal, sync};

/// Opens data directories.
#[derive(Debug)]
pub struct Storage;

/// What was chosen to recover from.
struct Loaded {
    snapshot: Option<Snapshot>,
    /// The segments after the snapshot, checked.
    segments: Vec<Segment>,
    /// Index in the listing of the first segment not covered by the snapshot.
    first_kept: usize,
    /// A corrupt newer snapshot passed over, as "path: reason".
    skipped: Option<String>,
}

impl Storage {
    /// Opens (creating it if needed) the data directory `dir`: recovers what it holds and starts
    /// the write-ahead log after it, with fsync policy `policy`. An empty directory is a fresh
    /// start. Fails, saying what to do, on corruption, missing records, a newer format, or a
    /// directory another process holds.
    pub fn open(dir: impl AsRef<Path>, policy: FsyncPolicy) -> Result<(Wal, Recovery)> {
        let started = Instant::now();
        let dir = dir.as_ref();
        let lock = dir::lock(dir)?;
        let listing = dir::list(dir)?;
        let loaded = load(dir, &listing)?;
        let after = loaded.snapshot.as_ref().map_or(0, |s| s.lsn);
        let mut report = report(dir, &listing, &loaded);
        let next_lsn = loaded.segments.last().map_or(after + 1, |s| s.next_lsn);
        let writer = match loaded.segments.is_empty() {
            true => Writer::create(dir, next_lsn)?,
            false => Writer::resume(dir, &loaded.segments)?,
        };
        report.removed_files = remove_leftovers(dir, &listing, &loaded)?;
        report.last_lsn = next_lsn - 1;
        report.wal_records = (next_lsn - 1).saturating_sub(after);
        report.duration = started.elapsed();
        tracing::info!(
            dir = %dir.display(),
            snapshot_lsn = after,
            records = report.wal_records,
            ms = report.duration.as_millis() as u64,
            "recovered the data directory"
        );
        let wal = start_log(dir, lock, writer, next_lsn, policy, &report)?;
        let recovery = Recovery {
            snapshot: loaded.snapshot,
            report,
            segments: loaded.segments,
            after_lsn: after,
        };
        Ok((wal, recovery))
    }
}

/// What recovery found in `dir`, so far: the snapshot, the log's size, a torn tail (logged).
fn report(dir: &Path, listing: &Listing, loaded: &Loaded) -> RecoveryReport {
    let mut report = RecoveryReport {
        dir: dir.to_path_buf(),
        fresh: listing.segments.is_empty() && listing.snapshots.is_empty(),
        snapshot_lsn: loaded.snapshot.as_ref().map_or(0, |s| s.lsn),
        snapshot_bytes: loaded
            .snapshot
            .as_ref()
            .map_or(0, |s| (SNAPSHOT_HEADER_LEN + s.payload.len()) as u64),
        wal_bytes: loaded.segments.iter().map(|s| s.bytes.len() as u64).sum(),
        skipped_snapshot: loaded.skipped.clone(),
        ..RecoveryReport::default()
    };
    if let Some(last) = loaded.segments.last().filter(|s| s.is_torn()) {
        let torn = TornTail {
            path: last.path.clone(),
            offset: last.valid_len as u64,
            dropped_bytes: (last.bytes.len() - last.valid_len) as u64,
        };
        tracing::warn!(
            file = %torn.path.display(),
            offset = torn.offset,
            dropped_bytes = torn.dropped_bytes,
            "truncating a torn write at the end of the log (a write cut off by a crash)"
        );
        report.torn_tail = Some(torn);
    }
    report
}

/// Starts the log: its shared state, appending at `next_lsn` through `writer`, and the thread
/// that writes and fsyncs it. `lock` is held for the log's life.
fn start_log(
    dir: &Path,
    lock: std::fs::File,
    writer: Writer,
    next_lsn: Lsn,
    policy: FsyncPolicy,
    report: &RecoveryReport,
) -> Result<Wal> {
    let saves = SaveStats {
        lsn: report.snapshot_lsn,
        bytes: report.snapshot_bytes,
        last_save_unix_s: unix_ms() / 1000,
        ..SaveStats::default()
    };
    let durable = Durable {
        lsn: next_lsn - 1,
        fatal: false,
    };
    let inner = Arc::new(Inner {
        dir: dir.to_path_buf(),
        pending: Padded(Mutex::new(Pending {
            buf: Vec::new(),
            next_lsn,
            rotations: Vec::new(),
            since_snapshot: report.wal_bytes,
        })),
        writer: Padded(Mutex::new(writer)),
        appended: Padded(AtomicU64::new(next_lsn - 1)),
        written: Padded(AtomicU64::new(next_lsn - 1)),
        durable: Padded(AtomicU64::new(next_lsn - 1)),
        durable_tx: watch::Sender::new(durable),
        policy: AtomicU8::new(policy.to_u8()),
        failure: Mutex::new(None),
        failed: AtomicBool::new(false),
        refused_ms: AtomicU64::new(0),
        control: Mutex::new(sync::Control::default()),
        wake: Condvar::new(),
        fsyncs: AtomicU64::new(0),
        fsync_timings: Timings::default(),
        fsync_fault: Mutex::new(None),
        last_fsync_unix_ms: AtomicU64::new(0),
        saves: Mutex::new(saves),
        snapshot_lock: Mutex::new(()),
        sync_lock: Padded(Mutex::new(())),
        recovery: report.clone(),
        _lock: lock,
    });
    let thread = sync::spawn(Arc::clone(&inner))?;
    Ok(Wal {
        inner,
        thread: Some(thread),
    })
}

/// Picks the snapshot and reads the log after it.
fn load(dir: &Path, listing: &Listing) -> Result<Loaded> {
    // The newest snapshot that failed its checks: (path, lsn, reason).
    let mut corrupt: Option<(PathBuf, Lsn, String)> = None;
    for (lsn, path) in listing.snapshots.iter().rev() {
        match snapshot::read(path, *lsn) {
            Ok(payload) => {
                let snapshot = Snapshot { lsn: *lsn, payload };
                return load_after(dir, listing, Some(snapshot), corrupt);
            }
            Err(ReadError::Fatal(error)) => return Err(error),
            Err(ReadError::Corrupt(reason)) => {
                tracing::warn!(file = %path.display(), %reason, "snapshot is corrupt");
                corrupt.get_or_insert((path.clone(), *lsn, reason));
            }
        }
    }
    load_after(dir, listing, None, corrupt)
}

/// Reads the log after `snapshot`; if a newer snapshot was `corrupt`, accepts this older state
/// only if the log reaches past the corrupt one.
fn load_after(
    dir: &Path,
    listing: &Listing,
    snapshot: Option<Snapshot>,
    corrupt: Option<(PathBuf, Lsn, String)>,
) -> Result<Loaded> {
    let after = snapshot.as_ref().map_or(0, |s| s.lsn);
    let chain = read_chain(dir, &listing.segments, after);
    let Some((path, corrupt_lsn, reason)) = corrupt else {
        let (segments, first_kept) = chain?;
        return Ok(Loaded {
            snapshot,
            segments,
            first_kept,
            skipped: None,
        });
    };
    let reached = match &chain {
        Ok((segments, _)) => segments.last().map_or(after, |s| s.next_lsn - 1),
        Err(_) => 0,
    };
    match chain {
        Ok((segments, first_kept)) if reached >= corrupt_lsn => {
            tracing::warn!(
                file = %path.display(),
                older_snapshot_lsn = after,
                "skipping the corrupt snapshot: an older state plus the full log after it is complete"
            );
            Ok(Loaded {
                snapshot,
                segments,
                first_kept,
                skipped: Some(format!("{}: {reason}", path.display())),
            })
        }
        _ => Err(Error::CorruptSnapshot { path, reason }),
    }
}

/// Reads and checks the segments holding the records after `after`. Returns them and the index
/// of the first one in `segments`.
fn read_chain(
    dir: &Path,
    segments: &[(Lsn, PathBuf)],
    after: Lsn,
) -> Result<(Vec<Segment>, usize)> {
    let gap = |from: Lsn, detail: String| Error::Gap {
        dir: dir.to_path_buf(),
        from,
        detail,
    };
    let Some(&(oldest, _)) = segments.first() else {
        if after == 0 {
            return Ok((Vec::new(), 0));
        }
        let detail = format!(
            "no log segment exists; expected {}",
            format::segment_name(after + 1)
        );
        return Err(gap(after + 1, detail));
    };
    // The last segment starting at or before the first record to replay: the ones before it are
    // covered by the snapshot.
    let Some(start) = segments.iter().rposition(|&(first, _)| first <= after + 1) else {
        let name = format::segment_name(oldest);
        return Err(gap(
            after + 1,
            format!("the oldest segment, {name}, starts at LSN {oldest}"),
        ));
    };
    let mut loaded: Vec<Segment> = Vec::new();
    let mut expected = segments[start].0;
    for (i, (first, path)) in segments.iter().enumerate().skip(start) {
        if *first > expected {
            let name = format::segment_name(*first);
            return Err(gap(
                expected,
                format!("the next segment, {name}, starts at LSN {first}"),
            ));
        }
        if *first < expected {
            return Err(Error::Corrupt {
                path: path.clone(),
                offset: 12,
                reason: format!(
                    "the segment starts at LSN {first}, but the previous one already holds records \
                     up to LSN {}",
                    expected - 1
                ),
            });
        }
        let segment = scan::read_segment(path, *first, i + 1 == segments.len())?;
        expected = segment.next_lsn;
        loaded.push(segment);
    }
    if expected <= after {
        let detail = format!(
            "the snapshot covers up to LSN {after} but the log ends at LSN {}; expected {}",
            expected - 1,
            format::segment_name(after + 1)
        );
        return Err(gap(expected, detail));
    }
    Ok((loaded, start))
}

/// Deletes unfinished snapshots and, unless a corrupt snapshot was skipped (keep everything for
/// the operator), the files the loaded snapshot covers. Returns what was deleted.
fn remove_leftovers(dir: &Path, listing: &Listing, loaded: &Loaded) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for path in &listing.temps {
        dir::remove(path, "unfinished snapshot left by a crash")?;
        removed.push(path.clone());
    }
    if loaded.skipped.is_none() {
        let after = loaded.snapshot.as_ref().map_or(0, |s| s.lsn);
        for (_, path) in &listing.segments[..loaded.first_kept] {
            dir::remove(path, "log segment covered by the snapshot")?;
            removed.push(path.clone());
        }
        for (lsn, path) in &listing.snapshots {
            if *lsn < after {
                dir::remove(path, "snapshot replaced by a newer one")?;
                removed.push(path.clone());
            }
        }
    }
    if !removed.is_empty() {
        dir::sync_dir(dir)?;
    }
    Ok(removed)
}
