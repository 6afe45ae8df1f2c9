//! [`EntrySink`]: how reads hand entries out without building a value per entry.
//!
//! Entries live packed inside nodes; a read decodes them in place and streams each one into a
//! sink (typically the server's reply encoder), so a range read allocates nothing per entry.

use crate::StreamId;

/// Receives entries produced by a read, one after another.
pub trait EntrySink {
    /// Starts an entry. `field_count` is the number of names plus values (2 per pair) that
    /// [`EntrySink::field`] will receive next.
    fn begin_entry(&mut self, id: StreamId, field_count: usize);
    /// One field name or value, in order: name, value, name, value, ...
    fn field(&mut self, bytes: &[u8]);

    /// A pending entry whose data was deleted (XDEL or trimming) while still in a consumer's
    /// PEL: XREADGROUP history reads report it as `[id, nil]`. The default records an entry
    /// with no fields (which no stored entry has); the reply encoder overrides this to write
    /// the nil.
    fn deleted_entry(&mut self, id: StreamId) {
        self.begin_entry(id, 0);
    }

    /// Delivery data of the entry just sent, for `XREADGROUP … CLAIM`'s four-element entries:
    /// ms since its previous delivery and its delivery count before this one. Sent after the
    /// entry's fields, only for pending entries a `>` read delivers again. Ignored by default.
    fn delivery_meta(&mut self, _idle_ms: u64, _previous_count: u64) {}

    /// True once the sink takes no more entries (`MAXCOUNT`/`MAXSIZE` reached): reads check it
    /// before each entry and stop. Never by default.
    fn full(&self) -> bool {
        false
    }
}

/// A sink that only counts entries (useful for existence checks and tests).
#[derive(Debug, Default)]
pub struct CountSink {
    /// Entries received.
    pub entries: usize,
}

impl EntrySink for CountSink {
    fn begin_entry(&mut self, _id: StreamId, _field_count: usize) {
        self.entries += 1;
    }

    fn field(&mut self, _bytes: &[u8]) {}
}

/// A sink that copies entries out as owned values (for callers that need to keep them, such
/// as consumer-group bookkeeping and tests; the hot reply path should stream instead).
/// A deleted pending entry ([`EntrySink::deleted_entry`]) appears with no fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CollectSink {
    /// Entries in the order received: ID and its `name,value,...` fields.
    pub entries: Vec<(StreamId, Vec<Vec<u8>>)>,
}

impl EntrySink for CollectSink {
    fn begin_entry(&mut self, id: StreamId, field_count: usize) {
        self.entries.push((id, Vec::with_capacity(field_count)));
    }

    fn field(&mut self, bytes: &[u8]) {
        if let Some((_, fields)) = self.entries.last_mut() {
            fields.push(bytes.to_vec());
        }
    }
}

impl CollectSink {
    /// Just the IDs received.
    pub fn ids(&self) -> Vec<StreamId> {
        self.entries.iter().map(|(id, _)| *id).collect()
    }
}
