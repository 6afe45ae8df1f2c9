//! Route workloads: what a WebAssembly route (the `filter` example plugin) moves, costs and
//! delays. Routes are Sluice's alone, so each row is judged on Sluice's own figure:
//! - [`RouteCatchUp`]: a route added to a stream of 1M events (`start = "0"`) catches up;
//!   events/s on the route's one thread, and the plugin's share of the time.
//! - [`RoutedXadd`]: the plain XADD load with one route forwarding every entry, against a
//!   Sluice without routes (a Sluice-vs-Sluice row); Redis's figure is in the notes.
//! - [`RouteLatency`]: at a steady offered load, send → arrival on the destination stream of
//!   a reader in `XREAD BLOCK 0`; plain XADD → XREAD (Sluice's in the notes, Redis's in its
//!   column) for context.
//!
//! Routes are installed as an operator would: `plugins-dir` and `[[route]]` tables appended
//! to the config file the harness started Sluice with, then `SLUICE RELOAD`. The plugins are
//! built by `sluice_tests::plugins` and copied to a folder of the workload's own.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use sluice_tests::plugins;

use crate::driver::{self, BenchmarkRun};
use crate::resp::{Conn, Reply};
use crate::server::{self, Binaries, Durability, Kind, RunningServer};
use crate::workloads::{Baseline, Ctx, Goal, Sample, Workload, args, stream_len};

/// The route rows, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(RouteCatchUp::default()),
        Box::new(RoutedXadd::new(1)),
        Box::new(RoutedXadd::new(16)),
        Box::new(RouteLatency::new(Quantile::P50)),
        Box::new(RouteLatency::new(Quantile::P99)),
    ]
}

/// A copy of the built plugins, removed when the workload is dropped.
pub(crate) struct PluginFolder(PathBuf);

impl Drop for PluginFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The workload's plugin folder, building the plugins on first use (not at listing time).
pub(crate) fn plugin_folder(cell: &OnceLock<PluginFolder>) -> Result<&Path> {
    if cell.get().is_none() {
        let dir = plugins::folder(&[("filter", "filter.wasm")]).context("building the plugins")?;
        // Workloads run one at a time; a lost race would only drop a spare copy.
        let _ = cell.set(PluginFolder(dir));
    }
    Ok(&cell.get().context("plugin folder")?.0)
}

/// Where the harness's own settings end in Sluice's config file and the routes begin.
const ROUTES_MARKER: &str = "# --- routes of the compare bench ---\n";

/// A `[[route]]` table for `filter.wasm`; `config` is the inside of its inline table.
pub(crate) fn filter_route(name: &str, source: &str, config: &str, start: &str) -> String {
    format!(
        "[[route]]\nname = \"{name}\"\nsource = \"{source}\"\nplugin = \"filter.wasm\"\n\
         start = \"{start}\"\nconfig = {{ {config} }}\n"
    )
}

/// Makes `routes` Sluice's whole route set: rewrites the route part of its config file and
/// sends `SLUICE RELOAD`, which applies it before answering.
pub(crate) fn set_routes(server: &RunningServer, plugins: &Path, routes: &[String]) -> Result<()> {
    let path = server
        .config_file()
        .context("routes need sluice, not redis-server")?;
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let base = text
        .split_once(ROUTES_MARKER)
        .map_or(text.as_str(), |(b, _)| b);
    let dir = plugins.display().to_string();
    ensure!(!dir.contains('\''), "plugins folder {dir} has a quote");
    let new = format!(
        "{base}{ROUTES_MARKER}plugins-dir = '{dir}'\n{}",
        routes.concat()
    );
    // Renamed into place: the server watches the file and must never read half of it.
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, new).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Conn::connect(server.port)?.call_ok(&["SLUICE", "RELOAD"])?;
    Ok(())
}

/// The figures of one route in `SLUICE ROUTES`.
#[derive(Debug, Default)]
struct RouteStatus {
    state: String,
    events_in: u64,
    events_out: u64,
    dropped: u64,
    batches: u64,
    /// `None` when the server cannot tell (deletions in the source).
    lag: Option<u64>,
    ns_per_event: u64,
    last_error: Option<String>,
}

