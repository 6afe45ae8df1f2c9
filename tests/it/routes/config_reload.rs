//! Config-file hot reload: edits of the file add and remove routes while the server runs, a
//! file that does not parse or names two routes alike changes nothing, and `SLUICE RELOAD`
//! says why; with nothing changed, a reload changes nothing.
//!
//! Plugin-file reload is in `reload.rs`, SIGKILL and restarts in `restart.rs`,
//! configs refused at start in `faults.rs`; the shared helpers in `support.rs`.

use std::ops::ControlFlow;
use std::path::Path;

use anyhow::{Context, Result};
use sluice_tests::{Config, TestServer, plugins, tempdir};

use crate::routes::support::{
    FORWARD_ALL, caught_up, entries, group, in_state, pair, route, route_names, route_toml,
    seqs_of, sluice_routes, wait_entries, wait_until, xadd, xadd_seqs, xlen,
};

/// Writes the config file as an editor saves it: a temporary file renamed over the old one.
fn save_config(file: &Path, plugins_dir: &Path, routes: &[String]) -> Result<()> {
    let text = format!(
        "plugins_dir = '{}'\n{}",
        plugins_dir.display(),
        routes.concat()
    );
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)?;
    Ok(())
}

/// `INFO plugins`'s `plugin_reloads_failed`.
fn reloads_failed(con: &mut redis::Connection) -> Result<u64> {
    let info: String = redis::cmd("INFO").arg("plugins").query(con)?;
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix("plugin_reloads_failed:"))
        .with_context(|| format!("no plugin_reloads_failed in {info}"))?;
    Ok(line.trim().parse()?)
}

/// Waits until `SLUICE ROUTES` lists exactly `names`, all running.
fn routes_are(con: &mut redis::Connection, names: &[&str]) -> Result<()> {
    wait_until(&format!("the routes are {names:?}"), || {
        let list = sluice_routes(con)?;
        let mut seen = Vec::new();
        let mut running = true;
        for r in &list {
            seen.push(r.some_text("name")?);
            running &= in_state(r, "running")?;
        }
        Ok(if running && seen == names {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(format!("{list:?}"))
        })
    })
}

