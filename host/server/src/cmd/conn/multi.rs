//! `MULTI`, `EXEC` and `DISCARD`: their metadata. The connection runs them itself, before
//! dispatch, because they decide whether the commands after them run at all (see
//! `connection::transaction`).

use sluice_resp::Args;

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error;

/// The `MULTI` command.
pub const MULTI: Command = Command {
    name: "multi",
    arity: 1,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_MULTI,
    keys: NOKEYS,
    categories: TRANSACTION,
    group: "transactions",
    since: "1.2.0",
    summary: "Starts a transaction.",
    syntax: "",
    handler: transaction_misrouted,
    subcommands: &[],
};

/// The `EXEC` command.
pub const EXEC: Command = Command {
    name: "exec",
    arity: 1,
    flags: NOSCRIPT | LOADING | STALE | NO_MULTI,
    keys: NOKEYS,
    categories: &["slow", "transaction"],
    group: "transactions",
    since: "1.2.0",
    summary: "Executes all commands in a transaction.",
    syntax: "",
    handler: transaction_misrouted,
    subcommands: &[],
};

/// The `DISCARD` command.
pub const DISCARD: Command = Command {
    name: "discard",
    arity: 1,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_MULTI,
    keys: NOKEYS,
    categories: TRANSACTION,
    group: "transactions",
    since: "2.0.0",
    summary: "Discards a transaction.",
    syntax: "",
    handler: transaction_misrouted,
    subcommands: &[],
};

/// `MULTI`, `EXEC` and `DISCARD` are run by the connection before dispatch; reaching this
/// handler is a bug in the server, reported as an error rather than a panic.
pub fn transaction_misrouted(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    Err(error::transaction_misrouted(args.name()))
}
