//! `appendfsync` and the background thread that carries it out.
//!
//! One thread, `sluice-wal-sync`, does the fsyncs no connection runs itself
//! ([`crate::Wal::sync_now`]), outside the file lock so that connections writing the next batch
//! never wait behind the disk:
//!
//! - when a caller of [`crate::Wal::wait_synced`] asks for an LSN not yet durable: it writes what
//!   is pending and fsyncs. Callers that ask while an fsync runs are served together by the next
//!   one.
//! - once a second: `everysec` and `always` fsync if there is new data; `no` only writes pending
//!   bytes to the OS (so nothing waits in memory for long) and leaves flushing to the kernel.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::wal::Inner;
use crate::{Error, Lsn};

/// How often `everysec` fsyncs, and how often pending bytes are written out under any policy.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// When the log is fsynced: Redis's `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Fsync before a write is acknowledged; concurrent writes share one fsync.
    Always,
    /// Fsync once a second: a crash of the machine loses at most about a second of writes, a
    /// crash of the process loses none.
    #[default]
    EverySec,
    /// Never fsync explicitly; the kernel flushes when it likes (typically within 30 s).
    No,
}

impl FsyncPolicy {
    /// The name Redis uses: `always`, `everysec` or `no`.
    pub fn as_str(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(v: u8) -> FsyncPolicy {
        match v {
            0 => FsyncPolicy::Always,
            2 => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }
}

impl std::fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FsyncPolicy {
    type Err = Error;

    /// Parses `always`, `everysec` or `no`, in any case, as `CONFIG SET appendfsync` does.
    fn from_str(s: &str) -> Result<Self, Error> {
        [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::BadPolicy {
                given: s.to_owned(),
            })
    }
}

/// What the sync thread is asked to do, under `Inner::control`.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// The highest LSN a waiter wants durable.
    pub(crate) requested: Lsn,
    /// Set when the log closes: the thread exits; the closer does the final sync.
    pub(crate) shutdown: bool,
    /// Set to retry a failed log now rather than at the next tick ([`crate::Wal::retry_now`]).
    pub(crate) retry: bool,
}

/// Starts the sync thread.
pub(crate) fn spawn(inner: Arc<Inner>) -> Result<JoinHandle<()>, Error> {
    let dir = inner.dir.clone();
    std::thread::Builder::new()
        .name("sluice-wal-sync".to_owned())
        .spawn(move || run(&inner))
        .map_err(Error::io("start the fsync thread for", dir))
}

fn run(inner: &Inner) {
    let mut next_tick = Instant::now() + TICK;
    loop {
        let requested = {
            let mut control = inner.control.lock();
            loop {
                if control.shutdown {
                    return;
                }
                let healthy = !inner.failed.load(Ordering::Acquire);
                if healthy && control.requested > inner.durable.load(Ordering::Acquire) {
                    break;
                }
                if std::mem::take(&mut control.retry) {
                    break;
                }
                if Instant::now() >= next_tick {
                    break;
                }
                inner.wake.wait_until(&mut control, next_tick);
            }
            control.requested
        };
        let now = Instant::now();
        let ticked = now >= next_tick;
        if ticked {
            next_tick = now + TICK;
        }
        let wanted = requested > inner.durable.load(Ordering::Acquire);
        let policy = inner.policy();
        // A failed log is retried with a write and an fsync whatever the policy: the fsync
        // proves the disk takes the records before writes are accepted again.
        let retry = inner.failed.load(Ordering::Acquire);
        // Errors have already marked the log failed and been logged once.
        let _ = if retry || wanted || (ticked && policy != FsyncPolicy::No) {
            inner.sync()
        } else if ticked {
            inner.flush()
        } else {
            Ok(())
        };
    }
}
