//! [`Limits`] on what one plugin instance may use, and the store limiter that enforces the
//! memory part and remembers that it did (so a trap can be reported as out-of-memory).

use std::time::Duration;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Bounds applied to every plugin instance. Memory and time are checked by wasmtime itself, so
/// a plugin cannot opt out of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory one instance may have, in bytes (default 16 MiB).
    pub memory_bytes: usize,
    /// Longest one call into the plugin (`init`, or `route` for one batch) may run (default
    /// 100 ms). Enforced by epoch interruption, to within one [`Limits::epoch_tick`].
    pub call_deadline: Duration,
    /// How often the host's ticker thread advances the engine's epoch (default 5 ms): the
    /// resolution of `call_deadline`. Read once, by [`crate::PluginHost::new`].
    pub epoch_tick: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 16 << 20,
            call_deadline: Duration::from_millis(100),
            epoch_tick: Duration::from_millis(5),
        }
    }
}

impl Limits {
    /// The number of epoch ticks to allow one call: the deadline rounded up, plus one because
    /// the first tick can come right after the call starts.
    pub(crate) fn deadline_ticks(&self, tick: Duration) -> u64 {
        let tick = tick.as_nanos().max(1);
        let ticks = self.call_deadline.as_nanos().div_ceil(tick);
        u64::try_from(ticks)
            .unwrap_or(u64::MAX / 2)
            .saturating_add(1)
    }
}

/// The store's resource limiter: wasmtime's [`StoreLimits`], plus a flag raised when it refuses
/// a memory growth. A Rust guest aborts (traps) when its allocator gets no memory, and the flag
/// is how that trap is told apart from any other.
pub(crate) struct MemoryLimiter {
    inner: StoreLimits,
    refused: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            inner: StoreLimitsBuilder::new().memory_size(memory_bytes).build(),
            refused: false,
        }
    }

    /// Whether a memory growth has been refused since this instance was created.
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        let limits = Limits {
            call_deadline: Duration::from_millis(100),
            ..Limits::default()
        };
        assert_eq!(limits.deadline_ticks(Duration::from_millis(5)), 21);
        assert_eq!(limits.deadline_ticks(Duration::from_millis(30)), 5);
    }

    #[test]
    fn limiter_remembers_a_refusal() {
        let mut limiter = MemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 1 << 20, None).expect("grow"));
        assert!(!limiter.refused());
        assert!(
            !limiter
                .memory_growing(1 << 20, 2 << 20, None)
                .expect("grow")
        );
        assert!(limiter.refused());
    }
}
