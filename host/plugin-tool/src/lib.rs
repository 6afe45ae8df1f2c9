//! `sluice plugin`: the plugin author's tool, in the `sluice` binary (as Fluvio's `smdk` and
//! Redpanda's `rpk transform`).
//!
//! - `new <name> --lang rust|python|js --kind router|claim-policy`: a project in `./<name>`
//!   that builds and passes its own tests;
//! - `build`: in that folder, builds the component and prints its path;
//! - `test <file.wasm> --events events.jsonl [--config k=v]`: runs it over events (or a
//!   policy over rounds) as the broker would, no server;
//! - `check <file.wasm>`: WIT version, world, size, imports; refuses a component that imports
//!   beyond the contract.
//!
//! # Layout
//!
//! - `project`: `sluice-plugin.toml`, [`project::Lang`], [`project::Kind`].
//! - `scaffold`: `new`, with the SDKs and templates compiled in (`templates/`).
//! - `builder`: `build`, on the toolchains of `sluice_build_plugins::lang`.
//! - `run`, `policy`: `test` (also the example host `sluice-plugin-runner`).
//! - `check`: `check`.

pub mod builder;
pub mod check;
pub mod policy;
pub mod project;
pub mod run;
pub mod scaffold;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use project::{Kind, Lang};

/// Write, build, test and check Sluice plugins.
#[derive(Debug, Parser)]
#[command(name = "sluice plugin", version)]
struct PluginCli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates a plugin project in ./<NAME>: the plugin, its tests, sample input, the SDK.
    New {
        /// The plugin's name (letters, digits, `-`, `_`).
        name: String,
        /// Its language.
        #[arg(long, value_enum)]
        lang: Lang,
        /// What it is.
        #[arg(long, value_enum, default_value = "router")]
        kind: Kind,
    },
    /// Builds the project in the current folder (or --dir) and prints the component's path.
    Build {
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Runs a component over events (a router) or rounds (a claim policy), printing one JSON
    /// line per output or decision; no server needed.
    Test(run::RunOptions),
    /// Prints a component's WIT version, world, size and imports; fails if the broker would
    /// not load it.
    Check {
        /// The component.
        plugin: PathBuf,
        /// The broker's plugin-max-size, bytes.
        #[arg(long, default_value_t = 64 << 20)]
        max_size: u64,
    },
}

/// The plugin engine for `test` and `check`, keeping compiled components in
/// `$SLUICE_PLUGIN_CACHE_DIR` or `~/.cache/sluice/compiled` so that running the same file
/// again skips the compile (seconds for Python and JavaScript); without a usable folder, none.
pub fn plugin_host(limits: sluice_plugin_host::Limits) -> Result<sluice_plugin_host::PluginHost> {
    let dir = std::env::var_os("SLUICE_PLUGIN_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sluice/compiled"))
        });
    if let Some(dir) = dir
        && let Ok(host) = sluice_plugin_host::PluginHost::with_cache(limits, Some(&dir))
    {
        return Ok(host);
    }
    Ok(sluice_plugin_host::PluginHost::new(limits)?)
}

/// Runs `sluice plugin <args>` (`args` after `plugin`).
pub fn main(args: impl IntoIterator<Item = OsString>) -> Result<()> {
    let cli = PluginCli::parse_from(std::iter::once(OsString::from("sluice plugin")).chain(args));
    let mut say = |line: &str| eprintln!("{line}");
    match cli.command {
        Command::New { name, lang, kind } => {
            let dir = scaffold::new_project(&std::env::current_dir()?, &name, lang, kind)?;
            eprintln!("created {} ({lang:?} {})", dir.display(), kind.world());
            eprintln!("next: cd {name} && sluice plugin build");
        }
        Command::Build { dir } => {
            let out = builder::build(&dir, &mut say)?;
            println!("{}", out.display());
        }
        Command::Test(options) => run::run(&options, &mut std::io::stdout().lock())?,
        Command::Check { plugin, max_size } => {
            let report = check::check(&plugin, max_size)?;
            println!("{report}");
        }
    }
    Ok(())
}
