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

use sluice_broker::{Broker, Clock, SystemClock};

use crate::config::Config;
use crate::connection;
use crate::error::ServerError;
use crate::replay::CommandReplayer;
use crate::shared::Shared;
use crate::tls;

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
    /// The Prometheus endpoint (`metrics-port`), if configured.
    pub metrics: Option<TcpListener>,
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
        let broker = Broker::new(config.broker_config(), clock, config.plugins_reader())?;
        if !config.attach.is_empty() {
            // Attached: the data lives on the cluster; nothing is read or logged here.
            let attach = sluice_attach::AttachConfig {
                urls: config.attach.clone(),
                instance: config
                    .instance_id
                    .clone()
                    .unwrap_or_else(default_instance_id),
                tls_ca_file: config.attach_tls_ca_file.clone(),
            };
            let store = sluice_attach::AttachedStore::connect(&attach, Arc::downgrade(&broker))
                .map_err(|e| {
                    ServerError::Invalid(format!("cannot attach to {:?}: {e:#}", config.attach))
                })?;
            broker.attach(Arc::new(store));
            let shared = Arc::new(Shared::new(config, broker, local_addr));
            return Ok(Server { shared });
        }
        let shared = Arc::new(Shared::new(config, broker, local_addr));
        // Replayed commands run as a client of their own, gone once the log is read.
        let info = shared.clients.add(local_addr, local_addr, shared.now_ms());
        let replayed = shared
            .broker
            .recover(&mut CommandReplayer::new(&shared, info.clone()));
        shared.clients.remove(info.id);
        replayed?;
        shared
            .broker
            .visibility
            .set_key_finder(Box::new(crate::visibility::logged_keys));
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
            metrics: None,
        };
        self.serve_with(listeners, shutdown).await
    }

    /// [`Server::serve`] on plain TCP and, if given, a TLS listener beside it.
    pub async fn serve_with(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let Listeners {
            tcp: listener,
            tls,
            metrics,
        } = listeners;
        let shared = self.shared;
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(metrics) = metrics {
            let addr = metrics.local_addr()?;
            let _ = shared.metrics_addr.set(addr);
            tracing::info!(%addr, "Serving Prometheus metrics at /metrics");
            tokio::spawn(crate::metrics::serve(
                metrics,
                shared.clone(),
                stop_rx.clone(),
            ));
        }
        {
            // Compiling plugins takes a while: not on a runtime thread.
            let broker = shared.broker.clone();
            let _ = tokio::task::spawn_blocking(move || broker.start()).await;
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
        // Each route finishes the batch it is on; everything acknowledged reaches the disk.
        let broker = shared.broker.clone();
        match tokio::task::spawn_blocking(move || broker.shutdown()).await {
            Ok(result) => result?,
            Err(e) => tracing::error!("shutdown task failed: {e}"),
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

/// An attached instance's default name: the host's name and this process's ID.
fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sluice".into());
    format!("{host}:{}", std::process::id())
}
