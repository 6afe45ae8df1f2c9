//! `appendfsync always|everysec|no`, group commit, and changing the policy at run time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_storage::{Error, FsyncPolicy, Storage, Wal};

use crate::common::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Polls until `synced_lsn() >= lsn`, for at most `limit`. Returns how long it took.
fn await_synced(wal: &Wal, lsn: u64, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if wal.synced_lsn() >= lsn {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// After `total` writes, each released once synced: all are synced, writers arriving during
/// an fsync shared the next one, and a reopen recovers every record.
fn all_synced_sharing_fsyncs(wal: Arc<Wal>, dir: &std::path::Path, total: u64) -> TestResult {
    let stats = wal.stats();
    assert_eq!(stats.synced_lsn, total);
    assert!(
        stats.fsyncs < total / 2,
        "{} fsyncs for {total} writes",
        stats.fsyncs
    );
    drop(wal);
    let (_wal, recovery) = open(dir)?;
    assert_eq!(recovery.records().count() as u64, total);
    Ok(())
}

#[test]
fn always_acknowledges_once_the_record_is_fsynced() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    assert_eq!(wal.policy(), FsyncPolicy::Always);
    let lsn = wal.append(b"durable");
    assert_eq!(wal.synced_lsn(), 0);
    runtime().block_on(wal.wait_synced(lsn))?;
    assert!(wal.synced_lsn() >= lsn);
    let stats = wal.stats();
    assert!(stats.fsyncs >= 1 && stats.written_lsn >= lsn);
    assert!(stats.last_fsync_unix_ms.is_some());
    // Already durable: resolves at once, without another fsync.
    let fsyncs = stats.fsyncs;
    runtime().block_on(wal.wait_synced(lsn))?;
    assert_eq!(wal.stats().fsyncs, fsyncs);
    Ok(())
}

#[test]
fn group_commit_releases_each_waiter_once_its_lsn_is_synced() -> TestResult {
    const TASKS: u64 = 32;
    const EACH: u64 = 40;
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    let wal = Arc::new(wal);
    runtime().block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let wal = Arc::clone(&wal);
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let lsn = wal.append(&(t * 1000 + i).to_le_bytes());
                        wal.wait_synced(lsn).await?;
                        // Released only once the fsync covering it is done.
                        assert!(wal.synced_lsn() >= lsn, "released early: {lsn}");
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task")?;
        }
        Ok::<_, Error>(())
    })?;
    all_synced_sharing_fsyncs(wal, tmp.path(), TASKS * EACH)
}

#[test]
fn group_commit_from_blocking_threads() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    let wal = Arc::new(wal);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("rt");
                for i in 0..25u64 {
                    let lsn = wal.append(&i.to_le_bytes());
                    rt.block_on(wal.wait_synced(lsn)).expect("synced");
                    assert!(wal.synced_lsn() >= lsn);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    assert_eq!(wal.synced_lsn(), 200);
    Ok(())
}

#[test]
fn sync_now_fsyncs_everything_pending_on_the_calling_thread() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    for i in 1..=5 {
        wal.append(&payload(i));
    }
    let fsyncs = wal.stats().fsyncs;
    assert!(wal.sync_now(3)?);
    // One fsync for everything appended before it, records 4 and 5 included.
    assert_eq!(wal.synced_lsn(), 5);
    assert_eq!(wal.stats().fsyncs, fsyncs + 1);
    // Already durable: no second fsync.
    assert!(wal.sync_now(5)?);
    assert_eq!(wal.stats().fsyncs, fsyncs + 1);
    drop(wal);
    let (_wal, recovery) = open(tmp.path())?;
    assert_eq!(records(&recovery), expected(1..=5));
    Ok(())
}

#[test]
fn sync_now_or_waiting_from_many_threads_shares_fsyncs() -> TestResult {
    const THREADS: u64 = 8;
    const EACH: u64 = 50;
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::Always)?;
    let wal = Arc::new(wal);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || -> sluice_storage::Result<()> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("rt");
                for i in 0..EACH {
                    let lsn = wal.append(&(t * 1000 + i).to_le_bytes());
                    // As a connection does: fsync here unless one is running, else wait.
                    if !wal.sync_now(lsn)? {
                        rt.block_on(wal.wait_synced(lsn))?;
                    }
                    assert!(wal.synced_lsn() >= lsn, "released early: {lsn}");
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread")?;
    }
    all_synced_sharing_fsyncs(wal, tmp.path(), THREADS * EACH)
}

#[test]
fn everysec_fsyncs_within_about_a_second() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::EverySec)?;
    append_all(&wal, 1..=5);
    let took = await_synced(&wal, 5, Duration::from_secs(3));
    assert!(took.is_some(), "not fsynced within 3 s: {:?}", wal.stats());
    assert!(wal.stats().fsyncs >= 1);
    Ok(())
}

#[test]
fn no_never_fsyncs_by_itself_but_writes_pending_bytes_out() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::No)?;
    let lsn = wal.append(b"only appended");
    assert_eq!(await_synced(&wal, lsn, Duration::from_millis(1500)), None);
    let stats = wal.stats();
    assert_eq!((stats.fsyncs, stats.synced_lsn), (0, 0));
    // The once-a-second tick wrote it to the OS even though nobody called write_through.
    assert_eq!(stats.written_lsn, lsn);
    // An explicit request (SAVE, shutdown) still fsyncs.
    runtime().block_on(wal.wait_synced(lsn))?;
    assert_eq!(wal.synced_lsn(), lsn);
    Ok(())
}

#[test]
fn the_policy_can_change_at_run_time() -> TestResult {
    let tmp = temp();
    let (wal, _) = Storage::open(tmp.path(), FsyncPolicy::No)?;
    append_all(&wal, 1..=3);
    wal.set_policy("EverySec".parse()?);
    assert_eq!(wal.policy(), FsyncPolicy::EverySec);
    assert_eq!(wal.stats().policy.as_str(), "everysec");
    assert!(await_synced(&wal, 3, Duration::from_secs(3)).is_some());
    Ok(())
}

#[test]
fn policies_parse_as_redis_spells_them() {
    assert_eq!(
        "always".parse::<FsyncPolicy>().ok(),
        Some(FsyncPolicy::Always)
    );
    assert_eq!("NO".parse::<FsyncPolicy>().ok(), Some(FsyncPolicy::No));
    assert_eq!(FsyncPolicy::default(), FsyncPolicy::EverySec);
    let err = "sometimes".parse::<FsyncPolicy>().expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "invalid appendfsync policy \"sometimes\": use always, everysec or no"
    );
}
