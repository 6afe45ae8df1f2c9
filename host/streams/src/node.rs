//! One packed node of a stream: up to `max_entries` entries in a single byte vector, the
//! equivalent of Redis's listpack node in its radix tree.
//!
//! Layout of `Node::data`:
//!
//! ```text
//! master:  <n: varint> (<len: varint> <name bytes>){n}          field names of the first entry
//! entry:   <flags: u8> <ms delta: varint> <seq: varint> <body>   repeated, in ID order
//! body:    same names as master:  (<len> <value>){n}
//!          otherwise:             <pairs: varint> (<len> <name> <len> <value>){pairs}
//! ```
//!
//! IDs are deltas from the previous entry (the node's key for the first one): `ms delta` is
//! `ms - prev.ms`, and `seq` is `seq - prev.seq` when the ms is unchanged, else the raw seq.
//! Both are tiny for clock-generated IDs, so an entry such as `a 1 b 2` takes 7 bytes. Deleting
//! an entry only sets [`FLAG_DELETED`]; the bytes stay until the whole node is dropped, as in
//! Redis, so deletion never shifts data and never invalidates a reader's position.

use crate::sink::EntrySink;
use crate::{StreamId, varint};

/// Entry flag: the entry was deleted (XDEL or an exact trim) and must be skipped.
pub(crate) const FLAG_DELETED: u8 = 1;
/// Entry flag: the entry's field names equal the master names; only values are stored.
pub(crate) const FLAG_SAME_FIELDS: u8 = 2;

/// A run of consecutive entries stored packed; keyed in the stream by its first (master) ID.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    data: Vec<u8>,
    /// Offset of the first entry (just past the master field names).
    entries_start: usize,
    /// Number of master field names.
    master_fields: usize,
    /// Entries not flagged deleted.
    pub(crate) live: u32,
    /// Entries flagged deleted (their bytes are still in `data`).
    pub(crate) deleted: u32,
    /// ID of the last entry, live or deleted (the node's key until the first append).
    pub(crate) last: StreamId,
}

/// Where one entry sits in a node, as decoded by [`Cursor`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryPos {
    pub(crate) id: StreamId,
    pub(crate) flags: u8,
    /// Offset of the flags byte.
    pub(crate) flags_at: usize,
    /// Offset of the body (values, or pair count).
    pub(crate) body_at: usize,
}

impl EntryPos {
    pub(crate) fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

impl Node {
    /// An empty node keyed `key`, taking `fields`' names (`name,value,...`) as master names.
    /// `capacity` is a size hint in bytes.
    pub(crate) fn new(key: StreamId, fields: &[&[u8]], capacity: usize) -> Node {
        let mut data = Vec::with_capacity(capacity);
        let names = fields.len() / 2;
        varint::put(&mut data, names as u64);
        for pair in fields.chunks_exact(2) {
            varint::put_bytes(&mut data, pair[0]);
        }
        Node {
            entries_start: data.len(),
            data,
            master_fields: names,
            live: 0,
            deleted: 0,
            last: key,
        }
    }

    /// A node from its parts as a snapshot stored them (`persist`), which has checked them
    /// against `data` (entries in bounds, counts and last ID as decoded).
    pub(crate) fn from_parts(
        data: Vec<u8>,
        entries_start: usize,
        master_fields: usize,
        live: u32,
        deleted: u32,
        last: StreamId,
    ) -> Node {
        Node {
            data,
            entries_start,
            master_fields,
            live,
            deleted,
            last,
        }
    }

    /// The packed bytes (layout above), as a snapshot copies them.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Encoded size in bytes (what `stream-node-max-bytes` is compared with).
    pub(crate) fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// Entries stored, live or deleted (what `stream-node-max-entries` is compared with).
    pub(crate) fn entry_count(&self) -> usize {
        self.live as usize + self.deleted as usize
    }

    /// Heap bytes held by the node's buffer.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.data.capacity()
    }

    /// Cuts the entries from offset `at` (an entry's flags byte) off the node and returns
    /// their bytes; the caller corrects `live`, `deleted` and `last` ([`Stream::withhold_from`]).
    ///
    /// [`Stream::withhold_from`]: crate::Stream::withhold_from
    pub(crate) fn cut_at(&mut self, at: usize) -> Vec<u8> {
        self.data.split_off(at.min(self.data.len()))
    }

