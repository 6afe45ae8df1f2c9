//! Helpers shared by the route end-to-end tests: `flow.rs` (the example plugins),
//! `faults.rs` (failing plugins, refused configs), `reload.rs` (hot reload) and
//! `restart.rs` (SIGKILL, restarts, shutdown); the claim-policy tests build on them too
//! (`support.rs`).
//!
//! Replies of `SLUICE ROUTES`, `SLUICE PLUGINS`, `SLUICE POLICIES` and `XINFO GROUPS` are
//! parsed once, into [`Fields`]: typed lookups for checks on one field, and
//! [`Fields::rendered`] (text pairs in reply order) for exact comparisons of a whole map. Routes
//! and policies are asynchronous, so every wait here polls until its condition holds or
//! [`PATIENCE`] runs out; none asserts how long anything took.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use redis::Value;
use sluice_tests::{Config, ManualClock, RawClient, TestServer, plugins};

/// The manual clock's time in these tests: the `n`th entry of a stream gets `<T0>-<n>`.
pub const T0: u64 = 1_700_000_000_000;

/// How long any wait (a reload, a route's catch-up) may take on a slow, shared machine before
/// the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How often a wait polls.
const POLL: Duration = Duration::from_millis(5);

// Streams.

/// An entry's (field, value) pairs, in order.
pub type EntryFields = Vec<(String, String)>;

/// Entries of `key` as (ID, fields), in order.
pub fn xrange(con: &mut redis::Connection, key: &str) -> Result<Vec<(String, EntryFields)>> {
    Ok(redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(con)?)
}

/// Entries of `key` as (fields) lists, in order.
pub fn entries(con: &mut redis::Connection, key: &str) -> Result<Vec<EntryFields>> {
    Ok(xrange(con, key)?
        .into_iter()
        .map(|(_, fields)| fields)
        .collect())
}

/// `XLEN key`.
pub fn xlen(con: &mut redis::Connection, key: &str) -> Result<usize> {
    Ok(redis::cmd("XLEN").arg(key).query(con)?)
}

/// `EXISTS key`, as a bool.
pub fn exists(con: &mut redis::Connection, key: &str) -> Result<bool> {
    let n: i64 = redis::cmd("EXISTS").arg(key).query(con)?;
    Ok(n == 1)
}

/// `XADD key * field value …`; returns the new ID.
pub fn xadd(con: &mut redis::Connection, key: &str, fields: &[(&str, &str)]) -> Result<String> {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key).arg("*");
    for (f, v) in fields {
        cmd.arg(*f).arg(*v);
    }
    Ok(cmd.query(con)?)
}

/// `XADD key * seq <n>` for each of `seqs`, pipelined, each reply checked to be an ID.
pub fn xadd_seqs(raw: &mut RawClient, key: &str, seqs: std::ops::Range<u64>) -> Result<()> {
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

// Waiting.

/// Polls until `poll` breaks with a value; `Continue` carries what it saw, for the failure
/// message.
pub fn wait_until<T>(
    what: &str,
    poll: impl FnMut() -> Result<ControlFlow<T, String>>,
) -> Result<T> {
    poll_every(POLL, what, poll)
}

/// [`wait_until`], polling every `every`.
fn poll_every<T>(
    every: Duration,
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
        std::thread::sleep(every);
    }
}

/// Waits until `key` holds at least `n` entries, then returns them all.
pub fn wait_entries(con: &mut redis::Connection, key: &str, n: usize) -> Result<Vec<EntryFields>> {
    wait_until(&format!("{key} holds {n} entries"), || {
        let len = xlen(con, key)?;
        Ok(if len >= n {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(format!("{len} entries"))
        })
    })?;
    entries(con, key)
}

/// Waits, polling closely, until `key` has entries (a route catching up has committed its
/// first batch), and returns how many.
pub fn first_outputs(con: &mut redis::Connection, key: &str) -> Result<usize> {
    let what = format!("{key} has entries");
    poll_every(Duration::from_millis(1), &what, || {
        let len = xlen(con, key)?;
        Ok(if len > 0 {
            ControlFlow::Break(len)
        } else {
            ControlFlow::Continue("empty".to_owned())
        })
    })
}

