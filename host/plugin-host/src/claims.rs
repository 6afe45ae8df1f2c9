//! What a claim policy is shown ([`PendingInfo`], [`ConsumerInfo`]) and what it answers
//! ([`PolicyDecision`]), with the check of that answer against the contract of the WIT.
//!
//! The decisions come from the plugin and are untrusted: [`check`] refuses an entry index out of
//! range, two decisions for one entry, a reassignment to a consumer that was not shown, and a
//! dead-letter stream that is empty or the stream itself. A checked answer can be applied
//! without further checks.

use std::collections::HashSet;

use crate::EntryId;
use crate::bindings::{RawAction, RawConsumer, RawDecision, RawEntryId, RawNack, RawPendingEntry};

/// One pending entry of the group, as shown to the policy (`XPENDING key group - + count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInfo {
    /// The entry's ID in the stream.
    pub id: EntryId,
    /// The consumer that owns it (it was last delivered to).
    pub owner: String,
    /// Milliseconds since its last delivery.
    pub idle_ms: u64,
    /// How many times it was delivered.
    pub deliveries: u64,
    /// Whether it was handed back with `XNACK` (and not claimed since), and how.
    pub nack: Option<Nack>,
}

/// How a pending entry was handed back to its group with `XNACK` (the WIT's
/// `pending-state.nack`). A NACKed entry has no owner (`""`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nack {
    /// `XNACK ... SILENT` or `FAIL`: to be delivered again.
    Retry,
    /// `XNACK ... FATAL`: never processable (its delivery count is pinned to `i64::MAX`).
    Fatal,
}

/// One consumer of the group, as shown to the policy (`XINFO CONSUMERS key group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// The consumer's name.
    pub name: String,
    /// Milliseconds since it last tried to read or claim (Redis's `idle`).
    pub seen_idle_ms: u64,
    /// Milliseconds since it last read or claimed an entry (Redis's `inactive`); `None` if it
    /// never did.
    pub active_idle_ms: Option<u64>,
    /// How many pending entries it owns in the group.
    pub pending: u64,
}

/// The policy's decision about one pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    /// Index of the entry in the `pending` slice passed to
    /// [`crate::PolicyInstance::evaluate`].
    pub entry: usize,
    /// What to do with it.
    pub action: PolicyAction,
}

/// What a policy decided for one pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAction {
    /// Give the entry to this consumer (one of those passed): delivered to it on its next
    /// `XREADGROUP ... >`, before new entries.
    Reassign(String),
    /// Append the entry with its history to the stream `key` and acknowledge it, atomically.
    DeadLetter {
        /// The dead-letter stream's key: not empty, not the policy's own stream.
        key: String,
        /// The plugin's reason, for the dead-letter entry.
        reason: String,
    },
    /// Acknowledge the entry (as `XACK`).
    Ack,
}

impl PendingInfo {
    pub(crate) fn to_raw(&self) -> RawPendingEntry {
        RawPendingEntry {
            id: RawEntryId {
                ms: self.id.ms,
                seq: self.id.seq,
            },
            owner: self.owner.clone(),
            idle_ms: self.idle_ms,
            deliveries: self.deliveries,
        }
    }
}

impl Nack {
    pub(crate) fn to_raw(self) -> RawNack {
        match self {
            Nack::Retry => RawNack::Retry,
            Nack::Fatal => RawNack::Fatal,
        }
    }
}

impl ConsumerInfo {
    pub(crate) fn to_raw(&self) -> RawConsumer {
        RawConsumer {
            name: self.name.clone(),
            seen_idle_ms: self.seen_idle_ms,
            active_idle_ms: self.active_idle_ms,
            pending: self.pending,
        }
    }
}

