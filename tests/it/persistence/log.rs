//! Durability end to end: restarts keep everything, a SIGKILL loses no acknowledged write,
//! and damaged data folders behave as documented.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use redis::Value;
use sluice_tests::{ChildServer, Config, ManualClock, TestServer, tempdir};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");
const T0: u64 = 1_700_000_000_000;

/// What must survive a restart, as raw replies.
fn observe(server: &TestServer) -> Result<Vec<String>> {
    let mut raw = server.raw()?;
    let mut out = Vec::new();
    for cmd in [
        &["XRANGE", "s", "-", "+"][..],
        &["XRANGE", "t", "-", "+"],
        &["XINFO", "GROUPS", "s"],
        &["XPENDING", "s", "g"],
        &["XPENDING", "s", "g", "-", "+", "100"],
        &["XPENDING", "s", "g2", "-", "+", "100"],
        &["PTTL", "t"],
        &["DBSIZE"],
        &["SELECT", "3"],
        &["XRANGE", "other-db", "-", "+"],
    ] {
        out.push(raw.cmd(cmd)?);
    }
    // Consumers: names and pending counts (their seen-times are not logged, as in Redis).
    let mut client = server.client()?;
    let consumers: Value = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg("s")
        .arg("g")
        .query(&mut client)?;
    out.push(format!("{:?}", consumer_pending(&consumers)));
    Ok(out)
}

fn consumer_pending(value: &Value) -> Vec<(String, i64)> {
    let Value::Array(consumers) = value else {
        return Vec::new();
    };
    consumers
        .iter()
        .filter_map(|c| {
            let Value::Array(fields) = c else { return None };
            let mut name = None;
            let mut pending = None;
            for pair in fields.chunks(2) {
                match pair {
                    [Value::BulkString(k), Value::BulkString(v)] if k == b"name" => {
                        name = Some(String::from_utf8_lossy(v).into_owned())
                    }
                    [Value::BulkString(k), Value::Int(n)] if k == b"pending" => pending = Some(*n),
                    _ => {}
                }
            }
            Some((name?, pending?))
        })
        .collect()
}

/// Streams, trims, deletions, expiry, another database, groups with deliveries, claims and
/// acks: one of every kind of change.
fn populate(server: &TestServer, clock: &ManualClock) -> Result<()> {
    let mut raw = server.raw()?;
    for i in 0..20 {
        clock.advance(3);
        raw.cmd(&["XADD", "s", "*", "n", &i.to_string(), "payload", "x"])?;
    }
    raw.cmd(&["XADD", "s", "MAXLEN", "~", "1000", "*", "n", "20"])?;
    raw.cmd(&["XDEL", "s", &format!("{}-0", T0 + 6)])?;
    for i in 0..10 {
        raw.cmd(&["XADD", "t", &format!("{}-1", i + 1), "k", "v"])?;
    }
    raw.cmd(&["XTRIM", "t", "MAXLEN", "4"])?;
    raw.cmd(&["PEXPIRE", "t", "500000"])?;
    raw.cmd(&["XSETID", "t", "900-0", "ENTRIESADDED", "99"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "21"])?;
    raw.read_new("s", "g", "alice", 5)?;
    clock.advance(100);
    raw.read_new("s", "g", "bob", 3)?;
    clock.advance(100);
    raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"])?; // history: counts +1
    raw.cmd(&["XACK", "s", "g", &format!("{}-0", T0 + 3)])?;
    raw.cmd(&["XCLAIM", "s", "g", "carol", "50", &format!("{}-0", T0 + 9)])?;
    raw.cmd(&["XAUTOCLAIM", "s", "g", "dave", "150", "0", "COUNT", "2"])?;
    raw.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "erin"])?;
    raw.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "frank",
        "NOACK",
        "COUNT",
        "2",
        "STREAMS",
        "s",
        ">",
    ])?;
    raw.cmd(&["XADD", "gone", "1-1", "a", "b"])?;
    raw.cmd(&["DEL", "gone"])?;
    raw.cmd(&["SELECT", "3"])?;
    raw.cmd(&["XADD", "other-db", "5-5", "in", "db3"])?;
    Ok(())
}

