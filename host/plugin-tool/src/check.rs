//! `sluice plugin check <file.wasm>`: what a component is (WIT version, world, size, imports)
//! and whether the broker will run it. A component that imports anything beyond the contract
//! — the `sluice:plugin` interfaces of its world, and the WASI interfaces language runtimes
//! import, which the broker grants empty — is refused, naming the import.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sluice_plugin_host::Limits;

/// The `sluice:plugin` interfaces a plugin may import, by world.
const ROUTER_IMPORTS: &[&str] = &["types", "log"];
const POLICY_IMPORTS: &[&str] = &["types", "log", "pending-state"];

/// WASI interfaces the broker links (over an empty context: no files, network, environment or
/// clock to speak of). What a language's runtime imports; nothing in them reaches outside.
const WASI_GRANTED: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

/// What `check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `router` or `claim-policy`.
    pub world: &'static str,
    /// The `sluice:plugin` version it was built against.
    pub wit_version: String,
    /// The file's size, bytes.
    pub size: u64,
    /// Every import, as declared.
    pub imports: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "world: {}", self.world)?;
        writeln!(f, "wit: sluice:plugin@{}", self.wit_version)?;
        writeln!(f, "size: {} bytes", self.size)?;
        writeln!(f, "imports:")?;
        for import in &self.imports {
            writeln!(f, "  {import}")?;
        }
        write!(f, "ok: the broker can load it")
    }
}

/// Checks the component at `path` against `max_size` bytes (the broker's `plugin-max-size`).
pub fn check(path: &Path, max_size: u64) -> Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let size = bytes.len() as u64;
    if size > max_size {
        bail!(
            "{} is {size} bytes, over plugin-max-size ({max_size} bytes): raise \
             plugin-max-size in the broker's config",
            path.display()
        );
    }
    let host = crate::plugin_host(Limits::default())?;
    let compiled = host.compile(&bytes)?;
    let (world, allowed) = if compiled.is_router() {
        ("router", ROUTER_IMPORTS)
    } else if compiled.is_policy() {
        ("claim-policy", POLICY_IMPORTS)
    } else {
        bail!(
            "{} exports neither sluice:plugin/routing nor sluice:plugin/claiming: it is no \
             plugin",
            path.display()
        );
    };
    let imports = host.imports(&compiled);
    let beyond: Vec<&String> = imports
        .iter()
        .filter(|name| !within_contract(name, allowed))
        .collect();
    if !beyond.is_empty() {
        let list: Vec<&str> = beyond.iter().map(|s| s.as_str()).collect();
        bail!(
            "{} imports {}, beyond the contract: a {world} plugin may import only \
             sluice:plugin/{{{}}} and WASI's cli, clocks, filesystem, io, random and sockets \
             (granted empty); the broker would refuse to link it",
            path.display(),
            list.join(", "),
            allowed.join(", ")
        );
    }
    Ok(Report {
        world,
        wit_version: compiled.wit_version().to_owned(),
        size,
        imports,
    })
}

/// Whether the import `name` is one a plugin of a world allowing `allowed` may have.
fn within_contract(name: &str, allowed: &[&str]) -> bool {
    if let Some(rest) = name.strip_prefix("sluice:plugin/") {
        let interface = rest.split('@').next().unwrap_or(rest);
        return allowed.contains(&interface);
    }
    WASI_GRANTED.iter().any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_is_the_worlds_imports_and_the_granted_wasi() {
        assert!(within_contract("sluice:plugin/log@0.1.1", ROUTER_IMPORTS));
        assert!(within_contract("wasi:io/streams@0.2.6", ROUTER_IMPORTS));
        assert!(!within_contract(
            "sluice:plugin/pending-state@0.1.1",
            ROUTER_IMPORTS
        ));
        assert!(within_contract(
            "sluice:plugin/pending-state@0.1.1",
            POLICY_IMPORTS
        ));
        assert!(!within_contract(
            "sluice:plugin/fetch@0.1.1",
            POLICY_IMPORTS
        ));
        assert!(!within_contract(
            "wasi:http/outgoing-handler@0.2.0",
            ROUTER_IMPORTS
        ));
    }
}
