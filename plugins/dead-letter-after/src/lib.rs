//! Example claim policy `dead-letter-after`: moves entries that keep failing — delivered too
//! many times and still not acknowledged — to a dead-letter stream, so that one poison entry
//! does not circulate forever.
//!
//! An entry a consumer gave back with `XNACK ... FATAL` (it says it can never be processed) is
//! dead-lettered at the next round whatever `max_deliveries` and `idle_ms` say, with the reason
//! `NACKed FATAL`. Entries NACKed `SILENT` or `FAIL` are retried like any other.
//!
//! Config:
//! - `max_deliveries` (required, at least 1): entries delivered this many times or more are
//!   dead-lettered.
//! - `dead_letter` (default `<stream>.dlq`): the dead-letter stream.
//! - `idle_ms` (default 0): only once they have been idle this many milliseconds, so that the
//!   last delivery gets time to succeed.
//!
//! The reason stored with the dead-lettered entry is `delivered <n> times`.

use sluice_plugin_sdk::{
    ClaimPolicy, Config, Decisions, Evaluation, Nack, export_claim_policy, log,
};

/// The configured policy.
#[derive(Debug)]
struct DeadLetterAfter {
    max_deliveries: u64,
    dead_letter: Option<String>,
    idle_ms: u64,
}

impl DeadLetterAfter {
    fn from_config(config: &Config) -> Result<Self, String> {
        if let Some(key) = config
            .unknown_keys(&["max_deliveries", "dead_letter", "idle_ms"])
            .next()
        {
            return Err(format!("unknown config key `{key}`"));
        }
        let max_deliveries = config
            .parse("max_deliveries")?
            .ok_or("missing config key `max_deliveries`")?;
        if max_deliveries == 0 {
            return Err("`max_deliveries` must be at least 1".into());
        }
        let dead_letter = match config.get("dead_letter") {
            Some("") => return Err("`dead_letter` must not be empty".into()),
            other => other.map(str::to_owned),
        };
        Ok(Self {
            max_deliveries,
            dead_letter,
            idle_ms: config.parse("idle_ms")?.unwrap_or(0),
        })
    }

    fn decide(&self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        let dead_letter = match &self.dead_letter {
            Some(key) if key == eval.key() => {
                return Err(format!("`dead_letter` = {key:?} is the stream itself"));
            }
            Some(key) => key.clone(),
            None => format!("{}.dlq", eval.key()),
        };
        for entry in eval.pending() {
            if entry.nack() == Some(Nack::Fatal) {
                out.dead_letter(entry, &dead_letter, "NACKed FATAL");
            } else if entry.deliveries() >= self.max_deliveries && entry.idle_ms() >= self.idle_ms
            {
                let reason = format!("delivered {} times", entry.deliveries());
                out.dead_letter(entry, &dead_letter, reason);
            }
        }
        Ok(())
    }
}

impl ClaimPolicy for DeadLetterAfter {
    fn init(config: &Config) -> Result<Self, String> {
        let policy = Self::from_config(config)?;
        log::info(&format!(
            "dead-lettering entries delivered {} times or more to {}",
            policy.max_deliveries,
            policy.dead_letter.as_deref().unwrap_or("<stream>.dlq")
        ));
        Ok(policy)
    }

    fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        self.decide(eval, out)
    }
}

export_claim_policy!(DeadLetterAfter);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{Action, EntryId};

    fn policy(pairs: &[(&str, &str)]) -> Result<DeadLetterAfter, String> {
        DeadLetterAfter::from_config(&Config::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    fn eval() -> Evaluation {
        let id = |ms| EntryId { ms, seq: 0 };
        Evaluation::new("orders", "g")
            .with_pending(id(1), "a", 100, 4)
            .with_pending(id(2), "a", 100, 5)
            .with_pending(id(3), "b", 9000, 6)
            .with_nacked(id(4), 0, i64::MAX as u64, Nack::Fatal)
            .with_nacked(id(5), 9000, 9, Nack::Retry)
            .with_consumer("a", 0, Some(0), 2)
            .with_consumer("b", 0, Some(0), 1)
    }

    fn decided(p: &DeadLetterAfter) -> Vec<(u32, Action)> {
        let eval = eval();
        let mut out = Decisions::new(&eval);
        p.decide(&eval, &mut out).expect("decide");
        out.iter().map(|(i, a)| (i, a.clone())).collect()
    }

    fn dlq(key: &str, n: u64) -> Action {
        Action::DeadLetter {
            key: key.into(),
            reason: format!("delivered {n} times"),
        }
    }

    fn fatal(key: &str) -> Action {
        Action::DeadLetter {
            key: key.into(),
            reason: "NACKed FATAL".into(),
        }
    }

    #[test]
    fn dead_letters_entries_delivered_too_often() {
        let p = policy(&[("max_deliveries", "5")]).expect("config");
        assert_eq!(
            decided(&p),
            vec![
                (1, dlq("orders.dlq", 5)),
                (2, dlq("orders.dlq", 6)),
                (3, fatal("orders.dlq")),
                (4, dlq("orders.dlq", 9)),
            ]
        );
    }

    #[test]
    fn named_stream_and_idle_threshold() {
        let p = policy(&[
            ("max_deliveries", "5"),
            ("dead_letter", "poison"),
            ("idle_ms", "1000"),
        ])
        .expect("config");
        // A FATAL NACK does not wait for `idle_ms`.
        assert_eq!(
            decided(&p),
            vec![(2, dlq("poison", 6)), (3, fatal("poison")), (4, dlq("poison", 9))]
        );
    }

    #[test]
    fn fatal_nacks_go_whatever_the_delivery_count() {
        let p = policy(&[("max_deliveries", "1000")]).expect("config");
        assert_eq!(decided(&p), vec![(3, fatal("orders.dlq"))]);
    }

    #[test]
    fn config_is_checked() {
        assert!(policy(&[]).is_err());
        assert!(policy(&[("max_deliveries", "0")]).is_err());
        assert!(policy(&[("max_deliveries", "2"), ("dead_letter", "")]).is_err());
        let p = policy(&[("max_deliveries", "2"), ("dead_letter", "orders")]).expect("config");
        let eval = eval();
        let err = p
            .decide(&eval, &mut Decisions::new(&eval))
            .expect_err("loop");
        assert!(err.contains("the stream itself"), "{err}");
    }
}
