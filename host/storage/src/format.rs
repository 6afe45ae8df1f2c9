//! The on-disk format: file names, file headers and record framing, all little-endian.
//!
//! This is the contract with every data directory ever written, so it changes only with a new
//! [`FORMAT_VERSION`], and the committed fixtures under `tests/fixtures/v<N>/` prove that each
//! older version still loads.
//!
//! # Format v1
//!
//! Files in the data directory:
//!
//! - `wal-<first LSN, 20 digits>.log`: a log segment, holding consecutive records from its first
//!   LSN on. Header, 20 bytes: magic `SLUICWAL`, `u32` format version, `u64` first LSN. Then
//!   records, each `[u32 len][u32 crc][u64 lsn][payload: len bytes]`, where `crc` is CRC-32C over
//!   the 8 `lsn` bytes followed by the payload.
//! - `snapshot-<LSN, 20 digits>.snap`: the state after applying records 1..=LSN. Header, 32
//!   bytes: magic `SLUICSNP`, `u32` format version, `u64` LSN, `u64` payload length, `u32`
//!   CRC-32C over the 8 LSN bytes followed by the payload. Then the payload.
//! - `*.tmp`: a snapshot being written; ignored and removed at startup.
//! - `LOCK`: held (flock) by the process that owns the directory.

use crate::Lsn;

/// The newest format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Magic bytes opening a log segment.
pub const WAL_MAGIC: [u8; 8] = *b"SLUICWAL";
/// Magic bytes opening a snapshot.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"SLUICSNP";
/// Length of a segment header, bytes.
pub const WAL_HEADER_LEN: usize = 20;
/// Length of a snapshot header, bytes.
pub const SNAPSHOT_HEADER_LEN: usize = 32;
/// Length of a record header (`len`, `crc`, `lsn`), bytes.
pub const RECORD_HEADER_LEN: usize = 16;

/// The segment header for a segment whose first record is `first_lsn`.
pub(crate) fn wal_header(first_lsn: Lsn) -> [u8; WAL_HEADER_LEN] {
    let mut h = [0u8; WAL_HEADER_LEN];
    h[..8].copy_from_slice(&WAL_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&first_lsn.to_le_bytes());
    h
}

/// The snapshot header for `payload` covering records up to `lsn`.
pub(crate) fn snapshot_header(lsn: Lsn, payload: &[u8]) -> [u8; SNAPSHOT_HEADER_LEN] {
    let mut h = [0u8; SNAPSHOT_HEADER_LEN];
    h[..8].copy_from_slice(&SNAPSHOT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&lsn.to_le_bytes());
    h[20..28].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[28..32].copy_from_slice(&checksum(lsn, payload).to_le_bytes());
    h
}

/// CRC-32C over the LSN's 8 little-endian bytes followed by the payload.
pub(crate) fn checksum(lsn: Lsn, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.to_le_bytes()), payload)
}

/// Appends one framed record to `buf`.
pub(crate) fn encode_record(buf: &mut Vec<u8>, lsn: Lsn, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    buf.reserve(RECORD_HEADER_LEN + payload.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&checksum(lsn, payload).to_le_bytes());
    buf.extend_from_slice(&lsn.to_le_bytes());
    buf.extend_from_slice(payload);
}

/// Why the bytes at some offset are not the record expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadRecord {
    /// Fewer bytes left than the record header or its declared length: what a cut-off write
    /// leaves.
    Incomplete(String),
    /// The checksum does not match: a partly written or damaged record.
    Checksum(String),
    /// A record with a valid checksum but the wrong LSN: never a torn write.
    WrongLsn(String),
}

impl BadRecord {
    /// The reason, for an error message.
    pub(crate) fn reason(&self) -> &str {
        match self {
            BadRecord::Incomplete(r) | BadRecord::Checksum(r) | BadRecord::WrongLsn(r) => r,
        }
    }
}

