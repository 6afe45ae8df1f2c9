//! `MULTI`, `EXEC` and `DISCARD`: queueing a connection's commands and running them as one
//! step, with Redis's aborts (a command refused while queueing, memory run out since, rules
//! changed since).

use sluice_resp::{Args, Reply};

use super::{Connection, count_error, durable, execute, oom_refusal};
use crate::acl::log::{Context, Refused};
use crate::cmd::{Outcome, Resolved, flags};
use crate::error;

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    pub(super) queued: Vec<(Resolved, Args)>,
    /// A command was refused while queueing: `EXEC` must abort.
    pub(super) dirty: bool,
}

impl Connection {
    pub(super) fn multi(&mut self) -> Reply {
        if self.state.multi.is_some() {
            Reply::error(error::MULTI_NESTED)
        } else {
            self.state.set_multi(Some(Multi::default()));
            Reply::Ok
        }
    }

    pub(super) fn discard(&mut self) -> Reply {
        if self.state.multi.is_none() {
            Reply::error(error::DISCARD_WITHOUT_MULTI)
        } else {
            self.state.set_multi(None);
            Reply::Ok
        }
    }

    /// Runs the queued commands as one step: no other command sees the keyspace between them.
    pub(super) fn exec(&mut self) -> Reply {
        let Some(multi) = self.state.multi.take() else {
            return Reply::error(error::EXEC_WITHOUT_MULTI);
        };
        self.state.set_multi(None);
        if multi.dirty {
            return Reply::error(error::EXECABORT);
        }
        // Memory may have run out since the commands were queued.
        if multi
            .queued
            .iter()
            .any(|(resolved, _)| oom_refusal(&self.shared, resolved.target()).is_some())
        {
            return Reply::error(format!(
                "EXECABORT Transaction discarded because of: {}",
                error::OOM
            ));
        }
        let Connection {
            shared,
            state,
            wait,
            ..
        } = self;
        let has = |flag| multi.queued.iter().any(|(r, _)| r.target().has(flag));
        let (write, reads) = (has(flags::WRITE), has(flags::READONLY));
        let gate = shared.broker.keyspace.gate.write();
        // As Redis: a transaction that writes is discarded while the log cannot be written.
        if write && let Some(refusal) = durable::misconf(shared) {
            return Reply::error(format!(
                "EXECABORT Transaction discarded because of: {refusal}"
            ));
        }
        let mut replies = Vec::with_capacity(multi.queued.len());
        for (resolved, mut args) in multi.queued {
            // The user's rules may have changed since the command was queued.
            let allowed = state.session.recheck(resolved.index, args.all());
            let reply = match allowed.map(|()| execute(shared, state, resolved, &mut args, true)) {
                Err(denial) => {
                    let refused = Refused {
                        reason: denial.reason,
                        context: Context::Multi,
                        object: &denial.object,
                        username: &state.session.user().name,
                    };
                    shared.note_acl_refusal(&refused, &state.info);
                    Reply::error(denial.reply)
                }
                Ok(Outcome::Reply(reply) | Outcome::Close(reply)) => reply,
                Ok(Outcome::Disconnect) => Reply::Null,
                // Blocking commands answer at once inside EXEC; this is their empty answer.
                Ok(Outcome::Block(request)) => request.read.timeout_reply(),
            };
            // Redis counts the errors inside EXEC's array in `errorstats` too.
            count_error(shared, &reply);
            replies.push(reply);
        }
        // Blocked readers see the transaction's outcome, not its steps.
        shared.serve_ready(&mut state.ready);
        // Its replies wait for its records, or for the log to hold what its reads saw.
        wait.ran(shared, write, reads);
        drop(gate);
        Reply::Array(replies)
    }
}
