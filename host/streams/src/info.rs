//! XINFO's views of consumer groups as plain data, for the server to format.
//!
//! | reply | source |
//! |---|---|
//! | XINFO GROUPS | [`Stream::group_infos`] → [`GroupInfo`] |
//! | XINFO CONSUMERS | [`ConsumerGroup::consumers`] → [`Consumer::name`](crate::Consumer::name), [`pending_count`](crate::Consumer::pending_count), [`idle_ms`](crate::Consumer::idle_ms), [`inactive_ms`](crate::Consumer::inactive_ms) |
//! | XINFO STREAM FULL `groups` | [`Stream::group_infos`] (name, last-delivered-id, entries-read, lag, pel-count), [`ConsumerGroup::pending_entries`] (`pending`, take COUNT), [`ConsumerGroup::consumers`] (seen-time, active-time, pel-count) and [`ConsumerGroup::consumer_pending`] (take COUNT) |
//!
//! [`Stream::group_infos`] pairs each group with the name and lag the server needs, so
//! XINFO STREAM FULL can fetch the detail through [`Stream::group`].

use crate::{ConsumerGroup, Stream, StreamId};

/// One group as XINFO GROUPS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupInfo<'a> {
    /// `name`.
    pub name: &'a [u8],
    /// `consumers`: how many consumers the group has.
    pub consumers: usize,
    /// `pending`: entries in the group PEL (XINFO STREAM FULL calls it `pel-count`).
    pub pending: usize,
    /// `last-delivered-id`.
    pub last_delivered_id: StreamId,
    /// `entries-read`; `None` = nil.
    pub entries_read: Option<u64>,
    /// `lag`; `None` = nil (deletions make it unknowable).
    pub lag: Option<i64>,
}

impl Stream {
    /// XINFO GROUPS: every group in name byte order. O(groups), independent of PEL sizes.
    pub fn group_infos(&self) -> impl Iterator<Item = GroupInfo<'_>> {
        let snap = self.lag_snapshot();
        self.groups().map(move |(name, group)| GroupInfo {
            name,
            consumers: group.consumer_count(),
            pending: group.pending_count(),
            last_delivered_id: group.last_delivered_id(),
            entries_read: group.entries_read(),
            lag: snap.lag(group),
        })
    }

    /// XINFO GROUPS for one group, if it exists.
    pub fn group_info(&self, name: &[u8]) -> Option<GroupInfo<'_>> {
        let (name, group) = self.groups.get_key_value(name)?;
        Some(group.info(name, self))
    }
}

impl ConsumerGroup {
    /// This group's XINFO GROUPS figures, measured against `stream`.
    pub fn info<'a>(&self, name: &'a [u8], stream: &Stream) -> GroupInfo<'a> {
        GroupInfo {
            name,
            consumers: self.consumer_count(),
            pending: self.pending_count(),
            last_delivered_id: self.last_delivered_id,
            entries_read: self.entries_read,
            lag: stream.group_lag(self),
        }
    }
}
