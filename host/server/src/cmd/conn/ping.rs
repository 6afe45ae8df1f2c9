//! `PING` and `ECHO`: the connection's liveliness checks.

use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error;

/// The `PING` command.
pub const PING: Command = Command {
    name: "ping",
    arity: -1,
    flags: FAST,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "1.0.0",
    summary: "Returns the server's liveliness response.",
    syntax: "[message]",
    handler: ping,
    subcommands: &[],
};

/// `PING [message]`: `+PONG`, or the message as a bulk string.
pub fn ping(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    match args.remaining() {
        0 => Ok(Reply::Simple("PONG".into()).into()),
        1 => Ok(Reply::Bulk(args.bytes()?).into()),
        _ => Err(error::wrong_arity("ping")),
    }
}

/// The `ECHO` command.
pub const ECHO: Command = Command {
    name: "echo",
    arity: 2,
    flags: FAST,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "1.0.0",
    summary: "Returns the given string.",
    syntax: "message",
    handler: echo,
    subcommands: &[],
};

/// `ECHO message`.
pub fn echo(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    Ok(Reply::Bulk(args.bytes()?).into())
}
