//! Durability: what each change writes to the log, how the log and snapshots are replayed at
//! start, and when snapshots are taken.
//!
//! The storage crate owns the files; this module owns their contents. Every command that
//! changes data builds a [`Record`] of commands that reproduce the change and commits it
//! through the [`Journal`] while it still holds the lock of the key it changed, so the log's
//! order is the order changes were applied in. Before a connection sends the replies of
//! write commands it makes their records as durable as `appendfsync` asks.
//!
//! # Layout
//! - [`record`]: the record payload: commands, encoded and decoded.
//! - [`replay`]: start-up: load the snapshot, replay the log through the command handlers.
//! - [`snapshot`]: the snapshot payload, and taking one in the background (`BGSAVE`, auto).
//! - [`values`]: how a snapshot holds each type of value.
//! - [`visibility`]: while the log fails, what it has not written is hidden from readers.

pub mod groups;
pub mod record;
pub mod replay;
pub mod snapshot;
pub mod values;
pub mod visibility;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

pub use record::Record;
use sluice_storage::{Lsn, Wal};

/// Logs one record for database `db` built by `build`, if logging (the free form of
/// `Ctx::journal`, for code that runs outside a command's context, such as serving a blocked
/// reader). Call it while holding the lock of what changed.
pub fn log(broker: &crate::Broker, db: usize, build: impl FnOnce(&mut Record)) {
    if broker.journal.active() {
        let mut record = Record::new(db);
        build(&mut record);
        broker.journal.commit(record);
    }
}

/// Where committed records go. Empty while the server replays its log at start (replayed
/// commands must not be logged again) and when persistence is off (`appendonly no`).
#[derive(Debug, Default)]
pub struct Journal {
    wal: OnceLock<Arc<Wal>>,
    /// The last record of a route's batch that [`Journal::write_behind`] has to see written.
    behind: AtomicU64,
}

impl Journal {
    /// Starts logging to `wal`.
    pub fn attach(&self, wal: Arc<Wal>) {
        let _ = self.wal.set(wal);
    }

    /// The log, if logging.
    pub fn wal(&self) -> Option<&Arc<Wal>> {
        self.wal.get()
    }

    /// True if records are kept: callers may skip building them otherwise.
    pub fn active(&self) -> bool {
        self.wal.get().is_some()
    }

    /// Hands the log up to `lsn` to the OS, for a change made by a background thread (a
    /// route's batch, a claim policy's round): no client's reply will carry it there, and once
    /// its effects are visible a crash of the process must not undo them. Call it after
    /// releasing the locks the change held.
    pub fn write_background(&self, lsn: Option<Lsn>) {
        if let (Some(lsn), Some(wal)) = (lsn, self.wal.get())
            && let Err(e) = wal.write_through(lsn)
        {
            tracing::error!("write-ahead log failed writing a background change: {e}");
        }
    }

    /// Notes the record of a route's batch, for the route's next [`Journal::write_behind`]:
    /// a route commits a batch every millisecond or so under load, and the clients' replies
    /// meanwhile write the log anyway, so the route does not pay a write(2) for each.
    pub fn defer_background(&self, lsn: Option<Lsn>) {
        if let Some(lsn) = lsn {
            self.behind.fetch_max(lsn, Ordering::Relaxed);
        }
    }

    /// Hands the records noted by [`Journal::defer_background`] to the OS, unless a client's
    /// reply has already: one atomic load then. A route calls it once its oldest batch not
    /// handed over is a millisecond old, and before it waits for work, so what it committed
    /// reaches the OS within about a millisecond even when no client writes.
    pub fn write_behind(&self) {
        let lsn = self.behind.load(Ordering::Relaxed);
        if lsn > 0 {
            self.write_background(Some(lsn));
        }
    }

    /// Appends `record`; call while holding the locks of what it changed.
    pub fn commit(&self, record: Record) -> Option<Lsn> {
        let wal = self.wal.get()?;
        if record.is_empty() {
            return None;
        }
        let payload = record.finish();
        let lsn = wal.append(&payload);
        record::recycle(payload);
        Some(lsn)
    }
}
