//! Snapshot files: written atomically, read back with every byte checked.
//!
//! A snapshot is written to `snapshot-<lsn>.snap.tmp`, fsynced, renamed to its final name and the
//! directory fsynced. A crash at any point leaves either the complete new snapshot or a `.tmp`
//! file that startup removes, never a half-written `.snap`.
//!
//! On Linux the file is written with `O_DIRECT`, from an aligned buffer a few megabytes at a
//! time, where the filesystem allows it. Through the page cache, the kernel's copy of a 91 MB
//! payload into freshly allocated cache pages took about 210 ms of CPU on the development
//! machine (of about 300 ms for the whole snapshot), taken from the connections serving clients;
//! the pages then had to be written back and later dropped. Where `O_DIRECT` is refused
//! (`EINVAL`: tmpfs, or blocks larger than the alignment), the file is written buffered.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::format::{self, SNAPSHOT_HEADER_LEN, SNAPSHOT_MAGIC};
use crate::{Error, FORMAT_VERSION, Lsn, Result, dir};

/// Writes the snapshot of the state after record `lsn`. Returns its path and size in bytes.
pub(crate) fn write_atomic(dir_path: &Path, lsn: Lsn, payload: &[u8]) -> Result<(PathBuf, u64)> {
    let path = dir_path.join(format::snapshot_name(lsn));
    let tmp = dir_path.join(format!("{}.tmp", format::snapshot_name(lsn)));
    let header = format::snapshot_header(lsn, payload);
    if !direct::write(&tmp, &header, payload)? {
        write_buffered(&tmp, &header, payload)?;
    }
    fs::rename(&tmp, &path).map_err(Error::io("rename into place", &tmp))?;
    dir::sync_dir(dir_path)?;
    Ok((path, (SNAPSHOT_HEADER_LEN + payload.len()) as u64))
}

/// Writes `header` then `payload` to a new file at `path` through the page cache and fsyncs it.
fn write_buffered(path: &Path, header: &[u8], payload: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(Error::io("create", path))?;
    file.write_all(header)
        .and_then(|()| file.write_all(payload))
        .map_err(Error::io("write", path))?;
    file.sync_all().map_err(Error::io("fsync", path))
}

#[cfg(target_os = "linux")]
mod direct {
    use std::fs::OpenOptions;
    use std::io;
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    use std::path::Path;

    use crate::{Error, Result};

    /// What `O_DIRECT` asks of buffer addresses, file offsets and lengths: a multiple of the
    /// device's logical block size, 512 bytes or 4 KiB on the disks Sluice runs on.
    const ALIGN: usize = 4096;
    /// Bytes per write(2): the file is written this much at a time, each write waiting for the
    /// device.
    pub(super) const CHUNK: usize = 4 << 20;

    /// Writes `header` then `payload` to a new file at `path` with `O_DIRECT` and fsyncs it.
    /// `Ok(false)` if the filesystem refuses `O_DIRECT` (the caller then writes it buffered).
    pub(super) fn write(path: &Path, header: &[u8], payload: &[u8]) -> Result<bool> {
        let file = match OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if refused(&e) => return Ok(false),
            Err(e) => return Err(Error::io("create", path)(e)),
        };
        let mut bounce = vec![0u8; CHUNK + ALIGN];
        let start = bounce.as_ptr().align_offset(ALIGN);
        let chunk = &mut bounce[start..start + CHUNK];
        let mut offset = 0u64;
        let mut filled = 0;
        let write = |bytes: &[u8], offset: u64| match file.write_all_at(bytes, offset) {
            Ok(()) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(Error::io("write", path)(e)),
        };
        for mut part in [header, payload] {
            while !part.is_empty() {
                let n = part.len().min(CHUNK - filled);
                chunk[filled..filled + n].copy_from_slice(&part[..n]);
                filled += n;
                part = &part[n..];
                if filled == CHUNK {
                    if !write(chunk, offset)? {
                        return Ok(false);
                    }
                    offset += CHUNK as u64;
                    filled = 0;
                }
            }
        }
        if filled > 0 {
            // The tail is padded to the alignment, then cut back to the real length.
            let padded = filled.next_multiple_of(ALIGN);
            chunk[filled..padded].fill(0);
            if !write(&chunk[..padded], offset)? {
                return Ok(false);
            }
            file.set_len(offset + filled as u64)
                .map_err(Error::io("truncate", path))?;
        }
        file.sync_all().map_err(Error::io("fsync", path))?;
        Ok(true)
    }

    /// The filesystem or device does not take `O_DIRECT` (or this alignment).
    fn refused(e: &io::Error) -> bool {
        e.raw_os_error() == Some(libc::EINVAL)
    }
}

#[cfg(not(target_os = "linux"))]
mod direct {
    /// No `O_DIRECT` here: the caller writes the file buffered.
    pub(super) fn write(
        _path: &std::path::Path,
        _header: &[u8],
        _payload: &[u8],
    ) -> crate::Result<bool> {
        Ok(false)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes that differ at every offset a chunk boundary could fall on.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_mul(31) % 251) as u8).collect()
    }

    #[test]
    fn direct_and_buffered_writes_give_the_same_file() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("sluice-snapwrite-{}", std::process::id()));
        fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        #[cfg(target_os = "linux")]
        let chunk = direct::CHUNK;
        #[cfg(not(target_os = "linux"))]
        let chunk = 4 << 20;
        for len in [
            0,
            1,
            4063,
            4064,
            4065,
            chunk - 32,
            chunk - 31,
            chunk,
            2 * chunk + 7,
        ] {
            let payload = pattern(len);
            let header = format::snapshot_header(9, &payload);
            let (a, b) = (dir.join("a"), dir.join("b"));
            if !direct::write(&a, &header, &payload)? {
                write_buffered(&a, &header, &payload)?;
            }
            write_buffered(&b, &header, &payload)?;
            let written = fs::read(&a).map_err(Error::io("read", &a))?;
            assert_eq!(written.len(), SNAPSHOT_HEADER_LEN + len, "{len}");
            assert!(
                written == fs::read(&b).map_err(Error::io("read", &b))?,
                "{len}"
            );
            match read(&a, 9) {
                Ok(back) => assert!(back == payload, "{len}"),
                Err(_) => panic!("snapshot of {len} bytes does not read back"),
            }
        }
        let _ = fs::remove_dir_all(&dir);
        Ok(())
    }
}
