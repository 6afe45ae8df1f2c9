//! `INFO [section ...]`: the server's state as `field:value` lines, in Redis's format.
//!
//! Sections are a table ([`SECTIONS`]) of renderers, in the order Redis prints them; a feature
//! that wants to report something (persistence, routes, command stats) adds a row. The reply
//! is `# Title\r\nfield:value\r\n…`, sections separated by a blank line, sent as verbatim text
//! (a bulk string to RESP2 clients), exactly as Redis sends it.

use std::fmt::{Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use super::{CmdResult, Ctx};
use crate::memory::{PER_CLIENT_BYTES, STARTUP_BYTES};
use crate::shared::Shared;

/// One `INFO` section.
#[derive(Debug)]
pub struct Section {
    /// Name as requested, lower-case (`server`).
    pub name: &'static str,
    /// Heading as printed (`Server`).
    pub title: &'static str,
    /// Part of a bare `INFO` (`INFO default`); `all` and `everything` include every section.
    pub default: bool,
    /// Writes the section's fields.
    pub render: fn(&Shared, &mut Fields<'_>),
}

/// Every section, in print order.
pub static SECTIONS: &[Section] = &[
    Section {
        name: "server",
        title: "Server",
        default: true,
        render: server,
    },
    Section {
        name: "clients",
        title: "Clients",
        default: true,
        render: clients,
    },
    Section {
        name: "memory",
        title: "Memory",
        default: true,
        render: memory,
    },
    Section {
        name: "persistence",
        title: "Persistence",
        default: true,
        render: persistence,
    },
    Section {
        name: "stats",
        title: "Stats",
        default: true,
        render: stats,
    },
    Section {
        name: "replication",
        title: "Replication",
        default: true,
        render: replication,
    },
    Section {
        name: "commandstats",
        title: "Commandstats",
        default: false,
        render: commandstats,
    },
    Section {
        name: "errorstats",
        title: "Errorstats",
        default: true,
        render: errorstats,
    },
    Section {
        name: "keyspace",
        title: "Keyspace",
        default: true,
        render: keyspace,
    },
    Section {
        name: "routes",
        title: "Routes",
        default: true,
        render: routes,
    },
    Section {
        name: "plugins",
        title: "Plugins",
        default: true,
        render: plugins,
    },
    Section {
        name: "policies",
        title: "Policies",
        default: true,
        render: policies,
    },
];

/// The lines of one section being written.
#[derive(Debug)]
pub struct Fields<'a> {
    out: &'a mut String,
}

impl Fields<'_> {
    /// Appends `name:value\r\n`.
    pub fn field(&mut self, name: &str, value: impl Display) {
        let _ = write!(self.out, "{name}:{value}\r\n");
    }
}

/// `INFO [section ...]`.
pub fn info(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let sections = select(args.rest());
    Ok(Reply::Verbatim(render(ctx.shared, &sections)).into())
}

/// The sections a request names, in print order. No names means the default sections;
/// `default`, `all` and `everything` select groups; unknown names select nothing.
pub fn select(requested: &[Bytes]) -> Vec<&'static Section> {
    if requested.is_empty() {
        return SECTIONS.iter().filter(|s| s.default).collect();
    }
    let asked = |s: &Section| {
        requested.iter().any(|r| {
            let is = |word: &str| r.eq_ignore_ascii_case(word.as_bytes());
            is(s.name) || is("all") || is("everything") || (s.default && is("default"))
        })
    };
    SECTIONS.iter().filter(|s| asked(s)).collect()
}

/// The text of `sections`, in Redis's layout.
pub fn render(shared: &Shared, sections: &[&Section]) -> String {
    let mut out = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str("# ");
        out.push_str(section.title);
        out.push_str("\r\n");
        (section.render)(shared, &mut Fields { out: &mut out });
    }
    out
}

