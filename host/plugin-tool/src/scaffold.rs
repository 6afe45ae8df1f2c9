//! `sluice plugin new <name> --lang rust|python|js --kind router|claim-policy`: a project in
//! `./<name>` that builds (`sluice plugin build`) and passes its own tests as written. The SDK
//! and the WIT it binds are vendored into the project, so it needs nothing from this
//! repository: the files are compiled into the `sluice` binary.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::project::{Kind, Lang, Manifest};

/// The WIT package, as the SDKs bind it.
const WIT: &str = include_str!("../../../wit/sluice.wit");

macro_rules! files {
    ($base:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!($base, $path)))),*]
    };
}

/// The Python SDK, as `sluice_plugin/...`.
const PYTHON_SDK: &[(&str, &str)] = files!("../../../plugins/python/":
    "sluice_plugin/__init__.py", "sluice_plugin/config.py", "sluice_plugin/event.py",
    "sluice_plugin/export.py", "sluice_plugin/log.py", "sluice_plugin/outputs.py",
    "sluice_plugin/plugin.py", "sluice_plugin/policy.py",
);

/// The JavaScript SDK, as `sluice-plugin/...`.
const JS_SDK: &[(&str, &str)] = files!("../../../plugins/js/":
    "sluice-plugin/index.js", "sluice-plugin/log.js", "sluice-plugin/package.json",
);

/// The Rust SDK and its policy bindings, as `sluice/...` (their manifests take the versions
/// from the project's workspace, their bindings read `../../wit`).
const RUST_SDK: &[(&str, &str)] = &[
    (
        "sluice/sdk/Cargo.toml",
        include_str!("../../../plugins/sdk/Cargo.toml"),
    ),
    (
        "sluice/sdk/build.rs",
        include_str!("../../../plugins/sdk/build.rs"),
    ),
    (
        "sluice/sdk/src/balance.rs",
        include_str!("../../../plugins/sdk/src/balance.rs"),
    ),
    (
        "sluice/sdk/src/bindings.rs",
        include_str!("../../../plugins/sdk/src/bindings.rs"),
    ),
    (
        "sluice/sdk/src/config.rs",
        include_str!("../../../plugins/sdk/src/config.rs"),
    ),
    (
        "sluice/sdk/src/decisions.rs",
        include_str!("../../../plugins/sdk/src/decisions.rs"),
    ),
    (
        "sluice/sdk/src/evaluation.rs",
        include_str!("../../../plugins/sdk/src/evaluation.rs"),
    ),
    (
        "sluice/sdk/src/event.rs",
        include_str!("../../../plugins/sdk/src/event.rs"),
    ),
    (
        "sluice/sdk/src/export.rs",
        include_str!("../../../plugins/sdk/src/export.rs"),
    ),
    (
        "sluice/sdk/src/lib.rs",
        include_str!("../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "sluice/sdk/src/log.rs",
        include_str!("../../../plugins/sdk/src/log.rs"),
    ),
    (
        "sluice/sdk/src/outputs.rs",
        include_str!("../../../plugins/sdk/src/outputs.rs"),
    ),
    (
        "sluice/sdk/src/policy.rs",
        include_str!("../../../plugins/sdk/src/policy.rs"),
    ),
    (
        "sluice/sdk-policy-bindings/Cargo.toml",
        include_str!("../../../plugins/sdk-policy-bindings/Cargo.toml"),
    ),
    (
        "sluice/sdk-policy-bindings/src/lib.rs",
        include_str!("../../../plugins/sdk-policy-bindings/src/lib.rs"),
    ),
    // The versions the SDK is tested with.
    ("Cargo.lock", include_str!("../../../plugins/Cargo.lock")),
];

/// The project's own files: (path, template), `{{name}}` replaced.
fn own_files(lang: Lang, kind: Kind) -> &'static [(&'static str, &'static str)] {
    match (lang, kind) {
        (Lang::Python, Kind::Router) => &[
            ("app.py", include_str!("../templates/py_router.py")),
            (
                "test_app.py",
                include_str!("../templates/py_router_test.py"),
            ),
        ],
        (Lang::Python, Kind::ClaimPolicy) => &[
            ("app.py", include_str!("../templates/py_policy.py")),
            (
                "test_app.py",
                include_str!("../templates/py_policy_test.py"),
            ),
        ],
        (Lang::Js, Kind::Router) => &[
            ("plugin.js", include_str!("../templates/js_router.js")),
            (
                "plugin.test.js",
                include_str!("../templates/js_router_test.js"),
            ),
        ],
        (Lang::Js, Kind::ClaimPolicy) => &[
            ("plugin.js", include_str!("../templates/js_policy_entry.js")),
            ("policy.js", include_str!("../templates/js_policy.js")),
            (
                "policy.test.js",
                include_str!("../templates/js_policy_test.js"),
            ),
        ],
        (Lang::Rust, Kind::Router) => &[
            ("Cargo.toml", include_str!("../templates/rs_Cargo.toml")),
            ("src/lib.rs", include_str!("../templates/rs_router.rs")),
        ],
        (Lang::Rust, Kind::ClaimPolicy) => &[
            ("Cargo.toml", include_str!("../templates/rs_Cargo.toml")),
            ("src/lib.rs", include_str!("../templates/rs_policy.rs")),
        ],
    }
}

/// Sample input for `sluice plugin test`.
fn sample(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Router => (
            "events.jsonl",
            include_str!("../templates/router_events.jsonl"),
        ),
        Kind::ClaimPolicy => (
            "rounds.json",
            include_str!("../templates/policy_rounds.json"),
        ),
    }
}

/// Whether `name` can name a project (a folder, a crate, a plugin): ASCII letters, digits,
/// `-` and `_`, starting with a letter.
fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Writes the project `name` into `parent/name`, which must not exist yet; returns its path.
pub fn new_project(parent: &Path, name: &str, lang: Lang, kind: Kind) -> Result<PathBuf> {
    if !valid_name(name) {
        bail!(
            "{name:?} is not a plugin name: use letters, digits, `-` and `_`, starting with a letter"
        );
    }
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk: &[(&str, &str)] = match lang {
        Lang::Python => PYTHON_SDK,
        Lang::Js => JS_SDK,
        Lang::Rust => RUST_SDK,
    };
    let manifest = Manifest {
        name: name.to_owned(),
        lang,
        kind,
    };
    let mut files: Vec<(&str, String)> = vec![
        ("sluice-plugin.toml", manifest.to_toml()),
        ("wit/sluice.wit", WIT.to_owned()),
    ];
    files.extend(sdk.iter().map(|(p, text)| (*p, (*text).to_owned())));
    files.extend(
        own_files(lang, kind)
            .iter()
            .map(|(p, text)| (*p, text.replace("{{name}}", name))),
    );
    let (sample_file, sample_text) = sample(kind);
    files.push((sample_file, sample_text.to_owned()));
    files.push((".gitignore", "/target\n__pycache__/\n".to_owned()));
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(dir)
}
