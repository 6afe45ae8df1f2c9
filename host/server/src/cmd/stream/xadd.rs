//! `XADD`: append an entry, optionally trimming the stream.

use bytes::Bytes;
use sluice_resp::{Args, Reply};
use sluice_streams::{AddId, Stream, StreamError, StreamId};

use super::args::parse_add_or_trim;
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
    syntax: "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
    handler: run,
    subcommands: &[],
};

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value …`
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    let opts = parse_add_or_trim(args, true)?;
    let fields = args.rest();
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
    let fields: Vec<&[u8]> = fields.iter().map(|f| f.as_ref()).collect();
    let limits = ctx.shared.broker.settings.node_limits();
    let now = ctx.now_ms;
    // The new ID's text is both the reply and the logged ID: formatted once.
    let append = |stream: &mut Stream| {
        let new = stream.add(id, &fields, now, limits)?;
        let mut text = Vec::with_capacity(24);
        new.write_to(&mut text);
        let trimmed = opts.trim.map_or(0, |trim| stream.trim(trim, limits));
        ctx.journal(|rec| {
            rec.begin(3 + fields.len())
                .arg(b"XADD")
                .arg(&key)
                .arg(&text);
            for field in &fields {
                rec.arg(field);
            }
            if trimmed > 0 {
                log_trim(rec, &key, stream.len());
            }
        });
        Ok::<_, StreamError>(text)
    };
    let db = ctx.db();
    let added = if opts.no_mkstream {
        match db.write_as(&key, now, |stream: &mut Stream| append(stream))? {
            Some(added) => added,
            None => return Ok(Reply::Null.into()),
        }
    } else {
        let (added, created) =
            db.write_or_create_as(&key, now, |stream: &mut Stream, created| {
                (append(stream), created)
            })?;
        if added.is_err() && created {
            // A refused XADD must not leave an empty stream behind.
            db.remove(&key, now);
        }
        added
    }?;
    ctx.key_ready(&key);
    Ok(Reply::Bulk(Bytes::from(added)).into())
}

/// Logs a trim as the exact length it left: replays the same whatever the node sizes.
pub fn log_trim(rec: &mut sluice_broker::persist::Record, key: &[u8], len: u64) {
    rec.begin(5)
        .arg(b"XTRIM")
        .arg(key)
        .arg(b"MAXLEN")
        .arg(b"=")
        .int(len);
}
