//! How much memory the server uses, for `maxmemory` and `INFO memory`.
//!
//! Sluice does not instrument its allocator, so `used_memory` is an estimate: a fixed start-up
//! cost, a per-client allowance for buffers, and what the streams report they hold. Walking
//! every stream is too slow for each write, so [`Memory`] keeps the last measurement and adds
//! the bytes of every write since; a write refused for memory re-measures once the last
//! measurement is [`REMEASURE`] old. Deletes and trims are therefore seen within that time, and
//! a write is never refused on a figure older than that.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::Broker;

/// The allocator `INFO memory` names (`mem_allocator`): the binary sets it when it installs
/// its own; a server run inside another program (tests) uses the system's.
pub static ALLOCATOR_NAME: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Memory the server uses before it holds any data (runtime, tables), bytes.
pub const STARTUP_BYTES: u64 = 1024 * 1024;
/// Memory each connection holds for its read and write buffers, bytes.
pub const PER_CLIENT_BYTES: u64 = 32 * 1024;
/// How old a measurement may be before a refusal measures again.
const REMEASURE: Duration = Duration::from_millis(100);
/// How old a measurement may be at all while a limit is set: request sizes are only an
/// estimate of what a write adds.
const RESYNC: Duration = Duration::from_secs(1);
/// Bytes counted per argument on top of its length (an entry's ID and bookkeeping).
const PER_ARG_BYTES: u64 = 8;

/// The running estimate of used memory.
#[derive(Debug)]
pub struct Memory {
    /// `used_memory` at the last measurement.
    measured: AtomicU64,
    /// Bytes written since (request sizes: an upper bound of the growth).
    since: AtomicU64,
    /// Bytes evicted since.
    freed: AtomicU64,
    /// When the last measurement was taken, µs since the server started.
    measured_at_us: AtomicU64,
    /// A measurement is running: others use the figure they have.
    measuring: AtomicBool,
}

impl Default for Memory {
    /// Before the first measurement: an empty server's figure.
    fn default() -> Self {
        Memory {
            measured: AtomicU64::new(STARTUP_BYTES),
            since: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            measured_at_us: AtomicU64::new(0),
            measuring: AtomicBool::new(false),
        }
    }
}

impl Memory {
    /// Walks the databases and returns `used_memory`, keeping it as the new base; `clients`
    /// connections are counted at [`PER_CLIENT_BYTES`] each.
    pub fn measure(&self, broker: &Broker, clients: usize) -> u64 {
        let now = elapsed_us(broker);
        let dataset: u64 = broker
            .keyspace
            .dbs()
            .map(|db| db.memory_usage() as u64)
            .sum();
        let used = STARTUP_BYTES + clients as u64 * PER_CLIENT_BYTES + dataset;
        self.measured.store(used, Ordering::Relaxed);
        self.since.store(0, Ordering::Relaxed);
        self.freed.store(0, Ordering::Relaxed);
        self.measured_at_us.store(now, Ordering::Relaxed);
        used
    }

    /// The current estimate: the last measurement plus what was written since, less what
    /// was evicted since.
    pub fn used(&self) -> u64 {
        self.measured
            .load(Ordering::Relaxed)
            .saturating_add(self.since.load(Ordering::Relaxed))
            .saturating_sub(self.freed.load(Ordering::Relaxed))
    }

    /// Counts the bytes an evicted key took.
    pub fn note_freed(&self, bytes: u64) {
        self.freed.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts what a write command's arguments may add (only while a `maxmemory` limit is
    /// set).
    pub fn note_write<'a>(&self, args: impl Iterator<Item = &'a [u8]>) {
        let bytes: u64 = args.map(|a| a.len() as u64 + PER_ARG_BYTES).sum();
        self.since.fetch_add(bytes, Ordering::Relaxed);
    }

    /// True if `maxmemory` is set and used memory is over it: keys are then evicted, or
    /// commands that add data refused (`noeviction`). A refusal on a stale figure measures again first, with
    /// `clients()` connections (asked only then: counting them walks the client table).
    pub fn over_limit(&self, broker: &Broker, clients: impl FnOnce() -> usize) -> bool {
        let max = broker.settings.maxmemory.load(Ordering::Relaxed);
        if max == 0 {
            return false;
        }
        let age = u128::from(
            elapsed_us(broker).saturating_sub(self.measured_at_us.load(Ordering::Relaxed)),
        );
        let over = self.used() > max;
        let due = if over { REMEASURE } else { RESYNC };
        if age >= due.as_micros() && !self.measuring.swap(true, Ordering::Acquire) {
            self.measure(broker, clients());
            self.measuring.store(false, Ordering::Release);
        }
        self.used() > max
    }
}

fn elapsed_us(broker: &Broker) -> u64 {
    u64::try_from(broker.started.elapsed().as_micros()).unwrap_or(u64::MAX)
}
