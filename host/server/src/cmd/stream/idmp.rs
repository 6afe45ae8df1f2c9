//! XADD's idempotency (Redis 8.6) as the command layer sees it: the IDMPAUTO digest and how a
//! remembered iid is logged (`SLUICE IDMPRECORD`, replayed with its original time).

use sha2::{Digest, Sha256};

use super::args::IdmpArg;
use sluice_streams::StreamId;

/// The iid `IDMPAUTO` derives from an entry: the first 16 bytes of SHA-256 over the
/// field-value pairs sorted, each string length-prefixed, so the order of the pairs does not
/// matter and no two different entries collide by concatenation. Stable across builds: it is
/// stored in snapshots and compared after restarts.
pub fn auto_iid(fields: &[&[u8]]) -> [u8; 16] {
    let mut pairs: Vec<(&[u8], &[u8])> = fields.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    pairs.sort_unstable();
    let mut hasher = Sha256::new();
    for (field, value) in pairs {
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field);
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    }
    let digest = hasher.finalize();
    let mut iid = [0u8; 16];
    iid.copy_from_slice(&digest[..16]);
    iid
}

/// The producer and iid an XADD's idempotency option names.
pub fn key_of<'a>(
    arg: &'a IdmpArg,
    fields: &[&[u8]],
    auto: &'a mut [u8; 16],
) -> (&'a [u8], &'a [u8]) {
    match arg {
        IdmpArg::Explicit { pid, iid } => (pid, iid),
        IdmpArg::Auto { pid } => {
            *auto = auto_iid(fields);
            (pid, &auto[..])
        }
    }
}

/// Logs that `(pid, iid)` added entry `id` at `added_ms`: the window follows the server clock,
/// so the replay must know when, not just which entry.
pub fn log_record(
    rec: &mut sluice_broker::persist::Record,
    key: &[u8],
    pid: &[u8],
    iid: &[u8],
    id: StreamId,
    added_ms: u64,
) {
    rec.begin(7)
        .arg(b"SLUICE")
        .arg(b"IDMPRECORD")
        .arg(key)
        .arg(pid)
        .arg(iid)
        .id(id)
        .int(added_ms);
}
