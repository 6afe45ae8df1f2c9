//! Helpers shared by plugin-host's tests and benchmark: build the guest plugins once, load one,
//! make events.
//!
//! The plugins are a workspace of their own (`plugins/`, target `wasm32-wasip2`). The first
//! caller builds it with `cargo build --release --target wasm32-wasip2 --manifest-path
//! plugins/Cargo.toml` into `target/plugins`, a target directory of its own so that the nested
//! cargo never waits on the lock the outer `cargo test` holds. Later calls find it fresh.

#![allow(dead_code)] // the benchmark includes this file too, and uses only part of it

use std::path::Path;

use sluice_plugin_host::{
    CompiledPlugin, EntryId, Limits, PluginHost, PolicyInstance, RouterInstance,
};

/// Builds the plugins workspace (once per test binary) and returns the directory holding the
/// `.wasm` components. Panics with cargo's output if the build fails.
pub fn plugins_dir() -> &'static Path {
    sluice_build_plugins::built().unwrap_or_else(|e| panic!("{e}"))
}

/// The bytes of the component built from the plugin crate `crate_name` (`"filter"`,
/// `"trap-on"`, ...).
pub fn plugin_bytes(crate_name: &str) -> Vec<u8> {
    let file = plugins_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
}

/// A host with default limits.
pub fn host() -> PluginHost {
    PluginHost::new(Limits::default()).expect("plugin host")
}

/// Compiles the plugin crate `crate_name` on `host`.
pub fn compile(host: &PluginHost, crate_name: &str) -> CompiledPlugin {
    host.compile(&plugin_bytes(crate_name))
        .unwrap_or_else(|e| panic!("compile {crate_name}: {e}"))
}

/// Config pairs from `k=v` strings.
pub fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Compiles and instantiates a router.
pub fn router(host: &PluginHost, crate_name: &str, cfg: &[(&str, &str)]) -> RouterInstance {
    host.instantiate_router(&compile(host, crate_name), crate_name, &config(cfg))
        .unwrap_or_else(|e| panic!("instantiate {crate_name}: {e}"))
}

/// Compiles and instantiates a claim policy.
pub fn policy(host: &PluginHost, crate_name: &str, cfg: &[(&str, &str)]) -> PolicyInstance {
    host.instantiate_policy(&compile(host, crate_name), crate_name, &config(cfg))
        .unwrap_or_else(|e| panic!("instantiate {crate_name}: {e}"))
}

/// Owned events, to borrow as `EventRef`s.
pub struct Events(pub Vec<(EntryId, Vec<&'static [u8]>)>);

impl Events {
    /// Events `1-0`, `2-0`, ... with the given fields.
    pub fn new(fields: &[&[(&'static str, &'static str)]]) -> Self {
        Self(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let flat = f
                        .iter()
                        .flat_map(|(n, v)| [n.as_bytes(), v.as_bytes()])
                        .collect();
                    (
                        EntryId {
                            ms: i as u64 + 1,
                            seq: 0,
                        },
                        flat,
                    )
                })
                .collect(),
        )
    }

    /// The events as the host API takes them.
    pub fn refs(&self) -> Vec<sluice_plugin_host::EventRef<'_>> {
        self.0
            .iter()
            .map(|(id, fields)| sluice_plugin_host::EventRef { id: *id, fields })
            .collect()
    }
}
