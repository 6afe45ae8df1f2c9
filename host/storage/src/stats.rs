//! Figures for `INFO persistence`: where the log stands, how saves went, how startup went.
//!
//! Field names follow what Redis reports where there is an equivalent (`rdb_last_save_time`,
//! `rdb_last_bgsave_status`, `aof_current_size`, …) so the server can map them one to one.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{FsyncPolicy, Lsn, RecoveryReport};

/// A snapshot of the log's state, from [`crate::Wal::stats`].
#[derive(Debug, Clone)]
pub struct WalStats {
    /// The data directory.
    pub dir: PathBuf,
    /// The `appendfsync` policy in force.
    pub policy: FsyncPolicy,
    /// Last LSN handed out by `append` (0: none yet).
    pub appended_lsn: Lsn,
    /// Every record up to this LSN has been written to the OS (survives a process crash).
    pub written_lsn: Lsn,
    /// Every record up to this LSN has been fsynced (survives a machine crash).
    pub synced_lsn: Lsn,
    /// Records appended since the newest snapshot (Redis's `rdb_changes_since_last_save`).
    pub changes_since_save: u64,
    /// Bytes of log appended since the last snapshot began (the auto-snapshot trigger).
    pub wal_bytes: u64,
    /// Bytes of all log segments on disk (Redis's `aof_current_size`).
    pub disk_bytes: u64,
    /// Number of log segment files.
    pub segments: usize,
    /// Bytes appended but not yet written to the OS.
    pub pending_bytes: u64,
    /// write(2) calls made on segments since startup.
    pub writes: u64,
    /// fsyncs of segments since startup.
    pub fsyncs: u64,
    /// Wall-clock time of the last fsync, in ms since the Unix epoch.
    pub last_fsync_unix_ms: Option<u64>,
    /// Why the log cannot be written now, if it cannot (Redis's `aof_last_write_status:err`):
    /// writes are refused until a retry succeeds.
    pub failure: Option<String>,
    /// Since when writes are refused (Unix ms), during a failure.
    pub refused_since_unix_ms: Option<u64>,
    /// Milliseconds writes were refused over the failures that ended.
    pub refused_ms: u64,
    /// Snapshot figures.
    pub save: SaveStats,
    /// How startup went.
    pub recovery: RecoveryReport,
}

/// How snapshots have gone.
#[derive(Debug, Clone, Default)]
pub struct SaveStats {
    /// LSN of the newest snapshot on disk (0: none).
    pub lsn: Lsn,
    /// Size of the newest snapshot on disk, bytes.
    pub bytes: u64,
    /// Successful snapshots since startup.
    pub saves: u64,
    /// Wall-clock time of the last successful snapshot, or of startup's snapshot load, in seconds
    /// since the Unix epoch (Redis's `rdb_last_save_time`).
    pub last_save_unix_s: u64,
    /// Outcome of the last attempt (Redis's `rdb_last_bgsave_status`).
    pub last_status: SaveStatus,
    /// How long the last write took (file, fsync, rename), ms.
    pub last_duration_ms: u64,
    /// When the snapshot now in progress began, in ms since the Unix epoch.
    pub in_progress_since_unix_ms: Option<u64>,
}

/// Outcome of the last snapshot attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SaveStatus {
    /// It succeeded, or none was attempted.
    #[default]
    Ok,
    /// It failed, for this reason.
    Err(String),
}

impl SaveStatus {
    /// `ok` or `err`, as Redis reports it.
    pub fn as_str(&self) -> &'static str {
        match self {
            SaveStatus::Ok => "ok",
            SaveStatus::Err(_) => "err",
        }
    }
}

/// Now, in ms since the Unix epoch.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
