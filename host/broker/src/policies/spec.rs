//! [`PolicySpec`]: one `[[claim_policy]]` table of the config file.
//!
//! ```toml
//! [[claim_policy]]
//! stream = "orders"
//! group = "billing"
//! plugin = "reassign_idle.wasm"      # a file in the plugins folder
//! config = { idle_ms = "30000" }
//! interval_ms = 1000                 # how often the group is evaluated (default 1000)
//! ```

use serde::Deserialize;

/// One claim policy as configured.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Name in `SLUICE POLICIES` and the log; default `<stream>/<group>`.
    #[serde(default)]
    pub name: Option<String>,
    /// The stream key (database 0).
    pub stream: String,
    /// The consumer group whose pending entries the policy decides on.
    pub group: String,
    /// The `.wasm` file, in the plugins folder.
    pub plugin: String,
    /// Key/values handed to the plugin's `init`, in the order written.
    #[serde(default)]
    pub config: toml::Table,
    /// Milliseconds between evaluations.
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// The plugin's memory limit, bytes (default: `plugin-max-memory`).
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// The plugin's time limit per call, ms (default: `plugin-call-timeout-ms`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

fn default_interval() -> u64 {
    1000
}

/// Most claim policies one server runs.
pub const MAX_POLICIES: usize = 256;

impl PolicySpec {
    /// The policy's name.
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.stream, self.group))
    }

    /// The config as the plugin's `init` receives it.
    pub fn plugin_config(&self) -> Vec<(String, String)> {
        crate::plugins::spec::config_pairs(&self.config)
    }

    /// Checks one policy on its own.
    pub fn validate(&self) -> Result<(), String> {
        let name = self.name();
        if self.stream.is_empty() || self.group.is_empty() {
            return Err(format!(
                "claim policy {name}: stream and group must not be empty"
            ));
        }
        let what = format!("claim policy {name}");
        crate::plugins::spec::check_plugin_file(&what, &self.plugin)?;
        crate::plugins::spec::check_config_values(&what, &self.config)?;
        if self.interval_ms == 0 {
            return Err(format!(
                "claim policy {name}: interval_ms must be at least 1"
            ));
        }
        if self.timeout_ms == Some(0) {
            return Err(format!(
                "claim policy {name}: timeout_ms must be at least 1"
            ));
        }
        Ok(())
    }
}

/// Checks a whole list: each policy, unique names, at most [`MAX_POLICIES`].
pub fn validate_all(policies: &[PolicySpec]) -> Result<(), String> {
    if policies.len() > MAX_POLICIES {
        return Err(format!(
            "at most {MAX_POLICIES} claim policies, got {}",
            policies.len()
        ));
    }
    let mut names = std::collections::HashSet::new();
    for policy in policies {
        policy.validate()?;
        if !names.insert(policy.name()) {
            return Err(format!(
                "two claim policies are named {:?} (set `name` to tell them apart)",
                policy.name()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() -> Result<(), String> {
        let spec: PolicySpec =
            toml::from_str("stream = \"o\"\ngroup = \"g\"\nplugin = \"p.wasm\"\n")
                .map_err(|e| e.to_string())?;
        assert_eq!((spec.name(), spec.interval_ms), ("o/g".to_owned(), 1000));
        spec.validate()?;
        let err = validate_all(&[spec.clone(), spec]).expect_err("duplicate");
        assert!(err.contains("two claim policies"), "{err}");
        let bad: PolicySpec =
            toml::from_str("stream = \"o\"\ngroup = \"g\"\nplugin = \"p\"\ninterval_ms = 0\n")
                .map_err(|e| e.to_string())?;
        assert!(bad.validate().is_err());
        Ok(())
    }
}