/// The fields of the entry named `name` in the reply of `SLUICE <list>` (`ROUTES`,
/// `POLICIES`): each entry is a map, a flat array of name, value, … in RESP2.
pub(crate) fn sluice_entry(
    conn: &mut Conn,
    list: &str,
    name: &str,
) -> Result<Vec<(Vec<u8>, Reply)>> {
    let reply = conn.call_ok(&["SLUICE", list])?;
    for entry in reply.array()? {
        let fields = entry.array()?;
        let mut pairs = Vec::with_capacity(fields.len() / 2);
        for pair in fields.chunks(2) {
            let [key, value] = pair else {
                bail!("SLUICE {list}: odd map {fields:?}");
            };
            pairs.push((key.bulk()?.to_vec(), value.clone()));
        }
        if pairs
            .iter()
            .any(|(k, v)| k == b"name" && v.bulk().is_ok_and(|b| b == name.as_bytes()))
        {
            return Ok(pairs);
        }
    }
    bail!("SLUICE {list} lists nothing named {name}: {reply:?}")
}

/// A counter field of a `SLUICE` entry.
pub(crate) fn count(value: &Reply) -> Result<u64> {
    Ok(u64::try_from(value.int()?)?)
}

/// A text field of a `SLUICE` entry, `None` for nil.
pub(crate) fn text(value: &Reply) -> Result<Option<String>> {
    if value == &Reply::Bulk(None) {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(value.bulk()?).into_owned()))
}

fn route_status(conn: &mut Conn, name: &str) -> Result<RouteStatus> {
    let mut status = RouteStatus::default();
    for (key, value) in sluice_entry(conn, "ROUTES", name)? {
        match key.as_slice() {
            b"state" => status.state = text(&value)?.unwrap_or_default(),
            b"events-in" => status.events_in = count(&value)?,
            b"events-out" => status.events_out = count(&value)?,
            b"dropped" => status.dropped = count(&value)?,
            b"batches" => status.batches = count(&value)?,
            b"ns-per-event" => status.ns_per_event = count(&value)?,
            b"lag" => {
                status.lag = (value != Reply::Bulk(None))
                    .then(|| count(&value))
                    .transpose()?
            }
            b"last-error" => status.last_error = text(&value)?,
            _ => {}
        }
    }
    Ok(status)
}

/// Polls `SLUICE ROUTES` every `every` until route `name` satisfies `done`; fails when the
/// route stops running or `deadline` passes.
fn wait_for_route(
    conn: &mut Conn,
    name: &str,
    every: Duration,
    deadline: Duration,
    done: impl Fn(&RouteStatus) -> bool,
) -> Result<RouteStatus> {
    let started = Instant::now();
    loop {
        let status = route_status(conn, name)?;
        if done(&status) {
            return Ok(status);
        }
        if status.state != "running" || started.elapsed() > deadline {
            bail!("route {name} did not get there within {deadline:?}: {status:?}");
        }
        std::thread::sleep(every);
    }
}

fn is_running(status: &RouteStatus) -> bool {
    status.state == "running"
}

/// The catch-up source, and the regions its events cycle through; the route keeps `eu`.
const CATCHUP_SOURCE: &str = "catchup:src";
const REGIONS: [&str; 4] = ["eu", "us", "ap", "sa"];

/// `route_catchup_events` events (`region <eu|us|ap|sa> n <i>`) sit in a stream with no
/// route; then a filter route keeping `region = eu` (a quarter) is added with `start = "0"`.
/// The value is events/s from `SLUICE RELOAD` until `SLUICE ROUTES` counts every event in.
/// Each run adds a route of a new name (so a new position at 0), and removes it after.
#[derive(Default)]
pub struct RouteCatchUp {
    plugins: OnceLock<PluginFolder>,
}

