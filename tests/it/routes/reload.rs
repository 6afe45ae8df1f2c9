//! Plugin hot reload: a route's plugin file replaced while clients add events without
//! pause, replaced while new source streams appear, and replaced by broken files. Each checks
//! what the route runner promises: every source event is routed exactly once, in order,
//! whatever happens to the route around it.
//!
//! Outputs carry the producer's sequence number (`seq`), so a lost or repeated event shows as
//! a gap or a repeat in the destination's sequence. Config-file reload is in
//! `config_reload.rs`, SIGKILL and restarts in `restart.rs`, the example plugins
//! in `flow.rs`, failing plugins in `faults.rs`; the shared helpers in
//! `support.rs`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use redis::Value;
use sluice_tests::{RawClient, TestServer, plugins};

use crate::routes::support::{
    FORWARD_ALL, Fields, caught_up, entries, group, in_state, pair, plugin, replace_file, route,
    route_toml, route_until, wait_caught_up, wait_entries, xadd, xlen,
};

/// Waits until route `name` has reloaded `reloads` times in all and runs plugin `plugin_name`.
fn reloaded(
    con: &mut redis::Connection,
    name: &str,
    reloads: i64,
    plugin_name: &str,
) -> Result<Fields> {
    let what = format!("runs {plugin_name} after reload {reloads}");
    route_until(con, name, &what, |r| {
        Ok(r.count("reloads")? == reloads
            && r.text("plugin-name")?.as_deref() == Some(plugin_name)
            && in_state(r, "running")?)
    })
}

/// Waits until route `name`'s `last-error` contains `needle`.
fn route_error(con: &mut redis::Connection, name: &str, needle: &str) -> Result<Fields> {
    route_until(con, name, &format!("reports {needle:?}"), |r| {
        Ok(r.text("last-error")?.is_some_and(|e| e.contains(needle)))
    })
}

/// Adds events `p <p> seq <n>` to `key(n)`, n = 0, 1, 2… until `stop`, ten at a time
/// pipelined; returns how many it added (all acknowledged). `acked` counts them as they go.
fn produce(
    addr: SocketAddr,
    p: usize,
    key: impl Fn(u64) -> String,
    stop: &AtomicBool,
    acked: &AtomicU64,
) -> Result<u64> {
    const CHUNK: u64 = 10;
    // Bounds the test's size should reloads be very slow; the swaps then notice the load
    // stopped and fail.
    const MOST: u64 = 200_000;
    let mut raw = RawClient::connect(addr)?;
    let p = p.to_string();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) && n < MOST {
        for seq in n..n + CHUNK {
            let key = key(seq);
            let seq = seq.to_string();
            raw.send_cmd(&[
                b"XADD",
                key.as_bytes(),
                b"*",
                b"p",
                p.as_bytes(),
                b"seq",
                seq.as_bytes(),
            ])?;
        }
        for seq in n..n + CHUNK {
            let reply = raw.read_reply()?;
            ensure!(
                reply.starts_with('$'),
                "XADD seq {seq} of producer {p}: {reply:?}"
            );
        }
        n += CHUNK;
        acked.fetch_add(CHUNK, Ordering::Relaxed);
        // Steady load rather than a flood: keeps the destination a size the test can check.
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(n)
}

/// The producer and sequence number of an output of [`produce`]'s events.
fn producer_seq(fields: &[(String, String)]) -> Result<(usize, u64)> {
    match fields {
        [(pk, p), (sk, seq)] if pk == "p" && sk == "seq" => Ok((p.parse()?, seq.parse()?)),
        _ => bail!("unexpected output {fields:?}"),
    }
}

/// Producer threads adding [`produce`]'s events until stopped (or dropped).
struct Producers {
    stop: Arc<AtomicBool>,
    /// Events acknowledged so far, all producers together.
    acked: Arc<AtomicU64>,
    threads: Vec<JoinHandle<Result<u64>>>,
}

impl Producers {
    /// Starts `count` producers on the server at `addr`, each adding its `n`th event to
    /// `key(n)`.
    fn start(addr: SocketAddr, count: usize, key: fn(u64) -> String) -> Producers {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let threads = (0..count)
            .map(|p| {
                let (stop, acked) = (stop.clone(), acked.clone());
                std::thread::spawn(move || produce(addr, p, key, &stop, &acked))
            })
            .collect();
        Producers {
            stop,
            acked,
            threads,
        }
    }

    /// Stops them; returns how many events each added, by producer.
    fn stop(mut self) -> Result<Vec<u64>> {
        self.stop.store(true, Ordering::Relaxed);
        let mut produced = Vec::new();
        for thread in std::mem::take(&mut self.threads) {
            let added = thread.join().map_err(|_| anyhow!("a producer panicked"))?;
            produced.push(added?);
        }
        Ok(produced)
    }
}

