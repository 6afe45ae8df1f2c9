//! Eviction's view of one database: drawing candidates at random from the keys a policy may
//! take, scoring them, and removing the one chosen.
//!
//! Streams are never candidates: a broker does not drop events it acknowledged. Only
//! strings, hashes, lists and sets are, and under a `volatile-*` policy only those with a
//! deadline.

use std::num::NonZeroU64;

use dashmap::mapref::entry::Entry;

use super::access::{self, Policy};
use super::entry::past;
use super::{DEADLINE_BYTES, Db, Key, Value, entry_bytes};

impl Db {
    /// Up to `n` names drawn at random from the keys eviction may take (only those with a
    /// deadline if `volatile`), in random order. One pass over the keys (or, if `volatile`,
    /// over the expiry index): callers draw many at a time and use them up.
    pub fn sample_evictable(&self, n: usize, volatile: bool) -> Vec<Key> {
        let mut sample = Vec::new();
        let mut seen = 0;
        let mut offer = |key: &Key| {
            seen += 1;
            if sample.len() < n {
                sample.push(key.clone());
            } else if let Some(slot) = sample.get_mut(fastrand::usize(..seen)) {
                *slot = key.clone();
            }
        };
        if volatile {
            // Names first, types after: the expiry index is never held while a key's shard
            // is taken (lock order: key shard, then index).
            for entry in self.expires.iter() {
                offer(entry.key());
            }
            sample.retain(|key| self.keys.get(key).is_some_and(|s| evictable(&s.value)));
        } else {
            for entry in self.keys.iter() {
                if evictable(&entry.value().value) {
                    offer(entry.key());
                }
            }
        }
        fastrand::shuffle(&mut sample);
        sample
    }

    /// How strongly `policy` wants the key gone, higher first: its idle time in ms (LRU),
    /// 255 less its decayed counter (LFU), how near its deadline is (TTL), 0 (random).
    /// `None` if the key is gone or is not one the policy may take.
    pub fn eviction_score(&self, key: &[u8], policy: Policy, now_ms: u64) -> Option<u64> {
        let slot = self.keys.get(key)?;
        if !evictable(&slot.value) || (policy.is_volatile() && !slot.has_deadline()) {
            return None;
        }
        Some(match policy {
            Policy::VolatileTtl => {
                let deadline = self.deadline_of(key, &slot)?;
                u64::MAX - deadline.get()
            }
            Policy::AllKeysLfu | Policy::VolatileLfu => {
                255 - u64::from(self.eviction.lfu_count(slot.clock(), now_ms).min(255))
            }
            Policy::AllKeysLru | Policy::VolatileLru => access::idle_ms(slot.clock(), now_ms),
            Policy::AllKeysRandom | Policy::VolatileRandom | Policy::NoEviction => 0,
        })
    }

    /// Removes an evicted key, running `log` while still holding its lock (the removal's
    /// log record); the bytes it took. `None` if it is gone, expired (removed silently) or
    /// now holds a stream.
    pub fn evict(&self, key: &[u8], now_ms: u64, log: impl FnOnce()) -> Option<usize> {
        let Entry::Occupied(occupied) = self.keys.entry(Key::from(key)) else {
            return None;
        };
        if !evictable(&occupied.get().value) {
            return None;
        }
        let deadline: Option<NonZeroU64> = self.deadline_of(key, occupied.get());
        if deadline.is_some() {
            self.expires.remove(key);
        }
        let index = if deadline.is_some() {
            DEADLINE_BYTES
        } else {
            0
        };
        let bytes = entry_bytes(occupied.key(), &occupied.get().value) + index;
        let live = !past(deadline, now_ms);
        if live {
            log();
        }
        occupied.remove();
        live.then_some(bytes)
    }
}

/// True for the values eviction may take: anything but a stream.
fn evictable(value: &Value) -> bool {
    !matches!(value, Value::Stream(_))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keyspace::string::Str;
    use crate::keyspace::{EvictionSettings, KeyEntry, Kind};

    fn string() -> KeyEntry {
        KeyEntry::new(Value::Str(Str::new(b"v")))
    }

    #[test]
    fn streams_are_never_candidates() {
        let settings = Arc::new(EvictionSettings::default());
        let db = Db::with_settings(settings.clone());
        db.put(
            b"stream",
            KeyEntry::new(<sluice_streams::Stream as Kind>::empty()),
            0,
        );
        db.put(b"plain", string(), 0);
        db.put(
            b"ttl",
            KeyEntry::with_expiry(Value::Str(Str::new(b"v")), Some(50_000)),
            0,
        );
        let mut all = db.sample_evictable(10, false);
        all.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(all, vec![Key::from(&b"plain"[..]), Key::from(&b"ttl"[..])]);
        assert_eq!(db.sample_evictable(10, true), vec![Key::from(&b"ttl"[..])]);
        assert_eq!(db.sample_evictable(1, false).len(), 1);

        assert_eq!(db.eviction_score(b"stream", Policy::AllKeysLru, 0), None);
        assert_eq!(db.eviction_score(b"plain", Policy::VolatileLru, 0), None);
        assert_eq!(
            db.eviction_score(b"plain", Policy::AllKeysLru, 3000),
            Some(3000)
        );
        assert_eq!(
            db.eviction_score(b"ttl", Policy::VolatileTtl, 0),
            Some(u64::MAX - 50_000)
        );
        assert_eq!(db.evict(b"stream", 0, || ()), None);
        assert!(db.evict(b"ttl", 0, || ()).is_some());
        assert_eq!(db.expires_len(), 0);
        assert!(db.exists(b"stream", 0));
    }
}