#[test]
fn restart_keeps_streams_groups_pending_lists_and_delivery_counts() -> Result<()> {
    let dir = tempdir()?;
    let clock = ManualClock::new(T0);
    let before = {
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        populate(&server, &clock)?;
        observe(&server)?
    };
    // Sanity: the state is the rich one populate() made.
    assert!(before[3].starts_with("*4\r\n:"), "{}", before[3]);
    assert!(
        before[10].contains("alice") && before[10].contains("erin"),
        "{}",
        before[10]
    );
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    assert_eq!(observe(&server)?, before);
    // The IDs carry on after the last one, and the groups keep delivering where they were.
    let mut raw = server.raw()?;
    clock.advance(1000);
    assert_eq!(
        raw.cmd(&["XADD", "s", "*", "after", "restart"])?,
        format!("${}\r\n{}-0\r\n", 15, T0 + 1260)
    );
    let next = raw.cmd(&["XREADGROUP", "GROUP", "g2", "z", "STREAMS", "s", ">"])?;
    assert!(next.contains("restart"), "{next}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn snapshot_then_log_restores_the_same_state() -> Result<()> {
    let dir = tempdir()?;
    let clock = ManualClock::new(T0);
    let before = {
        let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
        let mut raw = server.raw()?;
        raw.cmd(&["XADD", "s", "1-1", "early", "1"])?;
        raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
        raw.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"])?;
        assert_eq!(raw.cmd(&["SAVE"])?, "+OK\r\n");
        populate(&server, &clock)?;
        assert_eq!(raw.cmd(&["BGSAVE"])?, "+Background saving started\r\n");
        wait_for_info(&mut raw, "rdb_bgsave_in_progress:0")?;
        raw.cmd(&["XADD", "s", "*", "late", "1"])?;
        observe(&server)?
    };
    let files: BTreeSet<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".snap")).count(),
        1,
        "{files:?}"
    );
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    assert_eq!(observe(&server)?, before);
    let info = server.raw()?.cmd(&["INFO", "persistence"])?;
    assert!(info.contains("recovery_snapshot_keys:3\r\n"), "{info}");
    assert!(info.contains("recovery_log_records:1\r\n"), "{info}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn shutdown_save_stops_the_server_and_keeps_the_data() -> Result<()> {
    let dir = tempdir()?;
    let clock = ManualClock::new(T0);
    let server = TestServer::start_in(&dir, Config::default(), clock.clone())?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    raw.send_cmd(&[b"SHUTDOWN", b"SAVE"])?;
    // Redis closes the connection without a reply.
    assert_eq!(raw.read_to_close()?, "");
    drop(server);
    assert!(
        std::fs::read_dir(&dir)?
            .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".snap")))
    );
    let server = TestServer::start_in(&dir, Config::default(), clock)?;
    assert_eq!(server.raw()?.cmd(&["XLEN", "s"])?, ":1\r\n");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn wait_for_info(raw: &mut sluice_tests::RawClient, needle: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if raw.cmd(&["INFO", "persistence"])?.contains(needle) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "INFO never showed {needle}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wal_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    Ok(files)
}

/// Ten entries `1-0` … `10-0` written and the server stopped cleanly.
fn ten_entries(dir: &Path) -> Result<()> {
    let server = TestServer::start_in(dir, Config::default(), ManualClock::new(T0))?;
    let mut raw = server.raw()?;
    for i in 1..=10 {
        raw.cmd(&["XADD", "s", &format!("{i}-0"), "field", "value"])?;
    }
    Ok(())
}

