//! `SLUICE ROUTES`: each route's source, plugin, state, counters and lag; and the figures
//! `INFO routes` shows too.

use std::sync::atomic::Ordering::Relaxed;

use sluice_resp::{Args, Reply};

use super::{listing, opt_text, text};
use crate::cmd::{CmdResult, Command, Ctx};
use crate::shared::Shared;
use sluice_broker::keyspace::Value;
use sluice_broker::routes::Route;

/// What `SLUICE ROUTES` and `INFO routes` show for one route.
#[derive(Debug)]
pub struct RouteFigures {
    pub events_in: u64,
    pub events_out: u64,
    pub dropped: u64,
    pub dead_lettered: u64,
    pub skipped: u64,
    pub loops_refused: u64,
    pub batches: u64,
    pub restarts: u64,
    pub reloads: u64,
    /// Entries of its sources not routed yet (`None` when deletions make it unknowable).
    pub lag: Option<u64>,
    /// Average time inside the plugin per event, ns.
    pub ns_per_event: u64,
}

impl RouteFigures {
    /// Reads the counters of `route` and its lag now. The lag first: a batch is counted
    /// before its position moves, and batches commit beside this command, so counters read
    /// after the lag include every batch the lag saw routed (a lag of 0 and all events in).
    pub fn of(shared: &Shared, route: &Route) -> Self {
        let lag = lag(shared, route);
        let s = &route.deployed.stats;
        let events_in = s.events_in.load(Relaxed);
        Self {
            events_in,
            events_out: s.events_out.load(Relaxed),
            dropped: s.dropped.load(Relaxed),
            dead_lettered: s.dead_lettered.load(Relaxed),
            skipped: s.skipped.load(Relaxed),
            loops_refused: s.loops_refused.load(Relaxed),
            batches: s.batches.load(Relaxed),
            restarts: s.restarts.load(Relaxed),
            reloads: s.reloads.load(Relaxed),
            lag,
            ns_per_event: s
                .plugin_ns
                .load(Relaxed)
                .checked_div(events_in)
                .unwrap_or(0),
        }
    }
}

/// Entries appended to the route's sources that it has not routed yet.
fn lag(shared: &Shared, route: &Route) -> Option<u64> {
    if shared.broker.attached().is_some() {
        // The sources are on the attached cluster: `XINFO GROUPS` there shows each lag.
        return None;
    }
    let group = route.deployed.spec.group_name();
    let mut total = Some(0u64);
    shared
        .broker
        .keyspace
        .db(0)
        .for_each(shared.now_ms(), |key, value, _| {
            let stream = match value {
                Value::Stream(stream) if route.deployed.spec.is_source(key) => stream,
                _ => return,
            };
            let behind = source_lag(stream, &group);
            total = total.zip(behind).map(|(a, b)| a + b);
        });
    total
}

/// Entries of source `stream` that the route whose group is `group` has not routed yet
/// (`None` when deletions make it unknowable).
pub fn source_lag(stream: &sluice_streams::Stream, group: &[u8]) -> Option<u64> {
    match stream.group(group) {
        Some(g) => stream.group_lag(g).map(|n| u64::try_from(n).unwrap_or(0)),
        None => Some(stream.len()),
    }
}

pub(super) const ROUTES: Command = listing(
    "routes",
    "Lists the routes: source, plugin and version, state, counters, lag, last error.",
    routes,
);

/// `SLUICE ROUTES`: one map per route, in config order.
pub fn routes(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let list = ctx.shared.broker.routes.list();
    let replies = list
        .iter()
        .map(|route| {
            let f = RouteFigures::of(ctx.shared, route);
            let spec = &route.deployed.spec;
            let info = route.deployed.plugin_info.as_ref();
            let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
            Reply::Map(vec![
                field("name", text(spec.name.clone())),
                field("source", text(spec.source.to_string())),
                field("plugin", text(spec.plugin.clone())),
                field("plugin-name", opt_text(info.map(|i| i.name.clone()))),
                field("plugin-version", opt_text(info.map(|i| i.version.clone()))),
                field("state", Reply::bulk_static(route.deployed.state().as_str())),
                field("on-error", Reply::bulk_static(spec.on_error.as_str())),
                field(
                    "dead-letter",
                    text(
                        spec.dead_letter
                            .clone()
                            .unwrap_or_else(|| format!("{}.dlq", spec.source)),
                    ),
                ),
                field("start", Reply::bulk_static(spec.start.as_str())),
                field(
                    "mode",
                    text(
                        ctx.shared
                            .broker
                            .attached()
                            .and_then(|store| store.route_mode(spec))
                            .unwrap_or_else(|| "embedded".into()),
                    ),
                ),
                field("events-in", Reply::count(f.events_in)),
                field("events-out", Reply::count(f.events_out)),
                field("dropped", Reply::count(f.dropped)),
                field("dead-lettered", Reply::count(f.dead_lettered)),
                field("skipped", Reply::count(f.skipped)),
                field("loops-refused", Reply::count(f.loops_refused)),
                field("batches", Reply::count(f.batches)),
                field("restarts", Reply::count(f.restarts)),
                field("reloads", Reply::count(f.reloads)),
                field("lag", f.lag.map_or(Reply::Null, Reply::count)),
                field("ns-per-event", Reply::count(f.ns_per_event)),
                field(
                    "last-error",
                    opt_text(route.deployed.stats.last_error.lock().clone()),
                ),
            ])
        })
        .collect();
    Ok(Reply::Array(replies).into())
}
