//! Running a claim policy: evaluation rounds in, one JSON line per decision out.
//!
//! Input: one or more JSON objects (one per line, or one pretty-printed document), each one
//! round: `{"key": "orders", "group": "g", "pending": [{"id": "1-0", "owner": "a", "idle_ms":
//! 5000, "deliveries": 1}], "consumers": [{"name": "a", "seen_idle_ms": 5000,
//! "active_idle_ms": 5000, "pending": 1}]}`. `deliveries` defaults to 1, `active_idle_ms` to
//! none (never active), a consumer's `pending` to the number of entries it owns in the round.
//!
//! Output, per decision: `{"entry":"1-0","key":"orders","group":"g","action":"reassign",
//! "consumer":"b"}`, `..."action":"dead-letter","dead_letter":"orders.dlq","reason":"..."`, or
//! `..."action":"ack"`; per failed round: `{"key":..,"group":..,"error":"...","kind":"trap"}`.

use std::io::{Read, Write};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_plugin_host::{
    ConsumerInfo, Nack, PendingInfo, PolicyAction, PolicyDecision, PolicyInstance,
};

use crate::run::{error_kind, parse_id};

/// One evaluation round, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Round {
    key: String,
    group: String,
    #[serde(default)]
    pending: Vec<InputEntry>,
    #[serde(default)]
    consumers: Vec<InputConsumer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputEntry {
    id: String,
    owner: String,
    idle_ms: u64,
    #[serde(default = "one")]
    deliveries: u64,
    /// `"retry"` or `"fatal"` for an entry handed back with `XNACK`; absent otherwise.
    #[serde(default)]
    nack: Option<InputNack>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum InputNack {
    Retry,
    Fatal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputConsumer {
    name: String,
    #[serde(default)]
    seen_idle_ms: u64,
    active_idle_ms: Option<u64>,
    pending: Option<u64>,
}

fn one() -> u64 {
    1
}

/// Reads every round from `input`, runs `policy` on each and prints the decisions to `out`.
pub fn run(policy: &mut PolicyInstance, input: impl Read, out: &mut impl Write) -> Result<()> {
    let rounds = serde_json::Deserializer::from_reader(input).into_iter::<Round>();
    for (n, round) in rounds.enumerate() {
        let round = round.with_context(|| format!("round {}", n + 1))?;
        let (pending, consumers) =
            round_info(&round).with_context(|| format!("round {}", n + 1))?;
        match policy.evaluate(&round.key, &round.group, &pending, &consumers) {
            Ok(decisions) => {
                for d in &decisions {
                    writeln!(out, "{}", decision_line(&round, &pending, d))?;
                }
            }
            Err(e) => {
                let Some(kind) = error_kind(&e, "round-error") else {
                    return Err(e.into());
                };
                let line = json!({"key": round.key, "group": round.group,
                                  "error": e.to_string(), "kind": kind});
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

/// The host's view of a round.
fn round_info(round: &Round) -> Result<(Vec<PendingInfo>, Vec<ConsumerInfo>)> {
    let pending = round
        .pending
        .iter()
        .map(|e| {
            Ok(PendingInfo {
                id: parse_id(&e.id)?,
                owner: e.owner.clone(),
                idle_ms: e.idle_ms,
                deliveries: e.deliveries,
                nack: e.nack.map(|n| match n {
                    InputNack::Retry => Nack::Retry,
                    InputNack::Fatal => Nack::Fatal,
                }),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let consumers = round
        .consumers
        .iter()
        .map(|c| ConsumerInfo {
            name: c.name.clone(),
            seen_idle_ms: c.seen_idle_ms,
            active_idle_ms: c.active_idle_ms,
            pending: c
                .pending
                .unwrap_or_else(|| pending.iter().filter(|e| e.owner == c.name).count() as u64),
        })
        .collect();
    Ok((pending, consumers))
}

/// One decision as a JSON line.
fn decision_line(round: &Round, pending: &[PendingInfo], d: &PolicyDecision) -> Value {
    // The host checked `entry` against `pending`; `get` keeps this panic-free anyway.
    let entry = pending
        .get(d.entry)
        .map_or_else(|| d.entry.to_string(), |e| e.id.to_string());
    let mut line = json!({"entry": entry, "key": round.key, "group": round.group});
    let fields: &[(&str, Value)] = match &d.action {
        PolicyAction::Reassign(to) => &[
            ("action", "reassign".into()),
            ("consumer", to.as_str().into()),
        ],
        PolicyAction::DeadLetter { key, reason } => &[
            ("action", "dead-letter".into()),
            ("dead_letter", key.as_str().into()),
            ("reason", reason.as_str().into()),
        ],
        PolicyAction::Ack => &[("action", "ack".into())],
    };
    if let Value::Object(map) = &mut line {
        for (k, v) in fields {
            map.insert((*k).to_owned(), v.clone());
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> Round {
        serde_json::from_str(text).expect("round")
    }

    #[test]
    fn defaults_fill_in_and_consumer_load_is_counted() {
        let r = round(
            r#"{"key":"orders","group":"g",
                "pending":[{"id":"1-0","owner":"a","idle_ms":5},{"id":"2","owner":"a","idle_ms":5,"deliveries":3}],
                "consumers":[{"name":"a"},{"name":"b","seen_idle_ms":7,"active_idle_ms":9,"pending":4}]}"#,
        );
        let (pending, consumers) = round_info(&r).expect("valid");
        assert_eq!(pending[0].deliveries, 1);
        assert_eq!(pending[1].id.to_string(), "2-0");
        assert_eq!(pending[1].deliveries, 3);
        assert_eq!(
            (consumers[0].pending, consumers[0].active_idle_ms),
            (2, None)
        );
        assert_eq!(
            (
                consumers[1].seen_idle_ms,
                consumers[1].active_idle_ms,
                consumers[1].pending
            ),
            (7, Some(9), 4)
        );
    }

    #[test]
    fn typos_are_refused() {
        let err = serde_json::from_str::<Round>(r#"{"key":"k","group":"g","pendng":[]}"#)
            .err()
            .expect("unknown field");
        assert!(err.to_string().contains("pendng"), "{err}");
    }

    #[test]
    fn decisions_print_as_documented() {
        let r = round(
            r#"{"key":"orders","group":"g","pending":[{"id":"1-0","owner":"a","idle_ms":5}]}"#,
        );
        let (pending, _) = round_info(&r).expect("valid");
        let line =
            |action| decision_line(&r, &pending, &PolicyDecision { entry: 0, action }).to_string();
        assert_eq!(
            line(PolicyAction::Reassign("b".into())),
            r#"{"entry":"1-0","key":"orders","group":"g","action":"reassign","consumer":"b"}"#
        );
        assert_eq!(
            line(PolicyAction::DeadLetter {
                key: "orders.dlq".into(),
                reason: "delivered 5 times".into()
            }),
            r#"{"entry":"1-0","key":"orders","group":"g","action":"dead-letter","dead_letter":"orders.dlq","reason":"delivered 5 times"}"#
        );
        assert_eq!(
            line(PolicyAction::Ack),
            r#"{"entry":"1-0","key":"orders","group":"g","action":"ack"}"#
        );
    }
}
