//! `XCLAIM` and `XAUTOCLAIM`: taking pending entries over from another consumer (typically
//! one that crashed and will never acknowledge them).
//!
//! Both parse as Redis 7.2 does. XCLAIM looks the group up first (NOGROUP wins over bad
//! arguments), then reads the min-idle-time, then takes IDs until an argument is not an ID,
//! and treats the rest as options. XAUTOCLAIM checks every argument first and the group last.
//! Entries deleted since delivery are dropped from the PEL instead of claimed; XAUTOCLAIM
//! lists them in its third reply element.

use bytes::Bytes;
use sluice_resp::request::parse_i64;
use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{
    AutoClaimOptions, ClaimOptions, ClaimTime, NoGroupWording, Stream, StreamError, StreamId,
    parse_range_start,
};

use crate::cmd::meta::*;
use crate::cmd::stream::args::{ReplySink, id_reply};
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};
use sluice_broker::persist::{Record, groups};

/// Largest XAUTOCLAIM COUNT Redis accepts: `LONG_MAX / max(sizeof(streamID), 10)`.
const AUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;

/// The `XCLAIM` command.
pub const XCLAIM: Command = Command {
    name: "xclaim",
    arity: -6,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
    syntax: "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
    handler: xclaim,
    subcommands: &[],
};

/// `XCLAIM key group consumer min-idle-time id [id …] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]`
pub fn xclaim(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let claimant = Claimant::parse(args)?;
    let has_group = ctx
        .db()
        .read_as(&claimant.key, ctx.now_ms, |stream: &Stream| {
            stream.group(&claimant.group).is_some()
        })?
        .unwrap_or(false);
    if !has_group {
        return Err(claimant.no_group());
    }
    let min_idle_ms = parse_i64(&args.bytes()?).ok_or(StreamError::ClaimMinIdleInvalid)?;
    let rest = args.rest();
    let mut ids = Vec::new();
    let mut at = 0;
    while let Some(id) = rest.get(at).and_then(|a| StreamId::parse(a, 0).ok()) {
        ids.push(id);
        at += 1;
    }
    let opts = parse_claim_options(&rest[at..], min_idle_ms)?;
    let (outcome, entries) = claimant.write(
        ctx,
        |stream, now_ms, sink| {
            let (group, consumer) = (&claimant.group, &claimant.consumer);
            stream.claim(group, consumer, &ids, &opts, now_ms, sink)
        },
        |rec, stream, outcome| {
            claimant.log(rec, stream, outcome.consumer_created, ids.iter().copied());
            if opts.last_id.is_some() {
                groups::cursor(rec, &claimant.key, &claimant.group, stream);
            }
        },
    )?;
    Ok(claimed_reply(opts.just_id, outcome.claimed, entries).into())
}

/// XCLAIM's options after the IDs; a value-taking option without its value is unrecognized.
fn parse_claim_options(opts: &[Bytes], min_idle_ms: i64) -> Result<ClaimOptions, CmdError> {
    let mut out = ClaimOptions {
        min_idle_ms,
        ..ClaimOptions::default()
    };
    let mut i = 0;
    while let Some(opt) = opts.get(i) {
        let value = opts.get(i + 1);
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        let int = |err: StreamError| value.and_then(|v| parse_i64(v)).ok_or(err);
        if is("FORCE") {
            out.force = true;
        } else if is("JUSTID") {
            out.just_id = true;
        } else if let Some(v) = value.filter(|_| is("LASTID")) {
            out.last_id = Some(StreamId::parse(v, 0)?);
            i += 1;
        } else if value.is_some() && is("IDLE") {
            out.time = Some(ClaimTime::Idle(int(StreamError::ClaimIdleInvalid)?));
            i += 1;
        } else if value.is_some() && is("TIME") {
            out.time = Some(ClaimTime::Unix(int(StreamError::ClaimTimeInvalid)?));
            i += 1;
        } else if value.is_some() && is("RETRYCOUNT") {
            out.retry_count = Some(int(StreamError::ClaimRetryCountInvalid)?);
            i += 1;
        } else {
            return Err(error::xclaim_unrecognized(opt));
        }
        i += 1;
    }
    Ok(out)
}

