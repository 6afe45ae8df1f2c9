//! The payload of one write-ahead log record: the commands that replay a change.
//!
//! Like Redis's AOF, Sluice logs each change as commands that reproduce it exactly, with
//! whatever was decided at run time written out: `XADD` with the ID it generated, trims as the
//! exact length they left, deliveries as `XCLAIM … TIME … RETRYCOUNT …`. Replaying them through
//! the ordinary command handlers rebuilds the state. One record holds every command of one
//! change, so a torn tail can never replay half of it.
//!
//! Layouts (the first byte says which):
//! - **2** (written): `u8 version`, then LEB128 varints: `db`, `command count`, and per command
//!   `argc`, per argument `len` + bytes. An `XADD` of two small fields takes 39 bytes.
//! - **1** (read only): `u8 version`, `u32 db`, `u32 command count`, per command `u32 argc`,
//!   per argument `u32 len` + bytes, all little-endian. The same `XADD` took 69 bytes.

use std::cell::Cell;

use bytes::Bytes;
use sluice_streams::varint;

/// Version of the record layout this build writes.
pub const RECORD_VERSION: u8 = 2;

/// The first layout, still read from older logs.
const RECORD_VERSION_1: u8 = 1;

/// Above this capacity, bytes, a payload buffer is freed rather than kept for reuse.
const SPARE_MAX_BYTES: usize = 64 * 1024;

thread_local! {
    /// The last logged payload's buffer, reused by the next record built on this thread, so
    /// a write command logs without allocating.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Hands a payload's buffer back once the log has copied it (see [`SPARE`]).
pub fn recycle(mut payload: Vec<u8>) {
    if payload.capacity() <= SPARE_MAX_BYTES {
        payload.clear();
        SPARE.with(|spare| spare.set(payload));
    }
}

/// A record being built.
#[derive(Debug)]
pub struct Record {
    buf: Vec<u8>,
    /// Offset of the one byte reserved for the command count.
    count_at: usize,
    commands: u64,
    /// Arguments still owed by the command begun last.
    owed: u64,
}

impl Record {
    /// An empty record for database `db`.
    pub fn new(db: usize) -> Record {
        let mut buf = SPARE.with(Cell::take);
        buf.reserve(64);
        buf.push(RECORD_VERSION);
        varint::put(&mut buf, db as u64);
        // One byte for the command count, widened by `finish` past 127 commands.
        let count_at = buf.len();
        buf.push(0);
        Record {
            buf,
            count_at,
            commands: 0,
            owed: 0,
        }
    }

    /// Starts a command of `argc` arguments (its name included), given next with `arg`.
    pub fn begin(&mut self, argc: usize) -> &mut Self {
        debug_assert_eq!(self.owed, 0, "previous command incomplete");
        varint::put(&mut self.buf, argc as u64);
        self.commands += 1;
        self.owed = argc as u64;
        self
    }

    /// One argument of the current command.
    pub fn arg(&mut self, bytes: &[u8]) -> &mut Self {
        self.owed = self.owed.saturating_sub(1);
        varint::put(&mut self.buf, bytes.len() as u64);
        self.buf.extend_from_slice(bytes);
        self
    }

    /// One integer argument, in decimal.
    pub fn int(&mut self, n: impl itoa::Integer) -> &mut Self {
        let mut text = itoa::Buffer::new();
        let text = text.format(n);
        self.arg(text.as_bytes())
    }

    /// One stream ID argument, `"<ms>-<seq>"`.
    pub fn id(&mut self, id: sluice_streams::StreamId) -> &mut Self {
        // Written in place after a one-byte length, filled in after: the longest ID text,
        // `u64::MAX-u64::MAX`, is 41 bytes, well under a one-byte varint's 127.
        self.owed = self.owed.saturating_sub(1);
        let at = self.buf.len();
        self.buf.push(0);
        id.write_to(&mut self.buf);
        self.buf[at] = (self.buf.len() - at - 1) as u8;
        self
    }

    /// A whole command at once.
    pub fn command(&mut self, args: &[&[u8]]) -> &mut Self {
        self.begin(args.len());
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// True if no command was added.
    pub fn is_empty(&self) -> bool {
        self.commands == 0
    }

    /// The encoded payload.
    pub fn finish(mut self) -> Vec<u8> {
        if self.commands < 0x80 {
            self.buf[self.count_at] = self.commands as u8;
        } else {
            let mut count = Vec::with_capacity(10);
            varint::put(&mut count, self.commands);
            self.buf
                .splice(self.count_at..=self.count_at, count)
                .for_each(drop);
        }
        self.buf
    }
}

/// A record read back: the database and its commands' arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Database index the commands run in.
    pub db: usize,
    /// Each command's arguments, name first.
    pub commands: Vec<Vec<Bytes>>,
}

/// Why a record could not be read (the storage layer's checksum passed, so this means a bug
/// or a newer layout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("log record layout version {0} is newer than this build reads ({RECORD_VERSION})")]
    Version(u8),
    #[error("log record truncated at byte {0}")]
    Truncated(usize),
    #[error("log record has a malformed number at byte {0}")]
    Malformed(usize),
    #[error("log record has {0} bytes after its last command")]
    Trailing(usize),
}

