//! A connection's [`Session`] — its user and whether it authenticated — and the check each
//! command goes through with it; why a command is refused ([`Refusal`], [`Denial`]), with
//! Redis 7.2's `NOPERM` texts.

use std::sync::Arc;

use bytes::Bytes;
use sluice_resp::Args;

use super::catalog::Catalog;
use super::check::Denied;
use super::user::User;
use super::{Acl, log};
use crate::command_info::flags;

/// Why a command may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The connection's user was deleted: close it, as Redis does.
    UserGone,
    /// Not authenticated and the default user needs a password.
    NoAuth,
    /// Refused by the user's rules.
    Denied(Denial),
}

/// A command or key the user's rules refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The error reply's text.
    pub reply: String,
    /// The command (`INFO`'s `acl_access_denied_cmd`) or a key (`_key`).
    pub reason: log::Reason,
    /// What `ACL LOG` names: the command's full name (`config|set`) or the key.
    pub object: Bytes,
}

impl Denial {
    fn new(reply: String, denied: Denied, index: usize, args: &[Bytes], catalog: &Catalog) -> Self {
        let (reason, object) = match denied {
            Denied::Command => (
                log::Reason::Command,
                Bytes::from(catalog.full_name(index).into_bytes()),
            ),
            Denied::Key(position) => (
                log::Reason::Key,
                args.get(position).cloned().unwrap_or_default(),
            ),
        };
        Denial {
            reply,
            reason,
            object,
        }
    }
}

/// A connection's user and whether it authenticated.
#[derive(Debug, Clone)]
pub struct Session {
    user: Arc<User>,
    /// The registry's generation `user` is current for.
    generation: u64,
    /// `AUTH`/`HELLO AUTH` succeeded, or the default user needed no password when the
    /// connection was made (Redis's `c->authenticated`).
    authenticated: bool,
    /// Authenticated as a user who may run everything: the whole check is one comparison.
    unrestricted: bool,
}

impl Session {
    /// A new connection's session: the default user, authenticated if it needs no password.
    pub fn new(acl: &Acl) -> Session {
        let generation = acl.generation();
        let user = acl.default_user();
        let authenticated = !user.requires_auth();
        Session::with(user, generation, authenticated)
    }

    /// For commands run without a client (log replay): may run everything.
    pub fn internal(catalog: &'static Catalog) -> Session {
        let mut user = User::default_user(0, catalog);
        user.name = b"(internal)".to_vec();
        // Generation `u64::MAX` is never reached, so this session never looks itself up.
        Session::with(Arc::new(user), u64::MAX, true)
    }

    pub(super) fn with(user: Arc<User>, generation: u64, authenticated: bool) -> Session {
        let unrestricted = authenticated && user.allows_everything;
        Session {
            user,
            generation,
            authenticated,
            unrestricted,
        }
    }

    /// The user.
    pub fn user(&self) -> &Arc<User> {
        &self.user
    }

    /// True if the user this session is for was deleted (`ACL DELUSER`, or gone from the
    /// file at `ACL LOAD`): the connection must close.
    pub fn user_gone(&self, acl: &Acl) -> bool {
        self.generation != u64::MAX
            && acl
                .get(&self.user.name)
                .is_none_or(|current| current.id != self.user.id)
    }

    /// The registry's generation the user is current for.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// True once authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// May the command at catalog index `index` run? `args` are the full arguments (name
    /// first).
    #[inline]
    pub fn admit(&mut self, acl: &Acl, index: usize, args: &Args) -> Result<(), Refusal> {
        let generation = acl.generation();
        if self.unrestricted && generation == self.generation {
            return Ok(());
        }
        self.admit_slow(acl, generation, index, args.all())
    }

    fn admit_slow(
        &mut self,
        acl: &Acl,
        generation: u64,
        index: usize,
        args: &[Bytes],
    ) -> Result<(), Refusal> {
        if generation != self.generation && self.generation != u64::MAX {
            // Changes apply to connected clients on their next command.
            let current = acl.get(&self.user.name).filter(|u| u.id == self.user.id);
            let current = current.ok_or(Refusal::UserGone)?;
            *self = Session::with(current, generation, self.authenticated);
        }
        if !self.authenticated
            && self.user.requires_auth()
            && !acl
                .catalog
                .get(index)
                .is_some_and(|entry| entry.info.has(flags::NO_AUTH))
        {
            return Err(Refusal::NoAuth);
        }
        self.user.check(index, args).map_err(|denied| {
            Refusal::Denied(Denial::new(
                noperm(&self.user, index, denied),
                denied,
                index,
                args,
                acl.catalog,
            ))
        })
    }

    /// Checks a command queued in `MULTI` again when `EXEC` runs it, in case the rules
    /// changed meanwhile (the session was refreshed when `EXEC` was admitted). The reply is
    /// Redis's text for that case.
    pub fn recheck(&self, index: usize, args: &[Bytes]) -> Result<(), Denial> {
        self.user.check(index, args).map_err(|denied| {
            let reason = match denied {
                Denied::Command => "no permission to execute the command or subcommand",
                Denied::Key(_) => "no permission to touch the specified keys",
            };
            let reply = format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated \
                 and the EXEC call. This command is no longer allowed for the following \
                 reason: {reason}"
            );
            Denial::new(reply, denied, index, args, self.user.commands.catalog)
        })
    }
}

/// Checks `user` (as it is now in `acl`) again for a command it was allowed when it blocked
/// (`XREAD … BLOCK`), before the command is served: `Ok(false)` if the user is gone (its
/// connection is closing).
pub fn check_blocked(acl: &Acl, user: &User, index: usize, args: &[Bytes]) -> Result<bool, Denial> {
    let Some(current) = acl.get(&user.name).filter(|u| u.id == user.id) else {
        return Ok(false);
    };
    current.check(index, args).map_err(|denied| {
        Denial::new(
            noperm(&current, index, denied),
            denied,
            index,
            args,
            acl.catalog,
        )
    })?;
    Ok(true)
}

/// Redis 7.2's `NOPERM` reply for a refusal.
fn noperm(user: &User, index: usize, denied: Denied) -> String {
    match denied {
        Denied::Command => format!(
            "NOPERM User {} has no permissions to run the '{}' command",
            user.display_name(),
            user.commands.catalog.full_name(index)
        ),
        Denied::Key(_) => "NOPERM No permissions to access a key".to_owned(),
    }
}
