//! Routes across a stop of the server: a SIGKILL of the real binary while a route catches up,
//! clean restarts, and a shutdown while a route catches up. After each, every source event is
//! routed exactly once, in order: events carry a sequence number (`seq`) into their outputs,
//! so a lost or repeated event shows as a gap or a repeat in the destination's sequence.
//!
//! Hot reload is in `reload.rs` and `config_reload.rs`, the example plugins in
//! `flow.rs`, failing plugins in `faults.rs`; the shared helpers in
//! `support.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow, bail, ensure};
use sluice_tests::{ChildServer, Clock, RawClient, TestServer, plugins, tempdir};

use crate::routes::support::{
    caught_up, entries, first_outputs, group, pair, route, route_toml, seqs_of, wait_caught_up,
    xadd, xadd_seqs, xrange,
};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// A `transform` config that marks each event and sends it to `dst`.
const MARK_ROUTED: &str = r#"{ "set.routed" = "yes", destination = "dst" }"#;

/// The wall clock: a restarted server's IDs must go on past those it wrote before.
fn system_clock() -> Arc<dyn Clock> {
    Arc::new(sluice_server::SystemClock)
}

/// A blocking client of the server at `addr`.
fn connect(addr: SocketAddr) -> Result<redis::Connection> {
    Ok(redis::Client::open(format!("redis://{addr}"))?.get_connection()?)
}

/// A client adding `seq <n>` to `src` for n = `from`, `from` + 1, …, one acknowledged event
/// at a time, until the server dies; returns the `seq`s acknowledged.
fn add_until_killed(addr: SocketAddr, from: u64) -> JoinHandle<Vec<u64>> {
    std::thread::spawn(move || {
        let mut acked = Vec::new();
        let Ok(mut raw) = RawClient::connect(addr) else {
            return acked;
        };
        for seq in from.. {
            match raw.cmd(&["XADD", "src", "*", "seq", &seq.to_string()]) {
                Ok(reply) if reply.starts_with('$') => acked.push(seq),
                _ => break,
            }
        }
        acked
    })
}

