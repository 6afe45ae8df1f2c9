//! Durability for Sluice: a checksummed write-ahead log with group commit, snapshots that bound
//! it, and crash recovery.
//!
//! The payloads are opaque bytes: the server decides what a log record or a snapshot contains.
//! This crate decides how they reach the disk, when they are durable, and how they come back.
//!
//! # Use
//!
//! ```no_run
//! # fn main() -> Result<(), sluice_storage::Error> {
//! use sluice_storage::{FsyncPolicy, Storage};
//!
//! let (wal, recovery) = Storage::open("./data", FsyncPolicy::EverySec)?;
//! if let Some(snapshot) = &recovery.snapshot {
//!     // load snapshot.payload (state up to and including snapshot.lsn)
//! }
//! for record in recovery.records() {
//!     // apply record.payload (record.lsn is consecutive after the snapshot)
//! }
//! // On each write, under the lock of the key it changes:
//! let lsn = wal.append(b"XADD orders ...");
//! // Before replying (`everysec` / `no`): the bytes reach the OS, so a SIGKILL loses nothing.
//! wal.write_through(lsn)?;
//! // With `always`, await durability instead: `wal.wait_synced(lsn).await?`.
//! wal.flush_and_close()?;
//! # Ok(())
//! # }
//! ```
//!
//! A write or fsync that fails (a full disk) does not lose what was appended: the log keeps the
//! records it could not write, [`Wal::check_writable`] answers an error until a retry (about once
//! a second, or [`Wal::retry_now`]) has written and fsynced them, and [`Wal::wait_synced`] waits
//! through the failure.
//!
//! # Layout
//!
//! - [`format`](mod@format): the on-disk format (headers, record framing, file names) and its version.
//! - `dir`: the data directory: listing, the `LOCK` file, directory fsync.
//! - `scan`: reading a log segment back, telling a torn tail from corruption.
//! - `snapshot`: snapshot files, written atomically.
//! - `recovery`: [`Storage::open`]: picks the snapshot, checks the log, opens the [`Wal`].
//! - `replay`: [`Recovery`], what startup found: the snapshot, the records after it, a report.
//! - `save`: taking snapshots (`begin_snapshot`, `write_snapshot`).
//! - `wal`: [`Wal`], the shared handle: append, write-through, wait for fsync, snapshots.
//! - `writer`: the segment writer behind the file lock: one write(2) per batch, rotation, cleanup.
//! - `sync`: [`FsyncPolicy`] and the background thread that fsyncs.
//! - `stats`: figures for `INFO persistence`.
//! - `timings`: [`Timings`], latency histograms (fsyncs here; the broker's plugin calls).
//! - `error`: [`Error`], the crate's one error type.

mod dir;
mod error;
pub mod format;
mod recovery;
mod replay;
mod save;
mod scan;
mod snapshot;
mod stats;
mod sync;
mod timings;
mod wal;
mod writer;

pub use error::{Error, Result};
pub use format::FORMAT_VERSION;
pub use recovery::Storage;
pub use replay::{Record, Records, Recovery, RecoveryReport, Snapshot, TornTail};
pub use stats::{SaveStats, SaveStatus, WalStats};
pub use sync::FsyncPolicy;
pub use timings::{Timings, TimingsSnapshot};
pub use wal::Wal;

/// Log sequence number: the position of a record in the log. Records are numbered 1, 2, 3, …
/// with no gaps; 0 means "nothing" (an empty log, or a snapshot of an empty state).
pub type Lsn = u64;