impl Drop for Producers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Replaces route `name`'s plugin file `file` `swaps` times, alternately with `trap-on` and
/// `filter`, each time waiting for the new version to run; fails if `acked` (the producers'
/// count) did not move during a swap, as the swaps must happen under load.
fn swap_under_load(
    con: &mut redis::Connection,
    dir: &Path,
    name: &str,
    file: &str,
    swaps: i64,
    acked: &AtomicU64,
) -> Result<()> {
    for i in 0..swaps {
        let next = if i % 2 == 0 { "trap-on" } else { "filter" };
        let before = acked.load(Ordering::Relaxed);
        plugins::install(dir, next, file)?;
        reloaded(con, name, i + 1, next)?;
        let after = acked.load(Ordering::Relaxed);
        ensure!(
            after > before,
            "no event was added during swap {i} ({before} in all): the load stopped"
        );
    }
    Ok(())
}

/// The plugin file is replaced six times (`filter`, `trap-on`, `filter`, …, same file name,
/// same config) while two clients add events without pause. Every event comes out exactly
/// once, in each producer's order, and the route counts every swap and every event.
#[test]
fn plugin_replaced_under_load_routes_every_event_exactly_once() -> Result<()> {
    const SWAPS: i64 = 6;
    const PRODUCERS: usize = 2;
    let dir = plugins::folder(&[("filter", "r.wasm")])?;
    let config = plugins::config(&dir, &route_toml("live", "src", "r.wasm", FORWARD_ALL))?;
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    assert_eq!(
        route(&mut con, "live")?.text("plugin-name")?.as_deref(),
        Some("filter")
    );

    let producers = Producers::start(server.addr, PRODUCERS, |_| "src".to_owned());
    // The producers are stopped whatever happens to the swaps.
    let swapped = swap_under_load(&mut con, &dir, "live", "r.wasm", SWAPS, &producers.acked);
    let produced = producers.stop()?;
    swapped?;
    let n: u64 = produced.iter().sum();
    ensure!(n >= 1000, "the load was too light to mean anything: {n}");
    let r = caught_up(&mut con, "live", i64::try_from(n)?)?;
    assert_eq!(r.count("events-out")?, i64::try_from(n)?, "{r:?}");
    assert_eq!(r.count("dropped")?, 0, "{r:?}");
    assert_eq!(r.count("reloads")?, SWAPS, "{r:?}");
    assert_eq!(r.text("plugin-name")?.as_deref(), Some("filter"));
    assert_eq!(r.text("state")?.as_deref(), Some("running"));
    assert_eq!(r.text("last-error")?, None);
    assert_eq!(xlen(&mut con, "dst")?, usize::try_from(n)?);

    // Each producer's events, exactly once each and in the order added.
    let mut next = vec![0u64; PRODUCERS];
    for fields in entries(&mut con, "dst")? {
        let (p, seq) = producer_seq(&fields)?;
        let want = next.get_mut(p).context("no such producer")?;
        ensure!(
            seq == *want,
            "producer {p}: output seq {seq} where {want} was next (lost or repeated)"
        );
        *want += 1;
    }
    assert_eq!(next, produced);
    Ok(())
}

/// A glob source, and a new source stream for every event, while the plugin file is
/// replaced: each stream appears after the route was set up, so `start = "$"` skips none of
/// it, whether it appears while the route runs or while one version hands over to the next.
#[test]
fn plugin_replaced_while_source_streams_appear_routes_every_event() -> Result<()> {
    const SWAPS: i64 = 4;
    let dir = plugins::folder(&[("filter", "r.wasm")])?;
    let config = plugins::config(&dir, &route_toml("glob", "s.*", "r.wasm", FORWARD_ALL))?;
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    let producer = Producers::start(server.addr, 1, |seq| format!("s.{seq}"));
    let swapped = swap_under_load(&mut con, &dir, "glob", "r.wasm", SWAPS, &producer.acked);
    let produced: u64 = producer.stop()?.iter().sum();
    swapped?;

    let n = i64::try_from(produced)?;
    let r = wait_caught_up(&mut con, "glob")?;
    // Each stream read from its start (one event each), none from its end.
    let mut seqs = Vec::new();
    for fields in entries(&mut con, "dst")? {
        seqs.push(producer_seq(&fields)?.1);
    }
    seqs.sort_unstable();
    let missing: Vec<u64> = (0..produced)
        .filter(|s| seqs.binary_search(s).is_err())
        .collect();
    if let Some(first) = missing.first() {
        // Where the route's position in the first stream it skipped stands.
        let key = format!("s.{first}");
        let position = group(&mut con, &key, "sluice:route:glob");
        bail!("never routed, of {produced}: {missing:?}; {key}'s group: {position:?}; {r:?}");
    }
    assert_eq!(r.count("events-in")?, n);
    seqs.dedup();
    assert_eq!(seqs.len(), usize::try_from(produced)?, "outputs repeated");
    Ok(())
}

