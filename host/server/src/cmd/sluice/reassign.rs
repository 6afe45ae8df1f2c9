//! `SLUICE REASSIGN` and `SLUICE REDELIVER`: moving pending entries of a consumer group, as
//! claim policies do. How a policy's decisions are logged and replayed.

use sluice_resp::{Args, Reply};
use sluice_streams::Stream;

use super::SLUICE_GROUP_WRITE;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

pub(super) const REDELIVER: Command = Command {
    name: "redeliver",
    arity: -5,
    flags: WRITE,
    keys: SUB_KEY,
    categories: SLUICE_GROUP_WRITE,
    group: "stream",
    since: "0.1.0",
    summary: "Marks pending entries for delivery to their owner on its next XREADGROUP >.",
    syntax: "key group id [id ...]",
    handler: redeliver,
    subcommands: &[],
};

/// `SLUICE REDELIVER key group id [id …]`: marks pending entries to be delivered again to
/// their owner on its next `XREADGROUP … >`, before new entries (how a claim policy's
/// reassignments are logged and replayed). Replies how many of the IDs were pending.
pub fn redeliver(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let ids = args
        .rest()
        .iter()
        .map(|a| sluice_streams::StreamId::parse(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let marked = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let Some(g) = stream.group_mut(&group) else {
                return Err(no_group(&key, &group));
            };
            let marked = ids
                .iter()
                .filter(|id| g.pending_entry(**id).is_some())
                .count();
            g.mark_redeliver(&ids);
            if marked > 0 {
                ctx.journal(|rec| {
                    rec.begin(4 + ids.len())
                        .arg(b"SLUICE")
                        .arg(b"REDELIVER")
                        .arg(&key)
                        .arg(&group);
                    for id in &ids {
                        rec.id(*id);
                    }
                });
            }
            Ok(marked)
        })?
        .ok_or_else(|| no_group(&key, &group))??;
    ctx.key_ready(&key);
    Ok(Reply::count(marked).into())
}

pub(super) const REASSIGN: Command = Command {
    name: "reassign",
    arity: -7,
    flags: WRITE,
    keys: SUB_KEY,
    categories: SLUICE_GROUP_WRITE,
    group: "stream",
    since: "0.1.0",
    summary: "Moves pending entries to a consumer, delivered on its next XREADGROUP >.",
    syntax: "key group consumer time-ms id [id ...]",
    handler: reassign,
    subcommands: &[],
};

/// `SLUICE REASSIGN key group consumer time-ms id [id …]`: moves pending entries to
/// `consumer` (created if missing) as a claim policy does: delivery time `time-ms`, delivery
/// count kept, delivered to it on its next `XREADGROUP … >` before new entries. How policies'
/// reassignments are logged and replayed. Replies how many of the IDs were pending.
pub fn reassign(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let group = args.bytes()?;
    let consumer = args.bytes()?;
    let time = args.u64_or(error::REASSIGN_TIME_NEGATIVE)?;
    let ids = args
        .rest()
        .iter()
        .map(|a| sluice_streams::StreamId::parse(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let moved = ctx
        .db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            let Some(g) = stream.group_mut(&group) else {
                return Err(no_group(&key, &group));
            };
            let moved: Vec<_> = ids
                .iter()
                .copied()
                .filter(|id| g.reassign(*id, &consumer, time).is_ok())
                .collect();
            if !moved.is_empty() {
                ctx.journal(|rec| {
                    rec.begin(6 + moved.len())
                        .arg(b"SLUICE")
                        .arg(b"REASSIGN")
                        .arg(&key)
                        .arg(&group)
                        .arg(&consumer)
                        .int(time);
                    for id in &moved {
                        rec.id(*id);
                    }
                });
            }
            Ok(moved.len())
        })?
        .ok_or_else(|| no_group(&key, &group))??;
    ctx.key_ready(&key);
    Ok(Reply::count(moved).into())
}

/// NOGROUP for a missing key or group, worded as XCLAIM words it.
fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError(sluice_streams::no_group_text(
        sluice_streams::NoGroupWording::KeyOrGroup,
        key,
        group,
    ))
}
