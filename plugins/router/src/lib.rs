//! Example plugin `router`: sends each event, unchanged, to `<prefix>.<value of a field>`, e.g.
//! `orders` → `orders.eu` for `region = eu`.
//!
//! Config:
//! - `field` (required): the field whose value picks the destination.
//! - `prefix`: the destination's prefix (default: the source stream's key).
//! - `missing`: where events without the field go; when unset they fail (and are
//!   dead-lettered with the reason, or skipped, per the route's `on_error`).

use sluice_plugin_sdk::{Config, Event, Outputs, Router, export_router};

/// The configured router.
struct FieldRouter {
    field: String,
    prefix: Option<String>,
    missing: Option<String>,
    destination: String,
}

impl Router for FieldRouter {
    fn init(config: &Config) -> Result<Self, String> {
        if let Some(key) = config.unknown_keys(&["field", "prefix", "missing"]).next() {
            return Err(format!("unknown config key `{key}`"));
        }
        Ok(Self {
            field: config.require("field")?.to_owned(),
            prefix: config.get("prefix").map(str::to_owned),
            missing: config.get("missing").map(str::to_owned),
            destination: String::new(),
        })
    }

    fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String> {
        let Some(value) = event.get(&self.field) else {
            return match &self.missing {
                Some(missing) => {
                    out.forward(missing);
                    Ok(())
                }
                None => Err(format!("no field `{}` to route on", self.field)),
            };
        };
        let value = value
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("field `{}` is empty or not UTF-8", self.field))?;
        // Reuse one buffer: no allocation per event once it has grown.
        self.destination.clear();
        self.destination
            .push_str(self.prefix.as_deref().unwrap_or(event.key()));
        self.destination.push('.');
        self.destination.push_str(value);
        out.forward(&self.destination);
        Ok(())
    }
}

export_router!(FieldRouter);
