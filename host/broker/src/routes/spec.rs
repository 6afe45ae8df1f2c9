//! [`RouteSpec`]: one `[[route]]` table of the config file, and the checks it must pass.
//!
//! ```toml
//! [[route]]
//! name = "eu-orders"
//! source = "orders"              # a key, a glob such as "orders.*", or a list of them
//! plugin = "filter.wasm"         # a file in the plugins folder
//! config = { field = "region", equals = "eu", destination = "orders.eu" }
//! on_error = "dead-letter"       # or "skip", or "halt"
//! dead_letter = "orders.dlq"     # default: <source stream>.dlq
//! start = "$"                    # "$": new events only; "0": the whole stream
//! ```

use serde::Deserialize;

use crate::glob;
use crate::plugins::spec::{check_config_values, check_plugin_file, config_pairs};

/// What a route does with an event its plugin failed (an error, a trap, a timeout, an output
/// that would loop back into the route).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Append it to the dead-letter stream with the reason and its source, and go on.
    #[default]
    DeadLetter,
    /// Drop it and go on.
    Skip,
    /// Stop the route just before it, until the route is reloaded.
    Halt,
}

impl OnError {
    /// The config file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::DeadLetter => "dead-letter",
            OnError::Skip => "skip",
            OnError::Halt => "halt",
        }
    }
}

/// Where a route starts in a source stream it has never read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Start {
    /// After the entries present when the route is first set up (new events only).
    #[default]
    #[serde(rename = "$")]
    New,
    /// From the first entry.
    #[serde(rename = "0")]
    Beginning,
}

impl Start {
    /// The config file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Start::New => "$",
            Start::Beginning => "0",
        }
    }
}

/// One route as configured.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Unique name; the route's position in each source is the consumer group
    /// `sluice:route:<name>`.
    pub name: String,
    /// The source stream key, or a glob (`orders.*`), or a list of them, in database 0.
    pub source: Source,
    /// The `.wasm` file, in the plugins folder.
    pub plugin: String,
    /// Key/values handed to the plugin's `init`, in the order written. Numbers and booleans
    /// are passed as their text.
    #[serde(default)]
    pub config: toml::Table,
    /// What to do with a failed event.
    #[serde(default)]
    pub on_error: OnError,
    /// The dead-letter stream; default `<source stream>.dlq`.
    #[serde(default)]
    pub dead_letter: Option<String>,
    /// Where to start in a stream the route has not read yet.
    #[serde(default)]
    pub start: Start,
    /// The plugin's memory limit, bytes (default: `plugin-max-memory`).
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// The plugin's time limit per call, ms (default: `plugin-call-timeout-ms`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// With `--attach`: how long an entry another instance holds may stay unacknowledged
    /// before this one claims it (that instance is taken as dead), ms.
    #[serde(default)]
    pub claim_idle_ms: Option<u64>,
    /// With `--attach`: replicas each commit waits for (`WAIT`), 0 for none.
    #[serde(default)]
    pub wait_replicas: Option<u32>,
}

/// How long an attached route leaves another instance's entry before claiming it, ms.
pub const DEFAULT_CLAIM_IDLE_MS: u64 = 30_000;

/// A route's source streams: one key or glob (`source = "orders.*"`), or a list of them
/// (`source = ["orders:{0}", "orders:{1}"]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// One key or glob.
    One(String),
    /// Several keys or globs.
    List(Vec<String>),
}

impl Source {
    /// Each key or glob.
    pub fn patterns(&self) -> &[String] {
        match self {
            Source::One(one) => std::slice::from_ref(one),
            Source::List(list) => list,
        }
    }

    /// Whether `key` matches one of the patterns.
    pub fn matches(&self, key: &[u8]) -> bool {
        self.patterns()
            .iter()
            .any(|p| glob::matches(p.as_bytes(), key, false))
    }

    /// Whether `key` is one of the patterns as written.
    pub fn names(&self, key: &[u8]) -> bool {
        self.patterns().iter().any(|p| p.as_bytes() == key)
    }

    /// The one key, when the source is a single key rather than a glob or a list.
    pub fn literal(&self) -> Option<&str> {
        match self {
            Source::One(one) if glob::is_literal(one.as_bytes()) => Some(one),
            _ => None,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.patterns().join(", "))
    }
}

/// Most routes one server runs.
pub const MAX_ROUTES: usize = 256;

impl RouteSpec {
    /// The consumer group holding the route's position in each source stream.
    pub fn group_name(&self) -> Vec<u8> {
        format!("sluice:route:{}", self.name).into_bytes()
    }

    /// The config as the plugin's `init` receives it.
    pub fn plugin_config(&self) -> Vec<(String, String)> {
        config_pairs(&self.config)
    }

    /// With `--attach`: how long an entry another instance holds stays there before this one
    /// claims it, ms (`claim_idle_ms`, default [`DEFAULT_CLAIM_IDLE_MS`]).
    pub fn claim_after_ms(&self) -> u64 {
        self.claim_idle_ms.unwrap_or(DEFAULT_CLAIM_IDLE_MS)
    }

    /// Whether `key` is one of the route's sources. Its own dead-letter streams never are: a
    /// glob such as `orders*` would otherwise route `orders.dlq` back into the route. Nor is
    /// a key that is not UTF-8: a plugin receives the source key as a WIT `string`, and the
    /// dead-letter key is made from it.
    pub fn is_source(&self, key: &[u8]) -> bool {
        if !self.source.matches(key) || std::str::from_utf8(key).is_err() {
            return false;
        }
        match &self.dead_letter {
            Some(dlq) => dlq.as_bytes() != key,
            None => !key.ends_with(b".dlq") || self.source.names(key),
        }
    }

