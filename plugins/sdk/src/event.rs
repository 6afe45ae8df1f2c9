//! [`Event`] and [`Value`]: a friendly view over one event of the packed batch the host sends.
//!
//! Nothing is copied: names and values are slices of the batch. Lookups by name scan the
//! event's fields (events have a handful).

use std::str::FromStr;

/// A stream entry ID, `"<ms>-<seq>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntryId {
    /// Milliseconds part (by convention Unix time in ms).
    pub ms: u64,
    /// Sequence number within the millisecond.
    pub seq: u64,
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One event of the batch being routed.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub(crate) index: u32,
    pub(crate) key: &'a str,
    pub(crate) id: EntryId,
    pub(crate) fields: Fields<'a>,
}

impl<'a> Event<'a> {
    /// Builds an event by hand, for unit tests of a plugin. `fields` is packed fields (see
    /// [`crate::pack_fields`]).
    pub fn new(key: &'a str, id: EntryId, fields: &'a [u8]) -> Self {
        Self {
            index: 0,
            key,
            id,
            fields: Fields(fields),
        }
    }

    /// The source stream's key (`"orders"`).
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The entry's ID in its source stream.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// Position of the event in its batch, from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// All fields, in order.
    pub fn fields(&self) -> Fields<'a> {
        self.fields
    }

    /// The value of the field `name` (the first, if repeated).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.fields.get(name)
    }

    /// The value of `name` as bytes.
    pub fn bytes(&self, name: &str) -> Option<&'a [u8]> {
        self.get(name).map(|v| v.as_bytes())
    }

    /// The value of `name` as text; `None` if absent or not UTF-8.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|v| v.as_str())
    }

    /// The value of `name` parsed as `T` (a number, usually); `None` if absent or unparsable.
    pub fn parse<T: FromStr>(&self, name: &str) -> Option<T> {
        self.get(name).and_then(|v| v.parse())
    }
}

/// The fields of an event, in the packed layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields<'a>(pub(crate) &'a [u8]);

impl<'a> Fields<'a> {
    /// The value of the field `name` (the first, if repeated).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.iter()
            .find(|(n, _)| n.as_bytes() == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// (name, value) pairs, in order.
    pub fn iter(&self) -> FieldsIter<'a> {
        FieldsIter(self.0)
    }

    /// The packed bytes.
    pub fn as_packed(&self) -> &'a [u8] {
        self.0
    }
}

impl<'a> IntoIterator for Fields<'a> {
    type Item = (Value<'a>, Value<'a>);
    type IntoIter = FieldsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an event's (name, value) pairs. Stops early on malformed data.
#[derive(Debug, Clone)]
pub struct FieldsIter<'a>(&'a [u8]);

impl<'a> Iterator for FieldsIter<'a> {
    type Item = (Value<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let name = take_chunk(&mut self.0)?;
        let value = take_chunk(&mut self.0)?;
        Some((Value(name), Value(value)))
    }
}

/// Reads a `len: u32 LE, bytes` chunk off the front of `rest`.
pub(crate) fn take_chunk<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    if tail.len() < len {
        return None;
    }
    let (chunk, tail) = tail.split_at(len);
    *rest = tail;
    Some(chunk)
}

/// A field name or value: bytes, readable as text or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value<'a>(&'a [u8]);

impl<'a> Value<'a> {
    /// The raw bytes (stream fields are binary-safe).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The bytes as text, if they are UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }

    /// The text parsed as `T` (`i64`, `f64`, `u32`, ...), if it parses.
    pub fn parse<T: FromStr>(&self) -> Option<T> {
        self.as_str()?.parse().ok()
    }

    /// The value as a signed integer.
    pub fn as_i64(&self) -> Option<i64> {
        self.parse()
    }

    /// The value as a floating-point number.
    pub fn as_f64(&self) -> Option<f64> {
        self.parse()
    }

    /// Whether the bytes equal `other`'s.
    pub fn is(&self, other: impl AsRef<[u8]>) -> bool {
        self.0 == other.as_ref()
    }
}

impl AsRef<[u8]> for Value<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

/// Reads the batch the host sent: events back to back, each `ms: u64 LE, seq: u64 LE,
/// fields-len: u32 LE, fields`.
pub(crate) struct BatchReader<'a> {
    rest: &'a [u8],
}

impl<'a> BatchReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next event's ID and packed fields; `None` at the end or on malformed data.
    pub(crate) fn next_event(&mut self) -> Option<(EntryId, &'a [u8])> {
        let (ms, rest) = self.rest.split_first_chunk::<8>()?;
        let (seq, rest) = rest.split_first_chunk::<8>()?;
        let mut rest = rest;
        let fields = take_chunk(&mut rest)?;
        self.rest = rest;
        Some((
            EntryId {
                ms: u64::from_le_bytes(*ms),
                seq: u64::from_le_bytes(*seq),
            },
            fields,
        ))
    }
}
