//! `CONFIG GET|SET|RESETSTAT|HELP` over the settings Sluice has.
//!
//! [`PARAMS`] lists every parameter `CONFIG` knows: the start-up settings (read-only at run
//! time), the settings atomics `CONFIG SET` may change (the front end's and the broker's), and a few Redis parameters whose
//! fixed values clients and `redis-benchmark` ask for. `CONFIG SET` checks every pair before
//! applying any, so a failed call changes nothing; its error texts are Redis 7's.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sluice_resp::{ArgError, Args, Reply};

use super::help::help_reply;
use super::{CmdResult, Ctx, ok};
use crate::config::parse_memory;
use crate::error::{self, CmdError};
use crate::limits::{self, ClientClass, OutputLimit};
use crate::shared::Shared;
use sluice_broker::glob;

/// How a parameter reacts to `CONFIG SET`.
#[derive(Debug, Clone, Copy)]
enum Setter {
    /// Fixed for the server's life: "can't set immutable config".
    Immutable,
    /// A value Sluice does not implement alternatives to: setting the same value is accepted.
    Fixed,
    /// A plain integer (`stream-node-max-entries`), within `min..=max`.
    Integer {
        slot: fn(&Shared) -> &AtomicU64,
        min: u64,
        max: u64,
    },
    /// A byte count with optional units (`4kb`), at least `min`.
    Memory {
        slot: fn(&Shared) -> &AtomicU64,
        min: u64,
    },
    /// `appendfsync`: `always`, `everysec` or `no`, applied to the write-ahead log.
    Fsync,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <seconds>`, repeated.
    OutputBufferLimit,
    /// `yes` or `no`, kept as 1 or 0 (`protected-mode`).
    YesNo { slot: fn(&Shared) -> &AtomicU64 },
}

/// A checked `CONFIG SET` change, applied once every pair has been checked.
enum Update<'a> {
    Atomic(&'a AtomicU64, u64),
    Fsync(sluice_storage::FsyncPolicy),
    OutputLimits(Vec<(ClientClass, OutputLimit)>),
}

/// One `CONFIG` parameter.
#[derive(Debug)]
struct Param {
    name: &'static str,
    get: fn(&Shared) -> String,
    set: Setter,
}

/// Redis's upper bound for integer settings (`LLONG_MAX`).
const MAX_SETTING: u64 = i64::MAX as u64;

static PARAMS: &[Param] = &[
    Param {
        name: "port",
        get: |s| s.local_addr.port().to_string(),
        set: Setter::Immutable,
    },
    Param {
        name: "bind",
        get: |s| s.config.bind.clone(),
        set: Setter::Immutable,
    },
    Param {
        name: "dir",
        get: |s| {
            std::path::absolute(&s.config.dir)
                .unwrap_or_else(|_| s.config.dir.clone())
                .display()
                .to_string()
        },
        set: Setter::Immutable,
    },
    Param {
        name: "databases",
        get: |s| s.config.databases.to_string(),
        set: Setter::Immutable,
    },
    Param {
        name: "proto-max-bulk-len",
        get: |s| load(&s.settings.proto_max_bulk_len),
        set: Setter::Memory {
            slot: |s| &s.settings.proto_max_bulk_len,
            min: 1024 * 1024,
        },
    },
    Param {
        name: "stream-node-max-entries",
        get: |s| load(&s.broker.settings.stream_node_max_entries),
        set: Setter::Integer {
            slot: |s| &s.broker.settings.stream_node_max_entries,
            min: 0,
            max: MAX_SETTING,
        },
    },
    Param {
        name: "stream-node-max-bytes",
        get: |s| load(&s.broker.settings.stream_node_max_bytes),
        set: Setter::Memory {
            slot: |s| &s.broker.settings.stream_node_max_bytes,
            min: 0,
        },
    },
    Param {
        name: "save",
        get: |_| String::new(),
        set: Setter::Fixed,
    },
    Param {
        name: "appendonly",
        get: |s| if s.config.appendonly { "yes" } else { "no" }.into(),
        set: Setter::Fixed,
    },
    Param {
        name: "appendfsync",
        get: |s| match s.broker.journal.wal() {
            Some(wal) => wal.policy().as_str().to_owned(),
            None => s.config.appendfsync.clone(),
        },
        set: Setter::Fsync,
    },
    Param {
        name: "auto-snapshot-min-size",
        get: |s| s.config.auto_snapshot_min_size.to_string(),
        set: Setter::Immutable,
    },
    Param {
        name: "auto-snapshot-percentage",
        get: |s| load(&s.broker.settings.auto_snapshot_percentage),
        set: Setter::Integer {
            slot: |s| &s.broker.settings.auto_snapshot_percentage,
            min: 0,
            max: i32::MAX as u64,
        },
    },
    Param {
        name: "maxmemory",
        get: |s| load(&s.broker.settings.maxmemory),
        set: Setter::Memory {
            slot: |s| &s.broker.settings.maxmemory,
            min: 0,
        },
    },
    Param {
        name: "protected-mode",
        get: |s| yes_no(s.settings.protected_mode.load(Ordering::Relaxed) != 0),
        set: Setter::YesNo {
            slot: |s| &s.settings.protected_mode,
        },
    },
    Param {
        name: "maxmemory-policy",
        get: |s| s.config.maxmemory_policy.clone(),
        set: Setter::Fixed,
    },
    Param {
        name: "timeout",
        get: |_| "0".into(),
        set: Setter::Fixed,
    },
    Param {
        name: "io-threads",
        get: |s| s.config.io_threads.to_string(),
        set: Setter::Immutable,
    },
    Param {
        name: "maxclients",
        get: |s| load(&s.settings.maxclients),
        set: Setter::Integer {
            slot: |s| &s.settings.maxclients,
            min: 1,
            max: limits::MAX_MAXCLIENTS,
        },
    },
    Param {
        name: "client-query-buffer-limit",
        get: |s| load(&s.settings.client_query_buffer_limit),
        set: Setter::Memory {
            slot: |s| &s.settings.client_query_buffer_limit,
            min: limits::MIN_QUERY_BUFFER_LIMIT,
        },
    },
    Param {
        name: "client-output-buffer-limit",
        get: |s| s.settings.client_output_buffer_limit.render(),
        set: Setter::OutputBufferLimit,
    },
    Param {
        name: "tls-port",
        get: |s| s.tls_addr.get().map_or(0, |a| a.port()).to_string(),
        set: Setter::Immutable,
    },
    Param {
        name: "tls-cert-file",
        get: |s| path_or_empty(s.config.tls_cert_file.as_deref()),
        set: Setter::Immutable,
    },
    Param {
        name: "tls-key-file",
        get: |s| path_or_empty(s.config.tls_key_file.as_deref()),
        set: Setter::Immutable,
    },
    Param {
        name: "tls-ca-cert-file",
        get: |s| path_or_empty(s.config.tls_ca_cert_file.as_deref()),
        set: Setter::Immutable,
    },
    Param {
        name: "tls-auth-clients",
        get: |s| s.config.tls_auth_clients.as_str().into(),
        set: Setter::Immutable,
    },
];

fn path_or_empty(path: Option<&std::path::Path>) -> String {
    path.map(|p| p.display().to_string()).unwrap_or_default()
}

fn load(value: &AtomicU64) -> String {
    value.load(Ordering::Relaxed).to_string()
}

fn lookup(name: &[u8]) -> Option<&'static Param> {
    PARAMS
        .iter()
        .find(|p| p.name.as_bytes().eq_ignore_ascii_case(name))
}

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

fn yes_no(on: bool) -> String {
    if on { "yes" } else { "no" }.to_owned()
}

fn value(shared: &Shared, param: &Param) -> Reply {
    Reply::bulk((param.get)(shared))
}

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
                let policy = String::from_utf8_lossy(value).parse().map_err(|_| {
                    fail("argument(s) must be one of the following: always, everysec, no")
                })?;
                updates.push(Update::Fsync(policy));
            }
            Setter::YesNo { slot } => {
                let on = if value.eq_ignore_ascii_case(b"yes") {
                    1
                } else if value.eq_ignore_ascii_case(b"no") {
                    0
                } else {
                    return Err(fail("argument must be 'yes' or 'no'"));
                };
                updates.push(Update::Atomic(slot(ctx.shared), on));
            }
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
        &s.query_buffer_limit_disconnections,
        &s.output_buffer_limit_disconnections,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    ctx.shared.command_stats.reset();
    ok()
}

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
