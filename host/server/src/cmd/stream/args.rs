//! What the stream commands share: the XADD/XTRIM trimming options, the sink that packs
//! entries into a reply, and ID replies.

use bytes::Bytes;
use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{AddId, EntrySink, RefMode, StreamId, TrimSpec, TrimStrategy};

use crate::error::{self, CmdError};

/// Packs entries read from a stream straight into a reply.
#[derive(Debug)]
pub struct ReplySink<'a>(pub &'a mut StreamEntries);

impl EntrySink for ReplySink<'_> {
    fn begin_entry(&mut self, id: StreamId, _field_count: usize) {
        self.0.begin_entry(id.ms, id.seq);
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.push_field(bytes);
    }

    fn deleted_entry(&mut self, id: StreamId) {
        self.0.push_deleted(id.ms, id.seq);
    }
}

/// `XREAD`/`XREADGROUP`'s `MAXCOUNT` and `MAXSIZE` (Redis 8.10): caps on the entries and
/// bytes of one call's reply, across all its streams. Bytes are the field names and values
/// of the entries (not IDs or framing); a call stops before the next entry once either cap is
/// reached, so its first entry is always sent, however large.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadCaps {
    /// `MAXCOUNT`: most entries in the reply.
    pub max_count: Option<usize>,
    /// `MAXSIZE`: bytes after which no further entry is added.
    pub max_size: Option<usize>,
    entries: usize,
    bytes: usize,
}

impl ReadCaps {
    /// Parses the value of `MAXCOUNT` or `MAXSIZE`: an integer of at least 1.
    pub fn parse_cap(args: &mut Args) -> Result<usize, CmdError> {
        let n = args.i64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| CmdError(error::NOT_POSITIVE.into()))
    }

    /// True once no further entry may be added.
    pub fn reached(&self) -> bool {
        self.max_count.is_some_and(|max| self.entries >= max)
            || self.max_size.is_some_and(|max| self.bytes >= max)
    }

    /// Back to an empty reply (a blocked call's retry starts over).
    pub fn reset(&mut self) {
        self.entries = 0;
        self.bytes = 0;
    }
}

/// [`ReplySink`] that also counts against a call's [`ReadCaps`] and keeps the delivery data
/// `XREADGROUP … CLAIM` sends per entry.
#[derive(Debug)]
pub struct CappedSink<'a> {
    /// Where entries go.
    pub entries: &'a mut StreamEntries,
    /// The call's caps and what it sent so far.
    pub caps: &'a mut ReadCaps,
}

impl EntrySink for CappedSink<'_> {
    fn begin_entry(&mut self, id: StreamId, _field_count: usize) {
        self.caps.entries += 1;
        self.entries.begin_entry(id.ms, id.seq);
    }

    fn field(&mut self, bytes: &[u8]) {
        self.caps.bytes += bytes.len();
        self.entries.push_field(bytes);
    }

    fn deleted_entry(&mut self, id: StreamId) {
        self.caps.entries += 1;
        self.entries.push_deleted(id.ms, id.seq);
    }

    fn delivery_meta(&mut self, idle_ms: u64, previous_count: u64) {
        self.entries.set_meta(idle_ms, previous_count);
    }

    fn full(&self) -> bool {
        self.caps.reached()
    }
}

/// An ID as a bulk string, `"<ms>-<seq>"`.
pub fn id_reply(id: StreamId) -> Reply {
    let mut text = Vec::with_capacity(24);
    id.write_to(&mut text);
    Reply::Bulk(Bytes::from(text))
}

/// The options of XADD (`xadd = true`) or XTRIM, parsed as Redis's
/// `streamParseAddOrTrimArgsOrReply` does.
#[derive(Debug, Default)]
pub struct AddOrTrimArgs {
    /// `MAXLEN`/`MINID` with `=`/`~` and `LIMIT`.
    pub trim: Option<TrimSpec>,
    /// `NOMKSTREAM` (XADD only).
    pub no_mkstream: bool,
    /// The entry ID (XADD only).
    pub id: Option<AddId>,
    /// `KEEPREF|DELREF|ACKED`: what trimming does to group references (last one wins).
    pub mode: RefMode,
    /// `IDMP pid iid` / `IDMPAUTO pid` (XADD only).
    pub idmp: Option<IdmpArg>,
}

/// XADD's idempotency option (Redis 8.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdmpArg {
    /// `IDMP pid iid`: the producer names the message.
    Explicit { pid: Bytes, iid: Bytes },
    /// `IDMPAUTO pid`: the message is named by a hash of its field-value pairs.
    Auto { pid: Bytes },
}

impl IdmpArg {
    /// The producer ID.
    pub fn pid(&self) -> &Bytes {
        match self {
            IdmpArg::Explicit { pid, .. } | IdmpArg::Auto { pid } => pid,
        }
    }
}

