//! How attached routes learn that a source was written: a blocking `XREAD` per source stream,
//! on a connection of its own (a blocking command would hold up everything queued behind it
//! on a shared one), wakes the routes reading it; and every second each route looks at all
//! its sources again, which finds new streams matching a glob and entries to claim.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::Value;

use crate::Shared;

/// How long one blocking read waits before it is issued again (and the store checked).
const BLOCK_MS: u64 = 1000;

/// Makes every route look at all its sources, every second, until the store closes.
pub async fn rescan_every_second(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let Some(broker) = shared.broker.upgrade() else {
            return;
        };
        broker.routes.rescan_all();
    }
}

/// Starts a blocking reader on `key` unless one runs.
pub fn ensure(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle, key: &[u8]) {
    if !shared.watched.lock().insert(key.to_vec()) {
        return;
    }
    runtime.spawn(watch(shared.clone(), key.to_vec()));
}

/// Wakes the routes reading `key` whenever an entry newer than the last seen arrives.
async fn watch(shared: Arc<Shared>, key: Vec<u8>) {
    let mut conn = None;
    let mut last: Option<Vec<u8>> = None;
    while !shared.closed.load(Ordering::SeqCst) {
        if conn.is_none() {
            match shared.client.connect().await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::debug!("attached: watcher connection: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        // Where to wait from: the last ID waited from after a quiet read, else the newest
        // entry now, after which the route is woken once: it reads everything up to that
        // entry, and anything after it ends the blocking read.
        let from = match &last {
            Some(id) => id.clone(),
            None => {
                let mut newest = redis::cmd("XREVRANGE");
                newest.arg(&key).arg("+").arg("-").arg("COUNT").arg(1);
                let newest = match c.query::<Value>(&newest).await {
                    Ok(reply) => crate::reply::entries(reply)
                        .into_iter()
                        .next()
                        .map_or_else(|| b"0-0".to_vec(), |(id, _)| id),
                    Err(_) => {
                        conn = None;
                        continue;
                    }
                };
                wake(&shared, &key);
                newest
            }
        };
        let mut read = redis::cmd("XREAD");
        read.arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(&key)
            .arg(&from);
        match c.query::<Value>(&read).await {
            Ok(Value::Nil) => last = Some(from),
            Ok(_) => {
                // Written: the next turn takes the newest entry and wakes the route (a
                // millisecond later, so a burst of appends is one wake-up).
                last = None;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) => {
                tracing::debug!("attached: watcher read: {e}");
                conn = None;
                last = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

fn wake(shared: &Shared, key: &[u8]) {
    if let Some(broker) = shared.broker.upgrade() {
        broker.routes.key_written(0, key);
    }
}
