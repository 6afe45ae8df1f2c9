//! The WIT package version this host speaks, and which plugin versions it accepts.
//!
//! Semver: a plugin built for the same major version (for 0.x: the same minor version) is
//! compatible; anything else is refused when the component is compiled, naming both versions.

use semver::Version;

/// The `sluice:plugin` package version this host implements (`wit/sluice.wit`).
pub const WIT_VERSION: &str = "0.1.1";

/// The package name every plugin interface lives in.
pub(crate) const WIT_PACKAGE: &str = "sluice:plugin";

/// The host's version, parsed.
pub(crate) fn host_version() -> Version {
    // A constant checked by a unit test; parsing it cannot fail.
    Version::parse(WIT_VERSION).unwrap_or_else(|_| Version::new(0, 0, 0))
}

/// Whether a plugin built for `plugin` can run on a host that speaks `host`.
pub(crate) fn compatible(plugin: &Version, host: &Version) -> bool {
    if plugin.major != host.major {
        return false;
    }
    plugin.major != 0 || plugin.minor == host.minor
}

/// The package version named by a component import or export such as
/// `sluice:plugin/routing@0.1.0`; `None` for names of other packages.
/// `Some(Err(text))` when the name is ours but its version does not parse.
pub(crate) fn version_of_item(name: &str) -> Option<Result<Version, String>> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    let Some((_, version)) = rest.split_once('@') else {
        return Some(Err(format!("`{name}` carries no version")));
    };
    Some(Version::parse(version).map_err(|e| format!("`{name}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version")
    }

    #[test]
    fn host_version_matches_the_wit_file() {
        let wit = include_str!("../../../wit/sluice.wit");
        let line = wit
            .lines()
            .find(|l| l.starts_with("package "))
            .expect("package line");
        assert_eq!(line, format!("package {WIT_PACKAGE}@{WIT_VERSION};"));
        assert_eq!(host_version(), v(WIT_VERSION));
    }

    #[test]
    fn zero_major_needs_same_minor() {
        assert!(compatible(&v("0.1.0"), &v("0.1.0")));
        assert!(compatible(&v("0.1.3"), &v("0.1.0")));
        // Plugins built before the `pending-state` import (0.1.1) load on this host.
        assert!(compatible(&v("0.1.0"), &v(WIT_VERSION)));
        assert!(!compatible(&v("0.2.0"), &v("0.1.0")));
        assert!(!compatible(&v("1.0.0"), &v("0.1.0")));
    }

    #[test]
    fn nonzero_major_needs_same_major() {
        assert!(compatible(&v("1.4.0"), &v("1.0.0")));
        assert!(!compatible(&v("2.0.0"), &v("1.9.0")));
    }

    #[test]
    fn item_names() {
        assert_eq!(version_of_item("wasi:cli/stdout@0.2.0"), None);
        assert_eq!(
            version_of_item("sluice:plugin/routing@0.1.0"),
            Some(Ok(v("0.1.0")))
        );
        assert!(matches!(
            version_of_item("sluice:plugin/routing"),
            Some(Err(_))
        ));
    }
}
