//! Building the guest plugins workspace (`plugins/`, target `wasm32-wasip2`) from a test or a
//! benchmark. One file for both users: the tests crate (`sluice_tests::plugins`) and
//! plugin-host's tests, which include it by path (they cannot depend on the tests crate
//! without building the whole server).
//!
//! The build goes to `target/plugins`, a target directory of its own, so the nested cargo
//! never waits on the lock the outer `cargo test` holds. Later calls find it fresh.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the plugins workspace under the repository root `root`; returns the folder holding
/// the `.wasm` components, or cargo's error output.
pub fn build_plugins(root: &Path) -> Result<PathBuf, String> {
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
}
