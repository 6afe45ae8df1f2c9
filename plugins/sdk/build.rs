//! Reads the `sluice:plugin` package version from `wit/sluice.wit` (the file the bindings are
//! generated from), so [`WIT_VERSION`](crate::WIT_VERSION) cannot drift from it.

use std::path::Path;

fn main() {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/sluice.wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let text = match std::fs::read_to_string(&wit) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", wit.display()),
    };
    let version = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("package sluice:plugin@"))
        .map(|rest| rest.trim_end_matches(';').trim());
    match version {
        Some(version) if !version.is_empty() => {
            println!("cargo:rustc-env=SLUICE_WIT_VERSION={version}");
        }
        _ => panic!(
            "{} declares no `package sluice:plugin@<version>;`",
            wit.display()
        ),
    }
}
