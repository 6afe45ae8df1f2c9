//! Keys whose last change is in a log record the log could not write yet (a full disk), and
//! that cannot be shown as they were before it: strings, hashes, lists, sets, and streams whose
//! groups changed ([`crate::persist::visibility`] withholds plain stream appends instead).
//!
//! A read of a fenced key notes the LSN of that change on its thread ([`take_seen`]); the
//! connection holds the reply until the log has written the change, as it holds the reply of
//! the write itself. While nothing is fenced a read pays one relaxed load of a flag.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::RwLock;
use sluice_storage::Lsn;

use super::Db;

thread_local! {
    /// The highest LSN a read on this thread found fenced since the last [`take_seen`].
    static SEEN: Cell<Lsn> = const { Cell::new(0) };
}

/// The highest LSN of a fenced change that reads on this thread looked at since the last
/// call (0: none), and forgets it. The connection calls it after each command.
pub fn take_seen() -> Lsn {
    SEEN.with(|seen| seen.replace(0))
}

/// One database's fenced keys. Changed only with the keyspace gate held exclusively, read with
/// it shared: the gate orders the two, so relaxed loads suffice.
#[derive(Debug, Default)]
pub(super) struct Fence {
    /// Some key (or the whole database) is fenced.
    on: AtomicBool,
    /// Each fenced key and the LSN of its last change not yet written.
    keys: RwLock<HashMap<Box<[u8]>, Lsn>>,
    /// The LSN every read of this database waits for: a change whose keys are not known.
    whole: AtomicU64,
}

impl Fence {
    /// Notes the LSN a read of `key` has to wait for, if any.
    #[inline]
    pub(super) fn note(&self, key: &[u8]) {
        if self.on.load(Ordering::Relaxed) {
            self.note_fenced(key);
        }
    }

    #[cold]
    fn note_fenced(&self, key: &[u8]) {
        let key_lsn = self.keys.read().get(key).copied().unwrap_or(0);
        let lsn = key_lsn.max(self.whole.load(Ordering::Relaxed));
        if lsn > 0 {
            SEEN.with(|seen| seen.set(seen.get().max(lsn)));
        }
    }
}

impl Db {
    /// Reads of `key` wait until the log has written record `lsn`. Call with the keyspace gate
    /// held exclusively.
    pub fn fence_key(&self, key: &[u8], lsn: Lsn) {
        let mut keys = self.fence.keys.write();
        let at = keys.entry(key.into()).or_insert(0);
        *at = (*at).max(lsn);
        self.fence.on.store(true, Ordering::Relaxed);
    }

    /// Reads of every key here wait until the log has written record `lsn`. Call with the
    /// keyspace gate held exclusively.
    pub fn fence_all(&self, lsn: Lsn) {
        self.fence.whole.fetch_max(lsn, Ordering::Relaxed);
        self.fence.on.store(true, Ordering::Relaxed);
    }

    /// Lifts every fence (the log has written what they waited for). Call with the keyspace
    /// gate held exclusively.
    pub fn clear_fences(&self) {
        self.fence.on.store(false, Ordering::Relaxed);
        self.fence.keys.write().clear();
        self.fence.whole.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_fenced_keys_note_the_lsn() {
        let db = Db::default();
        take_seen();
        db.read(b"k", 0, |_| ());
        assert_eq!(take_seen(), 0);
        db.fence_key(b"k", 7);
        db.fence_key(b"k", 5);
        db.read(b"other", 0, |_| ());
        assert_eq!(take_seen(), 0);
        db.read(b"k", 0, |_| ());
        assert_eq!(take_seen(), 7);
        assert_eq!(take_seen(), 0);
        db.fence_all(9);
        db.exists(b"other", 0);
        assert_eq!(take_seen(), 9);
        db.clear_fences();
        db.read(b"k", 0, |_| ());
        assert_eq!(take_seen(), 0);
    }
}
