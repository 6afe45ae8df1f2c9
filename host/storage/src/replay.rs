//! [`Recovery`]: what startup found, for the server to rebuild its state from.
//!
//! The log segments after the snapshot are held in memory, already checked, and
//! [`Recovery::records`] hands out their payloads without copying. Drop the `Recovery` once
//! replayed to give that memory back.

use std::path::PathBuf;
use std::time::Duration;

use crate::Lsn;
use crate::format::{self, RECORD_HEADER_LEN, WAL_HEADER_LEN};
use crate::scan::Segment;

/// The state saved by a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The state is the result of applying records 1..=`lsn`.
    pub lsn: Lsn,
    /// What the server wrote.
    pub payload: Vec<u8>,
}

/// One log record to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Its log sequence number.
    pub lsn: Lsn,
    /// What the server appended.
    pub payload: &'a [u8],
}

/// A torn write cut off the end of the log at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub path: PathBuf,
    /// Where the file now ends, bytes.
    pub offset: u64,
    /// How many bytes were cut off.
    pub dropped_bytes: u64,
}

/// How startup went, for the log and `INFO persistence`.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    /// The data directory.
    pub dir: PathBuf,
    /// True if the directory held no data (a fresh start).
    pub fresh: bool,
    /// Time spent reading and checking the snapshot and the log (not the server's replay).
    pub duration: Duration,
    /// LSN of the snapshot loaded (0: none).
    pub snapshot_lsn: Lsn,
    /// Size of the snapshot file loaded, bytes.
    pub snapshot_bytes: u64,
    /// Records to replay after the snapshot.
    pub wal_records: u64,
    /// Bytes of the log segments read.
    pub wal_bytes: u64,
    /// The last LSN recovered; the next append gets the one after it.
    pub last_lsn: Lsn,
    /// The torn tail cut off, if any.
    pub torn_tail: Option<TornTail>,
    /// A corrupt newer snapshot skipped in favour of an older one plus the full log after it.
    pub skipped_snapshot: Option<String>,
    /// Leftovers deleted: unfinished snapshots, files a newer snapshot covers.
    pub removed_files: Vec<PathBuf>,
}

/// What [`crate::Storage::open`] recovered: apply the snapshot, then every record in order.
#[derive(Debug)]
pub struct Recovery {
    /// The newest valid snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// How startup went.
    pub report: RecoveryReport,
    pub(crate) segments: Vec<Segment>,
    /// Records at or below this LSN are covered by the snapshot.
    pub(crate) after_lsn: Lsn,
}

impl Recovery {
    /// The records after the snapshot, in LSN order, consecutive.
    pub fn records(&self) -> Records<'_> {
        Records {
            segments: &self.segments,
            segment: 0,
            offset: WAL_HEADER_LEN,
            lsn: self.segments.first().map_or(0, |s| s.first_lsn),
            after_lsn: self.after_lsn,
        }
    }
}

/// Iterator over the records to replay, from [`Recovery::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    segments: &'a [Segment],
    segment: usize,
    offset: usize,
    lsn: Lsn,
    after_lsn: Lsn,
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        loop {
            let segment = self.segments.get(self.segment)?;
            if self.offset >= segment.valid_len {
                self.segment += 1;
                self.offset = WAL_HEADER_LEN;
                self.lsn = self.segments.get(self.segment)?.first_lsn;
                continue;
            }
            // `scan::read_segment` checked every record up to `valid_len`, checksums included.
            let (len, _, _) = format::read_record_header(&segment.bytes[self.offset..])?;
            let start = self.offset + RECORD_HEADER_LEN;
            let payload = segment.bytes.get(start..start + len)?;
            self.offset = start + len;
            let lsn = self.lsn;
            self.lsn += 1;
            if lsn > self.after_lsn {
                return Some(Record { lsn, payload });
            }
        }
    }
}
