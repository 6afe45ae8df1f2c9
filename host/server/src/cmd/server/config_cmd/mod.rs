//! `CONFIG GET|SET|RESETSTAT|HELP` over the settings Sluice has.
//!
//! [`params`] lists every parameter `CONFIG` knows: the start-up settings (read-only at run
//! time), the settings atomics `CONFIG SET` may change (the front end's and the broker's), and a few Redis parameters whose
//! fixed values clients and `redis-benchmark` ask for. `CONFIG SET` checks every pair before
//! applying any, so a failed call changes nothing; its error texts are Redis 7's.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sluice_resp::{ArgError, Args, Reply};

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container, ok};
use crate::config::parse_memory;
use crate::error::{self, CmdError};
use crate::limits::{self, ClientClass, OutputLimit};
use crate::shared::Shared;
use sluice_broker::glob;
use sluice_broker::keyspace::Policy;

mod params;

use params::{MAX_SETTING, PARAMS, Param, Setter, lookup};

/// The `CONFIG` container.
pub const CONFIG: Command = Command {
    name: "config",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &[],
    group: "server",
    since: "2.0.0",
    summary: "A container for server configuration commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// `CONFIG`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[GET, SET, RESETSTAT, HELP];

/// A checked `CONFIG SET` change, applied once every pair has been checked.
enum Update<'a> {
    Atomic(&'a AtomicU64, u64),
    Fsync(sluice_storage::FsyncPolicy),
    Eviction(sluice_broker::keyspace::Policy),
    OutputLimits(Vec<(ClientClass, OutputLimit)>),
    Requirepass(Vec<u8>),
}

const GET: Command = Command {
    name: "get",
    arity: -3,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "2.0.0",
    summary: "Returns the effective values of configuration parameters.",
    syntax: "parameter [parameter ...]",
    handler: config_get,
    subcommands: &[],
};

/// `CONFIG GET parameter [parameter ...]`: a map of every parameter matching any of the
/// glob patterns (case-insensitive), each once. An exact name is echoed as the client wrote
/// it, as Redis does.
pub fn config_get(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let mut seen: Vec<&'static str> = Vec::new();
    let mut pairs = Vec::new();
    for pattern in args.rest() {
        let is_glob = pattern.iter().any(|b| b"[*?".contains(b));
        if !is_glob {
            if let Some(param) = lookup(pattern)
                && !seen.contains(&param.name)
            {
                seen.push(param.name);
                pairs.push((Reply::Bulk(pattern.clone()), value(ctx.shared, param)));
            }
            continue;
        }
        for param in PARAMS {
            if !seen.contains(&param.name) && glob::matches(pattern, param.name.as_bytes(), true) {
                seen.push(param.name);
                pairs.push((Reply::bulk_static(param.name), value(ctx.shared, param)));
            }
        }
    }
    Ok(Reply::Map(pairs).into())
}

fn value(shared: &Shared, param: &Param) -> Reply {
    Reply::bulk((param.get)(shared))
}

const SET: Command = Command {
    name: "set",
    arity: -4,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "2.0.0",
    summary: "Sets configuration parameters in-flight.",
    syntax: "parameter value [parameter value ...]",
    handler: config_set,
    subcommands: &[],
};

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing.
pub fn config_set(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(ArgError::Syntax.into());
    }
    let params = resolve_params(pairs)?;
    let mut updates: Vec<Update<'_>> = Vec::with_capacity(params.len());
    for (param, value) in params.iter().zip(pairs.iter().skip(1).step_by(2)) {
        let fail = |reason: &str| error::config_set_failed(param.name, reason);
        match param.set {
            Setter::Immutable => return Err(fail(error::CONFIG_IMMUTABLE)),
            Setter::Fixed => {
                if !value.eq_ignore_ascii_case((param.get)(ctx.shared).as_bytes()) {
                    return Err(fail(error::CONFIG_IMMUTABLE));
                }
            }
            Setter::Integer { slot, min, max } => {
                let n = parse_integer(value).and_then(|n| check_range(n.into(), min, max));
                updates.push(Update::Atomic(slot(ctx.shared), n.map_err(|r| fail(&r))?));
            }
            Setter::Memory { slot, min } => {
                let n =
                    parse_memory_value(value).and_then(|n| check_range(n.into(), min, MAX_SETTING));
                updates.push(Update::Atomic(slot(ctx.shared), n.map_err(|r| fail(&r))?));
            }
            Setter::Fsync => {
                let policy = String::from_utf8_lossy(value)
                    .parse()
                    .map_err(|_| fail(error::CONFIG_NOT_FSYNC_POLICY))?;
                updates.push(Update::Fsync(policy));
            }
            Setter::EvictionPolicy => {
                let policy = std::str::from_utf8(value)
                    .ok()
                    .and_then(Policy::parse)
                    .ok_or_else(|| fail(&error::config_not_one_of(&Policy::names())))?;
                updates.push(Update::Eviction(policy));
            }
            Setter::YesNo { slot } => {
                let on = if value.eq_ignore_ascii_case(b"yes") {
                    1
                } else if value.eq_ignore_ascii_case(b"no") {
                    0
                } else {
                    return Err(fail(error::CONFIG_NOT_YES_NO));
                };
                updates.push(Update::Atomic(slot(ctx.shared), on));
            }
            Setter::Requirepass => updates.push(Update::Requirepass(value.to_vec())),
            Setter::OutputBufferLimit => {
                let parsed =
                    limits::parse_output_limits(&String::from_utf8_lossy(value)).map_err(fail)?;
                updates.push(Update::OutputLimits(parsed));
            }
        }
    }
    for update in updates {
        match update {
            Update::Atomic(slot, n) => slot.store(n, Ordering::Relaxed),
            Update::Fsync(policy) => {
                if let Some(wal) = ctx.shared.broker.journal.wal() {
                    wal.set_policy(policy);
                }
            }
            Update::Eviction(policy) => ctx.shared.broker.keyspace.eviction.set_policy(policy),
            Update::Requirepass(password) => {
                // As Redis: `resetpass`, then `>password` or `nopass`. Connections already
                // authenticated stay so.
                ctx.shared.acl.set_default_password(&password);
                *ctx.shared.settings.requirepass.lock() = password;
            }
            Update::OutputLimits(parsed) => {
                ctx.shared
                    .settings
                    .client_output_buffer_limit
                    .apply(&parsed);
            }
        }
    }
    ok()
}