#[test]
fn a_torn_tail_is_truncated_and_reported() -> Result<()> {
    let dir = tempdir()?;
    ten_entries(&dir)?;
    let wal = wal_files(&dir)?.pop().context("a log segment")?;
    let len = std::fs::metadata(&wal)?.len();
    // Cut the last record in half, as a crash mid-write would.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)?
        .set_len(len - 10)?;
    let server = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":9\r\n");
    assert!(
        raw.cmd(&["INFO", "persistence"])?
            .contains("recovery_torn_tail:1\r\n")
    );
    // The log is appendable again, and the next restart is clean.
    raw.cmd(&["XADD", "s", "11-0", "field", "value"])?;
    drop(server);
    let server = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":10\r\n");
    assert!(
        raw.cmd(&["INFO", "persistence"])?
            .contains("recovery_torn_tail:0\r\n")
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn a_flipped_byte_in_the_middle_is_a_startup_error_naming_file_and_offset() -> Result<()> {
    let dir = tempdir()?;
    ten_entries(&dir)?;
    let wal = wal_files(&dir)?.pop().context("a log segment")?;
    let mut bytes = std::fs::read(&wal)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&wal, &bytes)?;
    let err = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))
        .expect_err("must refuse");
    let text = format!("{err:#}");
    let name = wal
        .file_name()
        .context("name")?
        .to_string_lossy()
        .into_owned();
    assert!(text.contains(&name), "{text}");
    assert!(text.contains("offset"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn an_empty_folder_starts_fresh_and_a_newer_format_is_refused() -> Result<()> {
    let dir = tempdir()?;
    let server = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))?;
    assert_eq!(server.raw()?.cmd(&["DBSIZE"])?, ":0\r\n");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = tempdir()?;
    let mut header = b"SLUICWAL".to_vec();
    header.extend_from_slice(&99u32.to_le_bytes());
    header.extend_from_slice(&1u64.to_le_bytes());
    std::fs::write(dir.join("wal-00000000000000000001.log"), header)?;
    let err = TestServer::start_in(&dir, Config::default(), ManualClock::new(T0))
        .expect_err("must refuse");
    let text = format!("{err:#}");
    assert!(text.contains("newer Sluice (format v99)"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Waits up to `limit` for `INFO persistence`'s `field` to read `want`.
fn await_info(
    raw: &mut sluice_tests::RawClient,
    field: &str,
    want: &str,
    limit: Duration,
) -> Result<bool> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if raw.info_field("persistence", field)? == want {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(false)
}

/// Logs `n` entries of about 100 bytes into stream `key`.
fn log_entries(raw: &mut sluice_tests::RawClient, key: &str, n: usize) -> Result<()> {
    let value = "v".repeat(80);
    for _ in 0..n {
        raw.cmd(&["XADD", key, "*", "f", &value])?;
    }
    Ok(())
}

/// Automatic snapshots wait for the log to pass `auto-snapshot-min-size` and to have grown by
/// `auto-snapshot-percentage` of the last snapshot's size, as Redis's AOF rewrite does.
#[test]
fn auto_snapshots_wait_for_min_size_and_growth_percentage() -> Result<()> {
    let config = Config {
        auto_snapshot_min_size: 4096,
        ..Config::default()
    };
    let server = TestServer::start_with(config)?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "auto-snapshot-percentage"])?,
        sluice_tests::config_pair("auto-snapshot-percentage", "100")
    );
    // Under the minimum size: no snapshot.
    log_entries(&mut raw, "s", 10)?;
    assert!(!await_info(
        &mut raw,
        "rdb_saves",
        "1",
        Duration::from_millis(1500)
    )?);
    assert_eq!(raw.info_field("stats", "latest_fork_usec")?, "0");
    // Past it, with no snapshot yet to grow from: one within the once-a-second check.
    log_entries(&mut raw, "s", 100)?;
    assert!(await_info(
        &mut raw,
        "rdb_saves",
        "1",
        Duration::from_secs(5)
    )?);
    // How long its capture held commands back, in Redis's field for its fork.
    let capture: u64 = raw.info_field("stats", "latest_fork_usec")?.parse()?;
    assert!(capture > 0);
    let snapshot: u64 = raw
        .info_field("persistence", "rdb_last_snapshot_bytes")?
        .parse()?;
    assert!(snapshot > 0);
    // Now the log must also reach ten times the snapshot's size.
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "auto-snapshot-percentage", "1000"])?,
        "+OK\r\n"
    );
    while raw
        .info_field("persistence", "aof_log_bytes_since_snapshot")?
        .parse::<u64>()?
        < 4096
    {
        log_entries(&mut raw, "s", 10)?;
    }
    let log: u64 = raw
        .info_field("persistence", "aof_log_bytes_since_snapshot")?
        .parse()?;
    assert!(log < snapshot * 10, "log {log}, snapshot {snapshot}");
    assert!(!await_info(
        &mut raw,
        "rdb_saves",
        "2",
        Duration::from_millis(2500)
    )?);
    while raw
        .info_field("persistence", "aof_log_bytes_since_snapshot")?
        .parse::<u64>()?
        < snapshot * 10
    {
        log_entries(&mut raw, "s", 50)?;
    }
    assert!(await_info(
        &mut raw,
        "rdb_saves",
        "2",
        Duration::from_secs(5)
    )?);
    // Redis's range for `auto-aof-rewrite-percentage`, and its error text.
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "auto-snapshot-percentage", "-1"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'auto-snapshot-percentage') - \
         argument must be between 0 and 2147483647 inclusive\r\n"
    );
    Ok(())
}

