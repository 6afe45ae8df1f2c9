//! The listeners: accept connections (plain TCP, and TLS when configured), enforce
//! `maxclients`, and run the background tasks (active expiry) until told to shut down.
//!
//! [`run`] takes its listener and its shutdown signal from the caller, so tests drive the real
//! server on `127.0.0.1:0` without the command line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::blocking::ReadyKeys;
use crate::config::Config;
use crate::connection;
use crate::error::ServerError;
use crate::persist;
use crate::routes;
use crate::shared::{Clock, Shared, SystemClock};
use crate::tls;

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

/// What a connection past `maxclients` is told before it is closed (Redis's text).
const MAXCLIENTS_REPLY: &[u8] = b"-ERR max number of clients reached\r\n";
/// How long a refused client may take to take that reply.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The sockets a server accepts clients on.
#[derive(Debug)]
pub struct Listeners {
    /// Plain TCP (`port`).
    pub tcp: TcpListener,
    /// TLS (`tls-port`), if configured.
    pub tls: Option<TlsListener>,
}

/// A listener whose connections speak TLS.
pub struct TlsListener {
    /// Bound to `tls-port`.
    pub listener: TcpListener,
    /// Made by [`tls::acceptor`] from the config's certificate files.
    pub acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
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
        let listeners = Listeners {
            tcp: listener,
            tls: None,
        };
        self.serve_with(listeners, shutdown).await
    }

    /// [`Server::serve`] on plain TCP and, if given, a TLS listener beside it.
    pub async fn serve_with(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let Listeners { tcp: listener, tls } = listeners;
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
        if let Some(tls) = &tls {
            let addr = tls.listener.local_addr()?;
            let _ = shared.tls_addr.set(addr);
            tracing::info!(%addr, "Ready to accept connections tls");
        }
        let open = Arc::new(AtomicU64::new(0));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => match Slot::take(&shared, &open) {
                        Some(slot) => {
                            let shared = shared.clone();
                            let stop = stop_rx.clone();
                            tokio::spawn(async move {
                                connection::serve(shared, socket, stop).await;
                                drop(slot);
                            });
                        }
                        None => {
                            tokio::spawn(refuse(socket));
                        }
                    },
                    Err(e) => accept_failed(e).await,
                },
                accepted = accept_tls(tls.as_ref()) => match accepted {
                    Ok((socket, acceptor)) => match Slot::take(&shared, &open) {
                        Some(slot) => {
                            tokio::spawn(serve_tls(shared.clone(), socket, acceptor, stop_rx.clone(), slot));
                        }
                        None => {
                            tokio::spawn(refuse_tls(socket, acceptor));
                        }
                    },
                    Err(e) => accept_failed(e).await,
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

/// One connection's place among `maxclients`, plain and TLS together: taken when accepted,
/// given back when the connection ends (dropped).
struct Slot {
    open: Arc<AtomicU64>,
}

impl Slot {
    /// A place for a new connection, or `None` (counted as rejected) if `maxclients` are open.
    /// Only the accept loop takes places, so checking then adding cannot overshoot.
    fn take(shared: &Shared, open: &Arc<AtomicU64>) -> Option<Slot> {
        let stats = &shared.stats;
        if open.load(Ordering::Relaxed) >= shared.settings.maxclients.load(Ordering::Relaxed) {
            stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        open.fetch_add(1, Ordering::Relaxed);
        stats.connections_received.fetch_add(1, Ordering::Relaxed);
        Some(Slot { open: open.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The next connection on the TLS listener; never, without one.
async fn accept_tls(tls: Option<&TlsListener>) -> std::io::Result<(TcpStream, TlsAcceptor)> {
    match tls {
        Some(tls) => {
            let (socket, _) = tls.listener.accept().await?;
            Ok((socket, tls.acceptor.clone()))
        }
        None => std::future::pending().await,
    }
}

/// Out of file descriptors and the like: keep serving those connected.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!("accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Completes a TLS client's handshake, then serves it; `slot` is held until it leaves.
async fn serve_tls(
    shared: Arc<Shared>,
    socket: TcpStream,
    acceptor: TlsAcceptor,
    stop: watch::Receiver<bool>,
    slot: Slot,
) {
    let _ = socket.set_nodelay(true);
    let (Ok(addr), Ok(laddr)) = (socket.peer_addr(), socket.local_addr()) else {
        return;
    };
    match tls::handshake(&acceptor, socket, tls::HANDSHAKE_TIMEOUT).await {
        Ok(stream) => connection::serve_stream(shared, stream, addr, laddr, stop).await,
        // As Redis logs a refused client certificate.
        Err(e) => tracing::warn!(%addr, "Error accepting a client connection: {e}"),
    }
    drop(slot);
}

/// Tells a client past `maxclients` so, then closes.
async fn refuse<S: AsyncWrite + Unpin>(mut stream: S) {
    let _ = tokio::time::timeout(REFUSE_TIMEOUT, async {
        stream.write_all(MAXCLIENTS_REPLY).await?;
        stream.shutdown().await
    })
    .await;
}

/// [`refuse`] for a TLS client: after the handshake, so that it can read why.
async fn refuse_tls(socket: TcpStream, acceptor: TlsAcceptor) {
    if let Ok(stream) = tls::handshake(&acceptor, socket, tls::HANDSHAKE_TIMEOUT).await {
        refuse(stream).await;
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

/// How often the log size is compared with the auto-snapshot thresholds.
const SNAPSHOT_CHECK: Duration = Duration::from_secs(1);

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

/// Takes a snapshot in the background whenever the log has grown past the thresholds.
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
        let (log_bytes, snapshot_bytes) = (wal.wal_bytes(), wal.last_snapshot_bytes());
        let percentage = shared
            .settings
            .auto_snapshot_percentage
            .load(Ordering::Relaxed);
        let due = snapshot_due(
            log_bytes,
            snapshot_bytes,
            shared.config.auto_snapshot_min_size,
            percentage,
        );
        if due && !shared.saver.in_progress() {
            tracing::info!(
                log_bytes,
                snapshot_bytes,
                "log past auto-snapshot-min-size and auto-snapshot-percentage: snapshotting"
            );
            // Off the runtime's threads: preparing the buffer and waiting for the gate block.
            let saving = shared.clone();
            match tokio::task::spawn_blocking(move || persist::snapshot::bgsave(&saving)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("auto-snapshot: {e}"),
                Err(e) => tracing::error!("auto-snapshot task failed: {e}"),
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
        // Readers blocked on an expired key are served as after a DEL.
        let started = std::time::Instant::now();
        let gate = shared.keyspace.gate.read();
        let mut ready = ReadyKeys::default();
        for (db, key) in shared.keyspace.expire_cycle(shared.now_ms()) {
            ready.push(db, &key);
        }
        shared.serve_ready(&mut ready);
        drop(gate);
        let spent = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        shared
            .stats
            .expire_cycle_us
            .fetch_add(spent, Ordering::Relaxed);
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