/// The `XAUTOCLAIM` command.
pub const XAUTOCLAIM: Command = Command {
    name: "xautoclaim",
    arity: -6,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "6.2.0",
    summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
    syntax: "key group consumer min-idle-time start [COUNT count] [JUSTID]",
    handler: xautoclaim,
    subcommands: &[],
};

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`:
/// `[next-cursor, claimed, deleted-ids]`.
pub fn xautoclaim(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let claimant = Claimant::parse(args)?;
    let min_idle_ms = parse_i64(&args.bytes()?).ok_or(StreamError::AutoClaimMinIdleInvalid)?;
    let start = parse_range_start(&args.bytes()?)?;
    let mut opts = AutoClaimOptions {
        min_idle_ms,
        start,
        count: 100,
        just_id: false,
    };
    while !args.is_empty() {
        let more = args.remaining() - 1;
        if more > 0 && args.eat("COUNT") {
            let n = parse_i64(&args.bytes()?)
                .filter(|n| (1..=AUTOCLAIM_MAX_COUNT).contains(n))
                .ok_or(StreamError::AutoClaimCountInvalid)?;
            opts.count = usize::try_from(n).map_err(|_| StreamError::AutoClaimCountInvalid)?;
        } else if args.eat("JUSTID") {
            opts.just_id = true;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let (outcome, entries) = claimant.write(
        ctx,
        |stream, now_ms, sink| {
            stream.autoclaim(&claimant.group, &claimant.consumer, &opts, now_ms, sink)
        },
        |rec, stream, outcome| {
            let touched = outcome.claimed.iter().chain(&outcome.deleted).copied();
            claimant.log(rec, stream, outcome.consumer_created, touched);
        },
    )?;
    let claimed = claimed_reply(opts.just_id, outcome.claimed, entries);
    let deleted = Reply::Array(outcome.deleted.into_iter().map(id_reply).collect());
    Ok(Reply::Array(vec![id_reply(outcome.next), claimed, deleted]).into())
}

/// The stream, group and consumer both commands name first: whose pending entries are
/// claimed, and by whom.
struct Claimant {
    key: Bytes,
    group: Bytes,
    consumer: Bytes,
}

impl Claimant {
    /// Reads `key group consumer`.
    fn parse(args: &mut Args) -> Result<Self, CmdError> {
        Ok(Self {
            key: args.bytes()?,
            group: args.bytes()?,
            consumer: args.bytes()?,
        })
    }

    /// NOGROUP, worded as both commands word it.
    fn no_group(&self) -> CmdError {
        error::no_group(NoGroupWording::KeyOrGroup, &self.key, &self.group)
    }

    /// Runs `claim` on the stream under its lock, with the time now (ms) and a sink for the
    /// claimed entries, then `journal` for what it did, in the same step so that the log
    /// orders it as the lock did. Returns the outcome and the entries. A missing key or group
    /// is NOGROUP.
    fn write<O>(
        &self,
        ctx: &Ctx<'_>,
        claim: impl FnOnce(&mut Stream, u64, &mut ReplySink<'_>) -> Result<O, StreamError>,
        journal: impl FnOnce(&mut Record, &Stream, &O),
    ) -> Result<(O, StreamEntries), CmdError> {
        let mut entries = StreamEntries::new();
        let outcome = ctx
            .db()
            .write_as(&self.key, ctx.now_ms, |stream: &mut Stream| {
                let outcome = claim(stream, ctx.now_ms, &mut ReplySink(&mut entries))?;
                ctx.journal(|rec| journal(rec, stream, &outcome));
                Ok(outcome)
            })?
            .unwrap_or(Err(StreamError::NoGroup))
            .map_err(|_| self.no_group())?;
        Ok((outcome, entries))
    }

    /// Logs the claim: the consumer if it was `created`, and the pending entries `touched`.
    fn log(
        &self,
        rec: &mut Record,
        stream: &Stream,
        created: bool,
        touched: impl IntoIterator<Item = StreamId>,
    ) {
        let (key, group, consumer) = (&self.key, &self.group, &self.consumer);
        groups::claim(rec, key, group, consumer, created, stream, touched);
    }
}

/// The claimed entries: their IDs under JUSTID, else the entries the claim packed.
fn claimed_reply(just_id: bool, claimed: Vec<StreamId>, entries: StreamEntries) -> Reply {
    if just_id {
        Reply::Array(claimed.into_iter().map(id_reply).collect())
    } else {
        Reply::Entries(entries)
    }
}