/// Reads a payload written by [`Record::finish`], in either layout.
pub fn decode(payload: &[u8]) -> Result<Decoded, RecordError> {
    let bytes = Bytes::copy_from_slice(payload);
    let mut reader = Reader {
        bytes: &bytes,
        pos: 1,
        wide: false,
    };
    match bytes.first() {
        None => return Err(RecordError::Truncated(0)),
        Some(&RECORD_VERSION) => {}
        Some(&RECORD_VERSION_1) => reader.wide = true,
        Some(&other) => return Err(RecordError::Version(other)),
    }
    let db = usize::try_from(reader.number()?).map_err(|_| RecordError::Malformed(1))?;
    let count = reader.number()?;
    let mut commands = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        let argc = reader.number()?;
        let mut args = Vec::with_capacity(argc.min(1024) as usize);
        for _ in 0..argc {
            let at = reader.pos;
            let len = usize::try_from(reader.number()?).map_err(|_| RecordError::Malformed(at))?;
            let end = reader
                .pos
                .checked_add(len)
                .filter(|&end| end <= bytes.len())
                .ok_or(RecordError::Truncated(reader.pos))?;
            args.push(bytes.slice(reader.pos..end));
            reader.pos = end;
        }
        commands.push(args);
    }
    if reader.pos != bytes.len() {
        return Err(RecordError::Trailing(bytes.len() - reader.pos));
    }
    Ok(Decoded { db, commands })
}

/// Reads the numbers of one payload: `u32` little-endian in layout 1, varints in layout 2.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    wide: bool,
}

impl Reader<'_> {
    fn number(&mut self) -> Result<u64, RecordError> {
        let start = self.pos;
        if self.wide {
            let raw = self
                .bytes
                .get(start..start + 4)
                .ok_or(RecordError::Truncated(start))?;
            self.pos += 4;
            return Ok(u64::from(u32::from_le_bytes([
                raw[0], raw[1], raw[2], raw[3],
            ])));
        }
        match varint::checked_get(self.bytes, &mut self.pos) {
            Some(value) => Ok(value),
            None if self.pos >= self.bytes.len() => Err(RecordError::Truncated(self.pos)),
            None => Err(RecordError::Malformed(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_streams::StreamId;

    fn sample() -> Record {
        let mut record = Record::new(3);
        record.command(&[b"XADD", b"k", b"1-1", b"f", b"v"]);
        record.begin(3).arg(b"XTRIM").arg(b"k").int(5u64);
        record
    }

    #[test]
    fn round_trip() {
        let payload = sample().finish();
        let decoded = decode(&payload).expect("valid");
        assert_eq!(decoded.db, 3);
        assert_eq!(decoded.commands.len(), 2);
        assert_eq!(
            decoded.commands[0],
            ["XADD", "k", "1-1", "f", "v"].map(Bytes::from).to_vec()
        );
        assert_eq!(
            decoded.commands[1],
            ["XTRIM", "k", "5"].map(Bytes::from).to_vec()
        );
        for cut in 0..payload.len() {
            assert!(decode(&payload[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(RecordError::Trailing(1)));
        assert_eq!(decode(&[9]), Err(RecordError::Version(9)));
    }

    #[test]
    fn layout_2_is_compact() {
        // An `XADD` of two small fields: version, db, count, argc, then 7 length-prefixed args.
        let mut record = Record::new(0);
        record
            .begin(7)
            .arg(b"XADD")
            .arg(b"s")
            .id(StreamId::new(1_763_993_456_789, 0))
            .arg(b"f1")
            .arg(b"v1")
            .arg(b"f2")
            .arg(b"v2");
        let payload = record.finish();
        assert_eq!(payload.len(), 39);
        assert_eq!(&payload[..6], &[2, 0, 1, 7, 4, b'X']);
        let decoded = decode(&payload).expect("valid");
        assert_eq!(decoded.commands[0][2], Bytes::from("1763993456789-0"));
    }

    #[test]
    fn wide_numbers_and_many_commands() {
        let max = StreamId::new(u64::MAX, u64::MAX);
        let big = vec![b'x'; 300];
        let mut record = Record::new(200);
        for _ in 0..130 {
            record.begin(2).arg(&big).id(max);
        }
        let payload = record.finish();
        let decoded = decode(&payload).expect("valid");
        assert_eq!(decoded.db, 200);
        assert_eq!(decoded.commands.len(), 130);
        let expected = vec![Bytes::from(big), Bytes::from(max.to_string())];
        assert!(decoded.commands.iter().all(|c| *c == expected));
    }

    #[test]
    fn layout_1_still_reads() {
        // `XADD k 1-1 f v` in database 3, as the first layout wrote it.
        let mut v1 = vec![1u8, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0];
        for arg in ["XADD", "k", "1-1", "f", "v"] {
            v1.extend_from_slice(&(arg.len() as u32).to_le_bytes());
            v1.extend_from_slice(arg.as_bytes());
        }
        let decoded = decode(&v1).expect("valid v1");
        assert_eq!(decoded.db, 3);
        assert_eq!(
            decoded.commands,
            vec![["XADD", "k", "1-1", "f", "v"].map(Bytes::from).to_vec()]
        );
        for cut in 0..v1.len() {
            assert!(decode(&v1[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn malformed_varints_are_errors() {
        // db = a varint that never ends; then one longer than 64 bits.
        assert_eq!(decode(&[2, 0x80, 0x80]), Err(RecordError::Truncated(3)));
        let mut long = vec![2u8];
        long.extend_from_slice(&[0xff; 10]);
        long.push(0);
        assert_eq!(decode(&long), Err(RecordError::Malformed(1)));
    }
}
