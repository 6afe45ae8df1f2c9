//! [`Batch`]: events packed for the plugin, in the byte layout `wit/sluice.wit` documents for
//! `routing.route` — one `list<u8>` per call instead of a record per event, which is what keeps
//! the crossing cheap (DESIGN, "The crossing costs").
//!
//! Per event: `ms: u64 LE, seq: u64 LE, fields-len: u32 LE`, then `fields-len` bytes of packed
//! fields, each `name-len: u32 LE, name, value-len: u32 LE, value`.

use crate::{PackedFields, PluginError};

/// A stream entry ID, `"<ms>-<seq>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntryId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence number within the millisecond.
    pub seq: u64,
}

impl From<(u64, u64)> for EntryId {
    fn from((ms, seq): (u64, u64)) -> Self {
        Self { ms, seq }
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One event to route, borrowed from wherever the caller keeps it.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// The entry's ID in its source stream.
    pub id: EntryId,
    /// The entry's fields as stored by `XADD`: name, value, name, value, ... (an odd trailing
    /// name gets an empty value).
    pub fields: &'a [&'a [u8]],
}

/// A reusable buffer of packed events. Build one with [`Batch::push`] and hand it to
/// [`crate::RouterInstance::route_batch`], or let [`crate::RouterInstance::route`] do both.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    bytes: Vec<u8>,
    count: u32,
    /// Where each event starts in `bytes`.
    starts: Vec<usize>,
    /// While an event is being built field by field: fields pushed so far (an odd count means
    /// a name waits for its value).
    open_fields: Option<usize>,
}

