//! `ACL LOG [count|RESET]` (the refusals [`crate::acl::log`] keeps) and `ACL GENPASS [bits]`.

use sluice_resp::{Args, Reply};

use super::ADMIN_FLAGS;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, ok};
use crate::error::{self, CmdError};

pub(super) const LOG: Command = Command {
    name: "log",
    arity: -2,
    flags: ADMIN_FLAGS,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "6.0.0",
    summary: "Lists recent security events generated due to ACL rules.",
    syntax: "[count|RESET]",
    handler: log,
    subcommands: &[],
};

/// How many entries `ACL LOG` shows without a count.
const DEFAULT_COUNT: usize = 10;

/// `ACL LOG [count|RESET]`: the newest entries (10 by default; a negative count shows
/// none), or `OK` after forgetting them all.
pub fn log(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let count = match args.rest() {
        [] => DEFAULT_COUNT,
        [arg] if arg.eq_ignore_ascii_case(b"reset") => {
            ctx.shared.acl_log.reset();
            return ok();
        }
        [arg] => {
            let n = sluice_resp::request::parse_i64(arg)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            usize::try_from(n).unwrap_or(0)
        }
        _ => {
            let spelled = args.all().get(1).map_or(&b"log"[..], |s| s);
            return Err(error::subcommand_syntax("acl", spelled));
        }
    };
    Ok(ctx.shared.acl_log.reply(count, ctx.now_ms).into())
}

pub(super) const GENPASS: Command = Command {
    name: "genpass",
    arity: -2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: &["slow"],
    group: "server",
    since: "6.0.0",
    summary: "Generates a pseudorandom, secure password that can be used to identify ACL users.",
    syntax: "[bits]",
    handler: genpass,
    subcommands: &[],
};

/// Longest password `ACL GENPASS` makes, bits.
const GENPASS_MAX_BITS: i64 = 4096;

/// `ACL GENPASS [bits]`: `bits` (default 256, up to 4096) random bits from the OS, as lower-case
/// hex, rounded up to whole hex digits.
pub fn genpass(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let bits = match args.rest() {
        [] => 256,
        [arg] => {
            let n = sluice_resp::request::parse_i64(arg)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            if !(1..=GENPASS_MAX_BITS).contains(&n) {
                return Err(CmdError(error::ACL_GENPASS_BITS.into()));
            }
            n
        }
        _ => {
            let spelled = args.all().get(1).map_or(&b"genpass"[..], |s| s);
            return Err(error::subcommand_syntax("acl", spelled));
        }
    };
    let digits = usize::try_from((bits + 3) / 4).unwrap_or(64);
    let mut random = vec![0u8; digits.div_ceil(2)];
    getrandom::fill(&mut random).map_err(|e| {
        tracing::warn!("ACL GENPASS: the OS gave no random bytes: {e}");
        CmdError(error::ACL_GENPASS_NO_RANDOM.into())
    })?;
    Ok(Reply::bulk(hex_digits(&random, digits)).into())
}

/// The first `digits` lower-case hex digits of `bytes`.
fn hex_digits(bytes: &[u8], digits: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .take(digits)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_digits_round_up_to_whole_digits() {
        assert_eq!(super::hex_digits(&[0xab, 0xcd], 3), "abc");
        assert_eq!(super::hex_digits(&[0x0f], 2), "0f");
    }
}
