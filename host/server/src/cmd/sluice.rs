//! `SLUICE ROUTES | PLUGINS | RELOAD | HELP`: the routes and their plugins, over RESP.
//!
//! Replies are maps (flat arrays in RESP2), one per route or plugin, in the style of `XINFO`.

use std::sync::atomic::Ordering::Relaxed;

use sluice_resp::{Args, Reply};

use super::{CmdResult, Ctx};
use crate::error::{self, CmdError};
use crate::shared::Shared;
use sluice_broker::routes::{Route, loader};

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
    /// Reads the counters of `route` and its lag now.
    pub fn of(shared: &Shared, route: &Route) -> Self {
        let s = &route.stats;
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
            lag: lag(shared, route),
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
    let group = route.spec.group_name();
    let mut total = Some(0u64);
    shared
        .broker
        .keyspace
        .db(0)
        .for_each(shared.now_ms(), |key, entry| {
            if !route.spec.is_source(key) {
                return;
            }
            let stream = &entry.stream;
            let behind = match stream.group(&group) {
                Some(g) => stream.group_lag(g).map(|n| u64::try_from(n).unwrap_or(0)),
                None => Some(stream.len()),
            };
            total = total.zip(behind).map(|(a, b)| a + b);
        });
    total
}

fn text(s: impl Into<String>) -> Reply {
    Reply::bulk(s.into())
}

fn opt_text(s: Option<impl Into<String>>) -> Reply {
    s.map_or(Reply::Null, text)
}

/// `SLUICE ROUTES`: one map per route, in config order.
pub fn routes(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let list = ctx.shared.broker.routes.list();
    let replies = list
        .iter()
        .map(|route| {
            let f = RouteFigures::of(ctx.shared, route);
            let spec = &route.spec;
            let info = route.plugin_info.as_ref();
            let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
            Reply::Map(vec![
                field("name", text(spec.name.clone())),
                field("source", text(spec.source.clone())),
                field("plugin", text(spec.plugin.clone())),
                field("plugin-name", opt_text(info.map(|i| i.name.clone()))),
                field("plugin-version", opt_text(info.map(|i| i.version.clone()))),
                field("state", Reply::bulk_static(route.state().as_str())),
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
                    opt_text(route.stats.last_error.lock().clone()),
                ),
            ])
        })
        .collect();
    Ok(Reply::Array(replies).into())
}

/// `SLUICE PLUGINS`: one map per plugin file loaded, by file name.
pub fn plugins(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let routes = ctx.shared.broker.routes.list();
    let plugins = ctx.shared.broker.routes.status.lock().plugins.clone();
    let replies = plugins
        .into_iter()
        .map(|p| {
            let users: Vec<_> = routes
                .iter()
                .filter(|r| r.spec.plugin == p.file && r.plugin_hash == p.hash)
                .collect();
            let info = users.iter().find_map(|r| r.plugin_info.clone());
            let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
            let (wit, error) = match &p.compiled {
                Ok(c) => (Some(c.wit_version().to_owned()), None),
                Err(e) => (None, Some(e.clone())),
            };
            Reply::Map(vec![
                field("file", text(p.file.clone())),
                field("name", opt_text(info.as_ref().map(|i| i.name.clone()))),
                field(
                    "version",
                    opt_text(info.as_ref().map(|i| i.version.clone())),
                ),
                field("wit-version", opt_text(wit)),
                field("bytes", Reply::count(p.bytes)),
                field("loaded-at", Reply::count(p.loaded_at_ms)),
                field(
                    "routes",
                    Reply::Array(users.iter().map(|r| text(r.spec.name.clone())).collect()),
                ),
                field("error", opt_text(error)),
            ])
        })
        .collect();
    Ok(Reply::Array(replies).into())
}

/// `SLUICE POLICIES`: one map per claim policy, in config order.
pub fn policies(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let replies = ctx
        .shared
        .broker
        .policies
        .list()
        .iter()
        .map(|p| {
            let s = &p.stats;
            let info = p.plugin_info.as_ref();
            let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
            let n = |a: &std::sync::atomic::AtomicU64| Reply::count(a.load(Relaxed));
            Reply::Map(vec![
                field("name", text(p.name.clone())),
                field("stream", text(p.spec.stream.clone())),
                field("group", text(p.spec.group.clone())),
                field("plugin", text(p.spec.plugin.clone())),
                field("plugin-name", opt_text(info.map(|i| i.name.clone()))),
                field("plugin-version", opt_text(info.map(|i| i.version.clone()))),
                field("state", Reply::bulk_static(p.state().as_str())),
                field("interval-ms", Reply::count(p.spec.interval_ms)),
                field("evaluations", n(&s.evaluations)),
                field("failed-evaluations", n(&s.failed)),
                field("reassigned", n(&s.reassigned)),
                field("dead-lettered", n(&s.dead_lettered)),
                field("acked", n(&s.acked)),
                field("stale", n(&s.stale)),
                field("reloads", n(&s.reloads)),
                field("last-pending", n(&s.last_pending)),
                field("last-evaluation-us", n(&s.last_duration_us)),
                field("last-error", opt_text(s.last_error.lock().clone())),
            ])
        })
        .collect();
    Ok(Reply::Array(replies).into())
}

