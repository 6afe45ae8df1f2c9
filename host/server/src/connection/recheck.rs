//! Blocked readers are checked again when served. A client blocked in `XREAD`,
//! `XREADGROUP`, `BLPOP`, `BRPOP` or `BLMOVE` whose user lost the right to the command or to
//! one of its keys meanwhile gets the `NOPERM` reply it would get running the command now,
//! when a write would have served it, as Redis 7 re-runs the command through its ACL check
//! (the refusal is counted and logged in `ACL LOG` too). Nothing is read or popped for it.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use sluice_broker::Broker;
use sluice_broker::ready::{BlockRequest, BlockedRead, ReadyKeys};
use sluice_resp::{Args, Protocol, Reply};

use crate::acl::log::{Context, Refused};
use crate::acl::{self, Session, User};
use crate::clients::ClientInfo;
use crate::cmd::{Command, flags};
use crate::shared::Shared;

/// A blocked read that checks its user's rules before it is served.
#[derive(Debug)]
pub(super) struct Rechecked {
    read: Box<dyn BlockedRead>,
    /// Weak: the read waits in the broker, which `Shared` owns.
    shared: Weak<Shared>,
    client: Arc<ClientInfo>,
    user: Arc<User>,
    /// The ACL generation the rules were last found to allow the command at.
    generation: u64,
    /// The command's catalog index and full arguments.
    index: usize,
    args: Vec<Bytes>,
}

/// Wraps `request`'s read so that it is checked again, for `user`'s rules as they were at
/// `generation`.
/// The user a blocked command was admitted as (and the ACL generation then), and its arguments.
pub(super) type Kept = ((Arc<User>, u64), Vec<Bytes>);

/// What [`recheck`] needs of a command that may block (its user as admitted, its arguments),
/// taken before it runs (running takes the arguments). XREAD and XREADGROUP (the consumers'
/// hot path) block only with a BLOCK argument: without one, nothing is copied.
pub(super) fn keep(target: &Command, session: &Session, args: &Args) -> Option<Kept> {
    let may_block = target.has(flags::BLOCKING)
        && (!matches!(target.name, "xread" | "xreadgroup")
            || args.all().iter().any(|a| a.eq_ignore_ascii_case(b"BLOCK")));
    may_block.then(|| {
        let user = (session.user().clone(), session.generation());
        (user, args.all().to_vec())
    })
}

pub(super) fn recheck(
    mut request: BlockRequest,
    shared: &Arc<Shared>,
    client: &Arc<ClientInfo>,
    (user, generation): (Arc<User>, u64),
    index: usize,
    args: Vec<Bytes>,
) -> BlockRequest {
    request.read = Box::new(Rechecked {
        read: request.read,
        shared: Arc::downgrade(shared),
        client: client.clone(),
        user,
        generation,
        index,
        args,
    });
    request
}

/// What the rules say of a blocked read about to be served.
enum Verdict {
    Allowed,
    /// The user was deleted: its connection is closing, and gets nothing meanwhile.
    UserGone,
    /// The `NOPERM` reply to end the wait with.
    Refused(Reply),
}

impl Rechecked {
    fn verdict(&mut self) -> Verdict {
        let Some(shared) = self.shared.upgrade() else {
            return Verdict::UserGone;
        };
        let generation = shared.acl.generation();
        if generation == self.generation {
            return Verdict::Allowed;
        }
        match acl::check_blocked(&shared.acl, &self.user, self.index, &self.args) {
            Ok(true) => {
                self.generation = generation;
                Verdict::Allowed
            }
            Ok(false) => Verdict::UserGone,
            Err(denial) => {
                let refused = Refused {
                    reason: denial.reason,
                    context: Context::Toplevel,
                    object: &denial.object,
                    username: &self.user.name,
                };
                shared.note_acl_refusal(&refused, &self.client);
                Verdict::Refused(Reply::error(denial.reply))
            }
        }
    }
}

impl BlockedRead for Rechecked {
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        proto: Protocol,
        ready: &mut ReadyKeys,
    ) -> Option<Reply> {
        match self.verdict() {
            Verdict::Allowed => self.read.try_serve(broker, db, proto, ready),
            Verdict::UserGone => None,
            Verdict::Refused(reply) => Some(reply),
        }
    }

    fn wakes_on(&self, broker: &Broker, db: usize, key: &[u8]) -> bool {
        self.read.wakes_on(broker, db, key)
    }

    fn timeout_reply(&self) -> Reply {
        self.read.timeout_reply()
    }

    fn ends_on_missing_key(&self) -> bool {
        self.read.ends_on_missing_key()
    }

    fn wakes_with_time(&self) -> bool {
        self.read.wakes_with_time()
    }
}