/// Garbage bytes, then a component built for another WIT version, replace the running
/// plugin: each is refused, the old version goes on routing, and the refusal shows in
/// `SLUICE ROUTES`, `SLUICE PLUGINS` and `SLUICE RELOAD`. A good file after them is taken.
#[test]
fn a_broken_plugin_file_leaves_the_old_version_routing() -> Result<()> {
    let dir = plugins::folder(&[("filter", "r.wasm")])?;
    let config = plugins::config(&dir, &route_toml("r", "src", "r.wasm", FORWARD_ALL))?;
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    let mut raw = server.raw()?;
    // Adds event `seq` and waits until `dst` holds exactly the events 0..=seq.
    let route_one = |con: &mut redis::Connection, seq: u64| -> Result<()> {
        xadd(con, "src", &[("seq", &seq.to_string())])?;
        let got = wait_entries(con, "dst", usize::try_from(seq + 1)?)?;
        let want: Vec<_> = (0..=seq).map(|s| vec![pair("seq", s)]).collect();
        ensure!(got == want, "dst: {got:?}");
        Ok(())
    };
    route_one(&mut con, 0)?;

    let garbage = b"this is not a WebAssembly component";
    replace_file(&dir, "r.wasm", garbage)?;
    let r = route_error(&mut con, "r", "cannot compile the plugin")?;
    let error = r.some_text("last-error")?;
    assert!(
        error.starts_with("route r: cannot load r.wasm: cannot compile the plugin: ")
            && error.ends_with("; the previous version keeps running"),
        "{error}"
    );
    assert_eq!(r.text("state")?.as_deref(), Some("running"));
    assert_eq!(r.text("plugin-name")?.as_deref(), Some("filter"));
    assert_eq!(r.count("reloads")?, 0);
    let p = plugin(&mut con, "r.wasm")?;
    let plugin_error = p.some_text("error")?;
    assert!(
        plugin_error.starts_with("cannot compile the plugin: "),
        "{plugin_error}"
    );
    assert_eq!(p.count("bytes")?, i64::try_from(garbage.len())?);
    assert_eq!(p.get("routes")?, &Value::Array(Vec::new()));
    assert_eq!(p.text("wit-version")?, None);
    let reply = raw.cmd(&["SLUICE", "RELOAD"])?;
    assert!(
        reply.starts_with("-ERR reload: route r: cannot load r.wasm: cannot compile the plugin: "),
        "{reply}"
    );
    route_one(&mut con, 1)?;

    plugins::install(&dir, "incompatible", "r.wasm")?;
    let r = route_error(&mut con, "r", "sluice:plugin@1.0.0")?;
    let error = r.some_text("last-error")?;
    assert!(
        error.starts_with(
            "route r: cannot load r.wasm: the plugin was built for sluice:plugin@1.0.0, but \
             this broker speaks sluice:plugin@0.1.1"
        ) && error.ends_with("; the previous version keeps running"),
        "{error}"
    );
    assert_eq!(r.text("state")?.as_deref(), Some("running"));
    assert_eq!(r.text("plugin-name")?.as_deref(), Some("filter"));
    assert_eq!(r.count("reloads")?, 0);
    let plugin_error = plugin(&mut con, "r.wasm")?.some_text("error")?;
    assert!(
        plugin_error.starts_with(
            "the plugin was built for sluice:plugin@1.0.0, but this broker speaks \
             sluice:plugin@0.1.1"
        ),
        "{plugin_error}"
    );
    route_one(&mut con, 2)?;

    plugins::install(&dir, "trap-on", "r.wasm")?;
    reloaded(&mut con, "r", 1, "trap-on")?;
    let p = plugin(&mut con, "r.wasm")?;
    assert_eq!(p.text("error")?, None);
    assert_eq!(p.text("name")?.as_deref(), Some("trap-on"));
    assert_eq!(p.text("wit-version")?.as_deref(), Some("0.1.1"));
    assert_eq!(
        p.get("routes")?,
        &Value::Array(vec![Value::BulkString(b"r".to_vec())])
    );
    route_one(&mut con, 3)?;
    let r = caught_up(&mut con, "r", 4)?;
    assert_eq!(r.count("events-out")?, 4);
    assert_eq!(r.count("reloads")?, 1);
    Ok(())
}
