//! `ACL WHOAMI|LIST|USERS|SETUSER|DELUSER|GETUSER`: reading and changing the users.

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use super::ADMIN_FLAGS;
use crate::acl::DEFAULT_USER;
use crate::acl::rules::has_spaces;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome, ok};
use crate::error::{self, CmdError};

pub(super) const WHOAMI: Command = Command {
    name: "whoami",
    arity: 2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: &["slow"],
    group: "server",
    since: "6.0.0",
    summary: "Returns the authenticated username of the current connection.",
    syntax: "",
    handler: whoami,
    subcommands: &[],
};

/// `ACL WHOAMI`: the connection's user name.
pub fn whoami(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::bulk(&ctx.client.session.user().name).into())
}

pub(super) const LIST: Command = Command {
    name: "list",
    arity: 2,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "6.0.0",
    summary: "Dumps the effective rules in ACL file format.",
    syntax: "",
    handler: list,
    subcommands: &[],
};

/// `ACL LIST`: each user as `user <name> <rules>`, ordered by name.
pub fn list(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let lines = ctx.shared.acl.users().into_iter().map(|user| {
        let line = [b"user ", user.name.as_slice(), b" ", &user.describe()].concat();
        Reply::Bulk(Bytes::from(line))
    });
    Ok(Reply::Array(lines.collect()).into())
}

/// `ACL USERS`: like [`LIST`], an argument-less admin listing of the users.
pub(super) const USERS: Command = Command {
    name: "users",
    summary: "Lists all ACL users.",
    handler: users,
    ..LIST
};

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

pub(super) const SETUSER: Command = Command {
    name: "setuser",
    arity: -3,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "6.0.0",
    summary: "Creates and modifies an ACL user and its rules.",
    syntax: "username [rule [rule ...]]",
    handler: setuser,
    subcommands: &[],
};

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

/// `ACL DELUSER`: like [`SETUSER`], an admin change to the users taking one or more
/// arguments.
pub(super) const DELUSER: Command = Command {
    name: "deluser",
    summary: "Deletes ACL users, and terminates their connections.",
    syntax: "username [username ...]",
    handler: deluser,
    ..SETUSER
};

/// `ACL DELUSER username [username ...]`: the number of users deleted. Their connections
/// close at once, even idle or blocked ones; this one after the reply if its own user is
/// gone.
pub fn deluser(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let names = args.rest();
    if names.iter().any(|n| n.as_ref() == DEFAULT_USER) {
        return Err(CmdError(error::ACL_DEFAULT_USER_KEPT.into()));
    }
    let deleted = ctx.shared.acl.delete_users(names);
    ctx.shared.clients.recheck_users(names);
    let reply = Reply::count(deleted);
    let me = ctx.client.session.user();
    let still_me = ctx.shared.acl.get(&me.name).is_some_and(|u| u.id == me.id);
    if still_me {
        Ok(reply.into())
    } else {
        Ok(Outcome::Close(reply))
    }
}

pub(super) const GETUSER: Command = Command {
    name: "getuser",
    arity: 3,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "6.0.0",
    summary: "Lists the ACL rules of a user.",
    syntax: "username",
    handler: getuser,
    subcommands: &[],
};

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
