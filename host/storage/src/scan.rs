//! Reading a log segment back at startup, and telling a torn tail from corruption.
//!
//! A crash can cut the last write short, or leave garbage where it was going. Either leaves a bad
//! record at the end of the last segment with nothing valid after it: that torn tail is dropped,
//! and reported. Zeroes after the last record are the space the writer allocates ahead (see
//! `writer`), or a write that never reached the disk: dropped, not reported, since nothing
//! there was ever a record. A bad record with a valid record anywhere after
//! it, a bad record in any other segment, or a valid record with the wrong LSN is corruption:
//! truncating there would silently lose acknowledged writes, so it is an error naming the file
//! and offset.
//!
//! The record length is not covered by the checksum, so a damaged length can make a record look
//! cut off. The search for a valid record after the bad one is what catches that case.

use std::path::{Path, PathBuf};

use crate::format::{self, BadRecord, RECORD_HEADER_LEN, WAL_HEADER_LEN, WAL_MAGIC};
use crate::{Error, FORMAT_VERSION, Lsn, Result};

/// A segment read into memory and checked.
#[derive(Debug)]
pub(crate) struct Segment {
    /// The file.
    pub(crate) path: PathBuf,
    /// LSN of its first record (from its header).
    pub(crate) first_lsn: Lsn,
    /// The whole file as read, including any torn tail.
    pub(crate) bytes: Vec<u8>,
    /// Offset just past the last valid record: where appends go on.
    pub(crate) valid_len: usize,
    /// LSN after its last valid record.
    pub(crate) next_lsn: Lsn,
}

impl Segment {
    /// True if the file needs truncating (or its header rewriting) before appends go on.
    pub(crate) fn needs_cutting(&self) -> bool {
        self.valid_len < self.bytes.len() || self.bytes.len() < WAL_HEADER_LEN
    }

    /// True if something other than zeroes follows the last record, or the header is short: a
    /// write cut off by a crash.
    pub(crate) fn is_torn(&self) -> bool {
        let tail = self.bytes.get(self.valid_len..).unwrap_or_default();
        self.bytes.len() < WAL_HEADER_LEN || tail.iter().any(|&b| b != 0)
    }
}

/// Reads and checks the segment at `path`, which its name says starts at `first_lsn`. Only the
/// last segment (`is_last`) may end in a torn tail.
pub(crate) fn read_segment(path: &Path, first_lsn: Lsn, is_last: bool) -> Result<Segment> {
    let bytes = std::fs::read(path).map_err(Error::io("read", path))?;
    let (valid_len, next_lsn) = match check_header(path, &bytes, first_lsn, is_last)? {
        Header::Whole => scan_records(path, &bytes, first_lsn, is_last)?,
        Header::Cut => (0, first_lsn),
    };
    Ok(Segment {
        path: path.to_path_buf(),
        first_lsn,
        valid_len,
        next_lsn,
        bytes,
    })
}

/// What a segment's header says about the rest of the file.
enum Header {
    /// Whole and agreeing with the file name: records follow.
    Whole,
    /// Cut short by a crash right after the segment was created: there are no records.
    Cut,
}

/// Checks the header of the segment `bytes`, whose file name says it starts at `first_lsn`.
fn check_header(path: &Path, bytes: &[u8], first_lsn: Lsn, is_last: bool) -> Result<Header> {
    let Some((magic, version, header_lsn)) = format::read_header_prefix(bytes) else {
        // A crash right after creating the segment leaves a short header. Only the last segment
        // can be in that state, and only with a prefix of the header its name implies.
        if is_last && format::wal_header(first_lsn).starts_with(bytes) {
            return Ok(Header::Cut);
        }
        return Err(corrupt(
            path,
            bytes.len(),
            format!(
                "file header is incomplete ({} of {WAL_HEADER_LEN} bytes)",
                bytes.len()
            ),
        ));
    };
    if magic != WAL_MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            kind: "write-ahead log",
        });
    }
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(corrupt(
            path,
            8,
            "format version 0 does not exist".to_owned(),
        ));
    }
    if header_lsn != first_lsn {
        return Err(corrupt(
            path,
            12,
            format!("header says the first LSN is {header_lsn}, the file name says {first_lsn}"),
        ));
    }
    Ok(Header::Whole)
}

/// Walks the records after the header, from `first_lsn` on. Returns the offset just past the
/// last valid one and the LSN after it; a torn tail of the last segment ends the walk, any
/// other bad record is an error.
fn scan_records(path: &Path, bytes: &[u8], first_lsn: Lsn, is_last: bool) -> Result<(usize, Lsn)> {
    let mut offset = WAL_HEADER_LEN;
    let mut next_lsn = first_lsn;
    while offset < bytes.len() {
        match format::decode_record(&bytes[offset..], next_lsn) {
            Ok((_, total)) => {
                offset += total;
                next_lsn += 1;
            }
            Err(BadRecord::WrongLsn(reason)) => return Err(corrupt(path, offset, reason)),
            Err(bad) => {
                if !is_last {
                    return Err(corrupt(
                        path,
                        offset,
                        format!("{} (not the last segment)", bad.reason()),
                    ));
                }
                if let Some(at) = find_valid_record(&bytes[offset..], next_lsn) {
                    return Err(corrupt(
                        path,
                        offset,
                        format!(
                            "{}, yet a valid record follows at offset {}",
                            bad.reason(),
                            offset + at
                        ),
                    ));
                }
                break;
            }
        }
    }
    Ok((offset, next_lsn))
}

/// The error for corruption at `offset` of the segment `path`.
fn corrupt(path: &Path, offset: usize, reason: String) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

/// Offset in `rest` (after its first byte) of a record with a valid checksum and an LSN that
/// could follow `next_lsn`, if any. Cheap on the common tails: zeroes and cut-off records fail
/// the LSN test before any checksum is computed.
fn find_valid_record(rest: &[u8], next_lsn: Lsn) -> Option<usize> {
    let max_records = (rest.len() / RECORD_HEADER_LEN) as u64;
    (1..rest.len().saturating_sub(RECORD_HEADER_LEN - 1)).find(|&at| {
        let Some((len, crc, lsn)) = format::read_record_header(&rest[at..]) else {
            return false;
        };
        if lsn < next_lsn || lsn > next_lsn.saturating_add(max_records) {
            return false;
        }
        let payload = rest.get(at + RECORD_HEADER_LEN..at + RECORD_HEADER_LEN + len);
        payload.is_some_and(|p| format::checksum(lsn, p) == crc)
    })
}
