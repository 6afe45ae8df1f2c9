//! Deletion with consumer-group references (Redis 8.2): `XDELEX` ([`Stream::delete_ex`]),
//! `XACKDEL` ([`Stream::ack_delete`]) and the reference modes of `XADD`/`XTRIM` trimming
//! ([`Stream::trim_with`]).
//!
//! An entry is *referenced* while some group still needs it: the group has not delivered it
//! yet (its ID is above the group's last delivered ID) or holds it in its PEL. A stream
//! without groups references nothing, so every mode then behaves as `KEEPREF`.
//!
//! - [`RefMode::KeepRef`] (the default) deletes and leaves PEL entries dangling, as `XDEL`.
//! - [`RefMode::DelRef`] deletes and removes the entry from every group's PEL.
//! - [`RefMode::Acked`] deletes only unreferenced entries.
//!
//! Trimming with `ACKED` walks entries from the head, deleting unreferenced ones and stepping
//! over referenced ones until the threshold holds, so it can delete inside a node even with
//! `~` (as Redis's "XTRIM with approx and ACKED" test shows); `~` then only matters through
//! its LIMIT. It stops early at the smallest last delivered ID: everything after it is
//! undelivered to some group.

use crate::group::ConsumerGroup;
use crate::{NodeLimits, Stream, StreamError, StreamId, TrimSpec, TrimStrategy};

/// What happens to consumer-group references when entries are deleted or trimmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RefMode {
    /// `KEEPREF`: PEL entries stay (dangling), as with `XDEL`.
    #[default]
    KeepRef,
    /// `DELREF`: the entry also leaves every group's PEL.
    DelRef,
    /// `ACKED`: only entries every group has delivered and acknowledged are deleted.
    Acked,
}

impl RefMode {
    /// Parses `KEEPREF`, `DELREF` or `ACKED` (any case).
    pub fn parse(token: &[u8]) -> Option<RefMode> {
        if token.eq_ignore_ascii_case(b"KEEPREF") {
            Some(RefMode::KeepRef)
        } else if token.eq_ignore_ascii_case(b"DELREF") {
            Some(RefMode::DelRef)
        } else if token.eq_ignore_ascii_case(b"ACKED") {
            Some(RefMode::Acked)
        } else {
            None
        }
    }

    /// The token, as written in logs and replies.
    pub fn token(self) -> &'static [u8] {
        match self {
            RefMode::KeepRef => b"KEEPREF",
            RefMode::DelRef => b"DELREF",
            RefMode::Acked => b"ACKED",
        }
    }
}

/// One ID's fate in `XDELEX` / `XACKDEL`; [`DeleteResult::code`] is the reply integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteResult {
    /// `-1`: no such entry (`XDELEX`) or not pending in the group (`XACKDEL`).
    NotFound,
    /// `1`: deleted (and, for `XACKDEL`, acknowledged).
    Deleted,
    /// `2`: kept (`ACKED`) because some group still references it.
    Referenced,
}

impl DeleteResult {
    /// The integer Redis replies for it.
    pub fn code(self) -> i64 {
        match self {
            DeleteResult::NotFound => -1,
            DeleteResult::Deleted => 1,
            DeleteResult::Referenced => 2,
        }
    }
}

/// Whether a group still needs `id`: not delivered yet, or pending.
fn needs(group: &ConsumerGroup, id: StreamId) -> bool {
    id > group.last_delivered_id || group.pel.contains_key(&id)
}

impl Stream {
    /// Whether some group has not delivered `id` yet or holds it pending.
    pub fn is_referenced(&self, id: StreamId) -> bool {
        self.groups.values().any(|g| needs(g, id))
    }

    /// Removes `id` from every group's PEL.
    fn drop_refs(&mut self, id: StreamId) {
        for group in self.groups.values_mut() {
            group.remove_pending(id);
        }
    }

