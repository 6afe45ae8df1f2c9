//! `ACL WHOAMI|LIST|USERS|CAT|SETUSER|DELUSER|GETUSER|DRYRUN|HELP`, with Redis 7.2's replies.
//!
//! `ACL LOG`, `ACL GENPASS`, `ACL LOAD` and `ACL SAVE` are not implemented: users come from
//! the configuration and `ACL SETUSER`, and changes last until the server stops.

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use super::flags::*;
use super::help::help_reply;
use super::table::cmd;
use super::{CmdResult, Command, Ctx, Outcome, Resolved, catalog, ok};
use crate::acl::catalog::{CATEGORIES, category_bit};
use crate::acl::rules::has_spaces;
use crate::acl::{DEFAULT_USER, Denied};
use crate::error::{self, CmdError};

const ADMIN_CATS: &[&str] = &["admin", "slow", "dangerous"];
const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const NOKEYS: (i32, i32, i32) = (0, 0, 0);

/// The `ACL` subcommands, as Redis 7.2 declares them.
pub static SUBCOMMANDS: &[Command] = &[
    cmd(
        "cat",
        -2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        &["slow"],
        "server",
        "6.0.0",
        "Lists the ACL categories, or the commands inside a category.",
        "[category]",
        cat,
    ),
    cmd(
        "deluser",
        -3,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "6.0.0",
        "Deletes ACL users, and terminates their connections.",
        "username [username ...]",
        deluser,
    ),
    cmd(
        "dryrun",
        -4,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "7.0.0",
        "Simulates the execution of a command by a user, without executing the command.",
        "username command [arg [arg ...]]",
        dryrun,
    ),
    cmd(
        "getuser",
        3,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "6.0.0",
        "Lists the ACL rules of a user.",
        "username",
        getuser,
    ),
    cmd(
        "list",
        2,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "6.0.0",
        "Dumps the effective rules in ACL file format.",
        "",
        list,
    ),
    cmd(
        "setuser",
        -3,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "6.0.0",
        "Creates and modifies an ACL user and its rules.",
        "username [rule [rule ...]]",
        setuser,
    ),
    cmd(
        "users",
        2,
        ADMIN_FLAGS,
        NOKEYS,
        ADMIN_CATS,
        "server",
        "6.0.0",
        "Lists all ACL users.",
        "",
        users,
    ),
    cmd(
        "whoami",
        2,
        NOSCRIPT | LOADING | STALE,
        NOKEYS,
        &["slow"],
        "server",
        "6.0.0",
        "Returns the authenticated username of the current connection.",
        "",
        whoami,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        &["slow"],
        "server",
        "6.0.0",
        "Returns helpful text about the different subcommands.",
        "",
        help,
    ),
];

/// `ACL WHOAMI`: the connection's user name.
pub fn whoami(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::bulk(&ctx.client.session.user().name).into())
}

/// `ACL LIST`: each user as `user <name> <rules>`, ordered by name.
pub fn list(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let lines = ctx.shared.acl.users().into_iter().map(|user| {
        let line = [b"user ", user.name.as_slice(), b" ", &user.describe()].concat();
        Reply::Bulk(Bytes::from(line))
    });
    Ok(Reply::Array(lines.collect()).into())
}

/// `ACL USERS`: the user names, ordered.
pub fn users(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let names = ctx
        .shared
        .acl
        .users()
        .into_iter()
        .map(|u| Reply::bulk(&u.name));
    Ok(Reply::Array(names.collect()).into())
}

/// `ACL CAT [category]`: the categories, or the commands in one (`cmd|sub` for subcommands).
pub fn cat(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let Some(name) = args.next_arg() else {
        return Ok(Reply::Array(CATEGORIES.iter().map(|c| Reply::bulk_static(c)).collect()).into());
    };
    if !args.is_empty() {
        let spelled = args.all().get(1).map_or(&b"cat"[..], |s| s);
        return Err(error::subcommand_syntax("acl", spelled));
    }
    let bit = category_bit(&name).ok_or_else(|| error::unknown_acl_category(&name))?;
    let catalog = catalog();
    let names = catalog
        .in_category(bit)
        .filter_map(|i| catalog.get(i))
        .map(|entry| Reply::bulk(entry.full_name()));
    Ok(Reply::Array(names.collect()).into())
}

/// `ACL SETUSER username [rule ...]`: creates or changes a user, all rules or none.
pub fn setuser(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let name = args.bytes()?;
    if has_spaces(&name) {
        return Err(CmdError(error::ACL_USERNAME_SPACES.into()));
    }
    ctx.shared
        .acl
        .set_user(&name, args.rest())
        .map_err(|text| CmdError(error::one_line(&text)))?;
    ok()
}

/// `ACL DELUSER username [username ...]`: the number of users deleted. Their connections
/// close; this one after the reply if its own user is gone.
pub fn deluser(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let names = args.rest();
    if names.iter().any(|n| n.as_ref() == DEFAULT_USER) {
        return Err(CmdError(error::ACL_DEFAULT_USER_KEPT.into()));
    }
    let deleted = ctx.shared.acl.delete_users(names);
    let reply = Reply::count(deleted);
    let me = ctx.client.session.user();
    let still_me = ctx.shared.acl.get(&me.name).is_some_and(|u| u.id == me.id);
    if still_me {
        Ok(reply.into())
    } else {
        Ok(Outcome::Close(reply))
    }
}

/// `ACL GETUSER username`: flags, password hashes, commands, keys, channels, selectors; or
/// null.
pub fn getuser(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let name = args.bytes()?;
    Ok(match ctx.shared.acl.get(&name) {
        Some(user) => user.getuser_reply(),
        None => Reply::Null,
    }
    .into())
}

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
