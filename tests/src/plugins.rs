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

pub use sluice_build_plugins::lang::Lang;

/// The built example plugin `file` (`router.wasm`, ...) of `lang` (Python: `router`,
/// `dead_letter_after`; JavaScript: `filter`, `transform`, `router`), building the examples
/// and installing their toolchain into `target/toolchains` on first use. `Ok(None)` when the
/// toolchain cannot be installed here (no python3/pip or node/npm, or no registry), after
/// saying so on stderr: the test is then skipped. Under CI (`CI` set) that is an error: CI
/// must run them.
pub fn lang_component(lang: Lang, file: &str) -> Result<Option<PathBuf>> {
    match sluice_build_plugins::lang::built_examples(lang) {
        Ok(dir) => {
            warm_all()?;
            Ok(Some(dir.join(file)))
        }
        Err(e) if std::env::var_os("CI").is_none() && e.contains("install") => {
            eprintln!("SKIPPED: the {lang:?} toolchain cannot be installed here: {e}");
            Ok(None)
        }
        Err(e) => bail!("{e}"),
    }
}

/// Copies `from` into `dir` as `file`, atomically, as a deploy would.
pub fn install_file(dir: &Path, from: &Path, file: &str) -> Result<()> {
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::copy(from, &tmp).with_context(|| format!("copy {}", from.display()))?;
    std::fs::rename(&tmp, dir.join(file)).with_context(|| format!("install {file}"))?;
    Ok(())
}

/// Compiles every Python and JavaScript example that builds here into the compiled-plugin
/// cache the test servers share (`SLUICE_PLUGIN_CACHE_DIR`, set in `.cargo/config.toml`), once
/// per process and all before any test's server loads one: a server compiles its plugins
/// before it accepts connections, and a cold Python or JavaScript component takes ~10 s of
/// both cores to compile, longer than a client waits for a reply.
fn warm_all() -> Result<()> {
    use std::sync::OnceLock;
    static WARM: OnceLock<Result<(), String>> = OnceLock::new();
    let result = WARM.get_or_init(|| {
        for lang in [Lang::Python, Lang::JavaScript] {
            // A language whose toolchain is missing is its own tests' business.
            let Ok(dir) = sluice_build_plugins::lang::built_examples(lang) else {
                continue;
            };
            let files = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for file in files {
                let path = file.map_err(|e| e.to_string())?.path();
                if path.extension().is_some_and(|e| e == "wasm") {
                    warm_cache(&path).map_err(|e| format!("{e:#}"))?;
                }
            }
        }
        Ok(())
    });
    result.clone().map_err(|e| anyhow::anyhow!(e))
}

/// Compiles `component` into the shared cache and waits until a new engine finds it there.
fn warm_cache(component: &Path) -> Result<()> {
    let Some(cache) = std::env::var_os("SLUICE_PLUGIN_CACHE_DIR") else {
        return Ok(());
    };
    let bytes =
        std::fs::read(component).with_context(|| format!("read {}", component.display()))?;
    let host = || {
        sluice_plugin_host::PluginHost::with_cache(
            sluice_plugin_host::Limits::default(),
            Some(Path::new(&cache)),
        )
    };
    host()?.compile(&bytes)?;
    // The cache stores its entries from a worker thread.
    for _ in 0..100 {
        let check = host()?;
        check.compile(&bytes)?;
        if check.cache_hits_and_misses().0 == 1 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!(
        "{} never reached the plugin cache {cache:?}",
        component.display()
    )
}