impl Workload for RouteCatchUp {
    fn name(&self) -> String {
        "route catch-up, filter".to_owned()
    }
    fn unit(&self) -> &'static str {
        "events/s"
    }
    fn goal(&self) -> Goal {
        Goal::ValueAtLeast(1_000_000.0)
    }
    fn baseline(&self) -> Baseline {
        Baseline::Empty
    }

    fn prepare(&self, ctx: &Ctx, server: &RunningServer) -> Result<()> {
        let events = ctx.scale.route_catchup_events;
        ctx.rt.block_on(driver::load_stream(
            server,
            CATCHUP_SOURCE,
            events,
            |i, pipe| {
                pipe.arg("region")
                    .arg(REGIONS[(i % 4) as usize])
                    .arg("n")
                    .arg(i);
            },
        ))?;
        let len = stream_len(ctx, server, CATCHUP_SOURCE)?;
        ensure!(len == events, "{CATCHUP_SOURCE} holds {len}, not {events}");
        // Compiling the plugin is a reload's one-off cost, not routing: do it now. The
        // server keeps the compiled file after the route is gone.
        let plugins = plugin_folder(&self.plugins)?;
        let warm = "field = \"region\", equals = \"eu\", destination = \"catchup:warm:out\"";
        set_routes(
            server,
            plugins,
            &[filter_route("warm-up", "catchup:warm", warm, "$")],
        )?;
        let mut conn = Conn::connect(server.port)?;
        wait_for_route(&mut conn, "warm-up", MS, POLL_DEADLINE, is_running)?;
        set_routes(server, plugins, &[])
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let events = ctx.scale.route_catchup_events;
        let plugins = plugin_folder(&self.plugins)?;
        let name = format!("catchup-{run}");
        let dest = format!("catchup:dst:{run}");
        let config = format!("field = \"region\", equals = \"eu\", destination = \"{dest}\"");
        let route = filter_route(&name, CATCHUP_SOURCE, &config, "0");
        let mut conn = Conn::connect(server.port)?;

        // From before the config is written: the server's file watcher may apply it first.
        let started = Instant::now();
        set_routes(server, plugins, &[route])?;
        let status = wait_for_route(&mut conn, &name, MS, POLL_DEADLINE, |s| {
            s.events_in >= events
        })?;
        let secs = started.elapsed().as_secs_f64();

        let kept = events.div_ceil(4);
        ensure!(
            status.events_in == events && status.events_out == kept && status.lag == Some(0),
            "route {name} should have taken {events} events in and {kept} out: {status:?}"
        );
        let len = stream_len(ctx, server, &dest)?;
        ensure!(len == kept, "{dest} holds {len} entries, not {kept}");
        set_routes(server, plugins, &[])?;
        let group = format!("sluice:route:{name}");
        conn.call_ok(&["XGROUP", "DESTROY", CATCHUP_SOURCE, &group])?;
        conn.call_ok(&["DEL", &dest])?;

        let rate = events as f64 / secs;
        let total_ns = secs * 1e9 / events as f64;
        let plugin = status.ns_per_event as f64;
        Ok(Sample::noted(
            rate,
            format!(
                "{events} events in {:.0} ms = {total_ns:.0} ns/event ({:.2}x the 1M/s \
                 target); plugin {plugin:.0} ns/event ({:.0}%), read+commit {:.0} ns/event; \
                 {} batches",
                secs * 1e3,
                rate / 1e6,
                100.0 * plugin / total_ns,
                total_ns - plugin,
                status.batches
            ),
        ))
    }
}

/// How often a route's progress is polled, and how long it may take.
const MS: Duration = Duration::from_millis(1);
const POLL_DEADLINE: Duration = Duration::from_secs(120);

/// The routed XADD rows' source keys (`route-xadd:p<P>:<run>`) and destination.
const XADD_SOURCES: &str = "route-xadd:*";
const XADD_DEST: &str = "routed-xadd";
const XADD_ROUTE: &str = "xadd";

