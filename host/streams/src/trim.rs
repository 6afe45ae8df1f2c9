//! Removing entries: XDEL ([`Stream::delete`]) and XTRIM / XADD trimming ([`Stream::trim`]).
//!
//! Both follow Redis: a deleted entry is only flagged inside its node and the node is dropped
//! once it has no live entry left. Trimming drops whole nodes from the head while that keeps
//! the stream within the threshold; exact trimming then flags entries inside the next node,
//! approximate (`~`) trimming stops there. LIMIT caps the entries removed, counted per node.

use crate::{NodeLimits, Stream, StreamId};

/// How XTRIM / XADD decide which old entries go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    /// `MAXLEN <n>`: keep at most `n` entries (the newest).
    MaxLen(u64),
    /// `MINID <id>`: remove entries with IDs below `id`.
    MinId(StreamId),
}

/// A trimming request as parsed from XTRIM or XADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrimSpec {
    /// What to remove.
    pub strategy: TrimStrategy,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// `LIMIT <n>`, only meaningful with `~` (the caller rejects it with `=`): at most `n`
    /// entries removed, `Some(0)` = no limit. `None` = Redis's default for `~`:
    /// `100 * max_entries`, clamped to 10 000 when `max_entries` is 0 and to 1 000 000.
    pub limit: Option<u64>,
}

impl TrimSpec {
    /// The LIMIT in force: 0 means unlimited (always so for exact trimming).
    pub fn effective_limit(&self, limits: NodeLimits) -> u64 {
        if !self.approx {
            return 0;
        }
        match self.limit {
            Some(n) => n,
            None => match (limits.max_entries as u64).saturating_mul(100) {
                0 => 10_000,
                n => n.min(1_000_000),
            },
        }
    }
}

impl Stream {
    /// XDEL: deletes the live entries among `ids` and returns how many it deleted (duplicates
    /// and missing IDs count 0). Raises `max_deleted_entry_id` to the greatest deleted ID.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        for &id in ids {
            let Some((key, entry)) = self.locate(id) else {
                continue;
            };
            let Some(node) = self.nodes.get_mut(&key) else {
                continue;
            };
            node.mark_deleted(&entry);
            if node.live == 0 {
                self.nodes.remove(&key);
            }
            self.len -= 1;
            deleted += 1;
            if id > self.max_deleted {
                self.max_deleted = id;
            }
        }
        deleted
    }

    /// XTRIM, or the trimming half of XADD: removes old entries per `spec` and returns how
    /// many it removed. `limits` supplies the default LIMIT for `~`.
    pub fn trim(&mut self, spec: TrimSpec, limits: NodeLimits) -> u64 {
        self.trim_collect(spec, limits, None)
    }

    /// [`Stream::trim`], pushing the IDs of the live entries it removes to `removed` when
    /// given (DELREF needs them to clean the PELs).
    pub(crate) fn trim_collect(
        &mut self,
        spec: TrimSpec,
        limits: NodeLimits,
        mut removed_ids: Option<&mut Vec<StreamId>>,
    ) -> u64 {
        let limit = spec.effective_limit(limits);
        let mut removed = 0u64;
        while let Some(mut head) = self.nodes.first_entry() {
            if let TrimStrategy::MaxLen(max) = spec.strategy
                && self.len <= max
            {
                break;
            }
            let key = *head.key();
            let node = head.get_mut();
            let live = u64::from(node.live);
            if limit != 0 && removed + live > limit {
                break;
            }
            let whole_node = match spec.strategy {
                TrimStrategy::MaxLen(max) => self.len - live >= max,
                TrimStrategy::MinId(min) => node.last < min,
            };
            if whole_node {
                if let Some(out) = removed_ids.as_deref_mut() {
                    let mut pos = node.entries_start();
                    let mut prev = key;
                    while let Some(entry) = node.next_entry(&mut pos, &mut prev) {
                        if !entry.is_deleted() {
                            out.push(entry.id);
                        }
                    }
                }
                head.remove();
                self.len -= live;
                removed += live;
                continue;
            }
            if spec.approx {
                break;
            }
            // Exact: flag entries from the front of this node until the threshold holds; the
            // whole-node test above guarantees we stop inside it.
            let mut pos = node.entries_start();
            let mut prev = key;
            while let Some(entry) = node.next_entry(&mut pos, &mut prev) {
                let done = match spec.strategy {
                    TrimStrategy::MaxLen(max) => self.len <= max,
                    TrimStrategy::MinId(min) => entry.id >= min,
                };
                if done {
                    break;
                }
                if !entry.is_deleted() {
                    node.mark_deleted(&entry);
                    self.len -= 1;
                    removed += 1;
                    if let Some(out) = removed_ids.as_deref_mut() {
                        out.push(entry.id);
                    }
                }
            }
            // Redis would keep a node whose live entries are all gone when its last (deleted)
            // entry is at or above MINID; we drop it so every node keeps a live entry.
            if node.live == 0 {
                head.remove();
            }
            break;
        }
        removed
    }
}
