//! The payload of one write-ahead log record: the commands that replay a change.
//!
//! Like Redis's AOF, Sluice logs each change as commands that reproduce it exactly, with
//! whatever was decided at run time written out: `XADD` with the ID it generated, trims as the
//! exact length they left, deliveries as `XCLAIM … TIME … RETRYCOUNT …`. Replaying them through
//! the ordinary command handlers rebuilds the state. One record holds every command of one
//! change, so a torn tail can never replay half of it.
//!
//! Layout (little-endian): `u8 version`, `u32 db`, `u32 command count`, then per command
//! `u32 argc` and per argument `u32 len` + bytes.

use bytes::Bytes;

/// Version of the record layout.
pub const RECORD_VERSION: u8 = 1;

/// A record being built.
#[derive(Debug)]
pub struct Record {
    buf: Vec<u8>,
    commands: u32,
    /// Arguments still owed by the command begun last.
    owed: u32,
}

impl Record {
    /// An empty record for database `db`.
    pub fn new(db: usize) -> Record {
        let mut buf = Vec::with_capacity(128);
        buf.push(RECORD_VERSION);
        buf.extend_from_slice(&u32::try_from(db).unwrap_or(u32::MAX).to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        Record {
            buf,
            commands: 0,
            owed: 0,
        }
    }

    /// Starts a command of `argc` arguments (its name included), given next with `arg`.
    pub fn begin(&mut self, argc: usize) -> &mut Self {
        debug_assert_eq!(self.owed, 0, "previous command incomplete");
        let argc = u32::try_from(argc).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&argc.to_le_bytes());
        self.commands += 1;
        self.owed = argc;
        self
    }

    /// One argument of the current command.
    pub fn arg(&mut self, bytes: &[u8]) -> &mut Self {
        self.owed = self.owed.saturating_sub(1);
        self.buf
            .extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
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
        // Written in place, its length filled in after.
        self.owed = self.owed.saturating_sub(1);
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        id.write_to(&mut self.buf);
        let len = u32::try_from(self.buf.len() - at - 4).unwrap_or(u32::MAX);
        self.buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
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
        self.buf[5..9].copy_from_slice(&self.commands.to_le_bytes());
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
}

/// Reads a payload written by [`Record::finish`].
pub fn decode(payload: &[u8]) -> Result<Decoded, RecordError> {
    let bytes = Bytes::copy_from_slice(payload);
    let mut pos = 0;
    let version = *bytes.first().ok_or(RecordError::Truncated(0))?;
    if version != RECORD_VERSION {
        return Err(RecordError::Version(version));
    }
    pos += 1;
    let db = read_u32(&bytes, &mut pos)? as usize;
    let count = read_u32(&bytes, &mut pos)?;
    let mut commands = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        let argc = read_u32(&bytes, &mut pos)?;
        let mut args = Vec::with_capacity(argc.min(1024) as usize);
        for _ in 0..argc {
            let len = read_u32(&bytes, &mut pos)? as usize;
            let end = pos
                .checked_add(len)
                .filter(|&end| end <= bytes.len())
                .ok_or(RecordError::Truncated(pos))?;
            args.push(bytes.slice(pos..end));
            pos = end;
        }
        commands.push(args);
    }
    Ok(Decoded { db, commands })
}

fn read_u32(bytes: &[u8], pos: &mut usize) -> Result<u32, RecordError> {
    let raw = bytes
        .get(*pos..*pos + 4)
        .ok_or(RecordError::Truncated(*pos))?;
    *pos += 4;
    Ok(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut record = Record::new(3);
        record.command(&[b"XADD", b"k", b"1-1", b"f", b"v"]);
        record.begin(3).arg(b"XTRIM").arg(b"k").int(5u64);
        let payload = record.finish();
        let decoded = decode(&payload).expect("valid");
        assert_eq!(decoded.db, 3);
        assert_eq!(decoded.commands.len(), 2);
        assert_eq!(
            decoded.commands[1],
            vec![Bytes::from("XTRIM"), Bytes::from("k"), Bytes::from("5")]
        );
        for cut in 0..payload.len() {
            assert!(decode(&payload[..cut]).is_err(), "cut {cut}");
        }
        assert_eq!(decode(&[9]), Err(RecordError::Version(9)));
    }
}
