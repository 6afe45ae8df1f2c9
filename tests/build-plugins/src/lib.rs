//! Building the guest plugins workspace (`plugins/`, target `wasm32-wasip2`) from a test or a
//! benchmark: a dev-dependency of the tests crate (`sluice_tests::plugins`) and of
//! plugin-host's tests and benchmark, small so that they need not build the whole server.
//!
//! The build goes to `target/plugins`, a target directory of its own, so the nested cargo
//! never waits on the lock the outer `cargo test` holds. Later calls find it fresh.
//!
//! A toolchain that rustup installed before this repository pinned it lacks the
//! `wasm32-wasip2` target (rustup adds `rust-toolchain.toml`'s `targets` only when it installs
//! the toolchain itself), so the build adds it first when it is missing.

pub mod lang;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder holding the built `.wasm` components, building them on the first call (once
/// per test binary); cargo's error output if the build failed.
pub fn built() -> Result<&'static Path, &'static str> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(|| build_plugins(&repo_root())) {
        Ok(dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

/// Builds the plugins workspace under the repository root `root`; returns the folder holding
/// the `.wasm` components, or cargo's error output.
pub fn build_plugins(root: &Path) -> Result<PathBuf, String> {
    add_wasm_target(root)?;
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

/// The guest plugins' target.
const WASM_TARGET: &str = "wasm32-wasip2";

/// Adds [`WASM_TARGET`] to the toolchain `rust-toolchain.toml` pins, unless it is there:
/// `rustup target add` is idempotent, but asking rustc first avoids a rustup call (and its
/// look at the network) on every build.
pub fn add_wasm_target(root: &Path) -> Result<(), String> {
    if wasm_target_installed(root) {
        return Ok(());
    }
    // Without rustup (a toolchain from elsewhere) there is nothing to add it with: the build
    // then fails with cargo's own message about the missing target.
    let Ok(out) = Command::new("rustup")
        .current_dir(root)
        .args(["target", "add", WASM_TARGET])
        .output()
    else {
        return Ok(());
    };
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`rustup target add {WASM_TARGET}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// True if the sysroot of the toolchain used in `root` has the standard library for
/// [`WASM_TARGET`].
pub fn wasm_target_installed(root: &Path) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc)
        .current_dir(root)
        .args(["--print", "sysroot"])
        .output()
    else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout);
    Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
}
