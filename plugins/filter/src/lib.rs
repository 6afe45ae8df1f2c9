//! Example plugin `filter`: keeps the events whose field matches a condition and forwards them,
//! unchanged, to one stream; drops the rest.
//!
//! Config:
//! - `field` (required): the field to test, e.g. `region`.
//! - `equals = X`: shorthand for `op = "eq"`, `value = X`.
//! - `op`: `eq`, `ne` (text), `gt`, `ge`, `lt`, `le` (numbers), `exists`, `prefix`, `contains`.
//! - `value`: what to compare with (not needed for `exists`).
//! - `destination` (required): the stream that receives the kept events.
//!
//! An event without the field, or whose field is not a number for a numeric `op`, is dropped.

use std::cmp::Ordering;

use sluice_plugin_sdk::{Config, Event, Outputs, Router, Value, export_router};

/// The comparison a filter applies.
enum Op {
    Eq,
    Ne,
    Num(fn(Ordering) -> bool),
    Exists,
    Prefix,
    Contains,
}

/// The configured filter.
struct Filter {
    field: String,
    op: Op,
    value: String,
    number: f64,
    destination: String,
}

impl Router for Filter {
    fn init(config: &Config) -> Result<Self, String> {
        if let Some(key) = config
            .unknown_keys(&["field", "equals", "op", "value", "destination"])
            .next()
        {
            return Err(format!("unknown config key `{key}`"));
        }
        let field = config.require("field")?.to_owned();
        let destination = config.require("destination")?.to_owned();
        let (op, value) = match (config.get("equals"), config.get("op")) {
            (Some(v), None) => (Op::Eq, v),
            (Some(_), Some(_)) => return Err("give `equals` or `op`, not both".into()),
            (None, op) => {
                let op = match op.unwrap_or("eq") {
                    "eq" => Op::Eq,
                    "ne" => Op::Ne,
                    "gt" => Op::Num(Ordering::is_gt),
                    "ge" => Op::Num(Ordering::is_ge),
                    "lt" => Op::Num(Ordering::is_lt),
                    "le" => Op::Num(Ordering::is_le),
                    "exists" => Op::Exists,
                    "prefix" => Op::Prefix,
                    "contains" => Op::Contains,
                    other => return Err(format!("unknown op `{other}`")),
                };
                let value = match op {
                    Op::Exists => config.get("value").unwrap_or(""),
                    _ => config.require("value")?,
                };
                (op, value)
            }
        };
        let number = match op {
            Op::Num(_) => value
                .parse()
                .map_err(|_| format!("op needs a number, got value = {value:?}"))?,
            _ => 0.0,
        };
        Ok(Self {
            field,
            op,
            value: value.to_owned(),
            number,
            destination,
        })
    }

    fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String> {
        if event.get(&self.field).is_some_and(|v| self.keeps(v)) {
            out.forward(&self.destination);
        }
        Ok(())
    }
}

impl Filter {
    fn keeps(&self, v: Value<'_>) -> bool {
        let want = self.value.as_bytes();
        let got = v.as_bytes();
        match self.op {
            Op::Eq => got == want,
            Op::Ne => got != want,
            Op::Num(accept) => v
                .as_f64()
                .and_then(|n| n.partial_cmp(&self.number))
                .is_some_and(accept),
            Op::Exists => true,
            Op::Prefix => got.starts_with(want),
            Op::Contains => want.is_empty() || got.windows(want.len()).any(|w| w == want),
        }
    }
}

export_router!(Filter);
