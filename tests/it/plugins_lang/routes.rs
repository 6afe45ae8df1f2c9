//! Routes whose plugin is the Python `router` or the JavaScript `filter` and `transform`:
//! their outputs, and a failing event dead-lettered with the plugin's own reason.

use anyhow::Result;
use sluice_tests::plugins::Lang;
use sluice_tests::{ManualClock, TestServer, plugins};

use super::folder_with;
use crate::routes::support::{T0, caught_up, dead_letter, entries, id, pairs, route_toml, xadd};

/// Starts a server on the plugins folder `dir` with `toml`, its clock at [`T0`].
fn start(dir: &std::path::Path, toml: &str) -> Result<TestServer> {
    TestServer::start_with_clock(plugins::config(dir, toml)?, ManualClock::new(T0))
}

/// The Python router sends each order to `orders.<region>`, and dead-letters the one with no
/// region with the reason its Rust twin gives.
#[test]
fn python_router_routes_by_field_and_dead_letters_what_it_cannot_route() -> Result<()> {
    let Some(dir) = folder_with(Lang::Python, "router.wasm", "router.wasm")? else {
        return Ok(());
    };
    let server = start(
        &dir,
        &route_toml(
            "by-region",
            "orders",
            "router.wasm",
            r#"{ field = "region" }"#,
        ),
    )?;
    let mut con = server.client()?;
    xadd(&mut con, "orders", &[("id", "1"), ("region", "eu")])?;
    xadd(&mut con, "orders", &[("id", "2"), ("region", "us")])?;
    xadd(&mut con, "orders", &[("id", "3")])?;
    xadd(&mut con, "orders", &[("id", "4"), ("region", "eu")])?;
    caught_up(&mut con, "by-region", 4)?;
    assert_eq!(
        entries(&mut con, "orders.eu")?,
        vec![
            pairs(&[("id", "1"), ("region", "eu")]),
            pairs(&[("id", "4"), ("region", "eu")])
        ]
    );
    assert_eq!(
        entries(&mut con, "orders.us")?,
        vec![pairs(&[("id", "2"), ("region", "us")])]
    );
    assert_eq!(
        entries(&mut con, "orders.dlq")?,
        vec![dead_letter(
            &[("id", "3")],
            "no field `region` to route on",
            "orders",
            &id(2),
            "by-region"
        )]
    );
    Ok(())
}

/// The JavaScript filter keeps the EU orders and the JavaScript transform rewrites every
/// order, side by side on one source, each as its Rust twin would.
#[test]
fn javascript_filter_and_transform_route_as_their_rust_twins() -> Result<()> {
    let Some(dir) = folder_with(Lang::JavaScript, "filter.wasm", "filter.wasm")? else {
        return Ok(());
    };
    let Some(transform) = plugins::lang_component(Lang::JavaScript, "transform.wasm")? else {
        return Ok(());
    };
    plugins::install_file(&dir, &transform, "transform.wasm")?;
    // No `max_memory`: a component carrying a language runtime gets 256 MiB by default.
    let toml = route_toml(
        "eu",
        "orders",
        "filter.wasm",
        r#"{ field = "region", equals = "eu", destination = "orders.eu" }"#,
    ) + &route_toml(
        "clean",
        "orders",
        "transform.wasm",
        r#"{ "rename.region" = "zone", drop = "card", "set.v" = "2", destination = "clean" }"#,
    );
    let server = start(&dir, &toml)?;
    let mut con = server.client()?;
    xadd(
        &mut con,
        "orders",
        &[("id", "1"), ("region", "eu"), ("card", "4111")],
    )?;
    xadd(&mut con, "orders", &[("id", "2"), ("region", "us")])?;
    caught_up(&mut con, "eu", 2)?;
    caught_up(&mut con, "clean", 2)?;
    assert_eq!(
        entries(&mut con, "orders.eu")?,
        vec![pairs(&[("id", "1"), ("region", "eu"), ("card", "4111")])]
    );
    assert_eq!(
        entries(&mut con, "clean")?,
        vec![
            pairs(&[("id", "1"), ("zone", "eu"), ("v", "2")]),
            pairs(&[("id", "2"), ("zone", "us"), ("v", "2")])
        ]
    );
    Ok(())
}

/// Under sustained load (20 batches of 1024), the JavaScript filter runs within the memory a
/// component carrying a runtime gets by default: no instance restarted, every event routed.
#[test]
fn javascript_filter_keeps_up_with_sustained_load_within_the_default_memory() -> Result<()> {
    let Some(dir) = folder_with(Lang::JavaScript, "filter.wasm", "filter.wasm")? else {
        return Ok(());
    };
    let toml = route_toml(
        "eu",
        "orders",
        "filter.wasm",
        r#"{ field = "region", equals = "eu", destination = "orders.eu" }"#,
    );
    let server = start(&dir, &toml)?;
    let mut con = server.client()?;
    let events = 20 * 1024;
    let mut pipe = redis::pipe();
    for n in 0..events {
        let region = if n % 2 == 0 { "eu" } else { "us" };
        pipe.cmd("XADD")
            .arg("orders")
            .arg("*")
            .arg("n")
            .arg(n)
            .arg("region")
            .arg(region)
            .ignore();
    }
    pipe.query::<()>(&mut con)?;
    let route = caught_up(&mut con, "eu", events)?;
    assert_eq!(route.count("restarts")?, 0, "{route:?}");
    assert_eq!(route.count("events-out")?, events / 2);
    let len: i64 = redis::cmd("XLEN").arg("orders.eu").query(&mut con)?;
    assert_eq!(len, events / 2);
    Ok(())
}
