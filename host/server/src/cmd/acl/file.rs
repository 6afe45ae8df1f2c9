//! `ACL LOAD` and `ACL SAVE`: the users from and to the ACL file (`aclfile`), in Redis's
//! `users.acl` format ([`crate::acl::file`]).

use sluice_resp::Args;

use super::ADMIN_FLAGS;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome, ok};
use crate::error::{self, CmdError};

pub(super) const LOAD: Command = Command {
    name: "load",
    arity: 2,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "6.0.0",
    summary: "Reloads the rules from the configured ACL file.",
    syntax: "",
    handler: load,
    subcommands: &[],
};

/// `ACL LOAD`: replaces every user with the file's, or changes nothing if any line is bad.
/// Users still there keep their connections, under the new rules; the connections of users
/// no longer there are closed (this one after the reply), as in Redis 7.2.
pub fn load(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let path = ctx
        .shared
        .config
        .aclfile
        .as_deref()
        .ok_or_else(|| CmdError(error::ACL_NO_FILE.into()))?;
    let acl = &ctx.shared.acl;
    let users = crate::acl::file::read(acl.catalog(), path)
        .map_err(|text| CmdError(error::one_line(&format!("ERR {text}"))))?;
    let gone = acl.replace_users(users);
    ctx.shared.clients.recheck_users(&gone);
    let me = ctx.client.session.user();
    if acl.get(&me.name).is_some_and(|u| u.id == me.id) {
        ok()
    } else {
        Ok(Outcome::Close(sluice_resp::Reply::Ok))
    }
}

/// `ACL SAVE`: like [`LOAD`], an argument-less admin command.
pub(super) const SAVE: Command = Command {
    name: "save",
    summary: "Saves the effective ACL rules in the configured ACL file.",
    handler: save,
    ..LOAD
};

/// `ACL SAVE`: writes every user's `ACL LIST` line to the file, replacing it whole.
pub fn save(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let path = ctx
        .shared
        .config
        .aclfile
        .as_deref()
        .ok_or_else(|| CmdError(error::ACL_NO_FILE.into()))?;
    let text = ctx.shared.acl.file_text();
    if let Err(e) = crate::acl::file::write_atomically(path, &text) {
        tracing::warn!("ACL SAVE: could not write {}: {e}", path.display());
        return Err(CmdError(error::ACL_SAVE_FAILED.into()));
    }
    ok()
}