    /// Whether an output to `key` would come back into this route.
    pub fn loops_back(&self, key: &[u8]) -> bool {
        self.source.matches(key)
    }

    /// The dead-letter stream for events of source stream `key`.
    pub fn dead_letter_for(&self, key: &[u8]) -> Vec<u8> {
        match &self.dead_letter {
            Some(dlq) => dlq.clone().into_bytes(),
            None => [key, b".dlq"].concat(),
        }
    }

    /// Checks one route on its own.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "route name {name:?} must be non-empty, without spaces"
            ));
        }
        let patterns = self.source.patterns();
        if patterns.is_empty() || patterns.iter().any(String::is_empty) {
            return Err(format!("route {name}: source must not be empty"));
        }
        check_plugin_file(&format!("route {name}"), &self.plugin)?;
        check_config_values(&format!("route {name}"), &self.config)?;
        if let Some(dlq) = &self.dead_letter {
            if dlq.is_empty() {
                return Err(format!("route {name}: dead_letter must not be empty"));
            }
            if self.source.matches(dlq.as_bytes()) {
                return Err(format!(
                    "route {name}: dead_letter {dlq:?} matches the route's own source {:?}, \
                     which would route failed events back into it",
                    self.source.to_string()
                ));
            }
        }
        if self.timeout_ms == Some(0) {
            return Err(format!("route {name}: timeout_ms must be at least 1"));
        }
        Ok(())
    }
}

/// Checks a whole route list: each route, unique names, at most [`MAX_ROUTES`].
pub fn validate_all(routes: &[RouteSpec]) -> Result<(), String> {
    if routes.len() > MAX_ROUTES {
        return Err(format!("at most {MAX_ROUTES} routes, got {}", routes.len()));
    }
    let mut names = std::collections::HashSet::new();
    for route in routes {
        route.validate()?;
        if !names.insert(route.name.as_str()) {
            return Err(format!("two routes are named {:?}", route.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_may_be_a_list_of_keys_and_globs() {
        let spec: RouteSpec = toml::from_str(
            "name = \"r\"\nsource = [\"orders:{0}\", \"orders:{1}\", \"audit.*\"]\n\
             plugin = \"p.wasm\"\n",
        )
        .expect("valid");
        assert!(spec.validate().is_ok());
        assert!(spec.is_source(b"orders:{1}"));
        assert!(spec.is_source(b"audit.eu"));
        assert!(!spec.is_source(b"orders:{2}"));
        assert!(!spec.is_source(b"orders:{0}.dlq"));
        assert_eq!(spec.source.literal(), None);
        assert_eq!(spec.source.to_string(), "orders:{0}, orders:{1}, audit.*");
        let empty: RouteSpec =
            toml::from_str("name = \"r\"\nsource = []\nplugin = \"p.wasm\"\n").expect("parses");
        assert!(empty.validate().is_err());
    }

    #[test]
    fn a_key_that_is_not_utf8_is_no_source() {
        let spec: RouteSpec =
            toml::from_str("name = \"r\"\nsource = \"orders.*\"\nplugin = \"p.wasm\"\n")
                .expect("valid");
        assert!(spec.is_source(b"orders.eu"));
        assert!(!spec.is_source(b"orders.\xff"));
    }

    fn parse(text: &str) -> Result<RouteSpec, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_config_order() -> Result<(), String> {
        let spec = parse(
            "name = \"r\"\nsource = \"orders\"\nplugin = \"f.wasm\"\n\
             config = { b = \"1\", a = 2, c = true }\n",
        )?;
        assert_eq!(spec.on_error, OnError::DeadLetter);
        assert_eq!(spec.start, Start::New);
        assert_eq!(
            spec.plugin_config(),
            vec![
                ("b".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned()),
                ("c".to_owned(), "true".to_owned())
            ]
        );
        assert_eq!(spec.dead_letter_for(b"orders"), b"orders.dlq".to_vec());
        spec.validate()
    }

    #[test]
    fn sources_leave_out_their_dead_letter_streams() -> Result<(), String> {
        let spec = parse("name = \"r\"\nsource = \"orders*\"\nplugin = \"f.wasm\"\n")?;
        assert!(spec.is_source(b"orders.eu"));
        assert!(!spec.is_source(b"orders.eu.dlq"));
        assert!(!spec.is_source(b"users"));
        assert!(spec.loops_back(b"orders.us"));
        Ok(())
    }

    #[test]
    fn bad_routes_are_refused_with_the_reason() -> Result<(), String> {
        let bad = [
            (
                "name = \"\"\nsource = \"o\"\nplugin = \"f.wasm\"",
                "non-empty",
            ),
            (
                "name = \"r\"\nsource = \"o\"\nplugin = \"../f.wasm\"",
                "file name",
            ),
            (
                "name = \"r\"\nsource = \"o*\"\nplugin = \"f.wasm\"\ndead_letter = \"o.dlq\"",
                "back into it",
            ),
            (
                "name = \"r\"\nsource = \"o\"\nplugin = \"f.wasm\"\nconfig = { x = [1] }",
                "string, number or boolean",
            ),
        ];
        for (text, want) in bad {
            let err = parse(text)?.validate().expect_err(text);
            assert!(err.contains(want), "{err}");
        }
        assert!(
            parse("name = \"r\"\nsource = \"o\"\nplugin = \"f\"\non_error = \"retry\"").is_err()
        );
        assert!(parse("name = \"r\"\nsource = \"o\"\nplugin = \"f\"\nstart = \"1\"").is_err());
        let spec = parse("name = \"r\"\nsource = \"o\"\nplugin = \"f.wasm\"")?;
        let err = validate_all(&[spec.clone(), spec]).expect_err("duplicate");
        assert!(err.contains("two routes"), "{err}");
        Ok(())
    }
}
