//! `sluice plugin` as an author runs it, through the binary (the tests' copy,
//! `sluice-under-test`, which starts like `sluice`): `new` in each language, the project's own
//! tests, `build`, `test` over the sample input with exact output lines, `check`, which
//! accepts what it built and refuses a component importing beyond the contract, and the built
//! router deployed as a route in a real server.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};
use sluice_build_plugins::lang::{Lang, Toolchains};

/// `sluice plugin <args>` in `dir`, with the repository's toolchain cache and its plugins'
/// target folder (so a Rust project reuses the compiled SDK dependencies).
fn sluice_plugin(dir: &Path, args: &[&str]) -> Result<Output> {
    let root = sluice_build_plugins::repo_root();
    Ok(Command::new(env!("CARGO_BIN_EXE_sluice-under-test"))
        .arg("plugin")
        .args(args)
        .current_dir(dir)
        .env("SLUICE_TOOLCHAINS", &Toolchains::in_repo().cache)
        .env("CARGO_TARGET_DIR", root.join("target/plugins"))
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .output()?)
}

/// Like [`sluice_plugin`], failing with its stderr unless it succeeded; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> Result<String> {
    let out = sluice_plugin(dir, args)?;
    ensure!(
        out.status.success(),
        "sluice plugin {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Runs `program args` in `dir`, failing with its output unless it succeeded.
fn run(dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {program}"))?;
    super::succeeded(program, args, &out)
}

/// What the scaffolded router answers for its sample `events.jsonl`, with no config.
const ROUTED: &str = "\
{\"event\":\"1-0\",\"key\":\"orders\",\"destination\":\"orders.out\",\"fields\":{\"id\":\"1\",\"region\":\"eu\"}}
{\"event\":\"3-0\",\"key\":\"orders\",\"destination\":\"orders.out\",\"fields\":{\"id\":\"3\",\"region\":\"us\"}}
";

/// `new <name> --lang <lang> --kind <kind>` → the project's own tests → `build`: the
/// project's folder (under a fresh parent) and the component built, or `None` where the
/// toolchain (`tool`) cannot be installed (outside CI).
fn scaffold_and_build(
    lang: &str,
    kind: &str,
    tool: Option<Lang>,
    own_test: (&str, &[&str]),
) -> Result<Option<(std::path::PathBuf, String)>> {
    if let Some(tool) = tool
        && let Err(e) = Toolchains::in_repo().ensure(tool, &mut |l| eprintln!("{l}"))
    {
        ensure!(std::env::var_os("CI").is_none(), "{e}");
        eprintln!("SKIPPED: {e}");
        return Ok(None);
    }
    let parent = sluice_tests::tempdir()?;
    let name = format!("hello-{lang}");
    ok(&parent, &["new", &name, "--lang", lang, "--kind", kind])?;
    let project = parent.join(&name);
    run(&project, own_test.0, own_test.1)?;
    let built = ok(&project, &["build"])?;
    let wasm = Path::new(built.trim());
    let wasm = if wasm.is_absolute() {
        wasm.to_path_buf()
    } else {
        project.join(wasm)
    };
    ensure!(wasm.is_file(), "build printed {built:?}, which is no file");
    Ok(Some((project, wasm.to_string_lossy().into_owned())))
}

/// `new` → the project's own tests → `build` → `test` → `check`, for a router in `lang`; the
/// toolchain (`tool`) is installed on first use, or the test is skipped where it cannot be.
fn router_round_trip(lang: &str, tool: Option<Lang>, own_test: (&str, &[&str])) -> Result<()> {
    let Some((project, wasm)) = scaffold_and_build(lang, "router", tool, own_test)? else {
        return Ok(());
    };
    let parent = project.parent().context("project folder")?.to_path_buf();
    let name = format!("hello-{lang}");
    assert_eq!(
        ok(&project, &["test", &wasm, "--events", "events.jsonl"])?,
        ROUTED
    );
    let check = ok(&project, &["check", &wasm])?;
    ensure!(
        check.starts_with("world: router\nwit: sluice:plugin@0.1.1\nsize: ")
            && check.ends_with("ok: the broker can load it\n"),
        "{check}"
    );
    deployed_routes(&wasm)?;
    // A second project of the same name is refused, the first left alone.
    let again = sluice_plugin(&parent, &["new", &name, "--lang", lang])?;
    ensure!(!again.status.success(), "a second `new {name}` succeeded");
    std::fs::remove_dir_all(&parent)?;
    Ok(())
}

#[test]
fn a_new_python_router_builds_passes_its_tests_and_routes_with_no_config() -> Result<()> {
    router_round_trip(
        "python",
        Some(Lang::Python),
        ("python3", &["-m", "unittest"]),
    )
}

#[test]
fn a_new_javascript_router_builds_passes_its_tests_and_routes_with_no_config() -> Result<()> {
    router_round_trip("js", Some(Lang::JavaScript), ("node", &["--test"]))
}

#[test]
fn a_new_rust_router_builds_and_routes_with_no_config() -> Result<()> {
    // Its `cargo test` compiles the SDK natively: left to the author (the template's tests
    // are those of plugins/, which the plugin workspace's own tests run).
    router_round_trip(
        "rust",
        None,
        ("cargo", &["metadata", "--format-version", "1", "--no-deps"]),
    )
}

/// `check` refuses a component that imports an interface the broker does not provide, naming
/// it; and one that is too big for `plugin-max-size`.
#[test]
fn check_refuses_imports_beyond_the_contract_and_files_over_the_size_limit() -> Result<()> {
    let dir = sluice_tests::plugins::built()?;
    let greedy = dir.join("extra_import.wasm").to_string_lossy().into_owned();
    let out = sluice_plugin(dir, &["check", &greedy])?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "Error: {greedy} imports sluice:plugin/fetch@0.1.1, beyond the contract: a router \
             plugin may import only sluice:plugin/{{types, log}} and WASI's cli, clocks, \
             filesystem, io, random and sockets (granted empty); the broker would refuse to \
             link it"
        )
    );
    let filter = dir.join("filter.wasm").to_string_lossy().into_owned();
    let size = std::fs::metadata(&filter)?.len();
    let out = sluice_plugin(dir, &["check", &filter, "--max-size", "1000"])?;
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "Error: {filter} is {size} bytes, over plugin-max-size (1000 bytes): raise \
             plugin-max-size in the broker's config"
        )
    );
    Ok(())
}