/// Checks a policy's answer for `pending` entries of the stream `key` against the contract and
/// converts it; the decisions come back in entry order. The error says what was wrong.
pub(crate) fn check(
    raw: Vec<RawDecision>,
    key: &str,
    pending: &[PendingInfo],
    consumers: &[ConsumerInfo],
) -> Result<Vec<PolicyDecision>, String> {
    let mut decided = vec![false; pending.len()];
    // Built on the first reassignment: most rounds have none.
    let mut names: Option<HashSet<&str>> = None;
    let mut decisions = Vec::with_capacity(raw.len());
    for d in raw {
        let entry = d.entry as usize;
        let (Some(info), Some(seen)) = (pending.get(entry), decided.get_mut(entry)) else {
            return Err(format!(
                "a decision names entry {}, but only {} entries were passed",
                d.entry,
                pending.len()
            ));
        };
        if std::mem::replace(seen, true) {
            return Err(format!(
                "two decisions for entry {entry} ({}-{})",
                info.id.ms, info.id.seq
            ));
        }
        let action = match d.action {
            RawAction::Ack => PolicyAction::Ack,
            RawAction::Reassign(to) => {
                let names = names
                    .get_or_insert_with(|| consumers.iter().map(|c| c.name.as_str()).collect());
                if !names.contains(to.as_str()) {
                    return Err(format!(
                        "entry {entry} ({}-{}) is reassigned to {to:?}, which is not one of the \
                         group's consumers passed",
                        info.id.ms, info.id.seq
                    ));
                }
                PolicyAction::Reassign(to)
            }
            RawAction::DeadLetter(dl) => {
                if dl.key.is_empty() {
                    return Err(format!(
                        "entry {entry} ({}-{}) is dead-lettered to an empty stream key",
                        info.id.ms, info.id.seq
                    ));
                }
                if dl.key == key {
                    return Err(format!(
                        "entry {entry} ({}-{}) is dead-lettered to {key:?}, the stream it is \
                         pending in",
                        info.id.ms, info.id.seq
                    ));
                }
                PolicyAction::DeadLetter {
                    key: dl.key,
                    reason: dl.reason,
                }
            }
        };
        decisions.push(PolicyDecision { entry, action });
    }
    decisions.sort_by_key(|d| d.entry);
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::RawDeadLetter;

    fn pending(n: u64) -> Vec<PendingInfo> {
        (1..=n)
            .map(|ms| PendingInfo {
                id: EntryId { ms, seq: 0 },
                owner: "a".into(),
                idle_ms: 1000,
                deliveries: 1,
                nack: None,
            })
            .collect()
    }

    fn consumers(names: &[&str]) -> Vec<ConsumerInfo> {
        names
            .iter()
            .map(|n| ConsumerInfo {
                name: (*n).into(),
                seen_idle_ms: 0,
                active_idle_ms: None,
                pending: 0,
            })
            .collect()
    }

    fn raw(entry: u32, action: RawAction) -> RawDecision {
        RawDecision { entry, action }
    }

    fn dead_letter(key: &str) -> RawAction {
        RawAction::DeadLetter(RawDeadLetter {
            key: key.into(),
            reason: "why".into(),
        })
    }

    #[test]
    fn accepts_and_orders_by_entry() {
        let got = check(
            vec![
                raw(2, RawAction::Reassign("b".into())),
                raw(0, RawAction::Ack),
                raw(1, dead_letter("s.dlq")),
            ],
            "s",
            &pending(3),
            &consumers(&["a", "b"]),
        )
        .expect("valid answer");
        assert_eq!(
            got,
            vec![
                PolicyDecision {
                    entry: 0,
                    action: PolicyAction::Ack
                },
                PolicyDecision {
                    entry: 1,
                    action: PolicyAction::DeadLetter {
                        key: "s.dlq".into(),
                        reason: "why".into()
                    }
                },
                PolicyDecision {
                    entry: 2,
                    action: PolicyAction::Reassign("b".into())
                },
            ]
        );
    }

    #[test]
    fn refuses_what_breaks_the_contract() {
        let (p, c) = (pending(2), consumers(&["a", "b"]));
        let err = |decisions| check(decisions, "s", &p, &c).expect_err("refused");
        assert_eq!(
            err(vec![raw(2, RawAction::Ack)]),
            "a decision names entry 2, but only 2 entries were passed"
        );
        assert_eq!(
            err(vec![raw(1, RawAction::Ack), raw(1, RawAction::Ack)]),
            "two decisions for entry 1 (2-0)"
        );
        assert_eq!(
            err(vec![raw(0, RawAction::Reassign("zed".into()))]),
            "entry 0 (1-0) is reassigned to \"zed\", which is not one of the group's consumers \
             passed"
        );
        assert!(err(vec![raw(0, dead_letter(""))]).contains("empty stream key"));
        assert!(err(vec![raw(0, dead_letter("s"))]).contains("the stream it is pending in"));
    }
}
