//! The keyspace: numbered databases of keys, each holding a value (a string, a stream, a
//! hash, a list or a set), with optional expiry and an access clock.
//!
//! Concurrency: each database is a sharded map (`DashMap`), so commands on different streams
//! lock different shards and run in parallel. A command holds one shard lock for the time it
//! works on one key, and never two at once. Commands that must see or change several keys as
//! one step (`EXEC`, `RENAME`, `FLUSHALL`, `SWAPDB`) take the keyspace's gate exclusively;
//! every other command takes it shared (the command's flags say which). Lock order: gate →
//! key shard → expiry-index shard; the blocking registry is never taken with a shard held.
//!
//! Expiry is lazy (a key past its deadline is removed when touched) and active (a ticker
//! removes expired keys nobody touches), as in Redis.
//!
//! Every read and write of a key records the access in its clock ([`access`]), as Redis's
//! `lookupKey` does; [`Db::peek`] and its users (`TYPE`, `EXISTS`, `TTL`, `OBJECT`) do not.

//! # Layout
//! - [`key`]: a key's name, inline when short.
//! - [`entry`]: a key's entry as commands see it, and as the table stores it.
//! - [`access`]: the access clock (LRU time or LFU counter) and the eviction settings.
//! - [`evict`]: drawing eviction candidates and scoring them.
//! - [`value`]: what a key holds, and [`Kind`] for commands that work on one type.
//! - [`string`], [`hash`], [`list`], [`set`]: the value types besides streams.
//! - [`list_layout`], [`list_node`]: the listpack or quicklist nodes Redis would keep a list in.
//! - [`dump`]: a value to and from Redis's `DUMP` payload.
//! - [`expiry`]: deadlines: setting them (`EXPIRE … NX|XX|GT|LT`) and the active cycle's pass.
//! - [`packed`]: byte strings in one buffer, the small form of hashes and sets.
//! - [`scan`]: `SCAN`'s walk, a batch at a time in a fixed order.
//! - [`fence`]: keys whose last change the log has not written while it fails (a full disk).

pub mod access;
pub mod dump;
mod entry;
pub mod evict;
mod expiry;
pub mod fence;
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

pub use access::{EvictionSettings, Policy};
pub use entry::KeyEntry;
use entry::{Slot, past};
pub use expiry::ExpireCondition;
pub use key::Key;
pub use scan::scan_hash;
pub use value::{Kind, Value, WRONGTYPE, WrongType};

/// How key names are hashed: foldhash (hashbrown's default), seeded at random per table, so
/// a client cannot precompute names that collide. SipHash, the standard library's, showed in
/// profiles of pipelined `GET`s as a few percent of the time.
type KeyHasher = foldhash::quality::RandomState;

/// One logical database (`SELECT n`).
#[derive(Debug, Default)]
pub struct Db {
    /// Each key's entry sits behind its own allocation: the table keeps a slack of empty
    /// slots (up to half of them just after it grows), and a slot of a name and a pointer
    /// wastes far less there than one holding the whole entry. 1M small strings take about
    /// a third less memory so.
    keys: DashMap<Key, Box<Slot>, KeyHasher>,
    /// Keys with an expiry and their deadline: the one place a deadline is kept (a slot only
    /// says it has one), and what the active expiry cycle walks.
    expires: DashMap<Key, u64, KeyHasher>,
    /// How many keys were ever created here: tells `SCAN` whether its sorted list of names
    /// may lack one.
    created: AtomicU64,
    /// `SCAN`'s sorted list of names, while an iteration may use it.
    scan_order: Mutex<Option<Arc<scan::ScanOrder>>>,
    /// How accesses are recorded (shared by every database of a keyspace).
    eviction: Arc<EvictionSettings>,
    /// Keys a read must not answer from before the log writes their last change.
    fence: fence::Fence,
}

impl Db {
    fn with_settings(eviction: Arc<EvictionSettings>) -> Db {
        Db {
            eviction,
            ..Db::default()
        }
    }

    /// The deadline of the key in `slot`; call holding its shard.
    fn deadline_of(&self, key: &[u8], slot: &Slot) -> Option<NonZeroU64> {
        if !slot.has_deadline() {
            return None;
        }
        self.expires.get(key).and_then(|at| NonZeroU64::new(*at))
    }

