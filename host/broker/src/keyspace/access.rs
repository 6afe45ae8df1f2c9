//! Each key's access clock, as Redis keeps it in 24 bits of every object: the time of the
//! last access (LRU policies, `OBJECT IDLETIME`) or a logarithmic access counter with the
//! minute it was last decayed (LFU policies, `OBJECT FREQ`), and the eviction settings that
//! say which of the two it is.
//!
//! LRU: seconds since the epoch, modulo 2^24 (a clock that wraps every 194 days; an idle
//! time is read as if it wrapped at most once). LFU: 16 bits of minutes since the epoch, then
//! an 8-bit counter that starts at [`LFU_INIT_VAL`], grows on access with probability
//! `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`, and loses one per `lfu-decay-time`
//! minutes without access. Switching policies at run time reinterprets the same bits, as in
//! Redis ("LRU and LFU data will take some time to adjust").

use std::sync::atomic::{AtomicU64, Ordering};

/// The clock's bits.
pub const CLOCK_MASK: u32 = (1 << 24) - 1;
/// A new key's LFU counter: enough to survive a few eviction rounds before it is read.
pub const LFU_INIT_VAL: u32 = 5;

/// What happens when used memory is over `maxmemory` (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Commands that add data are refused (`OOM`).
    #[default]
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    /// The key with the nearest deadline first.
    VolatileTtl,
}