// Replies.

/// One map of a `SLUICE ROUTES`, `SLUICE PLUGINS`, `SLUICE POLICIES` or `XINFO GROUPS` reply:
/// (field, value) in reply order.
#[derive(Debug)]
pub struct Fields(Vec<(String, Value)>);

impl Fields {
    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Result<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .with_context(|| format!("no field {name:?} in {self:?}"))
    }

    /// An integer field.
    pub fn count(&self, name: &str) -> Result<i64> {
        match self.get(name)? {
            Value::Int(n) => Ok(*n),
            other => bail!("{name} is not an integer: {other:?}"),
        }
    }

    /// A text field; `None` for a null.
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        match self.get(name)? {
            Value::Nil => Ok(None),
            Value::BulkString(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
            Value::SimpleString(s) => Ok(Some(s.clone())),
            other => bail!("{name} is not text: {other:?}"),
        }
    }

    /// A text field that must be there.
    pub fn some_text(&self, name: &str) -> Result<String> {
        self.text(name)?
            .with_context(|| format!("{name} is null in {self:?}"))
    }

    /// The map as (field, value) text pairs in reply order, values [`render`]ed: the form
    /// tests compare exactly.
    pub fn rendered(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), render(v))).collect()
    }
}

/// Each of `list` [`Fields::rendered`].
pub fn rendered(list: &[Fields]) -> Vec<Vec<(String, String)>> {
    list.iter().map(Fields::rendered).collect()
}

/// A reply as text, for exact comparisons: strings as themselves, integers in decimal, nil as
/// `(nil)`, arrays as `[a, b]`.
pub fn render(value: &Value) -> String {
    match value {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".to_owned(),
        Value::Int(n) => n.to_string(),
        Value::Nil => "(nil)".to_owned(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// The reply to `cmd`, a list of maps (flat arrays in RESP2).
pub fn maps(con: &mut redis::Connection, cmd: &redis::Cmd) -> Result<Vec<Fields>> {
    let reply: Value = cmd.query(con)?;
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
            flat.chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        }
        other => bail!("expected a map, got {other:?}"),
    };
    let mut fields = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let Value::BulkString(k) = k else {
            bail!("map key is not a bulk string: {k:?}");
        };
        fields.push((String::from_utf8_lossy(&k).into_owned(), v));
    }
    Ok(Fields(fields))
}

/// The map of `list` whose `field` is `value`.
pub fn find(list: Vec<Fields>, field: &str, value: &str) -> Option<Fields> {
    list.into_iter()
        .find(|m| m.text(field).is_ok_and(|v| v.as_deref() == Some(value)))
}

/// `SLUICE ROUTES`: every route, in config order.
pub fn sluice_routes(con: &mut redis::Connection) -> Result<Vec<Fields>> {
    maps(con, redis::cmd("SLUICE").arg("ROUTES"))
}

/// `SLUICE PLUGINS`: every plugin file, by file name.
pub fn sluice_plugins(con: &mut redis::Connection) -> Result<Vec<Fields>> {
    maps(con, redis::cmd("SLUICE").arg("PLUGINS"))
}

/// `XINFO GROUPS key`.
pub fn xinfo_groups(con: &mut redis::Connection, key: &str) -> Result<Vec<Fields>> {
    maps(con, redis::cmd("XINFO").arg("GROUPS").arg(key))
}

/// Route `name` as `SLUICE ROUTES` shows it.
pub fn route(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    find(sluice_routes(con)?, "name", name)
        .with_context(|| format!("SLUICE ROUTES does not list route {name}"))
}

/// The names `SLUICE ROUTES` lists, in order.
pub fn route_names(con: &mut redis::Connection) -> Result<Vec<String>> {
    sluice_routes(con)?
        .iter()
        .map(|r| r.some_text("name"))
        .collect()
}

