//! What the stream commands share: the XADD/XTRIM trimming options, the sink that packs
//! entries into a reply, and ID replies.

use bytes::Bytes;
use sluice_resp::{Args, Reply, StreamEntries};
use sluice_streams::{AddId, EntrySink, StreamId, TrimSpec, TrimStrategy};

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
}

/// Parses the options after the key. For XADD, stops after the ID, leaving the fields.
pub fn parse_add_or_trim(args: &mut Args, xadd: bool) -> Result<AddOrTrimArgs, CmdError> {
    let mut out = AddOrTrimArgs::default();
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    while let Some(opt) = args.peek().cloned() {
        let more = args.remaining() - 1;
        let _ = args.next_arg();
        if xadd && opt.as_ref() == b"*" {
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
                if args.peek().is_some_and(|a| a.as_ref() == b"~") {
                    approx = true;
                    let _ = args.next_arg();
                } else if args.peek().is_some_and(|a| a.as_ref() == b"=") {
                    let _ = args.next_arg();
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
        } else if xadd {
            out.id = Some(AddId::parse(&opt)?);
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
    out.trim = strategy.map(|strategy| TrimSpec {
        strategy,
        approx,
        limit: limit.map(|n| n.unsigned_abs()),
    });
    Ok(out)
}
