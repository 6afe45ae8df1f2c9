//! Clients blocked in `XREAD`/`XREADGROUP … BLOCK`, `BLPOP`, `BRPOP` and `BLMOVE`, the
//! ready-key list, and how writes wake them.
//!
//! A blocked client costs a parked task and an entry here: no CPU while it waits. As in
//! Redis, a command that changes a key (appends, deletes, renames, flushes) only marks it
//! ready, in its [`ReadyKeys`]; once the command, the whole `EXEC`, or a route's or policy's
//! commit has finished, [`Blocking::serve_ready`] re-runs the reads blocked on each ready key
//! against the state at that point, key by key in the order they became ready, and on each
//! key in the order the clients blocked. So a transaction that appends and then deletes wakes
//! nobody, three appends inside one `EXEC` are read together, and a reader that asked for new
//! entries cannot miss one added between its read and its registration (registration
//! re-checks under the same lock writers take). A re-run that answers an error (the group or
//! the key is gone) unblocks its client with that error, as Redis 7.2's re-run does.
//!
//! A re-run may itself write: a served `BLPOP` pops (and logs the pop), a served `BLMOVE`
//! pushes to its destination, which makes that key ready in turn. Such keys are served in a
//! further pass once the current one is done, as Redis serves the keys its blocked commands
//! add; each pass finishes at least one waiter, so the passes end.
//!
//! Lock order: keyspace gate → registry → database shard. Ready keys are served with the
//! gate still held (so nothing else runs between the command and its readers) and no shard
//! lock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use sluice_resp::{Protocol, Reply};
use tokio::sync::oneshot;

use crate::Broker;

