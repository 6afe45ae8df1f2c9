//! A route's Rust plugin replaced by the Python version of the same router while a client adds
//! events without pause: every event comes out exactly once, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, ensure};
use sluice_tests::plugins::Lang;
use sluice_tests::{TestServer, plugins};

use crate::routes::support::{
    caught_up, entries, in_state, pair, route_toml, route_until, seqs_of,
};

/// `router` on `src` (every event has `k = a`, so all go to `out.a`) starts as the Rust build;
/// the Python build is deployed over it under load. The destination then holds every `seq`
/// exactly once, in order, and the route counts one reload and every event.
#[test]
fn rust_router_replaced_by_its_python_twin_under_load_loses_and_doubles_nothing() -> Result<()> {
    let Some(python) = plugins::lang_component(Lang::Python, "router.wasm")? else {
        return Ok(());
    };
    let dir = plugins::folder(&[("router", "router.wasm")])?;
    let toml = route_toml(
        "live",
        "src",
        "router.wasm",
        r#"{ field = "k", prefix = "out" }"#,
    );
    let server = TestServer::start_with(plugins::config(&dir, &toml)?)?;
    let mut con = server.client()?;

    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let stop = stop.clone();
        let mut con = server.client()?;
        std::thread::spawn(move || -> Result<u64> {
            let mut n = 0u64;
            // Bounded, should the reload be very slow.
            while !stop.load(Ordering::Relaxed) && n < 200_000 {
                let mut pipe = redis::pipe();
                for seq in n..n + 10 {
                    pipe.cmd("XADD")
                        .arg("src")
                        .arg("*")
                        .arg("seq")
                        .arg(seq)
                        .arg("k")
                        .arg("a");
                }
                let _: Vec<String> = pipe.query(&mut con)?;
                n += 10;
            }
            Ok(n)
        })
    };
    route_until(
        &mut con,
        "live",
        "has routed events from the Rust build",
        |r| Ok(r.count("events-in")? > 0),
    )?;
    plugins::install_file(&dir, &python, "router.wasm")?;
    route_until(&mut con, "live", "runs the Python build", |r| {
        Ok(r.count("reloads")? == 1 && in_state(r, "running")?)
    })?;
    // Some events through the Python build too, then stop.
    let before = route_until(&mut con, "live", "is running", |r| in_state(r, "running"))?
        .count("events-in")?;
    route_until(
        &mut con,
        "live",
        "has routed events after the reload",
        |r| Ok(r.count("events-in")? > before),
    )?;
    stop.store(true, Ordering::Relaxed);
    let added = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the producer panicked"))??;
    let added = i64::try_from(added).context("count")?;
    let live = caught_up(&mut con, "live", added)?;
    ensure!(live.count("reloads")? == 1, "reloads: {live:?}");
    let out = entries(&mut con, "out.a")?;
    let seqs = seqs_of("out.a", &out, &[pair("k", "a")])?;
    let expected: Vec<u64> = (0..u64::try_from(added)?).collect();
    assert_eq!(seqs, expected, "every event exactly once, in order");
    Ok(())
}