/// `redis-benchmark` `XADD route-xadd:p<P>:<run> * f1 v1 f2 v2`, as the `xadd` rows, against
/// Sluice with one filter route on those keys that forwards every entry (`f1 = v1`: the most
/// work a filter can cause) and against Sluice without routes. After each run the routed
/// server is given time to catch up, so its backlog never overlaps the other's run. Redis,
/// for context, runs the same load beside the route-less Sluice; its figure is a note.
pub struct RoutedXadd {
    pipeline: u32,
    plugins: OnceLock<PluginFolder>,
    /// A `redis-server` of this row's own, started on first use, stopped after the last run.
    redis: Mutex<Option<RunningServer>>,
}

impl RoutedXadd {
    fn new(pipeline: u32) -> Self {
        RoutedXadd {
            pipeline,
            plugins: OnceLock::new(),
            redis: Mutex::new(None),
        }
    }

    fn run_load(&self, ctx: &Ctx, server: &RunningServer, key: &str) -> Result<f64> {
        let requests = match self.pipeline {
            1 => ctx.scale.xadd_requests,
            _ => ctx.scale.xadd_pipelined_requests,
        };
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests,
            pipeline: self.pipeline,
            command: args(&["XADD", key, "*", "f1", "v1", "f2", "v2"]),
        };
        let rps = bench.run(&ctx.redis_benchmark, server)?;
        let len = stream_len(ctx, server, key)?;
        ensure!(
            len >= requests,
            "{key} holds {len} entries after {requests} XADDs: the server answered errors"
        );
        Ok(rps)
    }

    /// Redis's figure for the same load, on this row's own `redis-server`.
    fn redis_context(&self, ctx: &Ctx, key: &str, last_run: bool) -> Result<f64> {
        let mut redis = self.redis.lock().unwrap_or_else(|e| e.into_inner());
        if redis.is_none() {
            let bins = Binaries {
                sluice: None,
                redis: server::find_redis_tool("redis-server")?,
            };
            *redis = Some(RunningServer::start(
                Kind::Redis,
                Kind::Redis,
                &bins,
                Durability::Default,
            )?);
        }
        let rps = match redis.as_ref() {
            Some(server) => self.run_load(ctx, server, key),
            None => Err(anyhow!("no redis-server")),
        };
        if last_run {
            *redis = None;
        }
        rps
    }
}

impl Workload for RoutedXadd {
    fn name(&self) -> String {
        match self.pipeline {
            1 => "route xadd, 1 route vs none".to_owned(),
            p => format!("route xadd P{p}, 1 route vs none"),
        }
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(0.8)
    }
    fn baseline(&self) -> Baseline {
        Baseline::Sluice(Durability::Default)
    }

    fn prepare(&self, _ctx: &Ctx, server: &RunningServer) -> Result<()> {
        // The Sluice column gets the route; the baseline column and a calibration run's Redis
        // (which has no routes) stay plain.
        if server.kind != Kind::Sluice || server.flavour() != Kind::Sluice {
            return Ok(());
        }
        let config = format!("field = \"f1\", equals = \"v1\", destination = \"{XADD_DEST}\"");
        let route = filter_route(XADD_ROUTE, XADD_SOURCES, &config, "$");
        set_routes(server, plugin_folder(&self.plugins)?, &[route])?;
        let mut conn = Conn::connect(server.port)?;
        wait_for_route(&mut conn, XADD_ROUTE, MS, POLL_DEADLINE, is_running)?;
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = format!("route-xadd:p{}:{run}", self.pipeline);
        let rps = self.run_load(ctx, server, &key)?;
        if server.kind != Kind::Sluice {
            let redis = self.redis_context(ctx, &key, run + 1 == ctx.scale.runs)?;
            return Ok(Sample::noted(
                rps,
                format!(
                    "redis (context) {} ops/s",
                    crate::report::format_value(redis, "ops/s")
                ),
            ));
        }
        if server.flavour() != Kind::Sluice {
            return Ok(Sample::plain(rps));
        }
        let done_at = Instant::now();
        let mut conn = Conn::connect(server.port)?;
        let status = wait_for_route(&mut conn, XADD_ROUTE, MS, POLL_DEADLINE, |s| {
            s.lag == Some(0)
        })?;
        ensure!(
            status.events_out == status.events_in && status.dropped == 0,
            "the route should forward every entry: {status:?}"
        );
        Ok(Sample::noted(
            rps,
            format!(
                "route caught up {:.0} ms after the last XADD; plugin {} ns/event",
                done_at.elapsed().as_secs_f64() * 1e3,
                status.ns_per_event
            ),
        ))
    }
}