/// Edits of the config file are applied while the server runs: a route added starts, a
/// route removed stops (its position stays where it was), and a file that does not parse,
/// or names two routes alike, changes nothing and `SLUICE RELOAD` says why.
#[test]
fn config_file_edits_add_and_remove_routes() -> Result<()> {
    let plugins_dir =
        plugins::folder(&[("filter", "filter.wasm"), ("transform", "transform.wasm")])?;
    let folder = tempdir()?;
    let file = folder.join("sluice.toml");
    let a = route_toml(
        "a",
        "a.src",
        "filter.wasm",
        r#"{ field = "n", op = "exists", destination = "a.dst" }"#,
    );
    let b = route_toml(
        "b",
        "b.src",
        "transform.wasm",
        r#"{ "set.via" = "b", destination = "b.dst" }"#,
    );
    save_config(&file, &plugins_dir, std::slice::from_ref(&a))?;
    let config = Config::from_file(&file)?;
    assert_eq!(config.config_file.as_deref(), Some(file.as_path()));
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    let mut raw = server.raw()?;
    assert_eq!(route_names(&mut con)?, ["a"]);
    xadd(&mut con, "a.src", &[("n", "1")])?;
    wait_entries(&mut con, "a.dst", 1)?;

    // Add route b.
    save_config(&file, &plugins_dir, &[a.clone(), b.clone()])?;
    routes_are(&mut con, &["a", "b"])?;
    let first_b = xadd(&mut con, "b.src", &[("n", "1")])?;
    let got = wait_entries(&mut con, "b.dst", 1)?;
    assert_eq!(got, vec![vec![pair("n", 1), pair("via", "b")]]);
    // Route a, unchanged, was left alone.
    assert_eq!(route(&mut con, "a")?.count("reloads")?, 0);

    // Remove it: once SLUICE ROUTES stops listing it, its thread has stopped, and what is
    // added to its source stays unrouted, its position where it was.
    save_config(&file, &plugins_dir, std::slice::from_ref(&a))?;
    routes_are(&mut con, &["a"])?;
    xadd(&mut con, "b.src", &[("n", "2")])?;
    xadd(&mut con, "a.src", &[("n", "2")])?;
    wait_entries(&mut con, "a.dst", 2)?;
    let g = group(&mut con, "b.src", "sluice:route:b")?;
    assert_eq!(g.some_text("last-delivered-id")?, first_b);
    assert_eq!(g.count("lag")?, 1);
    assert_eq!(xlen(&mut con, "b.dst")?, 1);

    // A syntax error: seen by the watcher, refused, nothing changes.
    let failed_before = reloads_failed(&mut con)?;
    std::fs::write(
        &file,
        format!(
            "plugins_dir = '{}'\n[[route]]\nname = \"a\"\nsource = \n",
            plugins_dir.display()
        ),
    )?;
    wait_until("the broken config file is refused", || {
        let failed = reloads_failed(&mut con)?;
        Ok(if failed > failed_before {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(format!("plugin_reloads_failed:{failed}"))
        })
    })?;
    assert_eq!(route_names(&mut con)?, ["a"]);
    let r = route(&mut con, "a")?;
    assert_eq!(r.text("state")?.as_deref(), Some("running"));
    assert_eq!(r.count("reloads")?, 0);
    xadd(&mut con, "a.src", &[("n", "3")])?;
    wait_entries(&mut con, "a.dst", 3)?;
    let reply = raw.cmd(&["SLUICE", "RELOAD"])?;
    let want = format!(
        "-ERR reload: config file {}: TOML parse error at line 4",
        file.display()
    );
    assert!(reply.starts_with(&want), "{reply}");
    assert!(
        reply.ends_with("(fix the file or pass the setting as a flag)\r\n"),
        "{reply}"
    );

    // Valid TOML, invalid routes: refused with the reason.
    save_config(&file, &plugins_dir, &[a.clone(), a.clone()])?;
    let reply = raw.cmd(&["SLUICE", "RELOAD"])?;
    assert_eq!(
        reply,
        format!(
            "-ERR reload: config file {}: two routes are named \"a\"\r\n",
            file.display()
        )
    );
    assert_eq!(route_names(&mut con)?, ["a"]);

    // Route b back: it resumes from its position, routing what was added while it was gone.
    save_config(&file, &plugins_dir, &[a, b])?;
    let got = wait_entries(&mut con, "b.dst", 2)?;
    assert_eq!(
        got,
        vec![
            vec![pair("n", 1), pair("via", "b")],
            vec![pair("n", 2), pair("via", "b")]
        ]
    );
    assert_eq!(route_names(&mut con)?, ["a", "b"]);
    assert_eq!(raw.cmd(&["SLUICE", "RELOAD"])?, "+OK\r\n");
    let a_dst = entries(&mut con, "a.dst")?;
    assert_eq!(
        a_dst,
        (1..=3).map(|n| vec![pair("n", n)]).collect::<Vec<_>>()
    );
    Ok(())
}

/// `SLUICE RELOAD` with neither the config file nor the plugin changed replies OK and leaves
/// everything as it was: same route, same counters, the plugin not loaded again.
#[test]
fn reload_with_nothing_changed_changes_nothing() -> Result<()> {
    let plugins_dir = plugins::folder(&[("filter", "r.wasm")])?;
    let folder = tempdir()?;
    let file = folder.join("sluice.toml");
    save_config(
        &file,
        &plugins_dir,
        &[route_toml("r", "src", "r.wasm", FORWARD_ALL)],
    )?;
    let server = TestServer::start_with(Config::from_file(&file)?)?;
    let mut con = server.client()?;
    let mut raw = server.raw()?;
    xadd_seqs(&mut raw, "src", 0..3)?;
    caught_up(&mut con, "r", 3)?;
    let routes_before = raw.cmd(&["SLUICE", "ROUTES"])?;
    let plugins_before = raw.cmd(&["SLUICE", "PLUGINS"])?;
    for _ in 0..2 {
        assert_eq!(raw.cmd(&["SLUICE", "RELOAD"])?, "+OK\r\n");
    }
    assert_eq!(raw.cmd(&["SLUICE", "ROUTES"])?, routes_before);
    assert_eq!(raw.cmd(&["SLUICE", "PLUGINS"])?, plugins_before);

    // The same route goes on, its counters continuing.
    xadd_seqs(&mut raw, "src", 3..5)?;
    let r = caught_up(&mut con, "r", 5)?;
    assert_eq!(r.count("events-out")?, 5);
    assert_eq!(r.count("reloads")?, 0);
    assert_eq!(r.text("last-error")?, None);
    let got = entries(&mut con, "dst")?;
    assert_eq!(seqs_of("dst", &got, &[])?, (0..5).collect::<Vec<_>>());
    Ok(())
}
