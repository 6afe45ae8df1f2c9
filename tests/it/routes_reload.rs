//! Routes across change: plugin files replaced under load, broken plugin files, config-file
//! edits, `SLUICE RELOAD`, a SIGKILL while a route catches up, and restarts. Each checks what
//! the route runner promises: every source event is routed exactly once, in order, whatever
//! happens to the route around it.
//!
//! Outputs carry the producer's sequence number (`seq`), so a lost or repeated event shows as
//! a gap or a repeat in the destination's sequence.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use redis::Value;
use sluice_tests::{ChildServer, Clock, Config, RawClient, TestServer, plugins, tempdir};

use super::routes::entries;

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// How long a reload or a route's catch-up may take on a slow, shared machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// A route config that both `filter` and `trap-on` accept, under which each forwards every
/// test event unchanged to `dst` (all carry `seq`, none has `seq = "never"`). Swapping one
/// plugin for the other changes the plugin, never the expected output.
const FORWARD_ALL: &str = r#"{ field = "seq", op = "ne", value = "never", destination = "dst" }"#;

/// A `transform` config that marks each event and sends it to `dst`.
const MARK_ROUTED: &str = r#"{ "set.routed" = "yes", destination = "dst" }"#;

/// One `[[route]]` table.
fn route_toml(name: &str, source: &str, plugin: &str, config: &str) -> String {
    format!(
        "[[route]]\nname = \"{name}\"\nsource = \"{source}\"\nplugin = \"{plugin}\"\n\
         config = {config}\n"
    )
}

/// One map of a `SLUICE ROUTES`, `SLUICE PLUGINS` or `XINFO GROUPS` reply, by field name.
#[derive(Debug)]
struct Fields(BTreeMap<String, Value>);

impl Fields {
    fn get(&self, name: &str) -> Result<&Value> {
        self.0
            .get(name)
            .with_context(|| format!("no field {name:?} in {self:?}"))
    }

    /// An integer field.
    fn count(&self, name: &str) -> Result<i64> {
        match self.get(name)? {
            Value::Int(n) => Ok(*n),
            other => bail!("{name} is not an integer: {other:?}"),
        }
    }

    /// A text field; `None` for a null.
    fn text(&self, name: &str) -> Result<Option<String>> {
        match self.get(name)? {
            Value::Nil => Ok(None),
            Value::BulkString(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
            Value::SimpleString(s) => Ok(Some(s.clone())),
            other => bail!("{name} is not text: {other:?}"),
        }
    }

    /// A text field that must be there.
    fn some_text(&self, name: &str) -> Result<String> {
        self.text(name)?
            .with_context(|| format!("{name} is null in {self:?}"))
    }
}

/// A reply that is a list of maps (flat arrays in RESP2).
fn maps(reply: Value) -> Result<Vec<Fields>> {
    let Value::Array(items) = reply else {
        bail!("expected an array of maps, got {reply:?}");
    };
    items.into_iter().map(fields_of).collect()
}

fn fields_of(item: Value) -> Result<Fields> {
    let pairs: Vec<(Value, Value)> = match item {
        Value::Map(pairs) => pairs,
        Value::Array(flat) => {
            ensure!(flat.len() % 2 == 0, "odd-length map: {flat:?}");
            let mut it = flat.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        other => bail!("expected a map, got {other:?}"),
    };
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        let Value::BulkString(k) = k else {
            bail!("map key is not a bulk string: {k:?}");
        };
        map.insert(String::from_utf8_lossy(&k).into_owned(), v);
    }
    Ok(Fields(map))
}

/// `SLUICE ROUTES`.
fn routes(con: &mut redis::Connection) -> Result<Vec<Fields>> {
    maps(redis::cmd("SLUICE").arg("ROUTES").query(con)?)
}

/// The names `SLUICE ROUTES` lists, in order.
fn route_names(con: &mut redis::Connection) -> Result<Vec<String>> {
    routes(con)?.iter().map(|r| r.some_text("name")).collect()
}

/// Route `name` as `SLUICE ROUTES` shows it.
fn route(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    for r in routes(con)? {
        if r.text("name")?.as_deref() == Some(name) {
            return Ok(r);
        }
    }
    bail!("SLUICE ROUTES does not list route {name}")
}

/// Plugin file `file` as `SLUICE PLUGINS` shows it.
fn plugin(con: &mut redis::Connection, file: &str) -> Result<Fields> {
    for p in maps(redis::cmd("SLUICE").arg("PLUGINS").query(con)?)? {
        if p.text("file")?.as_deref() == Some(file) {
            return Ok(p);
        }
    }
    bail!("SLUICE PLUGINS does not list {file}")
}

/// Group `group` of stream `key`, as `XINFO GROUPS` shows it.
fn group(con: &mut redis::Connection, key: &str, group: &str) -> Result<Fields> {
    for g in maps(redis::cmd("XINFO").arg("GROUPS").arg(key).query(con)?)? {
        if g.text("name")?.as_deref() == Some(group) {
            return Ok(g);
        }
    }
    bail!("{key} has no group {group}")
}

/// Polls until `poll` breaks with a value; `Continue` carries what it saw, for the failure
/// message.
fn wait_until<T>(
    what: &str,
    mut poll: impl FnMut() -> Result<ControlFlow<T, String>>,
) -> Result<T> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = match poll()? {
            ControlFlow::Break(done) => return Ok(done),
            ControlFlow::Continue(seen) => seen,
        };
        if Instant::now() > deadline {
            bail!(
                "{what}: still not so after {} s; last seen: {seen}",
                PATIENCE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until route `name`, as `SLUICE ROUTES` shows it, satisfies `done` (which may also
/// fail at once on what must never be seen).
fn route_until(
    con: &mut redis::Connection,
    name: &str,
    what: &str,
    done: impl Fn(&Fields) -> Result<bool>,
) -> Result<Fields> {
    wait_until(&format!("route {name} {what}"), || {
        let r = route(con, name)?;
        Ok(if done(&r)? {
            ControlFlow::Break(r)
        } else {
            ControlFlow::Continue(format!("{r:?}"))
        })
    })
}

fn is_running(r: &Fields) -> Result<bool> {
    Ok(r.text("state")?.as_deref() == Some("running"))
}

/// Waits until route `name` has taken in exactly `n` events (since the server started) and
/// has nothing left to route; fails at once if it took in more.
fn caught_up(con: &mut redis::Connection, name: &str, n: i64) -> Result<Fields> {
    route_until(con, name, &format!("has routed {n} events"), |r| {
        let events_in = r.count("events-in")?;
        ensure!(
            events_in <= n,
            "{events_in} events taken in, {n} added: {r:?}"
        );
        Ok(events_in == n && r.get("lag")? == &Value::Int(0))
    })
}

/// Waits until route `name` runs and has nothing left to route (whatever its counters say).
fn no_lag(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    route_until(con, name, "has caught up", |r| {
        Ok(r.get("lag")? == &Value::Int(0) && is_running(r)?)
    })
}

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
            && is_running(r)?)
    })
}

