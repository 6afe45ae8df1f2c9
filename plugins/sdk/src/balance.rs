//! [`Balancer`]: picks the consumer to reassign each entry to — the least loaded of the
//! eligible ones — counting the reassignments already made this round, so that a round that
//! moves many entries spreads them.

use crate::evaluation::{Consumer, Evaluation, PendingEntry};

/// The eligible consumers of one round and their load (pending entries, plus those given to
/// them this round, minus those taken from them).
#[derive(Debug, Clone)]
pub struct Balancer<'a> {
    loads: Vec<(&'a Consumer, u64)>,
}

impl<'a> Balancer<'a> {
    /// Considers the consumers of `eval` for which `eligible` holds.
    pub fn new(eval: &'a Evaluation, eligible: impl Fn(&Consumer) -> bool) -> Self {
        Self {
            loads: eval
                .consumers()
                .filter(|c| eligible(c))
                .map(|c| (c, c.pending()))
                .collect(),
        }
    }

    /// Considers the consumers of `eval` seen within the last `alive_ms` milliseconds.
    pub fn alive(eval: &'a Evaluation, alive_ms: u64) -> Self {
        Self::new(eval, |c| c.seen_idle_ms() <= alive_ms)
    }

    /// The consumer to give `entry` to: the least loaded eligible one other than its owner
    /// (ties go to the one seen most recently, then to the first listed), or `None` if there is
    /// none. Counts the move: the chosen consumer's load goes up by one, the owner's down.
    pub fn pick_for(&mut self, entry: &PendingEntry) -> Option<&'a str> {
        let owner = entry.owner();
        let chosen = self
            .loads
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.name() != owner)
            .min_by_key(|(i, (c, load))| (*load, c.seen_idle_ms(), *i))
            .map(|(i, _)| i)?;
        let (consumer, load) = self.loads.get_mut(chosen)?;
        *load += 1;
        let name = consumer.name();
        if let Some((_, load)) = self.loads.iter_mut().find(|(c, _)| c.name() == owner) {
            *load = load.saturating_sub(1);
        }
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryId;

    fn id(ms: u64) -> EntryId {
        EntryId { ms, seq: 0 }
    }

    #[test]
    fn spreads_entries_over_the_least_loaded_alive_consumers() {
        let eval = Evaluation::new("s", "g")
            .with_pending(id(1), "a", 9000, 1)
            .with_pending(id(2), "a", 9000, 1)
            .with_pending(id(3), "a", 9000, 1)
            .with_consumer("a", 50_000, Some(50_000), 3)
            .with_consumer("b", 10, Some(10), 1)
            .with_consumer("c", 20, Some(20), 0)
            .with_consumer("dead", 90_000, None, 0);
        let mut balancer = Balancer::alive(&eval, 60_000);
        let picks: Vec<_> = eval.pending().map(|e| balancer.pick_for(e)).collect();
        // c (0), then b and c tie at 1 (b was seen more recently), then c.
        assert_eq!(picks, vec![Some("c"), Some("b"), Some("c")]);
    }

    #[test]
    fn never_picks_the_owner_and_may_find_no_one() {
        let eval = Evaluation::new("s", "g")
            .with_pending(id(1), "a", 9000, 1)
            .with_consumer("a", 0, None, 1)
            .with_consumer("b", 90_000, None, 0);
        let mut balancer = Balancer::alive(&eval, 1000);
        assert_eq!(balancer.pick_for(eval.entry(0).expect("entry")), None);
    }
}
