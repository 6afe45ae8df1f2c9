//! The guest plugins for route tests: built once per test process, copied into a folder of
//! the test's own (so a test can replace files for hot reload without touching the build).
//!
//! The first caller builds the plugins workspace (see `sluice_build_plugins`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the plugins workspace (once per process) and returns the folder holding the
/// `.wasm` components (`filter.wasm`, `trap_on.wasm`, ...).
pub fn built() -> Result<&'static Path> {
    match sluice_build_plugins::built() {
        Ok(dir) => Ok(dir),
        Err(e) => bail!("{e}"),
    }
}

/// The path of the built component of crate `crate_name` (`"filter"`, `"trap-on"`).
pub fn component(crate_name: &str) -> Result<PathBuf> {
    Ok(built()?.join(format!("{}.wasm", crate_name.replace('-', "_"))))
}

/// A fresh plugins folder holding a copy of each `(crate, file name)` given, e.g.
/// `[("filter", "filter.wasm")]`.
pub fn folder(files: &[(&str, &str)]) -> Result<PathBuf> {
    let dir = crate::tempdir()?;
    for (crate_name, file) in files {
        install(&dir, crate_name, file)?;
    }
    Ok(dir)
}

/// Copies the component of `crate_name` into `dir` as `file`, replacing it atomically (a
/// temporary file renamed over it), as a deploy would.
pub fn install(dir: &Path, crate_name: &str, file: &str) -> Result<()> {
    let from = component(crate_name)?;
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::copy(&from, &tmp).with_context(|| format!("copy {}", from.display()))?;
    std::fs::rename(&tmp, dir.join(file)).with_context(|| format!("install {file}"))?;
    Ok(())
}

/// A config with `plugins_dir` and the `[[route]]` tables in `routes_toml`.
pub fn config(plugins_dir: &Path, routes_toml: &str) -> Result<crate::Config> {
    let mut config: crate::Config = toml_config(routes_toml)?;
    config.plugins_dir = Some(plugins_dir.to_owned());
    Ok(config)
}

fn toml_config(text: &str) -> Result<crate::Config> {
    let file = crate::tempdir()?.join("sluice.toml");
    std::fs::write(&file, text)?;
    let config = crate::Config::from_file(&file).context("parse the test's config")?;
    // Not watched: tests that want hot reload of the config write their own file.
    Ok(crate::Config {
        config_file: None,
        ..config
    })
}
