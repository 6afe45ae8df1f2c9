//! `AUTH`: logging the connection in as a user (the `default` user when no name is given).
//! Users and passwords live in [`crate::acl`].

use sluice_resp::{ArgError, Args};

use crate::acl::DEFAULT_USER;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

/// The `AUTH` command.
pub const AUTH: Command = Command {
    name: "auth",
    arity: -2,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "1.0.0",
    summary: "Authenticates the connection.",
    syntax: "[username] password",
    handler: auth,
    subcommands: &[],
};

/// `AUTH [username] password`: without a user name, the `default` user.
pub fn auth(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    match args.rest() {
        [password] => {
            // Redis's reply when the default user has no password and only a password is
            // given.
            if ctx.shared.acl.default_user().nopass {
                return Err(CmdError(error::AUTH_NOT_CONFIGURED.into()));
            }
            authenticate(ctx, DEFAULT_USER, password)?;
        }
        [user, password] => authenticate(ctx, user, password)?,
        _ => return Err(ArgError::Syntax.into()),
    }
    ok()
}

/// Logs the connection in as `user`. A wrong password, an unknown or disabled user all get
/// `WRONGPASS`, and leave the connection as it was.
pub(super) fn authenticate(
    ctx: &mut Ctx<'_>,
    user: &[u8],
    password: &[u8],
) -> Result<(), CmdError> {
    let session = ctx.shared.acl.authenticate(user, password).ok_or_else(|| {
        let denied = &ctx.shared.stats.acl_denied_auth;
        denied.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CmdError(error::WRONGPASS.into())
    })?;
    ctx.client.set_session(session);
    Ok(())
}
