//! A busy route thread yields the CPU to clients while it keeps up.
//!
//! Routing is asynchronous: a client's `XADD` is answered once the event is stored, and the
//! route reads it a moment later. When the clients and a busy route compete for the same cores,
//! the route thread's millisecond wake-ups land on the core the connection thread runs on, the
//! benchmark or client process lands beside it, and the two preempt each other at every reply
//! (measured with 50 clients pipelining `XADD`s on 2 cores: 13,000 preemptions of the
//! connection thread in 2 s, against 800 without a route). Under Linux's `SCHED_IDLE` the
//! kernel counts a core that runs only the route as free, so woken clients go there and the
//! route takes the cycles they leave.
//!
//! `SCHED_IDLE` alone would let a saturated machine starve the route, so it holds only while
//! the route keeps up: it starts after a busy batch that was not full (128 events or more in
//! a coalescing window, fewer than a batch's 1024), and ends after [`BEHIND_BATCHES`] full
//! ones in a row or a quiet batch. A route catching up a backlog does so in its normal class.
//! Coming back from `SCHED_IDLE` needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows the
//! thread's nice value; [`Priority::new`] checks that once per process on a throwaway thread,
//! and without it the route keeps its normal priority throughout.

use std::sync::OnceLock;

/// The scheduling class a route thread is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `SCHED_OTHER`, the nice value the process has.
    Normal,
    /// `SCHED_IDLE`: runs on the cycles nothing else wants.
    Idle,
}

/// Full batches in a row that end yielding: the route is that far behind (8192 events, some
/// 60 ms at the 128k events a second from which a route counts as busy).
const BEHIND_BATCHES: u32 = 8;

/// The calling thread's scheduling class, switched only when it changes.
#[derive(Debug)]
pub struct Priority {
    /// This process may come back from `SCHED_IDLE` ([`may_return`]).
    enabled: bool,
    class: Class,
    /// Full batches in a row.
    full_in_row: u32,
}

impl Priority {
    /// For the calling thread, in its normal class.
    pub fn new() -> Self {
        Priority {
            enabled: may_return(),
            class: Class::Normal,
            full_in_row: 0,
        }
    }

    /// Sets the class for how the route's last batch went: `busy` (many events per window)
    /// yields, until [`BEHIND_BATCHES`] `full` ones in a row show a backlog; a quiet source,
    /// or a backlog found in the normal class, does not yield.
    pub fn after_batch(&mut self, busy: bool, full: bool) {
        self.full_in_row = match full {
            true => self.full_in_row.saturating_add(1),
            false => 0,
        };
        // A full batch keeps a yielding route yielding a while (the clients' burst may end),
        // but never starts it: a route catching up does so in its normal class.
        let yields = match full {
            false => busy,
            true => self.class == Class::Idle && self.full_in_row < BEHIND_BATCHES,
        };
        let want = match yields {
            true => Class::Idle,
            false => Class::Normal,
        };
        self.set(want);
    }

    fn set(&mut self, want: Class) {
        if !self.enabled || want == self.class {
            return;
        }
        match sys::set(want) {
            Ok(()) => self.class = want,
            Err(e) => {
                // Not expected once the probe passed; stay as the kernel left the thread.
                tracing::debug!("route thread scheduling class unchanged: {e}");
                if want == Class::Normal {
                    // Never left in the idle class when normal was asked for and refused:
                    // stop switching altogether.
                    self.enabled = false;
                    tracing::warn!(
                        "a route thread could not leave SCHED_IDLE ({e}); it may be slow on a busy machine"
                    );
                }
            }
        }
    }
}

impl Default for Priority {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a thread of this process can go to `SCHED_IDLE` and back, tried once on a thread
/// that then ends (so a refusal strands no route in the idle class).
fn may_return() -> bool {
    static MAY: OnceLock<bool> = OnceLock::new();
    *MAY.get_or_init(|| {
        let probe = std::thread::Builder::new()
            .name("sluice-sched-probe".into())
            .spawn(|| sys::set(Class::Idle).is_ok() && sys::set(Class::Normal).is_ok());
        let may = probe.is_ok_and(|thread| thread.join().unwrap_or(false));
        tracing::debug!(
            may,
            "route threads may yield to clients under load (SCHED_IDLE)"
        );
        may
    })
}

#[cfg(target_os = "linux")]
mod sys {
    use super::Class;

    /// Puts the calling thread in `class`, keeping its nice value.
    #[allow(unsafe_code)]
    pub(super) fn set(class: Class) -> std::io::Result<()> {
        let policy = match class {
            Class::Normal => libc::SCHED_OTHER,
            Class::Idle => libc::SCHED_IDLE,
        };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid, initialised `sched_param` that outlives the call; pid 0
        // is the calling thread; the call reads `param` and changes nothing else in memory.
        let ret = unsafe { libc::sched_setscheduler(0, policy, &param) };
        match ret {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::Class;

    pub(super) fn set(_class: Class) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class a thread is in, from the kernel (`/proc/thread-self/stat` field 41: policy).
    #[cfg(target_os = "linux")]
    fn policy_now() -> Option<u32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let after_comm = stat.rsplit_once(')')?.1;
        // Fields after the command name start at field 3; the policy is field 41.
        after_comm.split_whitespace().nth(41 - 3)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_busy_route_that_keeps_up_yields_and_a_backlog_or_a_quiet_source_does_not() {
        std::thread::spawn(|| {
            let mut priority = Priority::new();
            if !priority.enabled {
                // No CAP_SYS_NICE here: the thread must never have left its class.
                priority.after_batch(true, false);
                assert_eq!(policy_now(), Some(libc::SCHED_OTHER as u32));
                return;
            }
            // A route catching up from its start does not yield.
            priority.after_batch(true, true);
            assert_eq!(policy_now(), Some(libc::SCHED_OTHER as u32));
            priority.after_batch(true, false);
            assert_eq!(policy_now(), Some(libc::SCHED_IDLE as u32));
            for _ in 1..BEHIND_BATCHES {
                priority.after_batch(true, true);
                assert_eq!(policy_now(), Some(libc::SCHED_IDLE as u32));
            }
            priority.after_batch(true, true);
            assert_eq!(policy_now(), Some(libc::SCHED_OTHER as u32));
            priority.after_batch(true, true);
            assert_eq!(policy_now(), Some(libc::SCHED_OTHER as u32));
            priority.after_batch(true, false);
            assert_eq!(policy_now(), Some(libc::SCHED_IDLE as u32));
            priority.after_batch(false, false);
            assert_eq!(policy_now(), Some(libc::SCHED_OTHER as u32));
        })
        .join()
        .expect("the test thread panicked");
    }
}