fn server(shared: &Shared, f: &mut Fields<'_>) {
    let uptime = shared.started.elapsed().as_secs();
    f.field("redis_version", crate::REDIS_COMPAT_VERSION);
    f.field("sluice_version", crate::VERSION);
    f.field("redis_git_sha1", "00000000");
    f.field("redis_git_dirty", 0);
    f.field("redis_mode", "standalone");
    f.field("os", os_description());
    f.field("arch_bits", usize::BITS);
    f.field(
        "multiplexing_api",
        if cfg!(target_os = "linux") {
            "epoll"
        } else {
            "kqueue"
        },
    );
    f.field("process_id", std::process::id());
    f.field("tcp_port", shared.local_addr.port());
    f.field("server_time_usec", shared.now_ms().saturating_mul(1000));
    f.field("uptime_in_seconds", uptime);
    f.field("uptime_in_days", uptime / 86_400);
    f.field("hz", 10);
    f.field("configured_hz", 10);
    // The threads serving connections, as the runtime has them (`io-threads`).
    f.field(
        "io_threads",
        tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_workers()),
    );
    f.field(
        "executable",
        std::env::current_exe()
            // Linux marks a binary replaced since start-up; the path is still the useful part.
            .map(|p| {
                p.display()
                    .to_string()
                    .trim_end_matches(" (deleted)")
                    .to_owned()
            })
            .unwrap_or_default(),
    );
    // The config file's path is not kept once loaded; Redis prints it empty when there is none.
    f.field("config_file", "");
}

/// `Linux 6.1.0 x86_64`, as `uname -s -r -m` prints it.
fn os_description() -> String {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        other => other,
    };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let arch = std::env::consts::ARCH;
    if release.is_empty() {
        format!("{os} {arch}")
    } else {
        format!("{os} {release} {arch}")
    }
}

fn clients(shared: &Shared, f: &mut Fields<'_>) {
    f.field("connected_clients", shared.clients.len());
    f.field("cluster_connections", 0);
    f.field(
        "maxclients",
        shared.settings.maxclients.load(Ordering::Relaxed),
    );
    f.field("client_recent_max_input_buffer", 0);
    f.field("client_recent_max_output_buffer", 0);
    f.field("blocked_clients", shared.blocking.len());
    f.field("tracking_clients", 0);
    f.field("clients_in_timeout_table", 0);
}

/// Highest `used_memory` reported so far. Process-wide: several servers in one process (tests)
/// share it, which only makes it an upper bound.
static PEAK: AtomicU64 = AtomicU64::new(0);

fn memory(shared: &Shared, f: &mut Fields<'_>) {
    // An estimate: Sluice does not instrument its allocator (see `crate::memory`).
    let used = shared.memory.measure(shared);
    let dataset =
        used.saturating_sub(STARTUP_BYTES + shared.clients.len() as u64 * PER_CLIENT_BYTES);
    let peak = PEAK.fetch_max(used, Ordering::Relaxed).max(used);
    let rss = resident_bytes().unwrap_or(used);
    f.field("used_memory", used);
    f.field("used_memory_human", human_bytes(used));
    f.field("used_memory_rss", rss);
    f.field("used_memory_rss_human", human_bytes(rss));
    f.field("used_memory_peak", peak);
    f.field("used_memory_peak_human", human_bytes(peak));
    f.field(
        "used_memory_peak_perc",
        format_args!("{:.2}%", used as f64 * 100.0 / peak as f64),
    );
    f.field("used_memory_startup", STARTUP_BYTES);
    f.field("used_memory_dataset", dataset);
    let max = shared.settings.maxmemory.load(Ordering::Relaxed);
    f.field("maxmemory", max);
    f.field("maxmemory_human", human_bytes(max));
    f.field("maxmemory_policy", "noeviction");
    f.field(
        "mem_allocator",
        crate::memory::ALLOCATOR_NAME
            .get()
            .copied()
            .unwrap_or("libc"),
    );
}

/// Resident set size from `/proc/self/statm` (Linux), bytes.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // 4 KiB pages: what Linux uses on the platforms Sluice targets; reading the real size
    // would need `sysconf`, i.e. unsafe code.
    pages.checked_mul(4096)
}

/// Redis's `bytesToHuman`: `512B`, `1.50K`, `3.20M`, `1.00G`…
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 50, "P"),
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    for (scale, unit) in UNITS {
        if n >= scale {
            return format!("{:.2}{unit}", n as f64 / scale as f64);
        }
    }
    format!("{n}B")
}