/// Plugin file `file` as `SLUICE PLUGINS` shows it.
pub fn plugin(con: &mut redis::Connection, file: &str) -> Result<Fields> {
    find(sluice_plugins(con)?, "file", file)
        .with_context(|| format!("SLUICE PLUGINS does not list {file}"))
}

/// Group `group` of stream `key`, as `XINFO GROUPS` shows it.
pub fn group(con: &mut redis::Connection, key: &str, group: &str) -> Result<Fields> {
    find(xinfo_groups(con, key)?, "name", group)
        .with_context(|| format!("{key} has no group {group}"))
}

// Waiting for routes.

/// Waits until the map `lookup` gives satisfies `done` (which may also fail at once on what
/// must never be seen); `what` names the wait in its failure message.
pub fn fields_until(
    what: &str,
    mut lookup: impl FnMut() -> Result<Fields>,
    done: impl Fn(&Fields) -> Result<bool>,
) -> Result<Fields> {
    wait_until(what, || {
        let map = lookup()?;
        Ok(if done(&map)? {
            ControlFlow::Break(map)
        } else {
            ControlFlow::Continue(format!("{map:?}"))
        })
    })
}

/// Waits until route `name`, as `SLUICE ROUTES` shows it, satisfies `done` (see
/// [`fields_until`]).
pub fn route_until(
    con: &mut redis::Connection,
    name: &str,
    what: &str,
    done: impl Fn(&Fields) -> Result<bool>,
) -> Result<Fields> {
    fields_until(&format!("route {name} {what}"), || route(con, name), done)
}

/// Whether route `r` is in `state` (`running`, `halted`, `failed`, …).
pub fn in_state(r: &Fields, state: &str) -> Result<bool> {
    Ok(r.text("state")?.as_deref() == Some(state))
}

/// Waits until route `name` runs and has routed every entry of its sources (`lag` 0),
/// whatever its counters say.
pub fn wait_caught_up(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    route_until(con, name, "has caught up (running, lag 0)", |r| {
        Ok(r.get("lag")? == &Value::Int(0) && in_state(r, "running")?)
    })
}

/// Waits until route `name` has taken in exactly `n` events (since the server started) and
/// has nothing left to route; fails at once if it took in more.
pub fn caught_up(con: &mut redis::Connection, name: &str, n: i64) -> Result<Fields> {
    route_until(con, name, &format!("has routed {n} events"), |r| {
        let events_in = r.count("events-in")?;
        ensure!(
            events_in <= n,
            "{events_in} events taken in, {n} added: {r:?}"
        );
        Ok(events_in == n && r.get("lag")? == &Value::Int(0))
    })
}

// Expected values.

/// One owned (field, value) pair.
pub fn pair(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

/// Owned (field, value) pairs.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| pair(k, v)).collect()
}

/// The value of `field` in a rendered map.
pub fn get<'a>(map: &'a [(String, String)], field: &str) -> Result<&'a str> {
    map.iter()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.as_str())
        .with_context(|| format!("no field {field} in {map:?}"))
}

/// The ID the manual clock gives the `n`th entry (from 0) of a stream: `<T0>-<n>`.
pub fn id(n: u64) -> String {
    format!("{T0}-{n}")
}

/// A dead-letter entry's fields: the event's own, then `dlq-reason`, `dlq-source`, `dlq-id`
/// and `dlq-route`.
pub fn dead_letter(
    event: &[(&str, &str)],
    reason: &str,
    source: &str,
    id: &str,
    route: &str,
) -> Vec<(String, String)> {
    let mut all = pairs(event);
    all.extend(pairs(&[
        ("dlq-reason", reason),
        ("dlq-source", source),
        ("dlq-id", id),
        ("dlq-route", route),
    ]));
    all
}

