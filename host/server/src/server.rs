//! The listener: accepts connections and runs the background tasks (active expiry) until
//! told to shut down.
//!
//! [`run`] takes its listener and its shutdown signal from the caller, so tests drive the real
//! server on `127.0.0.1:0` without the command line.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::connection;
use crate::error::ServerError;
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
    config.validate()?;
    let shared = Arc::new(Shared::new(config, clock, listener.local_addr()?));
    let (stop_tx, stop_rx) = watch::channel(false);
    let expiry = tokio::spawn(expire_cycle(shared.clone(), stop_rx.clone()));
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
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = expiry.await;
    Ok(())
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
