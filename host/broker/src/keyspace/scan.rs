//! `SCAN`'s walk over a database: a batch of keys at a time, with nothing held for the
//! client between calls.
//!
//! Keys are visited in the order of a fixed 64-bit hash of their name, and the cursor is the
//! hash to resume from. Each batch holds the keys whose hash lies in `[cursor, next)`, so a key
//! present for the whole iteration is returned exactly once, however keys come and go
//! meanwhile (Redis promises "at least once"). Keys with equal hashes always land in the same
//! batch, so a collision cannot split them across a cursor. Cursor 0 starts an iteration and
//! ends it; a batch never ends on hash 0, so the reply's cursor is 0 only when nothing is
//! left.
//!
//! The order is kept as a sorted list of the names ([`ScanOrder`]), so a call costs
//! O(COUNT · log n), not a pass over the database. The list is taken when an iteration starts
//! (cursor 0) and any key was created since the last one was taken, and dropped when an
//! iteration ends. It may miss keys created after it was taken, which is allowed: only keys
//! present throughout an iteration must be returned, and those existed when it started, so
//! are in any list taken at or after that point. Keys deleted since are skipped when the
//! batch is read. Taking the list costs O(n log n) once per iteration, as the walk as a whole
//! does in Redis.

use std::hash::{DefaultHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{Db, Key};

/// The names of a database in scan order, as they were when taken.
#[derive(Debug)]
pub(super) struct ScanOrder {
    /// [`Db::created`] when the list was taken: if it has not moved, no key is missing.
    created: u64,
    /// `(hash, name)`, sorted by hash.
    named: Vec<(u64, Key)>,
}

/// A key's place in the scan order: a fixed hash of its name (SipHash with zero keys), the
/// same for the life of the process whatever else the keyspace holds.
pub fn scan_hash(key: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(key);
    hasher.finish()
}

impl Db {
    /// One `SCAN` step: the live keys whose hash is at least `cursor`, lowest hashes first,
    /// `count` of them examined (plus any sharing the last one's hash), and the cursor to
    /// resume from (0 when nothing is left).
    pub fn scan(&self, cursor: u64, count: usize, now_ms: u64) -> (u64, Vec<Bytes>) {
        let order = self.scan_order(cursor);
        let (next, batch) = scan_step(&order.named, cursor, count);
        if next == 0 {
            // The iteration is over: free the list unless another one has replaced it.
            let mut slot = self.scan_order.lock();
            if slot.as_ref().is_some_and(|held| Arc::ptr_eq(held, &order)) {
                *slot = None;
            }
        }
        let keys = batch
            .iter()
            .map(|(_, key)| key.as_bytes())
            .filter(|key| self.exists(key, now_ms))
            .map(Bytes::copy_from_slice)
            .collect();
        (next, keys)
    }

    /// The list to walk: the one held, unless this call starts an iteration and keys were
    /// created since it was taken (or none is held).
    fn scan_order(&self, cursor: u64) -> Arc<ScanOrder> {
        let mut slot = self.scan_order.lock();
        let created = self.created.load(Ordering::Acquire);
        if let Some(held) = slot.as_ref()
            && (cursor != 0 || held.created == created)
        {
            return held.clone();
        }
        let mut named: Vec<(u64, Key)> = Vec::with_capacity(self.keys.len());
        for entry in self.keys.iter() {
            named.push((scan_hash(entry.key().as_bytes()), entry.key().clone()));
        }
        named.sort_unstable_by_key(|&(hash, _)| hash);
        let order = Arc::new(ScanOrder { created, named });
        *slot = Some(order.clone());
        order
    }
}

/// One step over `named` (sorted by hash): the entries whose hash is at least `cursor`,
/// `count` of them plus any sharing the last one's hash; and the cursor to resume from, the
/// next hash left behind (0 when none is).
fn scan_step<T>(named: &[(u64, T)], cursor: u64, count: usize) -> (u64, &[(u64, T)]) {
    let start = named.partition_point(|&(hash, _)| hash < cursor);
    let rest = &named[start..];
    let Some(&(last, _)) = rest.get(count.max(1) - 1) else {
        return (0, rest);
    };
    let end = rest.partition_point(|&(hash, _)| hash <= last);
    // Every hash after the batch is above `last`, itself at least `cursor`: never 0.
    let next = rest.get(end).map_or(0, |&(hash, _)| hash);
    (next, &rest[..end])
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::keyspace::string::Str;
    use crate::keyspace::{KeyEntry, Value};

    fn key(n: u64) -> Bytes {
        Bytes::from(format!("key:{n}"))
    }

    /// Runs a whole scan; `between` may change the key set after each step, and a new sorted
    /// list is taken whenever `retake` says so. Returns every key returned, with how many
    /// times.
    fn full_scan(
        keys: &mut BTreeSet<Bytes>,
        count: usize,
        hash: impl Fn(&[u8]) -> u64,
        mut between: impl FnMut(&mut BTreeSet<Bytes>, usize),
        retake: impl Fn(usize) -> bool,
    ) -> BTreeMap<Bytes, usize> {
        let take = |keys: &BTreeSet<Bytes>| {
            let mut named: Vec<(u64, Bytes)> = keys.iter().map(|k| (hash(k), k.clone())).collect();
            named.sort_by_key(|&(h, _)| h);
            named
        };
        let mut named = take(keys);
        let mut seen = BTreeMap::new();
        let mut cursor = 0;
        for step in 0.. {
            let (next, batch) = scan_step(&named, cursor, count);
            for (_, k) in batch.iter().filter(|(_, k)| keys.contains(k)) {
                *seen.entry(k.clone()).or_insert(0) += 1;
            }
            if next == 0 {
                break;
            }
            assert!(next > cursor, "the cursor only moves forward");
            cursor = next;
            between(keys, step);
            if retake(step) {
                named = take(keys);
            }
        }
        seen
    }

    #[test]
    fn a_still_keyspace_is_returned_once_whatever_the_count() {
        for count in [1, 3, 10, 1000] {
            let mut keys: BTreeSet<Bytes> = (0..200).map(key).collect();
            let seen = full_scan(&mut keys, count, scan_hash, |_, _| {}, |_| false);
            assert_eq!(seen.len(), 200);
            assert!(seen.values().all(|&n| n == 1));
        }
        let seen = full_scan(&mut BTreeSet::new(), 10, scan_hash, |_, _| {}, |_| false);
        assert!(seen.is_empty());
    }

    #[test]
    fn keys_present_throughout_are_returned_once_while_others_come_and_go() {
        // Whether or not the sorted list is retaken mid-iteration (another client starting
        // one), the keys there all along come back exactly once.
        for retake_every in [usize::MAX, 1, 3] {
            let stable: BTreeSet<Bytes> = (0..100).map(key).collect();
            let mut keys = stable.clone();
            let mut rng = 0x2545_f491_4f6c_dd1d_u64;
            let between = |keys: &mut BTreeSet<Bytes>, step: usize| {
                // Add some keys and remove some of the ones added earlier.
                for _ in 0..5 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let n = 1000 + rng % 500;
                    if rng.is_multiple_of(3) {
                        keys.remove(&key(n));
                    } else {
                        keys.insert(key(n));
                    }
                }
                assert!(step < 10_000, "the scan terminates");
            };
            let retake =
                |step: usize| retake_every != usize::MAX && step.is_multiple_of(retake_every);
            let seen = full_scan(&mut keys, 7, scan_hash, between, retake);
            for k in &stable {
                assert_eq!(seen.get(k), Some(&1), "{k:?}");
            }
            assert!(seen.values().all(|&n| n == 1));
        }
    }

    #[test]
    fn equal_hashes_share_a_batch() {
        // Ten keys on three hashes: a batch never splits a hash, so COUNT 1 still works.
        let hash = |k: &[u8]| u64::from(k.last().copied().unwrap_or(0) % 3) + 1;
        let mut keys: BTreeSet<Bytes> = (0..10).map(key).collect();
        let mut named: Vec<(u64, Bytes)> = keys.iter().map(|k| (hash(k), k.clone())).collect();
        named.sort_by_key(|&(h, _)| h);
        let mut batches = Vec::new();
        let mut cursor = 0;
        loop {
            let (next, batch) = scan_step(&named, cursor, 1);
            batches.push(batch.len());
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(batches, vec![4, 3, 3]);
        let seen = full_scan(&mut keys, 2, hash, |_, _| {}, |_| false);
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn a_key_hashing_to_zero_does_not_end_the_scan() {
        let named = vec![(0, key(0)), (5, key(5))];
        assert_eq!(scan_step(&named, 0, 1), (5, &named[..1]));
        assert_eq!(scan_step(&named, 5, 1), (0, &named[1..]));
    }

    #[test]
    fn the_list_is_retaken_only_when_an_iteration_starts_after_a_creation() {
        let db = Db::default();
        for n in 0..30 {
            db.put(&key(n), KeyEntry::new(Value::Str(Str::new(b"v"))), 0);
        }
        let (mut cursor, mut got) = db.scan(0, 10, 0);
        // A key created mid-iteration: this iteration may miss it, the next one must not.
        db.put(b"late", KeyEntry::new(Value::Str(Str::new(b"v"))), 0);
        while cursor != 0 {
            let (next, batch) = db.scan(cursor, 10, 0);
            got.extend(batch);
            cursor = next;
        }
        assert_eq!(got.len(), 30);
        assert!(
            db.scan_order.lock().is_none(),
            "a finished iteration frees the list"
        );
        let (mut cursor, mut got) = db.scan(0, 10, 0);
        while cursor != 0 {
            let (next, batch) = db.scan(cursor, 10, 0);
            got.extend(batch);
            cursor = next;
        }
        assert_eq!(got.len(), 31);
        assert!(got.iter().any(|k| k.as_ref() == b"late"));
    }
}