/// Waits until route `name`'s `last-error` contains `needle`.
fn route_error(con: &mut redis::Connection, name: &str, needle: &str) -> Result<Fields> {
    route_until(con, name, &format!("reports {needle:?}"), |r| {
        Ok(r.text("last-error")?.is_some_and(|e| e.contains(needle)))
    })
}

/// Waits until `SLUICE ROUTES` lists exactly `names`, all running.
fn routes_are(con: &mut redis::Connection, names: &[&str]) -> Result<()> {
    wait_until(&format!("the routes are {names:?}"), || {
        let list = routes(con)?;
        let mut seen = Vec::new();
        let mut running = true;
        for r in &list {
            seen.push(r.some_text("name")?);
            running &= is_running(r)?;
        }
        Ok(if running && seen == names {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(format!("{list:?}"))
        })
    })
}

fn xlen(con: &mut redis::Connection, key: &str) -> Result<usize> {
    Ok(redis::cmd("XLEN").arg(key).query(con)?)
}

/// Waits until `key` holds at least `n` entries, then returns them all.
fn wait_len(
    con: &mut redis::Connection,
    key: &str,
    n: usize,
) -> Result<Vec<Vec<(String, String)>>> {
    wait_until(&format!("{key} holds {n} entries"), || {
        let len = xlen(con, key)?;
        if len >= n {
            Ok(ControlFlow::Break(()))
        } else {
            Ok(ControlFlow::Continue(format!("{len} entries")))
        }
    })?;
    entries(con, key)
}

