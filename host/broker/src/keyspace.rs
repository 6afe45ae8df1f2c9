//! The keyspace: numbered databases of keys, each holding a stream, with optional expiry.
//!
//! Concurrency: each database is a sharded map (`DashMap`), so commands on different streams
//! lock different shards and run in parallel. A command holds one shard lock for the time it
//! works on one key, and never two at once. Commands that must see or change several keys as
//! one step (`EXEC`, `RENAME`, `FLUSHALL`, `SWAPDB`) take the keyspace's gate exclusively;
//! every other command takes it shared (the command's flags say which). Lock order: gate →
//! shard; the blocking registry is never taken with a shard held.
//!
//! Expiry is lazy (a key past its deadline is removed when touched) and active (a ticker
//! removes expired keys nobody touches), as in Redis.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use parking_lot::RwLock;
use sluice_streams::Stream;

/// A key's value and its expiry deadline.
#[derive(Debug, Default)]
pub struct KeyEntry {
    /// The stream stored under the key (Sluice stores streams only).
    pub stream: Stream,
    /// Unix time in ms after which the key is gone, if set.
    pub expire_at: Option<u64>,
}

impl KeyEntry {
    fn expired(&self, now_ms: u64) -> bool {
        self.expire_at.is_some_and(|at| at <= now_ms)
    }
}

/// One logical database (`SELECT n`).
#[derive(Debug, Default)]
pub struct Db {
    keys: DashMap<Bytes, KeyEntry>,
    /// Keys with an expiry and their deadline: what the active expiry cycle walks.
    expires: DashMap<Bytes, u64>,
}

/// How an expiry update went (`EXPIRE … NX|XX|GT|LT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCondition {
    Always,
    /// Only if the key has no expiry.
    Nx,
    /// Only if the key has an expiry.
    Xx,
    /// Only if the new deadline is later (no expiry counts as infinite).
    Gt,
    /// Only if the new deadline is earlier.
    Lt,
}

impl Db {
    /// Runs `f` on the live key, if any.
    pub fn read<R>(&self, key: &[u8], now_ms: u64, f: impl FnOnce(&KeyEntry) -> R) -> Option<R> {
        {
            let entry = self.keys.get(key)?;
            if !entry.expired(now_ms) {
                return Some(f(&entry));
            }
        }
        self.remove_if_expired(key, now_ms);
        None
    }