/// `SLUICE REDELIVER key group id [id …]`: marks pending entries to be delivered again to
/// their owner on its next `XREADGROUP … >`, before new entries (how a claim policy's
/// reassignments are logged and replayed). Replies how many of the IDs were pending.
pub fn redeliver(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let ids = args
        .rest()
        .iter()
        .map(|a| sluice_streams::StreamId::parse(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let marked = ctx
        .db()
        .write(&key, ctx.now_ms, |entry| {
            let Some(g) = entry.stream.group_mut(&group) else {
                return Err(no_group(&key, &group));
            };
            let marked = ids
                .iter()
                .filter(|id| g.pending_entry(**id).is_some())
                .count();
            g.mark_redeliver(&ids);
            if marked > 0 {
                ctx.journal(|rec| {
                    rec.begin(4 + ids.len())
                        .arg(b"SLUICE")
                        .arg(b"REDELIVER")
                        .arg(&key)
                        .arg(&group);
                    for id in &ids {
                        rec.id(*id);
                    }
                });
            }
            Ok(marked)
        })
        .ok_or_else(|| no_group(&key, &group))??;
    ctx.key_ready(&key);
    Ok(Reply::count(marked).into())
}

/// `SLUICE REASSIGN key group consumer time-ms id [id …]`: moves pending entries to
/// `consumer` (created if missing) as a claim policy does: delivery time `time-ms`, delivery
/// count kept, delivered to it on its next `XREADGROUP … >` before new entries. How policies'
/// reassignments are logged and replayed. Replies how many of the IDs were pending.
pub fn reassign(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let consumer = args.bytes()?;
    let time = args.u64_or(error::REASSIGN_TIME_NEGATIVE)?;
    let ids = args
        .rest()
        .iter()
        .map(|a| sluice_streams::StreamId::parse(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let moved = ctx
        .db()
        .write(&key, ctx.now_ms, |entry| {
            let Some(g) = entry.stream.group_mut(&group) else {
                return Err(no_group(&key, &group));
            };
            let moved: Vec<_> = ids
                .iter()
                .copied()
                .filter(|id| g.reassign(*id, &consumer, time).is_ok())
                .collect();
            if !moved.is_empty() {
                ctx.journal(|rec| {
                    rec.begin(6 + moved.len())
                        .arg(b"SLUICE")
                        .arg(b"REASSIGN")
                        .arg(&key)
                        .arg(&group)
                        .arg(&consumer)
                        .int(time);
                    for id in &moved {
                        rec.id(*id);
                    }
                });
            }
            Ok(moved.len())
        })
        .ok_or_else(|| no_group(&key, &group))??;
    ctx.key_ready(&key);
    Ok(Reply::count(moved).into())
}

/// NOGROUP for a missing key or group, worded as XCLAIM words it.
fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError(sluice_streams::no_group_text(
        sluice_streams::NoGroupWording::KeyOrGroup,
        key,
        group,
    ))
}

/// `SLUICE RELOAD`: re-reads the config file's routes and the plugin files now, and applies
/// what changed. Runs without the keyspace gate (it waits for route threads that need it).
pub fn reload(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    match loader::reload(&ctx.shared.broker) {
        Ok(()) => Ok(Reply::Ok.into()),
        Err(e) => Err(error::reload_failed(&e)),
    }
}

/// `SLUICE HELP`
pub fn help(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    Ok(super::help::help_reply(
        "SLUICE",
        &[
            "ROUTES",
            "    Each route: source, plugin and version, state, events in/out/dropped/",
            "    dead-lettered, lag, plugin time per event, last error.",
            "PLUGINS",
            "    Each plugin file loaded: name, version, WIT version, size, routes using it.",
            "POLICIES",
            "    Each claim policy: stream, group, plugin and version, state, evaluations,",
            "    reassigned/dead-lettered/acked entries, last evaluation, last error.",
            "REASSIGN <key> <group> <consumer> <time-ms> <id> [<id> ...]",
            "    Move pending entries to a consumer, delivered on its next XREADGROUP >.",
            "REDELIVER <key> <group> <id> [<id> ...]",
            "    Deliver pending entries again to their owner on its next XREADGROUP >.",
            "RELOAD",
            "    Re-read the config file's routes and policies and the plugin files.",
        ],
    )
    .into())
}