fn stats(shared: &Shared, f: &mut Fields<'_>) {
    let s = &shared.stats;
    let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    f.field("total_connections_received", get(&s.connections_received));
    f.field("total_commands_processed", get(&s.commands_processed));
    f.field("instantaneous_ops_per_sec", 0);
    f.field("total_net_input_bytes", get(&s.net_input_bytes));
    f.field("total_net_output_bytes", get(&s.net_output_bytes));
    f.field("instantaneous_input_kbps", "0.00");
    f.field("instantaneous_output_kbps", "0.00");
    f.field("rejected_connections", get(&s.rejected_connections));
    f.field("expired_keys", get(&shared.keyspace.expired_keys));
    f.field("evicted_keys", 0);
    f.field("keyspace_hits", get(&s.keyspace_hits));
    f.field("keyspace_misses", get(&s.keyspace_misses));
    f.field("pubsub_channels", 0);
    f.field("pubsub_patterns", 0);
    // Redis's fork time; here the background snapshot's capture, which holds commands back.
    f.field("latest_fork_usec", shared.saver.last_capture_us());
    f.field("total_error_replies", get(&s.error_replies));
    f.field(
        "client_query_buffer_limit_disconnections",
        get(&s.query_buffer_limit_disconnections),
    );
    f.field(
        "client_output_buffer_limit_disconnections",
        get(&s.output_buffer_limit_disconnections),
    );
}

fn errorstats(shared: &Shared, f: &mut Fields<'_>) {
    for (name, value) in shared.command_stats.error_lines() {
        f.field(&name, value);
    }
}

fn commandstats(shared: &Shared, f: &mut Fields<'_>) {
    for (name, value) in shared.command_stats.command_lines() {
        f.field(&name, value);
    }
}

fn persistence(shared: &Shared, f: &mut Fields<'_>) {
    let replay = shared.recovery.lock().clone();
    f.field("loading", 0);
    let Some(wal) = shared.journal.wal() else {
        f.field("aof_enabled", 0);
        f.field("rdb_bgsave_in_progress", 0);
        return;
    };
    let stats = wal.stats();
    let save = &stats.save;
    f.field("async_loading", 0);
    f.field("rdb_changes_since_last_save", stats.changes_since_save);
    f.field(
        "rdb_bgsave_in_progress",
        u8::from(shared.saver.in_progress()),
    );
    f.field("rdb_last_save_time", save.last_save_unix_s);
    f.field("rdb_last_bgsave_status", save.last_status.as_str());
    f.field("rdb_last_bgsave_time_sec", save.last_duration_ms / 1000);
    f.field("rdb_saves", save.saves);
    f.field("rdb_last_snapshot_bytes", save.bytes);
    f.field("aof_enabled", 1);
    f.field(
        "aof_rewrite_in_progress",
        u8::from(shared.saver.in_progress()),
    );
    f.field(
        "aof_last_write_status",
        if stats.failure.is_some() { "err" } else { "ok" },
    );
    f.field("aof_current_size", stats.disk_bytes);
    f.field("aof_base_size", save.bytes);
    f.field("aof_buffer_length", stats.pending_bytes);
    f.field("aof_fsync_policy", stats.policy.as_str());
    f.field("aof_segments", stats.segments);
    f.field("aof_log_bytes_since_snapshot", stats.wal_bytes);
    f.field("aof_writes", stats.writes);
    f.field("aof_fsyncs", stats.fsyncs);
    f.field(
        "aof_last_fsync_time_ms",
        stats.last_fsync_unix_ms.unwrap_or(0),
    );
    f.field("aof_appended_lsn", stats.appended_lsn);
    f.field("aof_synced_lsn", stats.synced_lsn);
    let read_ms = u64::try_from(stats.recovery.duration.as_millis()).unwrap_or(u64::MAX);
    f.field("recovery_time_ms", read_ms.saturating_add(replay.millis));
    f.field("recovery_snapshot_keys", replay.snapshot_keys);
    f.field("recovery_log_records", replay.records);
    f.field(
        "recovery_torn_tail",
        u8::from(stats.recovery.torn_tail.is_some()),
    );
}

fn replication(_shared: &Shared, f: &mut Fields<'_>) {
    f.field("role", "master");
    f.field("connected_slaves", 0);
    f.field("master_repl_offset", 0);
}

/// `route_<name>:state=…,source=…,…` per route, as `keyspace` prints `db0:keys=…`.
fn routes(shared: &Shared, f: &mut Fields<'_>) {
    let list = shared.routes.list();
    f.field("routes", list.len());
    for route in &list {
        let figures = super::sluice::RouteFigures::of(shared, route);
        let version = route
            .plugin_info
            .as_ref()
            .map_or("", |i| i.version.as_str());
        let lag = figures
            .lag
            .map_or_else(|| "unknown".to_owned(), |n| n.to_string());
        f.field(
            &format!("route_{}", route.spec.name),
            format_args!(
                "state={},source={},plugin={},version={},events_in={},events_out={},\
                 dropped={},dead_lettered={},skipped={},lag={},ns_per_event={},restarts={},\
                 reloads={}",
                route.state().as_str(),
                route.spec.source,
                route.spec.plugin,
                version,
                figures.events_in,
                figures.events_out,
                figures.dropped,
                figures.dead_lettered,
                figures.skipped,
                lag,
                figures.ns_per_event,
                figures.restarts,
                figures.reloads,
            ),
        );
    }
}

