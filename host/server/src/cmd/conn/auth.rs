//! `AUTH`: logging the connection in as a user (the `default` user when no name is given).
//! Users and passwords live in [`crate::acl`].

use sluice_resp::{ArgError, Args};

use crate::acl::DEFAULT_USER;
use crate::acl::log::{Context, Reason, Refused};
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
    let spelled = args.name().to_vec();
    match args.rest() {
        [password] => {
            // Redis's reply when the default user has no password and only a password is
            // given.
            if ctx.shared.acl.default_user().nopass {
                return Err(CmdError(error::AUTH_NOT_CONFIGURED.into()));
            }
            authenticate(ctx, &spelled, DEFAULT_USER, password)?;
        }
        [user, password] => authenticate(ctx, &spelled, user, password)?,
        _ => return Err(ArgError::Syntax.into()),
    }
    ok()
}

/// Logs the connection in as `user`. A wrong password, an unknown or disabled user all get
/// `WRONGPASS`, leave the connection as it was, and are recorded in `ACL LOG` under
/// `spelled`, the command's name as the client wrote it.
pub(super) fn authenticate(
    ctx: &mut Ctx<'_>,
    spelled: &[u8],
    user: &[u8],
    password: &[u8],
) -> Result<(), CmdError> {
    let Some(session) = ctx.shared.acl.authenticate(user, password) else {
        // Redis logs the command as the client spelled it (`AUTH`, `hello`).
        let refused = Refused {
            reason: Reason::Auth,
            context: if ctx.in_exec {
                Context::Multi
            } else {
                Context::Toplevel
            },
            object: spelled,
            username: user,
        };
        ctx.shared.note_acl_refusal(&refused, &ctx.client.info);
        return Err(CmdError(error::WRONGPASS.into()));
    };
    ctx.client.set_session(session);
    Ok(())
}
