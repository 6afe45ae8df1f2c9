//! Plugins in Python and JavaScript: the component toolchains (`componentize-py` from PyPI,
//! `@bytecodealliance/componentize-js` from npm), installed on first use into a cache folder
//! rather than globally, and the builds that use them. Used by the tests (cache
//! `target/toolchains`, [`Toolchains::in_repo`]) and by `sluice plugin build` (cache
//! `~/.cache/sluice/toolchains`, [`Toolchains::for_user`]).
//!
//! JavaScript goes through componentize-js itself, the engine `jco componentize` wraps: jco
//! 1.35's own command cannot read a WIT file (its WASI file shim starts with no preopened
//! folder), and componentize-js alone is all the build needs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The `componentize-py` release the Python SDK is tested with (pip requirement).
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
/// The componentize-js release the JavaScript SDK is tested with (npm package spec).
pub const COMPONENTIZE_JS: &str = "@bytecodealliance/componentize-js@0.23.0";

/// WASI features the JavaScript engine would import and the broker does not grant (it links
/// no `wasi:http`, and a plugin has no stdio, clocks or randomness to speak of).
const JS_DISABLED: [&str; 5] = ["stdio", "random", "clocks", "http", "fetch-event"];

/// A plugin language other than Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// componentize-py; the project's entry module is `app.py`.
    Python,
    /// componentize-js; the project's entry module is given.
    JavaScript,
}

/// Where the toolchains live, and what installing one says.
#[derive(Debug, Clone)]
pub struct Toolchains {
    /// The cache folder: `python/` (pip `--target`) and `js/` (npm `--prefix`) below it.
    pub cache: PathBuf,
}

impl Toolchains {
    /// The repository's own cache, `target/toolchains`, as the tests and `.ci/run` use.
    pub fn in_repo() -> Self {
        Self {
            cache: crate::repo_root().join("target/toolchains"),
        }
    }

    /// A plugin author's cache: `$SLUICE_TOOLCHAINS`, else `$XDG_CACHE_HOME/sluice/toolchains`,
    /// else `~/.cache/sluice/toolchains`.
    pub fn for_user() -> Self {
        let cache = std::env::var_os("SLUICE_TOOLCHAINS")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .map(|d| PathBuf::from(d).join("sluice/toolchains"))
            })
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sluice/toolchains"))
            })
            .unwrap_or_else(|| PathBuf::from(".sluice-toolchains"));
        Self { cache }
    }

    /// The command that installs the toolchain of `lang` into this cache, as a user would type it.
    pub fn install_command(&self, lang: Lang) -> String {
        match lang {
            Lang::Python => format!(
                "python3 -m pip install --target {} {COMPONENTIZE_PY}",
                self.cache.join("python").display()
            ),
            Lang::JavaScript => format!(
                "npm install --prefix {} {COMPONENTIZE_JS}",
                self.cache.join("js").display()
            ),
        }
    }

    /// The toolchain's entry point, once installed.
    fn tool(&self, lang: Lang) -> PathBuf {
        match lang {
            Lang::Python => self.cache.join("python/bin/componentize-py"),
            Lang::JavaScript => self.cache.join("js/node_modules/.bin/componentize-js"),
        }
    }

    /// Installs the toolchain of `lang` unless it is there; `say` hears what is done (one line
    /// before a download). `Err` names the exact command that would install it by hand.
    pub fn ensure(&self, lang: Lang, say: &mut dyn FnMut(&str)) -> Result<(), String> {
        if self.tool(lang).is_file() {
            return Ok(());
        }
        let (what, mut cmd) = match lang {
            Lang::Python => {
                let mut cmd = Command::new("python3");
                cmd.args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg("--target")
                .arg(self.cache.join("python"))
                .arg(COMPONENTIZE_PY);
                (COMPONENTIZE_PY, cmd)
            }
            Lang::JavaScript => {
                let mut cmd = Command::new("npm");
                cmd.args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(self.cache.join("js"))
                    .arg(COMPONENTIZE_JS);
                (COMPONENTIZE_JS, cmd)
            }
        };
        say(&format!(
            "installing {what} into {} (once; later builds reuse it)",
            self.cache.display()
        ));
        if let Err(e) = std::fs::create_dir_all(&self.cache) {
            return Err(format!("cannot create {}: {e}", self.cache.display()));
        }
        let manual = self.install_command(lang);
        match cmd.output() {
            Ok(out) if out.status.success() && self.tool(lang).is_file() => Ok(()),
            Ok(out) => Err(format!(
                "installing {what} failed; install it with `{manual}`:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )),
            Err(e) => Err(format!(
                "cannot run the installer ({e}); install {what} with `{manual}`"
            )),
        }
    }

    /// Builds a component of world `world` (`router` or `claim-policy`) of the package in
    /// `wit` (a folder or file) into `out`, from a Python project folder (`entry` is its
    /// `app.py`, its folder and `search` are the module path) or a JavaScript entry module.
    /// Installs the toolchain first if needed. Nothing is done when `out` is newer than every
    /// input.
    pub fn build(&self, spec: &BuildSpec<'_>, say: &mut dyn FnMut(&str)) -> Result<(), String> {
        let inputs: Vec<&Path> = [spec.entry, spec.wit]
            .into_iter()
            .chain(spec.search.iter().copied())
            .collect();
        if is_fresh(spec.out, &inputs) {
            return Ok(());
        }
        self.ensure(spec.lang, say)?;
        if let Some(parent) = spec.out.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let entry_dir = spec.entry.parent().unwrap_or(Path::new("."));
        let mut cmd = Command::new(self.tool(spec.lang));
        match spec.lang {
            Lang::Python => {
                let module = spec
                    .entry
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("app");
                cmd.env("PYTHONPATH", self.cache.join("python"))
                    .arg("-d")
                    .arg(spec.wit)
                    .args(["-w", spec.world, "componentize", module, "-p"])
                    .arg(entry_dir);
                for dir in spec.search {
                    cmd.arg("-p").arg(dir);
                }
                cmd.arg("-o").arg(spec.out);
            }
            Lang::JavaScript => {
                // componentize-js resolves the entry's imports inside its working folder
                // only: run it from the folder holding the SDK, the entry named from there.
                let root = spec
                    .search
                    .first()
                    .and_then(|sdk| sdk.parent())
                    .unwrap_or(entry_dir);
                let entry = spec.entry.strip_prefix(root).unwrap_or(spec.entry);
                cmd.current_dir(root)
                    .arg(entry)
                    .arg("--wit")
                    .arg(spec.wit)
                    .args(["-n", spec.world, "-d"])
                    .args(JS_DISABLED)
                    .arg("-o")
                    .arg(spec.out);
            }
        }
        match cmd.output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                // A half-written file must not look fresh next time.
                let _ = std::fs::remove_file(spec.out);
                Err(format!(
                    "building {} failed:\n{}{}",
                    spec.entry.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
            Err(e) => Err(format!(
                "cannot run {}: {e}",
                self.tool(spec.lang).display()
            )),
        }
    }
}

/// One component to build with [`Toolchains::build`].
#[derive(Debug, Clone)]
pub struct BuildSpec<'a> {
    /// The language.
    pub lang: Lang,
    /// The entry module: a project's `app.py`, or a `.js` file.
    pub entry: &'a Path,
    /// Python: more folders on the module path (the SDK's parent folder). JavaScript: the
    /// SDK's folder, whose parent the build runs in (the entry must be below it) and whose
    /// changes make the build stale.
    pub search: &'a [&'a Path],
    /// The WIT folder or file.
    pub wit: &'a Path,
    /// `router` or `claim-policy`.
    pub world: &'a str,
    /// The component file to write.
    pub out: &'a Path,
}

