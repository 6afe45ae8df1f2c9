//! The [`ClaimPolicy`] trait, the [`crate::export_claim_policy!`] macro and the glue between
//! them and the generated exports of the `claim-policy` world: keeps the policy's state
//! between rounds, shows it an [`Evaluation`] and sends back its [`Decisions`].

use std::marker::PhantomData;

use sluice_plugin_sdk_policy_bindings as raw;

use raw::exports::sluice::plugin::claiming::{self, Action as RawAction, DeadLetter};
use raw::exports::sluice::plugin::lifecycle;
use raw::sluice::plugin::pending_state;
use raw::sluice::plugin::types::PluginInfo;

use crate::export::{Describe, lifecycle_guest, with_plugin};
use crate::{Action, Config, Decisions, EntryId, Evaluation, Nack};

/// A claim policy: decides, on an interval, what becomes of a consumer group's pending entries.
/// Implement it, then call [`crate::export_claim_policy!`] once with the type.
pub trait ClaimPolicy: Sized + 'static {
    /// Builds the policy from its configuration (`config = { ... }` in the broker's
    /// `[[claim_policy]]`); an `Err` refuses it (the broker reports the message and does not
    /// run the policy).
    fn init(config: &Config) -> Result<Self, String>;

    /// One round: look at the group's pending entries and consumers in `eval` and record a
    /// decision in `out` for each entry to act on ([`Decisions::reassign`],
    /// [`Decisions::dead_letter`], [`Decisions::ack`]); the others are left as they are.
    /// Returning `Err(reason)` fails the round: nothing is applied, and the broker logs the
    /// reason.
    fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String>;
}

/// Implements the generated export traits of the `claim-policy` world for a [`Describe`] type.
#[doc(hidden)]
pub struct PolicyExport<D>(PhantomData<D>);

lifecycle_guest!(lifecycle::Guest, PluginInfo, PolicyExport, ClaimPolicy);

impl<D: Describe> claiming::Guest for PolicyExport<D>
where
    D::Plugin: ClaimPolicy,
{
    fn evaluate(
        key: String,
        group: String,
        pending: Vec<claiming::PendingEntry>,
        consumers: Vec<claiming::Consumer>,
    ) -> Result<Vec<claiming::Decision>, String> {
        with_plugin("evaluate", |plugin: &mut D::Plugin| {
            let nacks = pending_state::nacks();
            let eval = evaluation(key, group, pending, &nacks, consumers);
            let mut out = Decisions::new(&eval);
            plugin.evaluate(&eval, &mut out)?;
            decisions(out)
        })
    }
}

/// The friendly view of what the host passed.
fn evaluation(
    key: String,
    group: String,
    pending: Vec<claiming::PendingEntry>,
    nacks: &[Option<pending_state::Nack>],
    consumers: Vec<claiming::Consumer>,
) -> Evaluation {
    let mut eval = Evaluation::new(key, group);
    for (i, p) in pending.into_iter().enumerate() {
        let id = EntryId {
            ms: p.id.ms,
            seq: p.id.seq,
        };
        // The host answers one NACK state per entry; a shorter list means "not NACKed".
        let nack = nacks.get(i).copied().flatten().map(|n| match n {
            pending_state::Nack::Retry => Nack::Retry,
            pending_state::Nack::Fatal => Nack::Fatal,
        });
        eval.push_pending(id, p.owner, p.idle_ms, p.deliveries, nack);
    }
    for c in consumers {
        eval = eval.with_consumer(c.name, c.seen_idle_ms, c.active_idle_ms, c.pending);
    }
    eval
}

/// The decisions in the form the WIT asks for.
fn decisions(out: Decisions) -> Result<Vec<claiming::Decision>, String> {
    Ok(out
        .into_actions()?
        .map(|(entry, action)| claiming::Decision {
            entry,
            action: match action {
                Action::Reassign(to) => RawAction::Reassign(to),
                Action::DeadLetter { key, reason } => {
                    RawAction::DeadLetter(DeadLetter { key, reason })
                }
                Action::Ack => RawAction::Ack,
            },
        })
        .collect())
}