/// Offered load of the latency rows, events/s, and the share of each run left out as warm-up.
const LATENCY_RATE: u64 = 50_000;
const WARMUP_FRACTION: u64 = 10;
/// The latency route: `lat:src:<run>` → `lat:dst`, every event kept.
const LATENCY_ROUTE: &str = "latency";
const LATENCY_DEST: &str = "lat:dst";

#[derive(Clone, Copy, Debug)]
pub enum Quantile {
    P50,
    P99,
}

impl Quantile {
    fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.50,
            Quantile::P99 => 0.99,
        }
    }
}

/// A producer appends `XADD <key> * ts <ns> n <i>` at a steady `LATENCY_RATE` (a few events
/// per write, each stamped with ns since an epoch of this process just before the write;
/// replies are read by a thread of their own, so the server never paces the producer). A
/// reader loops `XREAD COUNT 1000 BLOCK 0` on the destination and takes send → arrival per
/// event; the first tenth of each run is warm-up. Sluice's value is the routed latency
/// (`lat:src:<run>`, through a filter route keeping every event, to `lat:dst`); plain XADD →
/// XREAD on one stream is measured beside it (notes), and is Redis's value.
pub struct RouteLatency {
    quantile: Quantile,
    plugins: OnceLock<PluginFolder>,
}

impl RouteLatency {
    fn new(quantile: Quantile) -> Self {
        RouteLatency {
            quantile,
            plugins: OnceLock::new(),
        }
    }
}

impl Workload for RouteLatency {
    fn name(&self) -> String {
        let q = match self.quantile {
            Quantile::P50 => "p50",
            Quantile::P99 => "p99",
        };
        format!("route latency {q} (redis: plain)")
    }
    fn unit(&self) -> &'static str {
        "ms"
    }
    fn goal(&self) -> Goal {
        match self.quantile {
            Quantile::P50 => Goal::ValueAtMost(1.0),
            Quantile::P99 => Goal::ValueAtMost(5.0),
        }
    }

    fn prepare(&self, _ctx: &Ctx, server: &RunningServer) -> Result<()> {
        if server.flavour() != Kind::Sluice {
            return Ok(());
        }
        let config = format!("field = \"ts\", op = \"exists\", destination = \"{LATENCY_DEST}\"");
        let route = filter_route(LATENCY_ROUTE, "lat:src:*", &config, "$");
        set_routes(server, plugin_folder(&self.plugins)?, &[route])?;
        let mut conn = Conn::connect(server.port)?;
        wait_for_route(&mut conn, LATENCY_ROUTE, MS, POLL_DEADLINE, is_running)?;
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let events = (LATENCY_RATE as f64 * ctx.scale.route_latency.as_secs_f64()) as u64;
        let plain_key = format!("lat:plain:{run}");
        let plain = || {
            latency(
                server.port,
                &plain_key,
                &plain_key,
                "0-0".to_owned(),
                events,
            )
        };
        if server.flavour() != Kind::Sluice {
            let plain = plain()?;
            return Ok(Sample::noted(
                plain.quantile_ms(self.quantile),
                plain.describe("plain"),
            ));
        }
        let routed = || -> Result<Latencies> {
            let mut conn = Conn::connect(server.port)?;
            let last = last_id(&mut conn, LATENCY_DEST)?;
            let source = format!("lat:src:{run}");
            latency(server.port, &source, LATENCY_DEST, last, events)
        };
        // Which goes first alternates by run, so drift on the box lands on both alike.
        let (routed, plain) = if run.is_multiple_of(2) {
            let r = routed()?;
            (r, plain()?)
        } else {
            let p = plain()?;
            (routed()?, p)
        };
        Ok(Sample::noted(
            routed.quantile_ms(self.quantile),
            format!("{}; {}", routed.describe("routed"), plain.describe("plain")),
        ))
    }
}

