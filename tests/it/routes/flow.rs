//! Routes end to end: the example plugins (filter, transform, router) on real events, through
//! a real server and the `redis` client. Routes are asynchronous: tests poll (`wait_entries`,
//! `wait_caught_up`) with a generous deadline, then assert exact outputs, never how long
//! routing took. Tests that need exact IDs or batch counts run on a manual clock ([`start`])
//! and, where events must reach the plugin in one batch, write them first
//! ([`start_prefilled`], `start = "0"`).
//!
//! Elsewhere: failing plugins and refused configs in `faults.rs`, hot reload in
//! `reload.rs` (plugin files) and `config_reload.rs`, SIGKILL and restarts in
//! `restart.rs`, the helpers they share in `support.rs`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sluice_tests::{RawClient, TestServer};

use crate::routes::support::{
    EntryFields, T0, dead_letter, entries, file_size, get, id, masked, pairs, rendered,
    sluice_plugins, sluice_routes, start, start_prefilled, start_with_system_clock, wait_caught_up,
    wait_entries, xadd, xinfo_groups, xrange,
};

/// A server (system clock) with route `eu`: the filter plugin passing `orders`' events whose
/// `region` is `eu` to `orders.eu`.
fn start_eu_filter() -> Result<(TestServer, PathBuf)> {
    start_with_system_clock(
        &[("filter", "filter.wasm")],
        r#"
[[route]]
name = "eu"
source = "orders"
plugin = "filter.wasm"
config = { field = "region", equals = "eu", destination = "orders.eu" }
"#,
    )
}

#[test]
fn filter_keeps_only_matching_events() -> Result<()> {
    let (server, _dir) = start_eu_filter()?;
    let mut con = server.client()?;
    for region in ["eu", "us", "eu", "asia"] {
        xadd(&mut con, "orders", &[("region", region)])?;
    }
    let got = wait_entries(&mut con, "orders.eu", 2)?;
    assert_eq!(got, vec![pairs(&[("region", "eu")]); 2]);
    Ok(())
}

/// A stream renamed onto a route's source is routed at once, as an append would be: `RENAME`
/// makes its new name ready for routes as for blocked readers.
#[test]
fn a_stream_renamed_onto_a_source_is_routed_without_another_append() -> Result<()> {
    let (server, _dir) = start_eu_filter()?;
    let mut con = server.client()?;
    for region in ["eu", "us", "eu"] {
        xadd(&mut con, "staging", &[("region", region)])?;
    }
    let renamed: String = redis::cmd("RENAME")
        .arg("staging")
        .arg("orders")
        .query(&mut con)?;
    assert_eq!(renamed, "OK");
    let got = wait_entries(&mut con, "orders.eu", 2)?;
    assert_eq!(got, vec![pairs(&[("region", "eu")]); 2]);
    Ok(())
}

/// Appends pipelined in one request batch wake the route once the batch has run (no client
/// is blocked, so the wake waits for the batch's end): every matching event comes out, in
/// order, and the route's position lands after the last append. A client then blocked on
/// the destination is served by the next batch's outputs.
#[test]
fn pipelined_appends_are_all_routed_and_a_blocked_reader_of_the_output_is_served() -> Result<()> {
    let (server, _dir) = start_eu_filter()?;
    let mut con = server.client()?;
    let mut pipe = redis::pipe();
    for n in 0..200 {
        let region = if n % 2 == 0 { "eu" } else { "us" };
        pipe.cmd("XADD")
            .arg("orders")
            .arg("*")
            .arg("region")
            .arg(region)
            .arg("n")
            .arg(n);
    }
    let ids: Vec<String> = pipe.query(&mut con)?;
    let got = wait_entries(&mut con, "orders.eu", 100)?;
    let want: Vec<EntryFields> = (0..200)
        .step_by(2)
        .map(|n: i32| pairs(&[("region", "eu"), ("n", &n.to_string())]))
        .collect();
    assert_eq!(got, want);
    let route = wait_caught_up(&mut con, "eu")?;
    assert_eq!(route.count("events-in")?, 200);
    let groups = xinfo_groups(&mut con, "orders")?;
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].get("last-delivered-id")?,
        &redis::Value::BulkString(ids[199].clone().into_bytes())
    );
    // A reader blocked on the destination, then another pipelined batch.
    let mut reader = server.client()?;
    let last_out = xrange(&mut con, "orders.eu")?
        .pop()
        .map(|(id, _)| id)
        .context("orders.eu is empty")?;
    let blocked = std::thread::spawn(move || -> Result<redis::Value> {
        Ok(redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(10_000)
            .arg("STREAMS")
            .arg("orders.eu")
            .arg(last_out)
            .query(&mut reader)?)
    });
    RawClient::connect(server.addr)?.wait_blocked(1)?;
    let mut pipe = redis::pipe();
    for region in ["us", "eu", "us"] {
        pipe.cmd("XADD")
            .arg("orders")
            .arg("*")
            .arg("region")
            .arg(region);
    }
    let _: Vec<String> = pipe.query(&mut con)?;
    let served = blocked
        .join()
        .map_err(|_| anyhow::anyhow!("the blocked reader panicked"))??;
    let redis::Value::Array(streams) = served else {
        bail!("XREAD answered {served:?}");
    };
    assert_eq!(streams.len(), 1, "{streams:?}");
    Ok(())
}

