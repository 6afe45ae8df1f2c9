//! The reply value a command returns, before it is encoded for a connection's protocol.
//!
//! Replies nest (arrays of maps of arrays…) and are encoded recursively. Stream entries, the
//! bulk of most replies, have their own packed form, [`StreamEntries`]: one buffer for all field
//! bytes instead of a heap object per field.

use bytes::Bytes;

/// One reply. Variants that RESP2 lacks are downgraded by the encoder the way Redis does.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// A simple string, `+<text>` (must not contain `\r` or `\n`).
    Simple(String),
    /// An error, `-<text>`; the text starts with its code, e.g. `ERR syntax error`.
    Error(String),
    /// A signed integer, `:<n>`.
    Int(i64),
    /// A bulk string, `$<len>`.
    Bulk(Bytes),
    /// The null bulk string: RESP2 `$-1`, RESP3 `_`.
    Null,
    /// The null array (e.g. a timed-out `BLOCK`): RESP2 `*-1`, RESP3 `_`.
    NullArray,
    /// An array, `*<n>`.
    Array(Vec<Reply>),
    /// A map: RESP3 `%<n>`, RESP2 a flat array of keys and values.
    Map(Vec<(Reply, Reply)>),
    /// A set: RESP3 `~<n>`, RESP2 an array.
    Set(Vec<Reply>),
    /// A double: RESP3 `,<x>`, RESP2 a bulk string.
    Double(f64),
    /// A boolean: RESP3 `#t`/`#f`, RESP2 `:1`/`:0`.
    Bool(bool),
    /// Text meant for humans (`INFO`, `CLIENT LIST`): RESP3 verbatim `=<len>\r\ntxt:…`, RESP2 bulk.
    Verbatim(String),
    /// A list of stream entries, each `[id, [field, value, …]]`.
    Entries(StreamEntries),
}

impl Reply {
    /// An error reply from its full text (`"ERR …"`, `"WRONGTYPE …"`).
    pub fn error(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    /// A bulk string copied from `bytes`.
    pub fn bulk(bytes: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(bytes.as_ref()))
    }

    /// A bulk string holding a static text.
    pub fn bulk_static(text: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(text.as_bytes()))
    }

    /// An integer from any unsigned count, saturating at `i64::MAX`.
    pub fn count(n: impl TryInto<i64>) -> Reply {
        Reply::Int(n.try_into().unwrap_or(i64::MAX))
    }

    /// True for error replies (counted in `INFO errorstats`, abort nothing in `EXEC`).
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// Where one entry's fields sit in [`StreamEntries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntrySlot {
    pub(crate) ms: u64,
    pub(crate) seq: u64,
    /// Index into `ends` one past this entry's last field; `None` for a deleted entry, whose
    /// fields are sent as a null array (as `XREADGROUP` does for history it no longer has).
    pub(crate) fields_end: Option<usize>,
}

/// Stream entries packed for a reply: all field bytes in one buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamEntries {
    data: Vec<u8>,
    /// End offset in `data` of every field, in order.
    ends: Vec<usize>,
    pub(crate) entries: Vec<EntrySlot>,
    /// Four-element entries (`XREADGROUP … CLAIM`): each entry also carries two integers.
    pub(crate) with_meta: bool,
    /// `(entry index, ms since last delivery, previous delivery count)` for the entries that
    /// have them, ascending by index; the others send `0 0`.
    pub(crate) meta: Vec<(usize, u64, u64)>,
}

impl StreamEntries {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts an entry with ID `<ms>-<seq>`; its fields follow with [`StreamEntries::push_field`].
    pub fn begin_entry(&mut self, ms: u64, seq: u64) {
        self.entries.push(EntrySlot {
            ms,
            seq,
            fields_end: Some(self.ends.len()),
        });
    }

    /// Makes every entry a four-element array `[id, fields, idle-ms, delivery-count]`, as
    /// `XREADGROUP … CLAIM` replies (Redis 8.4); entries given no [`StreamEntries::set_meta`]
    /// send `0 0`.
    pub fn enable_meta(&mut self) {
        self.with_meta = true;
    }

    /// The delivery data of the entry begun last (only sent after
    /// [`StreamEntries::enable_meta`]): ms since its previous delivery and its delivery count
    /// before this one.
    pub fn set_meta(&mut self, idle_ms: u64, previous_count: u64) {
        if let Some(index) = self.entries.len().checked_sub(1) {
            self.meta.push((index, idle_ms, previous_count));
        }
    }

    /// Total bytes of the field names and values held so far (what `MAXSIZE` counts).
    pub fn field_bytes(&self) -> usize {
        self.data.len()
    }

    /// Adds a field name or value to the entry begun last.
    pub fn push_field(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.ends.push(self.data.len());
        if let Some(last) = self.entries.last_mut() {
            last.fields_end = Some(self.ends.len());
        }
    }

    /// Adds an entry whose data is gone (deleted or trimmed): `[id, nil]`.
    pub fn push_deleted(&mut self, ms: u64, seq: u64) {
        self.entries.push(EntrySlot {
            ms,
            seq,
            fields_end: None,
        });
    }

    /// The entries' IDs in order, with `true` for an entry whose data is gone.
    pub fn ids(&self) -> impl Iterator<Item = (u64, u64, bool)> + '_ {
        self.entries
            .iter()
            .map(|slot| (slot.ms, slot.seq, slot.fields_end.is_none()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in order: `(ms, seq, Some(fields))`, or `None` fields for a deleted entry.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, Option<Vec<&[u8]>>)> + '_ {
        let mut field_start = 0;
        self.entries.iter().map(move |slot| {
            let fields = slot.fields_end.map(|end| {
                let fields = (field_start..end).map(|i| self.field(i)).collect();
                field_start = end;
                fields
            });
            (slot.ms, slot.seq, fields)
        })
    }

    pub(crate) fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }
}
