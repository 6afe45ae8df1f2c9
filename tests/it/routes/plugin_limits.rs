//! Plugins are untrusted: inside the running broker a route's plugin reaches no file, no
//! environment, no clock and no socket; and the broker bounds how many plugins run and how big
//! a plugin file may be.

use anyhow::Result;
use sluice_tests::{TestServer, plugins};

use crate::routes::support::{
    entries, file_size, get, rendered, route, sluice_plugins, start_with_system_clock,
    wait_entries, xadd,
};

/// What the `sandbox-probe` fixture reports from inside the broker's sandbox.
#[test]
fn a_routed_plugin_gets_no_file_environment_clock_or_socket() -> Result<()> {
    let (server, _dir) = start_with_system_clock(
        &[("sandbox-probe", "probe.wasm")],
        r#"
[[route]]
name = "probe"
source = "in"
plugin = "probe.wasm"
"#,
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "in", &[("k", "v")])?;
    let report = wait_entries(&mut con, "probe", 1)?;
    let report = report.first().map(|e| e.as_slice()).unwrap_or_default();
    let field = |name: &str| -> String {
        report
            .iter()
            .find(|(k, _)| k == name)
            .map_or_else(|| "<missing>".into(), |(_, v)| v.clone())
    };
    // No directory is preopened: every path is outside the sandbox (WASI's ENOENT is 44).
    let no_such_file = "error: No such file or directory (os error 44)";
    assert_eq!(field("file"), no_such_file);
    assert_eq!(field("dir"), no_such_file);
    assert_eq!(field("env"), "[]");
    assert_eq!(field("home"), "error: environment variable not found");
    assert_eq!(field("args"), "0");
    assert_eq!(field("wall_clock_ms"), "ok: 0");
    assert_eq!(field("monotonic_elapsed_ns"), "0");
    assert_eq!(field("socket"), "error: Permission denied (os error 2)");
    // The broker is unharmed: the source still serves and the route goes on.
    xadd(&mut con, "in", &[("k", "w")])?;
    assert_eq!(wait_entries(&mut con, "probe", 2)?.len(), 2);
    assert_eq!(entries(&mut con, "in")?.len(), 2);
    Ok(())
}

#[test]
fn a_plugin_file_over_plugin_max_size_is_refused_with_its_size() -> Result<()> {
    let dir = plugins::folder(&[("filter", "filter.wasm")])?;
    let mut config = plugins::config(
        &dir,
        r#"
[[route]]
name = "big"
source = "orders"
plugin = "filter.wasm"
config = { field = "k", op = "eq", value = "v", destination = "out" }
"#,
    )?;
    config.plugin_max_size = 64 * 1024;
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    let size = file_size(&dir, "filter.wasm")?;
    let r = route(&mut con, "big")?.rendered();
    assert_eq!(get(&r, "state")?, "failed");
    assert_eq!(
        get(&r, "last-error")?,
        format!(
            "route big: cannot load filter.wasm: {} is {size} bytes, over plugin-max-size \
             (65536 bytes)",
            dir.join("filter.wasm").display()
        )
    );
    assert_eq!(rendered(&sluice_plugins(&mut con)?), Vec::<Vec<_>>::new());
    Ok(())
}

#[test]
fn more_routes_and_policies_than_max_plugins_refuse_to_start() -> Result<()> {
    let dir = plugins::folder(&[("filter", "filter.wasm"), ("reassign-idle", "idle.wasm")])?;
    let mut config = plugins::config(
        &dir,
        r#"
[[route]]
name = "a"
source = "orders"
plugin = "filter.wasm"

[[claim_policy]]
stream = "jobs"
group = "workers"
plugin = "idle.wasm"
"#,
    )?;
    config.max_plugins = 1;
    let refused = TestServer::start_with(config).err().map(|e| e.to_string());
    assert_eq!(
        refused.as_deref(),
        Some("invalid setting: 2 routes and claim policies are configured, over max-plugins 1")
    );
    Ok(())
}
