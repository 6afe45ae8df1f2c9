//! Group read counters and lag, as Redis 7.2 computes them for XINFO GROUPS (`entries-read`,
//! `lag`) and keeps them while XREADGROUP delivers.
//!
//! A group's `entries_read` is the logical position of its last delivered ID: how many entries
//! had been added up to and including it. It can only be known when no deleted entry
//! ("tombstone", tracked by `max_deleted_entry_id`) could hide between the group and the end of
//! the stream; otherwise it is estimated from the stream's counters where that is exact, and
//! reported as nil where it is not. The inputs are the stream counters XADD, XDEL, XTRIM and
//! XSETID already keep (`entries_added`, length, last ID, first live ID, max deleted ID).

use crate::{ConsumerGroup, Stream, StreamId};

/// The stream counters the lag rules read, copied once per command: they do not change while
/// a read delivers entries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LagSnapshot {
    entries_added: u64,
    len: u64,
    last_id: StreamId,
    /// First live entry, `0-0` when the stream is empty (Redis's `first_id`).
    first_id: StreamId,
    max_deleted: StreamId,
}

impl LagSnapshot {
    /// Redis's `streamRangeHasTombstones`: whether the latest deletion lies in
    /// `start..=end` (`end` `None` = to the end) and after the first live entry.
    pub(crate) fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.len == 0 || self.max_deleted == StreamId::MIN {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`,
    /// or `None` when it cannot be known (an ID between the first and last entries, a future
    /// ID, or deletions ahead of it).
    pub(crate) fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted == StreamId::MIN || self.max_deleted < self.first_id {
            // No fragmentation ahead: everything before the first entry was read.
            let before_first = self.entries_added.saturating_sub(self.len);
            if id < self.first_id {
                return Some(before_first);
            }
            if id == self.first_id {
                return Some(before_first + 1);
            }
        }
        None
    }

    /// Redis's `streamReplyWithCGLag`: entries not yet delivered to `group`; `None` = nil.
    /// Signed like Redis's: `ENTRIESREAD` larger than `entries_added` gives a negative lag.
    pub(crate) fn lag(&self, group: &ConsumerGroup) -> Option<i64> {
        let added = i128::from(self.entries_added);
        if self.entries_added == 0 {
            return Some(0);
        }
        let read = match group.entries_read {
            Some(read) if !self.range_has_tombstones(group.last_delivered_id, None) => read,
            _ => self.estimate_entries_read(group.last_delivered_id)?,
        };
        Some((added - i128::from(read)) as i64)
    }
}

impl ConsumerGroup {
    /// Moves the group past delivered entry `id`, keeping `entries_read` as Redis's
    /// `streamReplyWithRange` does: +1 while the counter is valid and no tombstone lies at or
    /// after `id`, else re-estimated (possibly to unknown).
    pub(crate) fn advance_delivered(&mut self, id: StreamId, snap: &LagSnapshot) {
        if id <= self.last_delivered_id {
            return;
        }
        match self.entries_read {
            Some(read) if !snap.range_has_tombstones(id, None) => {
                self.entries_read = Some(read.saturating_add(1));
            }
            _ if snap.entries_added != 0 => {
                self.entries_read = snap.estimate_entries_read(id);
            }
            _ => {}
        }
        self.last_delivered_id = id;
    }
}

impl Stream {
    pub(crate) fn lag_snapshot(&self) -> LagSnapshot {
        LagSnapshot {
            entries_added: self.entries_added,
            len: self.len,
            last_id: self.last_id,
            first_id: self.first_id().unwrap_or(StreamId::MIN),
            max_deleted: self.max_deleted,
        }
    }

    /// XINFO GROUPS / XINFO STREAM FULL `lag`: entries of this stream not yet delivered to
    /// `group`, or `None` (nil) when deletions make it unknowable.
    pub fn group_lag(&self, group: &ConsumerGroup) -> Option<i64> {
        self.lag_snapshot().lag(group)
    }

    /// The logical read counter of `id` (how many entries were added up to it) when the
    /// stream's counters determine it, as Redis's `streamEstimateDistanceFromFirstEverEntry`.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        self.lag_snapshot().estimate_entries_read(id)
    }

    /// Whether the latest deleted entry lies in `start..=end` (`end` `None` = to the end) and
    /// after the first live entry, as Redis's `streamRangeHasTombstones`.
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        self.lag_snapshot().range_has_tombstones(start, end)
    }
}