#[test]
fn transform_renames_redacts_drops_and_adds_fields() -> Result<()> {
    let (server, _dir) = start_with_system_clock(
        &[("transform", "transform.wasm")],
        r#"
[[route]]
name = "clean-users"
source = "users"
plugin = "transform.wasm"
config = { "rename.email" = "contact", redact = "ssn", drop = "tmp", "set.origin" = "signup", destination = "users.clean" }
"#,
    )?;
    let mut con = server.client()?;
    xadd(
        &mut con,
        "users",
        &[
            ("name", "ann"),
            ("email", "ann@example.com"),
            ("ssn", "123-45-6789"),
            ("tmp", "x"),
        ],
    )?;
    // A field the route sets is replaced, and moves to the end.
    xadd(
        &mut con,
        "users",
        &[("origin", "web"), ("name", "bob"), ("ssn", "987")],
    )?;
    let figures = wait_caught_up(&mut con, "clean-users")?.rendered();
    assert_eq!(get(&figures, "events-in")?, "2", "{figures:?}");
    assert_eq!(
        entries(&mut con, "users.clean")?,
        vec![
            pairs(&[
                ("name", "ann"),
                ("contact", "ann@example.com"),
                ("ssn", "***"),
                ("origin", "signup"),
            ]),
            pairs(&[("name", "bob"), ("ssn", "***"), ("origin", "signup")]),
        ]
    );
    // The source is left as it was.
    assert_eq!(
        entries(&mut con, "users")?,
        vec![
            pairs(&[
                ("name", "ann"),
                ("email", "ann@example.com"),
                ("ssn", "123-45-6789"),
                ("tmp", "x"),
            ]),
            pairs(&[("origin", "web"), ("name", "bob"), ("ssn", "987")]),
        ]
    );
    Ok(())
}

#[test]
fn router_splits_orders_by_region() -> Result<()> {
    let (server, _dir) = start_with_system_clock(
        &[("router", "router.wasm")],
        r#"
[[route]]
name = "by-region"
source = "orders"
plugin = "router.wasm"
config = { field = "region" }
"#,
    )?;
    let mut con = server.client()?;
    let sent = [
        ("eu", "1"),
        ("us", "2"),
        ("eu", "3"),
        ("us", "4"),
        ("eu", "5"),
    ];
    for (region, order) in sent {
        xadd(&mut con, "orders", &[("region", region), ("order", order)])?;
    }
    let figures = wait_caught_up(&mut con, "by-region")?.rendered();
    // Every event appended once the server answers is new to a `start = "$"` route.
    assert_eq!(get(&figures, "events-in")?, "5", "{figures:?}");
    assert_eq!(
        entries(&mut con, "orders.eu")?,
        vec![
            pairs(&[("region", "eu"), ("order", "1")]),
            pairs(&[("region", "eu"), ("order", "3")]),
            pairs(&[("region", "eu"), ("order", "5")]),
        ]
    );
    assert_eq!(
        entries(&mut con, "orders.us")?,
        vec![
            pairs(&[("region", "us"), ("order", "2")]),
            pairs(&[("region", "us"), ("order", "4")]),
        ]
    );
    let exists: i64 = redis::cmd("EXISTS").arg("orders.dlq").query(&mut con)?;
    assert_eq!(exists, 0, "nothing failed, so no dead-letter stream");
    Ok(())
}

