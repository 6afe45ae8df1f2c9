//! `INFO`'s Sluice sections: `routes`, `plugins` and `policies`.

use super::Fields;
use crate::shared::Shared;

/// `route_<name>:state=…,source=…,…` per route, as `keyspace` prints `db0:keys=…`.
pub(super) fn routes(shared: &Shared, f: &mut Fields<'_>) {
    let list = shared.broker.routes.list();
    f.field("routes", list.len());
    // Attached to a cluster: what it can do and the paths taken.
    if let Some(store) = shared.broker.attached() {
        for (name, value) in store.info() {
            f.field(&name, value);
        }
    }
    for route in &list {
        let figures = crate::cmd::sluice::routes::RouteFigures::of(shared, route);
        let route = &route.deployed;
        let version = route
            .plugin_info
            .as_ref()
            .map_or("", |i| i.version.as_str());
        let lag = figures
            .lag
            .map_or_else(|| "unknown".to_owned(), |n| n.to_string());
        f.field(
            &format!("route_{}", route.spec.name),
            format_args!(
                "state={},source={},plugin={},version={},events_in={},events_out={},\
                 dropped={},dead_lettered={},skipped={},lag={},ns_per_event={},restarts={},\
                 reloads={}",
                route.state().as_str(),
                route.spec.source,
                route.spec.plugin,
                version,
                figures.events_in,
                figures.events_out,
                figures.dropped,
                figures.dead_lettered,
                figures.skipped,
                lag,
                figures.ns_per_event,
                figures.restarts,
                figures.reloads,
            ),
        );
    }
}

/// Reload counters and each plugin file loaded.
pub(super) fn plugins(shared: &Shared, f: &mut Fields<'_>) {
    let loader = shared.broker.plugins.status.lock().clone();
    f.field(
        "plugins_dir",
        shared
            .config
            .plugins_dir
            .as_deref()
            .map_or_else(String::new, |d| d.display().to_string()),
    );
    f.field("plugin_reloads_ok", loader.reloads_ok);
    f.field("plugin_reloads_failed", loader.reloads_failed);
    f.field(
        "plugin_last_reload_error",
        loader
            .last_error
            .as_deref()
            .unwrap_or("")
            .replace(['\r', '\n'], " "),
    );
    for p in &loader.plugins {
        let wit = match &p.compiled {
            Ok(c) => c.wit_version().to_owned(),
            Err(_) => "error".to_owned(),
        };
        f.field(
            &format!("plugin_{}", p.file),
            format_args!(
                "bytes={},wit_version={wit},loaded_at={}",
                p.bytes, p.loaded_at_ms
            ),
        );
    }
}

/// `policy_<name>:state=…,stream=…,…` per claim policy.
pub(super) fn policies(shared: &Shared, f: &mut Fields<'_>) {
    use std::sync::atomic::Ordering::Relaxed;
    let list = shared.broker.policies.list();
    f.field("policies", list.len());
    for policy in &list {
        let p = &policy.deployed;
        let s = &p.stats;
        f.field(
            &format!("policy_{}", p.name),
            format_args!(
                "state={},stream={},group={},plugin={},evaluations={},failed={},reassigned={},\
                 dead_lettered={},acked={},last_pending={},last_evaluation_us={}",
                p.state().as_str(),
                p.spec.stream,
                p.spec.group,
                p.spec.plugin,
                s.evaluations.load(Relaxed),
                s.failed.load(Relaxed),
                s.reassigned.load(Relaxed),
                s.dead_lettered.load(Relaxed),
                s.acked.load(Relaxed),
                s.last_pending.load(Relaxed),
                s.last_duration_us.load(Relaxed),
            ),
        );
    }
}
