//! `RESET`: the connection back to a fresh one's state.

use sluice_resp::{Args, Reply};

use crate::acl::Session;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};

/// The `RESET` command.
pub const RESET: Command = Command {
    name: "reset",
    arity: 1,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | NO_MULTI,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "6.2.0",
    summary: "Resets the connection.",
    syntax: "",
    handler: reset,
    subcommands: &[],
};

/// `RESET`: back to a fresh connection's state, as the default user (not authenticated if
/// that user needs a password).
pub fn reset(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    ctx.client.reset();
    ctx.client.set_session(Session::new(&ctx.shared.acl));
    Ok(Reply::Simple("RESET".into()).into())
}
