//! Plugins written in Python and JavaScript, end to end: the example components, built from
//! `plugins/python` and `plugins/js` by the tests (toolchains installed into
//! `target/toolchains`), loaded by a real server and fed by a real client. Routes' outputs
//! and dead-letters ([`routes`]), a claim policy's dead-letters ([`policy`]), a hot reload
//! from the Rust router to the Python one ([`reload`]); `sluice plugin` in `tool.rs`; the SDKs'
//! own unit tests in `sdk.rs`.
//!
//! Where a toolchain cannot be installed (no python3/pip or node/npm) the tests say so and
//! pass without running; under CI that is a failure.

mod policy;
mod reload;
mod routes;
mod sdk;
mod tool;

use std::path::PathBuf;
use std::process::Output;

use anyhow::{Result, ensure};
use sluice_tests::plugins::{self, Lang};

/// A fresh plugins folder holding the `lang` example `file` as `as_file`; `None` when the
/// toolchain cannot be installed here (the test is skipped).
fn folder_with(lang: Lang, file: &str, as_file: &str) -> Result<Option<PathBuf>> {
    let Some(component) = plugins::lang_component(lang, file)? else {
        return Ok(None);
    };
    let dir = sluice_tests::tempdir()?;
    plugins::install_file(&dir, &component, as_file)?;
    Ok(Some(dir))
}

/// Fails with `program`'s output unless it succeeded.
fn succeeded(program: &str, args: &[&str], out: &Output) -> Result<()> {
    ensure!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
