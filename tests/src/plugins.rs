//! The guest plugins for route tests: built once per test process, copied into a folder of
//! the test's own (so a test can replace files for hot reload without touching the build).
//!
//! The plugins are a workspace of their own (`plugins/`, target `wasm32-wasip2`). The first
//! caller builds it with cargo into `target/plugins`, a target directory of its own so that
//! the nested cargo never waits on the lock the outer `cargo test` holds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the plugins workspace (once per process) and returns the folder holding the
/// `.wasm` components (`filter.wasm`, `trap_on.wasm`, ...).
pub fn built() -> Result<&'static Path> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = repo_root();
        let target_dir = root.join("target/plugins");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root.join("plugins"))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(root.join("plugins/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_dir)
            // Flags meant for the host build must not leak into the wasm one.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET");
        if std::env::var_os("CI").is_some() {
            cmd.arg("--locked");
        }
        match cmd.output() {
            Ok(out) if out.status.success() => Ok(target_dir.join("wasm32-wasip2/release")),
            Ok(out) => Err(format!(
                "building the plugins failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )),
            Err(e) => Err(format!("cannot run cargo to build the plugins: {e}")),
        }
    });
    match dir {
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
