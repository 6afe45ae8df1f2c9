//! Key expiry: `EXPIRE`, `PEXPIRE`, `EXPIREAT` and `PEXPIREAT` set a deadline, `TTL` and
//! `PTTL` read it, `PERSIST` clears it.
//!
//! Redis 7 semantics: the `NX|XX|GT|LT` conditions (no expiry counts as an infinite one); a
//! deadline at or before now deletes the key at once and still replies 1; a time that
//! overflows once turned into Unix ms is an error naming the command. Options are checked
//! before the time argument, as Redis does. Deadlines are Unix ms, and all time comes from
//! `ctx.now_ms`.

use bytes::Bytes;
use sluice_resp::request::parse_i64;
use sluice_resp::{ArgError, Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};
use sluice_broker::keyspace::ExpireCondition;

/// How one of the four commands reads its time argument.
struct TimeForm {
    /// Lower-case command name, for the overflow error.
    name: &'static str,
    /// Milliseconds per unit of the argument: 1000 for seconds, 1 for ms.
    unit_ms: i64,
    /// True if the time counts from now, false if it is a Unix time.
    relative: bool,
}

/// The `EXPIRE` command.
pub const EXPIRE: Command = Command {
    name: "expire",
    arity: -3,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: KEY1,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "1.0.0",
    summary: "Sets the expiration time of a key in seconds.",
    syntax: "key seconds [NX|XX|GT|LT]",
    handler: expire,
    subcommands: &[],
};

/// `EXPIRE key seconds [NX|XX|GT|LT]`: 1 if the deadline was set, 0 if the key is missing or
/// the condition refused.
pub fn expire(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let form = TimeForm {
        name: "expire",
        unit_ms: 1000,
        relative: true,
    };
    set_deadline(ctx, args, &form)
}

/// The `PEXPIRE` command.
pub const PEXPIRE: Command = Command {
    name: "pexpire",
    arity: -3,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: KEY1,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "2.6.0",
    summary: "Sets the expiration time of a key in milliseconds.",
    syntax: "key milliseconds [NX|XX|GT|LT]",
    handler: pexpire,
    subcommands: &[],
};

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`: as `EXPIRE`, in ms.
pub fn pexpire(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let form = TimeForm {
        name: "pexpire",
        unit_ms: 1,
        relative: true,
    };
    set_deadline(ctx, args, &form)
}

/// The `EXPIREAT` command.
pub const EXPIREAT: Command = Command {
    name: "expireat",
    arity: -3,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: KEY1,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "1.2.0",
    summary: "Sets the expiration time of a key to a Unix timestamp.",
    syntax: "key unix-time-seconds [NX|XX|GT|LT]",
    handler: expireat,
    subcommands: &[],
};

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`: as `EXPIRE`, at a Unix time.
pub fn expireat(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let form = TimeForm {
        name: "expireat",
        unit_ms: 1000,
        relative: false,
    };
    set_deadline(ctx, args, &form)
}

