//! The listener: accepts connections and runs the background tasks (active expiry) until
//! told to shut down.
//!
//! [`run`] takes its listener and its shutdown signal from the caller, so tests drive the real
//! server on `127.0.0.1:0` without the command line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::connection;
use crate::error::ServerError;
use crate::persist;
use crate::routes;
use crate::shared::{Clock, Shared, SystemClock};

/// How often keys nobody touches are checked for expiry (Redis's `hz 10`).
const EXPIRE_CYCLE: Duration = Duration::from_millis(100);

/// Serves clients on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    run_with_clock(listener, config, Arc::new(SystemClock), shutdown).await
}

/// [`run`] with an injected clock.
pub async fn run_with_clock(
    listener: TcpListener,
    config: Config,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    Server::open(config, clock, listener.local_addr()?)?
        .serve(listener, shutdown)
        .await
}

/// A server whose data is loaded and ready to serve: [`Server::open`] reports a bad config
/// or an unreadable data folder before anything listens.
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// Checks `config`, opens the data folder, loads the snapshot and replays the log.
    pub fn open(
        config: Config,
        clock: Arc<dyn Clock>,
        local_addr: SocketAddr,
    ) -> Result<Server, ServerError> {
        config.validate()?;
        let shared = Shared::new(config, clock, local_addr).into_arc();
        recover(&shared)?;
        Ok(Server { shared })
    }

    /// Serves clients on `listener` until `shutdown` completes or a client sends `SHUTDOWN`;
    /// then flushes the log.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let shared = self.shared;
        let (stop_tx, stop_rx) = watch::channel(false);
        let expiry = tokio::spawn(expire_cycle(shared.clone(), stop_rx.clone()));
        let snapshots = tokio::spawn(auto_snapshot(shared.clone(), stop_rx.clone()));
        {
            // Compiling plugins takes a while: not on a runtime thread.
            let shared = shared.clone();
            let _ = tokio::task::spawn_blocking(move || routes::loader::start(&shared)).await;
        }
        tracing::info!(addr = %shared.local_addr, "Ready to accept connections tcp");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => {
                        shared.stats.connections_received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tokio::spawn(connection::serve(shared.clone(), socket, stop_rx.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving those connected.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                () = &mut shutdown => break,
                () = shared.shutdown.notified() => break,
            }
        }
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        let _ = expiry.await;
        let _ = snapshots.await;
        {
            // Each route finishes the batch it is on.
            let shared = shared.clone();
            let _ = tokio::task::spawn_blocking(move || routes::loader::shutdown(&shared)).await;
        }
        if let Some(wal) = shared.journal.wal() {
            // Clean shutdown: everything acknowledged is on disk before we return.
            wal.sync_all()?;
            tracing::info!("write-ahead log flushed");
        }
        Ok(())
    }
}

/// Opens the data folder, loads the snapshot, replays the log after it, then starts logging.
fn recover(shared: &Arc<Shared>) -> Result<(), ServerError> {
    if !shared.config.appendonly {
        tracing::warn!("appendonly no: data is kept in memory only and lost on restart");
        return Ok(());
    }
    let policy = shared.config.fsync_policy().unwrap_or_default();
    let (wal, recovery) = sluice_storage::Storage::open(&shared.config.dir, policy)?;
    if let Some(torn) = &recovery.report.torn_tail {
        tracing::warn!(
            file = %torn.path.display(),
            offset = torn.offset,
            dropped_bytes = torn.dropped_bytes,
            "the log ended with a torn write (a crash mid-write); it was truncated there"
        );
    }
    let report = persist::replay::replay(shared, &recovery)?;
    tracing::info!(
        dir = %shared.config.dir.display(),
        snapshot_keys = report.snapshot_keys,
        records = report.records,
        ms = report.millis + u64::try_from(recovery.report.duration.as_millis()).unwrap_or(0),
        "data loaded"
    );
    *shared.recovery.lock() = report;
    drop(recovery);
    shared.journal.attach(Arc::new(wal));
    Ok(())
}

/// How often the log size is compared with `auto-snapshot-min-size`.
const SNAPSHOT_CHECK: Duration = Duration::from_secs(1);

/// Takes a snapshot in the background whenever the log has grown past the threshold.
async fn auto_snapshot(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(SNAPSHOT_CHECK);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(wal) = shared.journal.wal() else {
            return;
        };
        if wal.wal_bytes() >= shared.config.auto_snapshot_min_size && !shared.saver.in_progress() {
            tracing::info!(
                log_bytes = wal.wal_bytes(),
                "log past auto-snapshot-min-size: snapshotting"
            );
            if let Err(e) = persist::snapshot::bgsave(&shared) {
                tracing::warn!("auto-snapshot: {e}");
            }
        }
    }
}

/// Removes expired keys nobody reads, and tells blocked readers their key is gone.
async fn expire_cycle(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EXPIRE_CYCLE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let gone = {
            let _gate = shared.keyspace.gate.read();
            shared.keyspace.expire_cycle(shared.now_ms())
        };
        for (db, key) in gone {
            shared.blocking.key_gone(db, &key);
        }
    }
}