impl Policy {
    /// Every policy, in the order Redis's `CONFIG SET` error lists them.
    pub const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::NoEviction,
    ];

    /// Every name, comma-separated, in the order Redis's `CONFIG SET` error lists them.
    pub fn names() -> String {
        Policy::ALL.map(Policy::name).join(", ")
    }

    /// The name the config and `INFO` use.
    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::VolatileLru => "volatile-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
        }
    }

    /// The policy named `name` (any case).
    pub fn parse(name: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// True for the LFU policies: the clock holds a counter, not an access time.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// True for the policies that only evict keys with a deadline.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn index(self) -> u64 {
        Policy::ALL.iter().position(|p| *p == self).unwrap_or(7) as u64
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The eviction settings (`maxmemory-policy`, `maxmemory-samples`, `lfu-log-factor`,
/// `lfu-decay-time`), shared by every database; `CONFIG SET` changes them.
#[derive(Debug)]
pub struct EvictionSettings {
    policy: AtomicU64,
    /// Keys sampled per eviction (Redis's default 5).
    pub samples: AtomicU64,
    /// How slowly the LFU counter grows (10).
    pub lfu_log_factor: AtomicU64,
    /// Minutes without access per point the LFU counter loses (1; 0: never decays).
    pub lfu_decay_time: AtomicU64,
}

impl Default for EvictionSettings {
    fn default() -> Self {
        EvictionSettings {
            policy: AtomicU64::new(Policy::NoEviction.index()),
            samples: AtomicU64::new(5),
            lfu_log_factor: AtomicU64::new(10),
            lfu_decay_time: AtomicU64::new(1),
        }
    }
}

impl EvictionSettings {
    /// The current policy.
    pub fn policy(&self) -> Policy {
        let i = self.policy.load(Ordering::Relaxed);
        Policy::ALL[usize::try_from(i).unwrap_or(7).min(7)]
    }

    /// Sets the policy.
    pub fn set_policy(&self, policy: Policy) {
        self.policy.store(policy.index(), Ordering::Relaxed);
    }

    /// The clock of a key created at `now_ms`.
    pub fn fresh(&self, now_ms: u64) -> u32 {
        if self.policy().is_lfu() {
            (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
        } else {
            lru_clock(now_ms)
        }
    }

    /// `clock` after an access at `now_ms`: the access time, or the counter decayed and
    /// maybe incremented.
    pub fn touched(&self, clock: u32, now_ms: u64) -> u32 {
        if !self.policy().is_lfu() {
            return lru_clock(now_ms);
        }
        let counter = self.lfu_count(clock, now_ms);
        let factor = self.lfu_log_factor.load(Ordering::Relaxed);
        (lfu_minutes(now_ms) << 8) | lfu_log_incr(counter, factor, fastrand::f64())
    }

    /// The LFU counter `clock` holds, decayed for the minutes since (`OBJECT FREQ`).
    pub fn lfu_count(&self, clock: u32, now_ms: u64) -> u32 {
        let decay = self.lfu_decay_time.load(Ordering::Relaxed);
        let counter = clock & 0xff;
        if decay == 0 {
            return counter;
        }
        let elapsed = lfu_elapsed(clock >> 8, lfu_minutes(now_ms));
        let periods = u32::try_from(u64::from(elapsed) / decay).unwrap_or(u32::MAX);
        counter.saturating_sub(periods)
    }

    /// The clock `RESTORE … IDLETIME s | FREQ n` sets, if the option fits the policy (an idle
    /// time under LRU, a frequency under LFU); `None`: a fresh clock.
    pub fn restored(&self, now_ms: u64, idle_s: Option<u64>, freq: Option<u8>) -> Option<u32> {
        if self.policy().is_lfu() {
            freq.map(|f| (lfu_minutes(now_ms) << 8) | u32::from(f))
        } else {
            let idle = idle_s?;
            let now = u64::from(lru_clock(now_ms));
            // An idle time past the clock's start: as Redis, half a turn of the clock away,
            // so the key still reads as long idle.
            let at = now
                .checked_sub(idle)
                .unwrap_or((now + u64::from(CLOCK_MASK) / 2) % u64::from(CLOCK_MASK));
            Some(u32::try_from(at).unwrap_or(0) & CLOCK_MASK)
        }
    }
}

/// The LRU clock at `now_ms`: seconds, modulo 2^24.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & u64::from(CLOCK_MASK)) as u32
}

/// Milliseconds since the access `clock` records (LRU), reading it as wrapped at most once.
pub fn idle_ms(clock: u32, now_ms: u64) -> u64 {
    let now = lru_clock(now_ms);
    let clock = clock & CLOCK_MASK;
    let seconds = if now >= clock {
        now - clock
    } else {
        now + (CLOCK_MASK - clock)
    };
    u64::from(seconds) * 1000
}

/// Minutes since the epoch, modulo 2^16.
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// Minutes from `then` to `now` on the 16-bit minute clock, wrapped at most once.
fn lfu_elapsed(then: u32, now: u32) -> u32 {
    if now >= then {
        now - then
    } else {
        0xffff - then + now
    }
}

/// The counter after one access, `r` a uniform draw in [0, 1): the higher it is, the less
/// likely it grows; it stops at 255.
fn lfu_log_incr(counter: u32, factor: u64, r: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * factor as f64 + 1.0);
    if r < p { counter + 1 } else { counter }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Some(p));
            let settings = EvictionSettings::default();
            settings.set_policy(p);
            assert_eq!(settings.policy(), p);
        }
        assert_eq!(Policy::parse("ALLKEYS-LRU"), Some(Policy::AllKeysLru));
        assert_eq!(Policy::parse("lru"), None);
    }

    #[test]
    fn lru_idle_time_wraps_once() {
        let clock = lru_clock(10_000);
        assert_eq!(idle_ms(clock, 12_500), 2000);
        let late = u64::from(CLOCK_MASK) * 1000;
        assert_eq!(idle_ms(lru_clock(late), 5000), 5000);
    }

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        // Below the initial value every access counts; above it, less and less often.
        assert_eq!(lfu_log_incr(0, 10, 0.99), 1);
        assert_eq!(lfu_log_incr(5, 10, 0.99), 6);
        assert_eq!(lfu_log_incr(6, 10, 0.5), 6);
        assert_eq!(lfu_log_incr(6, 10, 0.05), 7);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        let settings = EvictionSettings::default();
        settings.set_policy(Policy::AllKeysLfu);
        let fresh = settings.fresh(0);
        assert_eq!(settings.lfu_count(fresh, 0), LFU_INIT_VAL);
        // One point per minute without access, not below 0.
        assert_eq!(settings.lfu_count(fresh, 3 * 60_000), 2);
        assert_eq!(settings.lfu_count(fresh, 60 * 60_000), 0);
        settings.lfu_decay_time.store(0, Ordering::Relaxed);
        assert_eq!(settings.lfu_count(fresh, 60 * 60_000), LFU_INIT_VAL);
    }

    #[test]
    fn restore_sets_the_clock_the_policy_reads() {
        let settings = EvictionSettings::default();
        let now = 1_000_000_000;
        let clock = settings.restored(now, Some(100), Some(7));
        assert_eq!(clock.map(|c| idle_ms(c, now)), Some(100_000));
        assert_eq!(settings.restored(now, None, Some(7)), None);
        settings.set_policy(Policy::VolatileLfu);
        let clock = settings.restored(now, Some(100), Some(7));
        assert_eq!(clock.map(|c| settings.lfu_count(c, now)), Some(7));
        assert_eq!(settings.restored(now, Some(100), None), None);
    }
}
