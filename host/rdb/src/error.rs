//! The crate's one error type, [`RdbError`], and the two Redis replies it maps to.
//!
//! `RESTORE` in Redis answers a payload it refuses with one of exactly two texts: the footer
//! check (RDB version newer than the server knows, or a CRC mismatch) gives
//! [`VERSION_OR_CHECKSUM`], anything wrong in the body gives [`BAD_DATA_FORMAT`]. `Display`
//! is that reply text (without the leading `-`), so the server can reply `-{err}` as it does
//! for the stream engine's errors; [`RdbError::detail`] says what exactly was wrong, for logs
//! and tests.

use thiserror::Error;

/// Redis's reply to a payload whose footer is wrong (version or CRC).
pub const VERSION_OR_CHECKSUM: &str = "ERR DUMP payload version or checksum are wrong";

/// Redis's reply to a payload whose body cannot be parsed.
pub const BAD_DATA_FORMAT: &str = "ERR Bad data format";

/// Why [`restore`](crate::restore) refused a payload. `Display` is Redis's reply text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum RdbError {
    /// The footer is unusable; Redis replies [`VERSION_OR_CHECKSUM`].
    #[error("{VERSION_OR_CHECKSUM}")]
    Footer(FooterError),
    /// The body is not a value this crate can read; Redis replies [`BAD_DATA_FORMAT`].
    #[error("{BAD_DATA_FORMAT}")]
    BadData {
        /// Offset in the payload of the item that is wrong (for an item inside a listpack,
        /// intset or ziplist, the offset of that blob).
        offset: usize,
        /// What is wrong, e.g. `"listpack entry runs past the end"`.
        what: &'static str,
    },
}

/// What is wrong with a payload's footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FooterError {
    /// Shorter than the 10-byte footer (2-byte version, 8-byte CRC). Like Redis, a payload
    /// of just a valid footer passes this check and is refused as bad data.
    TooShort {
        /// The payload's length in bytes.
        len: usize,
    },
    /// An RDB version this crate does not read (see [`crate::READ_VERSIONS`]).
    Version {
        /// The version found in the footer.
        found: u16,
    },
    /// The CRC-64 in the footer does not match the bytes before it.
    Checksum,
}

impl RdbError {
    /// The Redis reply text, without the leading `-` (the same as `Display`).
    pub fn reply(&self) -> &'static str {
        match self {
            RdbError::Footer(_) => VERSION_OR_CHECKSUM,
            RdbError::BadData { .. } => BAD_DATA_FORMAT,
        }
    }

    /// What exactly was wrong, for logs: the reply texts are deliberately vague.
    pub fn detail(&self) -> String {
        match self {
            RdbError::Footer(FooterError::TooShort { len }) => {
                format!("DUMP payload of {len} bytes is shorter than its 10-byte footer")
            }
            RdbError::Footer(FooterError::Version { found }) => format!(
                "DUMP payload has RDB version {found}, which this build does not read \
                 (it reads 0 to 12, and Valkey's 80 and 81)"
            ),
            RdbError::Footer(FooterError::Checksum) => {
                "DUMP payload CRC-64 does not match its contents".to_string()
            }
            RdbError::BadData { offset, what } => {
                format!("DUMP payload is malformed at byte {offset}: {what}")
            }
        }
    }

    pub(crate) fn bad(offset: usize, what: &'static str) -> RdbError {
        RdbError::BadData { offset, what }
    }
}
