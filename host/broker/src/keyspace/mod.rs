//! The keyspace: numbered databases of keys, each holding a value (a string, a stream, a
//! hash, a list or a set), with optional expiry.
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

//! # Layout
//! - [`key`]: a key's name, inline when short.
//! - [`value`]: what a key holds, and [`Kind`] for commands that work on one type.
//! - [`string`], [`hash`], [`list`], [`set`]: the value types besides streams.
//! - [`list_layout`], [`list_node`]: the listpack or quicklist nodes Redis would keep a list in.
//! - [`dump`]: a value to and from Redis's `DUMP` payload.
//! - [`expiry`]: deadlines: setting them (`EXPIRE … NX|XX|GT|LT`) and the active cycle's pass.
//! - [`packed`]: byte strings in one buffer, the small form of hashes and sets.
//! - [`scan`]: `SCAN`'s walk, a batch at a time in a fixed order.

pub mod dump;
mod expiry;
pub mod hash;
pub mod key;
pub mod list;
mod list_layout;
mod list_node;
mod packed;
mod scan;
pub mod set;
pub mod string;
pub mod value;

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use dashmap::DashMap;
use dashmap::mapref::entry::{Entry, OccupiedEntry};
use parking_lot::{Mutex, RwLock};

pub use expiry::ExpireCondition;
pub use key::Key;
pub use scan::scan_hash;
pub use value::{Kind, Value, WRONGTYPE, WrongType};

/// A key's value and its expiry deadline.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// What the key holds.
    pub value: Value,
    /// Unix ms after which the key is gone (a deadline is never 0: `EXPIREAT k 0` removes).
    expire: Option<NonZeroU64>,
}

impl KeyEntry {
    /// `value` with no expiry.
    pub fn new(value: Value) -> Self {
        KeyEntry {
            value,
            expire: None,
        }
    }

    /// `value` expiring at `at` (Unix ms), if given.
    pub fn with_expiry(value: Value, at: Option<u64>) -> Self {
        KeyEntry {
            value,
            expire: at.and_then(NonZeroU64::new),
        }
    }

    /// The deadline, Unix ms, if any.
    pub fn expire_at(&self) -> Option<u64> {
        self.expire.map(NonZeroU64::get)
    }

    /// Sets or clears the deadline. Inside [`Db::write`] and its kin the expiry index
    /// follows; a deadline already past removes the key when the write ends.
    pub fn set_expire_at(&mut self, at: Option<u64>) {
        self.expire = at.and_then(NonZeroU64::new);
    }

    /// Marks the key for removal when the write it is in ends (a key a command created and
    /// then found it must not keep: `SET … XX` on a missing key).
    pub fn discard(&mut self) {
        self.expire = NonZeroU64::new(1);
    }

    fn expired(&self, now_ms: u64) -> bool {
        self.expire.is_some_and(|at| at.get() <= now_ms)
    }
}

/// One logical database (`SELECT n`).
#[derive(Debug, Default)]
pub struct Db {
    /// Each key's entry sits behind its own allocation: the table keeps a slack of empty
    /// slots (up to half of them just after it grows), and a slot of a name and a pointer
    /// wastes far less there than one holding the whole entry. 1M small strings take about
    /// a third less memory so.
    keys: DashMap<Key, Box<KeyEntry>>,
    /// Keys with an expiry and their deadline: what the active expiry cycle walks.
    expires: DashMap<Key, u64>,
    /// How many keys were ever created here: tells `SCAN` whether its sorted list of names
    /// may lack one.
    created: AtomicU64,
    /// `SCAN`'s sorted list of names, while an iteration may use it.
    scan_order: Mutex<Option<Arc<scan::ScanOrder>>>,
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

