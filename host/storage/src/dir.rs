//! The data directory: what files it holds, its `LOCK`, and making its entries durable.
//!
//! A new, renamed or deleted file is only durable once the directory itself is fsynced, so every
//! create, rename and delete that matters goes through [`sync_dir`].

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::format::FileName;
use crate::{Error, Lsn, Result};

/// The files of a data directory, sorted by LSN.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// `(first LSN, path)` of each segment, ascending.
    pub(crate) segments: Vec<(Lsn, PathBuf)>,
    /// `(LSN, path)` of each snapshot, ascending.
    pub(crate) snapshots: Vec<(Lsn, PathBuf)>,
    /// Unfinished snapshot files.
    pub(crate) temps: Vec<PathBuf>,
}

/// Lists `dir`.
pub(crate) fn list(dir: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    for entry in fs::read_dir(dir).map_err(Error::io("list", dir))? {
        let entry = entry.map_err(Error::io("list", dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        match FileName::parse(&name) {
            FileName::Segment(lsn) => listing.segments.push((lsn, entry.path())),
            FileName::Snapshot(lsn) => listing.snapshots.push((lsn, entry.path())),
            FileName::Temp => listing.temps.push(entry.path()),
            FileName::Other => {}
        }
    }
    listing.segments.sort();
    listing.snapshots.sort();
    Ok(listing)
}

/// Creates `dir` if needed and takes its `LOCK` file, which stays locked while the returned file
/// is open.
pub(crate) fn lock(dir: &Path) -> Result<File> {
    fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
    let path = dir.join("LOCK");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", &path)(e)),
    }
}

/// Fsyncs the directory, making creates, renames and deletes in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync directory", dir))
}

/// Removes a file that is no longer needed, logging it.
pub(crate) fn remove(path: &Path, why: &str) -> Result<()> {
    fs::remove_file(path).map_err(Error::io("delete", path))?;
    tracing::info!(file = %path.display(), "deleted {why}");
    Ok(())
}
