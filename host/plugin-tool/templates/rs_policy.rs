//! {{name}}: a Sluice claim policy. Dead-letters entries delivered `max_deliveries` times
//! (default 5) to `dead_letter` (default `<stream>.dlq`), and those a consumer NACKed FATAL.
//!
//! Edit `evaluate`; `cargo test` runs the tests below; `sluice plugin build` builds it.

use sluice_plugin_sdk::{ClaimPolicy, Config, Decisions, Evaluation, Nack, export_claim_policy};

/// The configured policy.
struct Plugin {
    max_deliveries: u64,
    dead_letter: Option<String>,
}

impl ClaimPolicy for Plugin {
    fn init(config: &Config) -> Result<Self, String> {
        if let Some(key) = config.unknown_keys(&["max_deliveries", "dead_letter"]).next() {
            return Err(format!("unknown config key `{key}`"));
        }
        let max_deliveries = config.parse("max_deliveries")?.unwrap_or(5);
        if max_deliveries == 0 {
            return Err("`max_deliveries` must be at least 1".into());
        }
        Ok(Self {
            max_deliveries,
            dead_letter: config.get("dead_letter").map(str::to_owned),
        })
    }

    fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
        let dead_letter = match &self.dead_letter {
            Some(key) => key.clone(),
            None => format!("{}.dlq", eval.key()),
        };
        for entry in eval.pending() {
            if entry.nack() == Some(Nack::Fatal) {
                out.dead_letter(entry, &dead_letter, "NACKed FATAL");
            } else if entry.deliveries() >= self.max_deliveries {
                let reason = format!("delivered {} times", entry.deliveries());
                out.dead_letter(entry, &dead_letter, reason);
            }
        }
        Ok(())
    }
}

export_claim_policy!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{Action, EntryId};

    #[test]
    fn dead_letters_entries_delivered_too_often() {
        let eval = Evaluation::new("jobs", "g")
            .with_pending(EntryId { ms: 1, seq: 0 }, "a", 10, 5)
            .with_pending(EntryId { ms: 2, seq: 0 }, "a", 10, 1);
        let mut out = Decisions::new(&eval);
        let mut plugin = Plugin::init(&Config::new(Vec::new())).expect("init");
        plugin.evaluate(&eval, &mut out).expect("evaluate");
        let decided: Vec<_> = out.iter().map(|(i, a)| (i, a.clone())).collect();
        let reason = "delivered 5 times".to_owned();
        assert_eq!(
            decided,
            vec![(0, Action::DeadLetter { key: "jobs.dlq".into(), reason })]
        );
    }
}
