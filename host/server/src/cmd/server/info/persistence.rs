//! `INFO persistence`: Redis's fields for the write-ahead log (its `aof_*`) and snapshots
//! (its `rdb_*`), then Sluice's own (`aof_segments`, LSNs, what start-up recovered).
//!
//! Sluice never forks: the copy-on-write and module-fork fields are structurally 0. With
//! `appendonly no` nothing is kept, so the log and snapshot fields say so.

use sluice_broker::persist::replay::ReplayReport;
use sluice_storage::{SaveStats, WalStats};

use super::Fields;
use crate::shared::Shared;

pub(super) fn persistence(shared: &Shared, f: &mut Fields<'_>) {
    let state = State::read(shared);
    loading(f);
    state.snapshots(shared, f);
    state.log(f);
    if let Some(stats) = &state.stats {
        state.log_sizes(stats, f);
        state.sluice(stats, f);
    }
}

/// Loading and forking: structurally 0 (the section reports once the data is loaded, and
/// Sluice never forks).
fn loading(f: &mut Fields<'_>) {
    f.field("loading", 0);
    f.field("async_loading", 0);
    for field in [
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        f.field(field, 0);
    }
    f.field("current_fork_perc", "0.00");
    f.field("current_save_keys_processed", 0);
    f.field("current_save_keys_total", 0);
}

/// What the section reports, read once so that every field agrees.
struct State {
    /// What start-up recovered.
    replay: ReplayReport,
    /// The log's figures; `None` with `appendonly no`.
    stats: Option<WalStats>,
    /// The snapshots' figures (defaults without a log).
    save: SaveStats,
    /// A snapshot is being taken now.
    in_progress: bool,
    /// How long the running snapshot has taken so far, s; -1 when none runs.
    running_s: i64,
    /// How long the last snapshot took, s; -1 before the first.
    last_s: i64,
    /// Unix time, ms.
    now_ms: u64,
}

impl State {
    /// Reads the figures now.
    fn read(shared: &Shared) -> Self {
        let replay = shared.broker.recovery.lock().clone();
        let stats = shared.broker.journal.wal().map(|wal| wal.stats());
        let save = stats.as_ref().map(|s| s.save.clone()).unwrap_or_default();
        let in_progress = shared.broker.saver.in_progress();
        let now_ms = shared.now_ms();
        let running_s = save
            .in_progress_since_unix_ms
            .filter(|_| in_progress)
            .map_or(-1, |since| (now_ms.saturating_sub(since) / 1000) as i64);
        let last_s = if save.saves == 0 {
            -1
        } else {
            (save.last_duration_ms / 1000) as i64
        };
        Self {
            replay,
            stats,
            save,
            in_progress,
            running_s,
            last_s,
            now_ms,
        }
    }

    /// Snapshots, as Redis reports its RDB saves.
    fn snapshots(&self, shared: &Shared, f: &mut Fields<'_>) {
        let save = &self.save;
        f.field(
            "rdb_changes_since_last_save",
            self.stats.as_ref().map_or(0, |s| s.changes_since_save),
        );
        f.field("rdb_bgsave_in_progress", u8::from(self.in_progress));
        // Without a snapshot yet, Redis reports its start-up time.
        let started_s = (self.now_ms / 1000).saturating_sub(shared.started.elapsed().as_secs());
        let last_save = if save.last_save_unix_s == 0 {
            started_s
        } else {
            save.last_save_unix_s
        };
        f.field("rdb_last_save_time", last_save);
        f.field("rdb_last_bgsave_status", save.last_status.as_str());
        f.field("rdb_last_bgsave_time_sec", self.last_s);
        f.field("rdb_current_bgsave_time_sec", self.running_s);
        f.field("rdb_saves", save.saves);
        f.field("rdb_last_cow_size", 0);
        f.field("rdb_last_load_keys_expired", 0);
        f.field("rdb_last_load_keys_loaded", self.replay.snapshot_keys);
    }

    /// The log, as Redis reports its AOF: whether it is on, its rewrites and its writes.
    fn log(&self, f: &mut Fields<'_>) {
        let save = &self.save;
        f.field("aof_enabled", u8::from(self.stats.is_some()));
        // A snapshot is what bounds the log: Redis's AOF rewrite.
        f.field("aof_rewrite_in_progress", u8::from(self.in_progress));
        f.field("aof_rewrite_scheduled", 0);
        f.field("aof_last_rewrite_time_sec", self.last_s);
        f.field("aof_current_rewrite_time_sec", self.running_s);
        f.field("aof_last_bgrewrite_status", save.last_status.as_str());
        f.field("aof_rewrites", save.saves);
        f.field(
            "aof_rewrites_consecutive_failures",
            u8::from(save.last_status.as_str() == "err"),
        );
        let failure = self.stats.as_ref().and_then(|s| s.failure.as_deref());
        f.field(
            "aof_last_write_status",
            if failure.is_some() { "err" } else { "ok" },
        );
        // Sluice's: why, and for how long, writes are refused (a full disk); the total over
        // the failures that ended.
        f.field(
            "aof_last_write_error",
            failure.unwrap_or("").replace(['\r', '\n'], " "),
        );
        // The log's clock (the system's), not the server's.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let refusing = self
            .stats
            .as_ref()
            .and_then(|s| s.refused_since_unix_ms)
            .map_or(0, |since| now_ms.saturating_sub(since));
        f.field("aof_writes_refused_ms", refusing);
        f.field(
            "aof_writes_refused_total_ms",
            self.stats.as_ref().map_or(0, |s| s.refused_ms) + refusing,
        );
        f.field("aof_last_cow_size", 0);
        f.field("module_fork_in_progress", 0);
        f.field("module_fork_last_cow_size", 0);
    }

    /// The log's sizes and buffers, reported only while there is a log (as Redis does).
    fn log_sizes(&self, stats: &WalStats, f: &mut Fields<'_>) {
        f.field("aof_current_size", stats.disk_bytes);
        f.field("aof_base_size", self.save.bytes);
        f.field("aof_pending_rewrite", 0);
        f.field("aof_buffer_length", stats.pending_bytes);
        f.field("aof_pending_bio_fsync", 0);
        f.field("aof_delayed_fsync", 0);
    }

    /// Sluice's own: the log's segments, writes and LSNs, and what start-up recovered.
    fn sluice(&self, stats: &WalStats, f: &mut Fields<'_>) {
        f.field("rdb_last_snapshot_bytes", self.save.bytes);
        f.field("aof_fsync_policy", stats.policy.as_str());
        f.field("aof_segments", stats.segments);
        f.field("aof_log_bytes_since_snapshot", stats.wal_bytes);
        f.field("aof_writes", stats.writes);
        f.field("aof_fsyncs", stats.fsyncs);
        f.field(
            "aof_last_fsync_time_ms",
            stats.last_fsync_unix_ms.unwrap_or(0),
        );
        f.field("aof_appended_lsn", stats.appended_lsn);
        f.field("aof_synced_lsn", stats.synced_lsn);
        let read_ms = u64::try_from(stats.recovery.duration.as_millis()).unwrap_or(u64::MAX);
        f.field(
            "recovery_time_ms",
            read_ms.saturating_add(self.replay.millis),
        );
        f.field("recovery_snapshot_keys", self.replay.snapshot_keys);
        f.field("recovery_log_records", self.replay.records);
        f.field(
            "recovery_torn_tail",
            u8::from(stats.recovery.torn_tail.is_some()),
        );
    }
}