    /// Runs `f` on the live key for writing, if any.
    pub fn write<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&mut KeyEntry) -> R,
    ) -> Option<R> {
        {
            let mut entry = self.keys.get_mut(key)?;
            if !entry.expired(now_ms) {
                return Some(f(&mut entry));
            }
        }
        self.remove_if_expired(key, now_ms);
        None
    }

    /// Runs `f` on the key, creating an empty stream first if it is missing (or expired).
    /// `f` learns whether the key was just created.
    pub fn write_or_create<R>(
        &self,
        key: &Bytes,
        now_ms: u64,
        f: impl FnOnce(&mut KeyEntry, bool) -> R,
    ) -> R {
        match self.keys.entry(key.clone()) {
            Entry::Occupied(mut occupied) => {
                let entry = occupied.get_mut();
                if entry.expired(now_ms) {
                    *entry = KeyEntry::default();
                    self.expires.remove(key);
                    f(entry, true)
                } else {
                    f(entry, false)
                }
            }
            Entry::Vacant(vacant) => {
                let mut entry = vacant.insert(KeyEntry::default());
                f(&mut entry, true)
            }
        }
    }

    /// True if the key exists and has not expired.
    pub fn exists(&self, key: &[u8], now_ms: u64) -> bool {
        self.read(key, now_ms, |_| ()).is_some()
    }

    /// Removes the key; true if it existed (and had not expired).
    pub fn remove(&self, key: &[u8], now_ms: u64) -> bool {
        let removed = self.keys.remove(key);
        if removed.as_ref().is_some_and(|(_, e)| e.expire_at.is_some()) {
            self.expires.remove(key);
        }
        removed.is_some_and(|(_, e)| !e.expired(now_ms))
    }

    /// Takes the key out whole (for `RENAME`).
    pub fn take(&self, key: &[u8], now_ms: u64) -> Option<KeyEntry> {
        let (_, entry) = self.keys.remove(key)?;
        if entry.expire_at.is_some() {
            self.expires.remove(key);
        }
        (!entry.expired(now_ms)).then_some(entry)
    }

    /// Stores `entry` under `key`, replacing whatever was there.
    pub fn put(&self, key: Bytes, entry: KeyEntry) {
        match entry.expire_at {
            Some(at) => {
                self.expires.insert(key.clone(), at);
            }
            None => {
                self.expires.remove(&key);
            }
        }
        self.keys.insert(key, entry);
    }

    /// Sets or clears the key's deadline under `cond`; `Some(true)` if it changed,
    /// `Some(false)` if `cond` refused, `None` if the key does not exist. A deadline at or
    /// before `now_ms` removes the key.
    pub fn set_expire(
        &self,
        key: &Bytes,
        at: Option<u64>,
        cond: ExpireCondition,
        now_ms: u64,
    ) -> Option<bool> {
        self.set_expire_if(key, at, now_ms, |current| match (cond, current, at) {
            (ExpireCondition::Always, _, _) => true,
            (ExpireCondition::Nx, current, _) => current.is_none(),
            (ExpireCondition::Xx, current, _) => current.is_some(),
            (ExpireCondition::Gt, None, _) => false,
            (ExpireCondition::Gt, Some(cur), Some(new)) => new > cur,
            (ExpireCondition::Lt, None, Some(_)) => true,
            (ExpireCondition::Lt, Some(cur), Some(new)) => new < cur,
            (_, _, None) => true,
        })
    }

    /// Sets or clears the key's deadline if `allow`, shown the current one (`None`: no
    /// expiry), agrees. A deadline at or before `now_ms` removes the key at once, as `EXPIRE`
    /// with a past time does. `Some(true)` if it changed, `Some(false)` if `allow` refused,
    /// `None` if the key does not exist.
    pub fn set_expire_if(
        &self,
        key: &Bytes,
        at: Option<u64>,
        now_ms: u64,
        allow: impl FnOnce(Option<u64>) -> bool,
    ) -> Option<bool> {
        let applied = self.write(key, now_ms, |entry| {
            let allowed = allow(entry.expire_at);
            if allowed {
                entry.expire_at = at;
            }
            allowed
        })?;
        if applied {
            match at {
                // The shard lock is released: remove only if it is still the expired key
                // (a writer may have recreated it meanwhile).
                Some(at) if at <= now_ms => {
                    self.remove_if_expired(key, now_ms);
                }
                Some(at) => {
                    self.expires.insert(key.clone(), at);
                }
                None => {
                    self.expires.remove(key);
                }
            }
        }
        Some(applied)
    }

    /// The key's deadline: `None` if the key is missing, `Some(None)` if it never expires.
    pub fn expire_at(&self, key: &[u8], now_ms: u64) -> Option<Option<u64>> {
        self.read(key, now_ms, |e| e.expire_at)
    }

    /// Number of live keys (expired keys not yet removed are counted, as Redis's DBSIZE does).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the database holds no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Every live key name (a snapshot: keys added meanwhile may or may not appear).
    pub fn key_names(&self, now_ms: u64) -> Vec<Bytes> {
        let mut names = Vec::with_capacity(self.keys.len());
        self.for_each(now_ms, |key, _| names.push(key.clone()));
        names
    }

    /// Visits every live key (a snapshot's capture: the caller holds the gate exclusively).
    pub fn for_each(&self, now_ms: u64, mut f: impl FnMut(&Bytes, &KeyEntry)) {
        for entry in self.keys.iter() {
            if !entry.value().expired(now_ms) {
                f(entry.key(), entry.value());
            }
        }
    }

    /// Removes every key; returns how many there were.
    pub fn flush(&self) -> usize {
        let n = self.keys.len();
        self.keys.clear();
        self.expires.clear();
        n
    }

    /// Approximate bytes used by the streams of this database.
    pub fn memory_usage(&self) -> usize {
        self.keys
            .iter()
            .map(|e| e.key().len() + e.value().stream.memory_usage())
            .sum()
    }

    /// Removes keys whose deadline has passed; returns the removed names.
    pub fn expire_due(&self, now_ms: u64) -> Vec<Bytes> {
        let due: Vec<Bytes> = self
            .expires
            .iter()
            .filter(|e| *e.value() <= now_ms)
            .map(|e| e.key().clone())
            .collect();
        due.into_iter()
            .filter(|key| self.remove_if_expired(key, now_ms))
            .collect()
    }

    fn remove_if_expired(&self, key: &[u8], now_ms: u64) -> bool {
        let removed = self.keys.remove_if(key, |_, e| e.expired(now_ms)).is_some();
        if removed {
            self.expires.remove(key);
        }
        removed
    }
}

