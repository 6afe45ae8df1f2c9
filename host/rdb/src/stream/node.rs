//! One stream node: a listpack holding a run of entries, keyed in Redis's radix tree by its
//! master ID (`t_stream.c`).
//!
//! ```text
//! master := live-count  deleted-count  n  name*n  0
//! entry  := flags  ms-delta  seq-delta  [n  (name value)*n | value*n if SAMEFIELDS]  lp-count
//! ```
//!
//! Every count, flag and delta is a listpack integer. Deltas are from the master ID and wrap
//! (an entry `2-0` after master `1-5` stores seq delta -5). `flags` has bit 1 = deleted
//! (skipped, but counted in `deleted-count`) and bit 2 = SAMEFIELDS (the entry's names are the
//! master's, so only values are stored). `lp-count` is the number of elements of the entry
//! before it (so Redis can walk backwards): `n + 3` with SAMEFIELDS, else `2n + 4`.

use sluice_streams::{StreamEntry, StreamId};

use crate::listpack::{self, Element, ListpackWriter};

const FLAG_DELETED: i64 = 1;
const FLAG_SAME_FIELDS: i64 = 2;

/// Walks a node's elements with the checks each read needs.
struct Cursor<'a> {
    elements: &'a [Element<'a>],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self, what: &'static str) -> Result<Element<'a>, &'static str> {
        let e = *self.elements.get(self.pos).ok_or(what)?;
        self.pos += 1;
        Ok(e)
    }

    fn int(&mut self, what: &'static str) -> Result<i64, &'static str> {
        self.next(what)?.as_int().ok_or(what)
    }

    fn count(&mut self, what: &'static str) -> Result<u64, &'static str> {
        u64::try_from(self.int(what)?).map_err(|_| what)
    }
}

/// The live entries of the node keyed `master`, in node order; deleted ones are checked,
/// counted against the master entry's counts, and dropped.
pub(super) fn decode(master: StreamId, blob: &[u8]) -> Result<Vec<StreamEntry>, &'static str> {
    let elements = listpack::parse(blob)?;
    if elements.is_empty() {
        return Err("empty listpack inside a stream");
    }
    let mut c = Cursor {
        elements: &elements,
        pos: 0,
    };
    let live = c.count("bad stream node live count")?;
    let deleted = c.count("bad stream node deleted count")?;
    let master_fields = c.count("bad stream node master field count")?;
    let mut names = Vec::new();
    for _ in 0..master_fields {
        names.push(c.next("stream node master fields truncated")?.to_bytes());
    }
    if c.int("stream node master entry truncated")? != 0 {
        return Err("stream node master entry not terminated by 0");
    }

    let mut entries = Vec::new();
    let mut deleted_seen = 0u64;
    let total = live.checked_add(deleted).ok_or("bad stream node counts")?;
    for _ in 0..total {
        let flags = c.int("stream node entry truncated")?;
        if flags & !(FLAG_DELETED | FLAG_SAME_FIELDS) != 0 {
            return Err("unknown stream entry flags");
        }
        let ms_delta = c.int("stream node entry truncated")?;
        let seq_delta = c.int("stream node entry truncated")?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms_delta as u64),
            master.seq.wrapping_add(seq_delta as u64),
        );
        let (fields, expected_lp_count) = if flags & FLAG_SAME_FIELDS != 0 {
            let mut fields = Vec::with_capacity(names.len());
            for name in &names {
                fields.push((name.clone(), c.next("stream entry truncated")?.to_bytes()));
            }
            (fields, master_fields.saturating_add(3))
        } else {
            let n = c.count("bad stream entry field count")?;
            let mut fields = Vec::new();
            for _ in 0..n {
                let name = c.next("stream entry truncated")?.to_bytes();
                let value = c.next("stream entry truncated")?.to_bytes();
                fields.push((name, value));
            }
            (fields, n.saturating_mul(2).saturating_add(4))
        };
        if c.count("stream entry truncated")? != expected_lp_count {
            return Err("stream entry element count does not match its fields");
        }
        if flags & FLAG_DELETED != 0 {
            deleted_seen += 1;
        } else {
            entries.push(StreamEntry { id, fields });
        }
    }
    if c.pos != elements.len() {
        return Err("stream node has elements after its entries");
    }
    if deleted_seen != deleted {
        return Err("stream node deleted count does not match its entries");
    }
    Ok(entries)
}

/// Builds one node as Redis's `streamAppendItem` does: the first entry's names become the
/// master fields, and later entries with exactly those names store only values.
pub(super) struct NodeWriter {
    master: StreamId,
    names: Vec<Vec<u8>>,
    body: ListpackWriter,
    entries: u64,
}

impl NodeWriter {
    /// A node whose master is `first` (appended next).
    pub(super) fn new(first: &StreamEntry) -> Self {
        NodeWriter {
            master: first.id,
            names: first.fields.iter().map(|(name, _)| name.clone()).collect(),
            body: ListpackWriter::new(),
            entries: 0,
        }
    }

    pub(super) fn master(&self) -> StreamId {
        self.master
    }

    pub(super) fn entries(&self) -> u64 {
        self.entries
    }

    /// About the node's listpack size so far (the master entry counted at its current size).
    pub(super) fn bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len() + 2).sum();
        self.body.bytes() + names + 8
    }

    pub(super) fn push(&mut self, entry: &StreamEntry) {
        let same = entry.fields.len() == self.names.len()
            && entry
                .fields
                .iter()
                .zip(&self.names)
                .all(|((name, _), master)| name == master);
        let b = &mut self.body;
        b.push_int(if same { FLAG_SAME_FIELDS } else { 0 });
        b.push_int(entry.id.ms.wrapping_sub(self.master.ms) as i64);
        b.push_int(entry.id.seq.wrapping_sub(self.master.seq) as i64);
        let n = entry.fields.len() as i64;
        if same {
            for (_, value) in &entry.fields {
                b.push(value);
            }
            b.push_int(n + 3);
        } else {
            b.push_int(n);
            for (name, value) in &entry.fields {
                b.push(name);
                b.push(value);
            }
            b.push_int(2 * n + 4);
        }
        self.entries += 1;
    }

    /// The node's listpack: master entry, then the entries.
    pub(super) fn finish(self) -> Vec<u8> {
        let mut lp = ListpackWriter::new();
        lp.push_int(self.entries as i64);
        lp.push_int(0);
        lp.push_int(self.names.len() as i64);
        for name in &self.names {
            lp.push(name);
        }
        lp.push_int(0);
        lp.append(&self.body);
        lp.finish()
    }
}
