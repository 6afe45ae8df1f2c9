//! `QUIT`: answering `OK`, then closing the connection.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome};

/// The `QUIT` command.
pub const QUIT: Command = Command {
    name: "quit",
    arity: -1,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | NO_MULTI,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "1.0.0",
    summary: "Closes the connection.",
    syntax: "",
    handler: quit,
    subcommands: &[],
};

/// `QUIT`: `+OK`, then the connection closes.
pub fn quit(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Outcome::Close(Reply::Ok))
}