/// Finds each pair's parameter; unknown, immutable and repeated names fail as in Redis, an
/// unknown name taking precedence.
fn resolve_params(pairs: &[Bytes]) -> Result<Vec<&'static Param>, CmdError> {
    let mut params: Vec<&'static Param> = Vec::with_capacity(pairs.len() / 2);
    let mut first_error = None;
    for name in pairs.iter().step_by(2) {
        let Some(param) = lookup(name) else {
            return Err(error::config_set_unknown(name));
        };
        if first_error.is_none() {
            let typed = String::from_utf8_lossy(name);
            if matches!(param.set, Setter::Immutable) {
                first_error = Some(error::config_set_failed(&typed, error::CONFIG_IMMUTABLE));
            } else if params.iter().any(|p| std::ptr::eq(*p, param)) {
                first_error = Some(error::config_set_failed(&typed, error::CONFIG_DUPLICATE));
            }
        }
        params.push(param);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(params),
    }
}

fn parse_integer(value: &[u8]) -> Result<i64, String> {
    sluice_resp::request::parse_i64(value).ok_or_else(|| error::CONFIG_NOT_INTEGER.to_owned())
}

fn parse_memory_value(value: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(value)
        .ok()
        // `parse_memory` forgives padding (config files); Redis's CONFIG SET does not.
        .filter(|text| text.trim() == *text)
        .and_then(parse_memory)
        .ok_or_else(|| error::CONFIG_NOT_MEMORY.to_owned())
}

/// `n` if within `min..=max`, else Redis's range message.
fn check_range(n: i128, min: u64, max: u64) -> Result<u64, String> {
    u64::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| error::config_range(min, max))
}

const RESETSTAT: Command = Command {
    name: "resetstat",
    arity: 2,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: ADMIN_CATS,
    group: "server",
    since: "2.0.0",
    summary: "Resets the server's statistics.",
    syntax: "",
    handler: config_resetstat,
    subcommands: &[],
};

/// `CONFIG RESETSTAT`: zeroes the `INFO stats` counters.
pub fn config_resetstat(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let s = &ctx.shared.stats;
    for counter in [
        &s.connections_received,
        &s.commands_processed,
        &s.rejected_connections,
        &s.keyspace_hits,
        &s.keyspace_misses,
        &s.net_input_bytes,
        &s.net_output_bytes,
        &s.reads_processed,
        &s.writes_processed,
        &s.error_replies,
        &ctx.shared.broker.keyspace.expired_keys,
        &ctx.shared.broker.keyspace.evicted_keys,
        &s.query_buffer_limit_disconnections,
        &s.output_buffer_limit_disconnections,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    ctx.shared.command_stats.reset();
    ok()
}

const HELP: Command = help_command(&["slow"], "server", "5.0.0", config_help);

/// `CONFIG HELP`.
pub fn config_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "config",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_redis_config_set() {
        assert_eq!(parse_memory_value(b"4kb"), Ok(4096));
        assert_eq!(
            parse_memory_value(b"-5"),
            Err(error::CONFIG_NOT_MEMORY.into())
        );
        assert_eq!(
            parse_memory_value(b" 5"),
            Err(error::CONFIG_NOT_MEMORY.into())
        );
        assert_eq!(parse_integer(b"1kb"), Err(error::CONFIG_NOT_INTEGER.into()));
        assert_eq!(
            check_range(-1, 0, MAX_SETTING),
            Err("argument must be between 0 and 9223372036854775807 inclusive".into())
        );
        assert_eq!(check_range(1 << 20, 1 << 20, MAX_SETTING), Ok(1 << 20));
        assert!(check_range(i128::from(u64::MAX), 0, MAX_SETTING).is_err());
        assert_eq!(
            check_range(0, 1, limits::MAX_MAXCLIENTS),
            Err("argument must be between 1 and 4294967295 inclusive".into())
        );
    }

    #[test]
    fn set_checks_names_before_values() {
        let pairs = |words: &[&str]| -> Vec<Bytes> {
            words
                .iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        };
        let err = resolve_params(&pairs(&["port", "1", "nosuch", "2"])).map(|_| ());
        assert_eq!(
            err,
            Err(CmdError(
                "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'".into()
            ))
        );
        let err = resolve_params(&pairs(&["timeout", "0", "TIMEOUT", "0"])).map(|_| ());
        assert_eq!(
            err,
            Err(CmdError(
                "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
                    .into()
            ))
        );
    }
}