/// The repository's Python and JavaScript examples through `sluice plugin test`, with exact
/// output: the Python router and policy, the JavaScript filter and transform.
#[test]
fn the_examples_run_through_sluice_plugin_test() -> Result<()> {
    let dir = sluice_tests::tempdir()?;
    std::fs::write(
        dir.join("events.jsonl"),
        "{\"key\":\"orders\",\"id\":\"1-0\",\"fields\":{\"id\":\"1\",\"region\":\"eu\"}}\n\
         {\"key\":\"orders\",\"id\":\"2-0\",\"fields\":{\"id\":\"2\"}}\n",
    )?;
    std::fs::write(
        dir.join("rounds.json"),
        "{\"key\":\"jobs\",\"group\":\"g\",\"pending\":[{\"id\":\"1-0\",\"owner\":\"a\",\
         \"idle_ms\":10,\"deliveries\":3},{\"id\":\"2-0\",\"owner\":\"\",\"idle_ms\":1,\
         \"deliveries\":1,\"nack\":\"fatal\"}],\"consumers\":[{\"name\":\"a\"}]}\n",
    )?;
    let cases: [(Lang, &str, &[&str], &str, &str); 4] = [
        (
            Lang::Python,
            "router.wasm",
            &["--config", "field=region"],
            "events.jsonl",
            "{\"event\":\"1-0\",\"key\":\"orders\",\"destination\":\"orders.eu\",\"fields\":{\"id\":\"1\",\"region\":\"eu\"}}\n\
             {\"event\":\"2-0\",\"key\":\"orders\",\"error\":\"no field `region` to route on\",\"kind\":\"failed\"}\n",
        ),
        (
            Lang::Python,
            "dead_letter_after.wasm",
            &["--config", "max_deliveries=3"],
            "rounds.json",
            "{\"entry\":\"1-0\",\"key\":\"jobs\",\"group\":\"g\",\"action\":\"dead-letter\",\"dead_letter\":\"jobs.dlq\",\"reason\":\"delivered 3 times\"}\n\
             {\"entry\":\"2-0\",\"key\":\"jobs\",\"group\":\"g\",\"action\":\"dead-letter\",\"dead_letter\":\"jobs.dlq\",\"reason\":\"NACKed FATAL\"}\n",
        ),
        (
            Lang::JavaScript,
            "filter.wasm",
            &[
                "--config",
                "field=region",
                "--config",
                "equals=eu",
                "--config",
                "destination=eu",
            ],
            "events.jsonl",
            "{\"event\":\"1-0\",\"key\":\"orders\",\"destination\":\"eu\",\"fields\":{\"id\":\"1\",\"region\":\"eu\"}}\n",
        ),
        (
            Lang::JavaScript,
            "transform.wasm",
            &["--config", "drop=region", "--config", "set.seen=yes"],
            "events.jsonl",
            "{\"event\":\"1-0\",\"key\":\"orders\",\"destination\":\"orders.out\",\"fields\":{\"id\":\"1\",\"seen\":\"yes\"}}\n\
             {\"event\":\"2-0\",\"key\":\"orders\",\"destination\":\"orders.out\",\"fields\":{\"id\":\"2\",\"seen\":\"yes\"}}\n",
        ),
    ];
    for (lang, file, config, input, expected) in cases {
        let Some(wasm) = sluice_tests::plugins::lang_component(lang, file)? else {
            continue;
        };
        let wasm = wasm.to_string_lossy().into_owned();
        let mut args = vec!["test", wasm.as_str(), "--events", input];
        args.extend_from_slice(config);
        assert_eq!(ok(&dir, &args)?, expected, "{lang:?} {file}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// `new --kind claim-policy` → the project's own tests → `build` → `check`, in `lang`.
fn claim_policy_round_trip(
    lang: &str,
    tool: Option<Lang>,
    own_test: (&str, &[&str]),
) -> Result<()> {
    let Some((project, wasm)) = scaffold_and_build(lang, "claim-policy", tool, own_test)? else {
        return Ok(());
    };
    let check = ok(&project, &["check", &wasm])?;
    ensure!(
        check.starts_with("world: claim-policy\nwit: sluice:plugin@0.1.1\nsize: ")
            && check.ends_with("ok: the broker can load it\n"),
        "{check}"
    );
    std::fs::remove_dir_all(project.parent().context("project folder")?)?;
    Ok(())
}

#[test]
fn new_claim_policies_build_pass_their_tests_and_check_in_each_language() -> Result<()> {
    claim_policy_round_trip(
        "python",
        Some(Lang::Python),
        ("python3", &["-m", "unittest"]),
    )?;
    claim_policy_round_trip("js", Some(Lang::JavaScript), ("node", &["--test"]))?;
    claim_policy_round_trip(
        "rust",
        None,
        ("cargo", &["metadata", "--format-version", "1", "--no-deps"]),
    )
}

/// The scaffolded router's component deployed as a route with no config, in a real server:
/// every event reaches `orders.out` (as its sample says).
fn deployed_routes(wasm: &str) -> Result<()> {
    let plugins = sluice_tests::tempdir()?;
    std::fs::copy(wasm, plugins.join("hello.wasm"))?;
    let toml = crate::routes::support::route_toml("hello", "orders", "hello.wasm", "{}");
    let server =
        sluice_tests::TestServer::start_with(sluice_tests::plugins::config(&plugins, &toml)?)?;
    let mut con = server.client()?;
    for (id, region) in [("1", "eu"), ("2", "us")] {
        let _: String = redis::cmd("XADD")
            .arg("orders")
            .arg("*")
            .arg("id")
            .arg(id)
            .arg("region")
            .arg(region)
            .query(&mut con)?;
    }
    crate::routes::support::caught_up(&mut con, "hello", 2)?;
    let len: i64 = redis::cmd("XLEN").arg("orders.out").query(&mut con)?;
    assert_eq!(len, 2);
    Ok(())
}
