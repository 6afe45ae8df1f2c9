//! Claim policies that go wrong, and policies replaced while the server runs. A plugin that
//! traps, runs forever, names a consumer the group does not have, or fails its evaluation
//! changes nothing — the group's pending entries stay exactly as they were — and says why in
//! `SLUICE POLICIES`, while the server and the other policies go on. A policy's plugin is
//! swapped by editing the config file; a plugin file that does not compile or does not
//! initialise leaves the running version in place.
//!
//! Helpers in `support.rs`; the example policies in `decisions.rs`.

use std::path::Path;

use anyhow::Result;
use sluice_tests::{Config, ManualClock, TestServer, plugins, tempdir};

use crate::policies::support::{
    MISBEHAVE, REASSIGN_IDLE, cmd, counted, create_workers, policy, policy_toml, policy_until,
    read_jobs, settled, xpending,
};
use crate::routes::support::{Fields, T0, id, replace_file, start, xadd};

/// The misbehaving modes: (policy and group name, extra TOML, what `last-error` says).
fn faults() -> [(&'static str, &'static str, String); 4] {
    let prefix = "evaluation failed, nothing changed: plugin";
    [
        ("trap", "", format!("{prefix} trap trapped: ")),
        (
            "loop",
            "timeout_ms = 50\n",
            format!("{prefix} loop was stopped after running longer than its 50ms limit per call"),
        ),
        (
            "unknown-consumer",
            "",
            format!(
                "{prefix} unknown-consumer answered outside the contract: entry 0 ({}) is \
                 reassigned to \"no-such-consumer\", which is not one of the group's consumers \
                 passed",
                id(0)
            ),
        ),
        (
            "error",
            "",
            format!("{prefix} error failed the call: policy-misbehave: asked to fail"),
        ),
    ]
}

/// Four misbehaving policies, each on a group of its own, and a healthy one on a fifth. The
/// four fail evaluation after evaluation and say why; their groups' pending entries are
/// exactly as before; the healthy policy acknowledges its group's entries; the server answers
/// and serves the failing groups as usual.
#[test]
fn a_misbehaving_policy_changes_nothing_and_says_why() -> Result<()> {
    let mut toml = policy_toml(
        "ok",
        "jobs",
        "ok",
        "policy_misbehave.wasm",
        "{ mode = \"ok\" }",
        20,
    );
    for (mode, extra, _) in faults() {
        let interval = if mode == "loop" { 200 } else { 20 };
        let config = format!("{{ mode = \"{mode}\" }}");
        toml += &policy_toml(
            mode,
            "jobs",
            mode,
            "policy_misbehave.wasm",
            &config,
            interval,
        );
        toml += extra;
    }
    let (server, clock, _dir) = start(&[MISBEHAVE], &toml)?;
    let mut con = server.client()?;
    xadd(&mut con, "jobs", &[("n", "1")])?;
    xadd(&mut con, "jobs", &[("n", "2")])?;
    let groups: Vec<&str> = std::iter::once("ok")
        .chain(faults().iter().map(|f| f.0))
        .collect();
    for group in &groups {
        cmd(&mut con, &["XGROUP", "CREATE", "jobs", group, "0"])?;
        cmd(
            &mut con,
            &["XREADGROUP", "GROUP", group, "A", "STREAMS", "jobs", ">"],
        )?;
    }
    clock.advance(1000);
    let before = format!("[[{}, A, 1000, 1], [{}, A, 1000, 1]]", id(0), id(1));
    for (mode, _, _) in faults() {
        assert_eq!(xpending(&mut con, "jobs", mode)?, before, "{mode}");
    }

    for (mode, _, error) in faults() {
        let p = policy_until(&mut con, mode, "has failed three times", |p| {
            Ok(p.count("failed-evaluations")? >= 3)
        })?;
        let last_error = p.text("last-error")?.unwrap_or_default();
        if mode == "trap" {
            assert!(
                last_error.starts_with(&error)
                    && last_error.contains("policy-misbehave: asked to trap"),
                "{last_error}"
            );
        } else {
            assert_eq!(last_error, error);
        }
        let counters = [
            "evaluations",
            "reassigned",
            "dead-lettered",
            "acked",
            "stale",
        ]
        .map(|c| p.count(c).unwrap_or(-1));
        assert_eq!(counters, [0; 5], "{mode}: {p:?}");
        assert_eq!(p.text("state")?.as_deref(), Some("running"), "{mode}");
        assert_eq!(p.count("last-pending")?, 2, "{mode}");
        assert_eq!(xpending(&mut con, "jobs", mode)?, before, "{mode}");
    }
    counted(&mut con, "ok", "acked", 2)?;
    assert_eq!(xpending(&mut con, "jobs", "ok")?, "[]");
    assert_eq!(policy(&mut con, "ok")?.text("last-error")?, None);

    // The server goes on: the failing groups are read and acknowledged as usual.
    assert_eq!(cmd(&mut con, &["PING"])?, "PONG");
    let third = xadd(&mut con, "jobs", &[("n", "3")])?;
    for (mode, _, _) in faults() {
        assert_eq!(
            cmd(
                &mut con,
                &["XREADGROUP", "GROUP", mode, "A", "STREAMS", "jobs", ">"]
            )?,
            format!("[[jobs, [[{third}, [n, 3]]]]]"),
            "{mode}"
        );
        assert_eq!(
            cmd(&mut con, &["XACK", "jobs", mode, &id(0), &id(1), &third])?,
            "3"
        );
    }
    Ok(())
}

