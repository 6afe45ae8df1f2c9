//! [`Wal`]: the write-ahead log handle every connection shares.
//!
//! Three stages, each with its own lock or counter, so no stage waits on a slower one:
//!
//! 1. `append` frames the record into the pending buffer under `pending` (no syscall).
//! 2. `write_through` takes the file lock (`writer`) and writes the whole pending buffer with one
//!    write(2): whoever gets the lock writes for everyone who appended before it (leader-style
//!    group write). Afterwards `written` covers those LSNs.
//! 3. An fsync, outside the file lock, publishes `durable` through a `watch`. The sync thread
//!    runs it for waiters and once a second; under `always` a connection runs it on its own
//!    thread when none is running ([`Wal::sync_now`]).
//!
//! Lock order: `sync_lock`, then `writer`, then `pending`. `control` and `saves` are never held
//! with another lock.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use crate::stats::{SaveStats, WalStats, unix_ms};
use crate::sync::Control;
use crate::writer::Writer;
use crate::{Error, FsyncPolicy, Lsn, RecoveryReport, Result, Timings, TimingsSnapshot, format};

/// Above this capacity, bytes, a written batch buffer is shrunk before it is reused.
const SPARE_MAX_BYTES: usize = 16 << 20;

/// Records appended but not yet written.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Framed records, in LSN order.
    pub(crate) buf: Vec<u8>,
    /// The LSN the next append gets.
    pub(crate) next_lsn: Lsn,
    /// `(offset in buf, first LSN)` where a new segment starts: set by `begin_snapshot`.
    pub(crate) rotations: Vec<(usize, Lsn)>,
    /// Bytes appended since the last `begin_snapshot`.
    pub(crate) since_snapshot: u64,
}

/// Keeps what it holds on cache lines of its own (128 bytes: adjacent-line prefetch pairs
/// 64-byte lines). Connections on different cores append and check the log all the time; a
/// field one core writes must not share a line with one the others read.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why, and since when, the log cannot be written.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) reason: Arc<str>,
    pub(crate) since_unix_ms: u64,
    /// An fsync failed: no retry ends it ([`Error::FailedFsync`]).
    pub(crate) fsync: bool,
}

/// The durable LSN as published to waiters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Durable {
    pub(crate) lsn: Lsn,
    /// An fsync failed: waiters stop waiting ([`Error::FailedFsync`]).
    pub(crate) fatal: bool,
}

/// State shared by the handle and the sync thread.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    pub(crate) pending: Padded<Mutex<Pending>>,
    pub(crate) writer: Padded<Mutex<Writer>>,
    /// The last LSN handed out by `append`, readable without the `pending` lock: a reply's
    /// check that everything its command could have seen is written ([`Wal::appended_lsn`]).
    pub(crate) appended: Padded<AtomicU64>,
    /// Every record up to here is in the OS.
    pub(crate) written: Padded<AtomicU64>,
    /// Every record up to here is on disk.
    pub(crate) durable: Padded<AtomicU64>,
    pub(crate) durable_tx: watch::Sender<Durable>,
    pub(crate) policy: AtomicU8,
    /// Set while the log cannot be written (a full disk): writes are refused, the records
    /// not written yet are kept and retried about once a second (`sync.rs`); cleared once a
    /// write and an fsync succeed again.
    pub(crate) failure: Mutex<Option<Failure>>,
    /// `failure.is_some()`, for the check every write command makes.
    pub(crate) failed: AtomicBool,
    /// Milliseconds writes were refused over past failures (the current one not included).
    pub(crate) refused_ms: AtomicU64,
    pub(crate) control: Mutex<Control>,
    pub(crate) wake: Condvar,
    pub(crate) fsyncs: AtomicU64,
    /// How long each fsync of a segment took.
    pub(crate) fsync_timings: Timings,
    /// Tests only: the fault file ([`Wal::set_fault_file`]), for fsyncs.
    pub(crate) fsync_fault: Mutex<Option<std::path::PathBuf>>,
    pub(crate) last_fsync_unix_ms: AtomicU64,
    pub(crate) saves: Mutex<SaveStats>,
    /// Serialises `write_snapshot`.
    pub(crate) snapshot_lock: Mutex<()>,
    /// Held for an fsync and the publishing of its LSN: one fsync runs at a time, and a
    /// connection can tell that one is running.
    pub(crate) sync_lock: Padded<Mutex<()>>,
    pub(crate) recovery: RecoveryReport,
    /// Held for the directory's `LOCK`.
    pub(crate) _lock: File,
}

