//! `SLUICE POLICIES`: the claim policies, their state and counters.

use std::sync::atomic::Ordering::Relaxed;

use sluice_resp::{Args, Reply};

use super::{listing, opt_text, text};
use crate::cmd::{CmdResult, Command, Ctx};

pub(super) const POLICIES: Command = listing(
    "policies",
    "Lists the claim policies: stream, group, plugin, state, counters, last error.",
    policies,
);

/// `SLUICE POLICIES`: one map per claim policy, in config order.
pub fn policies(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let replies = ctx
        .shared
        .broker
        .policies
        .list()
        .iter()
        .map(|policy| {
            let p = &policy.deployed;
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