    /// Runs `f` on the live key for writing, if any. A hash, list or set that `f` leaves
    /// empty is removed, as Redis never keeps one; a deadline `f` changes is indexed (and one
    /// already past removes the key).
    pub fn write<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&mut KeyEntry) -> R,
    ) -> Option<R> {
        let mut expired = false;
        let result = match self.keys.entry(Key::from(key)) {
            Entry::Occupied(mut occupied) => {
                if occupied.get().expired(now_ms) {
                    expired = true;
                    None
                } else {
                    let before = occupied.get().expire;
                    let result = f(occupied.get_mut());
                    self.settle(occupied, before, now_ms);
                    Some(result)
                }
            }
            Entry::Vacant(_) => None,
        };
        if expired {
            self.remove_if_expired(key, now_ms);
        }
        result
    }

    /// Runs `f` on the key, first storing `empty()` under it if it is missing (or
    /// expired). `f` learns whether the key was just created; a hash, list or set it leaves
    /// empty is removed (so a failed write leaves no empty key behind), and a deadline it
    /// changes is indexed, as for [`Db::write`].
    pub fn write_or_create<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        empty: impl FnOnce() -> Value,
        f: impl FnOnce(&mut KeyEntry, bool) -> R,
    ) -> R {
        let (mut occupied, created) = match self.keys.entry(Key::from(key)) {
            Entry::Occupied(mut occupied) => {
                let created = occupied.get().expired(now_ms);
                if created {
                    **occupied.get_mut() = KeyEntry::new(empty());
                    self.expires.remove(key);
                }
                (occupied, created)
            }
            Entry::Vacant(vacant) => {
                let occupied = vacant.insert_entry(Box::new(KeyEntry::new(empty())));
                self.created.fetch_add(1, Ordering::Release);
                (occupied, true)
            }
        };
        let before = occupied.get().expire;
        let result = f(occupied.get_mut(), created);
        self.settle(occupied, before, now_ms);
        result
    }

    /// After a write, under the key's lock: an emptied collection or a key past its new
    /// deadline goes; a changed deadline is indexed.
    fn settle(
        &self,
        occupied: OccupiedEntry<'_, Key, Box<KeyEntry>>,
        before: Option<NonZeroU64>,
        now_ms: u64,
    ) {
        let entry = occupied.get();
        if entry.value.is_empty_collection() || entry.expired(now_ms) {
            let had_expiry = before.is_some() || entry.expire.is_some();
            let (key, _) = occupied.remove_entry();
            if had_expiry {
                self.expires.remove(&*key);
            }
            return;
        }
        if entry.expire != before {
            match entry.expire {
                Some(at) => {
                    self.expires.insert(occupied.key().clone(), at.get());
                }
                None => {
                    self.expires.remove(&**occupied.key());
                }
            }
        }
    }

    /// Runs `f` on the key's value of type `T`, if the key exists; `WrongType` if it holds
    /// another type.
    pub fn read_as<T: Kind, R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&T) -> R,
    ) -> Result<Option<R>, WrongType> {
        self.read(key, now_ms, |e| T::get(&e.value).map(f).ok_or(WrongType))
            .transpose()
    }

    /// [`Db::read_as`] for writing (see [`Db::write`]).
    pub fn write_as<T: Kind, R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&mut T) -> R,
    ) -> Result<Option<R>, WrongType> {
        self.write(key, now_ms, |e| {
            T::get_mut(&mut e.value).map(f).ok_or(WrongType)
        })
        .transpose()
    }

    /// Runs `f` on the key's value of type `T`, creating an empty one if the key is missing
    /// (`f` learns whether it did); `WrongType` if the key holds another type.
    pub fn write_or_create_as<T: Kind, R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&mut T, bool) -> R,
    ) -> Result<R, WrongType> {
        self.write_or_create(key, now_ms, T::empty, |e, created| {
            T::get_mut(&mut e.value)
                .map(|v| f(v, created))
                .ok_or(WrongType)
        })
    }

    /// True if the key exists and holds a `T` (what a blocked read of that type wakes on).
    pub fn holds<T: Kind>(&self, key: &[u8], now_ms: u64) -> bool {
        self.read(key, now_ms, |entry| T::get(&entry.value).is_some()) == Some(true)
    }

    /// The type of the live key (`TYPE`), if any.
    pub fn type_of(&self, key: &[u8], now_ms: u64) -> Option<&'static str> {
        self.read(key, now_ms, |e| e.value.type_name())
    }

    /// True if the key exists and has not expired.
    pub fn exists(&self, key: &[u8], now_ms: u64) -> bool {
        self.read(key, now_ms, |_| ()).is_some()
    }

    /// Removes the key; true if it existed (and had not expired).
    pub fn remove(&self, key: &[u8], now_ms: u64) -> bool {
        let removed = self.keys.remove(key);
        if removed.as_ref().is_some_and(|(_, e)| e.expire.is_some()) {
            self.expires.remove(key);
        }
        removed.is_some_and(|(_, e)| !e.expired(now_ms))
    }

    /// Takes the key out if it holds a `T` (`GETDEL`); `WrongType` if it holds another type.
    pub fn take_as<T: Kind>(&self, key: &[u8], now_ms: u64) -> Result<Option<KeyEntry>, WrongType> {
        let taken = self
            .keys
            .remove_if(key, |_, e| !e.expired(now_ms) && T::get(&e.value).is_some());
        match taken {
            Some((_, entry)) => {
                if entry.expire.is_some() {
                    self.expires.remove(key);
                }
                Ok(Some(*entry))
            }
            None if self.exists(key, now_ms) => Err(WrongType),
            None => Ok(None),
        }
    }

    /// Takes the key out whole (for `RENAME`).
    pub fn take(&self, key: &[u8], now_ms: u64) -> Option<KeyEntry> {
        let (_, entry) = self.keys.remove(key)?;
        if entry.expire.is_some() {
            self.expires.remove(key);
        }
        (!entry.expired(now_ms)).then_some(*entry)
    }

    /// Stores `entry` under `key`, replacing whatever was there.
    pub fn put(&self, key: &[u8], entry: KeyEntry) {
        match entry.expire_at() {
            Some(at) => {
                self.expires.insert(Key::from(key), at);
            }
            None => {
                self.expires.remove(key);
            }
        }
        if self.keys.insert(Key::from(key), Box::new(entry)).is_none() {
            self.created.fetch_add(1, Ordering::Release);
        }
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
        self.for_each(now_ms, |key, _| names.push(Bytes::copy_from_slice(key)));
        names
    }

    /// Visits every live key (a snapshot's capture: the caller holds the gate exclusively).
    pub fn for_each(&self, now_ms: u64, mut f: impl FnMut(&[u8], &KeyEntry)) {
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
        // Every name it holds is gone: a scan in progress has nothing left to return.
        *self.scan_order.lock() = None;
        n
    }

    /// Approximate bytes the keys and values of this database take.
    pub fn memory_usage(&self) -> usize {
        self.keys
            .iter()
            .map(|e| entry_bytes(e.key(), e.value()))
            .sum::<usize>()
            + self.expires.len() * 2 * (size_of::<Key>() + 8)
    }

    /// Approximate bytes one live key and its value take (`MEMORY USAGE`).
    pub fn memory_of(&self, key: &[u8], now_ms: u64) -> Option<usize> {
        let deadline = 2 * (size_of::<Key>() + 8);
        self.read(key, now_ms, |e| {
            entry_bytes(&Key::from(key), e) + if e.expire.is_some() { deadline } else { 0 }
        })
    }

    pub(super) fn remove_if_expired(&self, key: &[u8], now_ms: u64) -> bool {
        let removed = self.keys.remove_if(key, |_, e| e.expired(now_ms)).is_some();
        if removed {
            self.expires.remove(key);
        }
        removed
    }
}