impl Inner {
    pub(crate) fn policy(&self) -> FsyncPolicy {
        FsyncPolicy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    fn check_failed(&self) -> Result<()> {
        if !self.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        match &*self.failure.lock() {
            Some(failure) if failure.fsync => Err(Error::FailedFsync {
                reason: failure.reason.to_string(),
            }),
            Some(failure) => Err(Error::Failed {
                reason: failure.reason.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Marks the log failed after `error`: writes are refused until a retry succeeds
    /// ([`Inner::recovered`]).
    fn fail(&self, error: Error) -> Error {
        let reason: Arc<str> = error.to_string().into();
        let fsync = matches!(
            &error,
            Error::Io {
                action: "fsync",
                ..
            }
        );
        let mut failure = self.failure.lock();
        // Logged once per failure, and once more if it becomes an fsync failure: the retries
        // meet the same error every second.
        let newly_fatal = match &mut *failure {
            None => {
                *failure = Some(Failure {
                    reason: Arc::clone(&reason),
                    since_unix_ms: unix_ms(),
                    fsync,
                });
                self.failed.store(true, Ordering::Release);
                if !fsync {
                    tracing::error!(
                        %reason,
                        "write-ahead log failed; refusing writes and retrying about once a second"
                    );
                }
                fsync
            }
            Some(old) if fsync && !old.fsync => {
                old.reason = Arc::clone(&reason);
                old.fsync = true;
                true
            }
            Some(_) => false,
        };
        if newly_fatal {
            tracing::error!(
                %reason,
                "fsync of the write-ahead log failed; writes are refused until a restart"
            );
            // Waiters stop waiting: no retry can make their records durable.
            self.durable_tx.send_modify(|d| d.fatal = true);
        }
        error
    }

    /// A write and an fsync succeeded while the log was failed: writes are accepted again.
    fn recovered(&self) {
        let mut failure = self.failure.lock();
        if failure.as_ref().is_some_and(|f| f.fsync) {
            return;
        }
        if let Some(old) = failure.take() {
            let refused = unix_ms().saturating_sub(old.since_unix_ms);
            self.refused_ms.fetch_add(refused, Ordering::Relaxed);
            self.failed.store(false, Ordering::Release);
            tracing::warn!(
                refused_ms = refused,
                "write-ahead log writable again; accepting writes"
            );
        }
    }

    /// Writes everything pending to the OS. The caller holds `writer`. If the write fails,
    /// what was not written goes back in front of the pending records, to be written first by
    /// the next try: nothing appended is dropped, and nothing is written twice.
    pub(crate) fn flush_locked(&self, writer: &mut Writer) -> Result<()> {
        let mut batch = std::mem::take(&mut writer.spare);
        let (rotations, last) = {
            let mut pending = self.pending.lock();
            std::mem::swap(&mut pending.buf, &mut batch);
            (std::mem::take(&mut pending.rotations), pending.next_lsn - 1)
        };
        let result = writer.write_batch(&batch, &rotations);
        if let Err(partial) = &result {
            let mut pending = self.pending.lock();
            let unwritten = &batch[partial.written..];
            let shift = unwritten.len();
            let mut kept: Vec<(usize, Lsn)> = rotations[partial.rotations_done..]
                .iter()
                .map(|&(at, lsn)| (at - partial.written, lsn))
                .collect();
            kept.extend(pending.rotations.iter().map(|&(at, lsn)| (at + shift, lsn)));
            pending.rotations = kept;
            pending.buf.splice(0..0, unwritten.iter().copied());
        }
        batch.clear();
        // Give back the memory of a rare huge burst; keep enough for the usual batch.
        if batch.capacity() > SPARE_MAX_BYTES {
            batch.shrink_to(SPARE_MAX_BYTES / 16);
        }
        writer.spare = batch;
        result.map_err(|partial| self.fail(partial.error))?;
        self.written.fetch_max(last, Ordering::AcqRel);
        Ok(())
    }

    /// Writes everything pending to the OS.
    pub(crate) fn flush(&self) -> Result<()> {
        self.flush_locked(&mut self.writer.lock())
    }

    /// Writes everything pending and fsyncs it, then tells the waiters.
    pub(crate) fn sync(&self) -> Result<()> {
        let _one_at_a_time = self.sync_lock.lock();
        self.sync_locked()
    }

    /// [`Inner::sync`] for a caller holding `sync_lock`.
    fn sync_locked(&self) -> Result<()> {
        let (file, path, target) = {
            let mut writer = self.writer.lock();
            self.flush_locked(&mut writer)?;
            let (file, path) = writer.current();
            (file, path, self.written.load(Ordering::Acquire))
        };
        if target <= self.durable.load(Ordering::Acquire) {
            if self.failed.load(Ordering::Acquire) {
                self.recovered();
            }
            return Ok(());
        }
        // Outside the file lock: the next batch is written while this one reaches the disk. Older
        // segments were fsynced when they were left (see `writer`).
        let started = Instant::now();
        let fault = self
            .fsync_fault
            .lock()
            .as_ref()
            .is_some_and(|f| std::fs::read(f).is_ok_and(|content| content == b"fsync"));
        let synced = match fault {
            true => Err(std::io::Error::from_raw_os_error(5)), // EIO
            false => file.sync_data(),
        };
        synced.map_err(|e| self.fail(Error::io("fsync", path)(e)))?;
        self.fsync_timings.record(started.elapsed());
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.last_fsync_unix_ms.store(unix_ms(), Ordering::Relaxed);
        self.durable.fetch_max(target, Ordering::AcqRel);
        self.durable_tx.send_if_modified(|d| {
            let newer = target > d.lsn;
            d.lsn = d.lsn.max(target);
            newer
        });
        if self.failed.load(Ordering::Acquire) {
            self.recovered();
        }
        Ok(())
    }
}

/// The write-ahead log: append records, make them survive a crash, and take snapshots.
///
/// `Send + Sync`: share one per server (`Arc<Wal>`). Dropping it flushes and fsyncs everything,
/// like [`Wal::flush_and_close`] but logging instead of returning errors.
#[derive(Debug)]
pub struct Wal {
    pub(crate) inner: Arc<Inner>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl Wal {
    /// Frames `payload` into the pending buffer and returns its LSN. No syscall: the record
    /// reaches the OS with the next [`Wal::write_through`], [`Wal::wait_synced`] or the
    /// once-a-second background write.
    ///
    /// Call it while holding the lock of what the record changes, so that LSN order is the
    /// order the changes were applied in.
    ///
    /// # Panics
    ///
    /// If `payload` is longer than `u32::MAX` bytes (4 GiB), which the format cannot frame.
    pub fn append(&self, payload: &[u8]) -> Lsn {
        assert!(
            u32::try_from(payload.len()).is_ok(),
            "a log record is limited to 4 GiB"
        );
        let mut pending = self.inner.pending.lock();
        let lsn = pending.next_lsn;
        pending.next_lsn += 1;
        format::encode_record(&mut pending.buf, lsn, payload);
        pending.since_snapshot += (format::RECORD_HEADER_LEN + payload.len()) as u64;
        self.inner.appended.store(lsn, Ordering::Release);
        lsn
    }

    /// Returns once every record up to `lsn` is in the OS (survives a crash of the process, not
    /// of the machine). If it is not yet, writes the whole pending buffer with one write(2), for
    /// every caller at once. Blocking; call it before replying under `everysec` and `no`.
    pub fn write_through(&self, lsn: Lsn) -> Result<()> {
        if self.inner.written.load(Ordering::Acquire) >= lsn {
            return Ok(());
        }
        let mut writer = self.inner.writer.lock();
        // Another caller may have written it while this one waited for the lock.
        if self.inner.written.load(Ordering::Acquire) >= lsn {
            return Ok(());
        }
        self.inner.flush_locked(&mut writer)
    }

    /// Resolves once every record up to `lsn` is fsynced, or with the log's failure, without
    /// blocking: the sync thread serves all waiters that arrive during one fsync with the next.
    /// Works under every policy (`SAVE` uses it too).
    pub fn wait_synced(&self, lsn: Lsn) -> impl Future<Output = Result<()>> + Send + 'static {
        let mut rx = self.inner.durable_tx.subscribe();
        let done = self.inner.durable.load(Ordering::Acquire) >= lsn;
        if !done {
            let mut control = self.inner.control.lock();
            if lsn > control.requested {
                control.requested = lsn;
                self.inner.wake.notify_one();
            }
        }
        async move {
            if done {
                return Ok(());
            }
            // Through a failure of the log too: its records are kept and written by the retry
            // that ends it (or never, if the server stops first).
            let durable = rx
                .wait_for(|d| d.lsn >= lsn || d.fatal)
                .await
                .map_err(|_| Error::Closed)?;
            if durable.lsn >= lsn {
                Ok(())
            } else {
                Err(Error::FailedFsync {
                    reason: "an fsync of the log failed".to_owned(),
                })
            }
        }
    }

    /// Makes every record up to `lsn` durable on the calling thread, unless another fsync is
    /// running: `Ok(true)` once it is durable, `Ok(false)` if the caller should
    /// [`Wal::wait_synced`] instead (the running fsync, or the one after it, covers `lsn`).
    ///
    /// This is `appendfsync always` as Redis does it: the connection thread that finds its
    /// records not yet on disk writes and fsyncs everything pending, for every connection that
    /// appended before it, and blocks meanwhile. Connections that appended in the same pass of
    /// the runtime find their records durable when they get to run, with no wake-up from
    /// another thread. Call it after letting those connections run (`yield_now`).
    pub fn sync_now(&self, lsn: Lsn) -> Result<bool> {
        if self.inner.durable.load(Ordering::Acquire) >= lsn {
            return Ok(true);
        }
        let Some(_one_at_a_time) = self.inner.sync_lock.try_lock() else {
            return Ok(false);
        };
        if self.inner.durable.load(Ordering::Acquire) < lsn {
            self.inner.sync_locked()?;
        }
        Ok(true)
    }

    /// Writes and fsyncs everything appended so far, blocking.
    pub fn sync_all(&self) -> Result<()> {
        self.inner.sync()
    }

    /// Sets `appendfsync` (for `CONFIG SET`). Takes effect with the next write or tick; a
    /// failed log is retried at once, as Redis retries its AOF then.
    pub fn set_policy(&self, policy: FsyncPolicy) {
        self.inner.policy.store(policy.to_u8(), Ordering::Relaxed);
        self.retry_now();
    }

    /// If the log is failed (a full disk), has the sync thread retry now rather than at its
    /// next tick (`BGSAVE`, `CONFIG SET appendfsync`).
    pub fn retry_now(&self) {
        let mut control = self.inner.control.lock();
        control.retry = self.inner.failed.load(Ordering::Acquire);
        self.inner.wake.notify_one();
    }

    /// Whether writes are refused because the log cannot be written (see
    /// [`Wal::check_writable`]). One atomic load.
    pub fn failed(&self) -> bool {
        self.inner.failed.load(Ordering::Acquire)
    }

    /// Tests only: while `file` exists, writes of the log fail with `ENOSPC`, as on a full
    /// disk; while it holds `fsync`, fsyncs fail with `EIO` instead. `None` ends it.
    #[doc(hidden)]
    pub fn set_fault_file(&self, file: Option<std::path::PathBuf>) {
        self.inner.writer.lock().fault_file = file.clone();
        *self.inner.fsync_fault.lock() = file;
    }

    /// The `appendfsync` policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        self.inner.policy()
    }

    /// `Err(Error::Failed)` while the log cannot be written (a write or fsync failed and no
    /// retry has succeeded since): the server refuses writes (as Redis does with `MISCONF`)
    /// before applying them.
    pub fn check_writable(&self) -> Result<()> {
        self.inner.check_failed()
    }

    /// The last LSN handed out by `append` (0: none).
    pub fn last_lsn(&self) -> Lsn {
        self.inner.pending.lock().next_lsn - 1
    }

    /// The last LSN handed out by `append` (0: none), without taking a lock: one atomic load.
    pub fn appended_lsn(&self) -> Lsn {
        self.inner.appended.load(Ordering::Acquire)
    }

    /// The LSN up to which every record is in the OS (survives a crash of the process). One
    /// atomic load.
    pub fn written_lsn(&self) -> Lsn {
        self.inner.written.load(Ordering::Acquire)
    }

    /// Calls `f(lsn, payload)` for every record appended but not yet written, in LSN order:
    /// while the log is failed, the records it keeps for the retry. Holds the file lock
    /// meanwhile, so no write is in flight and the records visited are exactly those above
    /// [`Wal::written_lsn`]; `f` must not call back into the log.
    pub fn for_each_unwritten(&self, mut f: impl FnMut(Lsn, &[u8])) {
        let _writer = self.inner.writer.lock();
        let pending = self.inner.pending.lock();
        let mut at = 0;
        while let Some((len, _, lsn)) = format::read_record_header(&pending.buf[at..]) {
            let start = at + format::RECORD_HEADER_LEN;
            let Some(payload) = pending.buf.get(start..start + len) else {
                break;
            };
            f(lsn, payload);
            at = start + len;
        }
    }

    /// The LSN up to which everything is fsynced.
    pub fn synced_lsn(&self) -> Lsn {
        self.inner.durable.load(Ordering::Acquire)
    }

    /// Bytes of log appended since the last snapshot began: compare with the auto-snapshot
    /// threshold.
    pub fn wal_bytes(&self) -> u64 {
        self.inner.pending.lock().since_snapshot
    }

    /// Size of the newest snapshot on disk, bytes (0: none): what the auto-snapshot's growth
    /// percentage is measured against.
    pub fn last_snapshot_bytes(&self) -> u64 {
        self.inner.saves.lock().bytes
    }

    /// How long the log's fsyncs took (`/metrics`).
    pub fn fsync_timings(&self) -> TimingsSnapshot {
        self.inner.fsync_timings.snapshot()
    }

    /// Figures for `INFO persistence`.
    pub fn stats(&self) -> WalStats {
        let inner = &*self.inner;
        let failure = inner.failure.lock().clone();
        // Both locks at once (in lock order), so written and pending bytes add up.
        let (segments, disk_bytes, writes, appended_lsn, pending_bytes, wal_bytes) = {
            let writer = inner.writer.lock();
            let (segments, bytes) = writer.disk_usage();
            let pending = inner.pending.lock();
            (
                segments,
                bytes,
                writer.writes,
                pending.next_lsn - 1,
                pending.buf.len() as u64,
                pending.since_snapshot,
            )
        };
        let save = inner.saves.lock().clone();
        let last_fsync = inner.last_fsync_unix_ms.load(Ordering::Relaxed);
        WalStats {
            dir: inner.dir.clone(),
            policy: inner.policy(),
            appended_lsn,
            written_lsn: inner.written.load(Ordering::Acquire),
            synced_lsn: inner.durable.load(Ordering::Acquire),
            changes_since_save: appended_lsn.saturating_sub(save.lsn),
            wal_bytes,
            disk_bytes,
            segments,
            pending_bytes,
            writes,
            fsyncs: inner.fsyncs.load(Ordering::Relaxed),
            last_fsync_unix_ms: (last_fsync > 0).then_some(last_fsync),
            failure: failure.as_ref().map(|f| f.reason.to_string()),
            refused_since_unix_ms: failure.as_ref().map(|f| f.since_unix_ms),
            refused_ms: inner.refused_ms.load(Ordering::Relaxed),
            save,
            recovery: inner.recovery.clone(),
        }
    }

    /// Writes and fsyncs everything, stops the sync thread, cuts the current segment back to its
    /// records and closes the files.
    pub fn flush_and_close(mut self) -> Result<()> {
        self.close()
    }

    fn close(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.inner.control.lock().shutdown = true;
        self.inner.wake.notify_all();
        if thread.join().is_err() {
            tracing::error!("the write-ahead log's sync thread panicked");
        }
        self.inner.sync()?;
        self.inner.writer.lock().trim()
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "could not flush the write-ahead log at shutdown");
        }
    }
}