/// The real binary, `appendfsync always`: events pile up behind a route whose plugin is not
/// there yet; the plugin arrives, the route starts catching up, and the server is killed
/// with SIGKILL while it does (and while a client is still adding). After a restart the
/// destination holds exactly one output per source event, in order: no output lost, none
/// repeated, and every acknowledged event is in the source.
#[test]
fn sigkill_while_a_route_catches_up_loses_and_repeats_nothing() -> Result<()> {
    const PREFILL: u64 = 30_000;
    const CHUNK: u64 = 500;
    let data = tempdir()?;
    let plugins_dir = plugins::folder(&[])?;
    let folder = tempdir()?;
    let file = folder.join("sluice.toml");
    // The plugins folder comes from the flag; "0": the route routes what came before it.
    std::fs::write(
        &file,
        route_toml("r", "src", "t.wasm", MARK_ROUTED) + "start = \"0\"\n",
    )?;
    let plugins_arg = plugins_dir.to_str().context("plugins path")?;
    let file_arg = file.to_str().context("config path")?;
    let args = [
        "--appendfsync",
        "always",
        "--plugins",
        plugins_arg,
        "--config",
        file_arg,
    ];
    let server = ChildServer::start(BIN, &data, &args)?;
    let addr = server.addr;
    let mut con = connect(addr)?;
    let r = route(&mut con, "r")?;
    assert_eq!(r.text("state")?.as_deref(), Some("failed"), "{r:?}");

    let mut raw = RawClient::connect(addr)?;
    let mut n = 0;
    while n < PREFILL {
        xadd_seqs(&mut raw, "src", n..n + CHUNK)?;
        n += CHUNK;
    }
    let mut acked: Vec<u64> = (0..PREFILL).collect();
    // A client goes on adding, one acknowledged event at a time, until the server dies.
    let writer = add_until_killed(addr, PREFILL);

    plugins::install(&plugins_dir, "transform", "t.wasm")?;
    // Kill as soon as the route has committed its first batches: far from done.
    let routed = first_outputs(&mut con, "dst")?;
    server.kill()?;
    acked.extend(writer.join().map_err(|_| anyhow!("the writer panicked"))?);
    ensure!(
        routed < usize::try_from(PREFILL)?,
        "the route had routed all {routed} events before the kill; the test needs more events"
    );
    let server = ChildServer::start(BIN, &data, &args)?;
    let mut con = connect(server.addr)?;
    wait_caught_up(&mut con, "r")?;
    let source = xrange(&mut con, "src")?;
    let source_fields: Vec<_> = source.iter().map(|(_, f)| f.clone()).collect();
    let source_seqs = seqs_of("src", &source_fields, &[])?;
    // One writer at a time, each waiting for its reply: the source is 0, 1, 2… with nothing
    // missing, and at most the one XADD in flight at the kill beyond what was acknowledged.
    let len = u64::try_from(source_seqs.len())?;
    assert_eq!(source_seqs, (0..len).collect::<Vec<_>>());
    let acked_len = u64::try_from(acked.len())?;
    assert!(
        len == acked_len || len == acked_len + 1,
        "{acked_len} acknowledged, {len} in the source"
    );
    let dst = entries(&mut con, "dst")?;
    let dst_seqs = seqs_of("dst", &dst, &[pair("routed", "yes")])?;
    assert_eq!(dst_seqs.len(), source_seqs.len());
    assert_eq!(dst_seqs, source_seqs, "outputs lost, repeated or reordered");
    let last_id = source.last().map(|(id, _)| id.clone());
    let g = group(&mut con, "src", "sluice:route:r")?;
    assert_eq!(g.text("last-delivered-id")?, last_id);
    assert_eq!(g.count("lag")?, 0);
    drop(server);
    for dir in [&data, &plugins_dir, &folder] {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// A clean restart keeps the route's position: after it, the route routes only what is new.
#[test]
fn clean_restart_keeps_the_route_position() -> Result<()> {
    let plugins_dir = plugins::folder(&[("transform", "t.wasm")])?;
    let config = plugins::config(&plugins_dir, &route_toml("r", "src", "t.wasm", MARK_ROUTED))?;
    let data = tempdir()?;
    let routed = [pair("routed", "yes")];
    {
        let server = TestServer::start_in(&data, config.clone(), system_clock())?;
        let mut con = server.client()?;
        xadd_seqs(&mut server.raw()?, "src", 0..10)?;
        caught_up(&mut con, "r", 10)?;
    }
    for restart in 1..=2u64 {
        let server = TestServer::start_in(&data, config.clone(), system_clock())?;
        let mut con = server.client()?;
        // Counters start again at 0: the one new event is all the route takes in.
        let seq = 9 + restart;
        let id = xadd(&mut con, "src", &[("seq", &seq.to_string())])?;
        let r = caught_up(&mut con, "r", 1)?;
        assert_eq!(r.count("events-out")?, 1);
        let got = entries(&mut con, "dst")?;
        assert_eq!(
            seqs_of("dst", &got, &routed)?,
            (0..=seq).collect::<Vec<_>>()
        );
        assert_eq!(
            group(&mut con, "src", "sluice:route:r")?.some_text("last-delivered-id")?,
            id
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// A shutdown while the route is catching up stops it after a committed batch; the restarted
/// route resumes there, so every event still comes out exactly once, in order: the good ones
/// in the destination, the ones its plugin fails in the dead-letter stream.
#[test]
fn shutdown_while_a_route_catches_up_resumes_where_it_stopped() -> Result<()> {
    const EVENTS: u64 = 20_000;
    // Every 100th event makes `trap-on` trap. Each batch then fails as a whole and is routed
    // again one event at a time, with a fresh instance after each trap: a slow catch-up, which
    // the shutdown interrupts.
    let bad = |seq: u64| seq.is_multiple_of(100);
    // No plugin file at first: the route cannot run, and the events pile up in front of it.
    let plugins_dir = plugins::folder(&[])?;
    let routes = route_toml(
        "r",
        "src",
        "t.wasm",
        r#"{ field = "kind", value = "bad", destination = "dst" }"#,
    ) + "start = \"0\"\n";
    let config = plugins::config(&plugins_dir, &routes)?;
    let data = tempdir()?;
    let routed = {
        let server = TestServer::start_in(&data, config.clone(), system_clock())?;
        let mut con = server.client()?;
        let mut raw = server.raw()?;
        let r = route(&mut con, "r")?;
        assert_eq!(r.text("state")?.as_deref(), Some("failed"));
        for seq in 0..EVENTS {
            let kind = if bad(seq) { "bad" } else { "good" };
            let reply = raw.cmd(&["XADD", "src", "*", "seq", &seq.to_string(), "kind", kind])?;
            ensure!(reply.starts_with('$'), "XADD seq {seq}: {reply:?}");
        }
        plugins::install(&plugins_dir, "trap-on", "t.wasm")?;
        // Shut down as soon as the route has committed its first batch: far from done.
        first_outputs(&mut con, "dst")?
    };
    let good: Vec<u64> = (0..EVENTS).filter(|s| !bad(*s)).collect();
    ensure!(
        routed < good.len(),
        "the route had routed all {routed} events before the shutdown; the test needs more"
    );

    let server = TestServer::start_in(&data, config, system_clock())?;
    let mut con = server.client()?;
    let r = wait_caught_up(&mut con, "r")?;
    let got = entries(&mut con, "dst")?;
    assert_eq!(seqs_of("dst", &got, &[pair("kind", "good")])?, good);
    let source = xrange(&mut con, "src")?;
    let mut want_dlq = Vec::new();
    for (id, fields) in &source {
        if fields.get(1) == Some(&pair("kind", "bad")) {
            want_dlq.push((fields.clone(), id.clone()));
        }
    }
    let dlq = entries(&mut con, "src.dlq")?;
    assert_eq!(dlq.len(), want_dlq.len());
    for (fields, (event, id)) in dlq.iter().zip(&want_dlq) {
        let (own, added) = fields.split_at(event.len().min(fields.len()));
        assert_eq!(own, &event[..]);
        let [(reason_key, reason), rest @ ..] = added else {
            bail!("dead-letter entry without a reason: {fields:?}");
        };
        assert_eq!(reason_key, "dlq-reason");
        assert!(reason.contains("trap-on: kind = bad"), "{reason}");
        assert_eq!(
            rest,
            [
                pair("dlq-source", "src"),
                pair("dlq-id", id),
                pair("dlq-route", "r")
            ]
        );
    }
    // This run's counters: it took in at most what the first run had not routed when last
    // seen, and each event it took in was either routed or dead-lettered.
    let events_in = r.count("events-in")?;
    assert!(
        events_in <= i64::try_from(EVENTS - u64::try_from(routed)?)?,
        "{r:?}"
    );
    assert_eq!(
        r.count("events-out")? + r.count("dead-lettered")?,
        events_in,
        "{r:?}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