/// All databases, plus the gate that lets a command act on several keys atomically.
#[derive(Debug)]
pub struct Keyspace {
    dbs: Vec<Db>,
    /// Which of `dbs` each database number names. `SWAPDB` swaps two entries while holding
    /// the gate exclusively; everyone else reads them holding it, so a plain load suffices.
    slots: Vec<AtomicUsize>,
    /// Shared by ordinary commands, exclusive for `EXEC`, `RENAME`, `FLUSHALL`…
    pub gate: RwLock<()>,
    /// Keys removed because they expired (INFO `expired_keys`).
    pub expired_keys: AtomicU64,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Self {
        Self {
            dbs: (0..n).map(|_| Db::default()).collect(),
            slots: (0..n).map(AtomicUsize::new).collect(),
            gate: RwLock::new(()),
            expired_keys: AtomicU64::new(0),
        }
    }

    /// Database `index`; callers check the index when the client selects it.
    pub fn db(&self, index: usize) -> &Db {
        let slot = &self.slots[index.min(self.slots.len() - 1)];
        &self.dbs[slot.load(Ordering::Relaxed)]
    }

    /// Swaps the contents of databases `a` and `b` (`SWAPDB`): clients that selected one now
    /// see the other's keys. The caller holds the gate exclusively.
    pub fn swap(&self, a: usize, b: usize) {
        let (Some(sa), Some(sb)) = (self.slots.get(a), self.slots.get(b)) else {
            return;
        };
        let (da, db) = (sa.load(Ordering::Relaxed), sb.load(Ordering::Relaxed));
        sa.store(db, Ordering::Relaxed);
        sb.store(da, Ordering::Relaxed);
    }

    /// Number of databases.
    pub fn len(&self) -> usize {
        self.dbs.len()
    }

    /// Always false: there is at least one database.
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty()
    }

    /// All databases in index order.
    pub fn dbs(&self) -> impl Iterator<Item = &Db> {
        (0..self.slots.len()).map(|i| self.db(i))
    }

    /// One active-expiry pass over every database; returns `(db index, key)` of what expired.
    pub fn expire_cycle(&self, now_ms: u64) -> Vec<(usize, Bytes)> {
        let mut gone = Vec::new();
        for (i, db) in self.dbs().enumerate() {
            if db.expires_len() > 0 {
                gone.extend(db.expire_due(now_ms).into_iter().map(|k| (i, k)));
            }
        }
        self.expired_keys
            .fetch_add(gone.len() as u64, Ordering::Relaxed);
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_keys_vanish_lazily_and_actively() {
        let db = Db::default();
        let key = Bytes::from("k");
        db.write_or_create(&key, 0, |_, created| assert!(created));
        assert_eq!(
            db.set_expire(&key, Some(100), ExpireCondition::Always, 0),
            Some(true)
        );
        assert!(db.exists(b"k", 99));
        assert!(!db.exists(b"k", 100));
        assert_eq!(db.len(), 0);

        db.write_or_create(&key, 0, |_, _| ());
        db.set_expire(&key, Some(50), ExpireCondition::Always, 0);
        assert_eq!(db.expire_due(60), vec![key.clone()]);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn expire_conditions() {
        let db = Db::default();
        let key = Bytes::from("k");
        db.write_or_create(&key, 0, |_, _| ());
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Xx, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Gt, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Lt, 0),
            Some(true)
        );
        assert_eq!(
            db.set_expire(&key, Some(20), ExpireCondition::Nx, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(20), ExpireCondition::Gt, 0),
            Some(true)
        );
        assert_eq!(
            db.set_expire(&Bytes::from("nope"), Some(1), ExpireCondition::Always, 0),
            None
        );
    }
}
