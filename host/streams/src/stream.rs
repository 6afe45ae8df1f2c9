//! [`Stream`]: the log itself — packed nodes in a `BTreeMap` keyed by each node's first ID —
//! with its counters, ID generation, XADD and XSETID.
//!
//! Reads live in `read.rs`, XDEL and XTRIM in `trim.rs`, consumer groups in `group.rs` and the
//! files it names; this file owns the representation and the write path. No clock is read
//! here: XADD takes `now_ms`.

use std::collections::BTreeMap;
use std::mem::size_of;

use crate::group::ConsumerGroup;
use crate::node::Node;
use crate::{AddId, StreamError, StreamId};

/// Largest total size of one entry's names and values (Redis's `STREAM_LISTPACK_MAX_SIZE`,
/// 1 GiB); also the node byte limit when `max_bytes` is 0.
const MAX_ENTRY_BYTES: usize = 1 << 30;

/// A new node starts with room for as many bytes as the node before it ended with, capped here
/// so one huge entry does not make every later node preallocate a lot.
const MAX_NODE_PREALLOC: usize = 8 * 1024;

/// Node size limits: Redis's `stream-node-max-entries` and `stream-node-max-bytes`
/// (0 = unlimited). Defaults: 100 entries, 4096 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    /// Entries per node, live or deleted; 0 = no limit.
    pub max_entries: usize,
    /// Encoded bytes per node; 0 = no limit (then 1 GiB, as Redis).
    pub max_bytes: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        }
    }
}

/// One stream: entries in ID order plus the counters XINFO reports.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Packed nodes keyed by their first (master) ID; every node holds at least one live entry.
    pub(crate) nodes: BTreeMap<StreamId, Node>,
    /// Live entries.
    pub(crate) len: u64,
    /// Last ID generated or set by XSETID.
    pub(crate) last_id: StreamId,
    /// Entries ever added (XINFO `entries-added`).
    pub(crate) entries_added: u64,
    /// Greatest ID removed by XDEL (XINFO `max-deleted-entry-id`).
    pub(crate) max_deleted: StreamId,
    /// Consumer groups by name, in byte order (the order XINFO GROUPS lists them).
    pub(crate) groups: BTreeMap<Box<[u8]>, ConsumerGroup>,
    /// Idempotent-production state (`idmp.rs`); `None` until XADD IDMP or XCFGSET.
    pub(crate) idmp: Option<Box<crate::idmp::Idmp>>,
}

impl Stream {
    /// An empty stream with last ID `0-0`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live entries (XLEN).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the stream has no live entries (it may still have a last ID and groups).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Last generated ID; survives deletion of entries; `0-0` for a new stream.
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// ID of the first live entry.
    pub fn first_id(&self) -> Option<StreamId> {
        let (key, node) = self.nodes.first_key_value()?;
        node.first_live(*key).map(|e| e.id)
    }