/// Reload counters and each plugin file loaded.
fn plugins(shared: &Shared, f: &mut Fields<'_>) {
    let loader = shared.routes.status.lock().clone();
    f.field(
        "plugins_dir",
        shared
            .config
            .plugins_dir
            .as_deref()
            .map_or_else(String::new, |d| d.display().to_string()),
    );
    f.field("plugin_reloads_ok", loader.reloads_ok);
    f.field("plugin_reloads_failed", loader.reloads_failed);
    f.field(
        "plugin_last_reload_error",
        loader
            .last_error
            .as_deref()
            .unwrap_or("")
            .replace(['\r', '\n'], " "),
    );
    for p in &loader.plugins {
        let wit = match &p.compiled {
            Ok(c) => c.wit_version().to_owned(),
            Err(_) => "error".to_owned(),
        };
        f.field(
            &format!("plugin_{}", p.file),
            format_args!(
                "bytes={},wit_version={wit},loaded_at={}",
                p.bytes, p.loaded_at_ms
            ),
        );
    }
}

/// `policy_<name>:state=…,stream=…,…` per claim policy.
fn policies(shared: &Shared, f: &mut Fields<'_>) {
    use std::sync::atomic::Ordering::Relaxed;
    let list = shared.policies.list();
    f.field("policies", list.len());
    for p in &list {
        let s = &p.stats;
        f.field(
            &format!("policy_{}", p.name),
            format_args!(
                "state={},stream={},group={},plugin={},evaluations={},failed={},reassigned={},\
                 dead_lettered={},acked={},last_pending={},last_evaluation_us={}",
                p.state().as_str(),
                p.spec.stream,
                p.spec.group,
                p.spec.plugin,
                s.evaluations.load(Relaxed),
                s.failed.load(Relaxed),
                s.reassigned.load(Relaxed),
                s.dead_lettered.load(Relaxed),
                s.acked.load(Relaxed),
                s.last_pending.load(Relaxed),
                s.last_duration_us.load(Relaxed),
            ),
        );
    }
}

fn keyspace(shared: &Shared, f: &mut Fields<'_>) {
    for (i, db) in shared.keyspace.dbs().enumerate() {
        if !db.is_empty() {
            f.field(
                &format!("db{i}"),
                format_args!("keys={},expires={},avg_ttl=0", db.len(), db.expires_len()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::shared::SystemClock;

    fn shared() -> Shared {
        let addr = "127.0.0.1:6399".parse().expect("address");
        Shared::new(Config::default(), Arc::new(SystemClock), addr)
    }

    fn names(requested: &[&str]) -> Vec<&'static str> {
        let requested: Vec<Bytes> = requested
            .iter()
            .map(|r| Bytes::copy_from_slice(r.as_bytes()))
            .collect();
        select(&requested).iter().map(|s| s.name).collect()
    }

    #[test]
    fn sections_print_in_redis_order_whatever_the_request_order() {
        assert_eq!(names(&["KEYSPACE", "Server"]), ["server", "keyspace"]);
        assert_eq!(names(&["nosuch"]), Vec::<&str>::new());
        assert_eq!(names(&[]), names(&["default"]));
        assert_eq!(names(&["everything"]).len(), SECTIONS.len());
    }

    #[test]
    fn layout_matches_redis() {
        let shared = shared();
        let text = render(&shared, &select(&[Bytes::from_static(b"clients")]));
        assert!(text.starts_with("# Clients\r\nconnected_clients:0\r\n"));
        assert!(text.ends_with("clients_in_timeout_table:0\r\n"));

        let text = render(
            &shared,
            &select(&[
                Bytes::from_static(b"server"),
                Bytes::from_static(b"keyspace"),
            ]),
        );
        assert!(text.contains("redis_version:7.2.0\r\n"));
        assert!(text.contains("tcp_port:6399\r\n"));
        assert!(text.ends_with("\r\n\r\n# Keyspace\r\n"));
        assert!(!text.contains("\n\n"));
    }

    #[test]
    fn bytes_read_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(1316328), "1.26M");
        assert_eq!(human_bytes(3 << 30), "3.00G");
    }
}