    /// Puts back bytes [`Node::cut_at`] took, unchanged: each entry's ID is a delta from the
    /// one before it, which is again the node's last.
    pub(crate) fn rejoin(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    /// Gives back spare capacity once the node will receive no more entries.
    pub(crate) fn seal(&mut self) {
        self.data.shrink_to_fit();
    }

    /// Appends entry `id` (greater than `self.last`) with `fields` = `name,value,...`; an
    /// unpaired trailing field is ignored.
    pub(crate) fn append(&mut self, id: StreamId, fields: &[&[u8]]) {
        debug_assert!(id > self.last || (self.live == 0 && self.deleted == 0));
        let same = self.has_master_names(fields);
        let data = &mut self.data;
        data.push(if same { FLAG_SAME_FIELDS } else { 0 });
        let ms_delta = id.ms - self.last.ms;
        varint::put(data, ms_delta);
        varint::put(
            data,
            if ms_delta == 0 {
                id.seq - self.last.seq
            } else {
                id.seq
            },
        );
        if same {
            for pair in fields.chunks_exact(2) {
                varint::put_bytes(data, pair[1]);
            }
        } else {
            varint::put(data, (fields.len() / 2) as u64);
            for pair in fields.chunks_exact(2) {
                varint::put_bytes(data, pair[0]);
                varint::put_bytes(data, pair[1]);
            }
        }
        self.last = id;
        self.live += 1;
    }

    /// Whether the names in `fields` (`name,value,...`) are exactly the master names.
    fn has_master_names(&self, fields: &[&[u8]]) -> bool {
        if fields.len() / 2 != self.master_fields {
            return false;
        }
        let mut pos = 0;
        varint::get(&self.data, &mut pos);
        fields
            .chunks_exact(2)
            .all(|pair| varint::get_bytes(&self.data, &mut pos) == pair[0])
    }

    /// Decodes entries in order, starting from the node's key `key`.
    /// Makes this node a copy of `other`, reusing its buffer.
    pub(crate) fn copy_from(&mut self, other: &Node) {
        self.data.clear();
        self.data.extend_from_slice(&other.data);
        self.entries_start = other.entries_start;
        self.master_fields = other.master_fields;
        self.live = other.live;
        self.deleted = other.deleted;
        self.last = other.last;
    }

    pub(crate) fn cursor(&self, key: StreamId) -> Cursor<'_> {
        Cursor {
            node: self,
            pos: self.entries_start,
            prev: key,
        }
    }

    /// Finds entry `id` (live or deleted).
    pub(crate) fn find(&self, key: StreamId, id: StreamId) -> Option<EntryPos> {
        self.cursor(key)
            .take_while(|e| e.id <= id)
            .find(|e| e.id == id)
    }

    /// The first live entry.
    pub(crate) fn first_live(&self, key: StreamId) -> Option<EntryPos> {
        self.cursor(key).find(|e| !e.is_deleted())
    }

    /// The last live entry.
    pub(crate) fn last_live(&self, key: StreamId) -> Option<EntryPos> {
        self.cursor(key).filter(|e| !e.is_deleted()).last()
    }

    /// Flags a live entry deleted and updates the counters. The caller drops the node when
    /// `live` reaches 0.
    pub(crate) fn mark_deleted(&mut self, entry: &EntryPos) {
        debug_assert!(!entry.is_deleted());
        self.data[entry.flags_at] |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// Sends one entry's ID and fields to `sink`.
    pub(crate) fn emit(&self, entry: &EntryPos, sink: &mut dyn EntrySink) {
        let data = &self.data[..];
        let mut pos = entry.body_at;
        if entry.flags & FLAG_SAME_FIELDS != 0 {
            sink.begin_entry(entry.id, self.master_fields * 2);
            let mut names = 0;
            varint::get(data, &mut names);
            for _ in 0..self.master_fields {
                sink.field(varint::get_bytes(data, &mut names));
                sink.field(varint::get_bytes(data, &mut pos));
            }
        } else {
            let pairs = varint::get(data, &mut pos) as usize;
            sink.begin_entry(entry.id, pairs * 2);
            for _ in 0..pairs * 2 {
                sink.field(varint::get_bytes(data, &mut pos));
            }
        }
    }
}

/// Forward decoder over a node's entries (live and deleted).
pub(crate) struct Cursor<'a> {
    node: &'a Node,
    pos: usize,
    prev: StreamId,
}

impl Iterator for Cursor<'_> {
    type Item = EntryPos;

    #[inline]
    fn next(&mut self) -> Option<EntryPos> {
        self.node.next_entry(&mut self.pos, &mut self.prev)
    }
}

impl Node {
    /// Where decoding starts; pair it with the node's key as the first `prev`.
    pub(crate) fn entries_start(&self) -> usize {
        self.entries_start
    }

    /// Decodes the entry at `*pos` whose predecessor's ID is `*prev`, advancing both. Holds no
    /// borrow afterwards, so callers may mark the returned entry deleted between steps.
    #[inline]
    pub(crate) fn next_entry(&self, pos: &mut usize, prev: &mut StreamId) -> Option<EntryPos> {
        let data = &self.data[..];
        if *pos >= data.len() {
            return None;
        }
        let flags_at = *pos;
        let flags = data[flags_at];
        let mut at = flags_at + 1;
        let ms_delta = varint::get(data, &mut at);
        let seq = varint::get(data, &mut at);
        let id = if ms_delta == 0 {
            StreamId::new(prev.ms, prev.seq + seq)
        } else {
            StreamId::new(prev.ms + ms_delta, seq)
        };
        let body_at = at;
        let strings = if flags & FLAG_SAME_FIELDS != 0 {
            self.master_fields
        } else {
            varint::get(data, &mut at) as usize * 2
        };
        for _ in 0..strings {
            varint::skip_bytes(data, &mut at);
        }
        *pos = at;
        *prev = id;
        Some(EntryPos {
            id,
            flags,
            flags_at,
            body_at,
        })
    }
}
