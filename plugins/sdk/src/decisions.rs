//! [`Decisions`]: what a claim policy answers for the entries it acts on — reassign,
//! dead-letter or acknowledge — at most one per entry.

use crate::evaluation::{Evaluation, PendingEntry};

/// What to do with one pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Give the entry to this consumer: delivered to it on its next read, before new entries.
    Reassign(String),
    /// Append the entry with its history to the stream `key` and acknowledge it.
    DeadLetter {
        /// The dead-letter stream.
        key: String,
        /// Why, for operators.
        reason: String,
    },
    /// Acknowledge the entry (as `XACK`).
    Ack,
}

/// Names a pending entry in a decision: its index (`u32`, `usize`) or the entry itself.
pub trait EntryRef {
    /// The entry's index in [`Evaluation::pending`].
    fn entry_index(&self) -> u32;
}

impl EntryRef for u32 {
    fn entry_index(&self) -> u32 {
        *self
    }
}

impl EntryRef for usize {
    fn entry_index(&self) -> u32 {
        u32::try_from(*self).unwrap_or(u32::MAX)
    }
}

impl EntryRef for &PendingEntry {
    fn entry_index(&self) -> u32 {
        self.index()
    }
}

/// The decisions of one round. An entry with no decision is left as it is; deciding twice for
/// one entry keeps the last decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    slots: Vec<Option<Action>>,
    /// The first index named that is not an entry of the round: the round fails with it.
    out_of_range: Option<u32>,
}

impl Decisions {
    /// No decisions yet, for the entries of `eval` (for unit tests of a policy; the SDK makes
    /// the real one).
    pub fn new(eval: &Evaluation) -> Self {
        Self {
            slots: vec![None; eval.pending().len()],
            out_of_range: None,
        }
    }

    /// Reassigns `entry` to the consumer `consumer` (one of [`Evaluation::consumers`]; the
    /// broker refuses the round's answer otherwise).
    pub fn reassign(&mut self, entry: impl EntryRef, consumer: &str) {
        self.set(entry, Some(Action::Reassign(consumer.to_owned())));
    }

    /// Dead-letters `entry` to the stream `key` (not empty, not the policy's own stream) with
    /// `reason`.
    pub fn dead_letter(&mut self, entry: impl EntryRef, key: &str, reason: impl Into<String>) {
        self.set(
            entry,
            Some(Action::DeadLetter {
                key: key.to_owned(),
                reason: reason.into(),
            }),
        );
    }

    /// Acknowledges `entry`.
    pub fn ack(&mut self, entry: impl EntryRef) {
        self.set(entry, Some(Action::Ack));
    }

    /// Takes back the decision for `entry`, if any: it is left as it is.
    pub fn leave(&mut self, entry: impl EntryRef) {
        self.set(entry, None);
    }

    /// The decision for `entry`, if any.
    pub fn get(&self, entry: impl EntryRef) -> Option<&Action> {
        self.slots
            .get(entry.entry_index() as usize)
            .and_then(Option::as_ref)
    }

    /// The decisions made, in entry order, as (entry index, action).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Action)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((u32::try_from(i).ok()?, a.as_ref()?)))
    }

    /// The number of entries decided on.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|a| a.is_some()).count()
    }

    /// Whether no entry was decided on.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    fn set(&mut self, entry: impl EntryRef, action: Option<Action>) {
        let index = entry.entry_index();
        match self.slots.get_mut(index as usize) {
            Some(slot) => *slot = action,
            None => {
                self.out_of_range.get_or_insert(index);
            }
        }
    }

    /// The decisions, or an error if one named an entry that is not in the round.
    pub(crate) fn into_actions(self) -> Result<impl Iterator<Item = (u32, Action)>, String> {
        if let Some(index) = self.out_of_range {
            return Err(format!(
                "a decision names entry {index}, but the round has {} entries",
                self.slots.len()
            ));
        }
        Ok(self
            .slots
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| Some((u32::try_from(i).ok()?, a?))))
    }
}
