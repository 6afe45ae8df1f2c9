//! The README's quickstart, run as written: each `$ redis-cli …` line of its `console` blocks
//! is sent to a real server started with `examples/sluice.toml` and the example plugins, and
//! what `redis-cli` would print is compared with the lines the README shows under it. The
//! clock is the README's (`1732406400000`, one millisecond per command) and each command waits
//! for the routes to catch up, so IDs are what a user sees on a quiet machine. A shown `...`
//! line stands for the rest of the output.

use anyhow::{Context, Result, bail};
use sluice_tests::redis_cli::{format_reply, split_command_line};
use sluice_tests::{Config, ManualClock, TestServer, plugins};

use crate::routes::support::{exists, route_names, route_until, wait_caught_up};

/// The README's first ID: 2024-11-24 00:00:00 UTC.
const README_T0: u64 = 1_732_406_400_000;

/// One command of a transcript and the lines shown under it.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The `$ redis-cli …` steps of the `console` blocks in the section headed `heading`.
fn transcript(readme: &str, heading: &str) -> Result<Vec<Step>> {
    let start = readme
        .find(heading)
        .with_context(|| format!("no {heading:?} in the README"))?;
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for line in section.lines() {
        match line.trim_end() {
            "```console" => in_console = true,
            "```" => in_console = false,
            line if in_console => match line.strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    command: command.to_owned(),
                    expected: Vec::new(),
                }),
                None => match steps.last_mut() {
                    Some(step) => step.expected.push(line.to_owned()),
                    None => bail!("output before any command: {line:?}"),
                },
            },
            _ => {}
        }
    }
    Ok(steps)
}

/// True if `actual` is what `expected` shows (up to a `...` line, if any).
fn shows(expected: &[String], actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().collect();
    match expected.iter().position(|l| l == "...") {
        Some(cut) => {
            actual.len() >= cut && expected[..cut].iter().zip(&actual).all(|(e, a)| e == a)
        }
        None => expected.len() == actual.len() && expected.iter().zip(&actual).all(|(e, a)| e == a),
    }
}

#[test]
fn the_quickstart_prints_what_the_readme_shows() -> Result<()> {
    let root = plugins::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md"))?;
    let steps = transcript(&readme, "## Quickstart with `redis-cli`")?;
    assert!(steps.len() >= 8, "{steps:?}");

    let mut config = Config::from_file(&root.join("examples/sluice.toml"))?;
    config.plugins_dir = Some(plugins::built()?.to_owned());
    config.config_file = None;
    let clock = ManualClock::new(README_T0);
    let server = TestServer::start_with_clock(config, clock.clone())?;
    let mut con = server.client()?;
    let routes = route_names(&mut con)?;
    assert_eq!(routes, ["orders-by-region", "big-orders", "redact-cards"]);
    for name in &routes {
        route_until(&mut con, name, "runs", |r| {
            crate::routes::support::in_state(r, "running")
        })?;
    }
    let mut raw = server.raw()?;
    let mut printed = String::new();
    let mut differs = Vec::new();
    for step in &steps {
        let words = split_command_line(&step.command)?;
        let Some(("redis-cli", args)) = words.split_first().map(|(c, a)| (c.as_str(), a)) else {
            bail!("not a redis-cli command: {:?}", step.command);
        };
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        raw.send_cmd(&args)?;
        let output = format_reply(&raw.read_reply_bytes()?)?;
        // What the routes do with it, before the clock moves on.
        for name in &routes {
            let source = crate::routes::support::route(&mut con, name)?
                .text("source")?
                .unwrap_or_default();
            if exists(&mut con, &source)? {
                wait_caught_up(&mut con, name)?;
            }
        }
        clock.advance(1);
        printed.push_str(&format!("$ {}\n{output}", step.command));
        if !shows(&step.expected, &output) {
            differs.push(step.command.clone());
        }
    }
    assert!(
        differs.is_empty(),
        "the README shows something else for {differs:?}; the server printed:\n{printed}"
    );
    Ok(())
}
