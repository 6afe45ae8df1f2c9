//! `XADD`: append an entry, optionally trimming the stream (with a Redis 8.2 reference mode)
//! and deduplicating by producer (Redis 8.6 `IDMP` / `IDMPAUTO`).

use bytes::Bytes;
use sluice_resp::{Args, Reply};
use sluice_streams::{AddId, NodeLimits, RefMode, Stream, StreamError, StreamId, TrimSpec};

use super::args::parse_add_or_trim;
use super::idmp;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error;

/// The `XADD` command.
pub const XADD: Command = Command {
    name: "xadd",
    arity: -5,
    flags: WRITE | DENYOOM | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
    syntax: "key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO pid|IDMP pid iid] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
    handler: run,
    subcommands: &[],
};

/// `XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO pid|IDMP pid iid]
/// [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value …`. With IDMP, an iid the
/// producer added within the stream's window returns that entry's ID and changes nothing.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.arg()?;
    let opts = parse_add_or_trim(args, true)?;
    let fields: Vec<&[u8]> = args.rest_slices().collect();
    // The ID ends the options; without one, or with an odd field list, the arity is wrong.
    let Some(id) = opts.id else {
        return Err(error::wrong_arity("xadd"));
    };
    if fields.is_empty() || !fields.len().is_multiple_of(2) {
        return Err(error::wrong_arity("xadd"));
    }
    // Redis checks this before looking the key up (so before NOMKSTREAM's null reply).
    if id == AddId::Explicit(StreamId::MIN) {
        return Err(StreamError::IdZero.into());
    }
    let settings = &ctx.shared.broker.settings;
    let (limits, defaults) = (settings.node_limits(), settings.idmp_defaults());
    let now = ctx.now_ms;
    let mut auto = [0u8; 16];
    let producer = opts
        .idmp
        .as_ref()
        .map(|arg| idmp::key_of(arg, &fields, &mut auto));
    // The new ID's text is both the reply and the logged ID: formatted once.
    let append = |stream: &mut Stream| {
        if let Some((pid, iid)) = producer
            && let Some(original) = stream.idmp_lookup(pid, iid, now, defaults)
        {
            let mut text = Vec::with_capacity(24);
            original.write_to(&mut text);
            return Ok((text, false));
        }
        let new = stream.add(id, &fields, now, limits)?;
        let mut text = Vec::with_capacity(24);
        new.write_to(&mut text);
        let trimmed = opts
            .trim
            .map_or(0, |trim| stream.trim_with(trim, limits, opts.mode));
        if let Some((pid, iid)) = producer {
            stream.idmp_record(pid, iid, new, now, defaults);
        }
        ctx.journal(|rec| {
            rec.begin(3 + fields.len()).arg(b"XADD").arg(key).arg(&text);
            for field in &fields {
                rec.arg(field);
            }
            if let Some(trim) = opts.trim.filter(|_| trimmed > 0) {
                log_trim(rec, key, stream, trim, opts.mode, limits);
            }
            if let Some((pid, iid)) = producer {
                idmp::log_record(rec, key, pid, iid, new, now);
            }
        });
        Ok::<_, StreamError>((text, true))
    };
    let db = ctx.db();
    let (added, fresh) = if opts.no_mkstream {
        match db.write_as(key, now, |stream: &mut Stream| append(stream))? {
            Some(added) => added,
            None => return Ok(Reply::Null.into()),
        }
    } else {
        let (added, created) =
            db.write_or_create_as(key, now, |stream: &mut Stream, created| {
                (append(stream), created)
            })?;
        if added.is_err() && created {
            // A refused XADD must not leave an empty stream behind.
            db.remove(key, now);
        }
        added
    }?;
    if fresh {
        ctx.arg_key_ready(args, key);
    }
    Ok(Reply::Bulk(Bytes::from(added)).into())
}

/// Logs a trim so that it replays the same whatever the node sizes: by the exact length it
/// left (with DELREF, the same entries' references go too), or, for ACKED on a stream with
/// groups, as the same walk with its LIMIT spelled out (it does not depend on nodes).
pub fn log_trim(
    rec: &mut sluice_broker::persist::Record,
    key: &[u8],
    stream: &Stream,
    trim: TrimSpec,
    mode: RefMode,
    limits: NodeLimits,
) {
    let groups = stream.group_count() > 0;
    match mode {
        RefMode::Acked if groups => {
            let (strategy, threshold) = match trim.strategy {
                sluice_streams::TrimStrategy::MaxLen(n) => (&b"MAXLEN"[..], n.to_string()),
                sluice_streams::TrimStrategy::MinId(id) => (&b"MINID"[..], id.to_string()),
            };
            rec.begin(8)
                .arg(b"XTRIM")
                .arg(key)
                .arg(strategy)
                .arg(b"~")
                .arg(threshold.as_bytes())
                .arg(b"LIMIT")
                .int(trim.effective_limit(limits))
                .arg(b"ACKED");
        }
        _ => {
            let delref = mode == RefMode::DelRef && groups;
            rec.begin(5 + usize::from(delref))
                .arg(b"XTRIM")
                .arg(key)
                .arg(b"MAXLEN")
                .arg(b"=")
                .int(stream.len());
            if delref {
                rec.arg(b"DELREF");
            }
        }
    }
}