/// The send → arrival times of one latency run.
struct Latencies {
    /// Sorted, ns, warm-up left out.
    ns: Vec<u64>,
    /// Events sent per second, and the most the producer fell behind its schedule, ns.
    sent_rate: f64,
    max_behind_ns: u64,
    /// Snapshots the server took meanwhile (`rdb_saves`): each holds up writes for a while.
    snapshots: u64,
}

impl Latencies {
    fn quantile_ms(&self, q: Quantile) -> f64 {
        let rank = (q.fraction() * self.ns.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.ns.len().max(1)) - 1;
        self.ns.get(i).map_or(f64::NAN, |&ns| ns as f64 / 1e6)
    }

    fn describe(&self, label: &str) -> String {
        format!(
            "{label} p50 {:.3} p99 {:.3} max {:.3} ms ({} events, sent {:.0}/s, producer \
             behind <= {:.2} ms, {} snapshots)",
            self.quantile_ms(Quantile::P50),
            self.quantile_ms(Quantile::P99),
            self.ns.last().map_or(f64::NAN, |&ns| ns as f64 / 1e6),
            self.ns.len(),
            self.sent_rate,
            self.max_behind_ns as f64 / 1e6,
            self.snapshots
        )
    }
}

/// `rdb_saves` of `INFO persistence`: snapshots taken since start (Sluice and Redis both).
fn snapshots(conn: &mut Conn) -> Result<u64> {
    let info = conn.call_ok(&["INFO", "persistence"])?;
    let text = String::from_utf8_lossy(info.bulk()?).into_owned();
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("rdb_saves:"))
        .context("INFO persistence has no rdb_saves")?;
    value
        .trim()
        .parse()
        .with_context(|| format!("rdb_saves {value:?}"))
}

/// Nanoseconds since `epoch`.
fn now_ns(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The ID of the last entry of `key`, or `0-0` when it has none.
fn last_id(conn: &mut Conn, key: &str) -> Result<String> {
    let reply = conn.call_ok(&["XREVRANGE", key, "+", "-", "COUNT", "1"])?;
    match reply.array()?.first() {
        Some(entry) => match entry.array()? {
            [id, _] => Ok(String::from_utf8_lossy(id.bulk()?).into_owned()),
            other => bail!("XREVRANGE {key}: malformed entry {other:?}"),
        },
        None => Ok("0-0".to_owned()),
    }
}

/// Produces `events` events on `source` at `LATENCY_RATE` while a reader takes them from
/// `dest` after `after`.
fn latency(port: u16, source: &str, dest: &str, after: String, events: u64) -> Result<Latencies> {
    let mut admin = Conn::connect(port)?;
    let snapshots_before = snapshots(&mut admin)?;
    let epoch = Instant::now();
    let warmup = events / WARMUP_FRACTION;
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_arrivals(port, dest, after, events, warmup, epoch));
        let (sent_rate, max_behind_ns) = produce_paced(port, source, events, epoch)?;
        let mut ns = reader
            .join()
            .map_err(|_| anyhow!("the reader thread panicked"))??;
        ns.sort_unstable();
        Ok(Latencies {
            snapshots: snapshots(&mut admin)?.saturating_sub(snapshots_before),
            ns,
            sent_rate,
            max_behind_ns,
        })
    })
}

