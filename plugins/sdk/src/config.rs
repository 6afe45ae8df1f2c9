//! [`Config`]: the route's key/values (`config = { field = "region", equals = "eu" }`).

use std::str::FromStr;

/// The configuration a route gives its plugin, in the order it was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// Wraps key/value pairs (the host passes them; tests can build their own).
    pub fn new(entries: Vec<(String, String)>) -> Self {
        Self { entries }
    }

    /// The value of `key`, if set (the first one, if set twice).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or an error naming it, for `?` in `init`.
    pub fn require(&self, key: &str) -> Result<&str, String> {
        self.get(key)
            .ok_or_else(|| format!("missing config key `{key}`"))
    }

    /// The value of `key` parsed as `T`: `Ok(None)` when unset, an error naming the key when
    /// it does not parse.
    pub fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|e| format!("config key `{key}` = {v:?}: {e}"))
            })
            .transpose()
    }

    /// All key/value pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Keys that are not in `known`: for `init` to refuse typos.
    pub fn unknown_keys<'a>(&'a self, known: &'a [&str]) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(move |k| !known.contains(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_errors_name_the_key() {
        let c = Config::new(vec![
            ("field".into(), "region".into()),
            ("min".into(), "x".into()),
        ]);
        assert_eq!(c.get("field"), Some("region"));
        assert_eq!(
            c.require("nope").expect_err("missing"),
            "missing config key `nope`"
        );
        assert!(
            c.parse::<f64>("min")
                .expect_err("bad number")
                .contains("`min`")
        );
        assert_eq!(c.parse::<f64>("unset"), Ok(None));
        assert_eq!(c.unknown_keys(&["field"]).collect::<Vec<_>>(), vec!["min"]);
    }
}
