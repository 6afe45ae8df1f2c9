//! Example plugin `transform`: rewrites each event's fields and sends the result to one stream.
//!
//! Config (applied in this order):
//! - `rename.<old> = "<new>"`: renames a field.
//! - `drop = "a,b"`: removes fields.
//! - `redact = "a,b"`: replaces the values of fields with `redact_with` (default `"***"`).
//! - `set.<name> = "<value>"`: adds a field (or overwrites it).
//! - `destination`: the stream that receives the rewritten events (default `<source>.out`).

use sluice_plugin_sdk::{Config, Event, Outputs, Router, export_router};

/// The configured rewrite.
struct Transform {
    renames: Vec<(String, String)>,
    dropped: Vec<String>,
    redacted: Vec<String>,
    redact_with: String,
    set: Vec<(String, String)>,
    destination: Option<String>,
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Router for Transform {
    fn init(config: &Config) -> Result<Self, String> {
        let mut renames = Vec::new();
        let mut set = Vec::new();
        for (key, value) in config.iter() {
            if let Some(old) = key.strip_prefix("rename.") {
                renames.push((old.to_owned(), value.to_owned()));
            } else if let Some(name) = key.strip_prefix("set.") {
                set.push((name.to_owned(), value.to_owned()));
            } else if !["drop", "redact", "redact_with", "destination"].contains(&key) {
                return Err(format!("unknown config key `{key}`"));
            }
        }
        Ok(Self {
            renames,
            dropped: list(config.get("drop")),
            redacted: list(config.get("redact")),
            redact_with: config.get("redact_with").unwrap_or("***").to_owned(),
            set,
            destination: config.get("destination").map(str::to_owned),
        })
    }

    fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String> {
        let destination = match &self.destination {
            Some(d) => d.clone(),
            None => format!("{}.out", event.key()),
        };
        let mut fields = out.emit(&destination);
        for (name, value) in event.fields() {
            let name = name.as_bytes();
            let is = |n: &String| n.as_bytes() == name;
            if self.dropped.iter().any(is) || self.set.iter().any(|(n, _)| is(n)) {
                continue;
            }
            let new_name = self
                .renames
                .iter()
                .find(|(old, _)| is(old))
                .map_or(name, |(_, new)| new.as_bytes());
            if self.redacted.iter().any(is) {
                fields.field(new_name, &self.redact_with);
            } else {
                fields.field(new_name, value);
            }
        }
        for (name, value) in &self.set {
            fields.field(name, value);
        }
        Ok(())
    }
}

export_router!(Transform);