    /// Runs `f` on the live key's value and deadline, if any, recording the access if
    /// `touch`.
    fn lookup<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        touch: bool,
        f: impl FnOnce(&Value, Option<u64>) -> R,
    ) -> Option<R> {
        self.fence.note(key);
        {
            let slot = self.keys.get(key)?;
            let deadline = self.deadline_of(key, &slot);
            if !past(deadline, now_ms) {
                if touch {
                    slot.set_clock(self.eviction.touched(slot.clock(), now_ms));
                }
                return Some(f(&slot.value, deadline.map(NonZeroU64::get)));
            }
        }
        self.remove_if_expired(key, now_ms);
        None
    }

    /// Runs `f` on the live key's value, if any, recording the access.
    pub fn read<R>(&self, key: &[u8], now_ms: u64, f: impl FnOnce(&Value) -> R) -> Option<R> {
        self.lookup(key, now_ms, true, |value, _| f(value))
    }

    /// Runs `f` on the live key's value and deadline (Unix ms), if any, without recording an
    /// access (`TYPE`, `TTL`, `OBJECT` do not count as one in Redis).
    pub fn peek<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&Value, Option<u64>) -> R,
    ) -> Option<R> {
        self.lookup(key, now_ms, false, f)
    }

    /// A copy of the live key's entry (`COPY`), recording the access; the copy gets a new
    /// key's clock.
    pub fn copy_entry(&self, key: &[u8], now_ms: u64) -> Option<KeyEntry> {
        self.lookup(key, now_ms, true, |value, at| {
            KeyEntry::with_expiry(value.clone(), at)
        })
    }

    /// The live key's access clock, untouched (`OBJECT IDLETIME|FREQ`).
    pub fn clock(&self, key: &[u8], now_ms: u64) -> Option<u32> {
        self.fence.note(key);
        {
            let slot = self.keys.get(key)?;
            if !past(self.deadline_of(key, &slot), now_ms) {
                return Some(slot.clock());
            }
        }
        self.remove_if_expired(key, now_ms);
        None
    }

    /// Records an access to the key (`TOUCH`); true if it exists.
    pub fn touch(&self, key: &[u8], now_ms: u64) -> bool {
        self.read(key, now_ms, |_| ()).is_some()
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
                let before = self.deadline_of(key, occupied.get());
                if past(before, now_ms) {
                    expired = true;
                    None
                } else {
                    let clock = self.eviction.touched(occupied.get().clock(), now_ms);
                    let mut entry = occupied.get_mut().take_entry(before, clock);
                    let result = f(&mut entry);
                    self.settle(occupied, entry, before, now_ms);
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
        let (mut occupied, created, before) = match self.keys.entry(Key::from(key)) {
            Entry::Occupied(mut occupied) => {
                let before = self.deadline_of(key, occupied.get());
                if past(before, now_ms) {
                    let fresh = self.eviction.fresh(now_ms);
                    **occupied.get_mut() = Slot::new(empty(), fresh, false);
                    self.expires.remove(key);
                    (occupied, true, None)
                } else {
                    let slot = occupied.get();
                    slot.set_clock(self.eviction.touched(slot.clock(), now_ms));
                    (occupied, false, before)
                }
            }
            Entry::Vacant(vacant) => {
                let fresh = self.eviction.fresh(now_ms);
                let occupied = vacant.insert_entry(Box::new(Slot::new(empty(), fresh, false)));
                self.created.fetch_add(1, Ordering::Release);
                (occupied, true, None)
            }
        };
        let clock = occupied.get().clock();
        let mut entry = occupied.get_mut().take_entry(before, clock);
        let result = f(&mut entry, created);
        self.settle(occupied, entry, before, now_ms);
        result
    }

    /// After a write, under the key's lock: the entry goes back in its slot; an emptied
    /// collection or a key past its new deadline goes; a changed deadline is indexed.
    fn settle(
        &self,
        mut occupied: OccupiedEntry<'_, Key, Box<Slot>>,
        entry: KeyEntry,
        before: Option<NonZeroU64>,
        now_ms: u64,
    ) {
        let after = entry.expire;
        if entry.value.is_empty_collection() || entry.expired(now_ms) {
            let (key, _) = occupied.remove_entry();
            if before.is_some() || after.is_some() {
                self.expires.remove(&*key);
            }
            return;
        }
        occupied.get_mut().restore(entry);
        if after != before {
            match after {
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
        self.read(key, now_ms, |v| T::get(v).map(f).ok_or(WrongType))
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
        self.peek(key, now_ms, |value, _| T::get(value).is_some()) == Some(true)
    }

    /// The type of the live key (`TYPE`), if any.
    pub fn type_of(&self, key: &[u8], now_ms: u64) -> Option<&'static str> {
        self.peek(key, now_ms, |v, _| v.type_name())
    }

    /// True if the key exists and has not expired.
    pub fn exists(&self, key: &[u8], now_ms: u64) -> bool {
        self.peek(key, now_ms, |_, _| ()).is_some()
    }

    /// Removes the key; true if it existed (and had not expired).
    pub fn remove(&self, key: &[u8], now_ms: u64) -> bool {
        self.remove_with(key, now_ms, |_| ()).is_some()
    }

    /// Removes the live key, running `f` on its value while still holding its lock (where a
    /// removal is logged); `None` if it did not exist (an expired key is removed silently).
    pub fn remove_with<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&Value) -> R,
    ) -> Option<R> {
        let Entry::Occupied(occupied) = self.keys.entry(Key::from(key)) else {
            return None;
        };
        let deadline = self.deadline_of(key, occupied.get());
        if deadline.is_some() {
            self.expires.remove(key);
        }
        let live = !past(deadline, now_ms);
        let result = live.then(|| f(&occupied.get().value));
        occupied.remove();
        result
    }

    /// Takes the key out if it holds a `T` (`GETDEL`); `WrongType` if it holds another type.
    pub fn take_as<T: Kind>(&self, key: &[u8], now_ms: u64) -> Result<Option<KeyEntry>, WrongType> {
        if let Some(false) = self.peek(key, now_ms, |v, _| T::get(v).is_some()) {
            return Err(WrongType);
        }
        Ok(self.take(key, now_ms))
    }

    /// Takes the key out whole, its deadline and (touched) clock with it (`RENAME`).
    pub fn take(&self, key: &[u8], now_ms: u64) -> Option<KeyEntry> {
        let Entry::Occupied(occupied) = self.keys.entry(Key::from(key)) else {
            return None;
        };
        let deadline = self.deadline_of(key, occupied.get());
        if deadline.is_some() {
            self.expires.remove(key);
        }
        let (_, slot) = occupied.remove_entry();
        if past(deadline, now_ms) {
            return None;
        }
        let clock = self.eviction.touched(slot.clock(), now_ms);
        Some(
            KeyEntry::with_expiry(slot.value, deadline.map(NonZeroU64::get))
                .with_access(Some(clock)),
        )
    }

    /// Stores `entry` under `key`, replacing whatever was there; an entry without a clock
    /// gets a new key's, as of `now_ms`.
    pub fn put(&self, key: &[u8], entry: KeyEntry, now_ms: u64) {
        let clock = entry.access.unwrap_or_else(|| self.eviction.fresh(now_ms));
        let slot = Box::new(Slot::new(entry.value, clock, entry.expire.is_some()));
        let name = Key::from(key);
        // The index changes under the key's lock, so a reader never sees a slot whose
        // deadline bit disagrees with it.
        match self.keys.entry(name.clone()) {
            Entry::Occupied(mut occupied) => {
                match entry.expire {
                    Some(at) => {
                        self.expires.insert(name, at.get());
                    }
                    None if occupied.get().has_deadline() => {
                        self.expires.remove(key);
                    }
                    None => {}
                }
                *occupied.get_mut() = slot;
            }
            Entry::Vacant(vacant) => {
                if let Some(at) = entry.expire {
                    self.expires.insert(name, at.get());
                }
                vacant.insert(slot);
                self.created.fetch_add(1, Ordering::Release);
            }
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
        self.for_each(now_ms, |key, _, _| names.push(Bytes::copy_from_slice(key)));
        names
    }

    /// Visits every live key with its value and deadline (Unix ms), untouched (a
    /// snapshot's capture: the caller holds the gate exclusively).
    pub fn for_each(&self, now_ms: u64, mut f: impl FnMut(&[u8], &Value, Option<u64>)) {
        for entry in self.keys.iter() {
            let deadline = self.deadline_of(entry.key(), entry.value());
            if !past(deadline, now_ms) {
                f(
                    entry.key(),
                    &entry.value().value,
                    deadline.map(NonZeroU64::get),
                );
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
            .map(|e| entry_bytes(e.key(), &e.value().value))
            .sum::<usize>()
            + self.expires.len() * DEADLINE_BYTES
    }

    /// Approximate bytes one live key and its value take (`MEMORY USAGE`).
    pub fn memory_of(&self, key: &[u8], now_ms: u64) -> Option<usize> {
        self.peek(key, now_ms, |value, at| {
            entry_bytes(&Key::from(key), value) + if at.is_some() { DEADLINE_BYTES } else { 0 }
        })
    }

    pub(super) fn remove_if_expired(&self, key: &[u8], now_ms: u64) -> bool {
        let Entry::Occupied(occupied) = self.keys.entry(Key::from(key)) else {
            return false;
        };
        let deadline = self.deadline_of(key, occupied.get());
        if !past(deadline, now_ms) {
            return false;
        }
        self.expires.remove(key);
        occupied.remove();
        true
    }
}

/// A deadline's share of the expiry index: its slot of name and time, half the slots empty.
const DEADLINE_BYTES: usize = 2 * (size_of::<Key>() + 8);

/// A key's slot (with its share of the table's spare room) and what its name and value hold
/// on the heap.
fn entry_bytes(key: &Key, value: &Value) -> usize {
    // A table slot (name and pointer, about half the slots empty, a control byte each),
    // then the entry's own allocation.
    let slot = 2 * (size_of::<Key>() + size_of::<Box<Slot>>() + 1);
    slot + size_of::<Slot>() + key.heap_bytes() + value.heap_bytes()
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
    /// Keys removed to free memory (INFO `evicted_keys`).
    pub evicted_keys: AtomicU64,
    /// `maxmemory-policy` and its knobs: how every database records accesses.
    pub eviction: Arc<EvictionSettings>,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Self {
        let eviction = Arc::new(EvictionSettings::default());
        Self {
            dbs: (0..n)
                .map(|_| Db::with_settings(eviction.clone()))
                .collect(),
            slots: (0..n).map(AtomicUsize::new).collect(),
            gate: RwLock::new(()),
            expired_keys: AtomicU64::new(0),
            evicted_keys: AtomicU64::new(0),
            eviction,
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
mod tests;
