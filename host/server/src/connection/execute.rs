//! Running one command once the connection has decided it may run: the keyspace gate its
//! flags ask for, the serving of what it made ready, and its statistics. `MULTI`/`EXEC`
//! (`transaction`) and the fuzzing harness run commands through here too.

use std::sync::atomic::Ordering;

use sluice_resp::{Args, Reply};

use super::{ClientState, ReplyWait, durable};
use crate::cmd::{self, Ctx, Outcome, Resolved, flags};
use crate::error::{self, CmdError};
use crate::shared::Shared;

/// Runs one command holding the keyspace gate as its flags ask: none (`UNGATED`), exclusive
/// (`EXCLUSIVE`) or shared; then, still holding it, serves what the command made ready and
/// notes in `wait` what its reply waits for. A write is refused there while the log cannot be
/// written (`MISCONF`): under the gate, so none slips in once the failure's changes are hidden
/// from readers. Also the fuzzing [`crate::harness`]'s step.
pub(crate) fn execute_gated(
    shared: &Shared,
    state: &mut ClientState,
    resolved: Resolved,
    args: &mut Args,
    in_exec: bool,
    wait: &mut ReplyWait,
) -> Outcome {
    let target = resolved.target();
    let (write, reads) = (target.has(flags::WRITE), target.has(flags::READONLY));
    let mut run = |state: &mut ClientState| {
        if write && let Some(refusal) = durable::misconf(shared) {
            return Outcome::Reply(Reply::error(refusal));
        }
        let outcome = execute(shared, state, resolved, args, in_exec);
        // Blocked clients are served after each command, as Redis serves them; keys only
        // routes read may wait for the end of the batch, where 16 pipelined appends to one
        // stream wake its route once.
        if !state.defer_ready || !shared.broker.blocking.is_empty() {
            shared.serve_ready(&mut state.ready);
        }
        wait.ran(shared, write, reads);
        outcome
    };
    if target.has(flags::UNGATED) {
        run(state)
    } else if target.has(flags::EXCLUSIVE) {
        let _gate = shared.broker.keyspace.gate.write();
        run(state)
    } else {
        let _gate = shared.broker.keyspace.gate.read();
        run(state)
    }
}

/// Runs one command; the caller holds the keyspace gate.
pub(super) fn execute(
    shared: &Shared,
    state: &mut ClientState,
    resolved: Resolved,
    args: &mut Args,
    in_exec: bool,
) -> Outcome {
    shared
        .stats
        .commands_processed
        .fetch_add(1, Ordering::Relaxed);
    let mut ctx = Ctx {
        now_ms: state.now_ms(shared),
        shared,
        client: state,
        in_exec,
    };
    let started = ctx.client.timing_mark.unwrap_or_else(quanta::Instant::now);
    let outcome = cmd::execute(&mut ctx, resolved, args)
        .unwrap_or_else(|e: CmdError| Outcome::Reply(e.into_reply()));
    let failed = matches!(&outcome, Outcome::Reply(r) | Outcome::Close(r) if r.is_error());
    let ended = quanta::Instant::now();
    if state.timing_mark.is_some() {
        state.timing_mark = Some(ended);
    }
    shared
        .command_stats
        .ran(resolved.index, nanos_between(started, ended), failed);
    outcome
}

/// Redis's `OOM` error if `command` adds data and used memory is past `maxmemory`.
pub(super) fn oom_refusal(shared: &Shared, command: &cmd::Command) -> Option<Reply> {
    (command.has(flags::DENYOOM) && shared.over_memory_limit()).then(|| Reply::error(error::OOM))
}

/// Counts an error reply for `INFO stats` (`total_error_replies`) and `INFO errorstats`.
pub(super) fn count_error(shared: &Shared, reply: &Reply) {
    if let Reply::Error(text) = reply {
        shared.stats.error_replies.fetch_add(1, Ordering::Relaxed);
        shared.command_stats.error(text);
    }
}

pub(super) fn elapsed_nanos(started: quanta::Instant) -> u64 {
    nanos_between(started, quanta::Instant::now())
}

fn nanos_between(started: quanta::Instant, ended: quanta::Instant) -> u64 {
    u64::try_from(ended.saturating_duration_since(started).as_nanos()).unwrap_or(u64::MAX)
}
