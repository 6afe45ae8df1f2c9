//! `XCFGSET` (Redis 8.6): a stream's idempotency window.

use sluice_resp::{Args, Reply};
use sluice_streams::{
    IDMP_DURATION_MAX, IDMP_DURATION_MIN, IDMP_MAXSIZE_MAX, IDMP_MAXSIZE_MIN, Stream,
};

use super::args::log_verbatim;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `XCFGSET` command.
pub const XCFGSET: Command = Command {
    name: "xcfgset",
    arity: -2,
    flags: WRITE | FAST,
    keys: KEY1,
    categories: STREAM_WRITE,
    group: "stream",
    since: "8.6.0",
    summary: "Sets the IDMP configuration parameters for a stream.",
    syntax: "key [IDMP-DURATION idmp-duration] [IDMP-MAXSIZE idmp-maxsize]",
    handler: run,
    subcommands: &[],
};

/// `XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n]`: OK. A value that differs from the one in
/// force clears every producer's iids; the stream must exist.
pub fn run(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // The request as sent, for the log.
    let all = args.all();
    let key = args.bytes()?;
    let (mut duration, mut maxsize) = (None, None);
    if args.is_empty() {
        return Err(CmdError(error::XCFGSET_NO_PARAMETER.into()));
    }
    while let Some(opt) = args.next_arg() {
        let is_duration = opt.eq_ignore_ascii_case(b"IDMP-DURATION");
        if !is_duration && !opt.eq_ignore_ascii_case(b"IDMP-MAXSIZE") || args.is_empty() {
            return Err(CmdError(error::SYNTAX.into()));
        }
        let n = args.i64()?;
        if is_duration {
            duration = Some(in_range(
                n,
                IDMP_DURATION_MIN,
                IDMP_DURATION_MAX,
                "IDMP-DURATION",
            )?);
        } else {
            maxsize = Some(in_range(
                n,
                IDMP_MAXSIZE_MIN,
                IDMP_MAXSIZE_MAX,
                "IDMP-MAXSIZE",
            )?);
        }
    }
    let defaults = ctx.shared.broker.settings.idmp_defaults();
    ctx.db()
        .write_as(&key, ctx.now_ms, |stream: &mut Stream| {
            stream.idmp_configure(duration, maxsize, defaults);
            ctx.journal(|rec| log_verbatim(rec, all));
        })?
        .ok_or_else(|| CmdError(error::NO_SUCH_KEY.into()))?;
    Ok(Reply::Ok.into())
}

fn in_range(n: i64, min: u64, max: u64, name: &str) -> Result<u64, CmdError> {
    u64::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| CmdError(format!("ERR {name} must be between {min} and {max}")))
}
