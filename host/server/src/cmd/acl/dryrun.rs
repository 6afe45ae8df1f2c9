//! `ACL DRYRUN`: whether a user could run a command, without running it.

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use super::ADMIN_FLAGS;
use crate::acl::Denied;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Resolved, ok};
use crate::error::{self, CmdError};

pub(super) const DRYRUN: Command = Command {
    name: "dryrun",
    arity: -4,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "7.0.0",
    summary: "Simulates the execution of a command by a user, without executing the command.",
    syntax: "username command [arg [arg ...]]",
    handler: dryrun,
    subcommands: &[],
};

/// `ACL DRYRUN username command [arg ...]`: `OK`, or why the user may not run it.
pub fn dryrun(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let name = args.bytes()?;
    let user = ctx
        .shared
        .acl
        .get(&name)
        .ok_or_else(|| error::acl_user_not_found(&name))?;
    let command_args = args.rest().to_vec();
    let resolved = dryrun_command(&command_args)?;
    let denied = match user.check(resolved.index, &command_args) {
        Ok(()) => return ok(),
        Err(denied) => denied,
    };
    let text = match denied {
        Denied::Command => format!(
            "User {} has no permissions to run the '{}' command",
            user.display_name(),
            resolved.full_name()
        ),
        Denied::Key(position) => format!(
            "User {} has no permissions to access the '{}' key",
            user.display_name(),
            String::from_utf8_lossy(&command_args[position])
        ),
    };
    Ok(Reply::bulk(text).into())
}

/// The command `ACL DRYRUN` asks about, with Redis's errors for an unknown one or a wrong
/// number of arguments.
fn dryrun_command(args: &[Bytes]) -> Result<Resolved, CmdError> {
    let not_found = || error::acl_command_not_found(args.first().map_or(&[][..], |a| a));
    let top = args
        .first()
        .and_then(|a| Resolved::top(a))
        .ok_or_else(not_found)?;
    let resolved = match args.get(1) {
        Some(sub) if !top.command.subcommands.is_empty() => {
            top.subcommand(sub).ok_or_else(not_found)?
        }
        _ => top,
    };
    if !resolved.target().arity_ok(args.len()) {
        return Err(error::wrong_arity(&resolved.full_name()));
    }
    Ok(resolved)
}
