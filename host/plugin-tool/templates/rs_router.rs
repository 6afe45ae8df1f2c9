//! {{name}}: a Sluice router. Forwards every event, unchanged, to `destination` (default
//! `<source>.out`); drops events whose `drop` field is `yes`. Works with no config.
//!
//! Edit `route`; `cargo test` runs the tests below; `sluice plugin build` builds the component.

use sluice_plugin_sdk::{Config, Event, Outputs, Router, export_router};

/// The configured router.
struct Plugin {
    destination: Option<String>,
}

impl Router for Plugin {
    fn init(config: &Config) -> Result<Self, String> {
        if let Some(key) = config.unknown_keys(&["destination"]).next() {
            return Err(format!("unknown config key `{key}`"));
        }
        Ok(Self {
            destination: config.get("destination").map(str::to_owned),
        })
    }

    fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String> {
        if event.str("drop") == Some("yes") {
            return Ok(());
        }
        match &self.destination {
            Some(destination) => out.forward(destination),
            None => out.forward(&format!("{}.out", event.key())),
        }
        Ok(())
    }
}

export_router!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::{EntryId, pack_fields};

    fn route(plugin: &mut Plugin, fields: &[(&str, &str)]) -> Vec<String> {
        let packed = pack_fields(fields.iter().copied());
        let event = Event::new("orders", EntryId { ms: 1, seq: 0 }, &packed);
        let mut out = Outputs::new();
        plugin.route(&event, &mut out).expect("route");
        out.current().into_iter().map(|(d, _)| d.to_owned()).collect()
    }

    #[test]
    fn forwards_to_source_out_without_config_and_drops_what_is_marked() {
        let mut plugin = Plugin::init(&Config::new(Vec::new())).expect("init");
        assert_eq!(route(&mut plugin, &[("id", "1")]), vec!["orders.out"]);
        assert!(route(&mut plugin, &[("drop", "yes")]).is_empty());
    }
}
