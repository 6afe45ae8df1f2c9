//! The broker's own periodic work, each on a thread of its own: active expiry (Redis's
//! `hz 10`), automatic snapshots once the log has grown enough, and hiding from readers what a
//! failed log has not written ([`crate::persist::visibility`]).

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Broker;
use crate::ready::ReadyKeys;

/// How often keys nobody touches are checked for expiry (Redis's `hz 10`).
const EXPIRE_CYCLE: Duration = Duration::from_millis(100);
/// How often blocked `XREADGROUP … CLAIM` readers are re-run for entries that became idle
/// enough (no write marks their keys ready then).
const CLAIM_WAKE_CYCLE: Duration = Duration::from_millis(10);
/// How often the log is checked for a failure to hide, or a recovery to show again: the
/// replies of the writes caught in a failure wait for the check after the retry.
const VISIBILITY_CHECK: Duration = Duration::from_millis(5);
/// How often the log size is compared with the auto-snapshot thresholds.
const SNAPSHOT_CHECK: Duration = Duration::from_secs(1);

/// The running threads; [`Background::stop`] ends them.
#[derive(Debug)]
pub(crate) struct Background {
    /// Dropped to stop the threads: each waits on its receiver between rounds.
    stop: Vec<mpsc::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the expiry and auto-snapshot threads. They hold the broker weakly, so a broker
    /// nobody else holds is dropped.
    pub(crate) fn start(broker: &Arc<Broker>) -> Background {
        let mut background = Background {
            stop: Vec::new(),
            threads: Vec::new(),
        };
        background.spawn("sluice-expiry", broker, EXPIRE_CYCLE, expire_cycle);
        background.spawn("sluice-snapshots", broker, SNAPSHOT_CHECK, auto_snapshot);
        background.spawn("sluice-claim-wake", broker, CLAIM_WAKE_CYCLE, claim_wake);
        background.spawn("sluice-visibility", broker, VISIBILITY_CHECK, |broker| {
            broker.visibility.tick(broker);
        });
        background
    }

    fn spawn(&mut self, name: &str, broker: &Arc<Broker>, every: Duration, work: fn(&Broker)) {
        let (tx, rx) = mpsc::channel::<()>();
        let weak: Weak<Broker> = Arc::downgrade(broker);
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    match weak.upgrade() {
                        Some(broker) => work(&broker),
                        None => return,
                    }
                }
            });
        match spawned {
            Ok(handle) => {
                self.stop.push(tx);
                self.threads.push(handle);
            }
            Err(e) => tracing::error!("cannot start the {name} thread: {e}"),
        }
    }

    /// Stops the threads after the round they are on.
    pub(crate) fn stop(self) {
        drop(self.stop);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Removes expired keys nobody reads; readers blocked on them are served as after a `DEL`.
fn expire_cycle(broker: &Broker) {
    let started = Instant::now();
    let gate = broker.keyspace.gate.read();
    let mut ready = ReadyKeys::default();
    for (db, key) in broker.keyspace.expire_cycle(broker.now_ms()) {
        ready.push(db, &key);
    }
    broker.serve_ready(&mut ready);
    drop(gate);
    let spent = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    broker.expire_cycle_us.fetch_add(spent, Ordering::Relaxed);
}

/// Re-runs the blocked reads that wake with time (`XREADGROUP … CLAIM`), as if their keys
/// were written; routes are not told, since nothing was.
fn claim_wake(broker: &Broker) {
    if broker.blocking.is_empty() {
        return;
    }
    let gate = broker.keyspace.gate.read();
    let mut batch = ReadyKeys::default();
    broker.blocking.mark_time_driven(&mut batch);
    if !batch.is_empty() {
        let mut ready = ReadyKeys::default();
        broker.blocking.serve_ready(broker, &batch, &mut ready);
        broker.serve_ready(&mut ready);
    }
    drop(gate);
}

/// True when a log of `log_bytes` since the last snapshot of `snapshot_bytes` calls for a new
/// snapshot: past `auto-snapshot-min-size` and grown by `auto-snapshot-percentage` of the
/// snapshot, as Redis rewrites its AOF. A fixed threshold alone would write a 1 GB data set
/// again for every 64 MB logged; with the percentage, rewriting costs at most about as much
/// disk as logging.
pub(crate) fn snapshot_due(
    log_bytes: u64,
    snapshot_bytes: u64,
    min_size: u64,
    percentage: u64,
) -> bool {
    percentage > 0
        && log_bytes >= min_size
        && u128::from(log_bytes) * 100 >= u128::from(snapshot_bytes) * u128::from(percentage)
}

/// Takes a snapshot when the log has grown past the thresholds.
fn auto_snapshot(broker: &Broker) {
    let Some(wal) = broker.journal.wal() else {
        return;
    };
    let (log_bytes, snapshot_bytes) = (wal.wal_bytes(), wal.last_snapshot_bytes());
    let percentage = broker
        .settings
        .auto_snapshot_percentage
        .load(Ordering::Relaxed);
    let due = snapshot_due(
        log_bytes,
        snapshot_bytes,
        broker.config.auto_snapshot_min_size,
        percentage,
    );
    if due && !broker.saver.in_progress() {
        tracing::info!(
            log_bytes,
            snapshot_bytes,
            "log past auto-snapshot-min-size and auto-snapshot-percentage: snapshotting"
        );
        if let Err(e) = crate::persist::snapshot::bgsave(broker) {
            tracing::warn!("auto-snapshot: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::snapshot_due;

    #[test]
    fn a_snapshot_is_due_past_the_minimum_and_the_growth_percentage() {
        const MB: u64 = 1 << 20;
        // No snapshot yet: the minimum size alone decides.
        assert!(!snapshot_due(63 * MB, 0, 64 * MB, 100));
        assert!(snapshot_due(64 * MB, 0, 64 * MB, 100));
        // A 1 GB snapshot waits for 1 GB of log at 100%, 512 MB at 50%.
        assert!(!snapshot_due(512 * MB, 1024 * MB, 64 * MB, 100));
        assert!(snapshot_due(1024 * MB, 1024 * MB, 64 * MB, 100));
        assert!(snapshot_due(512 * MB, 1024 * MB, 64 * MB, 50));
        // A small snapshot: the minimum still applies.
        assert!(!snapshot_due(10 * MB, MB, 64 * MB, 100));
        // 0: never, as `auto-aof-rewrite-percentage 0` in Redis.
        assert!(!snapshot_due(u64::MAX, 0, 0, 0));
        // No overflow at the extremes.
        assert!(snapshot_due(u64::MAX, u64::MAX, 0, 100));
        assert!(!snapshot_due(u64::MAX, u64::MAX, 0, i32::MAX as u64));
    }
}