/// A read that could not be answered yet: what to retry when its keys change.
pub trait BlockedRead: Send + std::fmt::Debug {
    /// Tries to answer now; `Some(reply)` unblocks the client with that reply. A read that
    /// writes as it answers (`BLMOVE` pushing to its destination) marks what it changed in
    /// `ready`, so clients blocked there are served in the same pass.
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        proto: Protocol,
        ready: &mut ReadyKeys,
    ) -> Option<Reply>;
    /// True if `key` becoming ready should re-run the read. Redis re-runs a blocked list pop
    /// only when the ready key holds a list: one that became a string or was deleted leaves
    /// its clients waiting.
    fn wakes_on(&self, _broker: &Broker, _db: usize, _key: &[u8]) -> bool {
        true
    }
    /// The reply when the timeout passes.
    fn timeout_reply(&self) -> Reply {
        Reply::NullArray
    }
    /// True if a missing key ends the wait (a group read gets NOGROUP): Redis counts such keys
    /// apart (`total_blocking_keys_on_nokey`).
    fn ends_on_missing_key(&self) -> bool {
        false
    }
    /// True if the read can become answerable with no write, as time passes
    /// (`XREADGROUP … CLAIM` waits for entries to become idle enough): the broker re-runs it
    /// on its clock ([`Blocking::mark_time_driven`]).
    fn wakes_with_time(&self) -> bool {
        false
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
    /// Blocked with a timeout (Redis's `clients_in_timeout_table`).
    timed: bool,
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

    fn waiting_on(&self, db: usize, key: &Bytes) -> Vec<u64> {
        self.by_key
            .get(&(db, key.clone()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// The blocked clients, as `INFO clients` reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingFigures {
    /// Clients blocked (`blocked_clients`).
    pub clients: usize,
    /// Keys some client is blocked on (`total_blocking_keys`).
    pub keys: usize,
    /// Keys a client is blocked on whose removal ends its wait (`total_blocking_keys_on_nokey`).
    pub keys_ending_on_missing: usize,
    /// Clients blocked with a timeout (`clients_in_timeout_table`).
    pub with_timeout: usize,
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
    /// Clients between their first try and their registration. A writer on another thread
    /// that appends after the try must not skip the registry because `waiting` is still 0:
    /// counting the client in before its try closes that window (the writer then waits on
    /// the registry lock, which the client holds until it is registered).
    registering: AtomicUsize,
}

impl Blocking {
    /// Blocks a client, unless its read can be answered right away (then `Err(reply)`). Call
    /// with the keyspace gate held: a read answered here that wrote (`BLMOVE`) serves the
    /// clients blocked on what it wrote before returning.
    pub fn register(
        &self,
        broker: &Broker,
        request: BlockRequest,
        proto: Protocol,
    ) -> Result<Registration, Reply> {
        let mut ready = ReadyKeys::default();
        let registered = self.register_or_serve(broker, request, proto, &mut ready);
        broker.serve_ready(&mut ready);
        registered
    }

    fn register_or_serve(
        &self,
        broker: &Broker,
        mut request: BlockRequest,
        proto: Protocol,
        ready: &mut ReadyKeys,
    ) -> Result<Registration, Reply> {
        let mut registry = self.registry.lock();
        self.registering.fetch_add(1, Ordering::SeqCst);
        let served = request.read.try_serve(broker, request.db, proto, ready);
        if let Some(reply) = served {
            self.registering.fetch_sub(1, Ordering::SeqCst);
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
                timed: request.timeout.is_some(),
                proto,
                read: request.read,
                reply: tx,
            },
        );
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.registering.fetch_sub(1, Ordering::SeqCst);
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

    /// True when nobody waits, nor is about to.
    pub fn is_empty(&self) -> bool {
        self.registering.load(Ordering::SeqCst) == 0 && self.waiting.load(Ordering::SeqCst) == 0
    }

    /// What `INFO clients` reports of the blocked clients.
    pub fn figures(&self) -> BlockingFigures {
        let registry = self.registry.lock();
        let on_missing_key = |ids: &VecDeque<u64>| {
            ids.iter().any(|id| {
                registry
                    .waiters
                    .get(id)
                    .is_some_and(|w| w.read.ends_on_missing_key())
            })
        };
        BlockingFigures {
            clients: registry.waiters.len(),
            keys: registry.by_key.len(),
            keys_ending_on_missing: registry
                .by_key
                .values()
                .filter(|q| on_missing_key(q))
                .count(),
            with_timeout: registry.waiters.values().filter(|w| w.timed).count(),
        }
    }

    /// Serves the clients blocked on the keys of `batch`, key by key, oldest first on each
    /// key. Keys the served reads write to (`BLMOVE`'s destination) are marked in `ready`,
    /// for the caller's next pass, as Redis serves the ready keys its blocked commands add.
    /// Call with the keyspace gate held, after the command (or `EXEC`) that made the keys
    /// ready has finished.
    pub fn serve_ready(&self, broker: &Broker, batch: &ReadyKeys, ready: &mut ReadyKeys) {
        if self.is_empty() {
            return;
        }
        let mut registry = self.registry.lock();
        for (db, key) in batch.iter() {
            for id in registry.waiting_on(db, key) {
                let Some(waiter) = registry.waiters.get_mut(&id) else {
                    continue;
                };
                if !waiter.read.wakes_on(broker, waiter.db, key) {
                    continue;
                }
                if let Some(reply) = waiter
                    .read
                    .try_serve(broker, waiter.db, waiter.proto, ready)
                {
                    self.finish(&mut registry, id, reply);
                }
            }
        }
    }

    /// Marks ready every key of database `db` (of every database when `None`) that a client
    /// is blocked on: what `FLUSHDB`, `FLUSHALL` and `SWAPDB` changed for blocked readers.
    pub fn mark_blocked_keys(&self, db: Option<usize>, ready: &mut ReadyKeys) {
        if self.is_empty() {
            return;
        }
        let registry = self.registry.lock();
        let mut slots: Vec<&(usize, Bytes)> = registry
            .by_key
            .keys()
            .filter(|(d, _)| db.is_none_or(|db| db == *d))
            .collect();
        // The oldest waiter first, so clients are served in the order they blocked.
        slots.sort_by_key(|slot| registry.by_key[*slot].front().copied());
        for (d, key) in slots {
            ready.push(*d, key);
        }
    }

    /// Marks ready the keys of the clients whose reads wake with time
    /// ([`BlockedRead::wakes_with_time`]), oldest waiter first.
    pub fn mark_time_driven(&self, ready: &mut ReadyKeys) {
        if self.is_empty() {
            return;
        }
        let registry = self.registry.lock();
        let mut waiters: Vec<(&u64, &Waiter)> = registry
            .waiters
            .iter()
            .filter(|(_, w)| w.read.wakes_with_time())
            .collect();
        waiters.sort_by_key(|(id, _)| **id);
        for (_, w) in waiters {
            for key in &w.keys {
                ready.push(w.db, key);
            }
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

/// Keys that became ready while a command (or an `EXEC`, or a route's or policy's commit)
/// ran, in the order they did: what [`Blocking::serve_ready`] and the routes look at once it
/// has finished. A key is listed once.
#[derive(Debug, Default)]
pub struct ReadyKeys {
    keys: Vec<(usize, Bytes)>,
    /// The same keys, once there are many (a long `EXEC`), so marking stays O(1).
    index: HashSet<(usize, Bytes)>,
}

/// Past this many ready keys, [`ReadyKeys`] indexes them instead of scanning.
const READY_SCAN_MAX: usize = 16;

impl ReadyKeys {
    /// Marks `key` of database `db` ready.
    pub fn push(&mut self, db: usize, key: &Bytes) {
        // Most commands make one key ready: a scan keeps them free of hashing.
        if self.keys.len() < READY_SCAN_MAX {
            if !self.keys.iter().any(|(d, k)| *d == db && k == key) {
                self.keys.push((db, key.clone()));
            }
            return;
        }
        if self.index.is_empty() {
            self.index.extend(self.keys.iter().cloned());
        }
        if self.index.insert((db, key.clone())) {
            self.keys.push((db, key.clone()));
        }
    }

    /// True when no key is ready.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The ready keys, in the order they became ready.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Bytes)> {
        self.keys.iter().map(|(db, key)| (*db, key))
    }

    /// Forgets every key.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.index.clear();
    }
}
