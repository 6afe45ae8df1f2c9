//! Clients blocked in `XREAD … BLOCK` (and later `XREADGROUP`), and how writes wake them.
//!
//! A blocked client costs a parked task and an entry here: no CPU while it waits. When a
//! command writes to a key, the writer serves the clients blocked on that key itself, in the
//! order they blocked, before its own command returns: so readers are served in arrival
//! order and a reader that asked for new entries cannot miss one added between its read and
//! its registration (registration re-checks under the same lock writers take).
//!
//! Lock order: keyspace gate → registry → database shard. Writers call
//! [`Blocking::key_written`] after releasing their shard lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use sluice_resp::{Protocol, Reply};
use tokio::sync::oneshot;

use crate::shared::Shared;

/// A read that could not be answered yet: what to retry when its keys change.
pub trait BlockedRead: Send + std::fmt::Debug {
    /// Tries to answer now; `Some(reply)` unblocks the client with that reply.
    fn try_serve(&mut self, shared: &Shared, db: usize, proto: Protocol) -> Option<Reply>;
    /// Called when one of the keys was deleted, renamed away or flushed; `Some(reply)`
    /// unblocks the client (a group reader gets an error), `None` keeps it waiting.
    fn key_gone(&mut self, _key: &[u8]) -> Option<Reply> {
        None
    }
    /// The reply when the timeout passes.
    fn timeout_reply(&self) -> Reply {
        Reply::NullArray
    }
}

/// What a command returns when it has to wait.
#[derive(Debug)]
pub struct BlockRequest {
    /// Database of the keys.
    pub db: usize,
    /// Keys whose writes may answer the read.
    pub keys: Vec<Bytes>,
    /// How long to wait; `None` waits forever (`BLOCK 0`).
    pub timeout: Option<std::time::Duration>,
    /// The read to retry.
    pub read: Box<dyn BlockedRead>,
}

#[derive(Debug)]
struct Waiter {
    db: usize,
    keys: Vec<Bytes>,
    proto: Protocol,
    read: Box<dyn BlockedRead>,
    reply: oneshot::Sender<Reply>,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    waiters: HashMap<u64, Waiter>,
    /// Waiter ids per `(db, key)`, oldest first.
    by_key: HashMap<(usize, Bytes), VecDeque<u64>>,
}

impl Registry {
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let waiter = self.waiters.remove(&id)?;
        for key in &waiter.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|&w| w != id);
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        Some(waiter)
    }

    fn waiting_on(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.by_key
            .get(&(db, Bytes::copy_from_slice(key)))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// A registered wait: the reply arrives on `reply`; `id` cancels it.
#[derive(Debug)]
pub struct Registration {
    pub id: u64,
    pub reply: oneshot::Receiver<Reply>,
}

/// The registry of blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    registry: Mutex<Registry>,
    /// Number of waiters: lets writers skip the registry when nobody waits.
    waiting: AtomicUsize,
}

impl Blocking {
    /// Blocks a client, unless its read can be answered right away (then `Err(reply)`).
    pub fn register(
        &self,
        shared: &Shared,
        mut request: BlockRequest,
        proto: Protocol,
    ) -> Result<Registration, Reply> {
        let mut registry = self.registry.lock();
        if let Some(reply) = request.read.try_serve(shared, request.db, proto) {
            return Err(reply);
        }
        registry.next_id += 1;
        let id = registry.next_id;
        for key in &request.keys {
            registry
                .by_key
                .entry((request.db, key.clone()))
                .or_default()
                .push_back(id);
        }
        let (tx, rx) = oneshot::channel();
        registry.waiters.insert(
            id,
            Waiter {
                db: request.db,
                keys: request.keys,
                proto,
                read: request.read,
                reply: tx,
            },
        );
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { id, reply: rx })
    }

    /// Withdraws a wait (timeout or disconnect). `None` if a writer already answered it.
    pub fn cancel(&self, id: u64) -> Option<Reply> {
        let waiter = self.registry.lock().remove(id)?;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        Some(waiter.read.timeout_reply())
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// True when nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A command changed `key`: serve the clients blocked on it, oldest first.
    pub fn key_written(&self, shared: &Shared, db: usize, key: &[u8]) {
        if self.is_empty() {
            return;
        }
        let mut registry = self.registry.lock();
        for id in registry.waiting_on(db, key) {
            let Some(waiter) = registry.waiters.get_mut(&id) else {
                continue;
            };
            if let Some(reply) = waiter.read.try_serve(shared, waiter.db, waiter.proto) {
                self.finish(&mut registry, id, reply);
            }
        }
    }

    /// `key` was deleted, renamed away or flushed.
    pub fn key_gone(&self, db: usize, key: &[u8]) {
        if self.is_empty() {
            return;
        }
        let mut registry = self.registry.lock();
        for id in registry.waiting_on(db, key) {
            let Some(waiter) = registry.waiters.get_mut(&id) else {
                continue;
            };
            if let Some(reply) = waiter.read.key_gone(key) {
                self.finish(&mut registry, id, reply);
            }
        }
    }

    /// Every key of database `db` (or of all databases when `None`) was flushed.
    pub fn db_flushed(&self, db: Option<usize>) {
        if self.is_empty() {
            return;
        }
        let slots: Vec<(usize, Bytes)> = {
            let registry = self.registry.lock();
            registry
                .by_key
                .keys()
                .filter(|(d, _)| db.is_none_or(|db| db == *d))
                .cloned()
                .collect()
        };
        for (d, key) in slots {
            self.key_gone(d, &key);
        }
    }

    fn finish(&self, registry: &mut Registry, id: u64, reply: Reply) {
        if let Some(waiter) = registry.remove(id) {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            // The client may have gone meanwhile; nothing to do then.
            let _ = waiter.reply.send(reply);
        }
    }
}
