//! The parameters `CONFIG GET` and `CONFIG SET` know: what each reads, and how `CONFIG SET`
//! may change it (not at all, to the same value only, or within a range).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::limits;
use crate::shared::Shared;

/// How a parameter reacts to `CONFIG SET`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Setter {
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
    /// `maxmemory-policy`: one of the eviction policies.
    EvictionPolicy,
    /// `yes` or `no`, kept as 1 or 0 (`protected-mode`).
    YesNo { slot: fn(&Shared) -> &AtomicU64 },
    /// `requirepass`: the default user's password (empty: none).
    Requirepass,
}

/// One `CONFIG` parameter.
#[derive(Debug)]
pub(super) struct Param {
    /// Lower-case name, as `CONFIG GET` lists it.
    pub(super) name: &'static str,
    /// Its current value, as `CONFIG GET` shows it.
    pub(super) get: fn(&Shared) -> String,
    /// How `CONFIG SET` changes it.
    pub(super) set: Setter,
}

/// Redis's upper bound for integer settings (`LLONG_MAX`).
pub(super) const MAX_SETTING: u64 = i64::MAX as u64;

/// Every parameter `CONFIG GET` lists, in its order.
pub(super) static PARAMS: &[Param] = &[
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
        name: "stream-idmp-duration",
        get: |s| load(&s.broker.settings.stream_idmp_duration),
        set: Setter::Integer {
            slot: |s| &s.broker.settings.stream_idmp_duration,
            min: sluice_streams::IDMP_DURATION_MIN,
            max: sluice_streams::IDMP_DURATION_MAX,
        },
    },
    Param {
        name: "stream-idmp-maxsize",
        get: |s| load(&s.broker.settings.stream_idmp_maxsize),
        set: Setter::Integer {
            slot: |s| &s.broker.settings.stream_idmp_maxsize,
            min: sluice_streams::IDMP_MAXSIZE_MIN,
            max: sluice_streams::IDMP_MAXSIZE_MAX,
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
        get: |s| s.broker.keyspace.eviction.policy().name().to_owned(),
        set: Setter::EvictionPolicy,
    },
    Param {
        name: "maxmemory-samples",
        get: |s| load(&s.broker.keyspace.eviction.samples),
        set: Setter::Integer {
            slot: |s| &s.broker.keyspace.eviction.samples,
            min: 1,
            max: sluice_broker::evict::MAX_SAMPLES,
        },
    },
    Param {
        name: "lfu-log-factor",
        get: |s| load(&s.broker.keyspace.eviction.lfu_log_factor),
        set: Setter::Integer {
            slot: |s| &s.broker.keyspace.eviction.lfu_log_factor,
            min: 0,
            max: i32::MAX as u64,
        },
    },
    Param {
        name: "lfu-decay-time",
        get: |s| load(&s.broker.keyspace.eviction.lfu_decay_time),
        set: Setter::Integer {
            slot: |s| &s.broker.keyspace.eviction.lfu_decay_time,
            min: 0,
            max: i32::MAX as u64,
        },
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
        name: "requirepass",
        get: |s| String::from_utf8_lossy(&s.settings.requirepass.lock()).into_owned(),
        set: Setter::Requirepass,
    },
    Param {
        name: "aclfile",
        get: |s| path_or_empty(s.config.aclfile.as_deref()),
        set: Setter::Immutable,
    },
    Param {
        name: "acllog-max-len",
        get: |s| load(&s.acl_log.max_len),
        set: Setter::Integer {
            slot: |s| &s.acl_log.max_len,
            min: 0,
            max: MAX_SETTING,
        },
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

/// The parameter named `name`, ignoring ASCII case.
pub(super) fn lookup(name: &[u8]) -> Option<&'static Param> {
    PARAMS
        .iter()
        .find(|p| p.name.as_bytes().eq_ignore_ascii_case(name))
}

fn yes_no(on: bool) -> String {
    if on { "yes" } else { "no" }.to_owned()
}
