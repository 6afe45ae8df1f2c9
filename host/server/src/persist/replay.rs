//! Start-up: rebuild the keyspace from the newest snapshot and the log records after it.
//!
//! Records are replayed through the ordinary command handlers, as Redis loads its AOF: each
//! record's commands were written with every run-time decision spelled out (IDs, times,
//! counts), so running them again gives the same state. The journal is not attached yet, so
//! nothing replayed is logged twice.

use std::sync::Arc;
use std::time::Instant;

use sluice_resp::Args;
use sluice_storage::Recovery;

use super::{record, snapshot};
use crate::cmd::{self, Ctx, Outcome};
use crate::connection::ClientState;
use crate::error::ServerError;
use crate::shared::Shared;

/// What start-up replayed, for the log and `INFO persistence`.
#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    /// Keys loaded from the snapshot.
    pub snapshot_keys: usize,
    /// Log records replayed.
    pub records: u64,
    /// Commands in them that answered an error (logged; 0 in a healthy log).
    pub failed_commands: u64,
    /// Time to load the snapshot and replay the log, ms.
    pub millis: u64,
}

/// Loads `recovery` into `shared`'s keyspace.
pub fn replay(shared: &Arc<Shared>, recovery: &Recovery) -> Result<ReplayReport, ServerError> {
    let started = Instant::now();
    let mut report = ReplayReport::default();
    if let Some(snap) = &recovery.snapshot {
        report.snapshot_keys = snapshot::load(shared, &snap.payload)
            .map_err(|e| ServerError::Recovery(format!("snapshot at LSN {}: {e}", snap.lsn)))?;
    }
    let info = shared
        .clients
        .add(shared.local_addr, shared.local_addr, shared.now_ms());
    let mut client = ClientState::detached(info.clone());
    for rec in recovery.records() {
        let decoded = record::decode(rec.payload)
            .map_err(|e| ServerError::Recovery(format!("log record {}: {e}", rec.lsn)))?;
        if decoded.db >= shared.keyspace.len() {
            return Err(ServerError::Recovery(format!(
                "log record {} is for database {}, but the server has {} (raise --databases)",
                rec.lsn,
                decoded.db,
                shared.keyspace.len()
            )));
        }
        client.select(decoded.db);
        for command in decoded.commands {
            if !run(shared, &mut client, command) {
                report.failed_commands += 1;
                tracing::warn!(lsn = rec.lsn, "a replayed command failed");
            }
        }
        report.records += 1;
    }
    shared.clients.remove(info.id);
    report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// Runs one replayed command; false if it answered an error.
fn run(shared: &Shared, client: &mut ClientState, command: Vec<bytes::Bytes>) -> bool {
    let args = Args::new(command);
    let Ok(resolved) = cmd::resolve(&args) else {
        return false;
    };
    let mut ctx = Ctx {
        now_ms: shared.now_ms(),
        shared,
        client,
        in_exec: true,
    };
    let outcome = cmd::execute(&mut ctx, resolved, args);
    // Nobody is blocked and no route runs yet: what the command made ready is moot.
    client.ready.clear();
    match outcome {
        Ok(Outcome::Reply(reply)) => !reply.is_error(),
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("replay: {}", e.0);
            false
        }
    }
}
