//! The policy thread: every `interval_ms`, copy the group's pending entries and consumers,
//! ask the plugin page by page, then apply its decisions.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use sluice_plugin_host::{PluginError, PolicyDecision, PolicyInstance};

use super::Policy;
use crate::plugins::PluginState;
use crate::store::{PolicyCommit, Store};

/// Most pending entries handed to the plugin in one call.
pub const PER_CALL: usize = 1000;

/// Starts the policy's thread.
pub fn spawn(
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    plugin: PolicyInstance,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("policy-{}", policy.deployed.name))
        .spawn(move || {
            let watched = policy.clone();
            let mut runner = Runner {
                store,
                policy,
                plugin,
            };
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run()));
            if ran.is_err() {
                watched.deployed.set_state(PluginState::Failed);
                watched.deployed.error(
                    "the policy's thread panicked (a bug in Sluice); SLUICE RELOAD restarts it"
                        .into(),
                );
            }
        })
}

struct Runner {
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    plugin: PolicyInstance,
}

impl Runner {
    fn run(&mut self) {
        let interval = Duration::from_millis(self.policy.deployed.spec.interval_ms);
        while !self.policy.sleep_unless_stopped(interval) {
            // The log cannot be written (a full disk): no round until it can.
            if !self.store.writable() {
                continue;
            }
            // Another instance sharing the store runs the policy now.
            let lease_ms = interval.as_millis().saturating_mul(3).max(1000);
            let lease_ms = u64::try_from(lease_ms).unwrap_or(u64::MAX);
            if !self.store.hold_lease(&self.policy.deployed.name, lease_ms) {
                continue;
            }
            let started = Instant::now();
            match self.evaluate() {
                Ok(()) => {
                    self.policy.deployed.stats.evaluations.fetch_add(1, Relaxed);
                    self.policy.deployed.set_state(PluginState::Running);
                }
                Err(EvalError::Plugin(e)) => {
                    self.policy.deployed.stats.failed.fetch_add(1, Relaxed);
                    let retry = matches!(e, PluginError::Init { .. });
                    self.policy.deployed.set_state(if retry {
                        PluginState::Retrying
                    } else {
                        PluginState::Running
                    });
                    self.policy
                        .deployed
                        .error(format!("evaluation failed, nothing changed: {e}"));
                }
            }
            let elapsed = started.elapsed();
            let stats = &self.policy.deployed.stats;
            let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            stats.last_duration_us.store(us, Relaxed);
            stats.evaluation_times.record(elapsed);
        }
        self.policy.deployed.set_state(PluginState::Stopped);
    }

    /// One evaluation of the group.
    fn evaluate(&mut self) -> Result<(), EvalError> {
        let spec = &self.policy.deployed.spec;
        let (stream, group) = (spec.stream.as_bytes(), spec.group.as_bytes());
        let Some(view) = self.store.group_view(stream, group) else {
            // No stream or no group (yet): nothing to decide.
            self.policy.deployed.stats.last_pending.store(0, Relaxed);
            return Ok(());
        };
        self.policy
            .deployed
            .stats
            .last_pending
            .store(view.pending.len() as u64, Relaxed);
        let mut decisions = Vec::new();
        for (page, entries) in view.pending.chunks(PER_CALL).enumerate() {
            let answer = self
                .plugin
                .evaluate(&spec.stream, &spec.group, entries, &view.consumers)
                .map_err(EvalError::Plugin)?;
            decisions.extend(answer.into_iter().map(|d| PolicyDecision {
                entry: d.entry + page * PER_CALL,
                action: d.action,
            }));
        }
        if decisions.is_empty() {
            return Ok(());
        }
        let applied = self.store.apply_decisions(&PolicyCommit {
            stream,
            group,
            policy: &self.policy.deployed.name,
            seen: &view.pending,
            decisions: &decisions,
            stats: &self.policy.deployed.stats,
        });
        for error in applied.errors {
            self.policy.deployed.error(error);
        }
        Ok(())
    }
}

enum EvalError {
    Plugin(PluginError),
}