/// `appendfsync always` on the real binary: clients writing at once share fsyncs, every reply
/// comes, and everything acknowledged is synced.
#[test]
fn always_shares_fsyncs_between_clients_writing_at_once() -> Result<()> {
    const CLIENTS: usize = 16;
    const EACH: usize = 40;
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let addr = server.addr;
    let fsyncs_before: u64 = sluice_tests::RawClient::connect(addr)?
        .info_field("persistence", "aof_fsyncs")?
        .parse()?;
    let writers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || -> Result<()> {
                let mut raw = sluice_tests::RawClient::connect(addr)?;
                let key = format!("s{c}");
                for i in 1..=EACH {
                    let id = format!("{i}-1");
                    let reply = raw.cmd(&["XADD", &key, &id, "f", "v"])?;
                    assert_eq!(reply, format!("${}\r\n{id}\r\n", id.len()));
                }
                Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("writer panicked"))??;
    }
    let mut raw = sluice_tests::RawClient::connect(addr)?;
    let total = CLIENTS * EACH;
    for c in 0..CLIENTS {
        assert_eq!(
            raw.cmd(&["XLEN", &format!("s{c}")])?,
            format!(":{EACH}\r\n")
        );
    }
    let appended = raw.info_field("persistence", "aof_appended_lsn")?;
    assert_eq!(raw.info_field("persistence", "aof_synced_lsn")?, appended);
    let fsyncs = raw
        .info_field("persistence", "aof_fsyncs")?
        .parse::<u64>()?
        - fsyncs_before;
    assert!(
        fsyncs < (total / 2) as u64,
        "{fsyncs} fsyncs for {total} writes from {CLIENTS} clients"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The real thing: the server as a child process with `appendfsync always`, several clients
/// writing, adding, reading and acknowledging, SIGKILL in the middle, restart. Every write a
/// client heard back about is there, nothing twice.
#[test]
fn sigkill_mid_load_loses_no_acknowledged_write() -> Result<()> {
    let dir = tempdir()?;
    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let addr = server.addr;
    {
        let mut raw = sluice_tests::RawClient::connect(addr)?;
        // The flag took effect: replies wait for fsync.
        assert_eq!(
            raw.cmd(&["CONFIG", "GET", "appendfsync"])?,
            "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"
        );
        raw.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || -> BTreeMap<String, String> {
            let mut acked = BTreeMap::new();
            let Ok(mut raw) = sluice_tests::RawClient::connect(addr) else {
                return acked;
            };
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let tag = format!("{w}:{n}");
                match raw.cmd(&["XADD", "s", "*", "tag", &tag]) {
                    Ok(reply) if reply.starts_with('$') => {
                        let id = reply.lines().nth(1).unwrap_or_default().to_owned();
                        acked.insert(tag, id);
                    }
                    _ => break,
                }
                n += 1;
            }
            acked
        }));
    }
    // A consumer reads and acknowledges every other entry while the writers run.
    let consumer = {
        let stop = stop.clone();
        std::thread::spawn(move || -> (BTreeSet<String>, BTreeSet<String>) {
            let (mut delivered, mut acked) = (BTreeSet::new(), BTreeSet::new());
            let Ok(mut client) =
                redis::Client::open(format!("redis://{addr}")).and_then(|c| c.get_connection())
            else {
                return (delivered, acked);
            };
            while !stop.load(Ordering::Relaxed) {
                let reply: redis::RedisResult<redis::streams::StreamReadReply> =
                    redis::cmd("XREADGROUP")
                        .arg("GROUP")
                        .arg("g")
                        .arg("c1")
                        .arg("COUNT")
                        .arg(10)
                        .arg("STREAMS")
                        .arg("s")
                        .arg(">")
                        .query(&mut client);
                let Ok(reply) = reply else { break };
                for key in reply.keys {
                    for (i, entry) in key.ids.into_iter().enumerate() {
                        delivered.insert(entry.id.clone());
                        if i % 2 == 0 {
                            let ok: redis::RedisResult<i64> = redis::cmd("XACK")
                                .arg("s")
                                .arg("g")
                                .arg(&entry.id)
                                .query(&mut client);
                            match ok {
                                Ok(1) => {
                                    acked.insert(entry.id);
                                }
                                _ => {
                                    // Killed mid-XACK: it may or may not have been applied,
                                    // and the client cannot tell. Leave that entry unchecked.
                                    delivered.remove(&entry.id);
                                    return (delivered, acked);
                                }
                            }
                        }
                    }
                }
            }
            (delivered, acked)
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    server.kill()?;
    stop.store(true, Ordering::Relaxed);
    let mut acked_adds = BTreeMap::new();
    for writer in writers {
        acked_adds.extend(
            writer
                .join()
                .map_err(|_| anyhow::anyhow!("writer panicked"))?,
        );
    }
    let (delivered, acked) = consumer
        .join()
        .map_err(|_| anyhow::anyhow!("consumer panicked"))?;
    assert!(
        acked_adds.len() > 20,
        "the load was too light to mean anything: {}",
        acked_adds.len()
    );

    let server = ChildServer::start(BIN, &dir, &["--appendfsync", "always"])?;
    let mut client = redis::Client::open(format!("redis://{}", server.addr))?.get_connection()?;
    let stored: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("s")
        .arg("-")
        .arg("+")
        .query(&mut client)?;
    let mut seen = BTreeMap::new();
    for entry in &stored.ids {
        let tag: String = entry.get("tag").context("tag field")?;
        assert!(
            seen.insert(tag.clone(), entry.id.clone()).is_none(),
            "{tag} stored twice"
        );
    }
    for (tag, id) in &acked_adds {
        assert_eq!(
            seen.get(tag),
            Some(id),
            "acknowledged XADD {tag} ({id}) lost"
        );
    }
    let pending: redis::streams::StreamPendingCountReply = redis::cmd("XPENDING")
        .arg("s")
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(1_000_000)
        .query(&mut client)?;
    let pending: BTreeSet<String> = pending.ids.into_iter().map(|p| p.id).collect();
    for id in &acked {
        assert!(!pending.contains(id), "acknowledged XACK of {id} lost");
    }
    for id in delivered.difference(&acked) {
        assert!(pending.contains(id), "delivered {id} no longer pending");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
