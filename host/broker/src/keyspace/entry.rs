//! A key's entry: [`KeyEntry`], what commands see and move between keys (the value, its
//! deadline, its access clock), and [`Slot`], what the table stores per key.
//!
//! A slot is 32 bytes, one allocator size class, as it was before keys had a clock: the
//! value (24 bytes) and one 32-bit word holding the 24-bit access clock and a bit saying the
//! key has a deadline. The deadline itself lives only in the database's expiry index, as in
//! Redis (`db->expires`): a key with one costs a second lookup when touched, and a million
//! keys without one cost nothing more for their clocks.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU32, Ordering};

use super::access::CLOCK_MASK;
use super::string::Str;
use super::value::Value;

/// A key's value, its expiry deadline and access clock, as commands read and write it.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// What the key holds.
    pub value: Value,
    /// Unix ms after which the key is gone (a deadline is never 0: `EXPIREAT k 0` removes).
    pub(super) expire: Option<NonZeroU64>,
    /// The access clock to store (see [`super::access`]); `None`: a new key's.
    pub(super) access: Option<u32>,
}

impl KeyEntry {
    /// `value` with no expiry.
    pub fn new(value: Value) -> Self {
        KeyEntry {
            value,
            expire: None,
            access: None,
        }
    }

    /// `value` expiring at `at` (Unix ms), if given.
    pub fn with_expiry(value: Value, at: Option<u64>) -> Self {
        KeyEntry {
            value,
            expire: at.and_then(NonZeroU64::new),
            access: None,
        }
    }

    /// The entry with access clock `clock` (`RESTORE … IDLETIME|FREQ`); `None`: a new key's.
    pub fn with_access(mut self, clock: Option<u32>) -> Self {
        self.access = clock.map(|c| c & CLOCK_MASK);
        self
    }

    /// The deadline, Unix ms, if any.
    pub fn expire_at(&self) -> Option<u64> {
        self.expire.map(NonZeroU64::get)
    }

    /// Sets or clears the deadline. Inside [`super::Db::write`] and its kin the expiry index
    /// follows; a deadline already past removes the key when the write ends.
    pub fn set_expire_at(&mut self, at: Option<u64>) {
        self.expire = at.and_then(NonZeroU64::new);
    }

    /// Marks the key for removal when the write it is in ends (a key a command created and
    /// then found it must not keep: `SET … XX` on a missing key).
    pub fn discard(&mut self) {
        self.expire = NonZeroU64::new(1);
    }

    pub(super) fn expired(&self, now_ms: u64) -> bool {
        past(self.expire, now_ms)
    }
}

/// True if `deadline` is set and at or before `now_ms`.
pub(super) fn past(deadline: Option<NonZeroU64>, now_ms: u64) -> bool {
    deadline.is_some_and(|at| at.get() <= now_ms)
}

/// The bit of [`Slot::meta`] saying the key has a deadline in the expiry index.
const HAS_DEADLINE: u32 = 1 << 31;

/// What the table stores per key.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) value: Value,
    /// The access clock (low 24 bits) and [`HAS_DEADLINE`]. Atomic so a read, holding its
    /// shard shared, can record the access; writers hold the shard exclusively.
    meta: AtomicU32,
}

impl Slot {
    pub(super) fn new(value: Value, clock: u32, has_deadline: bool) -> Slot {
        let flag = if has_deadline { HAS_DEADLINE } else { 0 };
        Slot {
            value,
            meta: AtomicU32::new((clock & CLOCK_MASK) | flag),
        }
    }

    /// The access clock.
    pub(super) fn clock(&self) -> u32 {
        self.meta.load(Ordering::Relaxed) & CLOCK_MASK
    }

    /// Records an access: the deadline bit stays (only writers, holding the shard
    /// exclusively, change it).
    pub(super) fn set_clock(&self, clock: u32) {
        let flag = self.meta.load(Ordering::Relaxed) & HAS_DEADLINE;
        self.meta
            .store((clock & CLOCK_MASK) | flag, Ordering::Relaxed);
    }

    /// True if the key has a deadline in the expiry index.
    pub(super) fn has_deadline(&self) -> bool {
        self.meta.load(Ordering::Relaxed) & HAS_DEADLINE != 0
    }

    /// Moves the value out into a [`KeyEntry`] for a write (the slot holds a placeholder
    /// until [`Slot::restore`]).
    pub(super) fn take_entry(&mut self, deadline: Option<NonZeroU64>, clock: u32) -> KeyEntry {
        KeyEntry {
            value: std::mem::replace(&mut self.value, Value::Str(Str::from_i64(0))),
            expire: deadline,
            access: Some(clock),
        }
    }

    /// Puts a written entry back.
    pub(super) fn restore(&mut self, entry: KeyEntry) {
        let clock = entry.access.unwrap_or_else(|| self.clock());
        *self = Slot::new(entry.value, clock, entry.expire.is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_stays_in_its_size_class() {
        assert_eq!(size_of::<Slot>(), 32);
        let slot = Slot::new(Value::Str(Str::new(b"v")), 7, true);
        slot.set_clock(CLOCK_MASK + 9);
        assert_eq!((slot.clock(), slot.has_deadline()), (8, true));
    }
}
