//! `INFO memory`: Redis's fields from Sluice's used-memory estimate (see `sluice_broker::memory`) and
//! the process's resident size.
//!
//! Sluice has no scripting, replication or cluster links: their fields are structurally 0.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Fields;
use crate::shared::Shared;
use sluice_broker::memory::{PER_CLIENT_BYTES, STARTUP_BYTES};

/// Highest `used_memory` reported so far. Process-wide: several servers in one process (tests)
/// share it, which only makes it an upper bound.
static PEAK: AtomicU64 = AtomicU64::new(0);

pub(super) fn memory(shared: &Shared, f: &mut Fields<'_>) {
    // An estimate: Sluice does not instrument its allocator (see `sluice_broker::memory`).
    let used = shared
        .broker
        .memory
        .measure(&shared.broker, shared.clients.len());
    let clients = shared.clients.len() as u64 * PER_CLIENT_BYTES;
    let overhead = STARTUP_BYTES + clients;
    let dataset = used.saturating_sub(overhead);
    let peak = PEAK.fetch_max(used, Ordering::Relaxed).max(used);
    let rss = resident_bytes().unwrap_or(used);
    let system = system_memory_bytes().unwrap_or(0);
    f.field("used_memory", used);
    f.field("used_memory_human", human_bytes(used));
    f.field("used_memory_rss", rss);
    f.field("used_memory_rss_human", human_bytes(rss));
    f.field("used_memory_peak", peak);
    f.field("used_memory_peak_human", human_bytes(peak));
    f.field("used_memory_peak_perc", percent(used, peak));
    f.field("used_memory_overhead", overhead);
    f.field("used_memory_startup", STARTUP_BYTES);
    f.field("used_memory_dataset", dataset);
    f.field(
        "used_memory_dataset_perc",
        percent(dataset, used.saturating_sub(STARTUP_BYTES)),
    );
    f.field("total_system_memory", system);
    f.field("total_system_memory_human", human_bytes(system));
    for (field, value) in [
        ("used_memory_lua", "0"),
        ("used_memory_vm_eval", "0"),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", "0"),
        ("number_of_cached_scripts", "0"),
        ("number_of_functions", "0"),
        ("number_of_libraries", "0"),
        ("used_memory_vm_functions", "0"),
        ("used_memory_vm_total", "0"),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", "0"),
        ("used_memory_scripts", "0"),
        ("used_memory_scripts_human", "0B"),
    ] {
        f.field(field, value);
    }
    let max = shared.broker.settings.maxmemory.load(Ordering::Relaxed);
    f.field("maxmemory", max);
    f.field("maxmemory_human", human_bytes(max));
    let policy = shared.broker.keyspace.eviction.policy();
    f.field("maxmemory_policy", policy.name());
    f.field(
        "mem_fragmentation_ratio",
        format_args!("{:.2}", rss as f64 / used.max(1) as f64),
    );
    f.field("mem_fragmentation_bytes", rss as i64 - used as i64);
    f.field("mem_not_counted_for_evict", 0);
    f.field("mem_replication_backlog", 0);
    f.field("mem_total_replication_buffers", 0);
    f.field("mem_clients_slaves", 0);
    f.field("mem_clients_normal", clients);
    f.field("mem_cluster_links", 0);
    let aof_buffer = shared
        .broker
        .journal
        .wal()
        .map_or(0, |wal| wal.stats().pending_bytes);
    f.field("mem_aof_buffer", aof_buffer);
    f.field(
        "mem_allocator",
        sluice_broker::memory::ALLOCATOR_NAME
            .get()
            .copied()
            .unwrap_or("libc"),
    );
    f.field("active_defrag_running", 0);
    f.field("lazyfree_pending_objects", 0);
    f.field("lazyfreed_objects", 0);
}

/// `part` as a percentage of `whole`, as Redis prints it (`89.09%`).
fn percent(part: u64, whole: u64) -> String {
    format!("{:.2}%", part as f64 * 100.0 / whole.max(1) as f64)
}

/// Resident set size from `/proc/self/statm` (Linux), bytes.
pub(crate) fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // 4 KiB pages: what Linux uses on the platforms Sluice targets; reading the real size
    // would need `sysconf`, i.e. unsafe code.
    pages.checked_mul(4096)
}

/// The machine's memory from `/proc/meminfo` (`MemTotal`), bytes.
fn system_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
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
