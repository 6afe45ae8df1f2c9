//! Making logged changes durable before the replies that acknowledge them go out, with the
//! group commit that lets several connections share one write (or fsync) of the log.

use sluice_storage::{FsyncPolicy, Wal};

use crate::shared::Shared;

/// At most this many scheduler passes for other connections to append before an fsync under
/// `always` (see [`gather`]).
const FSYNC_GATHER_PASSES: usize = 3;

/// Makes every logged change durable as `appendfsync` asks before replies acknowledge
/// them: in the OS (`everysec`, `no`: a crash of the process loses nothing) or on disk
/// (`always`). While the log cannot be written (a full disk), the replies wait until a retry
/// has written and fsynced the records; if the log is closed meanwhile (shutdown), they are not
/// sent: the connection is closed, so the client never hears "stored" for a write that is not.
///
/// Under `always` the connection that finds its records not yet on disk fsyncs them itself
/// for everyone, blocking its runtime thread for the fsync as Redis blocks its event loop;
/// while another fsync runs, it waits for the sync thread's next one instead.
pub(super) async fn make_durable(shared: &Shared) -> std::io::Result<()> {
    let Some(wal) = shared.broker.journal.wal() else {
        return Ok(());
    };
    let lsn = wal.last_lsn();
    gather(wal).await;
    let result = match wal.policy() {
        FsyncPolicy::Always => match wal.sync_now(lsn) {
            Ok(true) => Ok(()),
            Ok(false) => wal.wait_synced(lsn).await,
            Err(e) => Err(e),
        },
        _ => wal.write_through(lsn),
    };
    // The log cannot be written (a full disk): the records are kept and retried. The replies
    // wait for the retry that writes (and fsyncs) them, as the client waits for any reply;
    // new writes are refused meanwhile (`MISCONF`).
    let result = match result {
        Err(e) if wal.failed() => {
            tracing::warn!("replies wait for the write-ahead log to be writable again: {e}");
            wal.wait_synced(lsn).await
        }
        other => other,
    };
    result.map_err(|e| {
        tracing::error!("write-ahead log failed, closing the connection unacknowledged: {e}");
        std::io::Error::other(e.to_string())
    })
}

/// Lets the other connections that are ready on this runtime thread append their records
/// before this one writes the log for all of them: group commit, as Redis writes its AOF once
/// per event-loop turn. A `yield_now` lets every task that is ready run, and the runtime poll
/// for sockets that became readable meanwhile.
///
/// Under `always` the passes go on while somebody appended during the last one, up to
/// [`FSYNC_GATHER_PASSES`]: an fsync costs ~100 µs, a pass a few, and the connections that
/// became readable during the pass would otherwise wait for the next fsync. Measured (50
/// clients, `XADD`, 6 alternating rounds against Redis's `always`): 1.04× Redis with one pass,
/// 1.20× with up to three, 1.21× with up to six. A write(2) is too cheap to wait for: under
/// `everysec` more passes measured no better (pipelined 16 deep: 0.97× the unlogged server with
/// one pass, 0.95× with three).
async fn gather(wal: &Wal) {
    let passes = match wal.policy() {
        FsyncPolicy::Always => FSYNC_GATHER_PASSES,
        FsyncPolicy::EverySec | FsyncPolicy::No => 1,
    };
    for _ in 0..passes {
        let seen = wal.last_lsn();
        tokio::task::yield_now().await;
        if wal.last_lsn() == seen {
            break;
        }
    }
}
