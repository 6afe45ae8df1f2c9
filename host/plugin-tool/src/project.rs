//! A plugin project as `sluice plugin new` writes it: `sluice-plugin.toml` names the plugin,
//! its language and its kind, which `sluice plugin build` reads.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The file at the root of a plugin project.
pub const MANIFEST: &str = "sluice-plugin.toml";

/// A plugin language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Rust, with the `sluice-plugin-sdk` crate; cargo builds it for wasm32-wasip2.
    Rust,
    /// Python, with the `sluice_plugin` package; componentize-py builds it.
    Python,
    /// JavaScript, with the `sluice-plugin` module; componentize-js builds it.
    Js,
}

/// What the plugin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A routing rule (filter, transform, route): the WIT world `router`.
    Router,
    /// A consumer group's redelivery policy: the WIT world `claim-policy`.
    ClaimPolicy,
}

impl Kind {
    /// The WIT world's name.
    pub fn world(self) -> &'static str {
        match self {
            Kind::Router => "router",
            Kind::ClaimPolicy => "claim-policy",
        }
    }
}

/// `sluice-plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The plugin's name; the component is `target/<name>.wasm` (Rust: cargo's target folder).
    pub name: String,
    /// Its language.
    pub lang: Lang,
    /// Its kind.
    pub kind: Kind,
}

impl Manifest {
    /// Reads `dir/sluice-plugin.toml`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no {MANIFEST} in {}: run `sluice plugin build` in a folder made by `sluice \
                 plugin new`",
                dir.display()
            )
        })?;
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let lang = match self.lang {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        };
        format!(
            "# A Sluice plugin project: `sluice plugin build` reads this.\nname = \"{}\"\nlang = \
             \"{lang}\"\nkind = \"{}\"\n",
            self.name,
            self.kind.world()
        )
    }
}
