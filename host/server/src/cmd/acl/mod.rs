//! `ACL CAT|DELUSER|DRYRUN|GETUSER|LIST|SETUSER|USERS|WHOAMI|HELP`, with Redis 7.2's replies.
//!
//! `ACL LOG`, `ACL GENPASS`, `ACL LOAD` and `ACL SAVE` are not implemented: users come from
//! the configuration and `ACL SETUSER`, and changes last until the server stops. The users
//! and the permission check live in [`crate::acl`].
//!
//! # Layout
//! - [`users`] — `WHOAMI`, `LIST`, `USERS`, `SETUSER`, `DELUSER`, `GETUSER`.
//! - [`cat`] — `CAT`.
//! - [`dryrun`] — `DRYRUN`.

use sluice_resp::Args;

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container};

pub mod cat;
pub mod dryrun;
pub mod users;

/// The flags of the administrative subcommands.
const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// The `ACL` container.
pub const ACL: Command = Command {
    name: "acl",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &[],
    group: "server",
    since: "6.0.0",
    summary: "A container for Access List Control commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// The `ACL` subcommands, as Redis 7.2 declares them (in its order).
const SUBCOMMANDS: &[Command] = &[
    cat::CAT,
    users::DELUSER,
    dryrun::DRYRUN,
    users::GETUSER,
    users::LIST,
    users::SETUSER,
    users::USERS,
    users::WHOAMI,
    HELP,
];

const HELP: Command = help_command(&["slow"], "server", "6.0.0", help);

/// `ACL HELP`.
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "acl",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "LIST",
            "    Show users details in config file format.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
    .into())
}