/// Writes the config file as an editor saves it: a temporary file renamed over the old one.
fn save_config(file: &Path, plugins_dir: &Path, policies: &str) -> Result<()> {
    let text = format!("plugins_dir = '{}'\n{policies}", plugins_dir.display());
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)?;
    Ok(())
}

/// Waits until policy `name`'s `last-error` contains `needle`.
fn policy_error(con: &mut redis::Connection, name: &str, needle: &str) -> Result<Fields> {
    policy_until(con, name, &format!("reports {needle:?}"), |p| {
        Ok(p.text("last-error")?.is_some_and(|e| e.contains(needle)))
    })
}

/// A reads a new entry `n <n>`; after 5 s of idleness policy `p`, running `reassign-idle`,
/// gives it to B, its `reassigned` counter now `reassigned`; B acknowledges it.
fn reassigns_to_b(
    con: &mut redis::Connection,
    clock: &ManualClock,
    n: u64,
    reassigned: i64,
) -> Result<()> {
    let id = xadd(con, "jobs", &[("n", &n.to_string())])?;
    read_jobs(con, "A", None, ">")?;
    settled(con, "p")?;
    assert_eq!(
        xpending(con, "jobs", "workers")?,
        format!("[[{id}, A, 0, 1]]")
    );
    clock.advance(5000);
    counted(con, "p", "reassigned", reassigned)?;
    assert_eq!(
        xpending(con, "jobs", "workers")?,
        format!("[[{id}, B, 0, 1]]")
    );
    assert_eq!(cmd(con, &["XACK", "jobs", "workers", &id])?, "1");
    Ok(())
}

/// Policy `p` runs `policy-misbehave` (acknowledging everything); the config file is edited to
/// run `reassign-idle` instead, and the new behaviour shows, `reloads` 1. Then its plugin file
/// is replaced by bytes that do not compile, and by a component that refuses the config: each
/// time `last-error` says so and the running version goes on reassigning.
#[test]
fn a_policy_is_swapped_by_a_config_edit_and_survives_broken_files() -> Result<()> {
    let dir = plugins::folder(&[MISBEHAVE, REASSIGN_IDLE])?;
    let file = tempdir()?.join("sluice.toml");
    let acker = policy_toml(
        "p",
        "jobs",
        "workers",
        "policy_misbehave.wasm",
        "{ mode = \"ok\" }",
        20,
    );
    save_config(&file, &dir, &acker)?;
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Config::from_file(&file)?, clock.clone())?;
    let mut con = server.client()?;
    create_workers(&mut con)?;
    xadd(&mut con, "jobs", &[("n", "0")])?;
    read_jobs(&mut con, "A", None, ">")?;
    counted(&mut con, "p", "acked", 1)?;
    assert_eq!(xpending(&mut con, "jobs", "workers")?, "[]");
    cmd(
        &mut con,
        &["XGROUP", "CREATECONSUMER", "jobs", "workers", "B"],
    )?;

    let reassigner = policy_toml(
        "p",
        "jobs",
        "workers",
        "reassign_idle.wasm",
        "{ idle_ms = 5000 }",
        20,
    );
    save_config(&file, &dir, &reassigner)?;
    let p = policy_until(&mut con, "p", "runs reassign-idle", |p| {
        Ok(p.text("plugin-name")?.as_deref() == Some("reassign-idle"))
    })?;
    assert_eq!(
        (p.count("reloads")?, p.text("plugin")?, p.text("state")?),
        (1, Some("reassign_idle.wasm".into()), Some("running".into()))
    );
    reassigns_to_b(&mut con, &clock, 1, 1)?;

    replace_file(&dir, "reassign_idle.wasm", b"not a component")?;
    let p = policy_error(&mut con, "p", "cannot compile")?;
    let error = p.text("last-error")?.unwrap_or_default();
    assert!(
        error.starts_with(
            "claim policy p: cannot load reassign_idle.wasm: cannot compile the plugin: "
        ) && error.ends_with("; the previous version keeps running"),
        "{error}"
    );
    assert_eq!(
        (p.count("reloads")?, p.text("state")?),
        (1, Some("running".into()))
    );
    reassigns_to_b(&mut con, &clock, 2, 2)?;

    // A component, but one that refuses `idle_ms`.
    let backoff = std::fs::read(plugins::component("backoff")?)?;
    replace_file(&dir, "reassign_idle.wasm", &backoff)?;
    let p = policy_error(&mut con, "p", "failed to initialise")?;
    assert_eq!(
        p.text("last-error")?.as_deref(),
        Some(
            "claim policy p: cannot load reassign_idle.wasm: plugin p failed to initialise: \
             unknown config key `idle_ms`; the previous version keeps running"
        )
    );
    assert_eq!(
        (p.count("reloads")?, p.text("plugin-name")?),
        (1, Some("reassign-idle".into()))
    );
    reassigns_to_b(&mut con, &clock, 3, 3)?;
    Ok(())
}
