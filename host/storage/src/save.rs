//! Taking snapshots: the [`Wal`] methods behind `SAVE`, `BGSAVE` and the automatic snapshot.
//!
//! 1. Under its global lock, the server calls [`Wal::begin_snapshot`] and copies its state: no
//!    append can slip between the two, so the copy is exactly the state after the returned LSN.
//!    The call only marks where the next segment starts: it is cheap.
//! 2. Off the hot path, the server serialises the copy and calls [`Wal::write_snapshot`], which
//!    makes sure the new segment exists, writes the snapshot atomically, then deletes what it
//!    covers: older snapshots and the segments before the new one.
//!
//! A crash between any two steps leaves a directory that recovers to the same state.

use std::time::Instant;

use crate::stats::{SaveStatus, unix_ms};
use crate::{Error, Lsn, Result, Wal, dir, snapshot};

impl Wal {
    /// Starts a snapshot: returns the last LSN it will cover and starts a new log segment after
    /// it. Call it while holding the lock that stops every append, and copy the state under the
    /// same lock.
    pub fn begin_snapshot(&self) -> Lsn {
        let lsn = {
            let mut pending = self.inner.pending.lock();
            let lsn = pending.next_lsn - 1;
            let at = pending.buf.len();
            if pending.rotations.last().map(|&(_, first)| first) != Some(lsn + 1) {
                pending.rotations.push((at, lsn + 1));
            }
            // Under the append lock, so that no append is counted on the wrong side.
            pending.since_snapshot = 0;
            lsn
        };
        self.inner.saves.lock().in_progress_since_unix_ms = Some(unix_ms());
        lsn
    }

    /// Writes the snapshot of the state after record `lsn` (from [`Wal::begin_snapshot`])
    /// atomically, then deletes the older snapshots and the log segments it covers. Blocking:
    /// call it from a background thread. Returns the snapshot's size in bytes.
    pub fn write_snapshot(&self, lsn: Lsn, payload: &[u8]) -> Result<u64> {
        let _one_at_a_time = self.inner.snapshot_lock.lock();
        let started = Instant::now();
        let result = self.write_snapshot_locked(lsn, payload);
        let mut saves = self.inner.saves.lock();
        saves.in_progress_since_unix_ms = None;
        saves.last_duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(bytes) => {
                saves.lsn = lsn;
                saves.bytes = *bytes;
                saves.saves += 1;
                saves.last_save_unix_s = unix_ms() / 1000;
                saves.last_status = SaveStatus::Ok;
                tracing::info!(lsn, bytes, ms = saves.last_duration_ms, "snapshot saved");
            }
            Err(error) => {
                saves.last_status = SaveStatus::Err(error.to_string());
                tracing::error!(lsn, %error, "snapshot failed");
            }
        }
        result
    }

    /// Records that the snapshot begun with [`Wal::begin_snapshot`] will not be written (the
    /// server could not serialise it), for `INFO`'s last save status.
    pub fn snapshot_failed(&self, reason: &str) {
        let mut saves = self.inner.saves.lock();
        saves.in_progress_since_unix_ms = None;
        saves.last_status = SaveStatus::Err(reason.to_owned());
    }

    fn write_snapshot_locked(&self, lsn: Lsn, payload: &[u8]) -> Result<u64> {
        let appended = self.last_lsn();
        if lsn > appended {
            return Err(Error::SnapshotLsn {
                lsn,
                reason: format!("the log has only reached LSN {appended}"),
            });
        }
        let newest = self.inner.saves.lock().lsn;
        if lsn < newest {
            return Err(Error::SnapshotLsn {
                lsn,
                reason: format!("a newer snapshot, at LSN {newest}, exists"),
            });
        }
        // The segment after `lsn` must exist, and the ones before it be complete on disk, before
        // the snapshot can make them deletable: flushing carries out the rotation.
        self.inner.flush()?;
        let (path, bytes) = snapshot::write_atomic(&self.inner.dir, lsn, payload)?;
        tracing::debug!(file = %path.display(), "wrote snapshot");

        self.inner.writer.lock().delete_covered(lsn)?;
        for (older, path) in dir::list(&self.inner.dir)?.snapshots {
            if older < lsn {
                dir::remove(&path, "snapshot replaced by a newer one")?;
            }
        }
        dir::sync_dir(&self.inner.dir)?;
        Ok(bytes)
    }
}