#[test]
fn glob_source_refuses_outputs_that_loop_back_and_dead_letters_them() -> Result<()> {
    // Events with a region go to `routed.<region>`; those without go to `orders.unknown`,
    // which matches the route's own source glob: routing it would feed it back in.
    let (server, _clock, _dir) = start(
        &[("router", "router.wasm")],
        r#"
[[route]]
name = "fan-in"
source = "orders.*"
plugin = "router.wasm"
config = { field = "region", prefix = "routed", missing = "orders.unknown" }
"#,
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "orders.web", &[("region", "eu"), ("order", "1")])?;
    xadd(&mut con, "orders.app", &[("region", "us"), ("order", "2")])?;
    let looping = xadd(&mut con, "orders.web", &[("order", "3")])?;
    // IDs count per stream: this is orders.web's second entry.
    assert_eq!(looping, id(1));
    let figures = wait_caught_up(&mut con, "fan-in")?.rendered();
    assert_eq!(get(&figures, "events-in")?, "3", "{figures:?}");

    assert_eq!(
        entries(&mut con, "routed.eu")?,
        vec![pairs(&[("region", "eu"), ("order", "1")])]
    );
    assert_eq!(
        entries(&mut con, "routed.us")?,
        vec![pairs(&[("region", "us"), ("order", "2")])]
    );
    let reason = "output to orders.unknown refused: it matches the route's source \"orders.*\" \
                  and would loop back into the route";
    assert_eq!(
        entries(&mut con, "orders.web.dlq")?,
        vec![dead_letter(
            &[("order", "3")],
            reason,
            "orders.web",
            &looping,
            "fan-in"
        )]
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg("orders.unknown")
        .arg("orders.app.dlq")
        .query(&mut con)?;
    assert_eq!(exists, 0, "the looping output was not written anywhere");
    assert_eq!(get(&figures, "events-out")?, "2");
    assert_eq!(get(&figures, "dead-lettered")?, "1");
    assert_eq!(get(&figures, "loops-refused")?, "1");
    // Each source stream has its own dead-letter stream, `<key>.dlq`.
    assert_eq!(get(&figures, "dead-letter")?, "orders.*.dlq");
    assert_eq!(
        get(&figures, "last-error")?,
        format!("event {looping} of orders.web: {reason}")
    );
    // The route's position is in each source stream, and its dead-letter stream is not one.
    for key in ["orders.web", "orders.app"] {
        let groups = rendered(&xinfo_groups(&mut con, key)?);
        assert_eq!(groups.len(), 1, "{key}: {groups:?}");
        assert_eq!(get(&groups[0], "name")?, "sluice:route:fan-in");
        assert_eq!(get(&groups[0], "lag")?, "0");
    }
    assert_eq!(
        rendered(&xinfo_groups(&mut con, "orders.web.dlq")?),
        Vec::<Vec<_>>::new()
    );
    Ok(())
}

#[test]
fn start_zero_routes_existing_entries_and_dollar_only_new_ones() -> Result<()> {
    let (server, _dir) = start_prefilled(
        "orders",
        &[&[("n", "1")], &[("n", "2")]],
        &[("filter", "filter.wasm")],
        r#"
[[route]]
name = "replay"
source = "orders"
plugin = "filter.wasm"
config = { field = "n", op = "exists", destination = "replayed" }
start = "0"

[[route]]
name = "live"
source = "orders"
plugin = "filter.wasm"
config = { field = "n", op = "exists", destination = "live" }
start = "$"
"#,
    )?;
    let mut con = server.client()?;
    let third = xadd(&mut con, "orders", &[("n", "3")])?;
    assert_eq!(third, id(2));
    let replay = wait_caught_up(&mut con, "replay")?.rendered();
    let live = wait_caught_up(&mut con, "live")?.rendered();
    assert_eq!(get(&replay, "events-in")?, "3", "{replay:?}");
    assert_eq!(get(&live, "events-in")?, "1", "{live:?}");

    assert_eq!(
        entries(&mut con, "replayed")?,
        vec![
            pairs(&[("n", "1")]),
            pairs(&[("n", "2")]),
            pairs(&[("n", "3")])
        ]
    );
    assert_eq!(entries(&mut con, "live")?, vec![pairs(&[("n", "3")])]);
    assert_eq!(get(&replay, "start")?, "0");
    assert_eq!(get(&live, "start")?, "$");
    // Both positions end at the last entry; each group counts what it was given.
    assert_eq!(
        rendered(&xinfo_groups(&mut con, "orders")?),
        vec![
            caught_up_group("live", &third, "3"),
            caught_up_group("replay", &third, "3")
        ]
    );
    Ok(())
}

/// The `XINFO GROUPS` map of route `route`'s position in a source stream it has caught up
/// with: no consumers, nothing pending, its last entry `last_id`, `entries_read` read, lag 0.
fn caught_up_group(route: &str, last_id: &str, entries_read: &str) -> EntryFields {
    pairs(&[
        ("name", &format!("sluice:route:{route}")),
        ("consumers", "0"),
        ("pending", "0"),
        ("last-delivered-id", last_id),
        ("entries-read", entries_read),
        ("lag", "0"),
    ])
}

/// Four orders written before two routes start on them (one batch each): a filter keeping
/// `region = eu`, and a router by region whose event without a region is dead-lettered.
fn known_workload() -> Result<(TestServer, PathBuf)> {
    let (server, dir) = start_prefilled(
        "orders",
        &[
            &[("region", "eu"), ("item", "1")],
            &[("region", "us"), ("item", "2")],
            &[("item", "3")],
            &[("region", "eu"), ("item", "4")],
        ],
        &[("filter", "filter.wasm"), ("router", "router.wasm")],
        r#"
[[route]]
name = "eu-only"
source = "orders"
plugin = "filter.wasm"
config = { field = "region", equals = "eu", destination = "eu.audit" }
start = "0"

[[route]]
name = "by-region"
source = "orders"
plugin = "router.wasm"
config = { field = "region", prefix = "regions" }
start = "0"
"#,
    )?;
    let mut con = server.client()?;
    wait_caught_up(&mut con, "eu-only")?;
    wait_caught_up(&mut con, "by-region")?;
    Ok((server, dir))
}

const NO_REGION: &str = "no field `region` to route on";

#[test]
fn sluice_routes_and_plugins_report_a_known_workload() -> Result<()> {
    let (server, dir) = known_workload()?;
    let mut con = server.client()?;

    // The filter's output and the router's for `eu` hold the same events.
    for key in ["eu.audit", "regions.eu"] {
        assert_eq!(
            entries(&mut con, key)?,
            vec![
                pairs(&[("region", "eu"), ("item", "1")]),
                pairs(&[("region", "eu"), ("item", "4")]),
            ],
            "{key}"
        );
    }
    assert_eq!(
        entries(&mut con, "regions.us")?,
        vec![pairs(&[("region", "us"), ("item", "2")])]
    );
    assert_eq!(
        entries(&mut con, "orders.dlq")?,
        vec![dead_letter(
            &[("item", "3")],
            NO_REGION,
            "orders",
            &id(2),
            "by-region"
        )]
    );

    let routes = sluice_routes(&mut con)?
        .iter()
        .map(|m| masked(&m.rendered(), &["ns-per-event"]))
        .collect::<Result<Vec<_>>>()?;
    let last_error = format!("event {} of orders: {NO_REGION}", id(2));
    assert_eq!(
        routes,
        vec![
            pairs(&[
                ("name", "eu-only"),
                ("source", "orders"),
                ("plugin", "filter.wasm"),
                ("plugin-name", "filter"),
                ("plugin-version", "0.1.1"),
                ("state", "running"),
                ("on-error", "dead-letter"),
                ("dead-letter", "orders.dlq"),
                ("start", "0"),
                ("mode", "embedded"),
                ("events-in", "4"),
                ("events-out", "2"),
                ("dropped", "2"),
                ("dead-lettered", "0"),
                ("skipped", "0"),
                ("loops-refused", "0"),
                ("batches", "1"),
                ("restarts", "0"),
                ("reloads", "0"),
                ("lag", "0"),
                ("ns-per-event", "*"),
                ("last-error", "(nil)"),
            ]),
            pairs(&[
                ("name", "by-region"),
                ("source", "orders"),
                ("plugin", "router.wasm"),
                ("plugin-name", "router"),
                ("plugin-version", "0.1.1"),
                ("state", "running"),
                ("on-error", "dead-letter"),
                ("dead-letter", "orders.dlq"),
                ("start", "0"),
                ("mode", "embedded"),
                ("events-in", "4"),
                ("events-out", "3"),
                ("dropped", "0"),
                ("dead-lettered", "1"),
                ("skipped", "0"),
                ("loops-refused", "0"),
                ("batches", "1"),
                ("restarts", "0"),
                ("reloads", "0"),
                ("lag", "0"),
                ("ns-per-event", "*"),
                ("last-error", &last_error),
            ]),
        ]
    );

    let t0 = T0.to_string();
    assert_eq!(
        rendered(&sluice_plugins(&mut con)?),
        vec![
            pairs(&[
                ("file", "filter.wasm"),
                ("name", "filter"),
                ("version", "0.1.1"),
                ("wit-version", "0.1.1"),
                ("bytes", &file_size(&dir, "filter.wasm")?),
                ("loaded-at", &t0),
                ("routes", "[eu-only]"),
                ("error", "(nil)"),
            ]),
            pairs(&[
                ("file", "router.wasm"),
                ("name", "router"),
                ("version", "0.1.1"),
                ("wit-version", "0.1.1"),
                ("bytes", &file_size(&dir, "router.wasm")?),
                ("loaded-at", &t0),
                ("routes", "[by-region]"),
                ("error", "(nil)"),
            ]),
        ]
    );
    Ok(())
}

#[test]
fn info_routes_and_xinfo_groups_show_each_route_caught_up() -> Result<()> {
    let (server, _dir) = known_workload()?;
    let mut con = server.client()?;

    let info: String = redis::cmd("INFO").arg("routes").query(&mut con)?;
    // ns_per_event is a measurement: checked to be a count above 0, then masked.
    let lines = info
        .lines()
        .map(|line| {
            line.split(',')
                .map(|part| match part.strip_prefix("ns_per_event=") {
                    Some(n) => match n.parse::<u64>() {
                        Ok(n) if n > 0 => Ok("ns_per_event=*".to_owned()),
                        _ => bail!("ns_per_event is not a count above 0: {line}"),
                    },
                    None => Ok(part.to_owned()),
                })
                .collect::<Result<Vec<_>>>()
                .map(|parts| parts.join(","))
        })
        .collect::<Result<Vec<_>>>()?;
    assert_eq!(
        lines,
        vec![
            "# Routes",
            "routes:2",
            "route_eu-only:state=running,source=orders,plugin=filter.wasm,version=0.1.1,\
             events_in=4,events_out=2,dropped=2,dead_lettered=0,skipped=0,lag=0,\
             ns_per_event=*,restarts=0,reloads=0",
            "route_by-region:state=running,source=orders,plugin=router.wasm,version=0.1.1,\
             events_in=4,events_out=3,dropped=0,dead_lettered=1,skipped=0,lag=0,\
             ns_per_event=*,restarts=0,reloads=0",
        ]
    );

    assert_eq!(
        rendered(&xinfo_groups(&mut con, "orders")?),
        vec![
            caught_up_group("by-region", &id(3), "4"),
            caught_up_group("eu-only", &id(3), "4")
        ]
    );
    // Destinations are not sources: no route has a position in them.
    assert_eq!(
        rendered(&xinfo_groups(&mut con, "regions.eu")?),
        Vec::<Vec<_>>::new()
    );
    Ok(())
}