/// True if `out` exists and is newer than every file in `inputs` (folders walked, skipping
/// `__pycache__` and `node_modules`).
fn is_fresh(out: &Path, inputs: &[&Path]) -> bool {
    let Ok(built) = std::fs::metadata(out).and_then(|m| m.modified()) else {
        return false;
    };
    inputs.iter().all(|p| newest(p).is_some_and(|t| t <= built))
}

fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    let mut latest = meta.modified().ok()?;
    for entry in std::fs::read_dir(path).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        if name == "__pycache__" || name == "node_modules" {
            continue;
        }
        latest = latest.max(newest(&entry.path())?);
    }
    Some(latest)
}

/// The repository's example plugins in Python and JavaScript, built (once per process, and
/// only when stale) into `target/plugins/python` and `target/plugins/js`: `router.wasm`,
/// `dead_letter_after.wasm`; `filter.wasm`, `transform.wasm` (the JavaScript `router.wasm`,
/// for the benchmark only, with [`build_example`]).
pub fn built_examples(lang: Lang) -> Result<&'static Path, &'static str> {
    use std::sync::OnceLock;
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static JS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cell = match lang {
        Lang::Python => &PY,
        Lang::JavaScript => &JS,
    };
    match cell.get_or_init(|| build_examples(lang)) {
        Ok(dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

fn build_examples(lang: Lang) -> Result<PathBuf, String> {
    let examples: &[(&str, &str, &str)] = match lang {
        Lang::Python => &[
            ("router/app.py", "router", "router.wasm"),
            (
                "dead_letter_after/app.py",
                "claim-policy",
                "dead_letter_after.wasm",
            ),
        ],
        Lang::JavaScript => &[
            ("filter/filter.js", "router", "filter.wasm"),
            ("transform/transform.js", "router", "transform.wasm"),
        ],
    };
    let mut dir = PathBuf::new();
    for (entry, world, file) in examples {
        let out = build_example(lang, entry, world, file)?;
        dir = out.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    Ok(dir)
}

/// Builds one example of `lang` (`entry` under `plugins/python` or `plugins/js`, world
/// `world`) into `target/plugins/<python|js>/<file>`, unless fresh; returns its path.
pub fn build_example(lang: Lang, entry: &str, world: &str, file: &str) -> Result<PathBuf, String> {
    let root = crate::repo_root();
    let (src, sdk, dir) = match lang {
        Lang::Python => (
            root.join("plugins/python"),
            root.join("plugins/python"),
            root.join("target/plugins/python"),
        ),
        Lang::JavaScript => (
            root.join("plugins/js"),
            root.join("plugins/js/sluice-plugin"),
            root.join("target/plugins/js"),
        ),
    };
    let out = dir.join(file);
    Toolchains::in_repo().build(
        &BuildSpec {
            lang,
            entry: &src.join(entry),
            search: &[&sdk],
            wit: &root.join("wit"),
            world,
            out: &out,
        },
        &mut |line| eprintln!("{line}"),
    )?;
    Ok(out)
}
