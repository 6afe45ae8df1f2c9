//! [`PolicyInstance`]: one claim policy's plugin instance. The store, limits and restart rule
//! are [`Supervised`]'s; this adds the `evaluate` call and the check of its answer.

use crate::PluginError;
use crate::bindings::Claiming;
use crate::claims::{self, ConsumerInfo, Nack, PendingInfo, PolicyDecision};
use crate::supervised::{Supervised, supervised_accessors};

/// A claim policy plugin instance, initialised and ready to evaluate a consumer group. `Send`:
/// move it to the thread that runs the policy. Calls block for at most the per-call deadline.
///
/// ```no_run
/// # fn main() -> Result<(), sluice_plugin_host::PluginError> {
/// use sluice_plugin_host::{ConsumerInfo, EntryId, Limits, PendingInfo, PluginHost, PolicyAction};
/// let host = PluginHost::new(Limits::default())?;
/// # let bytes: Vec<u8> = vec![];
/// let compiled = host.compile(&bytes)?;
/// let config = [("idle_ms".to_owned(), "30000".to_owned())];
/// let mut policy = host.instantiate_policy(&compiled, "orders-workers", &config)?;
/// let pending = [PendingInfo {
///     id: EntryId { ms: 1, seq: 0 },
///     owner: "a".into(),
///     idle_ms: 45_000,
///     deliveries: 1,
///     nack: None,
/// }];
/// let consumers = [ConsumerInfo {
///     name: "b".into(),
///     seen_idle_ms: 20,
///     active_idle_ms: Some(20),
///     pending: 0,
/// }];
/// for d in policy.evaluate("orders", "workers", &pending, &consumers)? {
///     let entry = &pending[d.entry]; // checked: in range
///     match d.action {
///         PolicyAction::Reassign(to) => { /* XCLAIM-like move of entry.id to `to` */ }
///         PolicyAction::DeadLetter { key, reason } => { /* append to `key`, then ack */ }
///         PolicyAction::Ack => { /* XACK entry.id */ }
///     }
///     let _ = entry;
/// }
/// # Ok(()) }
/// ```
pub struct PolicyInstance {
    plugin: Supervised<Claiming>,
}

supervised_accessors!(PolicyInstance, "policy", instantiate_policy);

impl PolicyInstance {
    /// The instance around `plugin`, already initialised.
    pub(crate) fn new(plugin: Supervised<Claiming>) -> Self {
        Self { plugin }
    }

    /// Shows the policy the pending entries (oldest first; the caller bounds how many) and the
    /// consumers of the group `group` of the stream `key`, and returns its decisions, checked
    /// against the contract, in entry order: at most one per entry, each naming its entry by
    /// index into `pending`. Entries without a decision are left as they are. With no pending
    /// entries the plugin is not called.
    ///
    /// Consumer names that are not UTF-8 cannot be passed: leave such consumers, and the entries
    /// they own, out.
    ///
    /// On [`PluginError::Trap`], [`PluginError::Timeout`] or [`PluginError::OutOfMemory`] the
    /// instance was discarded; the next call re-creates it. On [`PluginError::Contract`] (a
    /// decision for an entry that was not passed, two for one entry, a reassignment to a
    /// consumer that was not passed, a bad dead-letter key) the whole answer is discarded and
    /// the instance kept. Either way nothing should be applied this round.
    pub fn evaluate(
        &mut self,
        key: &str,
        group: &str,
        pending: &[PendingInfo],
        consumers: &[ConsumerInfo],
    ) -> Result<Vec<PolicyDecision>, PluginError> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let raw_pending: Vec<_> = pending.iter().map(PendingInfo::to_raw).collect();
        let raw_consumers: Vec<_> = consumers.iter().map(ConsumerInfo::to_raw).collect();
        let nacks: Vec<_> = pending.iter().map(|p| p.nack.map(Nack::to_raw)).collect();
        let raw = self.plugin.call(|claiming, store| {
            // What the `pending-state` import answers during this call (plugins built for WIT
            // 0.1.0 never ask).
            store.data_mut().nacks = nacks;
            let answer =
                claiming.call_evaluate(&mut *store, key, group, &raw_pending, &raw_consumers);
            store.data_mut().nacks = Vec::new();
            answer
        })?;
        claims::check(raw, key, pending, consumers).map_err(|reason| self.plugin.contract(reason))
    }
}
