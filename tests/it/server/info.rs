//! `INFO`'s sections as client tooling and monitoring agents read them: Redis 7.2's headings
//! in Redis's order, Redis's field names in each (the lists are the fields Valkey 8.1, which
//! reports Redis 7.2, prints that Sluice prints too), `cluster_enabled:0`, CPU times and the
//! latency percentiles per command.

use anyhow::{Context, Result, ensure};
use sluice_tests::TestServer;

use crate::server::connection::{bulk_text, info_fields};

/// The headings of an `INFO` reply, in order.
fn headings(text: &str) -> Vec<&str> {
    text.lines().filter_map(|l| l.strip_prefix("# ")).collect()
}

/// Redis 7.2's fields, per section, that every Sluice reply has.
const REDIS_FIELDS: &[(&str, &str)] = &[
    (
        "server",
        "arch_bits config_file configured_hz executable gcc_version hz io_threads_active \
         listener0 lru_clock monotonic_clock multiplexing_api os process_id process_supervised \
         redis_build_id redis_git_dirty redis_git_sha1 redis_version run_id server_time_usec \
         tcp_port uptime_in_days uptime_in_seconds",
    ),
    (
        "clients",
        "blocked_clients client_recent_max_input_buffer client_recent_max_output_buffer \
         clients_in_timeout_table cluster_connections connected_clients maxclients \
         pubsub_clients total_blocking_keys total_blocking_keys_on_nokey total_watched_keys \
         tracking_clients watching_clients",
    ),
    (
        "memory",
        "active_defrag_running lazyfree_pending_objects lazyfreed_objects maxmemory \
         maxmemory_human maxmemory_policy mem_allocator mem_aof_buffer mem_clients_normal \
         mem_clients_slaves mem_cluster_links mem_fragmentation_bytes mem_fragmentation_ratio \
         mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers \
         number_of_cached_scripts number_of_functions number_of_libraries total_system_memory \
         total_system_memory_human used_memory used_memory_dataset used_memory_dataset_perc \
         used_memory_functions used_memory_human used_memory_lua used_memory_lua_human \
         used_memory_overhead used_memory_peak used_memory_peak_human used_memory_peak_perc \
         used_memory_rss used_memory_rss_human used_memory_scripts used_memory_scripts_eval \
         used_memory_scripts_human used_memory_startup used_memory_vm_eval \
         used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human",
    ),
    (
        "persistence",
        "aof_current_rewrite_time_sec aof_enabled aof_last_bgrewrite_status aof_last_cow_size \
         aof_last_rewrite_time_sec aof_last_write_status aof_rewrite_in_progress \
         aof_rewrite_scheduled aof_rewrites aof_rewrites_consecutive_failures async_loading \
         current_cow_peak current_cow_size current_cow_size_age current_fork_perc \
         current_save_keys_processed current_save_keys_total loading module_fork_in_progress \
         module_fork_last_cow_size rdb_bgsave_in_progress rdb_changes_since_last_save \
         rdb_current_bgsave_time_sec rdb_last_bgsave_status rdb_last_bgsave_time_sec \
         rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded \
         rdb_last_save_time rdb_saves",
    ),
    (
        "stats",
        "acl_access_denied_auth acl_access_denied_channel acl_access_denied_cmd \
         acl_access_denied_key active_defrag_hits active_defrag_key_hits \
         active_defrag_key_misses active_defrag_misses \
         client_output_buffer_limit_disconnections dump_payload_sanitizations \
         expire_cycle_cpu_milliseconds io_threaded_reads_processed \
         io_threaded_writes_processed reply_buffer_expands reply_buffer_shrinks total_forks \
         client_query_buffer_limit_disconnections current_active_defrag_time \
         current_eviction_exceeded_time evicted_clients evicted_keys expired_keys \
         expired_stale_perc expired_time_cap_reached_count instantaneous_input_kbps \
         instantaneous_input_repl_kbps instantaneous_ops_per_sec instantaneous_output_kbps \
         instantaneous_output_repl_kbps keyspace_hits keyspace_misses latest_fork_usec \
         migrate_cached_sockets pubsub_channels pubsub_patterns pubsubshard_channels \
         rejected_connections slave_expires_tracked_keys sync_full sync_partial_err \
         sync_partial_ok total_active_defrag_time total_commands_processed \
         total_connections_received total_error_replies total_eviction_exceeded_time \
         total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes \
         total_net_repl_output_bytes total_reads_processed total_writes_processed \
         tracking_total_items tracking_total_keys tracking_total_prefixes \
         unexpected_error_replies",
    ),
    (
        "replication",
        "connected_slaves master_failover_state master_repl_offset master_replid master_replid2 \
         repl_backlog_active repl_backlog_first_byte_offset repl_backlog_histlen \
         repl_backlog_size role second_repl_offset",
    ),
    (
        "cpu",
        "used_cpu_sys used_cpu_sys_children used_cpu_sys_main_thread used_cpu_user \
         used_cpu_user_children used_cpu_user_main_thread",
    ),
    ("cluster", "cluster_enabled"),
];

