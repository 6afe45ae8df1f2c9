//! `INFO`'s small Redis sections: `server`, `clients`, `replication`, `cpu`, `modules`,
//! `cluster` and `keyspace`.
//!
//! Client tooling reads these at start (`cluster_enabled` decides how redis-cli and cluster
//! clients connect; monitoring agents graph `used_cpu_*`), so every field Redis 7.2 prints is
//! here, with the value that is true of Sluice: no replicas, no modules, no cluster.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use super::Fields;
use crate::shared::Shared;

pub(super) fn server(shared: &Shared, f: &mut Fields<'_>) {
    let uptime = shared.started.elapsed().as_secs();
    f.field("redis_version", crate::REDIS_COMPAT_VERSION);
    f.field("sluice_version", crate::VERSION);
    f.field("redis_git_sha1", "00000000");
    f.field("redis_git_dirty", 0);
    f.field("redis_build_id", "0");
    f.field("redis_mode", "standalone");
    f.field("os", os_description());
    f.field("arch_bits", usize::BITS);
    f.field("monotonic_clock", "POSIX clock_gettime");
    f.field(
        "multiplexing_api",
        if cfg!(target_os = "linux") {
            "epoll"
        } else {
            "kqueue"
        },
    );
    f.field("atomicvar_api", "c11-builtin");
    f.field("gcc_version", "0.0.0");
    f.field("process_id", std::process::id());
    f.field("process_supervised", "no");
    f.field("run_id", &shared.run_id);
    f.field("tcp_port", shared.local_addr.port());
    let now_ms = shared.now_ms();
    f.field("server_time_usec", now_ms.saturating_mul(1000));
    f.field("uptime_in_seconds", uptime);
    f.field("uptime_in_days", uptime / 86_400);
    f.field("hz", 10);
    f.field("configured_hz", 10);
    // Redis's LRU clock: seconds, modulo 2^24.
    f.field("lru_clock", (now_ms / 1000) & ((1 << 24) - 1));
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
    // Redis's I/O threads only read and write sockets; Sluice's threads run commands too.
    f.field("io_threads_active", 0);
    // The threads serving connections, as the runtime has them (`io-threads`).
    f.field(
        "io_threads",
        tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_workers()),
    );
    let bind = &shared.config.bind;
    f.field(
        "listener0",
        format_args!("name=tcp,bind={bind},port={}", shared.local_addr.port()),
    );
    if let Some(tls) = shared.tls_addr.get() {
        f.field(
            "listener1",
            format_args!("name=tls,bind={bind},port={}", tls.port()),
        );
    }
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

pub(super) fn clients(shared: &Shared, f: &mut Fields<'_>) {
    let blocked = shared.broker.blocking.figures();
    f.field("connected_clients", shared.clients.len());
    f.field("cluster_connections", 0);
    f.field(
        "maxclients",
        shared.settings.maxclients.load(Ordering::Relaxed),
    );
    f.field("client_recent_max_input_buffer", 0);
    f.field("client_recent_max_output_buffer", 0);
    f.field("blocked_clients", shared.broker.blocking.len());
    f.field("tracking_clients", 0);
    f.field("pubsub_clients", 0);
    f.field("watching_clients", 0);
    f.field("clients_in_timeout_table", blocked.with_timeout);
    f.field("total_watched_keys", 0);
    f.field("total_blocking_keys", blocked.keys);
    f.field(
        "total_blocking_keys_on_nokey",
        blocked.keys_ending_on_missing,
    );
}

pub(super) fn replication(shared: &Shared, f: &mut Fields<'_>) {
    f.field("role", "master");
    f.field("connected_slaves", 0);
    f.field("master_failover_state", "no-failover");
    f.field("master_replid", &shared.repl_id);
    f.field("master_replid2", "0".repeat(40));
    f.field("master_repl_offset", 0);
    f.field("second_repl_offset", -1);
    f.field("repl_backlog_active", 0);
    f.field("repl_backlog_size", 0);
    f.field("repl_backlog_first_byte_offset", 0);
    f.field("repl_backlog_histlen", 0);
}

/// CPU seconds used, from `/proc/self/stat` (the process and its reaped children) and the
/// main thread's `/proc/self/task/<pid>/stat`, in Redis's six-decimal format.
pub(super) fn cpu(_shared: &Shared, f: &mut Fields<'_>) {
    let process = cpu_ticks("/proc/self/stat").unwrap_or_default();
    let main =
        cpu_ticks(&format!("/proc/self/task/{}/stat", std::process::id())).unwrap_or_default();
    let secs = |ticks: u64| format!("{:.6}", ticks as f64 / TICKS_PER_SECOND);
    f.field("used_cpu_sys", secs(process.sys));
    f.field("used_cpu_user", secs(process.user));
    f.field("used_cpu_sys_children", secs(process.children_sys));
    f.field("used_cpu_user_children", secs(process.children_user));
    f.field("used_cpu_sys_main_thread", secs(main.sys));
    f.field("used_cpu_user_main_thread", secs(main.user));
}

/// Linux's `USER_HZ`: the unit of `/proc`'s CPU times, 100 on every architecture it exports.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time in clock ticks.
#[derive(Debug, Default, Clone, Copy)]
struct CpuTicks {
    user: u64,
    sys: u64,
    children_user: u64,
    children_sys: u64,
}

/// Reads fields 14–17 of a `/proc/…/stat` file (`utime stime cutime cstime`).
fn cpu_ticks(path: &str) -> Option<CpuTicks> {
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let mut next = || fields.next()?.parse::<u64>().ok();
    Some(CpuTicks {
        user: next()?,
        sys: next()?,
        children_user: next()?,
        children_sys: next()?,
    })
}

pub(super) fn modules(_shared: &Shared, _f: &mut Fields<'_>) {}

pub(super) fn cluster(_shared: &Shared, f: &mut Fields<'_>) {
    f.field("cluster_enabled", 0);
}

pub(super) fn keyspace(shared: &Shared, f: &mut Fields<'_>) {
    for (i, db) in shared.broker.keyspace.dbs().enumerate() {
        if !db.is_empty() {
            f.field(
                &format!("db{i}"),
                format_args!("keys={},expires={},avg_ttl=0", db.len(), db.expires_len()),
            );
        }
    }
}

/// A 40-character hex ID, different at every start (Redis's `run_id`).
pub fn random_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static SEED: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let seed = SEED.get_or_init(Default::default);
    let mut id = String::with_capacity(40);
    let mut counter = 0u64;
    while id.len() < 40 {
        let mut h = seed.build_hasher();
        h.write_u64(counter);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        id.push_str(&format!("{:016x}", h.finish()));
        counter += 1;
    }
    id.truncate(40);
    id
}
