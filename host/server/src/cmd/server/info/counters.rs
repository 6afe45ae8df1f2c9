//! `INFO stats`, `commandstats`, `errorstats` and `latencystats`.
//!
//! Sluice has no replication, pub/sub, defragmentation, client tracking or eviction (its
//! only policy is `noeviction`): those of Redis's fields are structurally 0.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Fields;
use crate::shared::{Shared, Stats};

pub(super) fn stats(shared: &Shared, f: &mut Fields<'_>) {
    traffic(&shared.stats, f);
    keyspace(shared, f);
    other_subsystems(shared, f);
    requests(&shared.stats, f);
}

/// A counter's value now.
fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Connections, commands and bytes in and out; replication's are structurally 0.
fn traffic(s: &Stats, f: &mut Fields<'_>) {
    f.field("total_connections_received", get(&s.connections_received));
    f.field("total_commands_processed", get(&s.commands_processed));
    f.field("instantaneous_ops_per_sec", 0);
    f.field("total_net_input_bytes", get(&s.net_input_bytes));
    f.field("total_net_output_bytes", get(&s.net_output_bytes));
    f.field("total_net_repl_input_bytes", 0);
    f.field("total_net_repl_output_bytes", 0);
    for field in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        f.field(field, "0.00");
    }
    f.field("rejected_connections", get(&s.rejected_connections));
    f.field("sync_full", 0);
    f.field("sync_partial_ok", 0);
    f.field("sync_partial_err", 0);
}

/// Expiry, eviction (never) and lookups.
fn keyspace(shared: &Shared, f: &mut Fields<'_>) {
    let s = &shared.stats;
    f.field("expired_keys", get(&shared.broker.keyspace.expired_keys));
    f.field("expired_stale_perc", "0.00");
    f.field("expired_time_cap_reached_count", 0);
    f.field(
        "expire_cycle_cpu_milliseconds",
        get(&shared.broker.expire_cycle_us) / 1000,
    );
    f.field("evicted_keys", get(&shared.broker.keyspace.evicted_keys));
    f.field("evicted_clients", 0);
    f.field("total_eviction_exceeded_time", 0);
    f.field("current_eviction_exceeded_time", 0);
    f.field("keyspace_hits", get(&s.keyspace_hits));
    f.field("keyspace_misses", get(&s.keyspace_misses));
}

/// Pub/sub, forks, migration, defragmentation and client tracking, which Sluice does not
/// have: all 0 but the snapshot's capture time, its counterpart of Redis's fork time.
fn other_subsystems(shared: &Shared, f: &mut Fields<'_>) {
    f.field("pubsub_channels", 0);
    f.field("pubsub_patterns", 0);
    f.field("pubsubshard_channels", 0);
    // Redis's fork time; here the background snapshot's capture, which holds commands back.
    f.field("latest_fork_usec", shared.broker.saver.last_capture_us());
    // Snapshots are taken without forking.
    f.field("total_forks", 0);
    f.field("migrate_cached_sockets", 0);
    f.field("slave_expires_tracked_keys", 0);
    for field in [
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        f.field(field, 0);
    }
}

/// Error replies, reads and writes, clients closed at their buffer limits, ACL refusals.
fn requests(s: &Stats, f: &mut Fields<'_>) {
    f.field("total_error_replies", get(&s.error_replies));
    // No DUMP payload is sanitized yet.
    f.field("dump_payload_sanitizations", 0);
    f.field("total_reads_processed", get(&s.reads_processed));
    f.field("total_writes_processed", get(&s.writes_processed));
    // Redis's I/O threads only move bytes for the main thread; Sluice's threads run whole
    // connections, counted above.
    f.field("io_threaded_reads_processed", 0);
    f.field("io_threaded_writes_processed", 0);
    f.field(
        "client_query_buffer_limit_disconnections",
        get(&s.query_buffer_limit_disconnections),
    );
    f.field(
        "client_output_buffer_limit_disconnections",
        get(&s.output_buffer_limit_disconnections),
    );
    // Redis resizes a per-client reply buffer; Sluice's output buffers are plain vectors.
    f.field("reply_buffer_shrinks", 0);
    f.field("reply_buffer_expands", 0);
    f.field("acl_access_denied_auth", get(&s.acl_denied_auth));
    f.field("acl_access_denied_cmd", get(&s.acl_denied_cmd));
    f.field("acl_access_denied_key", get(&s.acl_denied_key));
    // No pub/sub, so no channel is ever refused.
    f.field("acl_access_denied_channel", 0);
}

pub(super) fn errorstats(shared: &Shared, f: &mut Fields<'_>) {
    for (name, value) in shared.command_stats.error_lines() {
        f.field(&name, value);
    }
}

pub(super) fn commandstats(shared: &Shared, f: &mut Fields<'_>) {
    for (name, value) in shared.command_stats.command_lines() {
        f.field(&name, value);
    }
}

pub(super) fn latencystats(shared: &Shared, f: &mut Fields<'_>) {
    for (name, value) in shared.command_stats.latency_lines() {
        f.field(&name, value);
    }
}
