//! Example claim policy `reassign-idle`: hands entries that have been pending too long to the
//! least-loaded consumer that is still alive — what a client's `XAUTOCLAIM` loop does, but
//! decided once, in the broker, for the whole group.
//!
//! Config:
//! - `idle_ms` (required): entries idle for at least this many milliseconds are reassigned.
//! - `alive_ms` (default 60000): a consumer is alive if it was seen (tried to read) within this
//!   many milliseconds; only alive consumers receive entries.
//!
//! An entry goes to the alive consumer, other than its owner, with the fewest pending entries
//! (counting the ones given out this round); with no such consumer it is left where it is.

use sluice_plugin_sdk::{
    Balancer, ClaimPolicy, Config, Decisions, Evaluation, export_claim_policy, log,
};

/// The configured policy.
#[derive(Debug)]
struct ReassignIdle {
    idle_ms: u64,
    alive_ms: u64,
}

impl ReassignIdle {
    fn from_config(config: &Config) -> Result<Self, String> {
        if let Some(key) = config.unknown_keys(&["idle_ms", "alive_ms"]).next() {
            return Err(format!("unknown config key `{key}`"));
        }
        let idle_ms = config
            .parse("idle_ms")?
            .ok_or("missing config key `idle_ms`")?;
        let alive_ms = config.parse("alive_ms")?.unwrap_or(60_000);
        Ok(Self { idle_ms, alive_ms })
    }

    fn decide(&self, eval: &Evaluation, out: &mut Decisions) {
        let mut alive = Balancer::alive(eval, self.alive_ms);
        for entry in eval.pending().filter(|e| e.idle_ms() >= self.idle_ms) {
            if let Some(to) = alive.pick_for(entry) {
                out.reassign(entry, to);
            }
        }
    }
}

impl ClaimPolicy for ReassignIdle {
    fn init(config: &Config) -> Result<Self, String> {
        let policy = Self::from_config(config)?;
        log::info(&format!(
            "reassigning entries idle for {} ms or more to consumers seen within {} ms",
            policy.idle_ms, policy.alive_ms
        ));
        Ok(policy)
    }

    fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        self.decide(eval, out);
        Ok(())
    }
}

export_claim_policy!(ReassignIdle);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{Action, EntryId};

    fn policy(pairs: &[(&str, &str)]) -> Result<ReassignIdle, String> {
        ReassignIdle::from_config(&Config::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    fn id(ms: u64) -> EntryId {
        EntryId { ms, seq: 0 }
    }

    #[test]
    fn reassigns_idle_entries_to_the_least_loaded_alive_consumer() {
        let p = policy(&[("idle_ms", "5000"), ("alive_ms", "10000")]).expect("config");
        let eval = Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 6000, 1)
            .with_pending(id(2), "a", 4999, 1)
            .with_pending(id(3), "b", 5000, 2)
            .with_consumer("a", 30_000, Some(30_000), 2)
            .with_consumer("b", 100, Some(100), 3)
            .with_consumer("c", 200, None, 1)
            .with_consumer("gone", 20_000, Some(20_000), 0);
        let mut out = Decisions::new(&eval);
        p.decide(&eval, &mut out);
        let got: Vec<_> = out.iter().map(|(i, a)| (i, a.clone())).collect();
        assert_eq!(
            got,
            vec![
                // c has 1 pending, b 3; "gone" is not alive.
                (0, Action::Reassign("c".into())),
                // Entry 1 is not idle long enough. Entry 2 is b's: c (now 2) is the only other.
                (2, Action::Reassign("c".into())),
            ]
        );
    }

    #[test]
    fn leaves_entries_when_no_other_consumer_is_alive() {
        let p = policy(&[("idle_ms", "0")]).expect("config");
        let eval = Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 6000, 1)
            .with_consumer("a", 0, Some(0), 1)
            .with_consumer("b", 61_000, None, 0);
        let mut out = Decisions::new(&eval);
        p.decide(&eval, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn config_is_checked() {
        assert_eq!(
            policy(&[]).expect_err("required"),
            "missing config key `idle_ms`"
        );
        assert!(policy(&[("idle_ms", "soon")]).is_err());
        assert_eq!(
            policy(&[("idle_ms", "1"), ("idle", "2")]).expect_err("typo"),
            "unknown config key `idle`"
        );
    }
}