/// Decodes the record at the start of `bytes`, which must carry `expected_lsn`. Returns the
/// payload and the record's total length in bytes.
pub(crate) fn decode_record(bytes: &[u8], expected_lsn: Lsn) -> Result<(&[u8], usize), BadRecord> {
    let (len, crc, lsn) = read_record_header(bytes).ok_or_else(|| {
        BadRecord::Incomplete(format!(
            "incomplete record header ({} of {RECORD_HEADER_LEN} bytes)",
            bytes.len()
        ))
    })?;
    let total = RECORD_HEADER_LEN + len;
    let Some(payload) = bytes.get(RECORD_HEADER_LEN..total) else {
        return Err(BadRecord::Incomplete(format!(
            "record declares {len} payload bytes but only {} remain",
            bytes.len() - RECORD_HEADER_LEN
        )));
    };
    let computed = checksum(lsn, payload);
    if computed != crc {
        return Err(BadRecord::Checksum(format!(
            "checksum mismatch (stored {crc:#010x}, computed {computed:#010x})"
        )));
    }
    if lsn != expected_lsn {
        return Err(BadRecord::WrongLsn(format!(
            "record has LSN {lsn} where LSN {expected_lsn} was expected"
        )));
    }
    Ok((payload, total))
}

/// `(payload len, crc, lsn)` of the record header at the start of `bytes`, if it is all there.
pub(crate) fn read_record_header(bytes: &[u8]) -> Option<(usize, u32, Lsn)> {
    let len = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?);
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let lsn = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some((len as usize, crc, lsn))
}

/// Reads `(magic, version, lsn)` from a file header, if at least 20 bytes are there.
pub(crate) fn read_header_prefix(bytes: &[u8]) -> Option<([u8; 8], u32, u64)> {
    let magic = bytes.get(0..8)?.try_into().ok()?;
    let version = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?);
    let lsn = u64::from_le_bytes(bytes.get(12..20)?.try_into().ok()?);
    Some((magic, version, lsn))
}

/// File name of the segment starting at `first_lsn`.
pub fn segment_name(first_lsn: Lsn) -> String {
    format!("wal-{first_lsn:020}.log")
}

/// File name of the snapshot covering records up to `lsn`.
pub fn snapshot_name(lsn: Lsn) -> String {
    format!("snapshot-{lsn:020}.snap")
}

/// What a file in the data directory is, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileName {
    /// `wal-<first lsn>.log`.
    Segment(Lsn),
    /// `snapshot-<lsn>.snap`.
    Snapshot(Lsn),
    /// `*.tmp`: an unfinished snapshot.
    Temp,
    /// Anything else, including `LOCK`.
    Other,
}

impl FileName {
    /// Classifies a file name.
    pub(crate) fn parse(name: &str) -> FileName {
        fn lsn(digits: &str) -> Option<Lsn> {
            (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse().ok())
                .flatten()
        }
        if name.ends_with(".tmp") {
            return FileName::Temp;
        }
        let segment = name
            .strip_prefix("wal-")
            .and_then(|r| r.strip_suffix(".log"));
        if let Some(n) = segment.and_then(lsn) {
            return FileName::Segment(n);
        }
        let snapshot = name
            .strip_prefix("snapshot-")
            .and_then(|r| r.strip_suffix(".snap"));
        match snapshot.and_then(lsn) {
            Some(n) => FileName::Snapshot(n),
            None => FileName::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_name(7), "wal-00000000000000000007.log");
        assert_eq!(FileName::parse(&segment_name(7)), FileName::Segment(7));
        assert_eq!(
            FileName::parse(&snapshot_name(u64::MAX)),
            FileName::Snapshot(u64::MAX)
        );
        assert_eq!(
            FileName::parse("snapshot-00000000000000000003.snap.tmp"),
            FileName::Temp
        );
        assert_eq!(FileName::parse("wal-7.log"), FileName::Other);
        assert_eq!(FileName::parse("LOCK"), FileName::Other);
    }

    #[test]
    fn record_round_trip_and_each_failure() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 9, b"hello");
        assert_eq!(buf.len(), RECORD_HEADER_LEN + 5);
        assert_eq!(decode_record(&buf, 9), Ok((&b"hello"[..], buf.len())));
        assert!(matches!(
            decode_record(&buf, 10),
            Err(BadRecord::WrongLsn(_))
        ));
        assert!(matches!(
            decode_record(&buf[..10], 9),
            Err(BadRecord::Incomplete(_))
        ));
        assert!(matches!(
            decode_record(&buf[..20], 9),
            Err(BadRecord::Incomplete(_))
        ));
        let mut flipped = buf.clone();
        flipped[18] ^= 1;
        assert!(matches!(
            decode_record(&flipped, 9),
            Err(BadRecord::Checksum(_))
        ));
    }
}