/// Sends `events` XADDs to `key`, event `i` due at `i / LATENCY_RATE` s: everything due is
/// written at once, then the producer sleeps until the next is due. Returns the rate achieved
/// and the most it fell behind.
fn produce_paced(port: u16, key: &str, events: u64, epoch: Instant) -> Result<(f64, u64)> {
    let mut out = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
    out.set_nodelay(true)?;
    let replies = out.try_clone()?;
    replies.set_read_timeout(Some(Duration::from_secs(60)))?;
    let interval = 1_000_000_000 / LATENCY_RATE;
    std::thread::scope(|scope| {
        let drain = scope.spawn(|| drain_replies(replies, key, events));
        let start = Instant::now();
        let (mut next, mut max_behind, mut buf) = (0u64, 0u64, Vec::new());
        while next < events {
            let now = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let due = (now / interval + 1).min(events);
            if due <= next {
                std::thread::sleep(Duration::from_nanos(next * interval - now));
                continue;
            }
            max_behind = max_behind.max(now - next * interval);
            buf.clear();
            for i in next..due {
                let ts = now_ns(epoch).to_string();
                encode(
                    &mut buf,
                    &["XADD", key, "*", "ts", &ts, "n", &i.to_string()],
                );
            }
            out.write_all(&buf).context("sending XADDs")?;
            next = due;
        }
        let rate = events as f64 / start.elapsed().as_secs_f64();
        drain
            .join()
            .map_err(|_| anyhow!("the reply thread panicked"))??;
        Ok((rate, max_behind))
    })
}

/// One RESP2 command, appended to `buf`.
fn encode(buf: &mut Vec<u8>, parts: &[&str]) {
    buf.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for part in parts {
        buf.extend_from_slice(format!("${}\r\n{part}\r\n", part.len()).as_bytes());
    }
}

/// Reads `events` XADD replies (each a bulk-string ID) from `stream`; fails on anything else.
fn drain_replies(stream: TcpStream, key: &str, events: u64) -> Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut line = Vec::new();
    let mut ids = 0;
    while ids < events {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            bail!("the server closed the producer's connection after {ids} replies");
        }
        match line.first() {
            // `$<len>`, then the ID on the next line.
            Some(b'$') => {
                line.clear();
                reader.read_until(b'\n', &mut line)?;
                ids += 1;
            }
            _ => bail!(
                "XADD {key} answered {:?}",
                String::from_utf8_lossy(&line).trim_end()
            ),
        }
    }
    Ok(())
}

/// Reads `events` entries of `key` after `after` with `XREAD BLOCK 0`, and returns send →
/// arrival, ns, of those whose `n` is at least `warmup`.
fn read_arrivals(
    port: u16,
    key: &str,
    mut after: String,
    events: u64,
    warmup: u64,
    epoch: Instant,
) -> Result<Vec<u64>> {
    let mut conn = Conn::connect(port)?;
    let mut latencies = Vec::with_capacity(events as usize);
    let mut received = 0;
    while received < events {
        let reply = conn.call_ok(&[
            "XREAD", "COUNT", "1000", "BLOCK", "0", "STREAMS", key, &after,
        ])?;
        let arrived = now_ns(epoch);
        let [stream] = reply.array()? else {
            bail!("XREAD {key}: expected one stream, got {reply:?}");
        };
        let [_, entries] = stream.array()? else {
            bail!("XREAD {key}: expected [key, entries], got {stream:?}");
        };
        for entry in entries.array()? {
            let [id, fields] = entry.array()? else {
                bail!("XREAD {key}: malformed entry {entry:?}");
            };
            let (sent, n) = match fields.array()? {
                [ts_name, ts, n_name, n] if ts_name.bulk()? == b"ts" && n_name.bulk()? == b"n" => {
                    (number(ts)?, number(n)?)
                }
                other => bail!("XREAD {key}: unexpected fields {other:?}"),
            };
            if n >= warmup {
                latencies.push(arrived.saturating_sub(sent));
            }
            received += 1;
            after = String::from_utf8_lossy(id.bulk()?).into_owned();
        }
    }
    Ok(latencies)
}

fn number(reply: &Reply) -> Result<u64> {
    let text = std::str::from_utf8(reply.bulk()?)?;
    text.parse()
        .with_context(|| format!("{text:?} is not a number"))
}
