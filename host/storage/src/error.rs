//! The crate's one error type.
//!
//! Every variant names the file (and, for corruption, the byte offset) and says what the operator
//! can do about it: these texts end up in the server's startup failure and in its log.

use std::io;
use std::path::PathBuf;

use crate::Lsn;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on a file or directory failed.
    #[error(
        "cannot {action} {path}: {source}; check that the data directory exists, is writable and \
         that the disk is not full"
    )]
    Io {
        /// What was being done: "open", "write", "fsync", …
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },

    /// Another process holds the data directory's `LOCK` file.
    #[error(
        "data directory {dir} is in use by another Sluice process (its LOCK file is held); stop \
         that process or start this one with another --dir"
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },

    /// The file does not start with the magic bytes of its kind.
    #[error(
        "{path} is not a Sluice {kind} file (wrong magic bytes at offset 0); move it out of the \
         data directory"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// "write-ahead log" or "snapshot".
        kind: &'static str,
    },

    /// The file's format version is newer than this build understands.
    #[error(
        "{path} was written by a newer Sluice (format v{found}); this build reads up to \
         v{supported}. Run a newer Sluice on this directory, or point --dir at another one"
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// The version in its header.
        found: u32,
        /// [`crate::FORMAT_VERSION`].
        supported: u32,
    },

    /// Bytes that are neither valid records nor a torn tail.
    #[error(
        "{path} is corrupt at byte offset {offset}: {reason}. The records from there on cannot \
         be trusted, so Sluice will not start: restore the data directory from a backup, or, to \
         accept losing them, truncate the file to {offset} bytes (`truncate -s {offset} {path}`)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first bad byte or record, from the start of the file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// The newest snapshot is unreadable and no older state is provably complete.
    #[error(
        "snapshot {path} is corrupt: {reason}. No older snapshot with the full log after it \
         exists, so Sluice will not start with older data; restore the snapshot from a backup"
    )]
    CorruptSnapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Log records are missing: a segment was deleted or never written.
    #[error(
        "the write-ahead log in {dir} is missing records from LSN {from} on ({detail}); restore \
         the missing wal-*.log files from a backup"
    )]
    Gap {
        /// The data directory.
        dir: PathBuf,
        /// First missing LSN.
        from: Lsn,
        /// Which files are there instead.
        detail: String,
    },

    /// A write or fsync of the log failed and no retry has succeeded since: writes are refused
    /// meanwhile; the records not yet written are kept and written by the retry that succeeds.
    #[error(
        "{reason}; writes are refused until the log can be written again (retried about once a \
         second: free space, or fix permissions or the disk)"
    )]
    Failed {
        /// The original failure, as text.
        reason: String,
    },

    /// An fsync of the log failed. What reached the disk is unknown: after a failed fsync the
    /// OS may have dropped the written pages and a later fsync succeed without them, so no
    /// retry can prove the records durable. Writes are refused until a restart replays the
    /// log from the disk.
    #[error(
        "{reason}; writes are refused until Sluice is restarted (after a failed fsync what \
         reached the disk is unknown): fix the disk and restart"
    )]
    FailedFsync {
        /// The original failure, as text.
        reason: String,
    },

    /// A snapshot was offered for an LSN the log has not reached, or older than the last one.
    #[error("cannot write a snapshot at LSN {lsn}: {reason}")]
    SnapshotLsn {
        /// The LSN offered.
        lsn: Lsn,
        /// Why it is refused.
        reason: String,
    },

    /// An `appendfsync` value other than `always`, `everysec` or `no`.
    #[error("invalid appendfsync policy {given:?}: use always, everysec or no")]
    BadPolicy {
        /// What was given.
        given: String,
    },

    /// The log was closed while a caller still waited on it.
    #[error("the write-ahead log is closed")]
    Closed,
}

impl Error {
    /// An [`Error::Io`] for `action` on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}