/// The `PEXPIREAT` command.
pub const PEXPIREAT: Command = Command {
    name: "pexpireat",
    arity: -3,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: KEY1,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "2.6.0",
    summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
    syntax: "key unix-time-milliseconds [NX|XX|GT|LT]",
    handler: pexpireat,
    subcommands: &[],
};

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`: as `EXPIRE`, at a Unix time in ms.
pub fn pexpireat(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let form = TimeForm {
        name: "pexpireat",
        unit_ms: 1,
        relative: false,
    };
    set_deadline(ctx, args, &form)
}

fn set_deadline(ctx: &mut Ctx<'_>, args: &mut Args, form: &TimeForm) -> CmdResult {
    let key = args.bytes()?;
    let time = args.bytes()?;
    let flags = ExpireFlags::parse(args.rest())?;
    let time = parse_i64(&time).ok_or(ArgError::NotInteger)?;
    let base = if form.relative {
        i64::try_from(ctx.now_ms).unwrap_or(i64::MAX)
    } else {
        0
    };
    let when = deadline_ms(time, form.unit_ms, base)
        .ok_or_else(|| error::invalid_expire_time(form.name))?;
    // A negative deadline is simply in the past: the key goes, like at 0.
    let at = u64::try_from(when).unwrap_or(0);
    let changed = ctx
        .db()
        .set_expire_if(&key, Some(at), ctx.now_ms, |current| {
            flags.allow(current, when)
        })
        .unwrap_or(false);
    if changed && at <= ctx.now_ms {
        ctx.key_ready(&key);
        ctx.journal(|rec| {
            rec.command(&[b"DEL", &key]);
        });
    } else if changed {
        // An absolute deadline replays the same whenever the log is read back.
        ctx.journal(|rec| {
            rec.begin(3).arg(b"PEXPIREAT").arg(&key).int(at);
        });
    }
    Ok(Reply::Int(i64::from(changed)).into())
}

/// `time` in units of `unit_ms` after `base` (Unix ms), as Unix ms; `None` where Redis
/// reports an invalid expire time (the product or the sum overflows).
fn deadline_ms(time: i64, unit_ms: i64, base: i64) -> Option<i64> {
    time.checked_mul(unit_ms)?.checked_add(base)
}

/// The `NX|XX|GT|LT` options of the `EXPIRE` family. Redis accepts them in any number and
/// order, and `XX` combines with `GT` or `LT`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    fn parse(options: &[Bytes]) -> Result<Self, CmdError> {
        let mut flags = Self::default();
        for opt in options {
            let slot = if opt.eq_ignore_ascii_case(b"nx") {
                &mut flags.nx
            } else if opt.eq_ignore_ascii_case(b"xx") {
                &mut flags.xx
            } else if opt.eq_ignore_ascii_case(b"gt") {
                &mut flags.gt
            } else if opt.eq_ignore_ascii_case(b"lt") {
                &mut flags.lt
            } else {
                return Err(error::unsupported_option(opt));
            };
            *slot = true;
        }
        if flags.nx && (flags.xx || flags.gt || flags.lt) {
            return Err(CmdError(error::EXPIRE_NX_CONFLICT.to_owned()));
        }
        if flags.gt && flags.lt {
            return Err(CmdError(error::EXPIRE_GT_LT_CONFLICT.to_owned()));
        }
        Ok(flags)
    }

    /// True if a key whose deadline is `current` (`None`: never expires) may get `when`.
    fn allow(self, current: Option<u64>, when: i64) -> bool {
        let when = i128::from(when);
        let current = current.map(i128::from);
        let refused = (self.nx && current.is_some())
            || (self.xx && current.is_none())
            // No expiry is an infinite one: nothing is greater, anything is less.
            || (self.gt && current.is_none_or(|cur| when <= cur))
            || (self.lt && current.is_some_and(|cur| when >= cur));
        !refused
    }
}

/// The `TTL` command.
pub const TTL: Command = Command {
    name: "ttl",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: KEYSPACE_READ,
    group: "generic",
    since: "1.0.0",
    summary: "Returns the expiration time in seconds of a key.",
    syntax: "key",
    handler: ttl,
    subcommands: &[],
};

/// `TTL key`: seconds left (rounded to nearest), -1 without expiry, -2 for a missing key.
pub fn ttl(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    time_left(ctx, args, false)
}

/// The `PTTL` command.
pub const PTTL: Command = Command {
    name: "pttl",
    arity: 2,
    flags: READONLY | FAST,
    keys: KEY1,
    categories: KEYSPACE_READ,
    group: "generic",
    since: "2.6.0",
    summary: "Returns the expiration time in milliseconds of a key.",
    syntax: "key",
    handler: pttl,
    subcommands: &[],
};

/// `PTTL key`: as `TTL`, in ms.
pub fn pttl(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    time_left(ctx, args, true)
}

fn time_left(ctx: &mut Ctx<'_>, args: &mut Args, in_ms: bool) -> CmdResult {
    let key = args.bytes()?;
    let deadline = ctx.db().expire_at(&key, ctx.now_ms);
    ctx.count_lookup(deadline.is_some());
    Ok(Reply::Int(ttl_reply(deadline, ctx.now_ms, in_ms)).into())
}

/// The `TTL`/`PTTL` reply for a key's deadline as [`sluice_broker::keyspace::Db::expire_at`] gives it.
fn ttl_reply(deadline: Option<Option<u64>>, now_ms: u64, in_ms: bool) -> i64 {
    match deadline {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let ms = at.saturating_sub(now_ms);
            // Redis rounds to the nearest second: (ms + 500) / 1000.
            let left = if in_ms {
                ms
            } else {
                ms.saturating_add(500) / 1000
            };
            i64::try_from(left).unwrap_or(i64::MAX)
        }
    }
}

/// The `PERSIST` command.
pub const PERSIST: Command = Command {
    name: "persist",
    arity: 2,
    flags: WRITE | FAST | EXCLUSIVE,
    keys: KEY1,
    categories: KEYSPACE_WRITE,
    group: "generic",
    since: "2.2.0",
    summary: "Removes the expiration time of a key.",
    syntax: "key",
    handler: persist,
    subcommands: &[],
};

/// `PERSIST key`: 1 if the key had an expiry and lost it, else 0.
pub fn persist(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let key = args.bytes()?;
    // `Xx` makes "had an expiry" and "cleared it" one step under the key's lock.
    let cleared = ctx
        .db()
        .set_expire(&key, None, ExpireCondition::Xx, ctx.now_ms)
        == Some(true);
    if cleared {
        ctx.journal(|rec| {
            rec.command(&[b"PERSIST", &key]);
        });
    }
    Ok(Reply::Int(i64::from(cleared)).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn err_text(words: &[&str]) -> String {
        match ExpireFlags::parse(&opts(words)) {
            Err(CmdError(text)) => text,
            Ok(flags) => format!("parsed {flags:?}"),
        }
    }

    #[test]
    fn options_parse_like_redis() {
        assert_eq!(ExpireFlags::parse(&opts(&[])), Ok(ExpireFlags::default()));
        assert_eq!(
            ExpireFlags::parse(&opts(&["xx", "GT"])),
            Ok(ExpireFlags {
                xx: true,
                gt: true,
                ..ExpireFlags::default()
            })
        );
        assert_eq!(
            ExpireFlags::parse(&opts(&["nx", "NX"])).map(|f| f.nx),
            Ok(true)
        );
        assert_eq!(err_text(&["nx", "xx"]), error::EXPIRE_NX_CONFLICT);
        assert_eq!(err_text(&["gt", "nx"]), error::EXPIRE_NX_CONFLICT);
        assert_eq!(err_text(&["gt", "lt"]), error::EXPIRE_GT_LT_CONFLICT);
        assert_eq!(err_text(&["gt", "foo"]), "ERR Unsupported option foo");
        assert_eq!(err_text(&["a\r\nb"]), "ERR Unsupported option a  b");
    }

    #[test]
    fn conditions_treat_no_expiry_as_infinite() {
        let f = |words: &[&str]| ExpireFlags::parse(&opts(words)).unwrap_or_default();
        assert!(f(&[]).allow(Some(5), 1));
        assert!(f(&["nx"]).allow(None, 1) && !f(&["nx"]).allow(Some(5), 1));
        assert!(!f(&["xx"]).allow(None, 1) && f(&["xx"]).allow(Some(5), 1));
        assert!(!f(&["gt"]).allow(None, 10));
        assert!(f(&["gt"]).allow(Some(5), 6) && !f(&["gt"]).allow(Some(5), 5));
        assert!(f(&["lt"]).allow(None, 10));
        assert!(f(&["lt"]).allow(Some(5), 4) && !f(&["lt"]).allow(Some(5), 5));
        assert!(!f(&["xx", "lt"]).allow(None, 10));
        assert!(f(&["lt"]).allow(Some(5), -3));
    }

    #[test]
    fn deadlines_overflow_where_redis_says_so() {
        assert_eq!(deadline_ms(100, 1000, 7), Some(100_007));
        assert_eq!(deadline_ms(i64::MAX / 1000 + 1, 1000, 0), None);
        assert_eq!(
            deadline_ms(i64::MIN / 1000, 1000, 0),
            Some(i64::MIN / 1000 * 1000)
        );
        assert_eq!(deadline_ms(i64::MIN / 1000 - 1, 1000, 0), None);
        assert_eq!(deadline_ms(i64::MAX, 1, 0), Some(i64::MAX));
        assert_eq!(deadline_ms(i64::MAX, 1, 1), None);
        assert_eq!(deadline_ms(i64::MIN, 1, 5), Some(i64::MIN + 5));
    }

    #[test]
    fn ttl_rounds_to_nearest_second() {
        assert_eq!(ttl_reply(None, 0, false), -2);
        assert_eq!(ttl_reply(Some(None), 0, true), -1);
        assert_eq!(ttl_reply(Some(Some(1_499)), 0, false), 1);
        assert_eq!(ttl_reply(Some(Some(1_500)), 0, false), 2);
        assert_eq!(ttl_reply(Some(Some(1_500)), 0, true), 1_500);
        assert_eq!(ttl_reply(Some(Some(400)), 0, false), 0);
        assert_eq!(ttl_reply(Some(Some(10)), 20, true), 0);
        // The latest deadline a client can set, `PEXPIREAT k 9223372036854775807`.
        let latest = Some(Some(i64::MAX.unsigned_abs()));
        assert_eq!(ttl_reply(latest, 0, false), 9_223_372_036_854_776);
    }
}
