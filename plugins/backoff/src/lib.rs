//! Example claim policy `backoff`: retries failing entries with exponential backoff — an entry
//! delivered `n` times may be handed to another consumer once it has been idle for
//! `base_ms × 2^(n−1)` milliseconds — and, optionally, dead-letters it after too many
//! deliveries.
//!
//! Config:
//! - `base_ms` (required, at least 1): the wait after the first delivery; it doubles with each
//!   further delivery.
//! - `max_deliveries` (optional, at least 1): an entry delivered this many times is
//!   dead-lettered, instead of being reassigned, once its wait is over.
//! - `dead_letter` (default `<stream>.dlq`; only with `max_deliveries`): the dead-letter stream.
//! - `alive_ms` (default 60000): a consumer is alive if it was seen within this many
//!   milliseconds; only alive consumers receive entries.
//!
//! A claimable entry goes to the alive consumer, other than its owner, with the fewest pending
//! entries (counting this round's reassignments); with none it is left where it is.

use sluice_plugin_sdk::{
    Balancer, ClaimPolicy, Config, Decisions, Evaluation, PendingEntry, export_claim_policy, log,
};

/// The configured policy.
#[derive(Debug)]
struct Backoff {
    base_ms: u64,
    /// `max_deliveries` and the dead-letter stream (`None`: `<stream>.dlq`).
    dead_letter_after: Option<(u64, Option<String>)>,
    alive_ms: u64,
}

impl Backoff {
    fn from_config(config: &Config) -> Result<Self, String> {
        if let Some(key) = config
            .unknown_keys(&["base_ms", "max_deliveries", "dead_letter", "alive_ms"])
            .next()
        {
            return Err(format!("unknown config key `{key}`"));
        }
        let base_ms: u64 = config
            .parse("base_ms")?
            .ok_or("missing config key `base_ms`")?;
        if base_ms == 0 {
            return Err("`base_ms` must be at least 1".into());
        }
        let dead_letter = config.get("dead_letter");
        let dead_letter_after = match (config.parse::<u64>("max_deliveries")?, dead_letter) {
            (Some(0), _) => return Err("`max_deliveries` must be at least 1".into()),
            (_, Some("")) => return Err("`dead_letter` must not be empty".into()),
            (Some(max), dl) => Some((max, dl.map(str::to_owned))),
            (None, Some(_)) => return Err("`dead_letter` needs `max_deliveries`".into()),
            (None, None) => None,
        };
        Ok(Self {
            base_ms,
            dead_letter_after,
            alive_ms: config.parse("alive_ms")?.unwrap_or(60_000),
        })
    }

    /// How long `entry` must have been idle before it is acted on.
    fn wait_ms(&self, entry: &PendingEntry) -> u64 {
        let doublings = u32::try_from(entry.deliveries().saturating_sub(1)).unwrap_or(u32::MAX);
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor)
    }

    fn decide(&self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        let dead_letter = match &self.dead_letter_after {
            Some((_, Some(key))) if key == eval.key() => {
                return Err(format!("`dead_letter` = {key:?} is the stream itself"));
            }
            Some((max, key)) => Some((
                *max,
                key.clone().unwrap_or_else(|| format!("{}.dlq", eval.key())),
            )),
            None => None,
        };
        let mut alive = Balancer::alive(eval, self.alive_ms);
        for entry in eval.pending().filter(|e| e.idle_ms() >= self.wait_ms(e)) {
            match &dead_letter {
                Some((max, key)) if entry.deliveries() >= *max => {
                    let reason = format!("delivered {} times", entry.deliveries());
                    out.dead_letter(entry, key, reason);
                }
                _ => {
                    if let Some(to) = alive.pick_for(entry) {
                        out.reassign(entry, to);
                    }
                }
            }
        }
        Ok(())
    }
}

impl ClaimPolicy for Backoff {
    fn init(config: &Config) -> Result<Self, String> {
        let policy = Self::from_config(config)?;
        log::info(&format!(
            "retrying after {} ms, doubling per delivery{}",
            policy.base_ms,
            match &policy.dead_letter_after {
                Some((max, _)) => format!("; dead-lettering after {max} deliveries"),
                None => String::new(),
            }
        ));
        Ok(policy)
    }

    fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        self.decide(eval, out)
    }
}

export_claim_policy!(Backoff);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{Action, EntryId};

    fn policy(pairs: &[(&str, &str)]) -> Result<Backoff, String> {
        Backoff::from_config(&Config::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    fn decided(p: &Backoff, eval: &Evaluation) -> Vec<(u32, Action)> {
        let mut out = Decisions::new(eval);
        p.decide(eval, &mut out).expect("decide");
        out.iter().map(|(i, a)| (i, a.clone())).collect()
    }

    fn id(ms: u64) -> EntryId {
        EntryId { ms, seq: 0 }
    }

    #[test]
    fn the_wait_doubles_with_each_delivery() {
        let p = policy(&[("base_ms", "100")]).expect("config");
        let eval = Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 100, 1) // waits 100: claimable
            .with_pending(id(2), "a", 399, 3) // waits 400: not yet
            .with_pending(id(3), "a", 400, 3) // claimable
            .with_pending(id(4), "a", u64::MAX - 1, 200) // the wait saturates
            .with_pending(id(5), "a", 99, 0) // never delivered counts as once
            .with_consumer("a", 0, Some(0), 5)
            .with_consumer("b", 0, Some(0), 0)
            .with_consumer("c", 0, Some(0), 1);
        assert_eq!(
            decided(&p, &eval),
            vec![
                (0, Action::Reassign("b".into())),
                (2, Action::Reassign("b".into())),
            ]
        );
    }

    #[test]
    fn dead_letters_past_max_deliveries_and_needs_someone_alive() {
        let p = policy(&[
            ("base_ms", "10"),
            ("max_deliveries", "3"),
            ("alive_ms", "50"),
        ])
        .expect("config");
        let eval = Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 40, 3)
            .with_pending(id(2), "a", 40, 2)
            .with_consumer("a", 0, Some(0), 2)
            .with_consumer("b", 51, Some(51), 0);
        assert_eq!(
            decided(&p, &eval),
            vec![(
                0,
                Action::DeadLetter {
                    key: "orders.dlq".into(),
                    reason: "delivered 3 times".into()
                }
            )]
        );
    }

    #[test]
    fn config_is_checked() {
        assert!(policy(&[]).is_err());
        assert!(policy(&[("base_ms", "0")]).is_err());
        assert_eq!(
            policy(&[("base_ms", "1"), ("dead_letter", "x")]).expect_err("needs max"),
            "`dead_letter` needs `max_deliveries`"
        );
        assert!(policy(&[("base_ms", "1"), ("max_deliveries", "0")]).is_err());
    }
}