/// Parses the options after the key. For XADD, stops after the ID, leaving the fields.
pub fn parse_add_or_trim(args: &Args, xadd: bool) -> Result<AddOrTrimArgs, CmdError> {
    let mut out = AddOrTrimArgs::default();
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    while let Some(opt) = args.peek() {
        let more = args.remaining() - 1;
        args.skip();
        if xadd && opt == b"*" {
            out.id = Some(AddId::Auto);
            break;
        }
        let is_maxlen = opt.eq_ignore_ascii_case(b"MAXLEN");
        if (is_maxlen || opt.eq_ignore_ascii_case(b"MINID")) && more > 0 {
            if strategy.is_some() {
                return Err(CmdError(error::TRIM_MAXLEN_AND_MINID.into()));
            }
            approx = false;
            if more >= 2 {
                if args.peek() == Some(b"~") {
                    approx = true;
                    args.skip();
                } else if args.peek() == Some(b"=") {
                    args.skip();
                }
            }
            strategy = Some(if is_maxlen {
                let n = args.i64()?;
                TrimStrategy::MaxLen(
                    u64::try_from(n).map_err(|_| CmdError(error::MAXLEN_NEGATIVE.into()))?,
                )
            } else {
                TrimStrategy::MinId(StreamId::parse(&args.bytes()?, 0)?)
            });
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && more > 0 {
            let n = args.i64()?;
            if n < 0 {
                return Err(CmdError(error::LIMIT_NEGATIVE.into()));
            }
            limit = Some(n);
        } else if xadd && opt.eq_ignore_ascii_case(b"NOMKSTREAM") {
            out.no_mkstream = true;
        } else if let Some(mode) = RefMode::parse(opt) {
            out.mode = mode;
        } else if xadd && opt.eq_ignore_ascii_case(b"IDMP") && more >= 2 {
            let (pid, iid) = (args.bytes()?, args.bytes()?);
            set_idmp(&mut out.idmp, IdmpArg::Explicit { pid, iid })?;
        } else if xadd && opt.eq_ignore_ascii_case(b"IDMPAUTO") && more >= 1 {
            let pid = args.bytes()?;
            set_idmp(&mut out.idmp, IdmpArg::Auto { pid })?;
        } else if xadd {
            out.id = Some(AddId::parse(opt)?);
            break;
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    if limit.is_some_and(|n| n != 0) && strategy.is_none() {
        return Err(CmdError(error::LIMIT_WITHOUT_STRATEGY.into()));
    }
    if !xadd && strategy.is_none() {
        return Err(CmdError(error::XTRIM_WITHOUT_STRATEGY.into()));
    }
    if limit.is_some() && !approx {
        return Err(CmdError(error::LIMIT_WITHOUT_APPROX.into()));
    }
    if let Some(idmp) = &out.idmp {
        check_idmp(idmp, out.id)?;
    }
    out.trim = strategy.map(|strategy| TrimSpec {
        strategy,
        approx,
        limit: limit.map(|n| n.unsigned_abs()),
    });
    Ok(out)
}

fn set_idmp(slot: &mut Option<IdmpArg>, arg: IdmpArg) -> Result<(), CmdError> {
    if slot.replace(arg).is_some() {
        return Err(CmdError(error::IDMP_TWICE.into()));
    }
    Ok(())
}

/// Redis's checks once the ID is known: auto-generated IDs only, non-empty names.
fn check_idmp(idmp: &IdmpArg, id: Option<AddId>) -> Result<(), CmdError> {
    if id.is_some_and(|id| id != AddId::Auto) {
        return Err(CmdError(error::IDMP_EXPLICIT_ID.into()));
    }
    let text = match idmp {
        IdmpArg::Explicit { pid, .. } if pid.is_empty() => error::IDMP_EMPTY_PID,
        IdmpArg::Explicit { iid, .. } if iid.is_empty() => error::IDMP_EMPTY_IID,
        IdmpArg::Auto { pid } if pid.is_empty() => error::IDMPAUTO_EMPTY_PID,
        _ => return Ok(()),
    };
    Err(CmdError(text.into()))
}

/// The options `XDELEX` and `XACKDEL` share: `[KEEPREF|DELREF|ACKED] IDS numids id …`, the
/// mode and the block in either order, each once. Every ID is parsed before anything is
/// touched, so a bad one changes nothing.
pub fn parse_ids_block(args: &Args) -> Result<(RefMode, Vec<StreamId>), CmdError> {
    let mut mode = None;
    let mut ids = None;
    while let Some(opt) = args.next_arg() {
        if let Some(m) = RefMode::parse(&opt) {
            if mode.replace(m).is_some() {
                return Err(CmdError(error::SYNTAX.into()));
            }
        } else if opt.eq_ignore_ascii_case(b"IDS") && ids.is_none() && args.remaining() > 0 {
            ids = Some(parse_id_list(args)?);
        } else {
            return Err(CmdError(error::SYNTAX.into()));
        }
    }
    let ids = ids.ok_or_else(|| CmdError(error::SYNTAX.into()))?;
    Ok((mode.unwrap_or_default(), ids))
}

/// `numids id …`, what follows `IDS` in `XDELEX`, `XACKDEL` and `XNACK`: every ID parsed
/// before anything is touched.
pub fn parse_id_list(args: &Args) -> Result<Vec<StreamId>, CmdError> {
    let n = args
        .i64()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError(error::NUMIDS_NOT_POSITIVE.into()))?;
    if n > args.remaining() {
        return Err(CmdError(error::NUMIDS_MISMATCH.into()));
    }
    let mut parsed = Vec::with_capacity(n);
    for _ in 0..n {
        parsed.push(StreamId::parse(&args.bytes()?, 0)?);
    }
    Ok(parsed)
}

/// One integer per ID: `XDELEX` and `XACKDEL`'s reply.
pub fn codes_reply(codes: impl Iterator<Item = i64>) -> Reply {
    Reply::Array(codes.map(Reply::Int).collect())
}

/// Logs `XDELEX`/`XACKDEL` as given: both are deterministic on the state they find, so the
/// replay decides exactly as the command did.
pub fn log_verbatim(rec: &mut sluice_broker::persist::Record, all: &[Bytes]) {
    rec.begin(all.len());
    for arg in all {
        rec.arg(arg);
    }
}
