//! Snapshot files: written atomically, read back with every byte checked.
//!
//! A snapshot is written to `snapshot-<lsn>.snap.tmp`, fsynced, renamed to its final name and the
//! directory fsynced. A crash at any point leaves either the complete new snapshot or a `.tmp`
//! file that startup removes, never a half-written `.snap`.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::format::{self, SNAPSHOT_HEADER_LEN, SNAPSHOT_MAGIC};
use crate::{Error, FORMAT_VERSION, Lsn, Result, dir};

/// Writes the snapshot of the state after record `lsn`. Returns its path and size in bytes.
pub(crate) fn write_atomic(dir_path: &Path, lsn: Lsn, payload: &[u8]) -> Result<(PathBuf, u64)> {
    let path = dir_path.join(format::snapshot_name(lsn));
    let tmp = dir_path.join(format!("{}.tmp", format::snapshot_name(lsn)));
    let mut file = File::create(&tmp).map_err(Error::io("create", &tmp))?;
    file.write_all(&format::snapshot_header(lsn, payload))
        .and_then(|()| file.write_all(payload))
        .map_err(Error::io("write", &tmp))?;
    file.sync_all().map_err(Error::io("fsync", &tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(Error::io("rename into place", &tmp))?;
    dir::sync_dir(dir_path)?;
    Ok((path, (SNAPSHOT_HEADER_LEN + payload.len()) as u64))
}

/// Why a snapshot file cannot be used.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Unusable for a reason a newer or different build would not fix: damage.
    Corrupt(String),
    /// Any other error (I/O, newer format, not a snapshot): reported as is, never fallen back from.
    Fatal(Error),
}

/// Reads and checks the snapshot at `path`, whose name says it covers records up to `lsn`.
/// Returns its payload.
pub(crate) fn read(path: &Path, lsn: Lsn) -> Result<Vec<u8>, ReadError> {
    let mut bytes = fs::read(path).map_err(|e| ReadError::Fatal(Error::io("read", path)(e)))?;
    let Some((magic, version, header_lsn)) = format::read_header_prefix(&bytes) else {
        return Err(ReadError::Corrupt(format!(
            "file header is incomplete ({} of {SNAPSHOT_HEADER_LEN} bytes)",
            bytes.len()
        )));
    };
    if magic != SNAPSHOT_MAGIC {
        return Err(ReadError::Fatal(Error::BadMagic {
            path: path.to_path_buf(),
            kind: "snapshot",
        }));
    }
    if version > FORMAT_VERSION {
        return Err(ReadError::Fatal(Error::NewerFormat {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        }));
    }
    if version == 0 {
        return Err(ReadError::Corrupt(
            "format version 0 does not exist".to_owned(),
        ));
    }
    if header_lsn != lsn {
        return Err(ReadError::Corrupt(format!(
            "header says LSN {header_lsn}, the file name says {lsn}"
        )));
    }
    let (Some(len), Some(crc)) = (
        bytes
            .get(20..28)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes),
        bytes
            .get(28..32)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes),
    ) else {
        return Err(ReadError::Corrupt(format!(
            "file header is incomplete ({} of {SNAPSHOT_HEADER_LEN} bytes)",
            bytes.len()
        )));
    };
    let actual = (bytes.len() - SNAPSHOT_HEADER_LEN) as u64;
    if actual != len {
        return Err(ReadError::Corrupt(format!(
            "header declares {len} payload bytes but the file holds {actual}"
        )));
    }
    let payload = &bytes[SNAPSHOT_HEADER_LEN..];
    let computed = format::checksum(lsn, payload);
    if computed != crc {
        return Err(ReadError::Corrupt(format!(
            "checksum mismatch (stored {crc:#010x}, computed {computed:#010x})"
        )));
    }
    bytes.drain(..SNAPSHOT_HEADER_LEN);
    Ok(bytes)
}
