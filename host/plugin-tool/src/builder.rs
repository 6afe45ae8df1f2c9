//! `sluice plugin build`, in a project folder: builds its component and returns the path. A
//! missing toolchain is installed into the user's cache (saying so) — the `wasm32-wasip2`
//! target through rustup, componentize-py through pip, componentize-js through npm — or the
//! error names the exact command that installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sluice_build_plugins::lang::{BuildSpec, Lang as BuildLang, Toolchains};

use crate::project::{Lang, Manifest};

/// Builds the project in `dir`; `say` hears what is installed on the way.
pub fn build(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let manifest = Manifest::read(dir)?;
    let world = manifest.kind.world();
    let out = dir.join("target").join(format!("{}.wasm", manifest.name));
    let toolchains = Toolchains::for_user();
    let (lang, entry, search) = match manifest.lang {
        Lang::Rust => return build_rust(dir, &manifest, say),
        Lang::Python => (BuildLang::Python, dir.join("app.py"), dir.to_path_buf()),
        Lang::Js => (
            BuildLang::JavaScript,
            dir.join("plugin.js"),
            dir.join("sluice-plugin"),
        ),
    };
    toolchains
        .build(
            &BuildSpec {
                lang,
                entry: &entry,
                search: &[&search],
                wit: &dir.join("wit"),
                world,
                out: &out,
            },
            say,
        )
        .map_err(anyhow::Error::msg)?;
    Ok(out)
}

/// `cargo build --release --target wasm32-wasip2`, adding the target first if it is missing.
fn build_rust(dir: &Path, manifest: &Manifest, say: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    if !sluice_build_plugins::wasm_target_installed(dir) {
        say("adding the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
    }
    sluice_build_plugins::add_wasm_target(dir)
        .map_err(|e| anyhow::anyhow!("{e}\ninstall it with `rustup target add wasm32-wasip2`"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo (is Rust installed? https://rustup.rs)")?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), PathBuf::from);
    let out = target
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", manifest.name.replace('-', "_")));
    if !out.is_file() {
        bail!("cargo built no {}", out.display());
    }
    Ok(out)
}