#[test]
fn info_has_redis_sections_in_redis_order() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let default = raw.cmd(&["INFO"])?;
    assert_eq!(
        headings(bulk_text(&default)?),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace",
            "Routes",
            "Plugins",
            "Policies"
        ]
    );
    for everything in ["all", "everything"] {
        let text = raw.cmd(&["INFO", everything])?;
        assert_eq!(
            headings(bulk_text(&text)?),
            [
                "Server",
                "Clients",
                "Memory",
                "Persistence",
                "Stats",
                "Replication",
                "CPU",
                "Modules",
                "Commandstats",
                "Errorstats",
                "Latencystats",
                "Cluster",
                "Keyspace",
                "Routes",
                "Plugins",
                "Policies"
            ],
            "INFO {everything}"
        );
    }
    assert_eq!(
        bulk_text(&raw.cmd(&["INFO", "cluster"])?)?,
        "# Cluster\r\ncluster_enabled:0\r\n"
    );
    assert_eq!(bulk_text(&raw.cmd(&["INFO", "modules"])?)?, "# Modules\r\n");
    for (section, names) in REDIS_FIELDS {
        let fields = info_fields(bulk_text(&raw.cmd(&["INFO", section])?)?);
        for name in names.split_whitespace() {
            ensure!(fields.contains_key(name), "INFO {section} lacks {name}");
        }
    }
    Ok(())
}

#[test]
fn info_values_are_in_redis_formats() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-1", "f", "v"])?;
    let all = raw.cmd(&["INFO", "everything"])?;
    let fields = info_fields(bulk_text(&all)?);
    // The Redis version whose semantics Sluice implements: no more.
    assert_eq!(fields["redis_version"], "8.10.0");
    assert_eq!(fields["redis_mode"], "standalone");
    let run_id = &fields["run_id"];
    ensure!(
        run_id.len() == 40 && run_id.bytes().all(|c| c.is_ascii_hexdigit()),
        "run_id {run_id}"
    );
    let again = info_fields(bulk_text(&raw.cmd(&["INFO", "server"])?)?);
    assert_eq!(&again["run_id"], run_id, "run_id changes only at a restart");
    assert_eq!(
        fields["listener0"],
        format!("name=tcp,bind=127.0.0.1,port={}", server.addr.port())
    );
    assert_eq!(fields["role"], "master");
    assert_eq!(fields["master_replid2"], "0".repeat(40));
    for cpu in [
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_children",
        "used_cpu_sys_main_thread",
        "used_cpu_user_main_thread",
    ] {
        let value = &fields[cpu];
        let (_, decimals) = value.split_once('.').context(cpu)?;
        ensure!(decimals.len() == 6, "{cpu}:{value}");
        value
            .parse::<f64>()
            .with_context(|| format!("{cpu}:{value}"))?;
    }
    // Each command that ran has its percentiles, in µs with three decimals.
    let xadd = &fields["latency_percentiles_usec_xadd"];
    let percentiles: Vec<(&str, &str)> = xadd
        .split(',')
        .map(|p| p.split_once('=').context("name=value"))
        .collect::<Result<_>>()?;
    assert_eq!(
        percentiles.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["p50", "p99", "p99.9"]
    );
    for (name, value) in percentiles {
        let (_, decimals) = value.split_once('.').with_context(|| name.to_owned())?;
        ensure!(decimals.len() == 3 && value.parse::<f64>()? > 0.0, "{xadd}");
    }
    Ok(())
}

/// `acl_access_denied_*` count refusals by kind, as Redis 7.2 counts them.
#[test]
fn info_counts_acl_refusals_by_kind() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["ACL", "SETUSER", "u", "on", ">pw", "+xlen", "~a*"])?;
    let mut user = server.raw()?;
    assert_eq!(
        user.cmd(&["AUTH", "u", "wrong"])?,
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(user.cmd(&["AUTH", "u", "pw"])?, "+OK\r\n");
    assert_eq!(user.cmd(&["XLEN", "a1"])?, ":0\r\n");
    assert_eq!(
        user.cmd(&["XLEN", "b"])?,
        "-NOPERM No permissions to access a key\r\n"
    );
    assert_eq!(
        user.cmd(&["XADD", "a1", "*", "f", "v"])?,
        "-NOPERM User u has no permissions to run the 'xadd' command\r\n"
    );
    assert_eq!(
        user.cmd(&["XDEL", "a1", "1-1"])?,
        "-NOPERM User u has no permissions to run the 'xdel' command\r\n"
    );
    let stats = info_fields(bulk_text(&admin.cmd(&["INFO", "stats"])?)?);
    assert_eq!(stats["acl_access_denied_auth"], "1");
    assert_eq!(stats["acl_access_denied_key"], "1");
    assert_eq!(stats["acl_access_denied_cmd"], "2");
    assert_eq!(stats["acl_access_denied_channel"], "0");
    Ok(())
}
