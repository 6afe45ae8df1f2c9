//! Start-up: open the data folder, rebuild the keyspace from the newest snapshot and the log
//! records after it, then start logging.
//!
//! A log record holds commands, written with every run-time decision spelled out (IDs,
//! times, counts), so running them again gives the same state, as Redis loads its AOF. The
//! broker does not know the commands: a [`Replayer`] — the command layer that wrote them —
//! runs each one. The journal is not attached yet, so nothing replayed is logged twice.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use sluice_storage::Recovery;

use super::{record, snapshot};
use crate::Broker;
use crate::error::BrokerError;

/// Runs the commands of log records again at start-up.
pub trait Replayer {
    /// Runs `command` (name first) against database `db` of `broker`; false if it answered
    /// an error.
    fn replay(&mut self, broker: &Broker, db: usize, command: Vec<Bytes>) -> bool;
}

/// What start-up replayed, for the log and `INFO persistence`.
#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    /// Keys loaded from the snapshot.
    pub snapshot_keys: usize,
    /// Log records replayed.
    pub records: u64,
    /// Commands in them that answered an error (logged; 0 in a healthy log).
    pub failed_commands: u64,
    /// Time to load the snapshot and replay the log, ms.
    pub millis: u64,
    /// Time the storage layer took to read the files, ms.
    pub storage_millis: u64,
}

/// Opens the data folder, loads the snapshot, replays the log after it through `replayer`,
/// then starts logging. With `appendonly no` there is nothing to open.
pub(crate) fn recover(
    broker: &Arc<Broker>,
    replayer: &mut dyn Replayer,
) -> Result<(), BrokerError> {
    let config = &broker.config;
    if !config.appendonly {
        tracing::warn!("appendonly no: data is kept in memory only and lost on restart");
        return Ok(());
    }
    let (wal, recovery) = sluice_storage::Storage::open(&config.dir, config.appendfsync)?;
    wal.set_fault_file(config.log_fault_file.clone());
    if let Some(torn) = &recovery.report.torn_tail {
        tracing::warn!(
            file = %torn.path.display(),
            offset = torn.offset,
            dropped_bytes = torn.dropped_bytes,
            "the log ended with a torn write (a crash mid-write); it was truncated there"
        );
    }
    let mut report = replay(broker, &recovery, replayer)?;
    report.storage_millis = u64::try_from(recovery.report.duration.as_millis()).unwrap_or(0);
    tracing::info!(
        dir = %config.dir.display(),
        snapshot_keys = report.snapshot_keys,
        records = report.records,
        ms = report.millis + report.storage_millis,
        "data loaded"
    );
    *broker.recovery.lock() = report;
    drop(recovery);
    broker.journal.attach(Arc::new(wal));
    Ok(())
}

/// Loads `recovery` into `broker`'s keyspace.
fn replay(
    broker: &Broker,
    recovery: &Recovery,
    replayer: &mut dyn Replayer,
) -> Result<ReplayReport, BrokerError> {
    let started = Instant::now();
    let mut report = ReplayReport::default();
    if let Some(snap) = &recovery.snapshot {
        report.snapshot_keys = snapshot::load(broker, &snap.payload)
            .map_err(|e| BrokerError::Recovery(format!("snapshot at LSN {}: {e}", snap.lsn)))?;
    }
    for rec in recovery.records() {
        let decoded = record::decode(rec.payload)
            .map_err(|e| BrokerError::Recovery(format!("log record {}: {e}", rec.lsn)))?;
        if decoded.db >= broker.keyspace.len() {
            return Err(BrokerError::Recovery(format!(
                "log record {} is for database {}, but the server has {} (raise --databases)",
                rec.lsn,
                decoded.db,
                broker.keyspace.len()
            )));
        }
        for command in decoded.commands {
            if !replayer.replay(broker, decoded.db, command) {
                report.failed_commands += 1;
                tracing::warn!(lsn = rec.lsn, "a replayed command failed");
            }
        }
        report.records += 1;
    }
    report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}