/// Bytes of an event's header: ms, seq, fields-len.
const EVENT_HEADER: usize = 8 + 8 + 4;

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
        self.count = 0;
        self.open_fields = None;
    }

    /// Number of events in the batch.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The packed bytes, as the plugin receives them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends one event. Fails only for an event whose fields add up to 4 GiB or more, or
    /// past 2^32 events; the batch is then left as it was.
    pub fn push(&mut self, id: EntryId, fields: &[&[u8]]) -> Result<(), PluginError> {
        let too_large = || PluginError::EventTooLarge {
            ms: id.ms,
            seq: id.seq,
        };
        let pairs = fields.len().div_ceil(2);
        let fields_len: usize = fields.iter().map(|f| f.len()).sum::<usize>() + pairs * 8;
        let fields_len = u32::try_from(fields_len).map_err(|_| too_large())?;
        let count = self.count.checked_add(1).ok_or_else(too_large)?;

        self.end_event();
        self.bytes.reserve(EVENT_HEADER + fields_len as usize);
        self.starts.push(self.bytes.len());
        self.bytes.extend_from_slice(&id.ms.to_le_bytes());
        self.bytes.extend_from_slice(&id.seq.to_le_bytes());
        self.bytes.extend_from_slice(&fields_len.to_le_bytes());
        for pair in fields.chunks(2) {
            let name = pair[0];
            let value = pair.get(1).copied().unwrap_or_default();
            // Each length is at most `fields_len`, which fits in a u32.
            self.bytes
                .extend_from_slice(&(name.len() as u32).to_le_bytes());
            self.bytes.extend_from_slice(name);
            self.bytes
                .extend_from_slice(&(value.len() as u32).to_le_bytes());
            self.bytes.extend_from_slice(value);
        }
        self.count = count;
        Ok(())
    }

    /// Starts an event whose fields follow one at a time through [`Batch::push_field`]
    /// (name, value, name, value, ...): how a reader streaming entries out of storage fills a
    /// batch without collecting each event's fields first. The event is complete at the next
    /// `begin_event`, [`Batch::push`], [`Batch::end_event`] or [`Batch::event`].
    pub fn begin_event(&mut self, id: EntryId) {
        self.end_event();
        self.starts.push(self.bytes.len());
        self.bytes.extend_from_slice(&id.ms.to_le_bytes());
        self.bytes.extend_from_slice(&id.seq.to_le_bytes());
        self.bytes.extend_from_slice(&0u32.to_le_bytes());
        self.count = self.count.saturating_add(1);
        self.open_fields = Some(0);
    }

    /// One field name or value of the event begun last. Fields of over 4 GiB are cut (no
    /// stream entry holds one: the protocol caps bulk strings far below).
    pub fn push_field(&mut self, bytes: &[u8]) {
        let Some(n) = self.open_fields.as_mut() else {
            return;
        };
        *n += 1;
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&bytes[..len as usize]);
    }

    /// Completes the event begun last: writes its length, and gives an odd trailing name an
    /// empty value. Does nothing when no event is open.
    pub fn end_event(&mut self) {
        let Some(fields) = self.open_fields.take() else {
            return;
        };
        if fields % 2 == 1 {
            self.bytes.extend_from_slice(&0u32.to_le_bytes());
        }
        let Some(&start) = self.starts.last() else {
            return;
        };
        let len_at = start + 16;
        let fields_len = self.bytes.len() - len_at - 4;
        let fields_len = u32::try_from(fields_len).unwrap_or(u32::MAX);
        self.bytes[len_at..len_at + 4].copy_from_slice(&fields_len.to_le_bytes());
    }

    /// Event `index`: its ID and its fields as packed. `None` past the end.
    pub fn event(&mut self, index: usize) -> Option<(EntryId, PackedFields<'_>)> {
        self.end_event();
        self.get(index)
    }

    /// [`Batch::event`] on a batch with no event left open.
    pub fn get(&self, index: usize) -> Option<(EntryId, PackedFields<'_>)> {
        let start = *self.starts.get(index)?;
        let header = self.bytes.get(start..start + EVENT_HEADER)?;
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let id = EntryId {
            ms: word(0),
            seq: word(8),
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[16..20]);
        let body = start + EVENT_HEADER;
        let fields = self
            .bytes
            .get(body..body + u32::from_le_bytes(len) as usize)?;
        Some((id, PackedFields::new(fields)))
    }

    /// The number of events, as the WIT's `count`.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_the_documented_layout() {
        let mut batch = Batch::new();
        batch
            .push(EntryId { ms: 1, seq: 2 }, &[b"ab", b"c"])
            .expect("push");
        let mut want = Vec::new();
        want.extend_from_slice(&1u64.to_le_bytes());
        want.extend_from_slice(&2u64.to_le_bytes());
        want.extend_from_slice(&(4 + 2 + 4 + 1u32).to_le_bytes());
        want.extend_from_slice(&2u32.to_le_bytes());
        want.extend_from_slice(b"ab");
        want.extend_from_slice(&1u32.to_le_bytes());
        want.extend_from_slice(b"c");
        assert_eq!(batch.as_bytes(), &want[..]);
        assert_eq!(batch.len(), 1);
    }

    #[test]
    fn streaming_an_event_packs_it_like_push() {
        let mut pushed = Batch::new();
        pushed
            .push(EntryId { ms: 1, seq: 2 }, &[b"ab", b"c", b"odd"])
            .expect("push");
        pushed.push(EntryId { ms: 3, seq: 0 }, &[]).expect("push");
        let mut streamed = Batch::new();
        streamed.begin_event(EntryId { ms: 1, seq: 2 });
        for f in [&b"ab"[..], b"c", b"odd"] {
            streamed.push_field(f);
        }
        streamed.begin_event(EntryId { ms: 3, seq: 0 });
        let (id, fields) = streamed.event(0).expect("event 0");
        assert_eq!(id, EntryId { ms: 1, seq: 2 });
        assert_eq!(fields.to_flat(), vec![&b"ab"[..], b"c", b"odd", b""]);
        assert_eq!(streamed.as_bytes(), pushed.as_bytes());
        assert_eq!(streamed.len(), 2);
        assert!(streamed.event(2).is_none());
    }

    #[test]
    fn odd_trailing_name_gets_an_empty_value() {
        let mut batch = Batch::new();
        batch.push(EntryId::default(), &[b"x"]).expect("push");
        assert_eq!(batch.as_bytes().len(), EVENT_HEADER + 4 + 1 + 4);
    }
}