/// `map` with the value of each of `fields` checked to be a count (and, for `ns-per-event`,
/// above 0: every event spent time in the plugin) and replaced by `*`, so that the rest can
/// be compared exactly.
pub fn masked(map: &[(String, String)], fields: &[&str]) -> Result<Vec<(String, String)>> {
    map.iter()
        .map(|(k, v)| {
            if !fields.contains(&k.as_str()) {
                return Ok((k.clone(), v.clone()));
            }
            let n: u64 = v.parse().with_context(|| format!("{k} = {v:?}"))?;
            if k == "ns-per-event" && n == 0 {
                bail!("ns-per-event is 0 though events were routed");
            }
            Ok((k.clone(), "*".to_owned()))
        })
        .collect()
}

/// The `seq` of each entry whose fields are exactly `seq` followed by `extra`.
pub fn seqs_of(
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

/// The bytes of a plugin file, as `SLUICE PLUGINS` reports them.
pub fn file_size(dir: &Path, file: &str) -> Result<String> {
    Ok(std::fs::metadata(dir.join(file))
        .with_context(|| file.to_owned())?
        .len()
        .to_string())
}

// Servers and configs.

/// A data folder holding `events` in stream `key`, written by a server without routes (at
/// [`T0`], so their IDs are `id(0)`, `id(1)`, …). A route started on it with `start = "0"`
/// finds them all at once: one batch.
pub fn prefilled(key: &str, events: &[&[(&str, &str)]]) -> Result<PathBuf> {
    let dir = sluice_tests::tempdir()?;
    let server = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))?;
    let mut con = server.client()?;
    for event in events {
        xadd(&mut con, key, event)?;
    }
    Ok(dir)
}

/// Starts a server on a data folder holding `events` in stream `key` (see [`prefilled`]), with
/// the plugins `files` (as for [`plugins::folder`]) and `routes_toml`, its clock at [`T0`].
/// Also returns the plugins folder.
pub fn start_prefilled(
    key: &str,
    events: &[&[(&str, &str)]],
    files: &[(&str, &str)],
    routes_toml: &str,
) -> Result<(TestServer, PathBuf)> {
    let data = prefilled(key, events)?;
    let dir = plugins::folder(files)?;
    let config = plugins::config(&dir, routes_toml)?;
    let server = TestServer::start_in(&data, config, ManualClock::new(T0))?;
    Ok((server, dir))
}

/// A server with the plugins `files` (as for [`plugins::folder`]) and the `[[route]]` or
/// `[[claim_policy]]` tables in `toml`, its clock at [`T0`]. Also returns the clock and the
/// plugins folder.
pub fn start(
    files: &[(&str, &str)],
    toml: &str,
) -> Result<(TestServer, Arc<ManualClock>, PathBuf)> {
    let dir = plugins::folder(files)?;
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(plugins::config(&dir, toml)?, clock.clone())?;
    Ok((server, clock, dir))
}

/// [`start`] on the system clock, for tests whose entry IDs need not be exact.
pub fn start_with_system_clock(
    files: &[(&str, &str)],
    toml: &str,
) -> Result<(TestServer, PathBuf)> {
    let dir = plugins::folder(files)?;
    Ok((TestServer::start_with(plugins::config(&dir, toml)?)?, dir))
}

/// Replaces `dir/file` with `bytes` atomically, as a deploy would.
pub fn replace_file(dir: &Path, file: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(file))?;
    Ok(())
}

/// A route config that both `filter` and `trap-on` accept, under which each forwards every
/// test event unchanged to `dst` (all carry `seq`, none has `seq = "never"`). Swapping one
/// plugin for the other changes the plugin, never the expected output.
pub const FORWARD_ALL: &str =
    r#"{ field = "seq", op = "ne", value = "never", destination = "dst" }"#;

/// One `[[route]]` table.
pub fn route_toml(name: &str, source: &str, plugin: &str, config: &str) -> String {
    format!(
        "[[route]]\nname = \"{name}\"\nsource = \"{source}\"\nplugin = \"{plugin}\"\n\
         config = {config}\n"
    )
}