/// Waits, polling closely, until `key` has entries (a route catching up has committed its
/// first batch), and returns how many.
fn first_outputs(con: &mut redis::Connection, key: &str) -> Result<usize> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let len = xlen(con, key)?;
        if len > 0 {
            return Ok(len);
        }
        if Instant::now() > deadline {
            bail!("{key} is still empty after {} s", PATIENCE.as_secs());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `XADD key * <field> <value>`, returning the ID.
fn xadd(con: &mut redis::Connection, key: &str, field: &str, value: &str) -> Result<String> {
    Ok(redis::cmd("XADD")
        .arg(key)
        .arg("*")
        .arg(field)
        .arg(value)
        .query(con)?)
}

/// `XADD key * seq <n>` for each of `seqs`, pipelined, each reply checked to be an ID.
fn xadd_seqs(raw: &mut RawClient, key: &str, seqs: std::ops::Range<u64>) -> Result<()> {
    for seq in seqs.clone() {
        let seq = seq.to_string();
        raw.send_cmd(&[b"XADD", key.as_bytes(), b"*", b"seq", seq.as_bytes()])?;
    }
    for seq in seqs {
        let reply = raw.read_reply()?;
        ensure!(reply.starts_with('$'), "XADD seq {seq}: {reply:?}");
    }
    Ok(())
}

fn pair(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

/// The `seq` of each entry whose fields are exactly `seq` followed by `extra`.
fn seqs_of(
    key: &str,
    list: &[Vec<(String, String)>],
    extra: &[(String, String)],
) -> Result<Vec<u64>> {
    list.iter()
        .map(|fields| {
            let (first, rest) = fields
                .split_first()
                .with_context(|| format!("an entry of {key} has no fields"))?;
            ensure!(
                first.0 == "seq" && rest == extra,
                "unexpected entry in {key}: {fields:?}"
            );
            Ok(first.1.parse()?)
        })
        .collect()
}

/// Replaces `dir/file` with `bytes` atomically, as a deploy would.
fn replace_file(dir: &Path, file: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(file))?;
    Ok(())
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

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (stop, acked, addr) = (stop.clone(), acked.clone(), server.addr);
            std::thread::spawn(move || produce(addr, p, |_| "src".to_owned(), &stop, &acked))
        })
        .collect();
    // The producers are stopped whatever happens to the swaps.
    let swapped = swap_under_load(&mut con, &dir, "live", "r.wasm", SWAPS, &acked);
    stop.store(true, Ordering::Relaxed);
    let mut produced = Vec::new();
    for p in producers {
        produced.push(p.join().map_err(|_| anyhow!("a producer panicked"))??);
    }
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
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let producer = {
        let (stop, acked, addr) = (stop.clone(), acked.clone(), server.addr);
        std::thread::spawn(move || produce(addr, 0, |seq| format!("s.{seq}"), &stop, &acked))
    };
    let swapped = swap_under_load(&mut con, &dir, "glob", "r.wasm", SWAPS, &acked);
    stop.store(true, Ordering::Relaxed);
    let produced = producer
        .join()
        .map_err(|_| anyhow!("the producer panicked"))??;
    swapped?;

    let n = i64::try_from(produced)?;
    let r = no_lag(&mut con, "glob")?;
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
        xadd(con, "src", "seq", &seq.to_string())?;
        let got = wait_len(con, "dst", usize::try_from(seq + 1)?)?;
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
             this broker speaks sluice:plugin@0.1.0"
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
             sluice:plugin@0.1.0"
        ),
        "{plugin_error}"
    );
    route_one(&mut con, 2)?;

    plugins::install(&dir, "trap-on", "r.wasm")?;
    reloaded(&mut con, "r", 1, "trap-on")?;
    let p = plugin(&mut con, "r.wasm")?;
    assert_eq!(p.text("error")?, None);
    assert_eq!(p.text("name")?.as_deref(), Some("trap-on"));
    assert_eq!(p.text("wit-version")?.as_deref(), Some("0.1.0"));
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
    xadd(&mut con, "a.src", "n", "1")?;
    wait_len(&mut con, "a.dst", 1)?;

    // Add route b.
    save_config(&file, &plugins_dir, &[a.clone(), b.clone()])?;
    routes_are(&mut con, &["a", "b"])?;
    let first_b = xadd(&mut con, "b.src", "n", "1")?;
    let got = wait_len(&mut con, "b.dst", 1)?;
    assert_eq!(got, vec![vec![pair("n", 1), pair("via", "b")]]);
    // Route a, unchanged, was left alone.
    assert_eq!(route(&mut con, "a")?.count("reloads")?, 0);

    // Remove it: once SLUICE ROUTES stops listing it, its thread has stopped, and what is
    // added to its source stays unrouted, its position where it was.
    save_config(&file, &plugins_dir, std::slice::from_ref(&a))?;
    routes_are(&mut con, &["a"])?;
    xadd(&mut con, "b.src", "n", "2")?;
    xadd(&mut con, "a.src", "n", "2")?;
    wait_len(&mut con, "a.dst", 2)?;
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
    xadd(&mut con, "a.src", "n", "3")?;
    wait_len(&mut con, "a.dst", 3)?;
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
    let got = wait_len(&mut con, "b.dst", 2)?;
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
    let mut con = redis::Client::open(format!("redis://{addr}"))?.get_connection()?;
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
    let writer = std::thread::spawn(move || -> Vec<u64> {
        let mut acked = Vec::new();
        let Ok(mut raw) = RawClient::connect(addr) else {
            return acked;
        };
        for seq in PREFILL.. {
            match raw.cmd(&["XADD", "src", "*", "seq", &seq.to_string()]) {
                Ok(reply) if reply.starts_with('$') => acked.push(seq),
                _ => break,
            }
        }
        acked
    });

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
    let mut con = redis::Client::open(format!("redis://{}", server.addr))?.get_connection()?;
    no_lag(&mut con, "r")?;
    let source: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg("src")
        .arg("-")
        .arg("+")
        .query(&mut con)?;
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

fn system_clock() -> Arc<dyn Clock> {
    Arc::new(sluice_server::SystemClock)
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
        let id = xadd(&mut con, "src", "seq", &seq.to_string())?;
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
    let r = no_lag(&mut con, "r")?;
    let got = entries(&mut con, "dst")?;
    assert_eq!(seqs_of("dst", &got, &[pair("kind", "good")])?, good);
    let source: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg("src")
        .arg("-")
        .arg("+")
        .query(&mut con)?;
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