    /// Entries ever added, including deleted and trimmed ones (XINFO `entries-added`).
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// Greatest ID deleted by XDEL, or set by XSETID MAXDELETEDID; `0-0` if none.
    /// Trimming does not move it, as in Redis.
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted
    }

    /// Number of packed nodes (XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// What ID [`Stream::add`] would give the entry, changing nothing. Checks in Redis's order:
    /// explicit `0-0` ([`StreamError::IdZero`]), exhausted stream ([`StreamError::IdExhausted`]),
    /// then not above the last ID ([`StreamError::IdTooSmall`]).
    pub fn next_id(&self, id: AddId, now_ms: u64) -> Result<StreamId, StreamError> {
        if id == AddId::Explicit(StreamId::MIN) {
            return Err(StreamError::IdZero);
        }
        let last = self.last_id;
        if last == StreamId::MAX {
            return Err(StreamError::IdExhausted);
        }
        let next = match id {
            AddId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            AddId::Auto => last.incr().ok_or(StreamError::IdExhausted)?,
            AddId::AutoSeq(ms) if ms == last.ms => last
                .seq
                .checked_add(1)
                .map(|seq| StreamId::new(ms, seq))
                .ok_or(StreamError::IdTooSmall)?,
            AddId::AutoSeq(ms) => StreamId::new(ms, 0),
            AddId::Explicit(id) => id,
        };
        if next <= last {
            return Err(StreamError::IdTooSmall);
        }
        Ok(next)
    }

    /// XADD: appends an entry and returns its ID. `fields` is `name,value,name,value,...`
    /// (non-empty, even length; the caller checks, and an unpaired trailing field is ignored).
    /// `now_ms` is the clock in Unix ms.
    /// Errors: those of [`Stream::next_id`], then [`StreamError::ElementsTooLarge`] when the
    /// names and values total more than 1 GiB.
    pub fn add(
        &mut self,
        id: AddId,
        fields: &[&[u8]],
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, StreamError> {
        let id = self.next_id(id, now_ms)?;
        let entry_bytes: usize = fields.iter().map(|f| f.len()).sum();
        if entry_bytes > MAX_ENTRY_BYTES {
            return Err(StreamError::ElementsTooLarge);
        }
        let max_bytes = match limits.max_bytes {
            0 => MAX_ENTRY_BYTES,
            n => n.min(MAX_ENTRY_BYTES),
        };
        let mut prealloc = 0;
        if let Some(mut tail) = self.nodes.last_entry() {
            let node = tail.get_mut();
            // Redis's rule: a node is full once its bytes plus the new entry's reach the byte
            // limit, or it holds max_entries entries counting deleted ones.
            let full = node.byte_len() + entry_bytes >= max_bytes
                || (limits.max_entries != 0 && node.entry_count() >= limits.max_entries)
                // Unreachable while XSETID keeps last_id >= every stored ID; a new node keeps
                // the delta encoding valid regardless.
                || id <= node.last;
            if !full {
                node.append(id, fields);
                self.commit_add(id);
                return Ok(id);
            }
            node.seal();
            prealloc = node.byte_len().min(MAX_NODE_PREALLOC);
        }
        let mut node = Node::new(id, fields, prealloc);
        node.append(id, fields);
        self.nodes.insert(id, node);
        self.commit_add(id);
        Ok(id)
    }

    fn commit_add(&mut self, id: StreamId) {
        self.len += 1;
        self.last_id = id;
        self.entries_added = self.entries_added.saturating_add(1);
    }

    /// XSETID: sets the last ID and optionally `entries_added` and `max_deleted_entry_id`.
    /// Checks in Redis's order: `max_deleted` above `id`, `id` below the current max deleted
    /// ID, `id` below the last live entry, `entries_added` below the length.
    pub fn set_id(
        &mut self,
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) -> Result<(), StreamError> {
        if max_deleted.is_some_and(|max| id < max) {
            return Err(StreamError::SetIdMaxDeletedTooBig);
        }
        if id < self.max_deleted {
            return Err(StreamError::SetIdSmallerThanMaxDeleted);
        }
        if self.len > 0 {
            if self.last_live_id().is_some_and(|top| id < top) {
                return Err(StreamError::SetIdSmallerThanTop);
            }
            if entries_added.is_some_and(|added| added < self.len) {
                return Err(StreamError::SetIdEntriesAddedSmall);
            }
        }
        self.last_id = id;
        if let Some(added) = entries_added {
            self.entries_added = added;
        }
        // Redis ignores MAXDELETEDID 0-0 (it cannot tell it from "not given").
        if let Some(max) = max_deleted.filter(|max| *max != StreamId::MIN) {
            self.max_deleted = max;
        }
        Ok(())
    }

    /// ID of the last live entry.
    pub fn last_live_id(&self) -> Option<StreamId> {
        let (key, node) = self.nodes.last_key_value()?;
        node.last_live(*key).map(|e| e.id)
    }

    /// Approximate heap bytes used (INFO memory, MEMORY USAGE): node buffers plus the tree,
    /// plus consumer groups and their pending entries.
    pub fn memory_usage(&self) -> usize {
        // BTreeMap nodes filled in key order end up a little over half full: count each
        // key/value slot about twice.
        let per_node = 2 * (size_of::<StreamId>() + size_of::<Node>());
        let buffers: usize = self.nodes.values().map(Node::heap_bytes).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, group)| name.len() + group.memory_usage())
            .sum();
        size_of::<Stream>() + self.nodes.len() * per_node + buffers + groups + self.idmp_memory()
    }
}
