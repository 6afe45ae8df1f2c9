//! What the `[[route]]` and `[[claim_policy]]` tables share: the plugin file they name and the
//! `config = { … }` their plugin's `init` receives.

/// A plugin's `config = { … }` as `init` receives it: in the order written, numbers and
/// booleans as their text.
pub fn config_pairs(config: &toml::Table) -> Vec<(String, String)> {
    config
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// Refuses a `plugin` that is not a plain file name in the plugins folder.
pub fn check_plugin_file(what: &str, plugin: &str) -> Result<(), String> {
    let file = std::path::Path::new(plugin);
    if plugin.is_empty()
        || file.components().count() != 1
        || file.file_name().is_none()
        || plugin.contains('/')
        || plugin.contains('\\')
    {
        return Err(format!(
            "{what}: plugin must be a file name in the plugins folder, got {plugin:?}"
        ));
    }
    Ok(())
}

/// Refuses config values a plugin cannot receive (arrays, tables, dates).
pub fn check_config_values(what: &str, config: &toml::Table) -> Result<(), String> {
    if let Some((key, _)) = config.iter().find(|(_, v)| {
        matches!(
            v,
            toml::Value::Array(_) | toml::Value::Table(_) | toml::Value::Datetime(_)
        )
    }) {
        return Err(format!(
            "{what}: config value {key:?} must be a string, number or boolean"
        ));
    }
    Ok(())
}
