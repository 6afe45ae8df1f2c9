//! `ACL CAT|DELUSER|DRYRUN|GENPASS|GETUSER|LIST|LOAD|LOG|SAVE|SETUSER|USERS|WHOAMI|HELP`,
//! with Redis 7.2's replies.
//!
//! Users come from the configuration (`requirepass`, `users`) or from the ACL file
//! (`aclfile`), and change with `ACL SETUSER`/`DELUSER`; with an ACL file, `ACL SAVE` makes
//! the changes last and `ACL LOAD` reads the file again. The users, the file, the log and the
//! permission check live in [`crate::acl`].
//!
//! # Layout
//! - [`users`] — `WHOAMI`, `LIST`, `USERS`, `SETUSER`, `DELUSER`, `GETUSER`.
//! - [`file`] — `LOAD`, `SAVE`.
//! - [`log`] — `LOG`, `GENPASS`.
//! - [`cat`] — `CAT`.
//! - [`dryrun`] — `DRYRUN`.

use sluice_resp::Args;

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container};

pub mod cat;
pub mod dryrun;
pub mod file;
pub mod log;
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
    log::GENPASS,
    users::GETUSER,
    users::LIST,
    file::LOAD,
    log::LOG,
    file::SAVE,
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
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
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