/// Exports a [`ClaimPolicy`] implementation as the plugin's component exports. Call it once, at
/// the top level of the plugin crate:
///
/// ```ignore
/// sluice_plugin_sdk::export_claim_policy!(MyPolicy);
/// ```
///
/// The plugin describes itself with the crate's name and version from its `Cargo.toml`.
#[macro_export]
macro_rules! export_claim_policy {
    ($plugin:ty) => {
        $crate::__describe!($plugin);
        #[doc(hidden)]
        type __SluiceExport = $crate::__private::PolicyExport<__SluiceDescribe>;
        $crate::__private::policy_bindings::__export_claim_policy_world!(
            __SluiceExport with_types_in $crate::__private::policy_bindings
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_go_out_in_entry_order_last_one_winning() {
        let id = |ms| EntryId { ms, seq: 0 };
        let eval = Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 10, 1)
            .with_pending(id(2), "a", 10, 1)
            .with_pending(id(3), "b", 10, 7)
            .with_consumer("a", 0, None, 2)
            .with_consumer("b", 0, Some(3), 1);
        let mut out = Decisions::new(&eval);
        let third = eval.entry(2).expect("entry");
        out.dead_letter(third, "orders.dlq", "delivered 7 times");
        out.reassign(0u32, "b");
        out.ack(1usize);
        out.reassign(1usize, "b");
        out.leave(0u32);
        assert_eq!(out.len(), 2);
        assert_eq!(out.get(1u32), Some(&Action::Reassign("b".into())));
        let raw = decisions(out).expect("in range");
        assert_eq!(
            raw.iter().map(|d| d.entry).collect::<Vec<_>>(),
            vec![1, 2],
            "entry order"
        );
        assert!(matches!(&raw[0].action, RawAction::Reassign(to) if to == "b"));
        assert!(matches!(&raw[1].action,
            RawAction::DeadLetter(d) if d.key == "orders.dlq" && d.reason == "delivered 7 times"));
    }

    #[test]
    fn an_entry_out_of_range_fails_the_round() {
        let eval = Evaluation::new("orders", "g").with_pending(EntryId::default(), "a", 0, 1);
        let mut out = Decisions::new(&eval);
        out.ack(5u32);
        let err = decisions(out).expect_err("out of range");
        assert_eq!(err, "a decision names entry 5, but the round has 1 entries");
    }

    #[test]
    fn the_view_matches_what_the_host_passed() {
        use raw::sluice::plugin::types::EntryId as RawId;
        let eval = evaluation(
            "orders".into(),
            "g".into(),
            vec![
                claiming::PendingEntry {
                    id: RawId { ms: 5, seq: 2 },
                    owner: "a".into(),
                    idle_ms: 700,
                    deliveries: 3,
                },
                claiming::PendingEntry {
                    id: RawId { ms: 6, seq: 0 },
                    owner: String::new(),
                    idle_ms: 10,
                    deliveries: i64::MAX as u64,
                },
            ],
            &[None, Some(pending_state::Nack::Fatal)],
            vec![claiming::Consumer {
                name: "a".into(),
                seen_idle_ms: 10,
                active_idle_ms: None,
                pending: 4,
            }],
        );
        assert_eq!((eval.key(), eval.group()), ("orders", "g"));
        let e = eval.pending().next().expect("entry");
        assert_eq!(
            (
                e.index(),
                e.id().to_string(),
                e.owner(),
                e.idle_ms(),
                e.deliveries()
            ),
            (0, "5-2".to_owned(), "a", 700, 3)
        );
        assert_eq!(e.nack(), None);
        let nacked = eval.entry(1).expect("NACKed entry");
        assert_eq!((nacked.owner(), nacked.nack()), ("", Some(Nack::Fatal)));
        let c = eval.consumer("a").expect("consumer");
        assert_eq!(
            (c.name(), c.seen_idle_ms(), c.active_idle_ms(), c.pending()),
            ("a", 10, None, 4)
        );
    }
}
