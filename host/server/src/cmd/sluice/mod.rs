//! `SLUICE ROUTES|PLUGINS|POLICIES|REASSIGN|REDELIVER|IDMPRECORD|RELOAD|HELP`: Sluice's own commands,
//! over RESP: what the routes and claim policies are doing, and changing them.
//!
//! Replies are maps (flat arrays in RESP2), one per route, plugin or policy, in the style of
//! `XINFO`. Every subcommand needs `@admin`.
//!
//! # Layout
//! - [`routes`] — `ROUTES` (and the figures `INFO routes` shares).
//! - [`plugins`] — `PLUGINS`.
//! - [`policies`] — `POLICIES`.
//! - [`reassign`] — `REASSIGN`, `REDELIVER`.
//! - [`reload`] — `RELOAD`.
//! - [`idmp`] — `IDMPRECORD`, how XADD's idempotency records are logged.

use sluice_resp::{Args, Reply};

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Handler, container};

pub mod idmp;
pub mod plugins;
pub mod policies;
pub mod reassign;
pub mod reload;
pub mod routes;

/// The categories of the subcommands that change a consumer group: stream writes, and
/// `@admin` like every `SLUICE` subcommand.
const SLUICE_GROUP_WRITE: &[&str] = &["write", "stream", "slow", "admin", "dangerous"];

/// The `SLUICE` container: Sluice's own admin command, so every subcommand needs `@admin`.
pub const SLUICE: Command = Command {
    name: "sluice",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "0.1.0",
    summary: "A container for Sluice's route and plugin commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// `SLUICE`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[
    routes::ROUTES,
    plugins::PLUGINS,
    policies::POLICIES,
    reassign::REASSIGN,
    reassign::REDELIVER,
    idmp::IDMPRECORD,
    reload::RELOAD,
    HELP,
];

/// One of the subcommands that list a table (`ROUTES`, `PLUGINS`, `POLICIES`): all three take
/// no arguments, need `@admin`, answer while loading and on stale data, and came with Sluice
/// 0.1.0.
const fn listing(name: &'static str, summary: &'static str, handler: Handler) -> Command {
    Command {
        name,
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: NOKEYS,
        categories: ADMIN_CATS,
        group: "server",
        since: "0.1.0",
        summary,
        syntax: "",
        handler,
        subcommands: &[],
    }
}

/// A bulk string reply.
pub(super) fn text(s: impl Into<String>) -> Reply {
    Reply::bulk(s.into())
}

/// A bulk string reply, or null.
pub(super) fn opt_text(s: Option<impl Into<String>>) -> Reply {
    s.map_or(Reply::Null, text)
}

const HELP: Command = help_command(ADMIN_CATS, "server", "0.1.0", help);

/// `SLUICE HELP`
pub fn help(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    Ok(help_reply(
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
            "IDMPRECORD <key> <pid> <iid> <id> <time-ms>",
            "    Remember that a producer's idempotent ID added an entry (log replay).",
            "RELOAD",
            "    Re-read the config file's routes and policies and the plugin files.",
        ],
    )
    .into())
}