/// A key's slot (with its share of the table's spare room) and what its name and value hold
/// on the heap.
fn entry_bytes(key: &Key, entry: &KeyEntry) -> usize {
    // A table slot (name and pointer, about half the slots empty, a control byte each),
    // then the entry's own allocation.
    let slot = 2 * (size_of::<Key>() + size_of::<Box<KeyEntry>>() + 1);
    slot + size_of::<KeyEntry>() + key.heap_bytes() + entry.value.heap_bytes()
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
    fn an_emptied_collection_is_removed() {
        let db = Db::default();
        let pushed = db.write_or_create_as::<list::List, _>(b"l", 0, |l, created| {
            l.push(b"x", true);
            created
        });
        assert_eq!(pushed, Ok(true));
        assert_eq!(db.type_of(b"l", 0), Some("list"));
        assert_eq!(
            db.read_as::<string::Str, _>(b"l", 0, |_| ()),
            Err(WrongType)
        );
        let popped = db.write_as::<list::List, _>(b"l", 0, |l| l.pop(true));
        assert!(matches!(popped, Ok(Some(Some(_)))));
        assert!(!db.exists(b"l", 0));
        // A write that adds nothing to a new collection leaves no key.
        let _ = db.write_or_create_as::<set::Set, _>(b"s", 0, |_, _| ());
        assert!(!db.exists(b"s", 0));
    }
}