    /// XDELEX: one result per ID, in order. Deleting raises `max_deleted_entry_id` as XDEL
    /// does. With DELREF a missing entry's dangling references are removed too (still -1).
    pub fn delete_ex(&mut self, ids: &[StreamId], mode: RefMode) -> Vec<DeleteResult> {
        ids.iter()
            .map(|&id| {
                if !self.contains(id) {
                    if mode == RefMode::DelRef {
                        self.drop_refs(id);
                    }
                    return DeleteResult::NotFound;
                }
                self.delete_referenced(id, mode)
            })
            .collect()
    }

    /// XACKDEL: acknowledges each ID in `group`, then deletes it per `mode`. An ID the group
    /// does not hold pending is -1 and left alone; one acknowledged but already gone from the
    /// stream counts as deleted (Redis's reply too).
    /// Error: [`StreamError::NoGroup`] (the server replies -1 per ID instead).
    pub fn ack_delete(
        &mut self,
        group: &[u8],
        ids: &[StreamId],
        mode: RefMode,
    ) -> Result<Vec<DeleteResult>, StreamError> {
        if !self.groups.contains_key(group) {
            return Err(StreamError::NoGroup);
        }
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let acked = self
                .groups
                .get_mut(group)
                .and_then(|g| g.remove_pending(id))
                .is_some();
            out.push(if !acked {
                DeleteResult::NotFound
            } else if self.contains(id) {
                self.delete_referenced(id, mode)
            } else {
                if mode == RefMode::DelRef {
                    self.drop_refs(id);
                }
                DeleteResult::Deleted
            });
        }
        Ok(out)
    }

    /// Deletes live entry `id` unless `mode` is ACKED and a group references it.
    fn delete_referenced(&mut self, id: StreamId, mode: RefMode) -> DeleteResult {
        if mode == RefMode::Acked && self.is_referenced(id) {
            return DeleteResult::Referenced;
        }
        self.delete(&[id]);
        if mode == RefMode::DelRef {
            self.drop_refs(id);
        }
        DeleteResult::Deleted
    }

    /// XTRIM / XADD trimming with a reference mode; returns how many entries went. Without
    /// groups every mode is [`Stream::trim`].
    pub fn trim_with(&mut self, spec: TrimSpec, limits: NodeLimits, mode: RefMode) -> u64 {
        if self.groups.is_empty() || mode == RefMode::KeepRef {
            return self.trim(spec, limits);
        }
        match mode {
            RefMode::Acked => self.trim_acked(spec, spec.effective_limit(limits)),
            _ => {
                let mut removed = Vec::new();
                let count = self.trim_collect(spec, limits, Some(&mut removed));
                for id in removed {
                    self.drop_refs(id);
                }
                count
            }
        }
    }

    /// ACKED trimming (module docs): deletes unreferenced entries from the head until the
    /// threshold holds, at most `limit` of them (0 = no limit).
    fn trim_acked(&mut self, spec: TrimSpec, limit: u64) -> u64 {
        // Every ID above the smallest last delivered ID is undelivered to that group.
        let horizon = self
            .groups
            .values()
            .map(|g| g.last_delivered_id)
            .min()
            .unwrap_or(StreamId::MAX);
        let mut removed = 0u64;
        let mut from = StreamId::MIN;
        while let Some((&key, _)) = self.nodes.range(from..).next() {
            let groups = &self.groups;
            let Some(node) = self.nodes.get_mut(&key) else {
                break;
            };
            let mut pos = node.entries_start();
            let mut prev = key;
            let mut stop = false;
            while let Some(entry) = node.next_entry(&mut pos, &mut prev) {
                if entry.is_deleted() {
                    continue;
                }
                let done = match spec.strategy {
                    TrimStrategy::MaxLen(max) => self.len <= max,
                    TrimStrategy::MinId(min) => entry.id >= min,
                };
                if done || entry.id > horizon || (limit != 0 && removed >= limit) {
                    stop = true;
                    break;
                }
                if groups.values().any(|g| needs(g, entry.id)) {
                    continue;
                }
                node.mark_deleted(&entry);
                self.len -= 1;
                removed += 1;
            }
            let last = node.last;
            if node.live == 0 {
                self.nodes.remove(&key);
            }
            if stop {
                break;
            }
            match last.incr() {
                Some(next) => from = next,
                None => break,
            }
        }
        removed
    }
}
