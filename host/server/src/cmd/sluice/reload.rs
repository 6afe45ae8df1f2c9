//! `SLUICE RELOAD`: re-reading the routes, policies and plugin files, and applying what
//! changed.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error;
use sluice_broker::plugins::loader;

pub(super) const RELOAD: Command = Command {
    name: "reload",
    arity: 2,
    flags: ADMIN | NOSCRIPT | NO_MULTI | UNGATED,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "0.1.0",
    summary: "Re-reads the routes and plugin files and applies what changed.",
    syntax: "",
    handler: reload,
    subcommands: &[],
};

/// `SLUICE RELOAD`: re-reads the config file's routes and the plugin files now, and applies
/// what changed. Runs without the keyspace gate (it waits for route threads that need it).
pub fn reload(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    match loader::reload(&ctx.shared.broker) {
        Ok(()) => Ok(Reply::Ok.into()),
        Err(e) => Err(error::reload_failed(&e)),
    }
}
