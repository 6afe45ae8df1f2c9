//! The Python and JavaScript SDKs' own unit tests (`plugins/python/tests`, `plugins/js/tests`),
//! on the machine's python3 and node, so that `cargo test` runs them too.

use std::process::Command;

use anyhow::Result;

/// Runs `program args` at the repository root; skipped (said on stderr) where `program` is
/// missing, except under CI.
fn suite(program: &str, args: &[&str]) -> Result<()> {
    let out = match Command::new(program)
        .args(args)
        .current_dir(sluice_build_plugins::repo_root())
        .output()
    {
        Ok(out) => out,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: cannot run {program}: {e}");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    super::succeeded(program, args, &out)
}

#[test]
fn the_python_sdk_and_examples_pass_their_unit_tests() -> Result<()> {
    suite(
        "python3",
        &["-m", "unittest", "discover", "-s", "plugins/python/tests"],
    )
}

#[test]
fn the_javascript_sdk_and_examples_pass_their_unit_tests() -> Result<()> {
    suite("node", &["--test", "plugins/js/tests/"])
}
