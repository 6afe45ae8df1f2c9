//! Routes whose plugin fails: a trap, an endless loop, a memory hog, an incompatible or
//! missing plugin file; the three `on_error` policies; and configs the server refuses.
//!
//! Where the events must reach the plugin in one batch (so that the rest of the batch is seen
//! to flow, and restarts are counted exactly), they are written before the route starts and
//! the route reads from `start = "0"`. Waits poll with a generous deadline; nothing asserts how
//! long anything took. The example plugins at work are in `flow.rs`, hot reload in
//! `reload.rs` and `config_reload.rs`, restarts in `restart.rs`; the
//! shared helpers in `support.rs`.

use anyhow::{Result, bail};
use sluice_tests::{TestServer, plugins};

use crate::routes::support::{
    Fields, T0, dead_letter, entries, exists, file_size, get, id, in_state, masked, pairs,
    rendered, route, route_toml, route_until, sluice_plugins, start, start_prefilled,
    start_with_system_clock, wait_caught_up, wait_entries, xadd, xinfo_groups,
};

/// The events of the trap tests: the second one makes `trap-on` panic.
const KINDS: [&[(&str, &str)]; 3] = [&[("kind", "a")], &[("kind", "poison")], &[("kind", "b")]];

/// A server on `orders` holding [`KINDS`] (written before it starts) with one route `name`
/// running `trap-on` from `start = "0"`: it traps on the poison event and forwards the others
/// to `destination`. `extra` (whole TOML lines) is added to the route's table.
fn start_trapping(name: &str, destination: &str, extra: &str) -> Result<TestServer> {
    let config =
        format!(r#"{{ field = "kind", value = "poison", destination = "{destination}" }}"#);
    let toml = route_toml(name, "orders", "trap_on.wasm", &config) + extra + "start = \"0\"\n";
    let trap_on = [("trap-on", "trap_on.wasm")];
    Ok(start_prefilled("orders", &KINDS, &trap_on, &toml)?.0)
}

#[test]
fn trapping_event_is_dead_lettered_and_the_rest_of_its_batch_flows() -> Result<()> {
    let server = start_trapping("guarded", "orders.ok", "")?;
    let mut con = server.client()?;
    let figures = wait_caught_up(&mut con, "guarded")?.rendered();

    assert_eq!(
        entries(&mut con, "orders.ok")?,
        vec![pairs(&[("kind", "a")]), pairs(&[("kind", "b")])]
    );
    let dlq = entries(&mut con, "orders.dlq")?;
    let [entry] = dlq.as_slice() else {
        bail!("expected one dead-letter entry, got {dlq:?}");
    };
    let reason = get(entry, "dlq-reason")?;
    // The panic message names the fixture's source line, so only its shape is fixed.
    assert_trap_reason(reason, "plugin guarded trapped: ")?;
    assert_eq!(
        *entry,
        dead_letter(&[("kind", "poison")], reason, "orders", &id(1), "guarded")
    );
    // One batch: it trapped as a whole (one restart), then each event alone (the poison one
    // trapped again).
    assert_eq!(
        masked(&figures, &["ns-per-event"])?,
        pairs(&[
            ("name", "guarded"),
            ("source", "orders"),
            ("plugin", "trap_on.wasm"),
            ("plugin-name", "trap-on"),
            ("plugin-version", "0.1.1"),
            ("state", "running"),
            ("on-error", "dead-letter"),
            ("dead-letter", "orders.dlq"),
            ("start", "0"),
            ("mode", "embedded"),
            ("events-in", "3"),
            ("events-out", "2"),
            ("dropped", "0"),
            ("dead-lettered", "1"),
            ("skipped", "0"),
            ("loops-refused", "0"),
            ("batches", "1"),
            ("restarts", "2"),
            ("reloads", "0"),
            ("lag", "0"),
            ("ns-per-event", "*"),
            (
                "last-error",
                &format!("event {} of orders: {reason}", id(1))
            ),
        ])
    );
    // The restarted instance routes what comes next.
    xadd(&mut con, "orders", &[("kind", "c")])?;
    assert_eq!(
        wait_entries(&mut con, "orders.ok", 3)?,
        vec![
            pairs(&[("kind", "a")]),
            pairs(&[("kind", "b")]),
            pairs(&[("kind", "c")])
        ]
    );
    Ok(())
}

#[test]
fn endless_plugin_is_interrupted_and_the_server_keeps_answering() -> Result<()> {
    const EVENTS: u64 = 40;
    let numbers: Vec<String> = (0..EVENTS).map(|n| n.to_string()).collect();
    let events: Vec<[(&str, &str); 1]> = numbers.iter().map(|n| [("n", n.as_str())]).collect();
    let events: Vec<&[(&str, &str)]> = events.iter().map(|e| e.as_slice()).collect();
    // Every call spins until its 25 ms deadline: the batch, then each of its events alone.
    let (server, _dir) = start_prefilled(
        "jobs",
        &events,
        &[("loop-forever", "loop_forever.wasm")],
        r#"
[[route]]
name = "spin"
source = "jobs"
plugin = "loop_forever.wasm"
start = "0"
timeout_ms = 25
"#,
    )?;
    let mut con = server.client()?;

    // Answered while the plugin spins on the route's thread.
    let pong: String = redis::cmd("PING").query(&mut con)?;
    assert_eq!(pong, "PONG");
    let side = xadd(&mut con, "side", &[("k", "v")])?;
    assert_eq!(side, id(0));
    assert_eq!(entries(&mut con, "side")?, vec![pairs(&[("k", "v")])]);
    let during = route(&mut con, "spin")?.rendered();
    assert_eq!(get(&during, "state")?, "running");
    let lag: u64 = get(&during, "lag")?.parse()?;
    if lag == 0 {
        bail!("the route had finished before the commands above were answered: {during:?}");
    }

    let figures = wait_caught_up(&mut con, "spin")?.rendered();
    let reason = "plugin spin was stopped after running longer than its 25ms limit per call";
    let want: Vec<_> = (0..EVENTS)
        .map(|n| dead_letter(&[("n", &n.to_string())], reason, "jobs", &id(n), "spin"))
        .collect();
    assert_eq!(entries(&mut con, "jobs.dlq")?, want);
    assert_eq!(get(&figures, "events-in")?, EVENTS.to_string());
    assert_eq!(get(&figures, "dead-lettered")?, EVENTS.to_string());
    assert_eq!(get(&figures, "restarts")?, (EVENTS + 1).to_string());
    assert_eq!(get(&figures, "state")?, "running");
    Ok(())
}

#[test]
fn memory_hog_is_stopped_at_its_limit_and_dead_lettered() -> Result<()> {
    let (server, _clock, _dir) = start(
        &[("memory-hog", "memory_hog.wasm")],
        r#"
[[route]]
name = "hog"
source = "big"
plugin = "memory_hog.wasm"
max_memory = 4194304
"#,
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "big", &[("n", "1")])?;
    // Stopped once, it is started afresh for the next event (and stopped again).
    wait_entries(&mut con, "big.dlq", 1)?;
    xadd(&mut con, "big", &[("n", "2")])?;
    let figures = wait_caught_up(&mut con, "hog")?.rendered();

    let reason = "plugin hog was stopped at its memory limit of 4194304 bytes";
    assert_eq!(
        entries(&mut con, "big.dlq")?,
        vec![
            dead_letter(&[("n", "1")], reason, "big", &id(0), "hog"),
            dead_letter(&[("n", "2")], reason, "big", &id(1), "hog"),
        ]
    );
    assert_eq!(get(&figures, "state")?, "running");
    assert_eq!(get(&figures, "events-in")?, "2");
    assert_eq!(get(&figures, "dead-lettered")?, "2");
    assert_eq!(get(&figures, "restarts")?, "2");
    let pong: String = redis::cmd("PING").query(&mut con)?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn incompatible_plugin_is_refused_naming_both_wit_versions() -> Result<()> {
    let (server, _clock, dir) = start(
        &[("incompatible", "incompatible.wasm")],
        r#"
[[route]]
name = "old"
source = "orders"
plugin = "incompatible.wasm"
"#,
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "orders", &[("k", "v")])?;

    let error = "the plugin was built for sluice:plugin@1.0.0, but this broker speaks \
                 sluice:plugin@0.1.1; a different major version is incompatible: rebuild the \
                 plugin against sluice-plugin-sdk 0.1.1 (or run a broker that speaks 1.0.0)";
    let r = route(&mut con, "old")?.rendered();
    assert_eq!(get(&r, "state")?, "failed");
    assert_eq!(get(&r, "plugin-name")?, "(nil)");
    assert_eq!(
        get(&r, "last-error")?,
        format!("route old: cannot load incompatible.wasm: {error}")
    );
    // It never ran: the event waits, nothing was written anywhere.
    assert_eq!(get(&r, "events-in")?, "0");
    assert_eq!(get(&r, "lag")?, "1");
    assert!(!exists(&mut con, "orders.dlq")?);

    assert_eq!(
        rendered(&sluice_plugins(&mut con)?),
        vec![pairs(&[
            ("file", "incompatible.wasm"),
            ("name", "(nil)"),
            ("version", "(nil)"),
            ("wit-version", "(nil)"),
            ("bytes", &file_size(&dir, "incompatible.wasm")?),
            ("loaded-at", &T0.to_string()),
            ("routes", "[old]"),
            ("error", error),
        ])]
    );
    Ok(())
}

#[test]
fn missing_plugin_file_fails_the_route_with_the_path() -> Result<()> {
    let (server, dir) = start_with_system_clock(
        &[],
        r#"
[[route]]
name = "ghost"
source = "orders"
plugin = "nope.wasm"
"#,
    )?;
    let mut con = server.client()?;

    let r = route(&mut con, "ghost")?.rendered();
    assert_eq!(get(&r, "state")?, "failed");
    assert_eq!(
        get(&r, "last-error")?,
        format!(
            "route ghost: cannot load nope.wasm: cannot read {}: No such file or directory \
             (os error 2)",
            dir.join("nope.wasm").display()
        )
    );
    assert_eq!(rendered(&sluice_plugins(&mut con)?), Vec::<Vec<_>>::new());
    // The server serves regardless.
    xadd(&mut con, "orders", &[("k", "v")])?;
    assert_eq!(get(&route(&mut con, "ghost")?.rendered(), "lag")?, "1");
    Ok(())
}

#[test]
fn on_error_skip_drops_the_failed_event_and_counts_it() -> Result<()> {
    let (server, _clock, _dir) = start(
        &[("router", "router.wasm")],
        r#"
[[route]]
name = "lenient"
source = "orders"
plugin = "router.wasm"
config = { field = "region" }
on_error = "skip"
"#,
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "orders", &[("region", "eu"), ("n", "1")])?;
    let failing = xadd(&mut con, "orders", &[("n", "2")])?;
    xadd(&mut con, "orders", &[("region", "us"), ("n", "3")])?;
    let figures = wait_caught_up(&mut con, "lenient")?.rendered();
    assert_eq!(get(&figures, "events-in")?, "3", "{figures:?}");

    assert_eq!(
        entries(&mut con, "orders.eu")?,
        vec![pairs(&[("region", "eu"), ("n", "1")])]
    );
    assert_eq!(
        entries(&mut con, "orders.us")?,
        vec![pairs(&[("region", "us"), ("n", "3")])]
    );
    assert!(
        !exists(&mut con, "orders.dlq")?,
        "skipped, not dead-lettered"
    );
    assert_eq!(get(&figures, "on-error")?, "skip");
    assert_eq!(get(&figures, "events-out")?, "2");
    assert_eq!(get(&figures, "skipped")?, "1");
    assert_eq!(get(&figures, "dead-lettered")?, "0");
    assert_eq!(
        get(&figures, "last-error")?,
        format!("event {failing} of orders: no field `region` to route on")
    );
    Ok(())
}

/// Waits for route `name` to halt; returns its map.
fn wait_halted(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    route_until(con, name, "halted", |r| in_state(r, "halted"))
}

/// What a route halted before `KINDS`' poison event shows: its position just before it, the
/// first event's output only, nothing dead-lettered.
fn assert_halted_before_poison(
    con: &mut redis::Connection,
    figures: &[(String, String)],
    reloads: &str,
) -> Result<()> {
    assert_eq!(entries(con, "out")?, vec![pairs(&[("kind", "a")])]);
    assert!(!exists(con, "orders.dlq")?);
    assert_eq!(
        rendered(&xinfo_groups(con, "orders")?),
        vec![pairs(&[
            ("name", "sluice:route:strict"),
            ("consumers", "0"),
            ("pending", "0"),
            ("last-delivered-id", &id(0)),
            ("entries-read", "1"),
            ("lag", "2"),
        ])]
    );
    assert_eq!(get(figures, "events-in")?, "1");
    assert_eq!(get(figures, "events-out")?, "1");
    assert_eq!(get(figures, "dead-lettered")?, "0");
    assert_eq!(get(figures, "lag")?, "2");
    assert_eq!(get(figures, "reloads")?, reloads);
    let prefix = format!(
        "halted before event {} of orders: plugin strict trapped: ",
        id(1)
    );
    assert_trap_reason(get(figures, "last-error")?, &prefix)
}

/// A trap of `trap-on` reported on one line: `prefix`, the plugin's panic message, the trap.
fn assert_trap_reason(reason: &str, prefix: &str) -> Result<()> {
    let Some(rest) = reason.strip_prefix(prefix) else {
        bail!("{reason:?} should start with {prefix:?}");
    };
    if !rest.starts_with("panicked at ")
        || !rest.contains(": trap-on: kind = poison (")
        || !rest.ends_with("(wasm trap: wasm `unreachable` instruction executed)")
        || rest.contains('\n')
    {
        bail!("{reason:?} should give the panic message and the trap, on one line");
    }
    Ok(())
}

#[test]
fn on_error_halt_stops_before_the_failing_event_until_reloaded() -> Result<()> {
    let server = start_trapping("strict", "out", "on_error = \"halt\"\n")?;
    let mut con = server.client()?;
    let figures = wait_halted(&mut con, "strict")?.rendered();
    assert_halted_before_poison(&mut con, &figures, "0")?;

    // A reload restarts it from its position; with the same plugin it halts at the same
    // event, having routed nothing twice.
    let ok: String = redis::cmd("SLUICE").arg("RELOAD").query(&mut con)?;
    assert_eq!(ok, "OK");
    let figures = wait_halted(&mut con, "strict")?.rendered();
    assert_halted_before_poison(&mut con, &figures, "1")?;
    Ok(())
}

#[test]
fn bad_route_configs_are_refused_at_start_with_the_reason() -> Result<()> {
    let dir = plugins::folder(&[])?;
    let cases = [
        (
            r#"
[[route]]
name = "r"
source = "orders.*"
plugin = "router.wasm"
dead_letter = "orders.dlq"
"#,
            "invalid setting: route r: dead_letter \"orders.dlq\" matches the route's own source \
             \"orders.*\", which would route failed events back into it",
        ),
        (
            r#"
[[route]]
name = "r"
source = "a"
plugin = "router.wasm"

[[route]]
name = "r"
source = "b"
plugin = "router.wasm"
"#,
            "invalid setting: two routes are named \"r\"",
        ),
        (
            r#"
[[route]]
name = "r"
source = "a"
plugin = "../router.wasm"
"#,
            "invalid setting: route r: plugin must be a file name in the plugins folder, got \
             \"../router.wasm\"",
        ),
        (
            r#"
[[route]]
name = "r"
source = "a"
plugin = "router.wasm"
timeout_ms = 0
"#,
            "invalid setting: route r: timeout_ms must be at least 1",
        ),
    ];
    for (toml, want) in cases {
        let config = plugins::config(&dir, toml)?;
        match TestServer::start_with(config) {
            Ok(_) => bail!("the server started with {toml}"),
            Err(e) => assert_eq!(e.to_string(), want),
        }
    }
    // Routes without a plugins folder.
    let mut config = plugins::config(
        &dir,
        "[[route]]\nname = \"r\"\nsource = \"a\"\nplugin = \"f.wasm\"\n",
    )?;
    config.plugins_dir = None;
    match TestServer::start_with(config) {
        Ok(_) => bail!("the server started with routes but no plugins folder"),
        Err(e) => assert_eq!(
            e.to_string(),
            "invalid setting: routes need a plugins folder: set plugins_dir in the config or \
             pass --plugins"
        ),
    }
    Ok(())
}
